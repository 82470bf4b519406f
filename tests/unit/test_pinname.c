// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pin directory names (userspace/pins.c): bpffs refuses '.', so an
 * interface name is encoded ('.' -> %2e, '%' -> %25) reversibly, and a
 * name without either is its own directory name.
 */
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *ifname, *dir;
} names[] = {
	{ "eth0", "eth0" },
	{ "wct1a2b3cb", "wct1a2b3cb" },
	{ "eth0.100", "eth0%2e100" },
	{ "va.10", "va%2e10" },
	{ "a%b", "a%25b" },
	{ "%2e", "%252e" },
	{ "a..b", "a%2e%2eb" },
	{ "...............", "%2e%2e%2e%2e%2e%2e%2e%2e%2e%2e%2e%2e%2e%2e%2e" },
	{ "-_+=~!@#$^&*(),", "-_+=~!@#$^&*()," },
};

START_TEST(test_roundtrip)
{
	char dir[3 * IF_NAMESIZE], back[IF_NAMESIZE];

	ck_assert_int_eq(wc_pin_name_encode(dir, sizeof(dir), names[_i].ifname),
			 0);
	ck_assert_str_eq(dir, names[_i].dir);
	ck_assert_ptr_null(strchr(dir, '.'));
	ck_assert_int_eq(wc_pin_name_decode(back, sizeof(back), dir), 0);
	ck_assert_str_eq(back, names[_i].ifname);
}
END_TEST

START_TEST(test_bad)
{
	char buf[64];

	/* no interface encodes to these */
	ck_assert_int_eq(wc_pin_name_decode(buf, sizeof(buf), "a.b"), -EINVAL);
	ck_assert_int_eq(wc_pin_name_decode(buf, sizeof(buf), "a%"), -EINVAL);
	ck_assert_int_eq(wc_pin_name_decode(buf, sizeof(buf), "a%2"), -EINVAL);
	ck_assert_int_eq(wc_pin_name_decode(buf, sizeof(buf), "a%41"), -EINVAL);
	ck_assert_int_eq(wc_pin_name_decode(buf, sizeof(buf), "a%2E"), -EINVAL);
	/* too small a buffer */
	ck_assert_int_eq(wc_pin_name_encode(buf, 4, "a.b"), -ENAMETOOLONG);
	ck_assert_int_eq(wc_pin_name_encode(buf, 5, "a.b"), -ENAMETOOLONG);
	ck_assert_int_eq(wc_pin_name_encode(buf, 6, "a.b"), 0);
	ck_assert_int_eq(wc_pin_name_decode(buf, 3, "a%2eb"), -ENAMETOOLONG);
	ck_assert_int_eq(wc_pin_name_decode(buf, 4, "a%2eb"), 0);
	ck_assert_str_eq(buf, "a.b");
}
END_TEST

Suite *pinname_suite(void)
{
	Suite *s = suite_create("pinname");
	TCase *tc = tcase_create("pinname");

	tcase_add_loop_test(tc, test_roundtrip, 0,
			    sizeof(names) / sizeof(names[0]));
	tcase_add_test(tc, test_bad);
	suite_add_tcase(s, tc);
	return s;
}
