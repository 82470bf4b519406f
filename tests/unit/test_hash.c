// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The symmetric flow hash of include/wirecap/wc_layout.h, as user space
 * computes it (the XDP program runs the same inline code; test_parser.c
 * checks that both agree on real frames).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "wirecap/wc_layout.h"

/* deterministic PRNG (xorshift64*): the same flows on every run */
static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s ? s : 0x9e3779b97f4a7c15ull;
}

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

struct tuple {
	__u32 src[4], dst[4];
	int nw;
	__u8 proto;
	__u16 sport, dport;
};

static void rnd_tuple(struct tuple *t, int nw)
{
	static const __u8 protos[] = { 6, 17, 132, 1, 58, 47 };

	memset(t, 0, sizeof(*t));
	t->nw = nw;
	for (int i = 0; i < nw; i++) {
		t->src[i] = rnd();
		t->dst[i] = rnd();
	}
	t->proto = protos[rnd() % sizeof(protos)];
	t->sport = (__u16)rnd();
	t->dport = (__u16)rnd();
}

static int cmp_u32(const void *x, const void *y)
{
	__u32 a = *(const __u32 *)x, b = *(const __u32 *)y;

	return a < b ? -1 : a > b;
}

static __u32 h_fwd(const struct tuple *t)
{
	return wc_flow_hash(t->src, t->dst, t->nw, t->proto, t->sport,
			    t->dport);
}

static __u32 h_rev(const struct tuple *t)
{
	return wc_flow_hash(t->dst, t->src, t->nw, t->proto, t->dport,
			    t->sport);
}

/* chi-square of n values over nb buckets; also min and max bucket */
struct spread {
	double chi2;
	unsigned min, max;
};

static struct spread spread_of(const unsigned *cnt, unsigned nb, unsigned n)
{
	struct spread s = { 0, ~0u, 0 };
	double e = (double)n / nb;

	for (unsigned b = 0; b < nb; b++) {
		double d = cnt[b] - e;

		s.chi2 += d * d / e;
		if (cnt[b] < s.min)
			s.min = cnt[b];
		if (cnt[b] > s.max)
			s.max = cnt[b];
	}
	return s;
}

/* 255 degrees of freedom: mean 255, sd 22.6. 400 is ~6 sd out; with a fixed
 * seed this is deterministic anyway, so it flags a real regression. */
#define CHI2_MAX_256 400.0

START_TEST(test_ipv4_symmetric)
{
	struct tuple t;

	rng_seed(1);
	for (int i = 0; i < 100000; i++) {
		rnd_tuple(&t, 1);
		ck_assert_uint_eq(h_fwd(&t), h_rev(&t));
	}
}
END_TEST

START_TEST(test_ipv6_symmetric)
{
	struct tuple t;

	rng_seed(2);
	for (int i = 0; i < 100000; i++) {
		rnd_tuple(&t, 4);
		/* addresses that share a prefix: only the last word differs */
		if (i & 1)
			memcpy(t.dst, t.src, 12);
		ck_assert_uint_eq(h_fwd(&t), h_rev(&t));
	}
}
END_TEST

START_TEST(test_same_address_ports_symmetric)
{
	struct tuple t;

	/* the addresses tie: the order falls to the ports */
	rng_seed(3);
	for (int i = 0; i < 10000; i++) {
		rnd_tuple(&t, i & 1 ? 4 : 1);
		memcpy(t.dst, t.src, sizeof(t.src));
		ck_assert_uint_eq(h_fwd(&t), h_rev(&t));
	}
	/* and the fully identical endpoint pair */
	t.sport = t.dport = htons(53);
	ck_assert_uint_eq(h_fwd(&t), h_rev(&t));
}
END_TEST

START_TEST(test_known_flow)
{
	/* 198.18.0.1:1234 <-> 198.18.0.2:80 TCP, as the bytes lie in a packet */
	__u32 a = htonl(0xc6120001), b = htonl(0xc6120002);
	__u32 h1 = wc_flow_hash(&a, &b, 1, 6, htons(1234), htons(80));
	__u32 h2 = wc_flow_hash(&b, &a, 1, 6, htons(80), htons(1234));

	ck_assert_uint_eq(h1, h2);
	ck_assert_uint_ne(h1,
			  wc_flow_hash(&a, &b, 1, 17, htons(1234), htons(80)));
	ck_assert_uint_ne(h1,
			  wc_flow_hash(&a, &b, 1, 6, htons(1235), htons(80)));
	ck_assert_uint_ne(h1,
			  wc_flow_hash(&a, &b, 1, 6, htons(1234), htons(81)));
	/* A:1234->B:80 and A:80->B:1234 are different flows */
	ck_assert_uint_ne(h1,
			  wc_flow_hash(&a, &b, 1, 6, htons(80), htons(1234)));
	ck_assert_uint_ne(h1, wc_flow_hash(&a, &b, 1, 6, 0, 0));
}
END_TEST

START_TEST(test_different_flows_differ)
{
	enum { N = 65536 };
	static __u32 h[N];
	struct tuple t;
	int changed = 0, coll = 0;

	rng_seed(4);
	for (int i = 0; i < N; i++) {
		rnd_tuple(&t, i & 1 ? 4 : 1);
		h[i] = h_fwd(&t);
		/* change one field: the hash must change (almost always) */
		struct tuple u = t;

		switch (i % 6) {
		case 0:
			u.sport ^= 1;
			break;
		case 1:
			u.dport ^= 0x100;
			break;
		case 2:
			u.proto ^= 2;
			break;
		case 3:
			u.src[0] ^= 1u << (rnd() % 32);
			break;
		case 4:
			u.dst[u.nw - 1] ^= 1u << (rnd() % 32);
			break;
		case 5:
			u.nw = u.nw == 1 ? 4 : 1;
			break;
		}
		changed += h_fwd(&u) != h[i];
	}
	ck_assert_int_ge(changed, N - 2);
	/* 32-bit hashes of 64k random flows: ~0.5 collisions expected */
	qsort(h, N, sizeof(h[0]), cmp_u32);
	for (int i = 1; i < N; i++)
		coll += h[i] == h[i - 1];
	ck_assert_int_le(coll, 8);
}
END_TEST

static void check_spread(const char *what, const __u32 *h, unsigned n,
			 unsigned nb, double chi2_max)
{
	unsigned *cnt = calloc(nb, sizeof(*cnt));
	struct spread s;

	ck_assert_ptr_nonnull(cnt);
	for (unsigned i = 0; i < n; i++)
		cnt[h[i] & (nb - 1)]++;
	s = spread_of(cnt, nb, n);
	free(cnt);
	ck_assert_msg(s.chi2 < chi2_max,
		      "%s: chi-square %.1f over %u buckets >= %.1f", what,
		      s.chi2, nb, chi2_max);
	/* expected e = n/nb per bucket, about Poisson: within 6 sd */
	ck_assert_msg(s.min + 6 * sqrt(n / nb) >= n / nb &&
			      s.max <= n / nb + 6 * sqrt(n / nb),
		      "%s: bucket min %u max %u (expected about %u)", what,
		      s.min, s.max, n / nb);
}

START_TEST(test_spread_random)
{
	enum { N = 65536 };
	static __u32 h[N];
	struct tuple t;

	rng_seed(5);
	for (int i = 0; i < N; i++) {
		rnd_tuple(&t, 1);
		h[i] = h_fwd(&t);
	}
	check_spread("random IPv4 flows", h, N, 256, CHI2_MAX_256);
	rng_seed(6);
	for (int i = 0; i < N; i++) {
		rnd_tuple(&t, 4);
		h[i] = h_fwd(&t);
	}
	check_spread("random IPv6 flows", h, N, 256, CHI2_MAX_256);
}
END_TEST

START_TEST(test_spread_structured)
{
	enum { N = 65536 };
	static __u32 h[N];
	__u32 a = htonl(0xc6120001), b = htonl(0xc6120002);

	/* one client, one server, every source port: a load generator */
	for (int i = 0; i < N; i++)
		h[i] = wc_flow_hash(&a, &b, 1, 17, htons((__u16)i),
				    htons(4789));
	check_spread("sequential source ports", h, N, 256, CHI2_MAX_256);
	/* a /16 of clients to one server port */
	for (int i = 0; i < N; i++) {
		__u32 c = htonl(0xc6130000 | (__u32)i);

		h[i] = wc_flow_hash(&c, &b, 1, 6, htons(40000), htons(443));
	}
	check_spread("sequential addresses", h, N, 256, CHI2_MAX_256);
	/* 4096 buckets (the maximum): 16 per bucket expected, 4095 dof,
	 * sd ~ 90.5 */
	check_spread("sequential addresses, 4096 buckets", h, N, 4096,
		     4095 + 6 * 90.5);
}
END_TEST

START_TEST(test_mac_symmetric)
{
	__u8 a[6], b[6];

	rng_seed(7);
	for (int i = 0; i < 100000; i++) {
		__u16 proto = (__u16)rnd();

		for (int k = 0; k < 6; k++) {
			a[k] = (__u8)rnd();
			b[k] = (__u8)rnd();
		}
		ck_assert_uint_eq(wc_mac_hash(a, b, proto),
				  wc_mac_hash(b, a, proto));
	}
	memcpy(b, a, 6);
	ck_assert_uint_eq(wc_mac_hash(a, b, 0x0806), wc_mac_hash(b, a, 0x0806));
	/* the ethertype takes part */
	ck_assert_uint_ne(wc_mac_hash(a, b, 0x0806), wc_mac_hash(a, b, 0x88cc));
}
END_TEST

START_TEST(test_mac_spread)
{
	enum { N = 65536 };
	static __u32 h[N];
	__u8 a[6], b[6] = { 0x02, 0, 0, 0, 0, 1 };

	rng_seed(8);
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < 6; k++)
			a[k] = (__u8)rnd();
		h[i] = wc_mac_hash(a, b, 0x0806);
	}
	check_spread("random MAC pairs", h, N, 256, CHI2_MAX_256);
}
END_TEST

Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("symmetric");

	tcase_add_test(tc, test_ipv4_symmetric);
	tcase_add_test(tc, test_ipv6_symmetric);
	tcase_add_test(tc, test_same_address_ports_symmetric);
	tcase_add_test(tc, test_known_flow);
	tcase_add_test(tc, test_mac_symmetric);
	suite_add_tcase(s, tc);

	tc = tcase_create("distinct_and_spread");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_different_flows_differ);
	tcase_add_test(tc, test_spread_random);
	tcase_add_test(tc, test_spread_structured);
	tcase_add_test(tc, test_mac_spread);
	suite_add_tcase(s, tc);
	return s;
}
