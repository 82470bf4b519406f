// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Options structs (wc_opts_valid, userspace/internal.h), as libbpf's
 * OPTS_VALID: a struct from a program built against a newer header (larger
 * sz) is accepted when the fields this library does not know are zero and
 * refused with EINVAL when one is set; a sz smaller than the size_t itself
 * is refused.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "engine_table.h"

/* a newer header's wc_engine_opts: the library's, then a field it lacks */
struct newer_engine_opts {
	struct wc_engine_opts known;
	__u64 future;
};

START_TEST(test_sizes)
{
	struct newer_engine_opts n;

	wc_set_print(NULL); /* the refusals are logged: expected here */
	memset(&n, 0, sizeof(n));
	n.known.sz = sizeof(n.known);
	ck_assert(WC_OPTS_VALID(&n.known, wc_engine_opts));
	n.known.sz = offsetof(struct wc_engine_opts, chunk_size); /* older */
	ck_assert(WC_OPTS_VALID(&n.known, wc_engine_opts));
	n.known.sz = sizeof(n);
	ck_assert(WC_OPTS_VALID(&n.known, wc_engine_opts));
	n.future = 1;
	ck_assert(!WC_OPTS_VALID(&n.known, wc_engine_opts));
	n.known.sz = 0;
	ck_assert(!WC_OPTS_VALID(&n.known, wc_engine_opts));
	ck_assert(WC_OPTS_VALID((struct wc_engine_opts *)NULL, wc_engine_opts));
}
END_TEST

START_TEST(test_macro)
{
	WC_OPTS(wc_run_opts, ro, .idle_ms = 5);
	struct wc_run_opts *o = &ro;

	ck_assert_uint_eq(ro.sz, sizeof(struct wc_run_opts));
	ck_assert_int_eq(ro.idle_ms, 5);
	ck_assert(WC_OPTS_VALID(o, wc_run_opts));
	ck_assert_int_eq(WC_OPTS_GET(o, idle_ms, 7), 5);
	ro.sz = offsetof(struct wc_run_opts, idle_ms); /* older: default */
	ck_assert_int_eq(WC_OPTS_GET(o, idle_ms, 7), 7);
}
END_TEST

/* every public function taking options refuses a newer struct with a
 * field set, and takes one whose unknown tail is zero */
struct newer_filter_opts {
	struct wc_filter_opts known;
	__u64 future;
};

START_TEST(test_filter_check)
{
	struct newer_filter_opts n;
	char err[256] = "";

	wc_set_print(NULL);
	memset(&n, 0, sizeof(n));
	n.known.sz = sizeof(n);
	n.known.expr = "udp";
	n.known.errbuf = err;
	n.known.errbuf_sz = sizeof(err);
	n.future = 1;
	ck_assert_int_eq(wc_filter_check(&n.known), -EINVAL);
	ck_assert_msg(strstr(err, "wc_filter_opts"), "errbuf: %s", err);
	n.future = 0;
	/* 0 as root; -EPERM without the right to load BPF */
	ck_assert_int_ne(wc_filter_check(&n.known), -EINVAL);
}
END_TEST

struct newer_port_opts {
	struct wc_port_opts known;
	__u64 future;
};

START_TEST(test_port_open)
{
	struct newer_port_opts n;

	wc_set_print(NULL);
	memset(&n, 0, sizeof(n));
	n.known.sz = sizeof(n);
	n.future = 1;
	errno = 0;
	ck_assert_ptr_null(wc_port__open(NULL, "wct-no-such0", &n.known));
	ck_assert_int_eq(errno, EINVAL);
	n.future = 0;
	errno = 0;
	ck_assert_ptr_null(wc_port__open(NULL, "wct-no-such0", &n.known));
	ck_assert_int_ne(errno, EINVAL); /* ENODEV: the options passed */
}
END_TEST

struct newer_attach_opts {
	struct wc_attach_opts known;
	__u64 future;
};

START_TEST(test_attach)
{
	struct newer_attach_opts n;

	wc_set_print(NULL);
	memset(&n, 0, sizeof(n));
	n.known.sz = sizeof(n);
	n.future = 1;
	errno = 0;
	ck_assert_ptr_null(wc_iface__attach("wct-no-such0", &n.known));
	ck_assert_int_eq(errno, EINVAL);
	n.future = 0;
	errno = 0;
	ck_assert_ptr_null(wc_iface__attach("wct-no-such0", &n.known));
	ck_assert_int_eq(errno, ENODEV); /* the options passed */
}
END_TEST

START_TEST(test_engine_open)
{
	struct newer_engine_opts n;

	wc_set_print(NULL);
	memset(&n, 0, sizeof(n));
	n.known.sz = sizeof(n);
	n.future = 1;
	errno = 0;
	ck_assert_ptr_null(wc_engine__open("wct-no-such0", &n.known));
	ck_assert_int_eq(errno, EINVAL);
	n.future = 0;
	errno = 0;
	ck_assert_ptr_null(wc_engine__open("wct-no-such0", &n.known));
	ck_assert_int_ne(errno, EINVAL); /* ENODEV: the options passed */
}
END_TEST

/* The one list of engine options (util/engine_table.h) that the CLI's
 * tables are made from, as the libpcap front parses it (wc_eopt_set). */
#define NAME_OF(n, ...) n,
START_TEST(test_engine_table)
{
	const char *names[] = { WC_ENGINE_OPTS(NAME_OF) WC_OFFLOAD_OPTS(NAME_OF)
					NULL };
	struct engine_args ea;
	char err[160];

	engine_args_init(&ea);
	for (int i = 0; names[i]; i++)
		ck_assert_msg(wc_eopt_find(names[i]), "%s", names[i]);
	ck_assert_ptr_null(wc_eopt_find("bogus"));
#define SET(n, v) wc_eopt_set(wc_eopt_find(n), &ea, (v), err, sizeof(err))
	ck_assert_int_eq(SET("workers", "3"), 0);
	ck_assert_uint_eq(ea.ao.workers, 3);
	ck_assert_int_eq(SET("workers", "0"), -EINVAL);
	ck_assert_str_eq(err, "invalid --workers '0' (1..64)");
	ck_assert_int_eq(SET("rx-ring", "1024"), 0);
	ck_assert_uint_eq(ea.eo.rx_ring_size, 1024);
	ck_assert_int_eq(SET("rx-ring", "1000"), -EINVAL);
	ck_assert_int_eq(SET("wait", "busy"), 0);
	ck_assert_int_eq(ea.eo.wait, WC_WAIT_BUSY_POLL);
	ck_assert_int_eq(SET("bind", "zerocopy"), 0);
	ck_assert_int_eq(ea.eo.bind, WC_BIND_ZEROCOPY);
	ck_assert_int_eq(SET("steer", "flow"), 0);
	ck_assert_int_eq(ea.ao.steer_mode, WC_STEER_FLOW);
	ck_assert_int_eq(SET("mode", "x"), -EINVAL);
	ck_assert_str_eq(err, "invalid --mode 'x' (auto, native or generic)");
	ck_assert_int_eq(SET("cpus", "0-2,5"), 0);
	ck_assert_int_eq(ea.ncpus, 4);
	ck_assert_uint_eq(ea.cpus[3], 5);
	ck_assert_int_eq(SET("cpus", "3-1"), -EINVAL);
	ck_assert_int_eq(ea.off.enabled, -1);
	ck_assert_int_eq(SET("offload", "off"), 0);
	ck_assert_int_eq(ea.off.enabled, 0);
	ck_assert_int_eq(SET("offload-high", "40"), 0);
	ck_assert_int_eq(ea.off.high, 40);
	ck_assert_int_eq(SET("offload-high", "101"), -EINVAL);
	ck_assert_int_eq(SET("buckets", NULL), -EINVAL); /* no value */
#undef SET
}
END_TEST

Suite *opts_suite(void)
{
	Suite *s = suite_create("opts");
	TCase *tc = tcase_create("valid");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_macro);
	tcase_add_test(tc, test_filter_check);
	tcase_add_test(tc, test_port_open);
	tcase_add_test(tc, test_attach);
	tcase_add_test(tc, test_engine_open);
	tcase_add_test(tc, test_engine_table);
	suite_add_tcase(s, tc);
	return s;
}
