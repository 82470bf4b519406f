// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel-version gates (userspace/kernel.c): release strings as
 * distributions write them, the WIRECAP_KVER override, and the minimum.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "kernel.h"

static const struct {
	const char *rel;
	unsigned v;
} rels[] = {
	{ "6.1.0-56-amd64", WC_KVER(6, 1, 0) }, /* Debian 12 */
	{ "6.18.44-fc-v470", WC_KVER(6, 18, 44) },
	{ "5.15.0-91-generic", WC_KVER(5, 15, 0) }, /* Ubuntu 22.04 */
	{ "4.18.0-513.5.1.el8_9.x86_64", WC_KVER(4, 18, 0) }, /* RHEL 8 */
	{ "5.10", WC_KVER(5, 10, 0) },
	{ "5.10.226", WC_KVER(5, 10, 226) },
	{ "4.9.337", WC_KVER(4, 9, 255) }, /* sublevel saturates */
	{ "6.12.95+deb12-amd64", WC_KVER(6, 12, 95) },
	{ "6", 0 },
	{ "6.", 0 },
	{ "", 0 },
	{ "abc", 0 },
	{ "v6.1", 0 },
};

START_TEST(test_parse)
{
	ck_assert_uint_eq(wc_kver_parse(rels[_i].rel), rels[_i].v);
}
END_TEST

START_TEST(test_parse_null)
{
	ck_assert_uint_eq(wc_kver_parse(NULL), 0);
}
END_TEST

START_TEST(test_gates_ordered)
{
	/* every feature has a name and a version; the minimum covers all the
	 * features wirecap cannot run without (listed before it) */
	for (int f = 0; f < WC_KF_COUNT; f++) {
		const struct wc_kfeat_info *i = wc_kfeat_info(f);

		ck_assert_ptr_nonnull(i);
		ck_assert_ptr_nonnull(i->name);
		ck_assert_uint_gt(i->since, WC_KVER(4, 0, 0));
		if (f < WC_KF_MINIMUM)
			ck_assert_uint_le(i->since,
					  wc_kfeat_info(WC_KF_MINIMUM)->since);
	}
	ck_assert_ptr_null(wc_kfeat_info(WC_KF_COUNT));
	ck_assert_uint_eq(wc_kfeat_info(WC_KF_MINIMUM)->since,
			  WC_KVER(5, 10, 0));
	ck_assert_uint_eq(wc_kfeat_info(WC_KF_BUSY_POLL)->since,
			  WC_KVER(5, 11, 0));
}
END_TEST

START_TEST(test_override)
{
	char buf[64];

	setenv("WIRECAP_KVER", "5.4.0-150-generic", 1);
	ck_assert_uint_eq(wc_kver(buf, sizeof(buf)), WC_KVER(5, 4, 0));
	ck_assert_str_eq(buf, "5.4.0-150-generic");
	ck_assert(!wc_kernel_has(WC_KF_SHARED_UMEM_QUEUES));
	ck_assert(wc_kernel_has(WC_KF_NEED_WAKEUP));
	ck_assert_int_eq(wc_kernel_check(), -ENOSYS);

	setenv("WIRECAP_KVER", "5.10.0", 1);
	ck_assert_int_eq(wc_kernel_check(), 0);
	ck_assert(!wc_kernel_has(WC_KF_BUSY_POLL));

	setenv("WIRECAP_KVER", "5.11.0", 1);
	ck_assert(wc_kernel_has(WC_KF_BUSY_POLL));

	/* not a version: the kernel decides */
	setenv("WIRECAP_KVER", "custom", 1);
	ck_assert_uint_eq(wc_kver(NULL, 0), 0);
	ck_assert(wc_kernel_has(WC_KF_BUSY_POLL));
	ck_assert_int_eq(wc_kernel_check(), 0);

	unsetenv("WIRECAP_KVER");
	/* this machine runs a kernel wirecap supports */
	ck_assert_uint_ge(wc_kver(buf, sizeof(buf)), WC_KVER(5, 10, 0));
	ck_assert_int_eq(wc_kernel_check(), 0);
}
END_TEST

Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("gates");

	tcase_add_loop_test(tc, test_parse, 0, sizeof(rels) / sizeof(rels[0]));
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_gates_ordered);
	tcase_add_test(tc, test_override);
	suite_add_tcase(s, tc);
	return s;
}
