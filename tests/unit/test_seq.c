// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test payload frames (builder / parser) and the sequence tracker that
 * `wirecap verify` and the integration tests rely on to count loss.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"

static const struct wc_seq_frame_opts base_opts = {
	.src_mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 },
	.dst_mac = { 0x02, 0, 0, 0, 0, 0x01 },
	.size = WC_SEQ_MIN_FRAME,
};

static struct wc_seqtrack_result result(const struct wc_seqtrack *t)
{
	struct wc_seqtrack_result r;

	wc_seqtrack_result(t, &r);
	return r;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Insert a VLAN tag with the given TPID after the MAC addresses */
static size_t add_tag(uint8_t *f, size_t len, uint16_t tpid, uint16_t vid)
{
	memmove(f + 16, f + 12, len - 12);
	f[12] = tpid >> 8;
	f[13] = tpid & 0xff;
	f[14] = vid >> 8;
	f[15] = vid & 0xff;
	return len + 4;
}

START_TEST(track_in_order)
{
	struct wc_seqtrack *t = wc_seqtrack_new(4);
	struct wc_seqtrack_result r;

	ck_assert_ptr_nonnull(t);
	for (uint64_t s = 0; s < 100000; s++)
		for (uint32_t f = 0; f < 4; f++)
			ck_assert_int_eq(wc_seqtrack_feed(t, f, s), 0);
	r = result(t);
	ck_assert_uint_eq(r.received, 400000);
	ck_assert_uint_eq(r.unique, 400000);
	ck_assert_uint_eq(r.duplicates, 0);
	ck_assert_uint_eq(r.reordered, 0);
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.flows_seen, 4);
	ck_assert_uint_eq(r.foreign, 0);
	wc_seqtrack_free(t);
}
END_TEST

START_TEST(track_duplicates)
{
	struct wc_seqtrack *t = wc_seqtrack_new(2);
	static const uint64_t seqs[] = { 0, 1, 1, 2, 2, 2, 40000, 40000, 0 };
	struct wc_seqtrack_flow fr;
	struct wc_seqtrack_result r;

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		wc_seqtrack_feed(t, 1, seqs[i]);
	r = result(t);
	ck_assert_uint_eq(r.received, 9);
	ck_assert_uint_eq(r.unique, 4);
	ck_assert_uint_eq(r.duplicates, 5);
	/* a duplicate is not also a reorder */
	ck_assert_uint_eq(r.reordered, 0);
	ck_assert_int_eq(wc_seqtrack_flow_result(t, 1, &fr), 0);
	ck_assert_uint_eq(fr.highest, 40000);
	ck_assert_uint_eq(fr.lost, 40001 - 4);
	ck_assert_int_eq(wc_seqtrack_flow_result(t, 0, &fr), -ENOENT);
	wc_seqtrack_free(t);
}
END_TEST

START_TEST(track_reorder)
{
	struct wc_seqtrack *t = wc_seqtrack_new(1);
	static const uint64_t seqs[] = { 0, 2, 1, 3, 6, 4, 5, 7 };
	struct wc_seqtrack_result r;

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		wc_seqtrack_feed(t, 0, seqs[i]);
	r = result(t);
	ck_assert_uint_eq(r.unique, 8);
	ck_assert_uint_eq(r.reordered, 3); /* 1, 4, 5 */
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.duplicates, 0);
	wc_seqtrack_free(t);
}
END_TEST

START_TEST(track_loss)
{
	struct wc_seqtrack *t = wc_seqtrack_new(8);
	struct wc_seqtrack_flow fr;
	struct wc_seqtrack_result r;

	/* flow 0: a gap, no expectation: lost up to the highest */
	wc_seqtrack_feed(t, 0, 0);
	wc_seqtrack_feed(t, 0, 1);
	wc_seqtrack_feed(t, 0, 3);
	wc_seqtrack_feed(t, 0, 4);
	r = result(t);
	ck_assert_uint_eq(r.lost, 1);

	/* with an expectation, the lost tail counts too */
	ck_assert_int_eq(wc_seqtrack_set_expected(t, 0, 10), 0);
	r = result(t);
	ck_assert_uint_eq(r.lost, 6);
	ck_assert_uint_eq(r.excess, 0);

	/* a flow expected but never seen loses everything */
	ck_assert_int_eq(wc_seqtrack_set_expected(t, 7, 5), 0);
	r = result(t);
	ck_assert_uint_eq(r.lost, 11);
	ck_assert_uint_eq(r.flows_seen, 1);
	ck_assert_int_eq(wc_seqtrack_flow_result(t, 7, &fr), 0);
	ck_assert(fr.has_expected);
	ck_assert_uint_eq(fr.lost, 5);

	/* sequence numbers beyond the expectation are excess, not loss
	 * compensation */
	ck_assert_int_eq(wc_seqtrack_set_expected(t, 0, 3), 0);
	r = result(t);
	ck_assert_uint_eq(r.excess, 2); /* 3, 4 */
	ck_assert_uint_eq(r.lost, 1 + 5); /* 2, and flow 7 */

	/* expected 0 packets: everything is excess */
	ck_assert_int_eq(wc_seqtrack_set_expected(t, 3, 0), 0);
	wc_seqtrack_feed(t, 3, 70000);
	ck_assert_int_eq(wc_seqtrack_flow_result(t, 3, &fr), 0);
	ck_assert_uint_eq(fr.excess, 1);
	ck_assert_uint_eq(fr.lost, 0);

	ck_assert_int_eq(wc_seqtrack_set_expected(t, 8, 1), -EINVAL);
	wc_seqtrack_free(t);
}
END_TEST

START_TEST(track_excess_page_edges)
{
	struct wc_seqtrack *t = wc_seqtrack_new(1);
	struct wc_seqtrack_flow fr;

	/* 32768 sequence numbers per bitmap page: count across boundaries */
	for (uint64_t s = 32700; s < 32900; s++)
		wc_seqtrack_feed(t, 0, s);
	wc_seqtrack_feed(t, 0, 1000000);
	wc_seqtrack_set_expected(t, 0, 32769);
	wc_seqtrack_flow_result(t, 0, &fr);
	ck_assert_uint_eq(fr.unique, 201);
	ck_assert_uint_eq(fr.excess, 32900 - 32769 + 1);
	ck_assert_uint_eq(fr.lost, 32769 - (32769 - 32700));
	wc_seqtrack_free(t);
}
END_TEST

START_TEST(track_foreign)
{
	struct wc_seqtrack *t = wc_seqtrack_new(4);
	struct wc_seqtrack_result r;

	wc_seqtrack_feed(t, 3, 0);
	wc_seqtrack_feed(t, 4, 0);
	wc_seqtrack_feed(t, UINT32_MAX, 0);
	wc_seqtrack_feed(t, 0, WC_SEQTRACK_MAX_SEQ + 1);
	wc_seqtrack_feed(t, 0, UINT64_MAX);
	r = result(t);
	ck_assert_uint_eq(r.foreign, 4);
	ck_assert_uint_eq(r.received, 1);
	ck_assert_uint_eq(r.flows_seen, 1);
	ck_assert_uint_eq(r.lost, 0);
	wc_seqtrack_free(t);

	errno = 0;
	ck_assert_ptr_null(wc_seqtrack_new(0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(wc_seqtrack_new(WC_SEQTRACK_MAX_FLOWS + 1));
}
END_TEST

START_TEST(track_sparse_large_seq)
{
	struct wc_seqtrack *t = wc_seqtrack_new(1);
	struct wc_seqtrack_result r;

	/* a wild sequence number costs one page, not a dense bitmap */
	ck_assert_int_eq(wc_seqtrack_feed(t, 0, WC_SEQTRACK_MAX_SEQ), 0);
	ck_assert_int_eq(wc_seqtrack_feed(t, 0, 5), 0);
	r = result(t);
	ck_assert_uint_eq(r.unique, 2);
	ck_assert_uint_eq(r.reordered, 1);
	ck_assert_uint_eq(r.lost, WC_SEQTRACK_MAX_SEQ + 1 - 2);
	wc_seqtrack_free(t);
}
END_TEST

START_TEST(track_merge)
{
	struct wc_seqtrack *a = wc_seqtrack_new(16), *b = wc_seqtrack_new(16);
	struct wc_seqtrack *all = wc_seqtrack_new(16);
	struct wc_seqtrack_result ra, rall;
	struct wc_seqtrack_flow fa;

	/* flow 2 split over both workers with overlaps (duplicates across
	 * trackers), pages only one side has, and flows only in b */
	for (uint64_t s = 0; s < 100000; s++) {
		struct wc_seqtrack *w = (s % 3 == 0) ? a : b;

		wc_seqtrack_feed(w, 2, s);
		wc_seqtrack_feed(all, 2, s);
		if (s % 1000 == 7) { /* seen by both */
			wc_seqtrack_feed(a, 2, s);
			wc_seqtrack_feed(b, 2, s);
			wc_seqtrack_feed(all, 2, s);
			wc_seqtrack_feed(all, 2, s);
		}
	}
	for (uint64_t s = 200000; s < 200010; s++) {
		wc_seqtrack_feed(b, 2, s);
		wc_seqtrack_feed(all, 2, s);
	}
	for (uint64_t s = 0; s < 50; s += 2) {
		wc_seqtrack_feed(b, 9, s);
		wc_seqtrack_feed(all, 9, s);
	}
	wc_seqtrack_feed(a, 20, 1);
	wc_seqtrack_feed(b, 20, 1);
	wc_seqtrack_feed(all, 20, 1);
	wc_seqtrack_feed(all, 20, 1);
	wc_seqtrack_set_expected(b, 9, 50);
	wc_seqtrack_set_expected(all, 9, 50);

	ck_assert_int_eq(wc_seqtrack_merge(a, b), 0);
	ra = result(a);
	rall = result(all);
	ck_assert_uint_eq(ra.received, rall.received);
	ck_assert_uint_eq(ra.unique, rall.unique);
	ck_assert_uint_eq(ra.duplicates, rall.duplicates);
	ck_assert_uint_eq(ra.lost, rall.lost);
	ck_assert_uint_eq(ra.excess, rall.excess);
	ck_assert_uint_eq(ra.flows_seen, rall.flows_seen);
	ck_assert_uint_eq(ra.foreign, rall.foreign);
	/* flow 20 is beyond the 16 flows: foreign on both sides */
	ck_assert_uint_eq(ra.foreign, 2);
	ck_assert_uint_eq(ra.unique, 100000 + 10 + 25);
	ck_assert_uint_eq(ra.duplicates, 100 * 2);
	ck_assert_int_eq(wc_seqtrack_flow_result(a, 2, &fa), 0);
	ck_assert_uint_eq(fa.highest, 200009);
	ck_assert_uint_eq(fa.lost, 200010 - 100010);
	ck_assert_int_eq(wc_seqtrack_flow_result(a, 9, &fa), 0);
	ck_assert(fa.has_expected);
	ck_assert_uint_eq(fa.lost, 25);

	/* merging into a smaller tracker: b's extra flows become foreign */
	{
		struct wc_seqtrack *small = wc_seqtrack_new(2);
		struct wc_seqtrack_result rb = result(b);

		ck_assert_int_eq(wc_seqtrack_merge(small, b), 0);
		ra = result(small);
		ck_assert_uint_eq(ra.received, 0);
		ck_assert_uint_eq(ra.foreign, rb.received + rb.foreign);
		wc_seqtrack_free(small);
	}
	wc_seqtrack_free(a);
	wc_seqtrack_free(b);
	wc_seqtrack_free(all);
}
END_TEST

START_TEST(frame_round_trip)
{
	struct wc_seq_frame_opts o = base_opts;
	static const unsigned sizes[] = { WC_SEQ_MIN_FRAME, 128, 1000, 1514 };
	uint8_t f[WC_SEQ_MAX_FRAME_VLAN];
	struct wc_seq_info info;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int len;

		o.size = sizes[i];
		len = wc_seq_build(f, sizeof(f), &o, 0x12345678,
				   0x0102030405ULL, 987654321012ULL);
		ck_assert_int_eq(len, (int)sizes[i]);
		ck_assert_int_eq(memcmp(f, o.dst_mac, 6), 0);
		ck_assert_int_eq(memcmp(f + 6, o.src_mac, 6), 0);
		ck_assert_uint_eq(be16(f + 12), 0x0800);
		/* header checksum valid: the sum over the header is 0 */
		ck_assert_uint_eq(wc_seq_ip_csum(f + 14, 20), 0);
		ck_assert_uint_eq(be16(f + 14 + 2), sizes[i] - 14);
		ck_assert_uint_eq(be16(f + 34 + 4), sizes[i] - 34);
		ck_assert_uint_eq(be32(f + 42), WC_SEQ_MAGIC);
		ck_assert_int_eq(wc_seq_parse(f, len, &info), 0);
		ck_assert_uint_eq(info.flow, 0x12345678);
		ck_assert_uint_eq(info.seq, 0x0102030405ULL);
		ck_assert_uint_eq(info.tx_ns, 987654321012ULL);
		ck_assert_uint_eq(info.vlans, 0);
		ck_assert(!info.reverse);
		/* 198.18.0.0/15 only */
		ck_assert_uint_eq(info.saddr >> 17, 0xc612u >> 1);
		ck_assert_uint_eq(info.daddr >> 17, 0xc612u >> 1);
	}
}
END_TEST

START_TEST(frame_template_matches_build)
{
	struct wc_seq_frame_opts o = base_opts;
	uint8_t a[256], b[256];
	struct wc_seq_tmpl t;

	o.size = 200;
	o.vlan = 7;
	ck_assert_int_eq(wc_seq_tmpl_init(&t, &o, 42), 0);
	ck_assert_uint_eq(t.len, 200);
	ck_assert_uint_eq(t.len_hdr, WC_SEQ_MIN_FRAME + 4);
	memset(b, 0xee, sizeof(b));
	wc_seq_fill_tail(b, &t);
	wc_seq_tmpl_write(&t, b, 77, 1234);
	ck_assert_int_eq(wc_seq_build(a, sizeof(a), &o, 42, 77, 1234), 200);
	ck_assert_int_eq(memcmp(a, b, 200), 0);
	/* per-packet patch changes only seq and timestamp */
	wc_seq_tmpl_write(&t, b, 78, 1234);
	ck_assert_int_ne(memcmp(a, b, 200), 0);
	ck_assert_int_eq(memcmp(a, b, t.off_seq + 8), 0);
}
END_TEST

START_TEST(frame_sizes)
{
	struct wc_seq_frame_opts o = base_opts;
	uint8_t f[WC_SEQ_MAX_FRAME_VLAN + 1];

	o.size = WC_SEQ_MIN_FRAME - 1;
	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 0, 0, 0), -EINVAL);
	o.size = WC_SEQ_MAX_FRAME + 1;
	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 0, 0, 0), -EINVAL);
	o.vlan = 10;
	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 0, 0, 0),
			 WC_SEQ_MAX_FRAME + 1);
	o.size = WC_SEQ_MIN_FRAME;
	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 0, 0, 0), -EINVAL);
	ck_assert_uint_eq(wc_seq_min_size(&o), WC_SEQ_MIN_FRAME + 4);
	o.vlan = 4095;
	o.size = 100;
	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 0, 0, 0), -EINVAL);
	o = base_opts;
	ck_assert_int_eq(wc_seq_build(f, WC_SEQ_MIN_FRAME - 1, &o, 0, 0, 0),
			 -ENOSPC);
}
END_TEST

START_TEST(frame_vlan)
{
	struct wc_seq_frame_opts o = base_opts;
	uint8_t f[WC_SEQ_MAX_FRAME_VLAN + 16];
	struct wc_seq_info info;
	int len;

	o.vlan = 100;
	o.size = 120;
	len = wc_seq_build(f, sizeof(f), &o, 5, 6, 7);
	ck_assert_int_eq(len, 120);
	ck_assert_uint_eq(be16(f + 12), 0x8100);
	ck_assert_uint_eq(be16(f + 14), 100);
	ck_assert_uint_eq(wc_seq_ip_csum(f + 18, 20), 0);
	ck_assert_int_eq(wc_seq_parse(f, len, &info), 0);
	ck_assert_uint_eq(info.vlans, 1);
	ck_assert_uint_eq(info.flow, 5);
	ck_assert_uint_eq(info.seq, 6);

	/* QinQ: an 802.1ad outer tag */
	len = (int)add_tag(f, len, 0x88a8, 200);
	ck_assert_int_eq(wc_seq_parse(f, len, &info), 0);
	ck_assert_uint_eq(info.vlans, 2);
	ck_assert_uint_eq(info.tx_ns, 7);

	/* three tags: not parsed */
	len = (int)add_tag(f, len, 0x8100, 300);
	ck_assert_int_eq(wc_seq_parse(f, len, &info), -1);
}
END_TEST

START_TEST(frame_reverse)
{
	struct wc_seq_frame_opts o = base_opts;
	uint8_t f[128], r[128];
	struct wc_seq_info fi, ri;

	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 0x30201, 9, 1), 66);
	o.reverse = true;
	ck_assert_int_eq(wc_seq_build(r, sizeof(r), &o, 0x30201, 9, 1), 66);
	ck_assert_uint_eq(wc_seq_ip_csum(r + 14, 20), 0);
	ck_assert_int_eq(wc_seq_parse(f, 66, &fi), 0);
	ck_assert_int_eq(wc_seq_parse(r, 66, &ri), 0);
	ck_assert(!fi.reverse);
	ck_assert(ri.reverse);
	ck_assert_uint_eq(fi.saddr, ri.daddr);
	ck_assert_uint_eq(fi.daddr, ri.saddr);
	ck_assert_uint_eq(fi.sport, ri.dport);
	ck_assert_uint_eq(fi.dport, ri.sport);
	ck_assert_uint_ne(fi.saddr, fi.daddr);
	/* flow id and sequence number stay in the payload */
	ck_assert_uint_eq(ri.flow, 0x30201);
	ck_assert_uint_eq(ri.seq, 9);
	/* MACs are the caller's: not swapped */
	ck_assert_int_eq(memcmp(f, r, 12), 0);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(frame_flows_distinct)
{
	/* flows below 2^31 have different 5-tuples (so RSS spreads them) */
	enum { N = 70000 };
	uint64_t *keys = malloc(N * sizeof(*keys));

	ck_assert_ptr_nonnull(keys);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t f = i * 30011u, s, d;
		uint16_t sp, dp;

		wc_seq_flow_addrs(f, false, &s, &d, &sp, &dp);
		ck_assert_uint_eq(s >> 16, 0xc612);
		ck_assert_uint_eq(d >> 16, 0xc613);
		ck_assert_uint_eq(s & 0xffff, d & 0xffff);
		keys[i] =
			(uint64_t)(s & 0xffff) << 32 | (uint64_t)sp << 16 | dp;
	}
	qsort(keys, N, sizeof(*keys), cmp_u64);
	for (uint32_t i = 1; i < N; i++)
		ck_assert_uint_ne(keys[i - 1], keys[i]);
	free(keys);
}
END_TEST

START_TEST(frame_not_ours)
{
	struct wc_seq_frame_opts o = base_opts;
	uint8_t f[128], g[128];
	struct wc_seq_info info;

	o.size = 100;
	ck_assert_int_eq(wc_seq_build(f, sizeof(f), &o, 1, 2, 3), 100);

	/* truncated before the end of the payload header */
	ck_assert_int_eq(wc_seq_parse(f, WC_SEQ_MIN_FRAME - 1, &info), -1);
	ck_assert_int_eq(wc_seq_parse(f, 10, &info), -1);
	/* a snap length that keeps the payload header is enough */
	ck_assert_int_eq(wc_seq_parse(f, WC_SEQ_MIN_FRAME, &info), 0);

	memcpy(g, f, sizeof(g));
	g[42] ^= 1; /* magic */
	ck_assert_int_eq(wc_seq_parse(g, 100, &info), -1);

	memcpy(g, f, sizeof(g));
	g[14 + 9] = 6; /* TCP */
	ck_assert_int_eq(wc_seq_parse(g, 100, &info), -1);

	memcpy(g, f, sizeof(g));
	g[14 + 6] = 0x00;
	g[14 + 7] = 0x10; /* a non-first fragment */
	ck_assert_int_eq(wc_seq_parse(g, 100, &info), -1);

	memcpy(g, f, sizeof(g));
	g[12] = 0x86;
	g[13] = 0xdd; /* IPv6 */
	ck_assert_int_eq(wc_seq_parse(g, 100, &info), -1);

	memcpy(g, f, sizeof(g));
	g[14] = 0x65; /* IP version 6 in an IPv4 frame */
	ck_assert_int_eq(wc_seq_parse(g, 100, &info), -1);

	memcpy(g, f, sizeof(g));
	g[34 + 4] = 0;
	g[34 + 5] = 8; /* UDP length too short for the header */
	ck_assert_int_eq(wc_seq_parse(g, 100, &info), -1);

	/* IPv4 options are skipped */
	memcpy(g, f, 34);
	g[14] = 0x46;
	g[14 + 3] += 4;
	memset(g + 34, 1, 4); /* 4 NOPs */
	memcpy(g + 38, f + 34, 66);
	ck_assert_int_eq(wc_seq_parse(g, 104, &info), 0);
	ck_assert_uint_eq(info.flow, 1);
	ck_assert_uint_eq(info.seq, 2);

	/* raw IP entry point (Linux cooked captures) */
	ck_assert_int_eq(wc_seq_parse_l3(0x0800, f + 14, 86, &info), 0);
	ck_assert_int_eq(wc_seq_parse_l3(0x0806, f + 14, 86, &info), -1);
}
END_TEST

Suite *seq_suite(void)
{
	Suite *s = suite_create("seq");
	TCase *t = tcase_create("tracker");
	TCase *fr = tcase_create("frames");

	tcase_add_test(t, track_in_order);
	tcase_add_test(t, track_duplicates);
	tcase_add_test(t, track_reorder);
	tcase_add_test(t, track_loss);
	tcase_add_test(t, track_excess_page_edges);
	tcase_add_test(t, track_foreign);
	tcase_add_test(t, track_sparse_large_seq);
	tcase_add_test(t, track_merge);
	suite_add_tcase(s, t);

	tcase_add_test(fr, frame_round_trip);
	tcase_add_test(fr, frame_template_matches_build);
	tcase_add_test(fr, frame_sizes);
	tcase_add_test(fr, frame_vlan);
	tcase_add_test(fr, frame_reverse);
	tcase_add_test(fr, frame_flows_distinct);
	tcase_add_test(fr, frame_not_ours);
	suite_add_tcase(s, fr);
	return s;
}
