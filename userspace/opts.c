// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Options structs from callers built against another version of the
 * header, as libbpf's OPTS_VALID: a struct smaller than the library's reads
 * its missing fields as zero (WC_OPTS_GET); a larger one is accepted only
 * when the fields the library does not know are all zero, since a
 * non-zero one asks for something this version cannot do. */
#include <stddef.h>

#include "internal.h"

bool wc_opts_valid(const void *opts, size_t known_sz, const char *type)
{
	const size_t user_sz = *(const size_t *)opts;
	const char *p = opts;

	if (user_sz < sizeof(size_t)) {
		pr_warn("struct %s: sz %zu is too small (declare it with WC_OPTS())\n",
			type, user_sz);
		return false;
	}
	for (size_t i = known_sz; i < user_sz; i++) {
		if (p[i]) {
			pr_warn("struct %s: a field this library does not know (offset %zu, beyond its %zu bytes) is set: library too old\n",
				type, i, known_sz);
			return false;
		}
	}
	return true;
}
