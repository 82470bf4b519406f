// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The capture engine: one UMEM split into a ring-buffer pool per rx queue,
 * one AF_XDP socket per (queue, worker), chunk capture and recycling.
 * See docs/pool.md for the design.
 *
 * Sockets are set up with raw AF_XDP calls rather than libxdp's
 * xsk_socket__create_shared(): libxdp always shares with the UMEM's first
 * socket, but sharing one queue's pool between several sockets needs the
 * bind to name a socket of *that* queue (the kernel creates a second pool
 * otherwise and the bind fails with EBUSY). libxdp's inline ring helpers
 * (xdp/xsk.h) are used for every ring access.
 */
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "netdev.h"
#include "kernel.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define DEFAULT_CHUNK_SIZE 64
#define DEFAULT_BURST_FRAMES 200000 /* 200 ms at 1 Mpps */
#define MAX_CHUNK_SIZE 4096
#define MAX_RING 4194304u

__u64 wc_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__u64 wc_now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__u32 wc_pow2_at_least(__u64 v)
{
	__u32 p = 1;

	while (p < v && p < MAX_RING)
		p <<= 1;
	return p;
}

void wc_refresh_rt_off(struct wc_engine *e)
{
	/* bracket REALTIME by two MONOTONIC reads: the offset is good to the
	 * duration of one clock_gettime */
	__u64 m1 = wc_now_mono(), r = wc_now_real(), m2 = wc_now_mono();

	atomic_store(&e->rt_off, (__s64)r - (__s64)((m1 + m2) / 2));
}

/* ---- sockets and rings -------------------------------------------------- */

int wc_ring_map(int fd, __u64 pgoff, const struct xdp_ring_offset *off, __u32 n,
		size_t esz, void **map, size_t *len, void *ring, bool prod)
{
	struct xsk_ring_prod *r = ring; /* same layout as xsk_ring_cons */

	*len = off->desc + (size_t)n * esz;
	*map = mmap(NULL, *len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -errno;
	}
	r->mask = n - 1;
	r->size = n;
	r->producer = (__u32 *)((char *)*map + off->producer);
	r->consumer = (__u32 *)((char *)*map + off->consumer);
	r->flags = (__u32 *)((char *)*map + off->flags);
	r->ring = (char *)*map + off->desc;
	r->cached_prod = *r->producer;
	/* a producer's cached_cons is kept `size` ahead (libxdp convention) */
	r->cached_cons = *r->consumer + (prod ? n : 0);
	return 0;
}

static int get_offsets(int fd, struct xdp_mmap_offsets *off)
{
	socklen_t len = sizeof(*off);

	return getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, off, &len) ? -errno :
								      0;
}

int wc_xsk_set_ring(int fd, int opt, __u32 n)
{
	return setsockopt(fd, SOL_XDP, opt, &n, sizeof(n)) ? -errno : 0;
}

static int sock_rx_setup(struct wc_engine *e, struct wc_sock *s)
{
	struct xdp_mmap_offsets off;
	int err;

	err = wc_xsk_set_ring(s->fd, XDP_RX_RING, e->rx_size);
	if (err)
		return err;
	err = get_offsets(s->fd, &off);
	if (err)
		return err;
	return wc_ring_map(s->fd, XDP_PGOFF_RX_RING, &off.rx, e->rx_size,
			   sizeof(struct xdp_desc), &s->rx_map, &s->rx_map_len,
			   &s->rx, false);
}

static int pool_rings_setup(struct wc_engine *e, struct wc_pool *p, int fd)
{
	struct xdp_mmap_offsets off;
	int err;

	if ((err = wc_xsk_set_ring(fd, XDP_UMEM_FILL_RING, e->fq_size)) ||
	    (err = wc_xsk_set_ring(fd, XDP_UMEM_COMPLETION_RING, e->cq_size)))
		return err;
	err = get_offsets(fd, &off);
	if (err)
		return err;
	err = wc_ring_map(fd, XDP_UMEM_PGOFF_FILL_RING, &off.fr, e->fq_size,
			  sizeof(__u64), &p->fq_map, &p->fq_map_len, &p->fq,
			  true);
	if (err)
		return err;
	p->fd = fd;
	return wc_ring_map(fd, XDP_UMEM_PGOFF_COMPLETION_RING, &off.cr,
			   e->cq_size, sizeof(__u64), &p->cq_map,
			   &p->cq_map_len, &p->cq, false);
}

static int xsk_bind(int fd, int ifindex, unsigned q, __u16 flags, int shared_fd)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = flags,
		.sxdp_ifindex = ifindex,
		.sxdp_queue_id = q,
		.sxdp_shared_umem_fd = shared_fd >= 0 ? shared_fd : 0,
	};

	return bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) ? -errno : 0;
}

static void sock_close(struct wc_sock *s)
{
	if (s->rx_map)
		munmap(s->rx_map, s->rx_map_len);
	s->rx_map = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void pool_unmap(struct wc_pool *p)
{
	if (p->fq_map)
		munmap(p->fq_map, p->fq_map_len);
	if (p->cq_map)
		munmap(p->cq_map, p->cq_map_len);
	p->fq_map = p->cq_map = NULL;
}

/* The first socket of queue 0 registers the UMEM; bind flags decide copy
 * or zero-copy for every socket that shares it. */
static int owner_socket(struct wc_engine *e, __u16 mode_flag)
{
	struct xdp_umem_reg reg = {
		.addr = (__u64)(uintptr_t)e->umem,
		.len = e->umem_len,
		.chunk_size = e->frame_size,
		.headroom = 0,
	};
	struct wc_sock *s = &e->workers[0].socks[0];
	struct wc_pool *p = &e->pools[0];
	int err;

	s->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (setsockopt(s->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg))) {
		err = -errno;
		goto fail;
	}
	err = pool_rings_setup(e, p, s->fd);
	if (!err)
		err = sock_rx_setup(e, s);
	if (!err)
		err = xsk_bind(s->fd, e->ifindex, 0,
			       mode_flag | XDP_USE_NEED_WAKEUP, -1);
	if (!err)
		return 0;
fail:
	pool_unmap(p);
	sock_close(s);
	return err;
}

/* An engine opened with umem_of: its first socket binds into the other
 * engine's UMEM (a new pool, with its own fill and completion rings); the
 * mode (copy / zero-copy) is the UMEM's. */
static int guest_socket(struct wc_engine *e)
{
	struct wc_sock *s = &e->workers[0].socks[0];
	int err;

	s->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	err = pool_rings_setup(e, &e->pools[0], s->fd);
	if (!err)
		err = sock_rx_setup(e, s);
	if (!err)
		err = xsk_bind(s->fd, e->ifindex, 0, XDP_SHARED_UMEM,
			       e->umem_owner->workers[0].socks[0].fd);
	return err;
}

static int sockets_setup(struct wc_engine *e, enum wc_bind_mode bind)
{
	int err = -EINVAL;

	if (e->umem_owner) {
		err = guest_socket(e);
		if (err)
			return err;
		e->bind_mode = e->umem_owner->bind_mode;
		bind = WC_BIND_COPY; /* skips the owner socket below */
	}

	if (bind == WC_BIND_AUTO && !e->zc_capable) {
		/* a failed zero-copy bind is not free: the kernel sets up a
		 * descriptor per UMEM frame for it (0.3 s for 1.5 GiB) */
		pr_info("%s: the driver has no zero-copy AF_XDP: copy mode\n",
			e->ifname);
		bind = WC_BIND_COPY;
	}
	if (bind != WC_BIND_COPY) {
		err = owner_socket(e, XDP_ZEROCOPY);
		if (!err)
			e->bind_mode = WC_BIND_ZEROCOPY;
		else if (bind == WC_BIND_ZEROCOPY || err == -EBUSY)
			return err;
		else
			pr_info("%s: zero-copy refused (%s), using copy mode\n",
				e->ifname, strerror(-err));
	}
	if (err) {
		err = owner_socket(e, XDP_COPY);
		if (err)
			return err;
		e->bind_mode = WC_BIND_COPY;
	}
	for (unsigned q = 0; q < e->nq; q++) {
		for (unsigned w = 0; w < e->nw; w++) {
			struct wc_sock *s = &e->workers[w].socks[q];
			int shared;

			if (q == 0 && w == 0)
				continue;
			s->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
			if (s->fd < 0)
				return -errno;
			if (w == 0) {
				/* first socket of the queue: its own pool, in
				 * the UMEM registered by socket (0, 0) */
				err = pool_rings_setup(e, &e->pools[q], s->fd);
				if (err)
					return err;
				shared = e->workers[0].socks[0].fd;
			} else {
				/* share the queue's pool and fill ring */
				shared = e->workers[0].socks[q].fd;
			}
			err = sock_rx_setup(e, s);
			if (err)
				return err;
			err = xsk_bind(s->fd, e->ifindex, q, XDP_SHARED_UMEM,
				       shared);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Last step of the start: the pools are full, so the first packet
 * redirected finds a frame; the XDP counters are read first, so that what
 * the program counts from here on and what the sockets count match (a
 * packet seen before the plug is passed or dropped as "no socket" and is
 * counted on both sides of the baseline consistently, see
 * wc_engine__queue_stats). */
static int sockets_plug(struct wc_engine *e)
{
	int xsks_fd = wc_iface__map_fd(e->ifc, WC_MAP_XSKS);

	for (__u32 q = 0; q < WC_MAX_QUEUES; q++)
		if (wc_iface__queue_stats(e->ifc, q, &e->xdp0[q]))
			memset(&e->xdp0[q], 0, sizeof(e->xdp0[q]));
	for (unsigned q = 0; q < e->nq; q++) {
		for (unsigned w = 0; w < e->nw; w++) {
			__u32 key = q * e->nw + w;
			int fd = e->workers[w].socks[q].fd;

			if (bpf_map_update_elem(xsks_fd, &key, &fd, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

/* ---- pools -------------------------------------------------------------- */

int wc_pool_in_use(const struct wc_pool *p, __u64 *in_use)
{
	__u32 prod = __atomic_load_n(p->fq.producer, __ATOMIC_ACQUIRE);
	__u32 cons = __atomic_load_n(p->fq.consumer, __ATOMIC_ACQUIRE);
	__u32 in_ring = prod - cons;

	*in_use = in_ring > p->nframes ? 0 : p->nframes - in_ring;
	return 0;
}

static void pool_kick(struct wc_pool *p)
{
	/* zero-copy drivers sleep when the fill ring ran dry */
	recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	atomic_fetch_add_explicit(&p->kicks, 1, memory_order_relaxed);
}

static int pool_fill(struct wc_engine *e, struct wc_pool *p)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&p->fq, p->nframes, &idx) != p->nframes)
		return -ENOSPC;
	for (__u32 i = 0; i < p->nframes; i++)
		*xsk_ring_prod__fill_addr(&p->fq, idx + i) =
			p->base + (__u64)i * e->frame_size;
	xsk_ring_prod__submit(&p->fq, p->nframes);
	return 0;
}

/* return `n` frames to pool `p`: one lock per pool per chunk */
/* with the pool's lock held */
static void pool_put_locked(struct wc_engine *e, struct wc_pool *p,
			    const __u64 *addr, unsigned n)
{
	__u64 mask = ~((__u64)e->frame_size - 1);
	__u32 idx;

	if (xsk_ring_prod__reserve(&p->fq, n, &idx) != n) {
		/* cannot happen: the fill ring holds the whole pool */
		pr_warn("queue %u: fill ring overflow, %u frames leaked\n",
			p->queue, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&p->fq, idx + i) = addr[i] & mask;
	xsk_ring_prod__submit(&p->fq, n);
	wc_admit_check_locked(e, p);
}

static void pool_put(struct wc_engine *e, struct wc_pool *p, const __u64 *addr,
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

/* tx.c: frames dropped or completed by an egress port go home */
void wc_pool_put(struct wc_engine *e, struct wc_pool *p, const __u64 *addr,
		 unsigned n)
{
	pool_put(e, p, addr, n);
}

/* ---- chunks ------------------------------------------------------------- */

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

static struct wc_chunk *chunk_get(struct wc_worker *w)
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

/* ---- capture ------------------------------------------------------------ */

static inline void chunk_add(struct wc_engine *e, struct wc_worker *w,
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

static void seg_close(struct wc_chunk *c, unsigned q, unsigned start)
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

static void account(struct wc_engine *e, struct wc_worker *w,
		    struct wc_chunk *c, unsigned q, unsigned start)
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

static int descq_push(struct wc_descq *q, const struct xdp_desc *d)
{
	if (q->n == q->cap) {
		unsigned cap = q->cap ? q->cap * 2 : 1024;
		struct xdp_desc *v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (unsigned i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap] = *d;
	q->n++;
	return 0;
}

/* move up to the chunk's room from @dq into @c as one segment of queue q */
static unsigned descq_drain(struct wc_engine *e, struct wc_worker *w,
			    struct wc_chunk *c, struct wc_descq *dq, unsigned q,
			    __s64 off, __u64 *now)
{
	unsigned start = c->n, n = 0;

	while (dq->n && c->n < e->chunk_size) {
		const struct xdp_desc *d = &dq->v[dq->head];

		chunk_add(e, w, c, q, d->addr, d->len, off, now);
		dq->head = (dq->head + 1) % dq->cap;
		dq->n--;
		n++;
	}
	if (n) {
		seg_close(c, q, start);
		account(e, w, c, q, start);
		atomic_fetch_sub_explicit(&w->parked, n, memory_order_relaxed);
	}
	return n;
}

/* `from` has finished what it held when the move began */
static bool from_done(struct wc_engine *e, const struct wc_fence *f)
{
	struct wc_worker *a = &e->workers[f->from];
	__u64 seq = atomic_load(&a->busy_seq);

	if (atomic_load(&f->forced))
		return true;
	if (seq >= f->s0 + ((f->s0 & 1) ? 2 : 1))
		return true;
	/* idle inside a capture that took nothing: holds none of it */
	return (seq & 1) && atomic_load(&a->idle_seq) == seq;
}

static void wake(struct wc_worker *w)
{
	__u64 one = 1;

	if (write(w->wake_efd, &one, sizeof(one)) < 0) {
		/* already pending */
	}
}

static bool fence_live(int st)
{
	return st == WC_FENCE_ARMING || st == WC_FENCE_ARMED ||
	       st == WC_FENCE_RELEASED;
}

/* New owner: the hand-off first (once `from` finished what it held), then
 * after the release, with the hand-off empty, what it parked. The state is
 * read before the hand-off is drained and the fence is freed under its
 * lock: a push by `from` cannot slip in between. */
static void divert_clear(struct wc_worker *w, size_t k, unsigned fi);

static void fenced_deliver(struct wc_engine *e, struct wc_worker *w,
			   struct wc_chunk *c, __s64 off, __u64 *now)
{
	for (unsigned i = 0; i < WC_MAX_FENCES && c->n < e->chunk_size; i++) {
		struct wc_fence *f = &e->fences[i];
		int st = atomic_load(&f->state);

		if (!fence_live(st) || f->to != w->idx || !from_done(e, f))
			continue;
		pthread_mutex_lock(&f->lock);
		st = atomic_load(&f->state);
		descq_drain(e, w, c, &f->hand, f->q, off, now);
		if (st == WC_FENCE_RELEASED && !f->hand.n) {
			descq_drain(e, w, c, &f->park, f->q, off, now);
			if (!f->park.n) {
				__u16 me = i + 1;

				if (atomic_compare_exchange_strong(
					    &w->hold[(size_t)f->q * e->buckets +
						     f->b],
					    &me, 0))
					atomic_fetch_sub(&w->nholds, 1);
				/* a forced release: the old owner may not have
				 * cleared its divert entry (it is stuck, or
				 * gone); no one else would once the fence is free */
				divert_clear(&e->workers[f->from],
					     (size_t)f->q * e->buckets + f->b,
					     i);
				atomic_store(&f->state, WC_FENCE_FREE);
			}
		}
		pthread_mutex_unlock(&f->lock);
	}
}

/* clear w's divert entry k if it still names fence fi */
static void divert_clear(struct wc_worker *w, size_t k, unsigned fi)
{
	__u16 me = fi + 1;

	if (atomic_compare_exchange_strong(&w->divert[k], &me, 0))
		atomic_fetch_sub(&w->ndiverts, 1);
}

/* Old owner: once its ring consumer passed pos, every old packet of the
 * bucket is in the hand-off queue: release. Entries of fences released by
 * force (stop, timeout, stuck) are cleared too. */
static void fences_check(struct wc_engine *e, struct wc_worker *w)
{
	if (!atomic_load_explicit(&e->fences_active, memory_order_acquire) &&
	    !atomic_load_explicit(&w->ndiverts, memory_order_acquire))
		return;
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		struct wc_fence *f = &e->fences[i];
		int st = atomic_load(&f->state);
		__u32 cons;

		if (!fence_live(st) || f->from != w->idx)
			continue;
		if (st == WC_FENCE_RELEASED) {
			if (atomic_load(&f->forced))
				divert_clear(
					w, (size_t)f->q * e->buckets + f->b, i);
			continue;
		}
		if (st != WC_FENCE_ARMED)
			continue;
		cons = __atomic_load_n(w->socks[f->q].rx.consumer,
				       __ATOMIC_ACQUIRE);
		if ((__s32)(cons - f->pos) < 0)
			continue;
		divert_clear(w, (size_t)f->q * e->buckets + f->b, i);
		if (atomic_compare_exchange_strong(&f->state, &st,
						   WC_FENCE_RELEASED)) {
			atomic_fetch_sub(&e->fences_active, 1);
			wake(&e->workers[f->to]);
		}
	}
}

/* Release every fence not free: the new owners deliver what they hold
 * (stop, or a stuck old owner). Returns how many were forced. */
void wc_fences_force_release(struct wc_engine *e)
{
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		struct wc_fence *f = &e->fences[i];
		int st = atomic_load(&f->state);

		while (st != WC_FENCE_FREE && st != WC_FENCE_RELEASED) {
			atomic_store(&f->forced, true);
			if (atomic_compare_exchange_strong(&f->state, &st,
							   WC_FENCE_RELEASED)) {
				if (st == WC_FENCE_ARMED)
					atomic_fetch_sub(&e->fences_active, 1);
				if (st != WC_FENCE_RESERVED)
					wake(&e->workers[f->to]);
				break;
			}
		}
		if (st == WC_FENCE_RELEASED)
			atomic_store(&f->forced, true);
	}
}

/* Hand the diverted descriptors of one gather to their fences, one lock
 * per fence per batch. A fence released by force (or freed) meanwhile no
 * longer takes them: they go into the old owner's own chunk (there is
 * room: diverted descriptors took none). */
static void divert_flush(struct wc_engine *e, struct wc_worker *w,
			 struct wc_chunk *c, unsigned n, unsigned q, __s64 off,
			 __u64 *now)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned fi = w->divbuf[i].fence, moved = 0;
		struct wc_fence *f;
		bool ok;
		int st;

		if (fi == UINT32_MAX)
			continue;
		f = &e->fences[fi];
		pthread_mutex_lock(&f->lock);
		st = atomic_load(&f->state);
		ok = (st == WC_FENCE_RESERVED || st == WC_FENCE_ARMING ||
		      st == WC_FENCE_ARMED) &&
		     !atomic_load(&f->forced) && f->from == w->idx &&
		     f->q == q && f->b == w->divbuf[i].bucket;
		for (unsigned j = i; j < n; j++) {
			if (w->divbuf[j].fence != fi)
				continue;
			if (ok && !descq_push(&f->hand, &w->divbuf[j].d))
				moved++;
			else
				chunk_add(e, w, c, q, w->divbuf[j].d.addr,
					  w->divbuf[j].d.len, off, now);
			w->divbuf[j].fence = UINT32_MAX;
		}
		if (moved)
			atomic_fetch_add(&e->workers[f->to].parked, moved);
		pthread_mutex_unlock(&f->lock);
		if (moved)
			wake(&e->workers[f->to]);
	}
}

/* Move what the worker's RX rings hold (up to the chunk's room) into the
 * chunk. Descriptors only: no packet is copied. */
static void gather(struct wc_worker *w, struct wc_chunk *c)
{
	struct wc_engine *e = w->e;
	const size_t msz = sizeof(struct wc_meta);
	__s64 off = atomic_load_explicit(&e->rt_off, memory_order_relaxed);
	const bool meta = e->ifc->cfg.meta_enabled;
	__u64 now = 0;

	if (atomic_load_explicit(&w->nholds, memory_order_acquire))
		fenced_deliver(e, w, c, off, &now);
	for (unsigned i = 0; i < e->nq && c->n < e->chunk_size; i++) {
		unsigned q = (w->rr + i) % e->nq, start = c->n, ndiv = 0;
		struct wc_sock *s = &w->socks[q];
		bool holds, diverts;
		__u32 idx, n;

		n = xsk_ring_cons__peek(&s->rx, e->chunk_size - c->n, &idx);
		if (!n)
			continue;
		/* after the peek (its acquire): a packet steered by a move
		 * finds the move's hold already visible */
		holds = atomic_load_explicit(&w->nholds, memory_order_acquire) >
			0;
		diverts = atomic_load_explicit(&w->ndiverts,
					       memory_order_acquire) > 0;
		/* the metadata lies in the packet's frame: one cache miss per
		 * packet, taken in parallel rather than one after the other */
		for (__u32 k = 0; k < n; k++)
			__builtin_prefetch(
				(char *)e->umem +
				xsk_ring_cons__rx_desc(&s->rx, idx + k)->addr);
		for (__u32 k = 0; k < n; k++) {
			struct xdp_desc nd =
				*xsk_ring_cons__rx_desc(&s->rx, idx + k);
			const struct xdp_desc *d = &nd;
			const struct wc_meta *m;

			/* the XDP program put the metadata in front of the
			 * packet, inside the received data: from here on the
			 * descriptor names the packet, the metadata lies just
			 * before it (bpf/wirecap.bpf.c) */
			if (meta && nd.len >= msz) {
				nd.addr += msz;
				nd.len -= msz;
			}
			m = (const void *)((char *)e->umem + d->addr - msz);

			/* moves in progress: only then look at the bucket */
			if ((holds || diverts) && e->ifc->cfg.meta_enabled &&
			    (d->addr & (e->frame_size - 1)) >= msz &&
			    m->queue == q && m->worker == w->idx &&
			    m->bucket < e->buckets) {
				size_t key = (size_t)q * e->buckets + m->bucket;
				__u16 h;

				if (diverts &&
				    (h = atomic_load(&w->divert[key]))) {
					struct wc_fence *f = &e->fences[h - 1];
					int st = atomic_load(&f->state);

					if ((st == WC_FENCE_RESERVED ||
					     st == WC_FENCE_ARMING ||
					     st == WC_FENCE_ARMED) &&
					    f->from == w->idx && f->q == q &&
					    f->b == m->bucket) {
						w->divbuf[ndiv].fence = h - 1;
						w->divbuf[ndiv].bucket =
							m->bucket;
						w->divbuf[ndiv].d = *d;
						ndiv++;
						continue;
					}
					if (st == WC_FENCE_RELEASED &&
					    !atomic_load(&f->forced))
						/* steered before the switch, landed after
						 * the grace period: order not guaranteed */
						atomic_fetch_add(&e->fence_late,
								 1);
					divert_clear(w, key, h - 1);
				}
				if (holds && (h = atomic_load(&w->hold[key]))) {
					struct wc_fence *f = &e->fences[h - 1];

					if (fence_live(
						    atomic_load(&f->state)) &&
					    f->to == w->idx && f->q == q &&
					    f->b == m->bucket &&
					    !descq_push(&f->park, d)) {
						atomic_fetch_add_explicit(
							&w->parked, 1,
							memory_order_relaxed);
						continue;
					}
				}
			}
			chunk_add(e, w, c, q, d->addr, d->len, off, &now);
		}
		/* diverted packets reach the hand-off before the consumer moves:
		 * a release seen by the new owner means all of them are there */
		if (ndiv)
			divert_flush(e, w, c, ndiv, q, off, &now);
		xsk_ring_cons__release(&s->rx, n);
		seg_close(c, q, start);
		if (c->n > start)
			account(e, w, c, q, start);
	}
	fences_check(e, w);
	w->rr = (w->rr + 1) % e->nq;
}

static void busy_poll_kick(struct wc_worker *w)
{
	/* drives NAPI from this thread (SO_PREFER_BUSY_POLL) */
	for (unsigned q = 0; q < w->e->nq; q++)
		recvfrom(w->socks[q].fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Sleep until a socket is readable, stop, or timeout; -ENETDOWN on a
 * socket error (device gone). */
static int wait_readable(struct wc_worker *w, int timeout_ms)
{
	struct wc_engine *e = w->e;
	struct pollfd pfd[WC_MAX_QUEUES + 2];
	int n;

	for (unsigned q = 0; q < e->nq; q++) {
		pfd[q].fd = w->socks[q].fd;
		pfd[q].events = POLLIN;
		pfd[q].revents = 0;
	}
	pfd[e->nq].fd = e->stop_efd;
	pfd[e->nq].events = POLLIN;
	pfd[e->nq].revents = 0;
	pfd[e->nq + 1].fd = w->wake_efd;
	pfd[e->nq + 1].events = POLLIN;
	pfd[e->nq + 1].revents = 0;
	n = poll(pfd, e->nq + 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd[e->nq + 1].revents & POLLIN) {
		__u64 v;

		if (read(w->wake_efd, &v, sizeof(v)) < 0) {
			/* nothing pending: fine */
		}
	}
	for (unsigned q = 0; q < e->nq && n > 0; q++)
		if (pfd[q].revents & (POLLERR | POLLHUP | POLLNVAL))
			return -ENETDOWN;
	return 0;
}

static void sleep_us(__u64 us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* After stop: take the sockets out of the XSKMAP so no new packet is
 * steered to them, and give redirects already under way time to land
 * (they are flushed at the end of the NAPI poll that made them). The
 * workers then drain their rings: a stop loses nothing that was queued. */
static int xsk_stats(int fd, struct xdp_statistics *st);

/* Every frame the program redirected to queue q (since the plug) is in a
 * ring or was dropped by its socket: the program counts a redirect before
 * the frame reaches the socket, and deleting the XSKMAP entries does not
 * wait for NAPI polls that already looked a socket up. */
static bool queue_landed(struct wc_engine *e, unsigned q)
{
	struct wc_queue_stats a, b;
	__u32 landed = 0;

	if (wc_engine__queue_stats(e, q, &a))
		return true; /* cannot tell: do not hold the stop */
	for (unsigned w = 0; w < e->nw; w++) {
		struct wc_sock *s = &e->workers[w].socks[q];
		struct xdp_statistics st;

		/* the producer counts every descriptor posted since bind */
		landed += __atomic_load_n(s->rx.producer, __ATOMIC_ACQUIRE);
		if (!xsk_stats(s->fd, &st))
			landed += (__u32)(st.rx_dropped + st.rx_ring_full);
	}
	if (wc_engine__queue_stats(e, q, &b))
		return true;
	return a.redirected == b.redirected && (__u32)b.redirected == landed;
}

static void engine_unplug(struct wc_engine *e)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_XSKS);

	if (atomic_exchange(&e->unplugged, 1)) {
		for (int i = 0; i < 1000 && !atomic_load(&e->unplug_done); i++)
			sleep_us(1000);
		return;
	}
	for (__u32 k = 0; fd >= 0 && k < e->nq * e->nw; k++)
		bpf_map_delete_elem(fd, &k);
	/* until what is in flight has landed; bounded (a stalled NAPI, e.g.
	 * an emulated CPU): what lands later shows as unaccounted */
	for (int i = 0; i < 500; i++) {
		unsigned q;

		sleep_us(2000);
		for (q = 0; q < e->nq && queue_landed(e, q); q++)
			;
		if (q == e->nq)
			break;
	}
	/* nothing new arrives: parked packets may go (order across workers
	 * is best effort from here on) */
	wc_fences_force_release(e);
	atomic_store(&e->unplug_done, 1);
}

WC_API int wc_worker__capture(struct wc_worker *w, struct wc_chunk **chunk,
			      int timeout_ms)
{
	struct wc_engine *e;
	struct wc_chunk *c;
	__u64 start, deadline, first = 0, tmo_ns;
	int err = 0;

	if (!w || !chunk)
		return -EINVAL;
	*chunk = NULL;
	e = w->e;
	c = chunk_get(w);
	if (!c)
		return -ENOBUFS;
	atomic_fetch_add(&w->busy_seq, 1); /* odd: inside capture */
	start = wc_now_mono();
	atomic_store_explicit(&w->last_active_ns, start, memory_order_relaxed);
	deadline = timeout_ms < 0 ? UINT64_MAX :
				    start + (__u64)timeout_ms * 1000000ull;
	tmo_ns = (__u64)e->chunk_timeout_us * 1000;
	for (;;) {
		__u64 now;

		if (atomic_load_explicit(&e->stop, memory_order_relaxed)) {
			/* drain: what is queued is delivered, then -EINTR; a
			 * new owner still holding packets of a move waits for
			 * them (bounded) */
			engine_unplug(e);
			gather(w, c);
			if (c->n)
				break;
			if (atomic_load(&w->parked) &&
			    wc_now_mono() - start < 5000000000ull) {
				sleep_us(100);
				continue;
			}
			if (atomic_load(&w->parked))
				pr_warn("worker %u: %llu packets of a bucket move not delivered at stop\n",
					w->idx,
					(unsigned long long)atomic_load(
						&w->parked));
			err = -EINTR;
			break;
		}
		if (e->wait == WC_WAIT_BUSY_POLL)
			busy_poll_kick(w);
		atomic_store(&w->idle_seq, 0);
		gather(w, c);
		if (c->n >= e->chunk_size)
			break;
		if (atomic_load_explicit(&e->dev_gone, memory_order_relaxed) &&
		    !c->n) {
			err = -ENETDOWN;
			break;
		}
		now = wc_now_mono();
		if (c->n) {
			if (!first)
				first = now;
			if (e->wait != WC_WAIT_CHUNK || now - first >= tmo_ns ||
			    now >= deadline)
				break;
			/* let the chunk fill: one sleep for the rest of the
			 * chunk timeout, not a wake-up per packet (the rings
			 * hold what comes meanwhile) */
			sleep_us((first + tmo_ns - now) / 1000 + 1);
			continue;
		}
		if (now >= deadline)
			break;
		if (e->wait == WC_WAIT_BUSY_POLL) {
			atomic_store(&w->idle_seq, atomic_load(&w->busy_seq));
			continue;
		}
		if (atomic_load(&w->parked)) {
			/* waiting for an old owner during a move: a short
			 * sleep, not a wake-up per parked packet */
			sleep_us(e->chunk_timeout_us / 8 + 1);
			continue;
		}
		/* nothing taken in this call: a new owner waiting for us may go */
		atomic_store(&w->idle_seq, atomic_load(&w->busy_seq));
		fences_check(e, w);
		{
			__u64 left_ms =
				deadline == UINT64_MAX ?
					100 :
					(deadline - now + 999999) / 1000000;

			err = wait_readable(w,
					    left_ms > 100 ? 100 : (int)left_ms);
			if (err)
				break;
		}
	}
	atomic_store_explicit(&w->last_active_ns, wc_now_mono(),
			      memory_order_relaxed);
	atomic_fetch_add(&w->busy_seq, 1);
	if (!c->n) {
		c->next = w->free;
		w->free = c;
		return err;
	}
	atomic_fetch_add_explicit(&w->packets, c->n, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->chunks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->held_frames, c->n, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->held_chunks, 1, memory_order_relaxed);
	*chunk = c;
	return (int)c->n;
}

/* ---- open / close ------------------------------------------------------- */

static int has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3
	};
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return 0;
	return !!(d[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32)));
}

/* /proc/meminfo field @key ("MemAvailable"), in bytes; 0 if unknown */
static __u64 meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t klen = strlen(key);
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%llu", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* "64 KiB", "12 MiB": a limit below 1 MiB is not "0 MiB" */
static const char *size_str(__u64 bytes, char *buf, size_t len)
{
	if (bytes < (1u << 20))
		snprintf(buf, len, "%llu KiB", (unsigned long long)bytes >> 10);
	else
		snprintf(buf, len, "%llu MiB", (unsigned long long)bytes >> 20);
	return buf;
}

/*
 * The memory a pool must leave the machine. Pinned pages cannot be
 * reclaimed: a pool that takes nearly all of MemAvailable makes the kernel
 * reclaim everything else and then the OOM killer end a process (wirecap,
 * after 40 s of pinning, with its XDP program left attached; or another
 * one). What must stay free: the kernel's receive path (skbs and the
 * copies of copy mode), the page cache the capture file is written
 * through, and the other processes' growth: 5% of the RAM, at least
 * 256 MiB. The pools may take MemAvailable less that.
 */
#define MEM_RESERVE_MIN (256ull << 20)
#define MEM_RESERVE_DIV 20

static __u64 mem_reserve(void)
{
	__u64 r = meminfo("MemTotal") / MEM_RESERVE_DIV;

	return r > MEM_RESERVE_MIN ? r : MEM_RESERVE_MIN;
}

static bool cancelled(const volatile int *cancel)
{
	return cancel && *cancel;
}

/*
 * Fault the UMEM in, a slice at a time, checking @cancel between slices:
 * the registration (XDP_UMEM_REG) would otherwise fault in and zero every
 * page inside one system call that only a fatal signal interrupts (3.5 s
 * for 2 GiB here, 40 s for 23 GiB). It then only pins present pages.
 * Zeroing is most of the start's CPU time: the slices are shared by one
 * thread per online CPU (at most POPULATE_THREADS).
 */
#define POPULATE_SLICE (32ul << 20)
#define POPULATE_THREADS 8

struct populate {
	char *p;
	size_t len;
	const volatile int *cancel;
	_Atomic size_t next; /* offset of the next slice to take */
	_Atomic int err;
};

static void *populate_slices(void *arg)
{
	struct populate *pp = arg;

	while (!atomic_load(&pp->err)) {
		size_t off = atomic_fetch_add(&pp->next, POPULATE_SLICE), n;

		if (off >= pp->len)
			break;
		if (cancelled(pp->cancel)) {
			atomic_store(&pp->err, -EINTR);
			break;
		}
		n = pp->len - off < POPULATE_SLICE ? pp->len - off :
						     POPULATE_SLICE;
		if (!madvise(pp->p + off, n, MADV_POPULATE_WRITE))
			continue;
		if (errno == ENOMEM || errno == EFAULT) {
			atomic_store(&pp->err, -ENOMEM);
			break;
		}
		/* before 5.14 (EINVAL): touch a byte of every page */
		for (size_t i = 0; i < n; i += 4096)
			pp->p[off + i] = 0;
	}
	return NULL;
}

static int umem_populate(struct wc_engine *e, const volatile int *cancel)
{
	struct populate pp = { .p = e->umem,
			       .len = e->umem_len,
			       .cancel = cancel };
	pthread_t th[POPULATE_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 0;

	if (ncpu > POPULATE_THREADS)
		ncpu = POPULATE_THREADS;
	for (long i = 1; i < ncpu && e->umem_len > POPULATE_SLICE * i; i++)
		if (!pthread_create(&th[n], NULL, populate_slices, &pp))
			n++;
	populate_slices(&pp);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&pp.err))
		return atomic_load(&pp.err);
	return cancelled(cancel) ? -EINTR : 0;
}

static int umem_alloc(struct wc_engine *e, enum wc_huge_mode huge,
		      const volatile int *cancel)
{
	size_t len = e->umem_len,
	       hlen = (len + (2u << 20) - 1) & ~((size_t)(2u << 20) - 1);
	struct rlimit rl;
	__u64 avail, reserve;
	char b1[32];
	int err;

	if (!has_cap_ipc_lock() && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < len) {
		pr_warn("the pools need %zu MiB of locked memory but RLIMIT_MEMLOCK is %s: raise it (ulimit -l) or use smaller pools\n",
			len >> 20, size_str(rl.rlim_cur, b1, sizeof(b1)));
		return -ENOMEM;
	}
	avail = meminfo("MemAvailable");
	reserve = mem_reserve();
	if (avail && len + reserve > avail) {
		pr_warn("the pools need %zu MiB but at most %llu MiB may be pinned (%llu MiB available, %llu MiB kept free: 5%% of the RAM, at least 256 MiB): use smaller pools (fewer chunks, or a smaller chunk_size)\n",
			len >> 20,
			(unsigned long long)(avail > reserve ? avail - reserve :
							       0) >>
				20,
			(unsigned long long)avail >> 20,
			(unsigned long long)reserve >> 20);
		return -ENOMEM;
	}
	if (huge != WC_HUGE_OFF) {
		e->umem =
			mmap(NULL, hlen, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (e->umem != MAP_FAILED) {
			e->umem_len = hlen;
			e->huge = WC_PAGES_HUGETLB;
			goto populate;
		}
		if (huge == WC_HUGE_REQUIRE) {
			pr_warn("no huge pages for %zu MiB (reserve them: sysctl vm.nr_hugepages=%zu)\n",
				hlen >> 20, hlen >> 21);
			e->umem = NULL;
			return -ENOMEM;
		}
		pr_info("huge pages not reserved: using normal pages with transparent huge pages\n");
	}
	e->umem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->umem == MAP_FAILED) {
		e->umem = NULL;
		return -ENOMEM;
	}
	e->huge = WC_PAGES_NORMAL;
	/* Transparent huge pages only where they pay: zero-copy drivers map
	 * the UMEM for DMA page by page, and fewer pages map faster. In copy
	 * mode the kernel copies through its own mapping, and faulting in
	 * 2 MiB pages costs compaction when memory is fragmented: 1.5 GiB
	 * took 35 s under memory pressure here (4 KiB pages: see
	 * docs/pool.md). */
	if (huge != WC_HUGE_OFF && e->zc_capable &&
	    !madvise(e->umem, len, MADV_HUGEPAGE))
		e->huge = WC_PAGES_THP;
populate:
	err = umem_populate(e, cancel);
	if (err == -ENOMEM)
		pr_warn("cannot fault in the pools' %zu MiB: out of memory: use smaller pools (fewer chunks, or a smaller chunk_size)\n",
			e->umem_len >> 20);
	return err;
}

static int size_pools(struct wc_engine *e, const struct wc_engine_opts *o)
{
	__u32 cs = WC_OPTS_GET(o, chunk_size, 0),
	      chunks = WC_OPTS_GET(o, chunks, 0);
	__u32 fs = WC_OPTS_GET(o, frame_size, 0),
	      rx = WC_OPTS_GET(o, rx_ring_size, 0);
	struct sysinfo si;
	__u64 cap, per_queue;

	fs = fs ? fs : 2048;
	if (fs != 2048 && fs != 4096) {
		pr_warn("frame size must be 2048 or 4096, not %u\n", fs);
		return -EINVAL;
	}
	cs = cs ? cs : DEFAULT_CHUNK_SIZE;
	if (cs > MAX_CHUNK_SIZE) {
		pr_warn("chunk size must be 1..%d, not %u\n", MAX_CHUNK_SIZE,
			cs);
		return -EINVAL;
	}
	if (o && WC_OPTS_GET(o, umem_of, NULL)) {
		/* a guest takes the owner's geometry */
		struct wc_engine *own = WC_OPTS_GET(o, umem_of, NULL);

		if (own->umem_owner || own->umem_guest ||
		    e->nq > own->guest_queues) {
			pr_warn("%s: cannot live in the UMEM of %s: %s\n",
				e->ifname, own->ifname,
				own->umem_owner || own->umem_guest ?
					"it already shares its UMEM" :
					"it reserved no room for that many queues (guest_queues)");
			return -EINVAL;
		}
		e->umem_owner = own;
		e->frame_size = own->frame_size;
		e->chunk_size = own->chunk_size;
		e->chunks = own->chunks;
		e->fq_size = own->fq_size;
		e->cq_size = own->cq_size;
		e->rx_size = rx && !(rx & (rx - 1)) ? rx : own->rx_size;
		e->tx_frames = own->tx_frames;
		e->tx_base =
			own->tx_base + (__u64)own->tx_frames * own->frame_size;
		return 0;
	}
	e->tx_frames = WC_OPTS_GET(o, tx_frames, 0);
	e->guest_queues = WC_OPTS_GET(o, guest_queues, 0);
	if (e->guest_queues > WC_MAX_QUEUES) {
		pr_warn("guest_queues must be at most %d\n", WC_MAX_QUEUES);
		return -EINVAL;
	}
	if (!chunks) {
		chunks = (DEFAULT_BURST_FRAMES + cs - 1) / cs;
		/* a modest share of the machine: at most 1/8 of its memory */
		if (!sysinfo(&si)) {
			cap = (__u64)si.totalram * si.mem_unit / 8;
			per_queue = cap / (e->nq + e->guest_queues) / fs;
			if ((__u64)chunks * cs > per_queue)
				chunks = per_queue / cs;
		}
		if (chunks < 2)
			chunks = 2;
		pr_info("pool: %u chunks x %u frames x %u B per queue (%llu MiB for %u queues)\n",
			chunks, cs, fs,
			(unsigned long long)((__u64)chunks * cs * fs * e->nq) >>
				20,
			e->nq);
	}
	if ((__u64)chunks * cs > MAX_RING) {
		pr_warn("a pool holds at most %u frames (chunks x chunk size)\n",
			MAX_RING);
		return -EINVAL;
	}
	if ((__u64)chunks * cs < cs * 2) {
		pr_warn("a pool needs at least two chunks\n");
		return -EINVAL;
	}
	e->frame_size = fs;
	e->chunk_size = cs;
	e->chunks = chunks;
	e->fq_size = wc_pow2_at_least((__u64)chunks * cs);
	e->cq_size = 2048;
	if (rx && (rx & (rx - 1))) {
		pr_warn("rx ring size must be a power of two, not %u\n", rx);
		return -EINVAL;
	}
	/* the pool, not a ring, is what runs out */
	e->rx_size = rx ? rx : e->fq_size;
	e->umem_len = (size_t)e->nq * chunks * cs * fs;
	/* [pools][guest pools][tx area][guest tx area] */
	e->guest_base = e->umem_len;
	e->umem_len += (size_t)e->guest_queues * chunks * cs * fs;
	e->tx_base = e->umem_len;
	e->umem_len += (size_t)e->tx_frames * fs * (e->guest_queues ? 2 : 1);
	return 0;
}

static void engine_free(struct wc_engine *e)
{
	if (!e)
		return;
	if (e->workers) {
		for (unsigned w = 0; w < e->nw; w++) {
			struct wc_worker *wk = &e->workers[w];
			struct wc_chunk *c, *n;

			for (unsigned q = 0; wk->socks && q < e->nq; q++)
				sock_close(&wk->socks[q]);
			free(wk->socks);
			free((void *)wk->hold);
			free((void *)wk->divert);
			free(wk->divbuf);
			if (wk->wake_efd >= 0)
				close(wk->wake_efd);
			free((void *)wk->qpackets);
			free((void *)wk->qbytes);
			for (int pass = 0; pass < 2; pass++) {
				c = pass ? atomic_load(&wk->returned) :
					   wk->free;
				for (; c; c = n) {
					n = c->next;
					free(c->seg);
					free(c->addr);
					free(c);
				}
			}
		}
		free(e->workers);
	}
	if (e->pools) {
		for (unsigned q = 0; q < e->nq; q++) {
			pool_unmap(&e->pools[q]);
			pthread_mutex_destroy(&e->pools[q].lock);
		}
		free(e->pools);
	}
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		free(e->fences[i].park.v);
		free(e->fences[i].hand.v);
		pthread_mutex_destroy(&e->fences[i].lock);
	}
	if (e->umem_owner) {
		if (e->umem_owner->umem_guest == e)
			e->umem_owner->umem_guest = NULL;
	} else if (e->umem) {
		if (e->umem_guest)
			pr_warn("%s: closed before %s, which lives in its UMEM\n",
				e->ifname, e->umem_guest->ifname);
		munmap(e->umem, e->umem_len);
	}
	if (e->stop_efd >= 0)
		close(e->stop_efd);
	wc_link_close(e);
	pthread_mutex_destroy(&e->link.lock);
	pthread_mutex_destroy(&e->stats_lock);
	free(e);
}

static int engine_claim(struct wc_engine *e)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_ENGINE);
	struct wc_engine_info info = {};
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	if (!bpf_map_lookup_elem(fd, &zero, &info) && info.pid &&
	    info.pid != (__u32)getpid() && !kill(info.pid, 0)) {
		pr_warn("%s: a capture engine already runs on it (pid %u)\n",
			e->ifname, info.pid);
		return -EBUSY;
	}
	return 0;
}

/* An attachment's queues, workers and buckets are fixed: an engine that
 * asks for others is refused in one line, never silently given the
 * attachment's; the attach options apply only when the engine attaches. */
static int geometry_check(const struct wc_iface *ifc,
			  const struct wc_engine_opts *o,
			  const struct wc_attach_opts *ao)
{
	const struct {
		const char *what;
		__u32 want, attach, have;
	} g[] = {
		{ "rx queues", WC_OPTS_GET(o, queues, 0),
		  WC_OPTS_GET(ao, queues, 0), ifc->cfg.queues },
		{ "workers", WC_OPTS_GET(o, workers, 0),
		  WC_OPTS_GET(ao, workers, 0), ifc->cfg.workers },
		{ "buckets", WC_OPTS_GET(o, buckets, 0),
		  WC_OPTS_GET(ao, buckets, 0), ifc->cfg.buckets },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		if (g[i].want && g[i].want != g[i].have) {
			pr_warn("%s: attached with %u %s, not %u: detach it first, or open the engine with %s 0 (the attachment's)\n",
				ifc->ifname, g[i].have, g[i].what, g[i].want,
				g[i].what);
			return -EEXIST;
		}
		if (!g[i].want && g[i].attach && g[i].attach != g[i].have)
			pr_info("%s: attached with %u %s: the attach option of %u applies only when the engine attaches\n",
				ifc->ifname, g[i].have, g[i].what, g[i].attach);
	}
	return 0;
}

WC_API struct wc_engine *wc_engine__open(const char *ifname,
					 const struct wc_engine_opts *o)
{
	const struct wc_attach_opts *ao = WC_OPTS_GET(o, attach, NULL);
	const char *pin_root = WC_OPTS_GET(o, pin_root, NULL);
	const volatile int *cancel = WC_OPTS_GET(o, cancel, NULL);
	struct wc_engine *e;
	int err;

	if (!WC_OPTS_VALID(o, wc_engine_opts) ||
	    !WC_OPTS_VALID(ao, wc_attach_opts) ||
	    !WC_OPTS_VALID(WC_OPTS_GET(o, filter, NULL), wc_filter_opts)) {
		errno = EINVAL;
		return NULL;
	}
	err = wc_kernel_check();
	if (err) {
		errno = -err;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->stop_efd = -1;
	e->link.nl_fd = -1;
	pthread_mutex_init(&e->link.lock, NULL);
	pthread_mutex_init(&e->stats_lock, NULL);
	for (unsigned i = 0; i < WC_MAX_FENCES; i++)
		pthread_mutex_init(&e->fences[i].lock, NULL);
	e->ifc = wc_iface__open(ifname, pin_root);
	if (!e->ifc && errno == ENOENT) {
		WC_OPTS(wc_attach_opts, def);

		/* the caller's options (as far as its struct goes), held by a
		 * BPF link: the attachment dies with the engine, even killed */
		if (ao)
			memcpy(&def, ao,
			       ao->sz < sizeof(def) ? ao->sz : sizeof(def));
		def.sz = sizeof(def);
		def.transient = true;
		/* the engine's own geometry, when asked, over attach's */
		if (WC_OPTS_GET(o, queues, 0))
			def.queues = o->queues;
		if (WC_OPTS_GET(o, workers, 0))
			def.workers = o->workers;
		if (WC_OPTS_GET(o, buckets, 0))
			def.buckets = o->buckets;
		if (pin_root && !def.pin_root)
			def.pin_root = pin_root;
		e->ifc = wc_iface__attach(ifname, &def);
		e->own_attach = e->ifc != NULL;
	}
	if (!e->ifc) {
		err = -errno;
		goto fail;
	}
	err = geometry_check(e->ifc, o, ao);
	if (err)
		goto fail;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	e->ifindex = e->ifc->ifindex;
	e->nq = e->ifc->cfg.queues;
	e->nw = e->ifc->cfg.workers;
	{
		uint64_t f;

		e->zc_capable = wc_netdev_xdp_features(e->ifindex, &f) ?
					-1 :
					!!(f & WC_XDP_ACT_XSK_ZEROCOPY);
	}
	e->buckets = e->ifc->cfg.buckets;
	err = engine_claim(e);
	if (err)
		goto fail;
	if (WC_OPTS_GET(o, filter, NULL)) {
		/* before any socket: every packet the engine accounts for
		 * was judged by it */
		err = wc_filter_save(e->ifc, &e->prev_filter);
		if (!err)
			err = wc_iface__set_filter(e->ifc, o->filter);
		if (err) {
			if (e->prev_filter.fd >= 0)
				close(e->prev_filter.fd);
			goto fail;
		}
		e->own_filter = true;
	}
	e->wait = WC_OPTS_GET(o, wait, WC_WAIT_CHUNK);
	e->chunk_timeout_us = WC_OPTS_GET(o, chunk_timeout_us, 0);
	if (!e->chunk_timeout_us)
		e->chunk_timeout_us = 1000;
	e->busy_budget = WC_OPTS_GET(o, busy_poll_budget, 0);
	if (!e->busy_budget)
		e->busy_budget = 64;
	err = cancelled(cancel) ? -EINTR : size_pools(e, o);
	if (err)
		goto fail;
	if (e->umem_owner) {
		e->umem = e->umem_owner->umem;
		e->umem_len = e->umem_owner->umem_len;
		e->huge = e->umem_owner->huge;
		err = 0;
	} else {
		err = umem_alloc(e, WC_OPTS_GET(o, huge_pages, WC_HUGE_AUTO),
				 cancel);
	}
	if (err)
		goto fail;
	e->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->pools = calloc(e->nq, sizeof(*e->pools));
	e->workers = calloc(e->nw, sizeof(*e->workers));
	if (e->stop_efd < 0 || !e->pools || !e->workers) {
		err = -ENOMEM;
		goto fail;
	}
	for (unsigned q = 0; q < e->nq; q++) {
		struct wc_pool *p = &e->pools[q];

		pthread_mutex_init(&p->lock, NULL);
		p->queue = q;
		p->nframes = e->chunks * e->chunk_size;
		p->base = (__u64)q * p->nframes * e->frame_size;
		if (e->umem_owner)
			p->base += e->umem_owner->guest_base;
		p->fd = -1;
	}
	for (unsigned w = 0; w < e->nw; w++) {
		struct wc_worker *wk = &e->workers[w];

		wk->e = e;
		wk->idx = w;
		atomic_store(&wk->cpu, -1);
		wk->socks = calloc(e->nq, sizeof(*wk->socks));
		for (unsigned q = 0; wk->socks && q < e->nq; q++)
			wk->socks[q].fd = -1;
		wk->wake_efd = -1;
		wk->qpackets = calloc(e->nq, sizeof(*wk->qpackets));
		wk->qbytes = calloc(e->nq, sizeof(*wk->qbytes));
		wk->hold =
			calloc((size_t)e->nq * e->buckets, sizeof(*wk->hold));
		wk->divert =
			calloc((size_t)e->nq * e->buckets, sizeof(*wk->divert));
		wk->divbuf = calloc(e->chunk_size, sizeof(*wk->divbuf));
		wk->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!wk->socks || !wk->qpackets || !wk->qbytes || !wk->hold ||
		    !wk->divert || !wk->divbuf || wk->wake_efd < 0) {
			err = -ENOMEM;
			goto fail;
		}
		for (unsigned q = 0; q < e->nq; q++) {
			wk->socks[q].fd = -1;
			wk->socks[q].queue = q;
		}
	}
	err = cancelled(cancel) ?
		      -EINTR :
		      sockets_setup(e, WC_OPTS_GET(o, bind, WC_BIND_AUTO));
	if (err) {
		if (err == -EINTR)
			; /* cancelled: the caller knows */
		else if (err == -EBUSY)
			pr_warn("%s: a queue is busy: another AF_XDP socket (another capture?) is bound to it\n",
				ifname);
		else if ((err == -ENOMEM || err == -ENOBUFS) &&
			 !wc_kernel_has(WC_KF_RING_VMALLOC))
			/* before 6.3 the kernel allocates each ring as one
			 * physically contiguous block (a 262144-entry RX ring
			 * is an order-10 allocation): fragmentation fails it */
			pr_warn("%s: cannot set up the sockets: %s (rings of %u entries: kernels before 6.3 need each ring physically contiguous; try an rx_ring_size of 32768 or a smaller pool)\n",
				ifname, strerror(-err), e->rx_size);
		else if (err == -ENOMEM || err == -ENOBUFS)
			pr_warn("%s: cannot set up the sockets: %s (rings of %u entries, %zu MiB UMEM)\n",
				ifname, strerror(-err), e->rx_size,
				e->umem_len >> 20);
		else if (err == -EOPNOTSUPP &&
			 WC_OPTS_GET(o, bind, WC_BIND_AUTO) == WC_BIND_ZEROCOPY)
			pr_warn("%s: the driver has no zero-copy AF_XDP: bind WC_BIND_AUTO (falls back to copy mode) or WC_BIND_COPY\n",
				ifname);
		else
			pr_warn("%s: cannot set up AF_XDP sockets: %s\n",
				ifname, strerror(-err));
		goto fail;
	}
	if (e->umem_owner)
		e->umem_owner->umem_guest = e;
	for (unsigned q = 0; q < e->nq; q++) {
		err = cancelled(cancel) ? -EINTR : pool_fill(e, &e->pools[q]);
		if (err)
			goto fail;
	}
	if (e->wait == WC_WAIT_BUSY_POLL && !wc_kernel_has(WC_KF_BUSY_POLL)) {
		char rel[65];

		wc_kver(rel, sizeof(rel));
		pr_info("busy poll needs Linux 5.11 (SO_PREFER_BUSY_POLL), this is %s: spinning on the rings without it\n",
			rel);
	} else if (e->wait == WC_WAIT_BUSY_POLL) {
		int one = 1, usec = 20, budget = e->busy_budget;

		for (unsigned w = 0; w < e->nw; w++)
			for (unsigned q = 0; q < e->nq; q++) {
				int fd = e->workers[w].socks[q].fd;

				if (setsockopt(fd, SOL_SOCKET,
					       SO_PREFER_BUSY_POLL, &one,
					       sizeof(one)) ||
				    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL,
					       &usec, sizeof(usec)) ||
				    setsockopt(fd, SOL_SOCKET,
					       SO_BUSY_POLL_BUDGET, &budget,
					       sizeof(budget)))
					pr_info("busy poll options refused (%s): spinning without them\n",
						strerror(errno));
			}
	}
	err = cancelled(cancel) ? -EINTR : wc_admit_open(e, o);
	if (err)
		goto fail;
	err = cancelled(cancel) ? -EINTR : sockets_plug(e);
	if (err) {
		if (err != -EINTR)
			pr_warn("%s: cannot plug the sockets into the XSKMAP: %s\n",
				ifname, strerror(-err));
		goto fail;
	}
	wc_refresh_rt_off(e);
	e->start_ns = wc_now_real();
	err = wc_monitor_start(e);
	if (err)
		goto fail;
	pr_info("%s: engine up: %u queues x %u workers, %s mode, pool %u x %u frames of %u B per queue, rx rings %u, %s\n",
		ifname, e->nq, e->nw,
		e->bind_mode == WC_BIND_ZEROCOPY ? "zero-copy" : "copy",
		e->chunks, e->chunk_size, e->frame_size, e->rx_size,
		e->huge == WC_PAGES_HUGETLB ? "huge pages" :
		e->huge == WC_PAGES_THP	    ? "transparent huge pages" :
					      "normal pages");
	return e;
fail:
	if (e->ifc) {
		/* sockets go first: they drop out of the XSKMAP */
		struct wc_iface *ifc = e->ifc;
		bool own = e->own_attach;

		wc_admit_close(e);
		if (e->own_filter && !own)
			wc_filter_restore(ifc, &e->prev_filter);
		e->ifc = NULL;
		engine_free(e);
		if (own)
			wc_iface__detach(ifc);
		else
			wc_iface__close(ifc);
	} else {
		engine_free(e);
	}
	errno = -err;
	return NULL;
}

WC_API void wc_engine__close(struct wc_engine *e)
{
	struct wc_iface *ifc;
	bool own;

	if (!e)
		return;
	wc_engine__stop(e);
	wc_monitor_stop(e);
	wc_engine_publish(e);
	{
		/* the engine is gone: clear its pid so `wirecap stats` knows */
		int fd = wc_iface__map_fd(e->ifc, WC_MAP_ENGINE);
		struct wc_engine_info info;
		__u32 zero = 0;

		if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &info)) {
			info.pid = 0;
			bpf_map_update_elem(fd, &zero, &info, BPF_ANY);
		}
	}
	wc_admit_close(e);
	ifc = e->ifc;
	own = e->own_attach;
	if (e->own_filter && !own)
		wc_filter_restore(ifc, &e->prev_filter);
	e->ifc = NULL;
	engine_free(e);
	if (own)
		wc_iface__detach(ifc);
	else
		wc_iface__close(ifc);
}

WC_API void wc_engine__stop(struct wc_engine *e)
{
	__u64 one = 1;

	if (!e)
		return;
	atomic_store(&e->stop, true);
	if (e->stop_efd >= 0 && write(e->stop_efd, &one, sizeof(one)) < 0) {
		/* counter saturated: already signalled */
	}
}

WC_API bool wc_engine__stopped(const struct wc_engine *e)
{
	return e && atomic_load(&e->stop);
}

WC_API struct wc_iface *wc_engine__iface(struct wc_engine *e)
{
	return e ? e->ifc : NULL;
}

WC_API unsigned wc_engine__queues(const struct wc_engine *e)
{
	return e ? e->nq : 0;
}

WC_API unsigned wc_engine__workers(const struct wc_engine *e)
{
	return e ? e->nw : 0;
}

WC_API struct wc_worker *wc_engine__worker(struct wc_engine *e, unsigned idx)
{
	if (!e || idx >= e->nw) {
		errno = EINVAL;
		return NULL;
	}
	return &e->workers[idx];
}

WC_API unsigned wc_worker__index(const struct wc_worker *w)
{
	return w ? w->idx : 0;
}

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

static int xsk_stats(int fd, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	return getsockopt(fd, SOL_XDP, XDP_STATISTICS, st, &len) ? -errno : 0;
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
		err = xsk_stats(e->workers[w].socks[q].fd, &st);
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
		if (!xsk_stats(s->fd, &st))
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
