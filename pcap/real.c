// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The real libpcap behind the front: the next definition of a symbol in
 * the lookup order after this preloaded library. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "wcpcap.h"

void *wcp_real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		/* the program does not use libpcap's symbol (it could not
		 * have called ours either): nothing sensible to go on with */
		fprintf(stderr, "wirecap: libpcap has no %s: %s\n", name,
			dlerror());
		abort();
	}
	return fn;
}
