// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "internal.h"

static int default_print(enum wc_print_level level, const char *fmt,
			 va_list args)
{
	if (level != WC_WARN)
		return 0;
	fputs("libwirecap-xdp: ", stderr);
	return vfprintf(stderr, fmt, args);
}

static wc_print_fn_t print_fn = default_print;

WC_API wc_print_fn_t wc_set_print(wc_print_fn_t fn)
{
	wc_print_fn_t old = print_fn;

	print_fn = fn;
	return old;
}

WC_API const char *wc_version(void)
{
	return WC_VERSION;
}

void wc_pr(enum wc_print_level level, const char *fmt, ...)
{
	wc_print_fn_t fn = print_fn;
	int saved = errno;
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	fn(level, fmt, ap);
	va_end(ap);
	errno = saved;
}
