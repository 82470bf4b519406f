// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine's counters: its description, per queue (the XDP program's
 * counts since the sockets were plugged), per pool, per worker, offloading;
 * and their publication to the pinned maps that `wirecap stats` reads (by
 * the monitor every interval, and at close). A file of its own so that the
 * monitor, the stop's drain (rx.c) and the close read them without
 * calling back into engine.c.
 */
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "pool.h"
#include "xsk.h"

/* the engine's description in the published layout */
static void engine_info(const struct wc_engine *e, struct wc_engine_info *i)
{
	memset(i, 0, sizeof(*i));
	i->pid = getpid();
	i->bind_mode = e->bind_mode;
	i->queues = e->nq;
	i->workers = e->nw;
	i->chunks = e->chunks;
	i->chunk_size = e->chunk_size;
	i->frame_size = e->frame_size;
	i->rx_ring_size = e->rx_size;
	i->fill_ring_size = e->fq_size;
	i->huge_pages = e->huge;
	i->wait_mode = e->wait;
	i->chunk_timeout_us = e->chunk_timeout_us;
	i->umem_bytes = e->umem_len;
	i->start_ns = e->start_ns;
	i->update_ns = wc_now_real();
}

WC_API int wc_engine__info(const struct wc_engine *e,
			   struct wc_iface_engine_info *out)
{
	struct wc_engine_info i;

	if (!e || !WC_OUT_VALID(out))
		return -EINVAL;
	engine_info(e, &i);
	wc_engine_info_put(out, &i, true);
	return 0;
}

WC_API int wc_engine__queue_stats(struct wc_engine *e, unsigned q,
				  struct wc_iface_queue_stats *o)
{
	struct wc_queue_stats qs;
	__u64 *cur = (__u64 *)&qs;
	const __u64 *base;
	int err;

	if (!e || !WC_OUT_VALID(o) || q >= WC_MAX_QUEUES)
		return -EINVAL;
	err = wc_iface_queue_sums(e->ifc, q, &qs);
	if (err)
		return err;
	base = (const __u64 *)&e->xdp0[q];
	for (size_t i = 0; i < sizeof(qs) / sizeof(__u64); i++)
		cur[i] -= base[i];
	/* A packet is received once the program decided about it: the
	 * outcomes are what the sockets' counters continue, while "packets"
	 * is bumped at entry and can straddle the baseline by the packets
	 * in flight on other CPUs at that instant. */
	qs.packets =
		qs.redirected + qs.passed + qs.dropped + qs.filtered + qs.shed;
	wc_out_put(o, &qs, sizeof(qs));
	return 0;
}

/* one pool's counters in the published layout */
static int pool_stats(struct wc_engine *e, unsigned q,
		      struct wc_pool_stats *out)
{
	struct xdp_statistics st;
	__u64 dropped = 0;
	int err;

	memset(out, 0, sizeof(*out));
	out->frames = e->pools[q].nframes;
	wc_pool_in_use(&e->pools[q], &out->in_use);
	out->hwm = atomic_load(&e->pools[q].hwm);
	if (out->in_use > out->hwm)
		out->hwm = out->in_use;
	for (unsigned w = 0; w < e->nw; w++) {
		out->delivered += atomic_load(&e->workers[w].qpackets[q]);
		out->bytes += atomic_load(&e->workers[w].qbytes[q]);
		err = wc_xsk_stats(e->workers[w].socks[q].fd, &st);
		if (err)
			return err;
		dropped += st.rx_dropped;
		out->ring_full += st.rx_ring_full;
		if (w == 0) {
			/* the fill ring and its counters are the pool's,
			 * shared by the queue's sockets: read once */
			out->fill_empty = st.rx_fill_ring_empty_descs;
			out->invalid_descs = st.rx_invalid_descs;
		}
	}
	/* copy mode counts a packet that found the pool empty in both
	 * rx_dropped and the fill ring's empty count; zero-copy drivers drop
	 * in hardware and count fill ring misses per refill attempt */
	if (e->bind_mode == WC_BIND_COPY)
		out->other_dropped = dropped > out->fill_empty ?
					     dropped - out->fill_empty :
					     0;
	else
		out->other_dropped = dropped;
	return 0;
}

WC_API int wc_engine__pool_stats(struct wc_engine *e, unsigned q,
				 struct wc_iface_pool_stats *o)
{
	struct wc_pool_stats ps;
	int err;

	if (!e || !WC_OUT_VALID(o) || q >= e->nq)
		return -EINVAL;
	err = pool_stats(e, q, &ps);
	if (err)
		return err;
	wc_out_put(o, &ps, sizeof(ps));
	return 0;
}

/* one worker's counters in the published layout */
static void worker_stats(struct wc_engine *e, unsigned wi,
			 struct wc_worker_stats *out)
{
	struct wc_worker *w = &e->workers[wi];
	struct xdp_statistics st;

	memset(out, 0, sizeof(*out));
	out->packets = atomic_load(&w->packets);
	for (unsigned q = 0; q < e->nq; q++) {
		struct wc_sock *s = &w->socks[q];
		__u32 prod = __atomic_load_n(s->rx.producer, __ATOMIC_ACQUIRE);
		__u32 cons = __atomic_load_n(s->rx.consumer, __ATOMIC_ACQUIRE);

		out->bytes += atomic_load(&w->qbytes[q]);
		out->rx_backlog += prod - cons;
		if (!wc_xsk_stats(s->fd, &st))
			out->ring_full += st.rx_ring_full;
	}
	out->chunks = atomic_load(&w->chunks);
	out->held_chunks = atomic_load(&w->held_chunks);
	out->held_frames = atomic_load(&w->held_frames);
	out->held_frames += atomic_load(&w->parked);
	out->buckets_owned = atomic_load(&w->buckets_owned);
	out->buckets_foreign = atomic_load(&w->buckets_foreign);
	out->moves_in = atomic_load(&w->moves_in);
	out->moves_out = atomic_load(&w->moves_out);
	out->stalls = atomic_load(&w->stalls);
	out->cpu = (__u32)atomic_load(&w->cpu);
	out->state = atomic_load(&w->stuck)	 ? WC_WORKER_STUCK :
		     atomic_load(&w->in_capture) ? WC_WORKER_RUNNING :
						   WC_WORKER_IDLE;
}

WC_API int wc_engine__worker_stats(struct wc_engine *e, unsigned wi,
				   struct wc_iface_worker_stats *o)
{
	struct wc_worker_stats ws;

	if (!e || !WC_OUT_VALID(o) || wi >= e->nw)
		return -EINVAL;
	worker_stats(e, wi, &ws);
	wc_out_put(o, &ws, sizeof(ws));
	return 0;
}

WC_API int wc_engine__offload_stats(struct wc_engine *e,
				    struct wc_offload_stats *out)
{
	struct wc_offload_stats o = { .sz = sizeof(o) };

	if (!e || !WC_OUT_VALID(out))
		return -EINVAL;
	o.moves = atomic_load(&e->moves);
	o.returns = atomic_load(&e->returns);
	o.first_move_ns = atomic_load(&e->first_move_ns);
	o.last_move_ns = atomic_load(&e->last_move_ns);
	o.fence_timeouts = atomic_load(&e->fence_timeouts);
	o.stuck_events = atomic_load(&e->stuck_events);
	o.late = atomic_load(&e->fence_late);
	WC_OUT_PUT(out, &o);
	return 0;
}

int wc_engine_publish(struct wc_engine *e)
{
	int efd = wc_iface__map_fd(e->ifc, WC_MAP_ENGINE);
	int pfd = wc_iface__map_fd(e->ifc, WC_MAP_POOL_STATS);
	int wfd = wc_iface__map_fd(e->ifc, WC_MAP_WORKER_STATS);
	struct wc_engine_info info;
	int err = 0;
	__u32 zero = 0;

	if (efd < 0 || pfd < 0 || wfd < 0)
		return -ENOENT;
	pthread_mutex_lock(&e->stats_lock);
	for (__u32 q = 0; q < e->nq; q++) {
		struct wc_pool_stats ps;

		if (!pool_stats(e, q, &ps) &&
		    bpf_map_update_elem(pfd, &q, &ps, BPF_ANY))
			err = -errno;
	}
	for (__u32 w = 0; w < e->nw; w++) {
		struct wc_worker_stats ws;

		worker_stats(e, w, &ws);
		if (bpf_map_update_elem(wfd, &w, &ws, BPF_ANY))
			err = -errno;
	}
	engine_info(e, &info);
	if (bpf_map_update_elem(efd, &zero, &info, BPF_ANY))
		err = -errno;
	pthread_mutex_unlock(&e->stats_lock);
	return err;
}
