// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Check unit-test binary: every tests/unit/test_*.c contributes one
 * suite. Suites whose file is not there are declared weak: each one missing
 * is reported as a `SKIP:` line (counted by tests/run.sh), not dropped.
 * Select with Check's own variables: CK_RUN_SUITE=parser, CK_RUN_CASE=...
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

Suite *hash_suite(void);
Suite *parser_suite(void);
Suite *seq_suite(void) __attribute__((weak));
Suite *pcapng_suite(void) __attribute__((weak));
Suite *kernel_suite(void) __attribute__((weak));
Suite *reorder_suite(void) __attribute__((weak));
Suite *pinname_suite(void) __attribute__((weak));
Suite *csum_suite(void) __attribute__((weak));
Suite *filter_suite(void) __attribute__((weak));
Suite *published_suite(void) __attribute__((weak));
Suite *opts_suite(void) __attribute__((weak));
Suite *xskdiag_suite(void) __attribute__((weak));

void unit_skip(const char *what, const char *reason)
{
	printf("SKIP: unit_tests: %s: %s\n", what, reason);
	/* before Check forks (CK_FORK) and before a child leaves */
	fflush(stdout);
}

int main(void)
{
	static const struct {
		const char *name;
		Suite *(*make)(void);
	} suites[] = {
		{ "hash", hash_suite },	      { "parser", parser_suite },
		{ "seq", seq_suite },	      { "pcapng", pcapng_suite },
		{ "kernel", kernel_suite },   { "reorder", reorder_suite },
		{ "pinname", pinname_suite }, { "csum", csum_suite },
		{ "filter", filter_suite },   { "published", published_suite },
		{ "opts", opts_suite },	      { "xskdiag", xskdiag_suite },
	};
	SRunner *sr = NULL;
	char what[64];
	int failed;

	/* Check's default of 4 s per test is a guess at the machine's speed:
	 * a loaded machine took longer for 400,000 tracked packets. A bound
	 * against a hang, not a deadline (CK_DEFAULT_TIMEOUT overrides it;
	 * read by tcase_create) */
	setenv("CK_DEFAULT_TIMEOUT", "120", 0);
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (!suites[i].make) {
			snprintf(what, sizeof(what), "suite %s",
				 suites[i].name);
			unit_skip(
				what,
				"not built (its tests/unit/test_*.c is missing)");
			continue;
		}
		if (!sr)
			sr = srunner_create(suites[i].make());
		else
			srunner_add_suite(sr, suites[i].make());
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
