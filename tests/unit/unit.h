/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by the Check unit tests in tests/unit/. */
#ifndef WC_TESTS_UNIT_H
#define WC_TESTS_UNIT_H

/* A check that cannot run here (a tool missing): one line
 * `SKIP: unit_tests: WHAT: REASON` on stdout, counted by tests/run.sh as
 * skipped. Check knows no skips: the test itself still ends as passed for
 * what it did check. */
void unit_skip(const char *what, const char *reason);

#endif
