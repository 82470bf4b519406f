// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test payload frames (build / parse) and the per-flow sequence tracker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"

#define ETH_HLEN_ 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_UDP_ 17

/* 198.18.0.0/16 is the forward source side, 198.19.0.0/16 the destination */
#define NET_A 0xc6120000u
#define NET_B 0xc6130000u

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

uint16_t wc_seq_ip_csum(const void *hdr, size_t len)
{
	const uint8_t *p = hdr;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += get_be16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void wc_seq_flow_addrs(uint32_t flow, bool reverse, uint32_t *saddr,
		       uint32_t *daddr, uint16_t *sport, uint16_t *dport)
{
	/* The low 16 bits pick the hosts, the high bits the destination port:
	 * every flow below 2^31 has its own 5-tuple, so RSS spreads them. */
	uint32_t a = NET_A | (flow & 0xffff), b = NET_B | (flow & 0xffff);
	uint16_t pa = 0x8000 | ((flow ^ (flow >> 15)) & 0x7fff);
	uint16_t pb = 0x1000 + ((flow >> 16) & 0x7fff);

	*saddr = reverse ? b : a;
	*daddr = reverse ? a : b;
	*sport = reverse ? pb : pa;
	*dport = reverse ? pa : pb;
}

unsigned wc_seq_min_size(const struct wc_seq_frame_opts *o)
{
	return WC_SEQ_MIN_FRAME + (o->vlan ? 4 : 0);
}

int wc_seq_tmpl_init(struct wc_seq_tmpl *t, const struct wc_seq_frame_opts *o,
		     uint32_t flow)
{
	unsigned l2 = ETH_HLEN_ + (o->vlan ? 4 : 0);
	unsigned max = o->vlan ? WC_SEQ_MAX_FRAME_VLAN : WC_SEQ_MAX_FRAME;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t *p = t->hdr, *ip, *udp, *pl;

	if (o->size < wc_seq_min_size(o) || o->size > max || o->vlan > 4094)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->len = o->size;
	t->off_seq = l2 + 20 + 8;
	t->len_hdr = t->off_seq + WC_SEQ_HDR_LEN;

	memcpy(p, o->dst_mac, 6);
	memcpy(p + 6, o->src_mac, 6);
	if (o->vlan) {
		put_be16(p + 12, ETHERTYPE_VLAN);
		put_be16(p + 14, o->vlan);
	}
	put_be16(p + l2 - 2, ETHERTYPE_IPV4);

	wc_seq_flow_addrs(flow, o->reverse, &saddr, &daddr, &sport, &dport);
	ip = p + l2;
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(o->size - l2));
	put_be16(ip + 6, 0x4000); /* DF: never fragmented */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP_;
	put_be32(ip + 12, saddr);
	put_be32(ip + 16, daddr);
	put_be16(ip + 10, wc_seq_ip_csum(ip, 20));

	/* UDP checksum 0 (allowed over IPv4) keeps the per-packet patch to
	 * seq and timestamp only. */
	udp = ip + 20;
	put_be16(udp, sport);
	put_be16(udp + 2, dport);
	put_be16(udp + 4, (uint16_t)(o->size - l2 - 20));

	pl = udp + 8;
	put_be32(pl, WC_SEQ_MAGIC);
	put_be32(pl + 4, flow);
	return 0;
}

void wc_seq_fill_tail(void *frame, const struct wc_seq_tmpl *t)
{
	uint8_t *p = frame;

	/* A position-dependent pattern makes truncation or corruption visible
	 * in a hex dump; it is the same for every flow. */
	for (unsigned i = t->len_hdr; i < t->len; i++)
		p[i] = (uint8_t)i;
}

int wc_seq_build(void *buf, size_t cap, const struct wc_seq_frame_opts *o,
		 uint32_t flow, uint64_t seq, uint64_t tx_ns)
{
	struct wc_seq_tmpl t;
	int err = wc_seq_tmpl_init(&t, o, flow);

	if (err)
		return err;
	if (cap < t.len)
		return -ENOSPC;
	wc_seq_fill_tail(buf, &t);
	wc_seq_tmpl_write(&t, buf, seq, tx_ns);
	return t.len;
}

int wc_seq_parse_l3(uint16_t type, const void *data, size_t len,
		    struct wc_seq_info *info)
{
	const uint8_t *p = data, *ip, *udp, *pl;
	unsigned ihl, vlans = 0;
	uint32_t saddr;

	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
		if (vlans == 2 || len < 4)
			return -1;
		type = get_be16(p + 2);
		p += 4;
		len -= 4;
		vlans++;
	}
	if (type != ETHERTYPE_IPV4 || len < 20)
		return -1;
	ip = p;
	ihl = (ip[0] & 0x0f) * 4u;
	if ((ip[0] >> 4) != 4 || ihl < 20 || len < ihl + 8 ||
	    ip[9] != IPPROTO_UDP_ || (get_be16(ip + 6) & 0x1fff) ||
	    get_be16(ip + 2) < ihl + 8 + WC_SEQ_HDR_LEN)
		return -1;
	udp = ip + ihl;
	if (get_be16(udp + 4) < 8 + WC_SEQ_HDR_LEN ||
	    len < ihl + 8 + WC_SEQ_HDR_LEN)
		return -1;
	pl = udp + 8;
	if (get_be32(pl) != WC_SEQ_MAGIC)
		return -1;
	saddr = get_be32(ip + 12);
	info->flow = get_be32(pl + 4);
	info->seq = get_be64(pl + 8);
	info->tx_ns = get_be64(pl + 16);
	info->saddr = saddr;
	info->daddr = get_be32(ip + 16);
	info->sport = get_be16(udp);
	info->dport = get_be16(udp + 2);
	info->vlans = vlans;
	info->reverse = (saddr & 0xffff0000u) == NET_B;
	return 0;
}

int wc_seq_parse(const void *frame, size_t len, struct wc_seq_info *info)
{
	const uint8_t *p = frame;

	if (len < ETH_HLEN_)
		return -1;
	return wc_seq_parse_l3(get_be16(p + 12), p + ETH_HLEN_, len - ETH_HLEN_,
			       info);
}

/* Tracker: per flow, a directory of 4 KiB bitmap pages (32768 sequence
 * numbers each), allocated as sequence numbers arrive. */
#define PAGE_SHIFT_ 15
#define PAGE_WORDS (1u << (PAGE_SHIFT_ - 6))

struct seqflow {
	uint64_t **dir;
	uint32_t ndir;
	bool has_expected;
	uint64_t highest;
	uint64_t received, unique, dups, reordered;
	uint64_t expected;
};

struct wc_seqtrack {
	uint32_t nflows; /* limit: ids >= nflows are foreign */
	uint32_t cap; /* allocated slots, grows with the highest id seen */
	struct seqflow *flows;
	uint64_t foreign;
};

struct wc_seqtrack *wc_seqtrack_new(uint32_t nflows)
{
	struct wc_seqtrack *t;

	if (!nflows || nflows > WC_SEQTRACK_MAX_FLOWS) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t)
		t->nflows = nflows;
	return t;
}

void wc_seqtrack_free(struct wc_seqtrack *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->cap; i++) {
		for (uint32_t j = 0; j < t->flows[i].ndir; j++)
			free(t->flows[i].dir[j]);
		free(t->flows[i].dir);
	}
	free(t->flows);
	free(t);
}

uint32_t wc_seqtrack_nflows(const struct wc_seqtrack *t)
{
	return t->nflows;
}

static struct seqflow *get_flow(struct wc_seqtrack *t, uint32_t flow)
{
	if (flow >= t->cap) {
		uint64_t cap = t->cap ? t->cap : 64;
		struct seqflow *n;

		while (cap <= flow)
			cap *= 2;
		if (cap > t->nflows)
			cap = t->nflows;
		n = realloc(t->flows, cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + t->cap, 0, (cap - t->cap) * sizeof(*n));
		t->flows = n;
		t->cap = (uint32_t)cap;
	}
	return &t->flows[flow];
}

/* Page holding seq, allocated if needed; NULL on ENOMEM. */
static uint64_t *get_page(struct seqflow *f, uint64_t pg)
{
	if (pg >= f->ndir) {
		uint64_t n = f->ndir ? f->ndir : 4;
		uint64_t **d;

		while (n <= pg)
			n *= 2;
		d = realloc(f->dir, n * sizeof(*d));
		if (!d)
			return NULL;
		memset(d + f->ndir, 0, (n - f->ndir) * sizeof(*d));
		f->dir = d;
		f->ndir = (uint32_t)n;
	}
	if (!f->dir[pg])
		f->dir[pg] = calloc(PAGE_WORDS, sizeof(uint64_t));
	return f->dir[pg];
}

int wc_seqtrack_feed(struct wc_seqtrack *t, uint32_t flow, uint64_t seq)
{
	struct seqflow *f;
	uint64_t *pg, *w, bit;

	if (flow >= t->nflows || seq > WC_SEQTRACK_MAX_SEQ) {
		t->foreign++;
		return 0;
	}
	f = get_flow(t, flow);
	if (!f || !(pg = get_page(f, seq >> PAGE_SHIFT_)))
		return -ENOMEM;
	w = &pg[(seq >> 6) & (PAGE_WORDS - 1)];
	bit = 1ULL << (seq & 63);
	f->received++;
	if (*w & bit) {
		f->dups++;
		return 0;
	}
	*w |= bit;
	if (f->unique && seq < f->highest)
		f->reordered++;
	if (!f->unique || seq > f->highest)
		f->highest = seq;
	f->unique++;
	return 0;
}

int wc_seqtrack_set_expected(struct wc_seqtrack *t, uint32_t flow,
			     uint64_t count)
{
	struct seqflow *f;

	if (flow >= t->nflows || count > WC_SEQTRACK_MAX_SEQ + 1)
		return -EINVAL;
	f = get_flow(t, flow);
	if (!f)
		return -ENOMEM;
	f->expected = count;
	f->has_expected = true;
	return 0;
}

/* Unique sequence numbers >= from (popcount over the pages) */
static uint64_t count_from(const struct seqflow *f, uint64_t from)
{
	uint64_t n = 0, pg0 = from >> PAGE_SHIFT_;

	for (uint64_t pg = pg0; pg < f->ndir; pg++) {
		const uint64_t *p = f->dir[pg];
		unsigned w0 = 0;

		if (!p)
			continue;
		if (pg == pg0) {
			w0 = (from >> 6) & (PAGE_WORDS - 1);
			n += __builtin_popcountll(p[w0] &
						  (~0ULL << (from & 63)));
			w0++;
		}
		for (unsigned w = w0; w < PAGE_WORDS; w++)
			n += __builtin_popcountll(p[w]);
	}
	return n;
}

static void flow_result(const struct seqflow *f, struct wc_seqtrack_flow *r)
{
	memset(r, 0, sizeof(*r));
	r->received = f->received;
	r->unique = f->unique;
	r->duplicates = f->dups;
	r->reordered = f->reordered;
	r->highest = f->highest;
	r->expected = f->expected;
	r->has_expected = f->has_expected;
	if (f->has_expected) {
		if (f->unique && f->highest >= f->expected)
			r->excess = count_from(f, f->expected);
		r->lost = f->expected - (f->unique - r->excess);
	} else if (f->unique) {
		r->lost = f->highest + 1 - f->unique;
	}
}

void wc_seqtrack_result(const struct wc_seqtrack *t,
			struct wc_seqtrack_result *r)
{
	memset(r, 0, sizeof(*r));
	r->foreign = t->foreign;
	for (uint32_t i = 0; i < t->cap; i++) {
		struct wc_seqtrack_flow fr;

		flow_result(&t->flows[i], &fr);
		r->received += fr.received;
		r->unique += fr.unique;
		r->duplicates += fr.duplicates;
		r->reordered += fr.reordered;
		r->lost += fr.lost;
		r->excess += fr.excess;
		r->flows_seen += fr.received != 0;
	}
}

int wc_seqtrack_flow_result(const struct wc_seqtrack *t, uint32_t flow,
			    struct wc_seqtrack_flow *r)
{
	const struct seqflow *f;

	if (flow >= t->cap)
		return -ENOENT;
	f = &t->flows[flow];
	if (!f->received && !f->has_expected)
		return -ENOENT;
	flow_result(f, r);
	return 0;
}

static int merge_flow(struct seqflow *a, const struct seqflow *b)
{
	uint64_t overlap = 0;

	for (uint32_t pg = 0; pg < b->ndir; pg++) {
		const uint64_t *bp = b->dir[pg];
		uint64_t *ap;
		bool fresh;

		if (!bp)
			continue;
		fresh = pg >= a->ndir || !a->dir[pg];
		ap = get_page(a, pg);
		if (!ap)
			return -ENOMEM;
		if (fresh) {
			memcpy(ap, bp, PAGE_WORDS * sizeof(*ap));
			continue;
		}
		for (unsigned w = 0; w < PAGE_WORDS; w++) {
			overlap += __builtin_popcountll(ap[w] & bp[w]);
			ap[w] |= bp[w];
		}
	}
	if (b->unique && (!a->unique || b->highest > a->highest))
		a->highest = b->highest;
	/* A sequence number seen by both trackers is one unique packet and
	 * one duplicate. */
	a->unique += b->unique - overlap;
	a->dups += b->dups + overlap;
	a->received += b->received;
	a->reordered += b->reordered;
	if (!a->has_expected && b->has_expected) {
		a->expected = b->expected;
		a->has_expected = true;
	}
	return 0;
}

int wc_seqtrack_merge(struct wc_seqtrack *a, const struct wc_seqtrack *b)
{
	a->foreign += b->foreign;
	for (uint32_t i = 0; i < b->cap; i++) {
		const struct seqflow *bf = &b->flows[i];
		struct seqflow *af;

		if (!bf->received && !bf->has_expected)
			continue;
		if (i >= a->nflows) {
			/* out of a's range: what a would have called foreign */
			a->foreign += bf->received;
			continue;
		}
		af = get_flow(a, i);
		if (!af || merge_flow(af, bf))
			return -ENOMEM;
	}
	return 0;
}
