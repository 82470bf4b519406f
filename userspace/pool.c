// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pools: one per rx queue, frames [base, base + nframes) of the UMEM,
 * each in its queue's fill ring unless captured (docs/pool.md). Their fill
 * and completion rings, the first fill, the return of frames (one lock per
 * pool per chunk, admission checked), and the chunks that carry captured
 * frames to the application and back.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "engine.h"
#include "pool.h"
#include "xsk.h"

int wc_pool_rings_setup(struct wc_engine *e, struct wc_pool *p, int fd)
{
	int err = wc_xsk_umem_rings(fd, e->fq_size, e->cq_size, &p->fq,
				    &p->fq_map, &p->fq_map_len, &p->cq,
				    &p->cq_map, &p->cq_map_len);

	if (!err)
		p->fd = fd;
	return err;
}

void wc_pool_unmap(struct wc_pool *p)
{
	if (p->fq_map)
		munmap(p->fq_map, p->fq_map_len);
	if (p->cq_map)
		munmap(p->cq_map, p->cq_map_len);
	p->fq_map = p->cq_map = NULL;
}

static void pool_kick(struct wc_pool *p)
{
	/* zero-copy drivers sleep when the fill ring ran dry */
	recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	atomic_fetch_add_explicit(&p->kicks, 1, memory_order_relaxed);
}

int wc_pool_fill(struct wc_engine *e, struct wc_pool *p)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&p->fq, p->nframes, &idx) != p->nframes)
		return -ENOSPC;
	for (__u32 i = 0; i < p->nframes; i++)
		*xsk_ring_prod__fill_addr(&p->fq, idx + i) =
			p->base - p->umem_off + (__u64)i * e->frame_size;
	xsk_ring_prod__submit(&p->fq, p->nframes);
	p->filled = true;
	return 0;
}

/* return `n` frames to pool `p`: one lock per pool per chunk */
/* with the pool's lock held */
static void pool_put_locked(struct wc_engine *e, struct wc_pool *p,
			    const __u64 *addr, unsigned n)
{
	/* the ring takes addresses in the pool's UMEM */
	__u64 mask = ~((__u64)e->frame_size - 1), off = p->umem_off;
	__u32 idx;

	if (xsk_ring_prod__reserve(&p->fq, n, &idx) != n) {
		/* cannot happen: the fill ring holds the whole pool */
		pr_warn("queue %u: fill ring overflow, %u frames leaked\n",
			p->queue, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&p->fq, idx + i) =
			(addr[i] & mask) - off;
	xsk_ring_prod__submit(&p->fq, n);
	wc_admit_check_locked(e, p);
}

/* frames dropped or completed by an egress port (tx.c) go home too */
void wc_pool_put(struct wc_engine *e, struct wc_pool *p, const __u64 *addr,
		 unsigned n)
{
	int kick;

	pthread_mutex_lock(&p->lock);
	pool_put_locked(e, p, addr, n);
	kick = xsk_ring_prod__needs_wakeup(&p->fq);
	pthread_mutex_unlock(&p->lock);
	if (kick)
		pool_kick(p);
}

void wc_engine_kick_pools(struct wc_engine *e)
{
	for (unsigned q = 0; q < e->nq; q++)
		if (e->pools[q].fd >= 0)
			pool_kick(&e->pools[q]);
}

int wc_pool_claim_cq(struct wc_pool *p)
{
	bool free = false;

	return atomic_compare_exchange_strong(&p->cq_claimed, &free, true) ?
		       0 :
		       -EBUSY;
}

void wc_pool_unclaim_cq(struct wc_pool *p)
{
	atomic_store(&p->cq_claimed, false);
}

static struct wc_chunk *chunk_new(struct wc_worker *w)
{
	struct wc_engine *e = w->e;
	struct wc_chunk *c;

	c = calloc(1, sizeof(*c) + e->chunk_size * sizeof(struct wc_pkt));
	if (!c)
		return NULL;
	c->w = w;
	/* every segment holds a packet at least: chunk_size bounds them */
	c->seg = calloc(e->chunk_size, sizeof(*c->seg));
	c->addr = calloc(e->chunk_size, sizeof(*c->addr));
	if (!c->seg || !c->addr) {
		free(c->seg);
		free(c->addr);
		free(c);
		return NULL;
	}
	return c;
}

struct wc_chunk *wc_chunk_get(struct wc_worker *w)
{
	struct wc_chunk *c = w->free;

	if (!c) {
		/* take everything recyclers pushed, in one exchange (no ABA) */
		w->free = atomic_exchange(&w->returned, NULL);
		c = w->free;
	}
	if (c) {
		w->free = c->next;
		c->next = NULL;
		return c;
	}
	return chunk_new(w);
}

WC_API void wc_chunk__recycle(struct wc_chunk *c)
{
	struct wc_worker *w;
	struct wc_engine *e;

	if (!c)
		return;
	w = c->w;
	e = w->e;
	/* one lock per queue present in the chunk, whatever its segments */
	for (unsigned i = 0; i < c->nseg; i++) {
		unsigned q = c->seg[i].queue;
		struct wc_pool *p = &e->pools[q];
		bool seen = false;
		int kick;

		for (unsigned j = 0; j < i && !seen; j++)
			seen = c->seg[j].queue == q;
		if (seen)
			continue;
		pthread_mutex_lock(&p->lock);
		for (unsigned j = i; j < c->nseg; j++)
			if (c->seg[j].queue == q)
				pool_put_locked(e, p, c->addr + c->seg[j].start,
						c->seg[j].count);
		kick = xsk_ring_prod__needs_wakeup(&p->fq);
		pthread_mutex_unlock(&p->lock);
		if (kick)
			pool_kick(p);
	}
	wc_chunk_release(c);
}

/* The chunk descriptor goes back to its worker; its frames are already
 * taken care of (recycled, or given to an egress port by tx.c). */
void wc_chunk_release(struct wc_chunk *c)
{
	struct wc_worker *w = c->w;
	struct wc_chunk *head;

	atomic_fetch_sub_explicit(&w->held_frames, c->n, memory_order_relaxed);
	atomic_fetch_sub_explicit(&w->held_chunks, 1, memory_order_relaxed);
	c->n = 0;
	c->nseg = 0;
	head = atomic_load(&w->returned);
	do {
		c->next = head;
	} while (!atomic_compare_exchange_weak(&w->returned, &head, c));
}

WC_API unsigned wc_chunk__count(const struct wc_chunk *c)
{
	return c ? c->n : 0;
}

WC_API struct wc_pkt *wc_chunk__pkts(struct wc_chunk *c)
{
	return c ? c->pkts : NULL;
}

WC_API struct wc_worker *wc_chunk__worker(const struct wc_chunk *c)
{
	return c ? c->w : NULL;
}
