// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Streaming merge by timestamp (reorder.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reorder.h"

#define SLAB_SIZE (1u << 20)
#define DEFAULT_MAX_BYTES (256ull << 20)

struct slab {
	uint32_t refs; /* entries pointing into it */
	uint32_t size, used;
	char data[];
};

struct entry {
	uint64_t ts;
	struct slab *slab;
	uint32_t off, caplen, len, queue;
};

/* a FIFO ring of entries, in the order the source delivered them */
struct source {
	struct entry *e;
	uint32_t cap, head, n;
	uint64_t last_ts; /* newest timestamp delivered */
	uint64_t horizon; /* found empty at this time */
	int heap_pos; /* -1: not in the heap (no entry held) */
};

struct wc_reorder {
	unsigned ns;
	struct source *src;
	unsigned *heap; /* sources holding entries, by head timestamp */
	unsigned heap_n;
	uint64_t delay_ns, last_emit_ts;
	uint32_t snaplen;
	size_t max_bytes;
	struct slab *cur, *spare;
	struct wc_reorder_stats st;
};

static uint64_t head_ts(const struct wc_reorder *r, unsigned s)
{
	const struct source *so = &r->src[s];

	return so->e[so->head].ts;
}

static bool heap_less(const struct wc_reorder *r, unsigned a, unsigned b)
{
	uint64_t ta = head_ts(r, a), tb = head_ts(r, b);

	return ta < tb || (ta == tb && a < b);
}

static void heap_set(struct wc_reorder *r, unsigned i, unsigned s)
{
	r->heap[i] = s;
	r->src[s].heap_pos = (int)i;
}

static void sift_up(struct wc_reorder *r, unsigned i)
{
	unsigned s = r->heap[i];

	while (i > 0) {
		unsigned p = (i - 1) / 2;

		if (!heap_less(r, s, r->heap[p]))
			break;
		heap_set(r, i, r->heap[p]);
		i = p;
	}
	heap_set(r, i, s);
}

static void sift_down(struct wc_reorder *r, unsigned i)
{
	unsigned s = r->heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= r->heap_n)
			break;
		if (c + 1 < r->heap_n &&
		    heap_less(r, r->heap[c + 1], r->heap[c]))
			c++;
		if (!heap_less(r, r->heap[c], s))
			break;
		heap_set(r, i, r->heap[c]);
		i = c;
	}
	heap_set(r, i, s);
}

struct wc_reorder *wc_reorder__new(unsigned sources, uint64_t delay_ns,
				   uint32_t snaplen, size_t max_bytes)
{
	struct wc_reorder *r;

	if (!sources || !snaplen) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->src = calloc(sources, sizeof(*r->src));
	r->heap = calloc(sources, sizeof(*r->heap));
	if (!r->src || !r->heap) {
		free(r->src);
		free(r->heap);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned s = 0; s < sources; s++)
		r->src[s].heap_pos = -1;
	r->ns = sources;
	r->delay_ns = delay_ns;
	r->snaplen = snaplen;
	r->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
	return r;
}

static void slab_put(struct wc_reorder *r, struct slab *sl)
{
	if (--sl->refs || sl == r->cur)
		return;
	if (!r->spare && sl->size == SLAB_SIZE) {
		sl->used = 0;
		r->spare = sl;
	} else {
		free(sl);
	}
}

static struct slab *slab_for(struct wc_reorder *r, uint32_t need)
{
	struct slab *sl = r->cur;

	if (sl && sl->size - sl->used >= need)
		return sl;
	if (sl && !sl->refs) {
		/* nothing points into it any more: start it over */
		if (sl->size >= need) {
			sl->used = 0;
			return sl;
		}
		free(sl);
	}
	r->cur = NULL;
	if (need <= SLAB_SIZE && r->spare) {
		sl = r->spare;
		r->spare = NULL;
	} else {
		uint32_t size = need > SLAB_SIZE ? need : SLAB_SIZE;

		sl = malloc(sizeof(*sl) + size);
		if (!sl)
			return NULL;
		sl->size = size;
	}
	sl->refs = 0;
	sl->used = 0;
	r->cur = sl;
	return sl;
}

int wc_reorder__push(struct wc_reorder *r, unsigned src, uint64_t ts_ns,
		     const void *data, uint32_t len, uint32_t queue)
{
	uint32_t caplen = len < r->snaplen ? len : r->snaplen;
	struct source *so;
	struct slab *sl;
	struct entry *e;

	if (!r || src >= r->ns)
		return -EINVAL;
	so = &r->src[src];
	if (so->n == so->cap) {
		uint32_t ncap = so->cap ? so->cap * 2 : 256;
		struct entry *ne = malloc((size_t)ncap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		for (uint32_t i = 0; i < so->n; i++)
			ne[i] = so->e[(so->head + i) % so->cap];
		free(so->e);
		so->e = ne;
		so->cap = ncap;
		so->head = 0;
	}
	sl = slab_for(r, caplen);
	if (!sl)
		return -ENOMEM;
	e = &so->e[(so->head + so->n) % so->cap];
	e->ts = ts_ns;
	e->slab = sl;
	e->off = sl->used;
	e->caplen = caplen;
	e->len = len;
	e->queue = queue;
	memcpy(sl->data + sl->used, data, caplen);
	sl->used += caplen;
	sl->refs++;
	so->n++;
	if (ts_ns > so->last_ts)
		so->last_ts = ts_ns;
	if (so->n == 1) {
		r->heap_n++;
		heap_set(r, r->heap_n - 1, src);
		sift_up(r, r->heap_n - 1);
	}
	r->st.pushed++;
	r->st.pending++;
	r->st.pending_bytes += caplen;
	if (r->st.pending_bytes > r->st.max_pending_bytes)
		r->st.max_pending_bytes = r->st.pending_bytes;
	return 0;
}

void wc_reorder__horizon(struct wc_reorder *r, unsigned src, uint64_t ts_ns)
{
	if (r && src < r->ns && ts_ns > r->src[src].horizon)
		r->src[src].horizon = ts_ns;
}

/* no source can deliver anything older than this any more */
static uint64_t watermark(const struct wc_reorder *r)
{
	uint64_t w = UINT64_MAX;

	for (unsigned s = 0; s < r->ns; s++) {
		const struct source *so = &r->src[s];
		uint64_t h =
			so->last_ts > so->horizon ? so->last_ts : so->horizon;

		if (h < w)
			w = h;
	}
	return w;
}

/* pop the oldest head and hand it to emit */
static int emit_one(struct wc_reorder *r, wc_reorder_emit_fn emit, void *ctx)
{
	unsigned s = r->heap[0];
	struct source *so = &r->src[s];
	struct entry e = so->e[so->head];
	int err = 0;

	so->head = (so->head + 1) % so->cap;
	so->n--;
	if (so->n) {
		sift_down(r, 0);
	} else {
		so->heap_pos = -1;
		if (--r->heap_n) {
			heap_set(r, 0, r->heap[r->heap_n]);
			sift_down(r, 0);
		}
	}
	if (emit)
		err = emit(ctx, e.ts, e.slab->data + e.off, e.caplen, e.len,
			   e.queue);
	if (e.ts < r->last_emit_ts)
		r->st.late++;
	else
		r->last_emit_ts = e.ts;
	r->st.emitted++;
	r->st.pending--;
	r->st.pending_bytes -= e.caplen;
	slab_put(r, e.slab);
	return err;
}

int wc_reorder__release(struct wc_reorder *r, uint64_t now_ns,
			wc_reorder_emit_fn emit, void *ctx)
{
	uint64_t w, old;
	int err;

	if (!r || !r->heap_n)
		return 0;
	w = watermark(r);
	old = now_ns > r->delay_ns ? now_ns - r->delay_ns : 0;
	if (old > w)
		w = old;
	while (r->heap_n) {
		bool full = r->st.pending_bytes > r->max_bytes;

		if (head_ts(r, r->heap[0]) > w && !full)
			break;
		if (full && head_ts(r, r->heap[0]) > w)
			r->st.forced++;
		err = emit_one(r, emit, ctx);
		if (err)
			return err;
	}
	return 0;
}

int wc_reorder__flush(struct wc_reorder *r, wc_reorder_emit_fn emit, void *ctx)
{
	int err;

	while (r && r->heap_n) {
		err = emit_one(r, emit, ctx);
		if (err)
			return err;
	}
	return 0;
}

uint64_t wc_reorder__discard(struct wc_reorder *r)
{
	uint64_t n = 0;

	while (r && r->heap_n) {
		struct source *so = &r->src[r->heap[0]];

		/* drop without emitting: not counted as emitted */
		while (so->n) {
			struct entry *e = &so->e[so->head];

			r->st.pending--;
			r->st.pending_bytes -= e->caplen;
			slab_put(r, e->slab);
			so->head = (so->head + 1) % so->cap;
			so->n--;
			n++;
		}
		so->heap_pos = -1;
		if (--r->heap_n) {
			heap_set(r, 0, r->heap[r->heap_n]);
			sift_down(r, 0);
		}
	}
	return n;
}

void wc_reorder__stats(const struct wc_reorder *r, struct wc_reorder_stats *s)
{
	if (r)
		*s = r->st;
	else
		memset(s, 0, sizeof(*s));
}

void wc_reorder__free(struct wc_reorder *r)
{
	if (!r)
		return;
	wc_reorder__discard(r);
	for (unsigned s = 0; s < r->ns; s++)
		free(r->src[s].e);
	free(r->cur);
	free(r->spare);
	free(r->src);
	free(r->heap);
	free(r);
}
