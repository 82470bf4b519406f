// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The in-order bucket move, both sides (docs/monitor.md "The in-order
 * move", the fence states in engine.h):
 *  - the mover (the monitor thread): wc_fence_move reserves a fence, makes
 *    the old owner divert and the new owner park, switches the steering;
 *    wc_fences_arm arms the fences after the grace period;
 *    wc_fences_timeouts releases by force what an old owner does not;
 *  - the workers, from their gather (rx.c): the old owner diverts the
 *    bucket into the hand-off queue (wc_fence_take, wc_divert_flush) and
 *    releases the fence once past its position (wc_fences_check); the new
 *    owner parks the bucket's new packets and delivers the hand-off, then
 *    the parked packets (wc_fenced_deliver).
 * Nothing here knows why a bucket moves: that is the monitor's policy.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "fence.h"
#include "pool.h"

/* waited for instead of an RCU grace period where the kernel cannot be
 * asked for one (xdpsync.c) */
#define GRACE_US 2000

/* A fence whose old owner is stuck, or that stays armed far longer than
 * any backlog takes to pass (the old owner stopped coming back for
 * chunks), is released by force: the new owner goes on, out of order for
 * that bucket, and the event is counted. */
#define FENCE_MAX_NS 5000000000ull

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

		wc_chunk_add(e, w, c, q, d->addr, d->len, off, now);
		dq->head = (dq->head + 1) % dq->cap;
		dq->n--;
		n++;
	}
	if (n) {
		wc_chunk_seg_close(c, q, start);
		wc_chunk_account(e, w, c, q, start);
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

/* clear w's divert entry k if it still names fence fi */
static void divert_clear(struct wc_worker *w, size_t k, unsigned fi)
{
	__u16 me = fi + 1;

	if (atomic_compare_exchange_strong(&w->divert[k], &me, 0))
		atomic_fetch_sub(&w->ndiverts, 1);
}

/* New owner: the hand-off first (once `from` finished what it held), then
 * after the release, with the hand-off empty, what it parked. The state is
 * read before the hand-off is drained and the fence is freed under its
 * lock: a push by `from` cannot slip in between. */
void wc_fenced_deliver(struct wc_engine *e, struct wc_worker *w,
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

/* Old owner: once its ring consumer passed pos, every old packet of the
 * bucket is in the hand-off queue: release. Entries of fences released by
 * force (stop, timeout, stuck) are cleared too. */
void wc_fences_check(struct wc_engine *e, struct wc_worker *w)
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
void wc_divert_flush(struct wc_engine *e, struct wc_worker *w,
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
				wc_chunk_add(e, w, c, q, w->divbuf[j].d.addr,
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

/* Old or new owner, in its gather: a packet of bucket (q, bucket) while
 * moves are under way. Diverted (into w->divbuf, handed off by
 * wc_divert_flush) or parked: true; false: the caller delivers it. */
bool wc_fence_take(struct wc_engine *e, struct wc_worker *w, unsigned q,
		   unsigned bucket, const struct xdp_desc *d, bool holds,
		   bool diverts, unsigned *ndiv)
{
	size_t key = (size_t)q * e->buckets + bucket;
	__u16 h;

	if (diverts && (h = atomic_load(&w->divert[key]))) {
		struct wc_fence *f = &e->fences[h - 1];
		int st = atomic_load(&f->state);

		if ((st == WC_FENCE_RESERVED || st == WC_FENCE_ARMING ||
		     st == WC_FENCE_ARMED) &&
		    f->from == w->idx && f->q == q && f->b == bucket) {
			w->divbuf[*ndiv].fence = h - 1;
			w->divbuf[*ndiv].bucket = bucket;
			w->divbuf[*ndiv].d = *d;
			(*ndiv)++;
			return true;
		}
		if (st == WC_FENCE_RELEASED && !atomic_load(&f->forced))
			/* steered before the switch, landed after the grace
			 * period: order not guaranteed */
			atomic_fetch_add(&e->fence_late, 1);
		divert_clear(w, key, h - 1);
	}
	if (holds && (h = atomic_load(&w->hold[key]))) {
		struct wc_fence *f = &e->fences[h - 1];

		if (fence_live(atomic_load(&f->state)) && f->to == w->idx &&
		    f->q == q && f->b == bucket && !descq_push(&f->park, d)) {
			atomic_fetch_add_explicit(&w->parked, 1,
						  memory_order_relaxed);
			return true;
		}
	}
	return false;
}

/* Can (q, b) move now? One move of a bucket at a time. */
bool wc_fence_movable(struct wc_engine *e, size_t k, unsigned from, unsigned to)
{
	struct wc_worker *a = &e->workers[from], *bw = &e->workers[to];

	return from != to && e->fence_npending < WC_MAX_FENCES &&
	       !atomic_load(&bw->hold[k]) && !atomic_load(&a->hold[k]) &&
	       !atomic_load(&bw->divert[k]) && !atomic_load(&a->divert[k]);
}

unsigned wc_fences_pending(const struct wc_engine *e)
{
	return e->fence_npending;
}

/* Start moving (q, b), steered as *cur, to worker `to`. The fence is
 * filled in while RESERVED (only the old owner looks at it then, to
 * divert), published as ARMING, then the new owner's hold is set and the
 * steering switches; the fence is armed after the grace period
 * (wc_fences_arm). *next: the new steering entry. */
int wc_fence_move(struct wc_engine *e, unsigned q, unsigned b,
		  const struct wc_steer *cur, unsigned to,
		  struct wc_steer *next)
{
	size_t k = (size_t)q * e->buckets + b;
	unsigned from = cur->worker;
	struct wc_steer nv = { .worker = to, .gen = cur->gen + 1 };
	struct wc_worker *a = &e->workers[from], *bw = &e->workers[to];
	struct wc_fence *f = NULL;
	__u16 idx;
	int err, st;

	if (!wc_fence_movable(e, k, from, to))
		return -EBUSY;
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		st = WC_FENCE_FREE;
		if (atomic_compare_exchange_strong(&e->fences[i].state, &st,
						   WC_FENCE_RESERVED)) {
			f = &e->fences[i];
			break;
		}
	}
	if (!f)
		return -EBUSY;
	idx = (__u16)(f - e->fences) + 1;
	f->q = q;
	f->b = b;
	f->from = from;
	f->to = to;
	f->pos = 0;
	atomic_store(&f->forced, false);
	/* the old owner diverts what it still has of the bucket ... */
	atomic_store(&a->divert[k], idx);
	atomic_fetch_add(&a->ndiverts, 1);
	/* ... from the chunk after the one it holds now */
	f->s0 = atomic_load(&a->busy_seq);
	st = WC_FENCE_RESERVED;
	if (!atomic_compare_exchange_strong(&f->state, &st, WC_FENCE_ARMING))
		return -EINTR; /* released by a stop meanwhile */
	/* the new owner parks the bucket from the first packet it gets */
	atomic_store(&bw->hold[k], idx);
	atomic_fetch_add(&bw->nholds, 1);
	err = wc_iface__steer_set(e->ifc, q, b, &nv);
	if (err) {
		/* nothing was steered to `to`: release, it frees itself */
		atomic_store(&f->forced, true);
		st = WC_FENCE_ARMING;
		atomic_compare_exchange_strong(&f->state, &st,
					       WC_FENCE_RELEASED);
		return err;
	}
	e->fence_pending[e->fence_npending++] = idx - 1;
	/* a stop's force-release that scanned the fences before this one
	 * was published missed it: release it (and any other) now */
	if (atomic_load(&e->unplugged))
		wc_fences_force_release(e);
	atomic_fetch_add(&e->moves, 1);
	atomic_fetch_add(&a->moves_out, 1);
	atomic_fetch_add(&bw->moves_in, 1);
	*next = nv;
	return 0;
}

/* Once every XDP run that could have read the old steering has ended,
 * everything it redirected is in the old owner's ring: its producer index
 * is the fence. */
void wc_fences_arm(struct wc_engine *e)
{
	if (!e->fence_npending)
		return;
	wc_xdpsync__wait(&e->xsync, GRACE_US);
	for (unsigned i = 0; i < e->fence_npending; i++) {
		struct wc_fence *f = &e->fences[e->fence_pending[i]];
		struct wc_worker *from = &e->workers[f->from];
		int st = WC_FENCE_ARMING;

		f->pos = __atomic_load_n(from->socks[f->q].rx.producer,
					 __ATOMIC_ACQUIRE);
		f->armed_ns = wc_now_mono();
		/* pos and armed_ns are published by the state's release */
		if (atomic_compare_exchange_strong(&f->state, &st,
						   WC_FENCE_ARMED))
			atomic_fetch_add(&e->fences_active, 1);
		wake(from);
	}
	e->fence_npending = 0;
}

void wc_fences_timeouts(struct wc_engine *e, __u64 now)
{
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		struct wc_fence *f = &e->fences[i];
		int st = WC_FENCE_ARMED;

		/* armed_ns may be later than this interval's `now` */
		if (atomic_load(&f->state) != WC_FENCE_ARMED ||
		    (!atomic_load(&e->workers[f->from].stuck) &&
		     (f->armed_ns >= now || now - f->armed_ns < FENCE_MAX_NS)))
			continue;
		atomic_store(&f->forced, true);
		if (atomic_compare_exchange_strong(&f->state, &st,
						   WC_FENCE_RELEASED)) {
			atomic_fetch_sub(&e->fences_active, 1);
			atomic_fetch_add(&e->fence_timeouts, 1);
			wake(&e->workers[f->to]);
			pr_warn("%s: worker %u did not pass its fence on queue %u: bucket %u released to worker %u out of order\n",
				e->ifname, f->from, f->q, f->b, f->to);
		}
	}
}
