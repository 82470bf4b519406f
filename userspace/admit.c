// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Admission control (wc_engine_opts.shed): a forwarder's backlog bounded by
 * a latency budget, overload shed in XDP before the copy.
 *
 * A capture engine lets its pool absorb bursts. A forwarder under overload
 * must not: the receive path would spend the CPU copying packets into
 * frames the starved worker never drains, to be dropped later (receive
 * livelock). So from shed_high frames in use in a queue's pool the XDP
 * program drops the queue's packets at once (wc_queue_stats.shed), down to
 * shed_low.
 *
 * The decision is the program's, packet by packet: it counts what it hands
 * to the queue's sockets (wc_admit.taken) and the engine keeps wc_admit.base
 * so that taken - base is the pool's frames in use. The engine cannot
 * decide in time itself: under overload it is the process that does not
 * get the CPU (a flag set by the worker per chunk let the kernel exhaust
 * the pool between two chunks). The engine only corrects the count: frames
 * go back to the pool (recycling, TX completions) and packets counted as
 * taken may not have taken a frame (the socket dropped them). base is
 * rewritten, under the pool's lock, whenever frames go back, and by the
 * monitor every interval. The map is BPF_F_MMAPABLE and mapped here: an
 * update is a store, not a system call.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "pool.h"

static size_t admit_len(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (WC_MAX_QUEUES * sizeof(struct wc_admit) + pg - 1) & ~(pg - 1);
}

/* Every engine resets every queue at start (a crashed forwarder may have
 * left one shedding) and at close; only a shedding engine sets marks. */
static void admit_reset(struct wc_engine *e, __u32 high, __u32 low)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_ADMIT);
	struct wc_admit off = {};

	if (e->admit) {
		for (unsigned q = 0; q < WC_MAX_QUEUES; q++) {
			struct wc_admit *a = &e->admit[q];

			__atomic_store_n(&a->high, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&a->shed, 0, __ATOMIC_RELAXED);
			__atomic_store_n(
				&a->base,
				__atomic_load_n(&a->taken, __ATOMIC_ACQUIRE),
				__ATOMIC_RELAXED);
			__atomic_store_n(&a->low, q < e->nq ? low : 0,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&a->high, q < e->nq ? high : 0,
					 __ATOMIC_RELEASE);
		}
		return;
	}
	for (__u32 q = 0; fd >= 0 && q < WC_MAX_QUEUES; q++)
		bpf_map_update_elem(fd, &q, &off, BPF_ANY);
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
	/* the pools are full (nothing in use): base = taken */
	admit_reset(e, e->shed ? e->shed_high : 0, e->shed ? e->shed_low : 0);
	if (e->shed)
		pr_info("%s: shedding in XDP from %u frames in use per queue, down to %u\n",
			e->ifname, e->shed_high, e->shed_low);
	return 0;
}

void wc_admit_close(struct wc_engine *e)
{
	if (!e->ifc)
		return;
	admit_reset(e, 0, 0);
	if (e->admit)
		munmap(e->admit, admit_len());
	e->admit = NULL;
}

void wc_admit_check_locked(struct wc_engine *e, struct wc_pool *p)
{
	struct wc_admit *a;
	__u64 taken, in_use;

	if (!e->shed || !e->admit)
		return;
	a = &e->admit[p->queue];
	/* taken first: what the kernel takes meanwhile counts as in use
	 * twice (shed a little early), never as free */
	taken = __atomic_load_n(&a->taken, __ATOMIC_ACQUIRE);
	wc_pool_in_use(p, &in_use);
	if (in_use > taken)
		in_use = taken;
	__atomic_store_n(&a->base, taken - in_use, __ATOMIC_RELEASE);
}

void wc_admit_check(struct wc_engine *e, struct wc_pool *p)
{
	if (!e->shed || !e->admit)
		return;
	pthread_mutex_lock(&p->lock);
	wc_admit_check_locked(e, p);
	pthread_mutex_unlock(&p->lock);
}
