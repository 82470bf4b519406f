// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stats calls' sized output structs (wirecap.h, "Sized output
 * structs" in libwirecap-xdp(3)): the caller sets sz; the library fills
 * min(sz, its size) bytes, zeroes the rest of the caller's sz, writes
 * nothing beyond it, keeps sz, and refuses an sz smaller than the field
 * with EINVAL. Checked on the translation helper itself and on every
 * accessor that reads the pinned maps (wc_iface__queue_stats /
 * bucket_stats / engine_info / pool_stats / worker_stats / port_stats),
 * with their values; maps made here stand in for the pins (needs root).
 * The engine's accessors (which need a running engine) share the helper
 * and are checked for the refusal.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

static struct wc_iface *ifc;
static int ncpu;

static int map(enum bpf_map_type type, const char *name, size_t value_size,
	       unsigned entries)
{
	int fd = bpf_map_create(type, name, sizeof(__u32), value_size, entries,
				NULL);

	ck_assert_msg(fd >= 0, "cannot create a map: %s%s", strerror(-fd),
		      geteuid() ? " (these tests need root: CAP_BPF)" : "");
	return fd;
}

static int array(const char *name, size_t value_size, unsigned entries)
{
	return map(BPF_MAP_TYPE_ARRAY, name, value_size, entries);
}

/* per-CPU counters: CPU c holds c + 1 times base */
static void percpu_put(int fd, __u32 key, const __u64 *base, size_t n)
{
	__u64 *v = calloc((size_t)ncpu * n, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (int c = 0; c < ncpu; c++)
		for (size_t i = 0; i < n; i++)
			v[(size_t)c * n + i] = base[i] * (c + 1);
	ck_assert(!bpf_map_update_elem(fd, &key, v, BPF_ANY));
	free(v);
}

/* what percpu_put's base sums to over the CPUs */
static __u64 summed(__u64 base)
{
	return base * (__u64)ncpu * (ncpu + 1) / 2;
}

static void port_setup(void)
{
	struct wc_egress_stats ps = { .ifname = "eg0",
				      .mtu = 1500,
				      .pid = 7,
				      .offered = 10,
				      .sent = 8,
				      .csum_completed = 3 };
	__u32 zero = 0;

	ifc->map_fd[WC_MAP_PORT_STATS] = array("port_stats", sizeof(ps), 1);
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_PORT_STATS], &zero,
				       &ps, BPF_ANY));
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
	struct wc_queue_stats qs = { .packets = 3, .redirected = 2, .shed = 1 };
	struct wc_bucket_stats bs = { .packets = 1, .bytes = 60 };
	__u32 zero = 0, one = 1, two = 2;

	ncpu = libbpf_num_possible_cpus();
	ck_assert_int_gt(ncpu, 0);
	ifc = calloc(1, sizeof(*ifc));
	ck_assert_ptr_nonnull(ifc);
	ifc->ncpus = ncpu;
	ifc->cfg.queues = 2;
	ifc->cfg.buckets = 4;
	for (int i = 0; i < WC_MAP_COUNT; i++)
		ifc->map_fd[i] = -1;
	ifc->map_fd[WC_MAP_ENGINE] =
		array("engine", sizeof(struct wc_engine_info), 1);
	ifc->map_fd[WC_MAP_POOL_STATS] = array(
		"pool_stats", sizeof(struct wc_pool_stats), WC_MAX_QUEUES);
	ifc->map_fd[WC_MAP_WORKER_STATS] = array(
		"worker_stats", sizeof(struct wc_worker_stats), WC_MAX_WORKERS);
	ifc->map_fd[WC_MAP_QUEUE_STATS] =
		map(BPF_MAP_TYPE_PERCPU_ARRAY, "queue_stats",
		    sizeof(struct wc_queue_stats), WC_MAX_QUEUES);
	ifc->map_fd[WC_MAP_BUCKET_STATS] =
		map(BPF_MAP_TYPE_PERCPU_ARRAY, "bucket_stats",
		    sizeof(struct wc_bucket_stats), 2 * 4);
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_ENGINE], &zero, &ei,
				       BPF_ANY));
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_POOL_STATS], &one,
				       &ps, BPF_ANY));
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_WORKER_STATS], &two,
				       &ws, BPF_ANY));
	percpu_put(ifc->map_fd[WC_MAP_QUEUE_STATS], 1, (const __u64 *)&qs,
		   sizeof(qs) / sizeof(__u64));
	for (__u32 k = 0; k < 2 * 4; k++) {
		bs.packets = k + 1;
		percpu_put(ifc->map_fd[WC_MAP_BUCKET_STATS], k,
			   (const __u64 *)&bs, sizeof(bs) / sizeof(__u64));
	}
	port_setup();
}

static void teardown(void)
{
	for (int i = 0; i < WC_MAP_COUNT; i++)
		if (ifc->map_fd[i] >= 0)
			close(ifc->map_fd[i]);
	free(ifc);
}

/* ---- the helper every sized output goes through ------------------------- */

struct body {
	__u64 a, b;
};
struct outv {
	size_t sz;
	__u64 a, b;
};

START_TEST(test_out_put)
{
	const struct body ours = { 1, 2 };
	struct {
		struct outv o;
		__u64 newer, past;
	} big;

	/* same size */
	memset(&big, 0xa5, sizeof(big));
	big.o.sz = sizeof(big.o);
	wc_out_put(&big.o, &ours, sizeof(ours));
	ck_assert_uint_eq(big.o.sz, sizeof(big.o));
	ck_assert_uint_eq(big.o.a, 1);
	ck_assert_uint_eq(big.o.b, 2);
	ck_assert_uint_eq(big.newer, 0xa5a5a5a5a5a5a5a5ull);
	/* older caller: a prefix */
	memset(&big, 0xa5, sizeof(big));
	big.o.sz = offsetof(struct outv, b);
	wc_out_put(&big.o, &ours, sizeof(ours));
	ck_assert_uint_eq(big.o.a, 1);
	ck_assert_uint_eq(big.o.b, 0xa5a5a5a5a5a5a5a5ull);
	/* only its sz: nothing written */
	memset(&big, 0xa5, sizeof(big));
	big.o.sz = sizeof(size_t);
	wc_out_put(&big.o, &ours, sizeof(ours));
	ck_assert_uint_eq(big.o.a, 0xa5a5a5a5a5a5a5a5ull);
	/* newer caller: its unknown field zeroed, nothing past its sz */
	memset(&big, 0xa5, sizeof(big));
	big.o.sz = offsetof(typeof(big), past);
	wc_out_put(&big.o, &ours, sizeof(ours));
	ck_assert_uint_eq(big.o.b, 2);
	ck_assert_uint_eq(big.newer, 0);
	ck_assert_uint_eq(big.past, 0xa5a5a5a5a5a5a5a5ull);
}
END_TEST

/* ---- values ------------------------------------------------------------------ */

START_TEST(test_values)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	struct wc_iface_pool_stats ps = { .sz = sizeof(ps) };
	struct wc_iface_worker_stats ws = { .sz = sizeof(ws) };
	struct wc_iface_queue_stats qs = { .sz = sizeof(qs) };

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

	ck_assert_int_eq(wc_iface__queue_stats(ifc, 1, &qs), 0);
	ck_assert_uint_eq(qs.sz, sizeof(qs));
	ck_assert_uint_eq(qs.packets, summed(3));
	ck_assert_uint_eq(qs.redirected, summed(2));
	ck_assert_uint_eq(qs.shed, summed(1));
	ck_assert_uint_eq(qs.passed, 0);
	ck_assert_int_eq(wc_iface__queue_stats(ifc, 0, &qs), 0);
	ck_assert_uint_eq(qs.packets, 0);
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

/* the bucket array: out[0].sz is the stride, every entry gets it */
START_TEST(test_buckets)
{
	struct wider {
		struct wc_iface_bucket_stats b;
		__u64 newer;
	} w[2 * 4 + 1];
	struct wc_iface_bucket_stats bs[2 * 4] = { [0].sz = sizeof(bs[0]) };

	ck_assert_int_eq(wc_iface__bucket_stats(ifc, bs, 2 * 4), 2 * 4);
	for (int k = 0; k < 2 * 4; k++) {
		ck_assert_uint_eq(bs[k].sz, sizeof(bs[k]));
		ck_assert_uint_eq(bs[k].packets, summed(k + 1));
		ck_assert_uint_eq(bs[k].bytes, summed(60));
	}
	ck_assert_int_eq(wc_iface__bucket_stats(ifc, bs, 2 * 4 - 1), -ENOSPC);

	memset(w, 0xa5, sizeof(w));
	w[0].b.sz = sizeof(w[0]);
	ck_assert_int_eq(wc_iface__bucket_stats(ifc, &w[0].b, 2 * 4), 2 * 4);
	for (int k = 0; k < 2 * 4; k++) {
		ck_assert_uint_eq(w[k].b.sz, sizeof(w[0]));
		ck_assert_uint_eq(w[k].b.packets, summed(k + 1));
		ck_assert_uint_eq(w[k].newer, 0);
	}
	ck_assert_uint_eq(w[2 * 4].b.sz, 0xa5a5a5a5a5a5a5a5ull);
}
END_TEST

START_TEST(test_port)
{
	struct wc_egress_stats none = {};
	struct wc_port_stats ps = { .sz = sizeof(ps) };
	__u32 zero = 0;

	ck_assert_int_eq(wc_iface__port_stats(ifc, &ps), 0);
	ck_assert_uint_eq(ps.sz, sizeof(ps));
	ck_assert_str_eq(ps.ifname, "eg0");
	ck_assert_uint_eq(ps.mtu, 1500);
	ck_assert_uint_eq(ps.pid, 7);
	ck_assert_uint_eq(ps.offered, 10);
	ck_assert_uint_eq(ps.sent, 8);
	ck_assert_uint_eq(ps.csum_completed, 3);
	ps.sz = sizeof(ps.sz) - 1;
	ck_assert_int_eq(wc_iface__port_stats(ifc, &ps), -EINVAL);
	/* a port that closed leaves pid 0: no port runs */
	ck_assert(!bpf_map_update_elem(ifc->map_fd[WC_MAP_PORT_STATS], &zero,
				       &none, BPF_ANY));
	ps.sz = sizeof(ps);
	ck_assert_int_eq(wc_iface__port_stats(ifc, &ps), -ENOENT);
}
END_TEST

/* ---- sizes: older and newer callers ------------------------------------------ */

/* an older caller: a prefix, nothing past its sz */
START_TEST(test_smaller_sz)
{
	struct wc_iface_engine_info ei;
	struct wc_iface_queue_stats qs;
	struct wc_iface_worker_stats ws;

	memset(&ei, 0xa5, sizeof(ei));
	ei.sz = offsetof(struct wc_iface_engine_info, bind_mode);
	ck_assert_int_eq(wc_iface__engine_info(ifc, &ei), 0);
	ck_assert_uint_eq(ei.sz,
			  offsetof(struct wc_iface_engine_info, bind_mode));
	ck_assert_uint_eq(ei.pid, (__u32)getpid());
	ck_assert(ei.alive);
	ck_assert_uint_eq(ei.queues, 0xa5a5a5a5);

	memset(&qs, 0xa5, sizeof(qs));
	qs.sz = offsetof(struct wc_iface_queue_stats, bytes);
	ck_assert_int_eq(wc_iface__queue_stats(ifc, 1, &qs), 0);
	ck_assert_uint_eq(qs.packets, summed(3));
	ck_assert_uint_eq(qs.bytes, 0xa5a5a5a5a5a5a5a5ull);

	memset(&ws, 0xa5, sizeof(ws));
	ws.sz = offsetof(struct wc_iface_worker_stats, stalls);
	ck_assert_int_eq(wc_iface__worker_stats(ifc, 2, &ws), 0);
	ck_assert_uint_eq(ws.packets, 5);
	ck_assert_uint_eq(ws.stalls, 0xa5a5a5a5a5a5a5a5ull);
}
END_TEST

/* a newer caller: the fields the library does not know read as 0 */
#define NEWER(TYPE, CALL, CHECK)                                          \
	do {                                                              \
		struct {                                                  \
			TYPE s;                                           \
			__u64 newer[3];                                   \
			__u64 past;                                       \
		} big;                                                    \
                                                                          \
		memset(&big, 0xa5, sizeof(big));                          \
		big.s.sz = offsetof(typeof(big), past);                   \
		ck_assert_int_eq(CALL, 0);                                \
		ck_assert_uint_eq(big.s.sz, offsetof(typeof(big), past)); \
		ck_assert(CHECK);                                         \
		for (int i = 0; i < 3; i++)                               \
			ck_assert_uint_eq(big.newer[i], 0);               \
		ck_assert_uint_eq(big.past, 0xa5a5a5a5a5a5a5a5ull);       \
	} while (0)

START_TEST(test_larger_sz)
{
	NEWER(struct wc_iface_pool_stats, wc_iface__pool_stats(ifc, 1, &big.s),
	      big.s.delivered == 7);
	NEWER(struct wc_iface_worker_stats,
	      wc_iface__worker_stats(ifc, 2, &big.s), big.s.state == 2);
	NEWER(struct wc_iface_engine_info, wc_iface__engine_info(ifc, &big.s),
	      big.s.update_ns == 42);
	NEWER(struct wc_iface_queue_stats,
	      wc_iface__queue_stats(ifc, 1, &big.s), big.s.shed == summed(1));
	NEWER(struct wc_port_stats, wc_iface__port_stats(ifc, &big.s),
	      big.s.csum_completed == 3);
}
END_TEST

/* ---- refusals ----------------------------------------------------------------- */

START_TEST(test_invalid)
{
	struct wc_iface_worker_stats ws = { .sz = sizeof(ws) };
	struct wc_iface_pool_stats ps = { .sz = sizeof(ps) };
	struct wc_iface_engine_info ei = { .sz = sizeof(ei.sz) - 1 };
	struct wc_iface_queue_stats qs = { .sz = sizeof(qs.sz) - 1 };
	struct wc_iface_bucket_stats bs[8] = { [0].sz = sizeof(bs[0].sz) - 1 };

	ck_assert_int_eq(wc_iface__engine_info(ifc, &ei), -EINVAL);
	ck_assert_int_eq(wc_iface__engine_info(NULL, &ei), -EINVAL);
	ck_assert_int_eq(wc_iface__engine_info(ifc, NULL), -EINVAL);
	ck_assert_int_eq(wc_iface__queue_stats(ifc, 1, &qs), -EINVAL);
	ck_assert_int_eq(wc_iface__bucket_stats(ifc, bs, 8), -EINVAL);
	ps.sz = 0;
	ck_assert_int_eq(wc_iface__pool_stats(ifc, 1, &ps), -EINVAL);
	ps.sz = sizeof(ps);
	ws.sz = 0;
	ck_assert_int_eq(wc_iface__worker_stats(ifc, 2, &ws), -EINVAL);
	ws.sz = sizeof(ws);
	ck_assert_int_eq(wc_iface__pool_stats(ifc, WC_MAX_QUEUES, &ps),
			 -EINVAL);
	ck_assert_int_eq(wc_iface__worker_stats(ifc, WC_MAX_WORKERS, &ws),
			 -EINVAL);
	close(ifc->map_fd[WC_MAP_WORKER_STATS]);
	ifc->map_fd[WC_MAP_WORKER_STATS] = -1;
	ck_assert_int_eq(wc_iface__worker_stats(ifc, 0, &ws), -ENOENT);
}
END_TEST

/* The engine's and port's accessors refuse a too small sz before they
 * look at the object (which is never dereferenced here). */
START_TEST(test_invalid_engine)
{
	struct wc_engine *e = (struct wc_engine *)&ncpu;
	struct wc_port *p = (struct wc_port *)&ncpu;
	struct wc_iface_engine_info ei = { .sz = 1 };
	struct wc_iface_queue_stats qs = { .sz = 1 };
	struct wc_iface_pool_stats ps = { .sz = 1 };
	struct wc_iface_worker_stats ws = { .sz = 1 };
	struct wc_offload_stats os = { .sz = 1 };
	struct wc_link_stats ls = { .sz = 1 };
	struct wc_accounting ac = { .sz = 1 };
	struct wc_port_stats pt = { .sz = 1 };

	ck_assert_int_eq(wc_engine__info(e, &ei), -EINVAL);
	ck_assert_int_eq(wc_engine__queue_stats(e, 0, &qs), -EINVAL);
	ck_assert_int_eq(wc_engine__pool_stats(e, 0, &ps), -EINVAL);
	ck_assert_int_eq(wc_engine__worker_stats(e, 0, &ws), -EINVAL);
	ck_assert_int_eq(wc_engine__offload_stats(e, &os), -EINVAL);
	ck_assert_int_eq(wc_engine__link_stats(e, &ls), -EINVAL);
	ck_assert_int_eq(wc_engine__accounting(e, &ac), -EINVAL);
	ck_assert_int_eq(wc_port__stats(p, &pt), -EINVAL);
	ck_assert_int_eq(wc_engine__link_stats(e, NULL), -EINVAL);
	ck_assert_int_eq(wc_engine__offload_stats(NULL, &os), -EINVAL);
}
END_TEST

Suite *published_suite(void)
{
	Suite *s = suite_create("published");
	TCase *tc = tcase_create("accessors");
	TCase *th = tcase_create("helper");

	tcase_add_test(th, test_out_put);
	tcase_add_test(th, test_invalid_engine);
	suite_add_tcase(s, th);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_no_engine);
	tcase_add_test(tc, test_buckets);
	tcase_add_test(tc, test_port);
	tcase_add_test(tc, test_smaller_sz);
	tcase_add_test(tc, test_larger_sz);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}
