// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Egress ports, the data path: transmit captured frames where they lie
 * (zero copy, wc_port__forward), and new frames taken from a TX area of
 * the UMEM (wc_port__alloc, wc_port__send). The ports are opened by port.c
 * (its comment tells how lanes share pools).
 *
 * Completions. Each completed address goes back to the pool that owns it
 * (address range -> engine, queue), batched per pool, through
 * wc_pool_put(); TX-area frames go back to the area's free list. Frames in
 * flight count as in use of their pool (they are not in its fill ring).
 *
 * Locks: lane (producers of its TX ring) -> txq (consumer of the
 * completion ring) -> pool (fill ring, in wc_pool_put). A lock is never
 * taken while a later one in this order is held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "csum.h"
#include "engine.h"
#include "netdev.h"
#include "pool.h"
#include "port.h"
#include "xsk.h"

#define PUBLISH_NS 100000000ull

/* ---- TX area -------------------------------------------------------------- */

static pthread_mutex_t area_lock = PTHREAD_MUTEX_INITIALIZER;

struct tx_area *wc_tx_area_new(__u64 base, __u32 frames, __u32 fs)
{
	struct tx_area *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->stack = calloc(frames ? frames : 1, sizeof(*a->stack));
	if (!a->stack) {
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	a->base = base;
	a->frames = frames;
	/* lowest addresses on top */
	for (__u32 i = 0; i < frames; i++)
		a->stack[i] = base + (__u64)(frames - 1 - i) * fs;
	a->n = frames;
	a->refs = 1;
	return a;
}

void wc_tx_area_put(struct tx_area *a)
{
	pthread_mutex_destroy(&a->lock);
	free(a->stack);
	free(a);
}

struct tx_area *wc_tx_engine_area(struct wc_engine *e)
{
	struct tx_area *a;

	pthread_mutex_lock(&area_lock);
	a = e->tx_state;
	if (a) {
		a->refs++;
	} else if (e->tx_frames) {
		a = wc_tx_area_new(e->tx_base, e->tx_frames, e->frame_size);
		e->tx_state = a;
	}
	pthread_mutex_unlock(&area_lock);
	return a;
}

void wc_tx_engine_area_put(struct wc_engine *e, struct tx_area *a)
{
	pthread_mutex_lock(&area_lock);
	if (--a->refs == 0) {
		if (e && e->tx_state == a)
			e->tx_state = NULL;
		wc_tx_area_put(a);
	}
	pthread_mutex_unlock(&area_lock);
}

static bool in_area(const struct tx_area *a, __u64 addr, __u32 fs)
{
	return a && addr >= a->base && addr < a->base + (__u64)a->frames * fs;
}

static void area_free(struct tx_area *a, const __u64 *addr, unsigned n,
		      __u32 fs)
{
	pthread_mutex_lock(&a->lock);
	for (unsigned i = 0; i < n && a->n < a->frames; i++)
		a->stack[a->n++] = addr[i] & ~((__u64)fs - 1);
	pthread_mutex_unlock(&a->lock);
}

/* ---- frames back to their owners ------------------------------------------ */

/* Owner key of a UMEM address: fam * WC_MAX_QUEUES + queue for a pool
 * frame, KEY_AREA(fam) for a TX-area frame, KEY_NONE when unknown. */
#define KEY_AREA(f) (2 * WC_MAX_QUEUES + (f))
#define KEY_NONE (2 * WC_MAX_QUEUES + 2)
#define NKEYS (KEY_NONE + 1)

static unsigned owner_key(const struct wc_port *p, __u64 addr)
{
	for (unsigned f = 0; f < 2; f++) {
		const struct wc_engine *e = p->fam[f];
		__u64 psz, base;

		if (!e)
			continue;
		psz = (__u64)e->pools[0].nframes * e->frame_size;
		base = e->pools[0].base;
		if (addr >= base && addr < base + psz * e->nq)
			return f * WC_MAX_QUEUES +
			       (unsigned)((addr - base) / psz);
		if (e->tx_frames && addr >= e->tx_base &&
		    addr < e->tx_base + (__u64)e->tx_frames * e->frame_size)
			return KEY_AREA(f);
	}
	if (p->own_umem && in_area(p->area, addr, p->frame_size))
		return KEY_AREA(0);
	return KEY_NONE;
}

static struct tx_area *area_of(const struct wc_port *p, unsigned f)
{
	if (p->own_umem)
		return p->area;
	return p->fam[f] ? p->fam[f]->tx_state : NULL;
}

/* Give frames back, grouped per owner: one pool lock per pool. @tmp has
 * room for n entries. */
static void frames_return(struct wc_port *p, const __u64 *addr, unsigned n,
			  __u64 *tmp)
{
	unsigned cnt[NKEYS + 1], pos[NKEYS + 1];
	unsigned char keys[MAX_SCRATCH];
	unsigned lost = 0;

	while (n) {
		unsigned m = n > MAX_SCRATCH ? MAX_SCRATCH : n;

		memset(cnt, 0, sizeof(cnt));
		for (unsigned i = 0; i < m; i++) {
			keys[i] = (unsigned char)owner_key(p, addr[i]);
			cnt[keys[i]]++;
		}
		pos[0] = 0;
		for (unsigned k = 1; k <= NKEYS; k++)
			pos[k] = pos[k - 1] + cnt[k - 1];
		for (unsigned i = 0; i < m; i++)
			tmp[pos[keys[i]]++] = addr[i];
		for (unsigned k = 0, start = 0; k < NKEYS;
		     start += cnt[k], k++) {
			if (!cnt[k])
				continue;
			if (k < 2 * WC_MAX_QUEUES) {
				struct wc_engine *e = p->fam[k / WC_MAX_QUEUES];

				wc_pool_put(e, &e->pools[k % WC_MAX_QUEUES],
					    tmp + start, cnt[k]);
			} else if (k == KEY_AREA(0) || k == KEY_AREA(1)) {
				struct tx_area *a = area_of(p, k - KEY_AREA(0));

				if (a)
					area_free(a, tmp + start, cnt[k],
						  p->frame_size);
				else
					lost += cnt[k];
			} else {
				lost += cnt[k];
			}
		}
		addr += m;
		n -= m;
	}
	if (lost)
		pr_warn("%s: %u completed frames outside every pool (a bug)\n",
			p->ifname, lost);
}

/* Reap a completion ring; returns frames completed. Skips when another
 * thread is at it (unless @wait). */
static unsigned reap(struct wc_port *p, struct txq *q, bool wait)
{
	unsigned total = 0;

	if (wait)
		pthread_mutex_lock(&q->lock);
	else if (pthread_mutex_trylock(&q->lock))
		return 0;
	for (;;) {
		__u32 idx, n = xsk_ring_cons__peek(q->cq, REAP_BATCH, &idx);

		if (!n)
			break;
		for (__u32 i = 0; i < n; i++)
			q->addr[i] = *xsk_ring_cons__comp_addr(q->cq, idx + i);
		xsk_ring_cons__release(q->cq, n);
		atomic_fetch_add_explicit(&q->completed, n,
					  memory_order_relaxed);
		frames_return(p, q->addr, n, q->sorted);
		total += n;
		if (n < REAP_BATCH)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	return total;
}

/* ---- link state ----------------------------------------------------------- */

static void link_refresh(struct wc_port *p)
{
	struct wc_netdev_info di;

	if (wc_netdev_get_info(p->ifname, &di) || di.ifindex != p->ifindex) {
		atomic_store(&p->link_up, 0);
		return;
	}
	atomic_store(&p->mtu, di.mtu);
	atomic_store(&p->link_up,
		     (di.flags & IFF_UP) && (di.flags & IFF_RUNNING));
}

static void housekeeping(struct wc_port *p)
{
	__u64 now = wc_now_mono(),
	      t = atomic_load_explicit(&p->next_check, memory_order_relaxed);

	if (now >= t && atomic_compare_exchange_strong(&p->next_check, &t,
						       now + LINK_CHECK_NS))
		link_refresh(p);
	t = atomic_load_explicit(&p->next_publish, memory_order_relaxed);
	if (p->stats_fd >= 0 && now >= t &&
	    atomic_compare_exchange_strong(&p->next_publish, &t,
					   now + PUBLISH_NS))
		wc_port_publish(p);
}

/* ---- TX ring -------------------------------------------------------------- */

static __u32 tx_pending(const struct lane *l)
{
	__u32 prod = __atomic_load_n(l->tx.producer, __ATOMIC_ACQUIRE);
	__u32 cons = __atomic_load_n(l->tx.consumer, __ATOMIC_ACQUIRE);

	return prod - cons;
}

/* Kick the kernel when need_wakeup says so. Copy mode transmits inside
 * sendto() (TX_BUDGET frames per call): call again while frames remain.
 * Returns 0, or -ENETDOWN / -ENXIO when the device is down or gone. */
static int kick(struct wc_port *p, struct lane *l)
{
	for (int i = 0; i < 16; i++) {
		if (!xsk_ring_prod__needs_wakeup(&l->tx) || !tx_pending(l))
			return 0;
		atomic_fetch_add_explicit(&l->kicks, 1, memory_order_relaxed);
		if (sendto(l->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			if (p->zerocopy)
				return 0;
			continue;
		}
		switch (errno) {
		case EAGAIN:
		case ENOBUFS:
		case EINTR:
			/* budget used, completion ring full or the driver
			 * busy: reap, then try again */
			atomic_fetch_add_explicit(&l->kick_again, 1,
						  memory_order_relaxed);
			reap(p, l->q, false);
			break;
		case EBUSY:
			/* the driver dropped one frame; it still completes */
			atomic_fetch_add_explicit(&l->driver_dropped, 1,
						  memory_order_relaxed);
			break;
		case ENETDOWN:
		case ENXIO:
		case ENODEV:
			atomic_store(&p->link_up, 0);
			return -errno;
		default:
			return -errno;
		}
	}
	return 0;
}

static void tx_nap(void)
{
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
}

/* Put descriptors on the lane's TX ring, waiting (bounded: tx_wait_ns
 * without progress) for room. Returns how many were queued; the caller
 * gives back the rest. Lane lock held. */
static unsigned tx_put(struct wc_port *p, struct lane *l, const __u64 *addr,
		       const __u32 *len, unsigned n)
{
	unsigned done = 0;
	__u64 deadline = 0;

	while (done < n) {
		__u32 room = xsk_prod_nb_free(&l->tx, n - done), idx;
		__u64 bytes = 0;

		if (room > n - done)
			room = n - done;
		if (room &&
		    xsk_ring_prod__reserve(&l->tx, room, &idx) == room) {
			for (__u32 i = 0; i < room; i++) {
				struct xdp_desc *d =
					xsk_ring_prod__tx_desc(&l->tx, idx + i);

				d->addr = addr[done + i];
				d->len = len[done + i];
				d->options = 0;
				bytes += len[done + i];
			}
			xsk_ring_prod__submit(&l->tx, room);
			atomic_fetch_add_explicit(&l->submitted, room,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(&l->bytes, bytes,
						  memory_order_relaxed);
			done += room;
			deadline = 0;
		}
		if (kick(p, l) < 0)
			break;
		if (done == n)
			break;
		/* ring full: wait for the kernel to take descriptors */
		atomic_fetch_add_explicit(&l->ring_full_waits, 1,
					  memory_order_relaxed);
		if (!reap(p, l->q, false)) {
			__u64 now = wc_now_mono();

			if (!deadline)
				deadline = now + p->tx_wait_ns;
			else if (now >= deadline)
				break;
			/* a sleep, not a yield: the completions may need a
			 * lower-priority thread on this CPU (ksoftirqd, a
			 * NAPI thread) that a yield would not let run */
			tx_nap();
		}
	}
	return done;
}

/* ---- forward -------------------------------------------------------------- */

static bool same_umem(const struct wc_port *p, const struct wc_engine *e)
{
	return e == p->fam[0] || e == p->fam[1];
}

WC_API int wc_port__forward(struct wc_port *p, struct wc_chunk *c,
			    const __u8 *verdicts)
{
	struct wc_worker *w;
	struct wc_engine *ce;
	struct lane *l;
	unsigned ntx = 0, queued, left;
	__u32 fs, mtu;
	bool up;

	if (!p || !c)
		return -EINVAL;
	w = c->w;
	ce = w->e;
	if (!same_umem(p, ce)) {
		wc_chunk__recycle(c);
		return -EXDEV;
	}
	housekeeping(p);
	fs = p->frame_size;
	mtu = atomic_load_explicit(&p->mtu, memory_order_relaxed);
	up = atomic_load_explicit(&p->link_up, memory_order_relaxed);
	l = &p->lanes[w->idx % p->nlanes];
	pthread_mutex_lock(&l->lock);
	/* frames completed since the last chunk go home first */
	reap(p, l->q, false);
	for (unsigned s = 0; s < c->nseg; s++) {
		const struct wc_chunk_seg *sg = &c->seg[s];
		unsigned ndrop = 0;

		for (unsigned i = sg->start; i < sg->start + sg->count; i++) {
			const struct wc_pkt *pk = &c->pkts[i];
			__u64 a = (__u64)((char *)pk->data - p->umem);
			__u32 max;

			if (verdicts && !verdicts[i]) {
				atomic_fetch_add_explicit(&l->not_forwarded, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = c->addr[i];
				continue;
			}
			atomic_fetch_add_explicit(&l->offered, 1,
						  memory_order_relaxed);
			/* the packet may have moved or changed size, but
			 * within its frame */
			if (!pk->len || (char *)pk->data < p->umem ||
			    (a & ~((__u64)fs - 1)) !=
				    (c->addr[i] & ~((__u64)fs - 1)) ||
			    (a & (fs - 1)) + pk->len > fs) {
				atomic_fetch_add_explicit(&l->bad_desc, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = c->addr[i];
				continue;
			}
			max = mtu + 14;
			if (pk->len >= 14) {
				const __u8 *d = pk->data;
				__u16 et = (__u16)(d[12] << 8 | d[13]);

				if (et == 0x8100 || et == 0x88a8)
					max += 4;
			}
			if (pk->len > max) {
				atomic_fetch_add_explicit(&l->too_big, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = c->addr[i];
				continue;
			}
			if (!up) {
				atomic_fetch_add_explicit(&l->link_down, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = c->addr[i];
				continue;
			}
			if (p->csum_complete &&
			    wc_csum_complete(pk->data, pk->len))
				atomic_fetch_add_explicit(&l->csum_completed, 1,
							  memory_order_relaxed);
			l->txa[ntx] = a;
			l->txl[ntx] = pk->len;
			ntx++;
		}
		if (ndrop)
			wc_pool_put(ce, &ce->pools[sg->queue], l->drop, ndrop);
	}
	queued = ntx ? tx_put(p, l, l->txa, l->txl, ntx) : 0;
	left = ntx - queued;
	if (left) {
		if (atomic_load(&p->link_up))
			atomic_fetch_add_explicit(&l->ring_full, left,
						  memory_order_relaxed);
		else
			atomic_fetch_add_explicit(&l->link_down, left,
						  memory_order_relaxed);
		frames_return(p, l->txa + queued, left, l->drop);
	}
	pthread_mutex_unlock(&l->lock);
	wc_chunk_release(c);
	return (int)queued;
}

/* ---- new frames ------------------------------------------------------------ */

static struct tx_area *port_area(const struct wc_port *p)
{
	return p->area;
}

WC_API int wc_port__alloc(struct wc_port *p, struct wc_frame *f, unsigned n)
{
	struct tx_area *a;
	unsigned got = 0;

	if (!p || (!f && n))
		return -EINVAL;
	a = port_area(p);
	if (!a)
		return -ENOSPC;
	for (int pass = 0; pass < 2 && got < n; pass++) {
		if (pass) {
			/* none free: completions may have brought some back */
			for (unsigned q = 0; q < p->ntxq; q++)
				reap(p, &p->txqs[q], false);
		}
		pthread_mutex_lock(&a->lock);
		while (got < n && a->n) {
			__u64 addr = a->stack[--a->n];

			f[got].addr = addr;
			f[got].data = p->umem + addr;
			f[got].len = 0;
			f[got].room = p->frame_size;
			got++;
		}
		pthread_mutex_unlock(&a->lock);
	}
	if (got < n)
		atomic_fetch_add_explicit(&p->lanes[0].alloc_failed, n - got,
					  memory_order_relaxed);
	return (int)got;
}

WC_API void wc_port__free(struct wc_port *p, const struct wc_frame *f,
			  unsigned n)
{
	struct tx_area *a;

	if (!p || !f)
		return;
	a = port_area(p);
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	for (unsigned i = 0; i < n && a->n < a->frames; i++)
		if (in_area(a, f[i].addr, p->frame_size))
			a->stack[a->n++] =
				f[i].addr & ~((__u64)p->frame_size - 1);
	pthread_mutex_unlock(&a->lock);
}

WC_API int wc_port__send(struct wc_port *p, unsigned lane,
			 const struct wc_frame *f, unsigned n)
{
	struct lane *l;
	unsigned ntx = 0, queued, left, ndrop = 0;
	__u32 fs, mtu;
	bool up;

	if (!p || (!f && n) || lane >= p->nlanes)
		return -EINVAL;
	housekeeping(p);
	fs = p->frame_size;
	mtu = atomic_load_explicit(&p->mtu, memory_order_relaxed);
	up = atomic_load_explicit(&p->link_up, memory_order_relaxed);
	l = &p->lanes[lane];
	pthread_mutex_lock(&l->lock);
	reap(p, l->q, false);
	while (n) {
		unsigned m = n > MAX_SCRATCH ? MAX_SCRATCH : n;

		ntx = ndrop = 0;
		for (unsigned i = 0; i < m; i++) {
			__u64 a = (__u64)((char *)f[i].data - p->umem);

			atomic_fetch_add_explicit(&l->offered, 1,
						  memory_order_relaxed);
			if (!f[i].len || (char *)f[i].data < p->umem ||
			    (a & ~((__u64)fs - 1)) !=
				    (f[i].addr & ~((__u64)fs - 1)) ||
			    (a & (fs - 1)) + f[i].len > fs) {
				atomic_fetch_add_explicit(&l->bad_desc, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = f[i].addr;
			} else if (f[i].len > mtu + 18) {
				/* (a VLAN tag may add 4 bytes) */
				atomic_fetch_add_explicit(&l->too_big, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = f[i].addr;
			} else if (!up) {
				atomic_fetch_add_explicit(&l->link_down, 1,
							  memory_order_relaxed);
				l->drop[ndrop++] = f[i].addr;
			} else {
				l->txa[ntx] = a;
				l->txl[ntx] = f[i].len;
				ntx++;
			}
		}
		queued = ntx ? tx_put(p, l, l->txa, l->txl, ntx) : 0;
		left = ntx - queued;
		if (left) {
			if (atomic_load(&p->link_up))
				atomic_fetch_add_explicit(&l->ring_full, left,
							  memory_order_relaxed);
			else
				atomic_fetch_add_explicit(&l->link_down, left,
							  memory_order_relaxed);
			memcpy(l->drop + ndrop, l->txa + queued,
			       left * sizeof(__u64));
			ndrop += left;
		}
		if (ndrop)
			frames_return(p, l->drop, ndrop, l->txa);
		f += m;
		n -= m;
	}
	pthread_mutex_unlock(&l->lock);
	return 0;
}

/* ---- poll, flush ---------------------------------------------------------- */

WC_API int wc_port__poll(struct wc_port *p)
{
	unsigned done = 0;
	int err = 0;

	if (!p)
		return -EINVAL;
	housekeeping(p);
	for (unsigned i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];

		if (!tx_pending(l) || pthread_mutex_trylock(&l->lock))
			continue;
		if (kick(p, l) < 0)
			err = -ENETDOWN;
		pthread_mutex_unlock(&l->lock);
	}
	for (unsigned q = 0; q < p->ntxq; q++)
		done += reap(p, &p->txqs[q], false);
	return err ? err : (int)done;
}

static __u64 in_flight(const struct wc_port *p)
{
	__u64 sub = 0, comp = 0;

	for (unsigned i = 0; i < p->nlanes; i++)
		sub += atomic_load(&p->lanes[i].submitted);
	for (unsigned q = 0; q < p->ntxq; q++)
		comp += atomic_load(&p->txqs[q].completed);
	return sub > comp ? sub - comp : 0;
}

WC_API int wc_port__flush(struct wc_port *p, int timeout_ms)
{
	__u64 deadline;

	if (!p)
		return -EINVAL;
	deadline = wc_now_mono() +
		   (__u64)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	for (;;) {
		__u64 left;

		for (unsigned i = 0; i < p->nlanes; i++) {
			pthread_mutex_lock(&p->lanes[i].lock);
			kick(p, &p->lanes[i]);
			pthread_mutex_unlock(&p->lanes[i].lock);
		}
		for (unsigned q = 0; q < p->ntxq; q++)
			reap(p, &p->txqs[q], true);
		left = in_flight(p);
		if (!left)
			return 0;
		if (wc_now_mono() >= deadline)
			return (int)(left > INT32_MAX ? INT32_MAX : left);
		{
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
	}
}

/* ---- stats ---------------------------------------------------------------- */

_Static_assert(sizeof(struct wc_port_stats) ==
		       sizeof(size_t) + sizeof(struct wc_egress_stats),
	       "wc_port_stats: sz + struct wc_egress_stats");

/* the port's counters in the published layout */
static void port_stats(const struct wc_port *p, struct wc_egress_stats *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->ifname, sizeof(o->ifname), "%s", p->ifname);
	o->lanes = p->nlanes;
	o->queues = p->ntxq;
	o->mtu = atomic_load(&p->mtu);
	o->link_up = atomic_load(&p->link_up);
	o->pid = getpid();
	o->zerocopy = p->zerocopy;
	for (unsigned i = 0; i < p->nlanes; i++) {
		const struct lane *l = &p->lanes[i];
		struct xdp_statistics st;

		o->offered += atomic_load(&l->offered);
		o->not_forwarded += atomic_load(&l->not_forwarded);
		o->submitted += atomic_load(&l->submitted);
		o->bytes += atomic_load(&l->bytes);
		o->too_big += atomic_load(&l->too_big);
		o->link_down += atomic_load(&l->link_down);
		o->ring_full += atomic_load(&l->ring_full);
		o->bad_desc += atomic_load(&l->bad_desc);
		o->driver_dropped += atomic_load(&l->driver_dropped);
		o->ring_full_waits += atomic_load(&l->ring_full_waits);
		o->kicks += atomic_load(&l->kicks);
		o->kick_again += atomic_load(&l->kick_again);
		o->alloc_failed += atomic_load(&l->alloc_failed);
		o->csum_completed += atomic_load(&l->csum_completed);
		if (l->fd >= 0 && !wc_xsk_stats(l->fd, &st)) {
			o->tx_invalid_descs += st.tx_invalid_descs;
			o->tx_ring_empty_descs += st.tx_ring_empty_descs;
		}
	}
	for (unsigned q = 0; q < p->ntxq; q++)
		o->completed += atomic_load(&p->txqs[q].completed);
	o->abandoned = atomic_load(&p->abandoned);
	o->in_flight = o->submitted > o->completed + o->abandoned ?
			       o->submitted - o->completed - o->abandoned :
			       0;
	o->sent = o->completed > o->driver_dropped ?
			  o->completed - o->driver_dropped :
			  0;
	o->dropped = o->too_big + o->link_down + o->ring_full + o->bad_desc +
		     o->driver_dropped + o->abandoned;
}

WC_API int wc_port__stats(const struct wc_port *p, struct wc_port_stats *out)
{
	struct wc_egress_stats st;

	if (!p || !WC_OUT_VALID(out))
		return -EINVAL;
	port_stats(p, &st);
	wc_out_put(out, &st, sizeof(st));
	return 0;
}

void wc_port_publish(struct wc_port *p)
{
	struct wc_egress_stats st;
	__u32 zero = 0;

	if (p->stats_fd < 0)
		return;
	port_stats(p, &st);
	bpf_map_update_elem(p->stats_fd, &zero, &st, BPF_ANY);
}

WC_API int wc_iface__port_stats(const struct wc_iface *ifc,
				struct wc_port_stats *out)
{
	struct wc_egress_stats st;
	__u32 zero = 0;
	int fd;

	if (!ifc || !WC_OUT_VALID(out))
		return -EINVAL;
	fd = wc_iface__map_fd(ifc, WC_MAP_PORT_STATS);
	if (fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(fd, &zero, &st))
		return -errno;
	if (!st.pid)
		return -ENOENT; /* no port runs (or ever ran) */
	wc_out_put(out, &st, sizeof(st));
	return 0;
}
