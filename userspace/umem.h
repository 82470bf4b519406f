/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* UMEM sizing, memory checks, allocation and population (umem.c). */
#ifndef WIRECAP_UMEM_H
#define WIRECAP_UMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "wirecap/wirecap.h"

struct wc_engine;

static inline bool wc_cancelled(const volatile int *cancel)
{
	return cancel && *cancel;
}

/* the smallest power of two >= v, capped at the largest ring */
__u32 wc_pow2_at_least(__u64 v);
/* the engine's geometry from its options (or its UMEM owner's): frame,
 * chunk and ring sizes, umem_len and the offsets of the areas in it */
int wc_umem_size(struct wc_engine *e, const struct wc_engine_opts *o);
/* map *alen bytes (rounded up to 2 MiB with huge pages) without faulting
 * them in: the checks and the page kind of wc_umem_alloc() */
int wc_umem_map(void **area, size_t *alen, __u32 *kind, enum wc_huge_mode huge,
		int zc_capable, bool reserve);

/* Faulting memory in on helper threads, in order, 32 MiB at a time,
 * @cancel checked between slices. wait: until [area, area + upto) is in
 * (the caller helps): 0, -EINTR, -ENOMEM (said in one line). end: joins
 * the helpers (abandon: they stop after their slice); the memory may be
 * unmapped only after it. */
struct wc_populate;
int wc_populate_start(struct wc_populate **pp, void *area, size_t len,
		      const volatile int *cancel);
int wc_populate_wait(struct wc_populate *pp, size_t upto);
int wc_populate_end(struct wc_populate *pp, bool abandon);
/* the helpers and the waiters stop after their slice (-ECANCELED) */
void wc_populate_cancel(struct wc_populate *pp);

/* map and fault in *alen bytes (rounded up to 2 MiB with huge pages);
 * *kind: the WC_PAGES_* the memory got. zc_capable: transparent huge pages
 * only for zero-copy drivers. RLIMIT_MEMLOCK is checked first; reserve:
 * and the memory the machine must keep free (the engine's pools, not a
 * port's small TX area). @cancel is checked between slices. */
int wc_umem_alloc(void **area, size_t *alen, __u32 *kind,
		  enum wc_huge_mode huge, int zc_capable, bool reserve,
		  const volatile int *cancel);

#endif
