// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Admission control (wc_engine_opts.shed): a forwarder's backlog bounded by
 * a latency budget, overload shed in XDP before the copy.
 *
 * A capture engine lets its pool absorb bursts. A forwarder under overload
 * must not: the receive path would spend the CPU copying packets into
 * frames the starved worker never drains, to be dropped later (receive
 * livelock). So while a queue's pool has shed_high frames in use, its
 * entry of the pinned array "admit" says shed and the XDP program drops
 * the queue's packets at once (wc_queue_stats.shed); at shed_low it opens
 * again.
 *
 * The map is BPF_F_MMAPABLE and mapped here: opening or closing a queue is
 * a store, not a system call, so the state can follow the backlog chunk by
 * chunk. It is checked where the backlog changes: by the worker after each
 * chunk it captures (in_use grows as the kernel fills frames) and whenever
 * frames go back to the pool (recycling, TX completions), under the pool's
 * lock; the monitor re-checks every interval. A change is decided under
 * the pool's lock with a fresh reading: the fill ring's producer moves only
 * under it, and the kernel only takes frames, so a queue is never left
 * closed with its pool below shed_low.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "engine.h"

static size_t admit_len(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (WC_MAX_QUEUES * sizeof(struct wc_admit) + pg - 1) & ~(pg - 1);
}

/* Every engine opens every queue at start (a crashed forwarder may have
 * left one closed) and at close; only a shedding engine closes them. */
static void admit_open_all(struct wc_engine *e)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_ADMIT);
	struct wc_admit open = {};

	if (e->admit) {
		for (unsigned q = 0; q < WC_MAX_QUEUES; q++)
			__atomic_store_n(&e->admit[q].shed, 0,
					 __ATOMIC_RELEASE);
		return;
	}
	for (__u32 q = 0; fd >= 0 && q < WC_MAX_QUEUES; q++)
		bpf_map_update_elem(fd, &q, &open, BPF_ANY);
}

int wc_admit_open(struct wc_engine *e, const struct wc_engine_opts *o)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_ADMIT);
	__u32 pool = e->chunks * e->chunk_size;
	void *m;

	e->shed = WC_OPTS_GET(o, shed, false);
	e->shed_high = WC_OPTS_GET(o, shed_high, 0);
	e->shed_low = WC_OPTS_GET(o, shed_low, 0);
	if (!e->shed_high)
		e->shed_high = pool / 2;
	if (e->shed_high > pool)
		e->shed_high = pool;
	if (!e->shed_low || e->shed_low >= e->shed_high)
		e->shed_low = e->shed_high / 2;
	if (fd < 0)
		return e->shed ? fd : 0;
	m = mmap(NULL, admit_len(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int err = -errno;

		if (e->shed) {
			pr_warn("%s: cannot map the admission map: %s\n",
				e->ifname, strerror(-err));
			return err;
		}
	} else {
		e->admit = m;
	}
	admit_open_all(e);
	if (e->shed)
		pr_info("%s: shedding in XDP from %u frames in use per queue, until %u\n",
			e->ifname, e->shed_high, e->shed_low);
	return 0;
}

void wc_admit_close(struct wc_engine *e)
{
	if (!e->ifc)
		return;
	admit_open_all(e);
	if (e->admit)
		munmap(e->admit, admit_len());
	e->admit = NULL;
}

/* 1: close, 0: open, -1: leave as it is */
static int admit_want(struct wc_engine *e, struct wc_pool *p, __u32 cur)
{
	__u64 in_use;

	wc_pool_in_use(p, &in_use);
	if (!cur && in_use >= e->shed_high)
		return 1;
	if (cur && in_use <= e->shed_low)
		return 0;
	return -1;
}

void wc_admit_check_locked(struct wc_engine *e, struct wc_pool *p)
{
	__u32 *flag, cur;
	int want;

	if (!e->shed || !e->admit)
		return;
	flag = &e->admit[p->queue].shed;
	cur = __atomic_load_n(flag, __ATOMIC_RELAXED);
	want = admit_want(e, p, cur);
	if (want < 0)
		return;
	__atomic_store_n(flag, (__u32)want, __ATOMIC_RELEASE);
	if (want)
		atomic_fetch_add_explicit(&p->shed_on, 1, memory_order_relaxed);
}

void wc_admit_check(struct wc_engine *e, struct wc_pool *p)
{
	if (!e->shed || !e->admit ||
	    admit_want(e, p,
		       __atomic_load_n(&e->admit[p->queue].shed,
				       __ATOMIC_RELAXED)) < 0)
		return;
	pthread_mutex_lock(&p->lock);
	wc_admit_check_locked(e, p);
	pthread_mutex_unlock(&p->lock);
}
