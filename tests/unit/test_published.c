// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a capture engine publishes, read through wc_iface__engine_info /
 * pool_stats / worker_stats (userspace/iface_stats.c): the values of the
 * pinned maps, and the sized output structs: at most min(sz, the
 * library's size) bytes filled, the rest of the caller's sz zeroed, nothing
 * written past sz. Maps made here stand in for the pins (needs root).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "internal.h"

static struct wc_iface *ifc;

static int array(const char *name, size_t value_size, unsigned entries)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
				value_size, entries, NULL);

	ck_assert_msg(fd >= 0, "cannot create a map: %s%s", strerror(-fd),
		      geteuid() ? " (these tests need root: CAP_BPF)" : "");
	return fd;
}

static void setup(void)
{
	struct wc_engine_info ei = { .pid = (__u32)getpid(),
				     .queues = 2,
				     .workers = 3,
				     .frame_size = 2048,
				     .umem_bytes = 1ull << 33,
				     .update_ns = 42 };
	struct wc_pool_stats ps = { .frames = 4096,
				    .delivered = 7,
				    .invalid_descs = 9 };
	struct wc_worker_stats ws = {
		.packets = 5, .stalls = 11, .cpu = (__u32)-1, .state = 2
	};
	__u32 zero = 0, one = 1, two = 2;

	ifc = calloc(1, sizeof(*ifc));
	ck_assert_ptr_nonnull(ifc);
	for (int i = 0; i < WC_MAP_COUNT; i++)
		ifc->map_fd[i] = -1;
	ifc->map_fd[WC_MAP_ENGINE] =
		array("engine", sizeof(struct wc_engine_info), 1);
	ifc->map_fd[WC_MAP_POOL_STATS] = array(
		"pool_stats", sizeof(struct wc_pool_stats), WC_MAX_QUEUES);
	ifc->map_fd[WC_MAP_WORKER_STATS] = array(
		"worker_stats", sizeof(struct wc_worker_stats), WC_MAX_WORKERS);
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_ENGINE], &zero, &ei,
				       BPF_ANY));
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_POOL_STATS], &one,
				       &ps, BPF_ANY));
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_WORKER_STATS], &two,
				       &ws, BPF_ANY));
}

static void teardown(void)
{
	for (int i = 0; i < WC_MAP_COUNT; i++)
		if (ifc->map_fd[i] >= 0)
			close(ifc->map_fd[i]);
	free(ifc);
}

START_TEST(test_values)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	struct wc_iface_pool_stats ps = { .sz = sizeof(ps) };
	struct wc_iface_worker_stats ws = { .sz = sizeof(ws) };

	ck_assert_int_eq(wc_iface__engine_info(ifc, &ei), 0);
	ck_assert_uint_eq(ei.sz, sizeof(ei));
	ck_assert_uint_eq(ei.pid, (__u32)getpid());
	ck_assert(ei.alive);
	ck_assert_uint_eq(ei.queues, 2);
	ck_assert_uint_eq(ei.workers, 3);
	ck_assert_uint_eq(ei.frame_size, 2048);
	ck_assert_uint_eq(ei.umem_bytes, 1ull << 33);
	ck_assert_uint_eq(ei.update_ns, 42);

	ck_assert_int_eq(wc_iface__pool_stats(ifc, 1, &ps), 0);
	ck_assert_uint_eq(ps.frames, 4096);
	ck_assert_uint_eq(ps.delivered, 7);
	ck_assert_uint_eq(ps.invalid_descs, 9);
	ck_assert_int_eq(wc_iface__pool_stats(ifc, 0, &ps), 0);
	ck_assert_uint_eq(ps.frames, 0);

	ck_assert_int_eq(wc_iface__worker_stats(ifc, 2, &ws), 0);
	ck_assert_uint_eq(ws.packets, 5);
	ck_assert_uint_eq(ws.stalls, 11);
	ck_assert_uint_eq(ws.cpu, (__u32)-1);
	ck_assert_uint_eq(ws.state, 2);
}
END_TEST

START_TEST(test_no_engine)
{
	struct wc_engine_info none = { .queues = 2 };
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	__u32 zero = 0;

	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_ENGINE], &zero, &none,
				       BPF_ANY));
	ck_assert_int_eq(wc_iface__engine_info(ifc, &ei), 0);
	ck_assert_uint_eq(ei.pid, 0);
	ck_assert(!ei.alive);
	ck_assert_uint_eq(ei.queues, 2);
}
END_TEST

/* an older caller: a prefix, nothing past its sz */
START_TEST(test_smaller_sz)
{
	struct wc_iface_engine_info ei;

	memset(&ei, 0xa5, sizeof(ei));
	ei.sz = offsetof(struct wc_iface_engine_info, bind_mode);
	ck_assert_int_eq(wc_iface__engine_info(ifc, &ei), 0);
	ck_assert_uint_eq(ei.sz,
			  offsetof(struct wc_iface_engine_info, bind_mode));
	ck_assert_uint_eq(ei.pid, (__u32)getpid());
	ck_assert(ei.alive);
	ck_assert_uint_eq(ei.queues, 0xa5a5a5a5);
}
END_TEST

/* a newer caller: the fields the library does not know read as 0 */
START_TEST(test_larger_sz)
{
	struct {
		struct wc_iface_pool_stats ps;
		__u64 newer[3];
	} big;

	memset(&big, 0xa5, sizeof(big));
	big.ps.sz = sizeof(big);
	ck_assert_int_eq(wc_iface__pool_stats(ifc, 1, &big.ps), 0);
	ck_assert_uint_eq(big.ps.sz, sizeof(big));
	ck_assert_uint_eq(big.ps.delivered, 7);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(big.newer[i], 0);
}
END_TEST

START_TEST(test_invalid)
{
	struct wc_iface_worker_stats ws = { .sz = sizeof(ws) };
	struct wc_iface_pool_stats ps = { .sz = sizeof(ps) };
	struct wc_iface_engine_info ei = { .sz = sizeof(ei.sz) - 1 };

	ck_assert_int_eq(wc_iface__engine_info(ifc, &ei), -EINVAL);
	ck_assert_int_eq(wc_iface__engine_info(NULL, &ei), -EINVAL);
	ck_assert_int_eq(wc_iface__engine_info(ifc, NULL), -EINVAL);
	ck_assert_int_eq(wc_iface__pool_stats(ifc, WC_MAX_QUEUES, &ps),
			 -EINVAL);
	ck_assert_int_eq(wc_iface__worker_stats(ifc, WC_MAX_WORKERS, &ws),
			 -EINVAL);
	close(ifc->map_fd[WC_MAP_WORKER_STATS]);
	ifc->map_fd[WC_MAP_WORKER_STATS] = -1;
	ck_assert_int_eq(wc_iface__worker_stats(ifc, 0, &ws), -ENOENT);
}
END_TEST

Suite *published_suite(void)
{
	Suite *s = suite_create("published");
	TCase *tc = tcase_create("accessors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_no_engine);
	tcase_add_test(tc, test_smaller_sz);
	tcase_add_test(tc, test_larger_sz);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}
