/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The in-order bucket move, both sides (fence.c; states in engine.h). */
#ifndef WIRECAP_FENCE_H
#define WIRECAP_FENCE_H

#include "engine.h"

/* ---- the mover (the monitor thread) ---- */

/* can the bucket of steering key k move from `from` to `to` now? One move
 * of a bucket at a time, and a fence free for it */
bool wc_fence_movable(struct wc_engine *e, size_t k, unsigned from,
		      unsigned to);
/* fences moved and not armed yet */
unsigned wc_fences_pending(const struct wc_engine *e);
/* start moving (q, b), steered as *cur, to worker `to`: 0 and *next the
 * new steering entry, -EBUSY (not movable now), -EINTR (a stop released
 * it), or the steering map's error */
int wc_fence_move(struct wc_engine *e, unsigned q, unsigned b,
		  const struct wc_steer *cur, unsigned to,
		  struct wc_steer *next);
/* after the grace period (it sleeps for it): arm the pending fences */
void wc_fences_arm(struct wc_engine *e);
/* release by force the fences of stuck old owners, and those armed for
 * too long */
void wc_fences_timeouts(struct wc_engine *e, __u64 now);
/* release every fence not free (stop) */
void wc_fences_force_release(struct wc_engine *e);

/* ---- the workers (their gather, rx.c) ---- */

/* new owner: deliver the hand-off, then after the release the parked
 * packets, into chunk c */
void wc_fenced_deliver(struct wc_engine *e, struct wc_worker *w,
		       struct wc_chunk *c, __s64 off, __u64 *now);
/* a packet of a bucket under a move: diverted or parked (true), or to be
 * delivered by the caller (false) */
bool wc_fence_take(struct wc_engine *e, struct wc_worker *w, unsigned q,
		   unsigned bucket, const struct xdp_desc *d, bool holds,
		   bool diverts, unsigned *ndiv);
/* old owner: hand one gather's diverted packets of queue q over */
void wc_divert_flush(struct wc_engine *e, struct wc_worker *w,
		     struct wc_chunk *c, unsigned n, unsigned q, __s64 off,
		     __u64 *now);
/* old owner: release the fences it has passed */
void wc_fences_check(struct wc_engine *e, struct wc_worker *w);

#endif
