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

WC_API int wc_engine__info(const struct wc_engine *e, struct wc_engine_info *i)
{
	if (!e || !i)
		return -EINVAL;
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
	return 0;
}

WC_API int wc_engine__queue_stats(struct wc_engine *e, unsigned q,
				  struct wc_queue_stats *out)
{
	__u64 *cur = (__u64 *)out;
	const __u64 *base;
	int err;

	if (!e || !out || q >= WC_MAX_QUEUES)
		return -EINVAL;
	err = wc_iface__queue_stats(e->ifc, q, out);
	if (err)
		return err;
	base = (const __u64 *)&e->xdp0[q];
	for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
		cur[i] -= base[i];
	/* A packet is received once the program decided about it: the
	 * outcomes are what the sockets' counters continue, while "packets"
	 * is bumped at entry and can straddle the baseline by the packets
	 * in flight on other CPUs at that instant. */
	out->packets = out->redirected + out->passed + out->dropped +
		       out->filtered + out->shed;
	return 0;
}

WC_API int wc_engine__pool_stats(struct wc_engine *e, unsigned q,
				 struct wc_pool_stats *out)
{
	struct xdp_statistics st;
	__u64 dropped = 0;
	int err;

	if (!e || !out || q >= e->nq)
		return -EINVAL;
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

WC_API int wc_engine__worker_stats(struct wc_engine *e, unsigned wi,
				   struct wc_worker_stats *out)
{
	struct wc_worker *w;
	struct xdp_statistics st;

	if (!e || !out || wi >= e->nw)
		return -EINVAL;
	w = &e->workers[wi];
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
	return 0;
}

WC_API int wc_engine__offload_stats(struct wc_engine *e,
				    struct wc_offload_stats *o)
{
	if (!e || !o)
		return -EINVAL;
	o->moves = atomic_load(&e->moves);
	o->returns = atomic_load(&e->returns);
	o->first_move_ns = atomic_load(&e->first_move_ns);
	o->last_move_ns = atomic_load(&e->last_move_ns);
	o->fence_timeouts = atomic_load(&e->fence_timeouts);
	o->stuck_events = atomic_load(&e->stuck_events);
	o->late = atomic_load(&e->fence_late);
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

		if (!wc_engine__pool_stats(e, q, &ps) &&
		    bpf_map_update_elem(pfd, &q, &ps, BPF_ANY))
			err = -errno;
	}
	for (__u32 w = 0; w < e->nw; w++) {
		struct wc_worker_stats ws;

		if (!wc_engine__worker_stats(e, w, &ws) &&
		    bpf_map_update_elem(wfd, &w, &ws, BPF_ANY))
			err = -errno;
	}
	wc_engine__info(e, &info);
	if (bpf_map_update_elem(efd, &zero, &info, BPF_ANY))
		err = -errno;
	pthread_mutex_unlock(&e->stats_lock);
	return err;
}
