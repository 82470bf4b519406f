// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An RCU grace period, asked of the kernel from user space.
 *
 * The XDP program runs inside an RCU read-side section (a NAPI poll with
 * bottom halves off, or the generic-XDP receive path under
 * rcu_read_lock()), and a redirect into an AF_XDP socket is in the ring
 * before that section ends (the native path flushes at the end of the
 * poll, the generic path writes at once). The kernel waits for a grace
 * period (synchronize_rcu) before it returns from an update of a
 * map-in-map from user space, so that user space knows no program still
 * runs with the old inner map (maybe_wait_bpf_programs, Linux 4.20+).
 * Updating a private one-entry ARRAY_OF_MAPS is therefore a barrier: when
 * it returns, every program run that started before it has ended.
 *
 * A fixed sleep (the former 2 ms) is not one: a CPU descheduled by a
 * hypervisor, or a loaded NAPI thread, can hold a program run for longer,
 * and a bucket move armed too early reorders that bucket.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xdpsync.h"

void wc_xdpsync__open(struct wc_xdpsync *s)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	s->outer = -1;
	s->inner =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "wc_sync_in", 4, 4, 1, NULL);
	if (s->inner < 0)
		return;
	o.inner_map_fd = s->inner;
	s->outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "wc_sync", 4, 4,
				  1, &o);
	if (s->outer < 0) {
		close(s->inner);
		s->inner = -1;
		s->outer = -1;
	}
}

void wc_xdpsync__close(struct wc_xdpsync *s)
{
	if (s->outer >= 0)
		close(s->outer);
	if (s->inner >= 0)
		close(s->inner);
	s->outer = s->inner = -1;
}

int wc_xdpsync__wait(struct wc_xdpsync *s, unsigned fallback_us)
{
	struct timespec ts = { fallback_us / 1000000,
			       (fallback_us % 1000000) * 1000L };
	__u32 key = 0;
	int err = -ENOTSUP;

	if (s->outer >= 0) {
		if (!bpf_map_update_elem(s->outer, &key, &s->inner, BPF_ANY))
			return 0;
		err = -errno;
	}
	nanosleep(&ts, NULL);
	return err;
}
