/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pools and chunks (pool.c). The helpers that fill a chunk are inline:
 * they run per packet, for rx.c (from the rings) and fence.c (from the
 * hand-off and parking queues of a bucket move).
 */
#ifndef WIRECAP_POOL_H
#define WIRECAP_POOL_H

#include "engine.h"

/* the fill and completion rings of pool p, created by socket fd */
int wc_pool_rings_setup(struct wc_engine *e, struct wc_pool *p, int fd);
void wc_pool_unmap(struct wc_pool *p);
/* every frame of the pool into its fill ring (at the start) */
int wc_pool_fill(struct wc_engine *e, struct wc_pool *p);
/* return `n` frames to pool `p` (takes its lock) */
void wc_pool_put(struct wc_engine *e, struct wc_pool *p, const __u64 *addr,
		 unsigned n);
/* the completion ring has one reader: an egress port claims it (-EBUSY:
 * another port has) */
int wc_pool_claim_cq(struct wc_pool *p);
void wc_pool_unclaim_cq(struct wc_pool *p);
/* wake every pool's fill ring (a zero-copy driver after link up) */
void wc_engine_kick_pools(struct wc_engine *e);

/* a free chunk of the worker's (the capturing thread only) */
struct wc_chunk *wc_chunk_get(struct wc_worker *w);
/* the chunk descriptor goes back to its worker; its frames are already
 * taken care of (recycled, or given to an egress port by tx.c) */
void wc_chunk_release(struct wc_chunk *c);

/* frames captured and not back in the pool's fill ring */
static inline int wc_pool_in_use(const struct wc_pool *p, __u64 *in_use)
{
	__u32 prod = __atomic_load_n(p->fq.producer, __ATOMIC_ACQUIRE);
	__u32 cons = __atomic_load_n(p->fq.consumer, __ATOMIC_ACQUIRE);
	__u32 in_ring = prod - cons;

	*in_use = in_ring > p->nframes ? 0 : p->nframes - in_ring;
	return 0;
}

static inline void wc_chunk_add(struct wc_engine *e, struct wc_worker *w,
				struct wc_chunk *c, unsigned q, __u64 addr,
				__u32 len, __s64 off, __u64 *now)
{
	const size_t msz = sizeof(struct wc_meta);
	struct wc_pkt *p = &c->pkts[c->n];
	char *data = (char *)e->umem + addr;
	const struct wc_meta *m = (const void *)(data - msz);

	c->addr[c->n] = addr;
	p->data = data;
	p->len = len;
	p->addr = addr;
	p->queue = q;
	p->worker = w->idx;
	/* meta is trusted only when it names this socket */
	if (e->ifc->cfg.meta_enabled && (addr & (e->frame_size - 1)) >= msz &&
	    m->queue == q && m->worker == w->idx) {
		p->ts_ns = m->ts_ns + off;
		p->hash = m->hash;
		p->bucket = m->bucket;
		p->gen = m->gen;
		p->flags = m->flags;
	} else {
		if (!*now)
			*now = wc_now_real();
		p->ts_ns = *now;
		p->hash = 0;
		p->bucket = 0;
		p->gen = 0;
		p->flags = WC_PKT_NO_META;
	}
	c->n++;
}

static inline void wc_chunk_seg_close(struct wc_chunk *c, unsigned q,
				      unsigned start)
{
	struct wc_chunk_seg *last = c->nseg ? &c->seg[c->nseg - 1] : NULL;

	if (c->n == start)
		return;
	if (last && last->queue == q && last->start + last->count == start) {
		last->count += c->n - start;
		return;
	}
	c->seg[c->nseg].queue = q;
	c->seg[c->nseg].start = start;
	c->seg[c->nseg].count = c->n - start;
	c->nseg++;
}

static inline void wc_chunk_account(struct wc_engine *e, struct wc_worker *w,
				    struct wc_chunk *c, unsigned q,
				    unsigned start)
{
	__u64 bytes = 0, in_use, hwm;

	for (unsigned i = start; i < c->n; i++)
		bytes += c->pkts[i].len;
	atomic_fetch_add_explicit(&w->qpackets[q], c->n - start,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&w->qbytes[q], bytes, memory_order_relaxed);
	/* high-water mark: the pool is fullest right now */
	wc_pool_in_use(&e->pools[q], &in_use);
	hwm = atomic_load_explicit(&e->pools[q].hwm, memory_order_relaxed);
	while (in_use > hwm &&
	       !atomic_compare_exchange_weak(&e->pools[q].hwm, &hwm, in_use))
		;
}
#endif
