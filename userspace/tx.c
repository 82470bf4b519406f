// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Egress ports: transmit captured frames where they lie (zero copy), and
 * new frames taken from a TX area of the UMEM.
 *
 * A port is a set of TX AF_XDP sockets ("lanes") on one egress interface,
 * bound with XDP_SHARED_UMEM to the engine's UMEM, so a descriptor put on a
 * lane's TX ring simply names the frame the packet was received in.
 *
 * Pools. The kernel allows one buffer pool per (device, queue id), and a
 * pool has one fill and one completion ring. For each egress queue a lane
 * uses, the port either
 *  - shares the pool an engine of the same UMEM already has on that
 *    (device, queue): the same interface (hairpin), or the peer engine of a
 *    bump in the wire (engine opened with umem_of, see wirecap.h): its
 *    completion ring then carries our completions, and the port is its only
 *    reader; or
 *  - creates a new pool with its own fill ring (left empty: the egress does
 *    not receive through it) and completion ring.
 * Two engines with *different* UMEMs cannot both use one (device, queue):
 * the second bind fails with EBUSY. That is why a bidirectional bump in the
 * wire puts both engines in one UMEM.
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
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "csum.h"
#include "engine.h"
#include "pool.h"
#include "umem.h"
#include "xsk.h"
#include "netdev.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* Linux 6.17+ */
#endif

#define DEFAULT_TX_RING 2048
#define DEFAULT_TX_FRAMES 4096
#define DEFAULT_TX_WAIT_MS 200
#define MIN_CQ 2048
#define EGRESS_FQ 64 /* required by the kernel, never filled */
#define REAP_BATCH 512
#define LINK_CHECK_NS 200000000ull /* link state and MTU refresh */
#define PUBLISH_NS 100000000ull
#define MAX_SCRATCH 4096
#define TX_BUDGET 256
#define PORT_STATS_PIN "port_stats"

/* TX frames of an engine (or of a standalone port): a free stack */
struct tx_area {
	pthread_mutex_t lock;
	__u64 base;
	__u32 frames;
	__u64 *stack;
	__u32 n;
	int refs;
};

/* One egress (device, queue): its pool's completion ring */
struct txq {
	unsigned queue;
	pthread_mutex_t lock; /* completion ring consumer */
	struct xsk_ring_cons *cq;
	struct wc_pool *borrowed; /* an engine's pool we share */
	/* own pool (not borrowed) */
	struct xsk_ring_prod own_fq;
	struct xsk_ring_cons own_cq;
	void *fq_map, *cq_map;
	size_t fq_len, cq_len;
	int pool_fd; /* socket to share the pool with */
	__u32 cq_size;
	__u64 addr[REAP_BATCH];
	__u64 sorted[REAP_BATCH];
	_Atomic __u64 completed;
};

struct lane {
	pthread_mutex_t lock; /* producers of the TX ring */
	int fd;
	struct txq *q;
	struct xsk_ring_prod tx;
	void *tx_map;
	size_t tx_map_len;
	__u64 *drop; /* scratch: frames going back */
	__u64 *txa; /* scratch: descriptors to send */
	__u32 *txl;
	_Atomic __u64 offered, not_forwarded, submitted, bytes;
	_Atomic __u64 too_big, link_down, ring_full, bad_desc;
	_Atomic __u64 driver_dropped, ring_full_waits, kicks, kick_again;
	_Atomic __u64 alloc_failed, csum_completed;
};

struct wc_port {
	struct wc_engine *e; /* NULL: standalone */
	struct wc_engine *fam[2]; /* engines living in this UMEM */
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned nlanes, ntxq;
	struct lane *lanes;
	struct txq *txqs;
	char *umem;
	size_t umem_len; /* standalone: owned */
	bool own_umem;
	__u32 frame_size;
	__u32 tx_ring;
	__u64 tx_wait_ns;
	bool csum_complete; /* WC_CSUM_COMPLETE */
	bool zerocopy;
	struct tx_area *area;
	_Atomic __u32 mtu;
	_Atomic int link_up;
	_Atomic __u64 next_check, next_publish;
	_Atomic __u64 abandoned;
	int stats_fd;
	char stats_pin[300];
	bool closing;
};

/* ---- pool claims: a pool's completion ring has one reader ---------------- */

static pthread_mutex_t claims_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wc_pool *claims[256];

static int claim_pool(struct wc_pool *p)
{
	int err = -ENOSPC;

	pthread_mutex_lock(&claims_lock);
	for (unsigned i = 0; i < 256; i++)
		if (claims[i] == p) {
			err = -EBUSY;
			goto out;
		}
	for (unsigned i = 0; i < 256; i++)
		if (!claims[i]) {
			claims[i] = p;
			err = 0;
			break;
		}
out:
	pthread_mutex_unlock(&claims_lock);
	return err;
}

static void unclaim_pool(struct wc_pool *p)
{
	pthread_mutex_lock(&claims_lock);
	for (unsigned i = 0; i < 256; i++)
		if (claims[i] == p)
			claims[i] = NULL;
	pthread_mutex_unlock(&claims_lock);
}

/* ---- TX area -------------------------------------------------------------- */

static pthread_mutex_t area_lock = PTHREAD_MUTEX_INITIALIZER;

static struct tx_area *area_new(__u64 base, __u32 frames, __u32 fs)
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

static void area_put(struct tx_area *a)
{
	pthread_mutex_destroy(&a->lock);
	free(a->stack);
	free(a);
}

/* the engine's area, shared by its ports (refcounted) */
static struct tx_area *engine_area(struct wc_engine *e)
{
	struct tx_area *a;

	pthread_mutex_lock(&area_lock);
	a = e->tx_state;
	if (a) {
		a->refs++;
	} else if (e->tx_frames) {
		a = area_new(e->tx_base, e->tx_frames, e->frame_size);
		e->tx_state = a;
	}
	pthread_mutex_unlock(&area_lock);
	return a;
}

static void engine_area_put(struct wc_engine *e, struct tx_area *a)
{
	pthread_mutex_lock(&area_lock);
	if (--a->refs == 0) {
		if (e && e->tx_state == a)
			e->tx_state = NULL;
		area_put(a);
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

static void publish(struct wc_port *p);

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
		publish(p);
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
			sched_yield();
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

WC_API int wc_port__stats(const struct wc_port *p, struct wc_port_stats *o)
{
	if (!p || !o)
		return -EINVAL;
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
		socklen_t len = sizeof(st);

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
		memset(&st, 0, sizeof(st));
		if (l->fd >= 0 &&
		    !getsockopt(l->fd, SOL_XDP, XDP_STATISTICS, &st, &len)) {
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
	return 0;
}

static void publish(struct wc_port *p)
{
	struct wc_port_stats st;
	__u32 zero = 0;

	if (p->stats_fd < 0 || wc_port__stats(p, &st))
		return;
	bpf_map_update_elem(p->stats_fd, &zero, &st, BPF_ANY);
}

/* Publish the port's counters next to the engine's pinned maps, so that
 * `wirecap stats` can show them. Best effort. */
static void publish_setup(struct wc_port *p)
{
	struct wc_iface *ifc = p->e->ifc;
	int fd;

	p->stats_fd = -1;
	if (snprintf(p->stats_pin, sizeof(p->stats_pin), "%s/%s", ifc->pin_dir,
		     PORT_STATS_PIN) >= (int)sizeof(p->stats_pin))
		return;
	fd = bpf_obj_get(p->stats_pin);
	if (fd >= 0) {
		struct wc_port_stats old;
		__u32 zero = 0;

		/* another live port of this engine publishes already */
		if (!bpf_map_lookup_elem(fd, &zero, &old) && old.pid &&
		    old.pid != (__u32)getpid() && !kill(old.pid, 0)) {
			close(fd);
			p->stats_pin[0] = 0;
			return;
		}
		close(fd);
		unlink(p->stats_pin);
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "wc_port_stats", sizeof(__u32),
			    sizeof(struct wc_port_stats), 1, NULL);
	if (fd < 0) {
		p->stats_pin[0] = 0;
		return;
	}
	if (bpf_obj_pin(fd, p->stats_pin)) {
		pr_info("cannot pin %s: %s\n", p->stats_pin, strerror(errno));
		close(fd);
		p->stats_pin[0] = 0;
		return;
	}
	chmod(p->stats_pin, 0600);
	p->stats_fd = fd;
	publish(p);
}

WC_API int wc_iface__port_stats(const struct wc_iface *ifc,
				struct wc_port_stats *out)
{
	char path[300];
	__u32 zero = 0;
	int fd, err = 0;

	if (!ifc || !out)
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", ifc->pin_dir,
		     PORT_STATS_PIN) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(fd, &zero, out))
		err = -errno;
	close(fd);
	return err;
}

/* ---- open / close --------------------------------------------------------- */

/* an engine of this UMEM with a pool on (ifindex, queue) */
static struct wc_pool *family_pool(struct wc_port *p, unsigned queue, int *fd)
{
	for (unsigned f = 0; f < 2; f++) {
		struct wc_engine *e = p->fam[f];

		if (e && e->ifindex == p->ifindex && queue < e->nq) {
			*fd = e->workers[0].socks[queue].fd;
			return &e->pools[queue];
		}
	}
	return NULL;
}

/* any socket of the UMEM, to bind a new pool with XDP_SHARED_UMEM */
static int umem_fd(struct wc_port *p)
{
	if (p->fam[0])
		return p->fam[0]->workers[0].socks[0].fd;
	return p->lanes[0].fd;
}

static int lane_open(struct wc_port *p, struct lane *l, struct txq *q,
		     bool first_of_q, bool first_of_umem,
		     enum wc_bind_mode bmode)
{
	struct xdp_mmap_offsets off;
	socklen_t olen = sizeof(off);
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = p->ifindex,
		.sxdp_queue_id = q->queue,
	};
	__u32 budget = TX_BUDGET;
	int err;

	l->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	if (first_of_umem) {
		struct xdp_umem_reg reg = {
			.addr = (__u64)(uintptr_t)p->umem,
			.len = p->umem_len,
			.chunk_size = p->frame_size,
		};

		if (setsockopt(l->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
			return -errno;
	}
	if (first_of_q && !q->borrowed) {
		if ((err = wc_xsk_set_ring(l->fd, XDP_UMEM_FILL_RING,
					   EGRESS_FQ)) ||
		    (err = wc_xsk_set_ring(l->fd, XDP_UMEM_COMPLETION_RING,
					   q->cq_size)))
			return err;
	}
	if ((err = wc_xsk_set_ring(l->fd, XDP_TX_RING, p->tx_ring)))
		return err;
	if (getsockopt(l->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen))
		return -errno;
	err = wc_ring_map(l->fd, XDP_PGOFF_TX_RING, &off.tx, p->tx_ring,
			  sizeof(struct xdp_desc), &l->tx_map, &l->tx_map_len,
			  &l->tx, true);
	if (err)
		return err;
	if (first_of_q && !q->borrowed) {
		err = wc_ring_map(l->fd, XDP_UMEM_PGOFF_FILL_RING, &off.fr,
				  EGRESS_FQ, sizeof(__u64), &q->fq_map,
				  &q->fq_len, &q->own_fq, true);
		if (!err)
			err = wc_ring_map(l->fd, XDP_UMEM_PGOFF_COMPLETION_RING,
					  &off.cr, q->cq_size, sizeof(__u64),
					  &q->cq_map, &q->cq_len, &q->own_cq,
					  false);
		if (err)
			return err;
		q->cq = &q->own_cq;
	}
	if (first_of_umem) {
		sxdp.sxdp_flags = XDP_USE_NEED_WAKEUP |
				  (bmode == WC_BIND_ZC	      ? XDP_ZEROCOPY :
				   bmode == WC_BIND_COPY_ONLY ? XDP_COPY :
								0);
	} else {
		sxdp.sxdp_flags = XDP_SHARED_UMEM;
		sxdp.sxdp_shared_umem_fd = first_of_q ? umem_fd(p) : q->pool_fd;
		if (first_of_q && q->borrowed)
			sxdp.sxdp_shared_umem_fd = q->pool_fd;
	}
	/* a socket closed just before (a previous run) leaves its queue in
	 * the kernel's deferred work for a moment: EBUSY, retried briefly */
	for (int i = 0;; i++) {
		struct timespec ts = { 0, 10000000 };

		if (!bind(l->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
			break;
		if (errno != EBUSY || i == 50)
			return -errno;
		nanosleep(&ts, NULL);
	}
	if (first_of_q && !q->borrowed)
		q->pool_fd = l->fd;
	/* Linux 6.17+: more than 32 frames per sendto() in copy mode */
	setsockopt(l->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
		   sizeof(budget));
	return 0;
}

static void port_free(struct wc_port *p)
{
	if (!p)
		return;
	for (unsigned i = 0; p->lanes && i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];

		if (l->tx_map)
			munmap(l->tx_map, l->tx_map_len);
		if (l->fd >= 0)
			close(l->fd);
		free(l->drop);
		free(l->txa);
		free(l->txl);
		pthread_mutex_destroy(&l->lock);
	}
	for (unsigned q = 0; p->txqs && q < p->ntxq; q++) {
		struct txq *t = &p->txqs[q];

		if (t->fq_map)
			munmap(t->fq_map, t->fq_len);
		if (t->cq_map)
			munmap(t->cq_map, t->cq_len);
		if (t->borrowed)
			unclaim_pool(t->borrowed);
		pthread_mutex_destroy(&t->lock);
	}
	if (p->area) {
		if (p->own_umem)
			area_put(p->area);
		else
			engine_area_put(p->e, p->area);
	}
	if (p->own_umem && p->umem)
		munmap(p->umem, p->umem_len);
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	free(p->lanes);
	free(p->txqs);
	free(p);
}

WC_API struct wc_port *wc_port__open(struct wc_engine *e, const char *ifname,
				     const struct wc_port_opts *o)
{
	const unsigned *qlist = WC_OPTS_GET(o, queues, NULL);
	unsigned nql = WC_OPTS_GET(o, nqueues, 0);
	enum wc_bind_mode bind = WC_OPTS_GET(o, bind, WC_BIND_AUTO);
	unsigned lanes_q[WC_MAX_WORKERS], rxq = 1, txqn = 1, nmax;
	struct wc_netdev_info di;
	struct wc_port *p;
	__u32 scratch;
	int err;

	if (!ifname || (qlist && (!nql || nql > WC_MAX_WORKERS))) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->stats_fd = -1;
	p->e = e;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	err = wc_netdev_get_info(ifname, &di);
	if (err) {
		if (err == -ENODEV)
			pr_warn("no such interface: %s\n", ifname);
		goto fail;
	}
	p->ifindex = di.ifindex;
	atomic_store(&p->mtu, di.mtu);
	atomic_store(&p->link_up,
		     (di.flags & IFF_UP) && (di.flags & IFF_RUNNING));
	if (!(di.flags & IFF_UP)) {
		pr_warn("%s is down\n", ifname);
		err = -ENETDOWN;
		goto fail;
	}
	err = wc_netdev_queues(ifname, &rxq, &txqn);
	if (err)
		goto fail;
	nmax = rxq > txqn ? rxq : txqn;
	p->tx_ring = WC_OPTS_GET(o, tx_ring_size, 0);
	p->tx_ring = p->tx_ring ? p->tx_ring : DEFAULT_TX_RING;
	if (p->tx_ring & (p->tx_ring - 1)) {
		pr_warn("tx ring size must be a power of two, not %u\n",
			p->tx_ring);
		err = -EINVAL;
		goto fail;
	}
	p->csum_complete =
		WC_OPTS_GET(o, csum, WC_CSUM_COMPLETE) == WC_CSUM_COMPLETE;
	p->tx_wait_ns = (__u64)WC_OPTS_GET(o, tx_wait_ms, 0) * 1000000ull;
	if (!p->tx_wait_ns)
		p->tx_wait_ns = DEFAULT_TX_WAIT_MS * 1000000ull;
	/* lanes and their queues */
	if (qlist) {
		p->nlanes = nql;
		for (unsigned i = 0; i < nql; i++) {
			if (qlist[i] >= nmax) {
				pr_warn("%s has no queue %u (%u queues)\n",
					ifname, qlist[i], nmax);
				err = -EINVAL;
				goto fail;
			}
			lanes_q[i] = qlist[i];
		}
	} else if (e) {
		p->nlanes = e->nw;
		for (unsigned w = 0; w < e->nw; w++)
			lanes_q[w] = w % (txqn ? txqn : 1);
	} else {
		p->nlanes = 1;
		lanes_q[0] = 0;
	}
	/* the UMEM */
	if (e) {
		p->fam[0] = e->umem_owner ? e->umem_owner : e;
		p->fam[1] = p->fam[0]->umem_guest;
		p->umem = e->umem;
		p->umem_len = e->umem_len;
		p->frame_size = e->frame_size;
		p->zerocopy = e->bind_mode == WC_BIND_ZEROCOPY;
		if (e->tx_frames)
			p->area = engine_area(e);
	} else {
		__u32 nf = WC_OPTS_GET(o, tx_frames, 0),
		      fs = WC_OPTS_GET(o, frame_size, 0);

		nf = nf ? nf : DEFAULT_TX_FRAMES;
		fs = fs ? fs : 2048;
		if (fs != 2048 && fs != 4096) {
			err = -EINVAL;
			goto fail;
		}
		p->own_umem = true;
		p->frame_size = fs;
		p->umem_len = (size_t)nf * fs;
		p->umem =
			mmap(NULL, p->umem_len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p->umem == MAP_FAILED) {
			p->umem = NULL;
			err = -ENOMEM;
			goto fail;
		}
		p->area = area_new(0, nf, fs);
		if (!p->area) {
			err = -ENOMEM;
			goto fail;
		}
	}
	/* distinct egress queues */
	p->lanes = calloc(p->nlanes, sizeof(*p->lanes));
	p->txqs = calloc(p->nlanes, sizeof(*p->txqs));
	if (!p->lanes || !p->txqs) {
		err = -ENOMEM;
		goto fail;
	}
	scratch = e ? e->chunk_size : MAX_SCRATCH;
	if (scratch < MAX_SCRATCH)
		scratch = MAX_SCRATCH;
	for (unsigned i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];
		struct txq *q = NULL;

		l->fd = -1;
		pthread_mutex_init(&l->lock, NULL);
		l->drop = calloc(scratch, sizeof(*l->drop));
		l->txa = calloc(scratch, sizeof(*l->txa));
		l->txl = calloc(scratch, sizeof(*l->txl));
		if (!l->drop || !l->txa || !l->txl) {
			err = -ENOMEM;
			goto fail;
		}
		for (unsigned k = 0; k < p->ntxq; k++)
			if (p->txqs[k].queue == lanes_q[i])
				q = &p->txqs[k];
		if (!q) {
			q = &p->txqs[p->ntxq++];
			q->queue = lanes_q[i];
			q->pool_fd = -1;
			pthread_mutex_init(&q->lock, NULL);
		}
		l->q = q;
	}
	for (unsigned k = 0; k < p->ntxq; k++) {
		struct txq *q = &p->txqs[k];
		unsigned users = 0;

		for (unsigned i = 0; i < p->nlanes; i++)
			users += p->lanes[i].q == q;
		q->cq_size = wc_pow2_at_least((__u64)users * p->tx_ring);
		if (q->cq_size < MIN_CQ)
			q->cq_size = MIN_CQ;
		if (e) {
			int fd;
			struct wc_pool *pool = family_pool(p, q->queue, &fd);

			if (pool) {
				err = claim_pool(pool);
				if (err) {
					pr_warn("%s queue %u: another port transmits there already\n",
						ifname, q->queue);
					goto fail;
				}
				q->borrowed = pool;
				q->cq = &pool->cq;
				q->pool_fd = fd;
			}
		}
	}
	for (unsigned i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];
		bool first_q = true;

		for (unsigned j = 0; j < i; j++)
			first_q &= p->lanes[j].q != l->q;
		err = lane_open(p, l, l->q, first_q, !e && i == 0, bind);
		if (err) {
			if (err == -EBUSY)
				pr_warn("%s queue %u is busy: another AF_XDP socket (another program, or a capture with its own UMEM) uses it%s\n",
					ifname, l->q->queue,
					e ? "; for both directions of a bump in the wire, open the second engine with umem_of" :
					    "");
			else if (err == -EOPNOTSUPP || err == -EINVAL)
				pr_warn("%s queue %u: cannot bind a TX socket (%s)%s\n",
					ifname, l->q->queue, strerror(-err),
					p->zerocopy ?
						": the UMEM is in zero-copy mode, the egress driver may not support it" :
						"");
			else
				pr_warn("%s queue %u: cannot create a TX socket: %s\n",
					ifname, l->q->queue, strerror(-err));
			goto fail;
		}
		if (!e && i == 0) {
			struct xdp_options xo;
			socklen_t len = sizeof(xo);

			if (!getsockopt(l->fd, SOL_XDP, XDP_OPTIONS, &xo, &len))
				p->zerocopy = xo.flags & XDP_OPTIONS_ZEROCOPY;
		}
	}
	if (e)
		publish_setup(p);
	atomic_store(&p->next_check, wc_now_mono() + LINK_CHECK_NS);
	pr_info("%s: egress port: %u lanes on %u queues, tx ring %u, %s%s\n",
		ifname, p->nlanes, p->ntxq, p->tx_ring,
		p->zerocopy ? "zero-copy" : "copy mode",
		e ? ", sharing the engine's UMEM" : "");
	return p;
fail:
	port_free(p);
	errno = -err;
	return NULL;
}

WC_API void wc_port__close(struct wc_port *p)
{
	int left;

	if (!p)
		return;
	left = wc_port__flush(p, 1000);
	if (left > 0) {
		atomic_store(&p->abandoned, (__u64)left);
		pr_warn("%s: %d frames never completed by the kernel (counted as abandoned)\n",
			p->ifname, left);
	}
	if (p->stats_fd >= 0 && p->stats_pin[0])
		unlink(p->stats_pin);
	port_free(p);
}

WC_API unsigned wc_port__lanes(const struct wc_port *p)
{
	return p ? p->nlanes : 0;
}

WC_API int wc_port__lane_queue(const struct wc_port *p, unsigned lane)
{
	if (!p || lane >= p->nlanes)
		return -EINVAL;
	return (int)p->lanes[lane].q->queue;
}
