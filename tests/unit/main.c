// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Check unit-test binary: every tests/unit/test_*.c contributes one
 * suite. Suites whose file is not there yet are declared weak and skipped.
 * Select with Check's own variables: CK_RUN_SUITE=parser, CK_RUN_CASE=...
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

Suite *hash_suite(void);
Suite *parser_suite(void);
Suite *seq_suite(void) __attribute__((weak));
Suite *pcapng_suite(void) __attribute__((weak));
Suite *kernel_suite(void) __attribute__((weak));
Suite *reorder_suite(void) __attribute__((weak));
Suite *pinname_suite(void) __attribute__((weak));
Suite *filter_suite(void) __attribute__((weak));

int main(void)
{
	Suite *(*const suites[])(void) = {
		hash_suite,   parser_suite,  seq_suite,	    pcapng_suite,
		kernel_suite, reorder_suite, pinname_suite, filter_suite,
	};
	SRunner *sr = NULL;
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (!suites[i])
			continue;
		if (!sr)
			sr = srunner_create(suites[i]());
		else
			srunner_add_suite(sr, suites[i]());
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
