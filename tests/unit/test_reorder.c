// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The streaming merge by timestamp of the capture writer
 * (util/reorder.c): order, completeness, the delay bound, late
 * packets, snap length, the memory cap, errors.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reorder.h"

#define MAXOUT 200000

static uint64_t out_ts[MAXOUT];
static uint32_t out_q[MAXOUT], out_cap[MAXOUT];
static unsigned nout;
static int fail_at = -1;

static int rec(void *ctx, uint64_t ts, const void *data, uint32_t caplen,
	       uint32_t len, uint32_t queue)
{
	(void)ctx;
	(void)len;
	if ((int)nout == fail_at)
		return -EIO;
	ck_assert_uint_lt(nout, MAXOUT);
	/* the payload carries the timestamp: the copy is intact */
	if (caplen >= sizeof(uint64_t)) {
		uint64_t v;

		memcpy(&v, data, sizeof(v));
		ck_assert_uint_eq(v, ts);
	}
	out_ts[nout] = ts;
	out_q[nout] = queue;
	out_cap[nout] = caplen;
	nout++;
	return 0;
}

static void reset(void)
{
	nout = 0;
	fail_at = -1;
}

static int push(struct wc_reorder *r, unsigned src, uint64_t ts)
{
	char buf[64] = { 0 };

	memcpy(buf, &ts, sizeof(ts));
	return wc_reorder__push(r, src, ts, buf, sizeof(buf), src);
}

START_TEST(test_two_sources_in_order)
{
	struct wc_reorder *r = wc_reorder__new(2, 1000000000ull, 65535, 0);
	struct wc_reorder_stats st;

	reset();
	ck_assert_ptr_nonnull(r);
	/* source 0 delivers a whole chunk first, then source 1 */
	for (uint64_t t = 0; t < 100; t += 10)
		ck_assert_int_eq(push(r, 0, 1000 + t), 0);
	/* source 1 has said nothing yet: it may still deliver older ones */
	ck_assert_int_eq(wc_reorder__release(r, 1200, rec, NULL), 0);
	ck_assert_uint_eq(nout, 0);
	for (uint64_t t = 5; t < 100; t += 10)
		ck_assert_int_eq(push(r, 1, 1000 + t), 0);
	/* both have delivered up to 1090 / 1095: everything <= 1090 goes */
	ck_assert_int_eq(wc_reorder__release(r, 1200, rec, NULL), 0);
	ck_assert_uint_eq(nout, 19);
	for (unsigned i = 1; i < nout; i++)
		ck_assert_uint_lt(out_ts[i - 1], out_ts[i]);
	ck_assert_uint_eq(out_ts[18], 1090);
	ck_assert_int_eq(wc_reorder__flush(r, rec, NULL), 0);
	ck_assert_uint_eq(nout, 20);
	ck_assert_uint_eq(out_ts[19], 1095);
	ck_assert_uint_eq(out_q[19], 1);
	wc_reorder__stats(r, &st);
	ck_assert_uint_eq(st.pushed, 20);
	ck_assert_uint_eq(st.emitted, 20);
	ck_assert_uint_eq(st.late, 0);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.pending_bytes, 0);
	wc_reorder__free(r);
}
END_TEST

START_TEST(test_idle_source_horizon_and_delay)
{
	struct wc_reorder *r = wc_reorder__new(3, 1000, 65535, 0);

	reset();
	for (uint64_t t = 100; t < 110; t++)
		push(r, 0, t);
	/* sources 1 and 2 never deliver: held until they are found empty */
	wc_reorder__release(r, 500, rec, NULL);
	ck_assert_uint_eq(nout, 0);
	wc_reorder__horizon(r, 1, 200);
	wc_reorder__release(r, 500, rec, NULL);
	ck_assert_uint_eq(nout, 0);
	wc_reorder__horizon(r, 2, 105);
	wc_reorder__release(r, 500, rec, NULL);
	ck_assert_uint_eq(nout, 6); /* 100..105 */
	/* or until they are older than the delay */
	wc_reorder__release(r, 1108, rec, NULL);
	ck_assert_uint_eq(nout, 9); /* up to 108 */
	wc_reorder__free(r);
}
END_TEST

START_TEST(test_lagging_source_counted_late)
{
	struct wc_reorder *r = wc_reorder__new(2, 1000, 65535, 0);
	struct wc_reorder_stats st;

	reset();
	for (uint64_t t = 0; t < 10; t++)
		push(r, 0, 10000 + t);
	/* source 1 lags by more than the delay: the others go on */
	wc_reorder__release(r, 20000, rec, NULL);
	ck_assert_uint_eq(nout, 10);
	push(r, 1, 9000);
	wc_reorder__release(r, 20000, rec, NULL);
	ck_assert_uint_eq(nout, 11);
	wc_reorder__stats(r, &st);
	ck_assert_uint_eq(st.late, 1);
	wc_reorder__free(r);
}
END_TEST

START_TEST(test_snaplen)
{
	struct wc_reorder *r = wc_reorder__new(1, 0, 16, 0);
	char big[1500];

	reset();
	memset(big, 0, sizeof(big));
	ck_assert_int_eq(wc_reorder__push(r, 0, 5, big, sizeof(big), 3), 0);
	ck_assert_int_eq(wc_reorder__push(r, 0, 6, big, 10, 3), 0);
	ck_assert_int_eq(wc_reorder__flush(r, NULL, NULL), 0);
	wc_reorder__free(r);

	r = wc_reorder__new(1, 0, 16, 0);
	{
		uint64_t ts = 7;

		memcpy(big, &ts, sizeof(ts));
	}
	wc_reorder__push(r, 0, 7, big, sizeof(big), 3);
	wc_reorder__flush(r, rec, NULL);
	ck_assert_uint_eq(nout, 1);
	ck_assert_uint_eq(out_cap[0], 16);
	ck_assert_uint_eq(out_q[0], 3);
	ck_assert_int_eq(wc_reorder__push(r, 1, 8, big, 10, 0), -EINVAL);
	wc_reorder__free(r);
	ck_assert_ptr_null(wc_reorder__new(0, 0, 16, 0));
	ck_assert_ptr_null(wc_reorder__new(1, 0, 0, 0));
}
END_TEST

START_TEST(test_memory_cap_forces_release)
{
	/* 64 B per packet, cap 6400 B: at most ~100 held */
	struct wc_reorder *r = wc_reorder__new(2, UINT64_MAX / 2, 65535, 6400);
	struct wc_reorder_stats st;

	reset();
	for (uint64_t t = 0; t < 1000; t++) {
		push(r, 0, t);
		wc_reorder__release(r, 0, rec, NULL);
	}
	wc_reorder__stats(r, &st);
	ck_assert_uint_le(st.pending_bytes, 6400);
	ck_assert_uint_gt(st.forced, 0);
	ck_assert_uint_le(st.max_pending_bytes, 6400 + 64);
	wc_reorder__flush(r, rec, NULL);
	ck_assert_uint_eq(nout, 1000);
	for (unsigned i = 1; i < nout; i++)
		ck_assert_uint_lt(out_ts[i - 1], out_ts[i]);
	wc_reorder__free(r);
}
END_TEST

START_TEST(test_emit_error_and_discard)
{
	struct wc_reorder *r = wc_reorder__new(1, 0, 65535, 0);
	struct wc_reorder_stats st;

	reset();
	for (uint64_t t = 0; t < 10; t++)
		push(r, 0, t);
	fail_at = 3;
	ck_assert_int_eq(wc_reorder__flush(r, rec, NULL), -EIO);
	/* the failing packet was handed over (the writer counts it lost) */
	wc_reorder__stats(r, &st);
	ck_assert_uint_eq(st.emitted, 4);
	ck_assert_uint_eq(st.pending, 6);
	ck_assert_uint_eq(wc_reorder__discard(r), 6);
	wc_reorder__stats(r, &st);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.pending_bytes, 0);
	wc_reorder__free(r);
}
END_TEST

/* deterministic PRNG (xorshift64*) */
static uint64_t rs = 88172645463325252ull;
static uint32_t rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (uint32_t)((rs * 0x2545f4914f6cdd1dull) >> 32);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sources stamp packets from one clock and deliver them in chunks of
 * random size, sometimes found empty: with an unbounded delay the output
 * is exactly the sorted input, nothing late. */
START_TEST(test_random_merge)
{
	enum { S = 8, N = 50000 };
	static uint64_t all[N];
	uint64_t clock = 1000000, next[S];
	struct wc_reorder *r = wc_reorder__new(S, UINT64_MAX / 2, 65535, 0);
	struct wc_reorder_stats st;
	unsigned sent = 0;

	reset();
	for (unsigned s = 0; s < S; s++)
		next[s] = 0;
	/* each source's queue of stamped packets, not yet delivered */
	uint64_t *q[S];
	unsigned qh[S], qn[S];

	for (unsigned s = 0; s < S; s++) {
		q[s] = calloc(N, sizeof(uint64_t));
		qh[s] = qn[s] = 0;
	}
	while (sent < N || nout < N) {
		/* arrivals: stamp a few packets on random sources */
		for (unsigned k = rnd() % 8; k && sent < N; k--, sent++) {
			unsigned s = rnd() % S;

			clock += rnd() % 3; /* equal stamps happen */
			q[s][(qh[s] + qn[s]++) % N] = clock;
			all[sent] = clock;
		}
		/* a worker delivers a chunk of one source, or finds it empty */
		unsigned s = rnd() % S, c = rnd() % 16;

		while (c-- && qn[s]) {
			push(r, s, q[s][qh[s]]);
			qh[s] = (qh[s] + 1) % N;
			qn[s]--;
		}
		if (!qn[s])
			wc_reorder__horizon(r, s, clock);
		wc_reorder__release(r, clock, rec, NULL);
		if (sent == N) {
			/* drain the sources */
			for (unsigned t = 0; t < S; t++) {
				while (qn[t]) {
					push(r, t, q[t][qh[t]]);
					qh[t] = (qh[t] + 1) % N;
					qn[t]--;
				}
				wc_reorder__horizon(r, t, clock + 1);
			}
			wc_reorder__release(r, clock + 1, rec, NULL);
			ck_assert_int_eq(wc_reorder__flush(r, rec, NULL), 0);
			break;
		}
		(void)next;
	}
	ck_assert_uint_eq(nout, N);
	qsort(all, N, sizeof(all[0]), cmp_u64);
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(out_ts[i], all[i]);
	wc_reorder__stats(r, &st);
	ck_assert_uint_eq(st.late, 0);
	ck_assert_uint_eq(st.forced, 0);
	ck_assert_uint_eq(st.pending, 0);
	for (unsigned s = 0; s < S; s++)
		free(q[s]);
	wc_reorder__free(r);
}
END_TEST

Suite *reorder_suite(void)
{
	Suite *s = suite_create("reorder");
	TCase *tc = tcase_create("merge");

	tcase_add_test(tc, test_two_sources_in_order);
	tcase_add_test(tc, test_idle_source_horizon_and_delay);
	tcase_add_test(tc, test_lagging_source_counted_late);
	tcase_add_test(tc, test_snaplen);
	tcase_add_test(tc, test_memory_cap_forces_release);
	tcase_add_test(tc, test_emit_error_and_discard);
	tcase_add_test(tc, test_random_merge);
	suite_add_tcase(s, tc);
	return s;
}
