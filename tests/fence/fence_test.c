// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Regression tests for the in-order bucket move ("fences", docs/monitor.md
 * "The in-order move"): fence.c, with the gather and capture of rx.c and
 * the pools and chunks of pool.c, is linked (not the rest of the library:
 * the interface functions are stubs here) and runs on fake AF_XDP rings in
 * plain memory, single-threaded. Thread interleavings are forced at two
 * points, by wrapping library calls at link time (ld --wrap):
 *  - the unlock of a chosen lock (pthread_mutex_unlock): "the other thread
 *    runs right here";
 *  - nanosleep: a worker that waits lets the other thread run.
 *    Sleeps take no time: a virtual clock (clock_gettime is wrapped)
 *    advances by the duration instead.
 * The fake "kernel" takes frames from a pool's fill ring, writes the
 * struct wc_meta and a payload (flow and sequence number) and posts the
 * descriptor on the rx ring of the worker the (fake) steering map names.
 * The monitor's side of a move is its call of wc_fence_move and
 * wc_fences_arm; a stuck worker is the flag the monitor sets.
 *
 * Built by `make` (see the Makefile's $(FENCE) rule for the objects and
 * the --wrap flags). Run: build/tests/fence_test (CK_FORK=yes: each test
 * in its own process; CK_RUN_CASE / CK_RUN_SUITE select;
 * FENCE_TEST_VERBOSE=1 shows the library's messages). Exit status 1 if
 * any test failed.
 */
#include <pthread.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

/* ---- interleaving hooks (ld --wrap) ------------------------------------ */

/* one-shot: run `fn` right after the next unlock of `lock` */
static pthread_mutex_t *hk_lock;
static void (*hk_fn)(void);

int __real_pthread_mutex_unlock(pthread_mutex_t *m);
int __real_clock_gettime(clockid_t id, struct timespec *ts);

int __wrap_pthread_mutex_unlock(pthread_mutex_t *m)
{
	int r = __real_pthread_mutex_unlock(m);

	if (hk_fn && m == hk_lock) {
		void (*fn)(void) = hk_fn;

		hk_fn = NULL;
		fn();
	}
	return r;
}

/* virtual time: sleeps advance it instead of sleeping */
static uint64_t vclock_ns;
static void (*sl_fn)(void); /* one-shot: runs at the next sleep */

int __wrap_nanosleep(const struct timespec *ts, struct timespec *rem)
{
	(void)rem;
	vclock_ns += (uint64_t)ts->tv_sec * 1000000000ull + ts->tv_nsec;
	if (sl_fn) {
		void (*fn)(void) = sl_fn;

		sl_fn = NULL;
		fn();
	}
	return 0;
}

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = __real_clock_gettime(id, ts);
	uint64_t ns =
		(uint64_t)ts->tv_sec * 1000000000ull + ts->tv_nsec + vclock_ns;

	ts->tv_sec = ns / 1000000000ull;
	ts->tv_nsec = ns % 1000000000ull;
	return r;
}

#include "engine.h"
#include "fence.h"
#include "pool.h"
#include "rx.h"

#include <check.h>

/* an assertion for hot paths: Check records the location of every
 * ck_assert (a write(2) each), this one costs nothing unless it fails */
#define REQUIRE(cond, ...)                         \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* ---- stubs for the rest of the library -------------------------------- */

static struct wc_iface IFC;
static struct wc_steer *STEER; /* the fake steering map, Q * B */

void wc_pr(enum wc_print_level l, const char *fmt, ...)
{
	va_list ap;

	(void)l;
	if (!getenv("FENCE_TEST_VERBOSE"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "  [lib] ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int wc_iface__map_fd(const struct wc_iface *i, enum wc_map_id m)
{
	(void)i;
	(void)m;
	return -1;
}

int wc_iface__steer_set(struct wc_iface *i, __u32 q, __u32 b,
			const struct wc_steer *s)
{
	STEER[(size_t)q * i->cfg.buckets + b] = *s;
	return 0;
}

int wc_iface_queue_sums(const struct wc_iface *i, __u32 q,
			struct wc_queue_stats *o)
{
	(void)i;
	(void)q;
	memset(o, 0, sizeof(*o));
	return 0;
}

void wc_engine_info_put(struct wc_iface_engine_info *o,
			const struct wc_engine_info *ei, bool alive)
{
	(void)o;
	(void)ei;
	(void)alive;
}

/* ---- the fake engine ---------------------------------------------------- */

#define RING 4096u /* every rx and fill ring */
#define HEADROOM 256u /* packet data offset in its frame */
#define FRAME 2048u

struct rxr {
	__u32 prod, cons, flags, pad;
	struct xdp_desc d[RING];
};

struct fqr {
	__u32 prod, cons, flags, pad;
	__u64 a[RING];
};

/* what the fake kernel writes as packet data */
struct payload {
	__u32 seq;
	__u16 q, b;
};

static struct wc_engine *E;
enum { A = 0, B = 1 }; /* worker indexes: A the old owner, B the new one */

static struct wc_engine *mk(unsigned nq, unsigned nw, unsigned cs,
			    unsigned buckets, unsigned nframes)
{
	struct wc_engine *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_le(nframes, RING);
	memset(&IFC, 0, sizeof(IFC));
	snprintf(IFC.ifname, sizeof(IFC.ifname), "fake0");
	IFC.cfg.meta_enabled = 1;
	IFC.cfg.buckets = buckets;
	IFC.cfg.queues = nq;
	IFC.cfg.workers = nw;
	IFC.cfg.steer_mode = WC_STEER_QUEUE;
	STEER = calloc((size_t)nq * buckets, sizeof(*STEER));
	ck_assert_ptr_nonnull(STEER);
	for (unsigned q = 0; q < nq; q++)
		for (unsigned b = 0; b < buckets; b++)
			STEER[(size_t)q * buckets + b].worker =
				q % nw; /* home */

	e->ifc = &IFC;
	snprintf(e->ifname, sizeof(e->ifname), "fake0");
	e->nq = nq;
	e->nw = nw;
	e->frame_size = FRAME;
	e->chunk_size = cs;
	e->chunks = 64;
	e->rx_size = RING;
	e->fq_size = RING;
	e->wait = WC_WAIT_POLL;
	e->chunk_timeout_us = 1000;
	e->buckets = buckets;
	e->stop_efd = -1;
	e->xsync.outer = e->xsync.inner =
		-1; /* the grace by nanosleep (wrapped) */
	e->umem_len = (size_t)nq * nframes * FRAME;
	e->umem = calloc(1, e->umem_len);
	ck_assert_ptr_nonnull(e->umem);
	pthread_mutex_init(&e->stats_lock, NULL);
	e->pools = calloc(nq, sizeof(*e->pools));
	ck_assert_ptr_nonnull(e->pools);
	for (unsigned q = 0; q < nq; q++) {
		struct fqr *r = calloc(1, sizeof(*r));
		struct wc_pool *p = &e->pools[q];

		ck_assert_ptr_nonnull(r);
		pthread_mutex_init(&p->lock, NULL);
		p->queue = q;
		p->nframes = nframes;
		p->base = (__u64)q * nframes * FRAME;
		p->fd = -1;
		p->fq.producer = &r->prod;
		p->fq.consumer = &r->cons;
		p->fq.flags = &r->flags;
		p->fq.ring = r->a;
		p->fq.size = RING;
		p->fq.mask = RING - 1;
		p->fq.cached_cons = RING; /* a producer's is `size` ahead */
		ck_assert_int_eq(wc_pool_fill(e, p), 0);
	}
	for (unsigned i = 0; i < WC_MAX_FENCES; i++)
		pthread_mutex_init(&e->fences[i].lock, NULL);
	e->workers = calloc(nw, sizeof(*e->workers));
	ck_assert_ptr_nonnull(e->workers);
	for (unsigned w = 0; w < nw; w++) {
		struct wc_worker *wk = &e->workers[w];

		wk->e = e;
		wk->idx = w;
		wk->wake_efd = -1;
		atomic_store(&wk->cpu, -1);
		wk->socks = calloc(nq, sizeof(*wk->socks));
		wk->qpackets = calloc(nq, sizeof(*wk->qpackets));
		wk->qbytes = calloc(nq, sizeof(*wk->qbytes));
		wk->hold = calloc((size_t)nq * buckets, sizeof(*wk->hold));
		wk->divert = calloc((size_t)nq * buckets, sizeof(*wk->divert));
		wk->divbuf = calloc(cs, sizeof(*wk->divbuf));
		ck_assert(wk->socks && wk->qpackets && wk->qbytes && wk->hold &&
			  wk->divert && wk->divbuf);
		for (unsigned q = 0; q < nq; q++) {
			struct rxr *r = calloc(1, sizeof(*r));
			struct wc_sock *s = &wk->socks[q];

			ck_assert_ptr_nonnull(r);
			s->fd = -1;
			s->queue = q;
			s->rx.producer = &r->prod;
			s->rx.consumer = &r->cons;
			s->rx.flags = &r->flags;
			s->rx.ring = r->d;
			s->rx.size = RING;
			s->rx.mask = RING - 1;
		}
	}
	return e;
}

static void free_chunks(struct wc_chunk *c)
{
	while (c) {
		struct wc_chunk *n = c->next;

		free(c->seg);
		free(c->addr);
		free(c);
		c = n;
	}
}

static void teardown(void)
{
	struct wc_engine *e = E;

	if (!e)
		return;
	for (unsigned w = 0; w < e->nw; w++) {
		struct wc_worker *wk = &e->workers[w];

		free_chunks(wk->free);
		free_chunks(atomic_exchange(&wk->returned, NULL));
		for (unsigned q = 0; q < e->nq; q++)
			free((void *)wk->socks[q].rx.producer);
		free(wk->socks);
		free((void *)wk->qpackets);
		free((void *)wk->qbytes);
		free((void *)wk->hold);
		free((void *)wk->divert);
		free(wk->divbuf);
	}
	for (unsigned q = 0; q < e->nq; q++)
		free(e->pools[q].fq.producer);
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		free(e->fences[i].hand.v);
		free(e->fences[i].park.v);
	}
	free(e->workers);
	free(e->pools);
	free(e->umem);
	free(e);
	free(STEER);
	E = NULL;
	STEER = NULL;
}

static void log_reset(void);

static void setup(void)
{
	E = NULL;
	hk_fn = NULL;
	hk_lock = NULL;
	sl_fn = NULL;
	vclock_ns = 0;
	log_reset();
}

static size_t key(unsigned q, unsigned b)
{
	return (size_t)q * E->buckets + b;
}

/* the monitor's move of (q, b) to worker `to`: from the entry the steering
 * map has (the monitor's copy of it is the same) */
static int move_bucket(unsigned q, unsigned b, unsigned to)
{
	struct wc_steer cur = STEER[key(q, b)], next;

	return wc_fence_move(E, q, b, &cur, to, &next);
}

/*
 * The fake kernel: one packet of flow (q, b) with sequence number seq. It
 * takes a frame from pool q's fill ring and posts it on the rx ring q of
 * worker `w`, or (w < 0) of the worker the steering map names.
 */
static void inject_to(unsigned q, unsigned b, __u32 seq, int w)
{
	struct wc_pool *p = &E->pools[q];
	__u32 fprod = __atomic_load_n(p->fq.producer, __ATOMIC_ACQUIRE);
	__u32 fcons = *p->fq.consumer;
	struct wc_steer st = STEER[key(q, b)];
	struct wc_sock *s;
	struct wc_meta *m;
	struct payload *pl;
	__u64 frame, addr;
	__u32 prod;

	REQUIRE(fprod != fcons, "queue %u: fill ring empty (pool exhausted)",
		q);
	frame = ((__u64 *)p->fq.ring)[fcons & p->fq.mask];
	__atomic_store_n(p->fq.consumer, fcons + 1, __ATOMIC_RELEASE);
	REQUIRE(frame % FRAME == 0 && frame >= p->base &&
			frame < p->base + (__u64)p->nframes * FRAME,
		"queue %u: bad frame %llu in the fill ring", q,
		(unsigned long long)frame);
	if (w < 0)
		w = (int)st.worker;
	s = &E->workers[w].socks[q];
	addr = frame + HEADROOM;
	m = (void *)((char *)E->umem + addr - sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->bucket = b;
	m->queue = q;
	m->worker = w;
	m->gen = st.gen;
	pl = (void *)((char *)E->umem + addr);
	pl->seq = seq;
	pl->q = q;
	pl->b = b;
	prod = *s->rx.producer;
	REQUIRE(prod - *s->rx.consumer < RING, "rx ring full");
	/* as the XDP program posts it: the metadata prepended to the
	 * packet, inside the descriptor */
	((struct xdp_desc *)s->rx.ring)[prod & s->rx.mask] =
		(struct xdp_desc){ .addr = addr - sizeof(*m),
				   .len = 64 + sizeof(*m) };
	__atomic_store_n(s->rx.producer, prod + 1, __ATOMIC_RELEASE);
}

static void inject(unsigned q, unsigned b, __u32 seq)
{
	inject_to(q, b, seq, -1);
}

/* ---- delivery log ------------------------------------------------------- */

#define MAXLOG 65536
struct dlv {
	unsigned w, q, b, seq;
};
static struct dlv LOG[MAXLOG];
static char CTX[64]; /* names the random schedule in failure messages */
static unsigned NLOG;

static void log_reset(void)
{
	NLOG = 0;
}

/* the application: takes note of the chunk's packets, recycles it */
static void consume(struct wc_chunk *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		const struct payload *pl = c->pkts[i].data;

		REQUIRE(NLOG < MAXLOG, "delivery log full");
		REQUIRE(pl->q == c->pkts[i].queue,
			"packet of queue %u delivered as queue %u", pl->q,
			c->pkts[i].queue);
		LOG[NLOG++] = (struct dlv){ c->w->idx, pl->q, pl->b, pl->seq };
	}
	wc_chunk__recycle(c);
}

/* the delivered sequence numbers of flow (q, b), in delivery order */
static unsigned flow(unsigned q, unsigned b, unsigned *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NLOG; i++)
		if (LOG[i].q == q && LOG[i].b == b && n < max)
			out[n++] = LOG[i].seq;
	return n;
}

/* flow (q, b) was delivered as exactly 0, 1, ..., n-1 */
static void assert_flow_exact(unsigned q, unsigned b, unsigned n)
{
	static unsigned got[MAXLOG];
	unsigned k = flow(q, b, got, MAXLOG), p = 0;

	while (p < k && p < n && got[p] == p)
		p++;
	if (p == n && k == n)
		return;
	fprintf(stderr,
		"  %sflow (%u,%u): in order up to position %u, then:", CTX, q,
		b, p);
	for (unsigned i = p; i < k && i < p + 24; i++)
		fprintf(stderr, " %u", got[i]);
	fprintf(stderr, "%s\n", k > p + 24 ? " ..." : "");
	ck_abort_msg(
		"%sflow (%u,%u): %u packets delivered, expected seq 0..%u in order "
		"(first deviation at position %u)",
		CTX, q, b, k, n - 1, p);
}

/* flow (q, b): every one of 0..n-1 delivered exactly once, any order */
static void assert_flow_once(unsigned q, unsigned b, unsigned n)
{
	static unsigned got[MAXLOG];
	static unsigned char seen[MAXLOG];
	unsigned k = flow(q, b, got, MAXLOG), bad = 0, missing = 0;

	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < k; i++) {
		if (got[i] >= n || seen[got[i]]++)
			bad++; /* unknown or duplicate */
	}
	for (unsigned i = 0; i < n; i++)
		missing += !seen[i];
	if (!bad && !missing)
		return;
	fprintf(stderr, "  %sflow (%u,%u) missing:", CTX, q, b);
	for (unsigned i = 0, m = 0; i < n && m < 24; i++)
		if (!seen[i] && ++m)
			fprintf(stderr, " %u", i);
	fprintf(stderr, "%s\n", missing > 24 ? " ..." : "");
	ck_abort_msg(
		"%sflow (%u,%u): %u packets delivered, expected each of 0..%u once "
		"(%u missing, %u duplicate or unknown)",
		CTX, q, b, k, n - 1, missing, bad);
}

/* ---- workers ------------------------------------------------------------ */

/* one wc_worker__capture call (no waiting), its chunk consumed */
static int cap(unsigned w)
{
	struct wc_chunk *c = NULL;
	int r = wc_worker__capture(&E->workers[w], &c, 0);

	if (r > 0)
		consume(c);
	else
		REQUIRE(!c, "capture returned %d and a chunk", r);
	return r;
}

/* a capture call taken apart, to stop a worker inside one: begin, any
 * number of gathers, end (the chunk is returned to the application) */
static struct wc_chunk *cap_begin(unsigned w)
{
	struct wc_worker *wk = &E->workers[w];
	struct wc_chunk *c = wc_chunk_get(wk);

	ck_assert_ptr_nonnull(c);
	atomic_fetch_add(&wk->busy_seq, 1);
	atomic_store(&wk->idle_seq, 0);
	return c;
}

static void cap_end(unsigned w, struct wc_chunk *c)
{
	struct wc_worker *wk = &E->workers[w];

	atomic_fetch_add(&wk->busy_seq, 1);
	if (!c->n) {
		c->next = wk->free;
		wk->free = c;
		return;
	}
	atomic_fetch_add(&wk->packets, c->n);
	atomic_fetch_add(&wk->held_frames, c->n);
	atomic_fetch_add(&wk->held_chunks, 1);
	consume(c);
}

/* frames captured and not returned to pool q's fill ring */
static __u64 in_use(unsigned q)
{
	__u64 n;

	wc_pool_in_use(&E->pools[q], &n);
	return n;
}

static unsigned fence_of(unsigned w, unsigned q, unsigned b)
{
	__u16 h = atomic_load(&E->workers[w].hold[key(q, b)]);

	ck_assert_msg(h, "worker %u holds no fence for (%u,%u)", w, q, b);
	return h - 1u;
}

/* invariants that hold between any two steps */
static void check_invariants(void)
{
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		struct wc_fence *f = &E->fences[i];

		if (atomic_load(&f->state) != WC_FENCE_FREE)
			continue;
		REQUIRE(!f->hand.n && !f->park.n,
			"%sfence %u is FREE with %u handed-off and %u parked packets "
			"(stranded: never delivered)",
			CTX, i, f->hand.n, f->park.n);
	}
}

/* nothing of a move left anywhere */
static void assert_quiescent(void)
{
	__u64 parked = 0;

	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		struct wc_fence *f = &E->fences[i];

		REQUIRE(atomic_load(&f->state) == WC_FENCE_FREE && !f->hand.n &&
				!f->park.n,
			"%sfence %u: state %d, hand %u, park %u", CTX, i,
			atomic_load(&f->state), f->hand.n, f->park.n);
	}
	for (unsigned w = 0; w < E->nw; w++) {
		struct wc_worker *wk = &E->workers[w];

		parked += atomic_load(&wk->parked);
		REQUIRE(!atomic_load(&wk->nholds) &&
				!atomic_load(&wk->ndiverts),
			"%sworker %u: nholds %d ndiverts %d", CTX, w,
			atomic_load(&wk->nholds), atomic_load(&wk->ndiverts));
		for (size_t k = 0; k < (size_t)E->nq * E->buckets; k++)
			REQUIRE(!atomic_load(&wk->hold[k]) &&
					!atomic_load(&wk->divert[k]),
				"%sworker %u: (q %zu, b %zu) hold %u divert %u",
				CTX, w, k / E->buckets, k % E->buckets,
				atomic_load(&wk->hold[k]),
				atomic_load(&wk->divert[k]));
	}
	REQUIRE(!parked, "%s%llu packets parked", CTX,
		(unsigned long long)parked);
	REQUIRE(!atomic_load(&E->fences_active), "%sfences_active %d", CTX,
		atomic_load(&E->fences_active));
	for (unsigned q = 0; q < E->nq; q++)
		REQUIRE(in_use(q) == 0,
			"%squeue %u: %llu frames never returned", CTX, q,
			(unsigned long long)in_use(q));
}

/* ---- T1: segments of a chunk ------------------------------------------- */

/*
 * 64 queues, chunk_size 1024: six gathers into one chunk (a WC_WAIT_CHUNK
 * capture makes about eight), one packet per queue each time. Every
 * (gather, queue) is a segment: 384 of them, more than the nq +
 * WC_MAX_FENCES = 320 the array once had (a heap overflow, seen by ASan).
 */
START_TEST(t1_segments_fit)
{
	struct wc_chunk *c;
	unsigned nq = 64, cs = 1024, total = 0;

	E = mk(nq, 1, cs, 16, 512);
	c = cap_begin(A);
	for (unsigned g = 0; g < 6; g++) {
		for (unsigned q = 0; q < nq; q++)
			inject(q, 0, g);
		wc_gather(&E->workers[A], c);
		total += nq;
		ck_assert_uint_eq(c->n, total);
		ck_assert_uint_le(c->nseg, cs);
		ck_assert_msg(
			c->nseg * sizeof(*c->seg) <= malloc_usable_size(c->seg),
			"gather %u: %u segments overflow the array (%zu bytes)",
			g, c->nseg, malloc_usable_size(c->seg));
	}
	ck_assert_uint_eq(c->nseg, 6 * nq);
	{
		unsigned sum = 0;

		for (unsigned i = 0; i < c->nseg; i++)
			sum += c->seg[i].count;
		ck_assert_uint_eq(sum, c->n);
	}
	cap_end(A, c);
	ck_assert_uint_eq(NLOG, 6 * nq);
	for (unsigned q = 0; q < nq; q++)
		assert_flow_exact(q, 0, 6);
	for (unsigned q = 0; q < nq; q++)
		ck_assert_uint_eq(in_use(q), 0);
}
END_TEST

/* one queue, many gathers into one chunk: its segments are merged into
 * one (one lock of the pool per chunk at recycling) */
START_TEST(t1_segments_merged)
{
	struct wc_chunk *c;

	E = mk(1, 1, 1024, 16, 1024);
	c = cap_begin(A);
	for (unsigned g = 0; g < 40; g++) {
		for (unsigned k = 0; k < 3; k++)
			inject(0, 0, g * 3 + k);
		wc_gather(&E->workers[A], c);
		ck_assert_uint_eq(c->n, (g + 1) * 3);
		ck_assert_uint_eq(c->nseg, 1);
	}
	ck_assert_uint_eq(c->seg[0].count, 120);
	cap_end(A, c);
	assert_flow_exact(0, 0, 120);
	ck_assert_uint_eq(in_use(0), 0);
}
END_TEST

/*
 * A worker's rings count as drained (wc_worker__drained_ns(), the time up
 * to which the capture writer and libwirecap-pcap release packets of other
 * workers) only when they are really empty. A peek that returns fewer than
 * the chunk's room may only have used up the cached view of the ring while
 * the kernel posted more since: the capture then wrote the other worker's
 * newer packets first (`time_order.late` at a few thousand pps).
 */
START_TEST(t1_drained_only_when_empty)
{
	struct wc_worker *wk;
	struct wc_chunk *c;
	__u64 before, after;

	E = mk(2, 1, 8, 16, 512);
	wk = &E->workers[A];
	for (unsigned k = 0; k < 12; k++)
		inject(0, 0, k);
	c = cap_begin(A);
	wc_gather(wk, c); /* 8 of the 12: the chunk is full */
	ck_assert_uint_eq(c->n, 8);
	cap_end(A, c);
	ck_assert_uint_eq(wc_worker__drained_ns(wk), 0);
	/* the kernel posts 10 more; the cached view still has 4 */
	for (unsigned k = 12; k < 22; k++)
		inject(0, 0, k);
	vclock_ns += 1000000;
	c = cap_begin(A);
	wc_gather(wk, c);
	ck_assert_uint_eq(c->n, 4); /* a partial chunk, rings not empty */
	cap_end(A, c);
	ck_assert_msg(wc_worker__drained_ns(wk) == 0,
		      "drained with 10 packets in the ring");
	c = cap_begin(A);
	wc_gather(wk, c);
	ck_assert_uint_eq(c->n, 8);
	cap_end(A, c);
	ck_assert_uint_eq(wc_worker__drained_ns(wk), 0);
	vclock_ns += 1000000;
	/* the engine's clock: its packets' (the fake kernel stamps none) */
	before = wc_now_mono() + (__u64)atomic_load(&E->rt_off);
	c = cap_begin(A);
	wc_gather(wk, c); /* the last 2: now every ring is empty */
	ck_assert_uint_eq(c->n, 2);
	cap_end(A, c);
	after = wc_now_mono() + (__u64)atomic_load(&E->rt_off);
	ck_assert_uint_ge(wc_worker__drained_ns(wk), before);
	ck_assert_uint_le(wc_worker__drained_ns(wk), after);
	assert_flow_exact(0, 0, 22);
}
END_TEST

/* ---- T2: the new owner and the hand-off -------------------------------- */

static struct wc_chunk *T2_CA;

static void t2_a_gathers(void)
{
	/* A runs its gather between B's unlock and whatever B does next:
	 * it diverts seq 0 into the hand-off and passes pos (release) */
	wc_gather(&E->workers[A], T2_CA);
}

/*
 * The review's interleaving. Bucket 3 of queue 0 moves A -> B; seq 0 is on
 * A's ring (steered before the switch), seq 1 reaches B and is parked.
 * B's fenced_deliver takes the fence lock and finds the hand-off empty;
 * right at its unlock, A diverts seq 0 into the hand-off and releases the
 * fence. B must not conclude "released, hand-off empty" from its earlier
 * look: seq 0 first, then seq 1, the fence freed with both queues empty.
 */
START_TEST(t2_handoff_race)
{
	unsigned fi;

	E = mk(1, 2, 64, 16, 256);
	atomic_store(&E->workers[A].busy_seq, 2); /* A between two captures */
	inject(0, 3, 0); /* -> A */
	ck_assert_int_eq(move_bucket(0, 3, B), 0);
	wc_fences_arm(E);
	fi = fence_of(B, 0, 3);
	ck_assert_int_eq(atomic_load(&E->fences[fi].state), WC_FENCE_ARMED);
	T2_CA = cap_begin(A); /* A enters its next capture: from_done */
	inject(0, 3, 1); /* -> B */
	ck_assert_int_eq(cap(B), 0); /* parks seq 1 */
	ck_assert_uint_eq(atomic_load(&E->workers[B].parked), 1);
	check_invariants();

	hk_lock = &E->fences[fi].lock;
	hk_fn = t2_a_gathers;
	cap(B);
	ck_assert_ptr_null(hk_fn); /* the interleaving happened */
	check_invariants();
	ck_assert_uint_eq(T2_CA->n, 0); /* A diverted seq 0 */
	cap_end(A, T2_CA);
	for (int i = 0; i < 4; i++) {
		cap(B);
		check_invariants();
		cap(A);
		check_invariants();
	}
	assert_flow_exact(0, 3, 2);
	for (unsigned i = 0; i < NLOG; i++)
		ck_assert_uint_eq(LOG[i].w, B);
	assert_quiescent();
}
END_TEST

static void t2b_force_and_free(void)
{
	/* A is in divert_flush, between its two fences: the monitor deems A
	 * stuck and releases its fences by force; B delivers and frees them */
	atomic_store(&E->workers[A].stuck, 1);
	wc_fences_timeouts(E, wc_now_mono());
	atomic_store(&E->workers[A].stuck, 0);
	cap(B);
	check_invariants();
}

/*
 * divert_flush after the fence was released by force and freed by the
 * new owner: A collected the packets of buckets 3 (fence X) and 4 (fence
 * Y) in one gather; between its hand-off to X and the one to Y, both
 * fences are forced and B frees them. A's packet of bucket 4 must not go
 * into the hand-off of a free fence (lost, its frame never recycled): A
 * delivers it itself.
 */
START_TEST(t2_divert_flush_after_free)
{
	unsigned fx, fy;
	struct wc_chunk *ca;

	E = mk(1, 2, 64, 16, 256);
	atomic_store(&E->workers[A].busy_seq, 2);
	inject(0, 3, 0); /* -> A */
	inject(0, 4, 0); /* -> A */
	ck_assert_int_eq(move_bucket(0, 3, B), 0);
	ck_assert_int_eq(move_bucket(0, 4, B), 0);
	wc_fences_arm(E);
	fx = fence_of(B, 0, 3);
	fy = fence_of(B, 0, 4);
	inject(0, 4, 1); /* -> B: parked */
	ck_assert_int_eq(cap(B), 0);

	ca = cap_begin(A);
	hk_lock = &E->fences[fx].lock;
	hk_fn = t2b_force_and_free;
	wc_gather(&E->workers[A], ca);
	ck_assert_ptr_null(hk_fn);
	check_invariants();
	ck_assert_int_eq(atomic_load(&E->fences[fy].state), WC_FENCE_FREE);
	cap_end(A, ca);
	for (int i = 0; i < 4; i++) {
		cap(A);
		cap(B);
		check_invariants();
	}
	assert_flow_exact(0, 3, 1);
	assert_flow_once(0, 4, 2); /* released by force: order not kept */
	ck_assert_uint_eq(atomic_load(&E->workers[B].parked), 0);
	ck_assert_uint_eq(in_use(0), 0);
}
END_TEST

/* ---- T3: a forced release and the old owner's divert entry ------------- */

/* complete the move of (q, b) back to its home A: returns when settled */
static void t3_return_home(unsigned q, unsigned b)
{
	int r = move_bucket(q, b, A);

	ck_assert_msg(
		r == 0,
		"return move of (%u,%u) B -> A: %d (A.divert %u, A.ndiverts %d)",
		q, b, r, atomic_load(&E->workers[A].divert[key(q, b)]),
		atomic_load(&E->workers[A].ndiverts));
	inject(q, b, 100); /* -> A: parked */
	wc_fences_arm(E);
	for (int i = 0; i < 4; i++) {
		cap(B);
		cap(A);
		check_invariants();
	}
	ck_assert_uint_eq(STEER[key(q, b)].worker, A);
}

/*
 * A is stuck: the monitor releases the fence of the move A -> B of bucket
 * 5 by force. When A comes back (here before B frees the fence), its
 * divert entry must be cleared, else no move of the bucket back to A is
 * ever allowed (movable() refuses while A.divert is set).
 */
START_TEST(t3_forced_release_old_owner_first)
{
	E = mk(1, 2, 64, 16, 256);
	ck_assert_int_eq(move_bucket(0, 5, B), 0);
	wc_fences_arm(E);
	atomic_store(&E->workers[A].stuck, 1);
	wc_fences_timeouts(E, wc_now_mono());
	ck_assert_uint_eq(atomic_load(&E->fence_timeouts), 1);
	atomic_store(&E->workers[A].stuck, 0);
	/* A resumes; its ring holds nothing of bucket 5 */
	for (unsigned i = 0; i < 3; i++) {
		inject(0, 7, i);
		ck_assert_int_eq(cap(A), 1);
	}
	ck_assert_msg(
		!atomic_load(&E->workers[A].divert[key(0, 5)]) &&
			!atomic_load(&E->workers[A].ndiverts),
		"A's divert entry of (0,5) still names fence %u after the forced "
		"release; A.ndiverts %d",
		atomic_load(&E->workers[A].divert[key(0, 5)]) - 1u,
		atomic_load(&E->workers[A].ndiverts));
	ck_assert_int_eq(cap(B), 0); /* frees the fence */
	t3_return_home(0, 5);
	assert_flow_exact(0, 7, 3);
	assert_quiescent();
}
END_TEST

/*
 * The same, in the order of the review: B frees the forced fence before A
 * comes back. A's divert entry still names that (now free) fence.
 */
START_TEST(t3_forced_release_new_owner_first)
{
	E = mk(1, 2, 64, 16, 256);
	ck_assert_int_eq(move_bucket(0, 5, B), 0);
	wc_fences_arm(E);
	atomic_store(&E->workers[A].stuck, 1);
	wc_fences_timeouts(E, wc_now_mono());
	ck_assert_uint_eq(atomic_load(&E->fence_timeouts), 1);
	ck_assert_int_eq(cap(B), 0); /* B frees the fence */
	ck_assert_int_eq(atomic_load(&E->fences[0].state), WC_FENCE_FREE);
	atomic_store(&E->workers[A].stuck, 0);
	for (unsigned i = 0; i < 3; i++) {
		inject(0, 7, i);
		ck_assert_int_eq(cap(A), 1);
	}
	ck_assert_msg(
		!atomic_load(&E->workers[A].divert[key(0, 5)]) &&
			!atomic_load(&E->workers[A].ndiverts),
		"A's divert entry of (0,5) still names fence %u (free) after the forced "
		"release; A.ndiverts %d",
		atomic_load(&E->workers[A].divert[key(0, 5)]) - 1u,
		atomic_load(&E->workers[A].ndiverts));
	t3_return_home(0, 5);
	assert_flow_exact(0, 7, 3);
	assert_quiescent();
}
END_TEST

/* ---- T4: stop ----------------------------------------------------------- */

/* B calls capture until -EINTR, as an application's loop does at stop */
static int drain_until_eintr(unsigned w, int max)
{
	int r = 0;

	for (int i = 0; i < max; i++) {
		r = cap(w);
		check_invariants();
		if (r < 0)
			return r;
	}
	return r;
}

/*
 * Stop with a fence A released itself, its hand-off still full: A's last
 * capture call (the one that diverted seq 0 and passed pos) returns -EINTR
 * and A never comes back, so B's "A finished its chunk" never comes true.
 * The stop's force-release must cover RELEASED fences: B delivers seq 0
 * (hand-off) then seq 1 (parked), then -EINTR, nothing left parked.
 */
START_TEST(t4_stop_released_fence)
{
	struct wc_chunk *ca;
	unsigned fi;
	int r;

	E = mk(1, 2, 64, 16, 256);
	ca = cap_begin(A); /* A inside a capture: s0 odd */
	inject(0, 3, 0); /* -> A */
	ck_assert_int_eq(move_bucket(0, 3, B), 0);
	inject(0, 3, 1); /* -> B */
	wc_fences_arm(E);
	fi = fence_of(B, 0, 3);
	wc_gather(&E->workers[A], ca); /* diverts seq 0, passes pos */
	ck_assert_uint_eq(ca->n, 0);
	ck_assert_int_eq(atomic_load(&E->fences[fi].state), WC_FENCE_RELEASED);
	ck_assert(!atomic_load(&E->fences[fi].forced));
	ck_assert_int_eq(cap(B), 0); /* A not done with its chunk: B waits */
	ck_assert_uint_eq(atomic_load(&E->workers[B].parked), 2);

	wc_engine__stop(E);
	/* A's capture sees the stop: unplug (force-release), a last gather
	 * with nothing, -EINTR; A's thread exits */
	wc_engine_unplug(E);
	wc_gather(&E->workers[A], ca);
	ck_assert_uint_eq(ca->n, 0);
	cap_end(A, ca);

	r = drain_until_eintr(B, 10);
	ck_assert_int_eq(r, -EINTR);
	assert_flow_exact(0, 3, 2);
	ck_assert_uint_eq(NLOG, 2);
	ck_assert_uint_eq(atomic_load(&E->workers[B].packets), 2);
	ck_assert_uint_eq(atomic_load(&E->workers[B].parked), 0);
	ck_assert_int_eq(atomic_load(&E->fences[fi].state), WC_FENCE_FREE);
	assert_quiescent();
}
END_TEST

static void t4_a_returns(void)
{
	/* while B waits: A comes back for its next chunk, gets -EINTR */
	ck_assert_int_eq(cap(A), -EINTR);
}

/*
 * A move that races the stop: the monitor was inside offload() when the
 * stop came, and switches bucket 3 after the workers' unplug already
 * force-released every fence. A (inside a capture) diverts the bucket's
 * backlog into the hand-off and returns its chunk of other packets; B's
 * first capture after the stop finds nothing it may deliver yet (A has
 * not come back), but packets parked for it: it must keep going until A
 * comes back (for its -EINTR), then deliver seq 0..3. (An engine that
 * force-releases such a late fence too lets A deliver them itself: the
 * outcome checked is the same.)
 */
START_TEST(t4_stop_late_move_old_owner_returns)
{
	struct wc_chunk *ca;
	int r;

	E = mk(1, 2, 64, 16, 256);
	for (unsigned i = 0; i < 4; i++)
		inject(0, 3, i); /* -> A */
	inject(0, 7, 0); /* -> A */
	ca = cap_begin(A);
	wc_engine__stop(E);
	wc_engine_unplug(E); /* by some worker: no fence to release yet */
	ck_assert_int_eq(move_bucket(0, 3, B), 0);
	wc_fences_arm(E);
	wc_gather(&E->workers[A],
		  ca); /* A's stop-path gather: bucket 3 diverted */
	ck_assert_uint_ge(ca->n, 1); /* (0,7) seq 0: A's call returns a chunk */
	cap_end(A, ca);

	sl_fn = t4_a_returns;
	r = drain_until_eintr(B, 10);
	ck_assert_int_eq(r, -EINTR);
	assert_flow_exact(0, 3, 4);
	assert_flow_exact(0, 7, 1);
	ck_assert_uint_eq(atomic_load(&E->workers[B].parked), 0);
	assert_quiescent();
}
END_TEST

/*
 * The same race, but A's ring holds only packets of the moved bucket: A's
 * stop-path gather diverts all of them and takes nothing, so A's capture
 * returns -EINTR and A never comes back. Every packet must still be
 * delivered (by A or by B; order across the stop is best effort).
 */
START_TEST(t4_stop_late_move_old_owner_exits)
{
	struct wc_chunk *ca;
	int r;

	E = mk(1, 2, 64, 16, 256);
	for (unsigned i = 0; i < 4; i++)
		inject(0, 3, i); /* -> A */
	ca = cap_begin(A);
	wc_engine__stop(E);
	wc_engine_unplug(E);
	ck_assert_int_eq(move_bucket(0, 3, B), 0);
	wc_fences_arm(E);
	/* A's capture loop, stop path: gather, nothing taken, -EINTR */
	wc_gather(&E->workers[A], ca);
	if (ca->n) {
		/* (a fixed engine may hand them back to A) */
		cap_end(A, ca);
		ck_assert_int_eq(drain_until_eintr(A, 10), -EINTR);
	} else {
		cap_end(A, ca);
	}
	r = drain_until_eintr(B, 10);
	ck_assert_int_eq(r, -EINTR);
	assert_flow_once(0, 3, 4);
	ck_assert_uint_eq(atomic_load(&E->workers[B].parked), 0);
	ck_assert_uint_eq(in_use(0), 0);
}
END_TEST

/* ---- T5: a normal move, end to end ------------------------------------- */

/*
 * Queue 0, bucket 3 moves A -> B while A has a backlog of it (seq 0..39,
 * interleaved with bucket 7, which stays on A); A is inside a capture and
 * already holds seq 0..5 in its chunk when the steering switches. One
 * packet (seq 40) was steered before the switch and lands after it (the
 * grace period). New packets (seq 41..) reach B while A drains; queue 1's
 * bucket 3 is B's own all along. Then the bucket moves back home (B -> A)
 * the same way. Each flow is delivered exactly 0..N in order, every frame
 * is back in its fill ring and nothing of either move is left.
 */
START_TEST(t5_move_end_to_end)
{
	__u32 s03 = 0, s07 = 0, s13 = 0;
	struct wc_chunk *ca;
	unsigned fi;

	E = mk(2, 2, 16, 16, 1024);
	ck_assert_uint_eq(STEER[key(0, 3)].worker, A);
	ck_assert_uint_eq(STEER[key(1, 3)].worker, B);

	/* A has a backlog and is inside a capture, 12 packets taken */
	for (unsigned i = 0; i < 6; i++) {
		inject(0, 3, s03++);
		inject(0, 7, s07++);
	}
	ca = cap_begin(A);
	wc_gather(&E->workers[A], ca);
	ck_assert_uint_eq(ca->n, 12);
	for (unsigned i = 0; i < 34; i++) {
		inject(0, 3, s03++);
		inject(0, 7, s07++);
		if (i % 4 == 0)
			inject(1, 3, s13++); /* -> B */
	}

	/* the move: switch, one packet in flight, new packets at B, arm */
	ck_assert_int_eq(move_bucket(0, 3, B), 0);
	fi = fence_of(B, 0, 3);
	inject_to(0, 3, s03++, A); /* steered before the switch */
	for (unsigned i = 0; i < 5; i++)
		inject(0, 3, s03++); /* -> B */
	wc_fences_arm(E);
	ck_assert_int_eq(atomic_load(&E->fences[fi].state), WC_FENCE_ARMED);

	/* B may not deliver bucket 3 while A holds its chunk */
	for (int i = 0; i < 3; i++) {
		cap(B);
		check_invariants();
	}
	ck_assert_uint_gt(atomic_load(&E->workers[B].parked), 0);
	/* A goes on within the same capture call: diverts bucket 3 */
	wc_gather(&E->workers[A], ca);
	ck_assert_uint_gt(ca->n, 12);
	ck_assert_uint_gt(E->fences[fi].hand.n, 0);
	cap(B);
	check_invariants();
	for (unsigned i = 0; i < NLOG; i++)
		ck_assert_msg(
			LOG[i].q != 0 || LOG[i].b != 3,
			"B delivered (0,3) seq %u while A still held seq 0..5",
			LOG[i].seq);
	cap_end(A, ca);

	/* both drain while traffic goes on */
	for (int round = 0; round < 40; round++) {
		if (round < 30) {
			inject(0, 3, s03++); /* -> B */
			inject(0, 7, s07++); /* -> A */
			inject(1, 3, s13++); /* -> B */
		}
		if (round % 3 != 2)
			cap(A);
		check_invariants();
		if (round % 2)
			cap(B);
		check_invariants();
	}
	for (int i = 0; i < 8; i++) {
		cap(A);
		cap(B);
	}
	ck_assert_int_eq(atomic_load(&E->fences[fi].state), WC_FENCE_FREE);
	ck_assert_uint_eq(STEER[key(0, 3)].worker, B);
	assert_flow_exact(0, 3, s03);
	assert_flow_exact(0, 7, s07);
	assert_flow_exact(1, 3, s13);
	/* bucket 3 after the move: only B delivered it */
	for (unsigned i = 0, seen = 0; i < NLOG; i++)
		if (LOG[i].q == 0 && LOG[i].b == 3 && LOG[i].w == B)
			seen = 1;
		else if (LOG[i].q == 0 && LOG[i].b == 3)
			ck_assert_msg(
				!seen,
				"A delivered (0,3) seq %u after B started",
				LOG[i].seq);
	assert_quiescent();

	/* and back home, B with a backlog of it */
	for (unsigned i = 0; i < 20; i++) {
		inject(0, 3, s03++); /* -> B */
		inject(1, 3, s13++);
	}
	ck_assert_int_eq(cap(B), 16); /* B holds part of it */
	ck_assert_int_eq(move_bucket(0, 3, A), 0);
	for (unsigned i = 0; i < 10; i++) {
		inject(0, 3, s03++); /* -> A */
		inject(0, 7, s07++);
	}
	wc_fences_arm(E);
	for (int i = 0; i < 12; i++) {
		cap(A);
		check_invariants();
		cap(B);
		check_invariants();
	}
	ck_assert_uint_eq(STEER[key(0, 3)].worker, A);
	assert_flow_exact(0, 3, s03);
	assert_flow_exact(0, 7, s07);
	assert_flow_exact(1, 3, s13);
	ck_assert_uint_eq(atomic_load(&E->moves), 2);
	assert_quiescent();
}
END_TEST

/* ---- T6: random schedules ----------------------------------------------- */

static __u64 rng_state;

static unsigned rnd(unsigned n)
{
	/* xorshift64*: the same schedule on every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/*
 * Many moves back and forth between three workers, on random schedules
 * (seeded: deterministic) at the granularity of gathers: packets arrive,
 * workers capture (some stopping inside a capture call, holding a chunk,
 * for a while), the monitor moves buckets (with packets in flight during
 * the grace period) and arms the fences.
 *  - plain: every flow is delivered exactly 0..N in order, and in the end
 *    nothing is left of any move and every frame is back in its fill ring;
 *  - `forced`: the monitor also deems workers stuck now and then (forced
 *    releases: order not kept for those buckets): every packet delivered
 *    exactly once, no frame lost;
 *  - `stop`: the engine stops while moves are under way (the monitor may
 *    still be moving), every worker captures until -EINTR: every packet
 *    delivered exactly once, no frame lost.
 */
enum { T6_NQ = 2, T6_NW = 3, T6_NB = 4 };

/* what is left of the moves, when packets went missing */
static void dump_state(void)
{
	fprintf(stderr, "  %sstate:\n", CTX);
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		struct wc_fence *f = &E->fences[i];

		if (atomic_load(&f->state) == WC_FENCE_FREE && !f->hand.n &&
		    !f->park.n)
			continue;
		fprintf(stderr,
			"  fence %u: state %d forced %d (q %u, b %u) %u -> %u s0 %llu pos %u "
			"hand %u park %u\n",
			i, atomic_load(&f->state), atomic_load(&f->forced),
			f->q, f->b, f->from, f->to, (unsigned long long)f->s0,
			f->pos, f->hand.n, f->park.n);
	}
	for (unsigned w = 0; w < E->nw; w++) {
		struct wc_worker *wk = &E->workers[w];

		fprintf(stderr,
			"  worker %u: busy_seq %llu idle_seq %llu parked %llu nholds %d "
			"ndiverts %d rx left:",
			w, (unsigned long long)atomic_load(&wk->busy_seq),
			(unsigned long long)atomic_load(&wk->idle_seq),
			(unsigned long long)atomic_load(&wk->parked),
			atomic_load(&wk->nholds), atomic_load(&wk->ndiverts));
		for (unsigned q = 0; q < E->nq; q++)
			fprintf(stderr, " %u",
				*wk->socks[q].rx.producer -
					*wk->socks[q].rx.consumer);
		fprintf(stderr, "\n");
	}
}

static const char *t6_run(__u64 seed, bool forced, bool stop)
{
	enum { NQ = T6_NQ, NW = T6_NW, NB = T6_NB, CS = 8, STEPS = 3000 };
	static char why[256];
	__u32 seq[NQ * NB];
	struct wc_chunk *open[NW];
	bool done[NW];
	unsigned moves = 0;

	E = mk(NQ, NW, CS, NB, 4096);
	memset(seq, 0, sizeof(seq));
	memset(open, 0, sizeof(open));
	memset(done, 0, sizeof(done));
	rng_state = 0x9e3779b97f4a7c15ull * (seed + 1);
	for (unsigned step = 0; step < STEPS; step++) {
		unsigned r = rnd(100);
		bool stopping = stop && step >= STEPS - 200;

		if (stopping && step == STEPS - 200)
			wc_engine__stop(E);
		if (r < 35 && !stopping) {
			for (unsigned k = rnd(4) + 1; k; k--) {
				unsigned f = rnd(NQ * NB);

				if (in_use(f / NB) + 64 < E->pools[0].nframes)
					inject(f / NB, f % NB, seq[f]++);
			}
		} else if (r < 80) {
			unsigned w = rnd(NW), how = rnd(4);

			if (done[w])
				continue;
			if (open[w] && how < 2) {
				if (stopping)
					wc_engine_unplug(E);
				wc_gather(&E->workers[w], open[w]);
			} else if (open[w]) {
				cap_end(w, open[w]);
				open[w] = NULL;
			} else if (how == 0 && !stopping) {
				open[w] = cap_begin(w);
				wc_gather(&E->workers[w], open[w]);
			} else if (cap(w) < 0) {
				done[w] = true; /* its thread exits */
			}
		} else if (r < 90) {
			unsigned f = rnd(NQ * NB), q = f / NB, b = f % NB;
			unsigned from = STEER[f].worker, to = rnd(NW);

			if (!move_bucket(q, b, to)) {
				moves++;
				/* steered before the switch, landing after it */
				for (unsigned k = stopping ? 0 : rnd(3); k; k--)
					inject_to(q, b, seq[f]++, (int)from);
			}
		} else if (r < 97 || !forced) {
			wc_fences_arm(E);
		} else {
			unsigned w = rnd(NW);

			atomic_store(&E->workers[w].stuck, 1);
			wc_fences_timeouts(E, wc_now_mono());
			atomic_store(&E->workers[w].stuck, 0);
		}
		check_invariants();
	}
	/* settle: the last moves armed, captures closed, rings drained */
	wc_fences_arm(E);
	for (unsigned w = 0; w < NW; w++)
		if (open[w])
			cap_end(w, open[w]);
	for (int i = 0; i < 64; i++)
		for (unsigned w = 0; w < NW; w++) {
			if (!done[w] && cap(w) < 0)
				done[w] = true;
			check_invariants();
		}
	if (moves < 20) {
		snprintf(why, sizeof(why), "only %u moves", moves);
		return why;
	}
	{
		unsigned total = 0;

		for (unsigned f = 0; f < NQ * NB; f++)
			total += seq[f];
		if (total != NLOG)
			dump_state();
	}
	for (unsigned f = 0; f < NQ * NB; f++) {
		if (forced || stop)
			assert_flow_once(f / NB, f % NB, seq[f]);
		else
			assert_flow_exact(f / NB, f % NB, seq[f]);
	}
	for (unsigned w = 0; w < NW; w++)
		REQUIRE(!atomic_load(&E->workers[w].parked),
			"worker %u: %llu packets parked", w,
			(unsigned long long)atomic_load(&E->workers[w].parked));
	for (unsigned q = 0; q < NQ; q++)
		REQUIRE(!in_use(q), "queue %u: %llu frames never returned", q,
			(unsigned long long)in_use(q));
	if (!stop)
		assert_quiescent();
	return NULL;
}

static unsigned t6_seeds(void)
{
	const char *s = getenv("FENCE_TEST_SEEDS");

	return s && atoi(s) > 0 ? (unsigned)atoi(s) : 200;
}

static void t6_loop(bool forced, bool stop)
{
	for (unsigned seed = 0; seed < t6_seeds(); seed++) {
		const char *why;

		setup();
		snprintf(CTX, sizeof(CTX), "seed %u: ", seed);
		why = t6_run(seed, forced, stop);
		teardown();
		REQUIRE(!why, "%s%s", CTX, why);
	}
	CTX[0] = 0;
}

START_TEST(t6_random_moves)
{
	t6_loop(false, false);
}
END_TEST

START_TEST(t6_random_moves_forced)
{
	t6_loop(true, false);
}
END_TEST

START_TEST(t6_random_moves_stop)
{
	t6_loop(false, true);
}
END_TEST

static Suite *fence_suite(void)
{
	Suite *s = suite_create("fence");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
		{ "T1_segments_fit", t1_segments_fit },
		{ "T1_segments_merged", t1_segments_merged },
		{ "T1_drained_only_when_empty", t1_drained_only_when_empty },
		{ "T2_handoff_race", t2_handoff_race },
		{ "T2_divert_flush_after_free", t2_divert_flush_after_free },
		{ "T3_forced_release_old_owner_first",
		  t3_forced_release_old_owner_first },
		{ "T3_forced_release_new_owner_first",
		  t3_forced_release_new_owner_first },
		{ "T4_stop_released_fence", t4_stop_released_fence },
		{ "T4_stop_late_move_old_owner_returns",
		  t4_stop_late_move_old_owner_returns },
		{ "T4_stop_late_move_old_owner_exits",
		  t4_stop_late_move_old_owner_exits },
		{ "T5_move_end_to_end", t5_move_end_to_end },
		{ "T6_random_moves", t6_random_moves },
		{ "T6_random_moves_forced", t6_random_moves_forced },
		{ "T6_random_moves_stop", t6_random_moves_stop },
	};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		TCase *tc = tcase_create(tests[i].name);

		/* setup/teardown in the test's process (checked fixtures) */
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, tests[i].t);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fence_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
