// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The XDP steering program's parser, run in the kernel on crafted frames
 * with BPF_PROG_TEST_RUN (needs root: CAP_BPF + CAP_PERFMON).
 *
 * Every frame is also run truncated to every length from the smallest the
 * kernel accepts (ETH_HLEN) to its full length. For each run we check the
 * verdict (PASS: no socket is bound), the per-queue counters (each moves by
 * exactly what that length implies), the bucket counter that moved (it
 * must be the bucket of the hash user space computes with wc_flow_hash /
 * wc_mac_hash for the same tuple), the metadata written in front of the
 * packet, and that the reversed frame (endpoints swapped) lands in the same
 * bucket. Expected outcomes per length come from a table written by hand
 * for each frame (header boundaries); random frames are checked against a
 * reference model of the parser written here from the specification.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "wirecap/wc_layout.h"
#include "wirecap_test.skel.h"

#define NBUCKETS 256
#define MAXF 512
#define ETH_HLEN_ 14

/* ---- loading the program ------------------------------------------------ */

struct env {
	struct wirecap_test_bpf *skel;
	int prog, cfg, qs, bs, steer;
	int ncpu;
	struct wc_config c;
};

static int silent_print(enum libbpf_print_level l, const char *f, va_list a)
{
	if (l == LIBBPF_WARN)
		return vfprintf(stderr, f, a);
	return 0;
}

static void set_config(struct env *e)
{
	__u32 zero = 0;

	ck_assert_int_eq(bpf_map_update_elem(e->cfg, &zero, &e->c, BPF_ANY), 0);
}

/* queues=1, workers=1, buckets=256, metadata on, no socket -> PASS */
static void env_load(struct env *e, __u32 workers)
{
	int err;

	memset(e, 0, sizeof(*e));
	libbpf_set_print(silent_print);
	e->skel = wirecap_test_bpf__open();
	ck_assert_msg(e->skel, "cannot open the BPF skeleton: %s",
		      strerror(errno));
	bpf_map__set_max_entries(e->skel->maps.xsks, workers);
	bpf_map__set_max_entries(e->skel->maps.steer, NBUCKETS);
	bpf_map__set_max_entries(e->skel->maps.bucket_stats, NBUCKETS);
	err = wirecap_test_bpf__load(e->skel);
	ck_assert_msg(
		!err, "cannot load the XDP program: %s%s", strerror(-err),
		geteuid() ?
			" (the parser tests need root: CAP_BPF, CAP_PERFMON)" :
			"");
	e->prog = bpf_program__fd(e->skel->progs.wirecap_steer);
	e->cfg = bpf_map__fd(e->skel->maps.config);
	e->qs = bpf_map__fd(e->skel->maps.queue_stats);
	e->bs = bpf_map__fd(e->skel->maps.bucket_stats);
	e->steer = bpf_map__fd(e->skel->maps.steer);
	e->ncpu = libbpf_num_possible_cpus();
	ck_assert_int_gt(e->ncpu, 0);

	/* steering: worker b % W, generation 1000 + b (copied to the meta) */
	for (__u32 b = 0; b < NBUCKETS; b++) {
		struct wc_steer st = { .worker = b % workers, .gen = 1000 + b };

		ck_assert_int_eq(
			bpf_map_update_elem(e->steer, &b, &st, BPF_ANY), 0);
	}
	e->c.version = WC_CONFIG_VERSION;
	e->c.queues = 1;
	e->c.workers = workers;
	e->c.buckets = NBUCKETS;
	e->c.no_socket_action = WC_ACT_PASS;
	e->c.hash_mode = WC_HASH_L4;
	e->c.meta_enabled = 1;
	e->c.steer_mode = WC_STEER_FLOW;
	e->c.offload_high_pct = 50;
	e->c.offload_low_pct = 10;
	e->c.offload_interval_ms = 100;
	e->c.offload_max_moves = 8;
	set_config(e);
}

static void env_free(struct env *e)
{
	wirecap_test_bpf__destroy(e->skel);
}

static void read_qs(struct env *e, struct wc_queue_stats *out)
{
	struct wc_queue_stats pc[e->ncpu];
	__u32 q = 0;

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(bpf_map_lookup_elem(e->qs, &q, pc), 0);
	for (int c = 0; c < e->ncpu; c++) {
		__u64 *d = (__u64 *)out, *s = (__u64 *)&pc[c];

		for (size_t i = 0; i < sizeof(*out) / 8; i++)
			d[i] += s[i];
	}
}

static struct wc_bucket_stats read_bucket(struct env *e, __u32 b)
{
	struct wc_bucket_stats pc[e->ncpu], t = { 0, 0 };

	ck_assert_int_eq(bpf_map_lookup_elem(e->bs, &b, pc), 0);
	for (int c = 0; c < e->ncpu; c++) {
		t.packets += pc[c].packets;
		t.bytes += pc[c].bytes;
	}
	return t;
}

static __u64 bucket_total(struct env *e)
{
	__u64 t = 0;

	for (__u32 b = 0; b < NBUCKETS; b++)
		t += read_bucket(e, b).packets;
	return t;
}

/* One test run. Returns the syscall result; fills retval and the metadata
 * (meta_len 0 when the kernel returned none). */
struct run {
	int err;
	__u32 retval;
	__u32 meta_len;
	struct wc_meta meta;
	__u8 out[MAXF + 64];
	__u32 out_len;
};

static void run_prog(struct env *e, const __u8 *pkt, __u32 len, struct run *r)
{
	struct xdp_md ctx_in = { .data = 0, .data_end = len };
	struct xdp_md ctx_out = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out),
		    .repeat = 1);

	memset(r, 0, sizeof(*r));
	r->err = bpf_prog_test_run_opts(e->prog, &o) ? -errno : 0;
	r->retval = o.retval;
	r->out_len = o.data_size_out;
	/* this build of the program (WC_TEST_META) prepends the metadata
	 * to the packet and leaves it there: what data_out holds beyond the
	 * packet is the metadata */
	(void)ctx_out;
	r->meta_len = r->out_len > len ? r->out_len - len : 0;
	if (!r->err && r->meta_len == sizeof(r->meta))
		memcpy(&r->meta, r->out, sizeof(r->meta));
}

/* ---- frames ------------------------------------------------------------- */

enum kind { K_MAC, K_ADDR, K_FULL };

/* from this length on (until the next seg), the parser's outcome is */
struct seg {
	int from;
	__u16 flags;
	enum kind kind;
	__u8 proto; /* K_ADDR / K_FULL */
};

struct frame {
	const char *name;
	__u8 buf[MAXF];
	int len;
	/* endpoints, as the bytes lie in the packet */
	__u8 smac[6], dmac[6];
	int nw;
	__u32 src[4], dst[4];
	__u16 sport, dport;
	__u16 eth_type; /* outer ethertype, host order */
	struct seg seg[16];
	int nseg;
};

static void put(struct frame *f, const void *p, int n)
{
	ck_assert_int_le(f->len + n, MAXF);
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, __u8 v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, __u16 host)
{
	__u16 v = htons(host);

	put(f, &v, 2);
}

static void zeros(struct frame *f, int n)
{
	ck_assert_int_le(f->len + n, MAXF);
	memset(f->buf + f->len, 0, n);
	f->len += n;
}

static void seg(struct frame *f, int from, __u16 flags, enum kind k, __u8 proto)
{
	f->seg[f->nseg++] = (struct seg){ from, flags, k, proto };
}

static void eth(struct frame *f, __u16 type)
{
	put(f, f->dmac, 6);
	put(f, f->smac, 6);
	put16(f, type);
	f->eth_type = type;
}

static void vlan(struct frame *f, __u16 tci, __u16 next)
{
	put16(f, tci);
	put16(f, next);
}

/* IPv4 header with optwords 32-bit words of options */
static void ipv4(struct frame *f, __u8 proto, int optwords, __u16 frag_off)
{
	put8(f, 0x40 | (5 + optwords));
	put8(f, 0);
	put16(f, 100);
	put16(f, 0x1234);
	put16(f, frag_off);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, &f->src[0], 4);
	put(f, &f->dst[0], 4);
	for (int i = 0; i < optwords; i++) {
		/* NOPs, then a final EOL-padded word */
		__u8 nop[4] = { 1, 1, 1, i == optwords - 1 ? 0 : 1 };

		put(f, nop, 4);
	}
}

static void ipv6(struct frame *f, __u8 nexthdr)
{
	put8(f, 0x60);
	put8(f, 0);
	put16(f, 0xbeef); /* flow label: not part of the hash */
	put16(f, 100);
	put8(f, nexthdr);
	put8(f, 64);
	put(f, f->src, 16);
	put(f, f->dst, 16);
}

/* hop-by-hop / routing / destination options: (hdrlen + 1) * 8 bytes */
static void ext6(struct frame *f, __u8 next, __u8 hdrlen)
{
	put8(f, next);
	put8(f, hdrlen);
	/* PadN filling the rest */
	put8(f, 1);
	put8(f, (hdrlen + 1) * 8 - 4);
	zeros(f, (hdrlen + 1) * 8 - 4);
}

static void ah6(struct frame *f, __u8 next, __u8 hdrlen)
{
	put8(f, next);
	put8(f, hdrlen);
	zeros(f, (hdrlen + 2) * 4 - 2);
}

static void frag6(struct frame *f, __u8 next, __u16 offset8, int more)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (__u16)(offset8 << 3 | (more ? 1 : 0)));
	put16(f, 0xabcd);
	put16(f, 0x0001);
}

/* TCP/UDP/SCTP header starting with the ports, hlen bytes in all */
static void l4ports(struct frame *f, int hlen)
{
	put(f, &f->sport, 2);
	put(f, &f->dport, 2);
	zeros(f, hlen - 4);
}

static void payload(struct frame *f, int n)
{
	for (int i = 0; i < n; i++)
		put8(f, (__u8)(0xa0 + i));
}

/* endpoints of every crafted frame (198.18.0.0/15 and 2001:db8::/32) */
static void endpoints(struct frame *f, int nw, int rev)
{
	__u8 ma[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	__u8 mb[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	__u32 a4 = htonl(0xc6120001), b4 = htonl(0xc6130102);
	__u32 a6[4] = { htonl(0x20010db8), 0, 0, htonl(1) };
	__u32 b6[4] = { htonl(0x20010db8), 0, htonl(7), htonl(2) };
	__u16 pa = htons(40001), pb = htons(443);

	memcpy(f->smac, rev ? mb : ma, 6);
	memcpy(f->dmac, rev ? ma : mb, 6);
	f->nw = nw;
	memset(f->src, 0, sizeof(f->src));
	memset(f->dst, 0, sizeof(f->dst));
	if (nw == 1) {
		f->src[0] = rev ? b4 : a4;
		f->dst[0] = rev ? a4 : b4;
	} else {
		memcpy(f->src, rev ? b6 : a6, 16);
		memcpy(f->dst, rev ? a6 : b6, 16);
	}
	f->sport = rev ? pb : pa;
	f->dport = rev ? pa : pb;
}

#define T WC_PKT_TRUNCATED
#define N WC_PKT_NON_IP
#define F WC_PKT_FRAGMENT
#define U WC_PKT_UNKNOWN_L4
#define V6 WC_PKT_IPV6
#define VL WC_PKT_VLAN

/* IPv4 + L4 with `hl` bytes of header carrying ports (0: no ports) */
static void v4_l4(struct frame *f, int rev, __u8 proto, int hl, int ports)
{
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, proto, 0, 0);
	seg(f, 34, T, K_ADDR, proto);
	if (ports)
		l4ports(f, hl);
	else
		zeros(f, hl);
	seg(f, 34 + hl, 0, ports ? K_FULL : K_ADDR, proto);
	payload(f, 18);
}

static void fr_tcp4(struct frame *f, int rev)
{
	v4_l4(f, rev, 6, 20, 1);
}
static void fr_udp4(struct frame *f, int rev)
{
	v4_l4(f, rev, 17, 8, 1);
}
static void fr_sctp4(struct frame *f, int rev)
{
	v4_l4(f, rev, 132, 12, 1);
}
static void fr_icmp4(struct frame *f, int rev)
{
	v4_l4(f, rev, 1, 8, 0);
}

static void fr_ipv4_opts(struct frame *f, int rev)
{
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, 17, 10, 0); /* ihl 15: the maximum, 60 bytes */
	seg(f, 74, T, K_ADDR, 17);
	l4ports(f, 8);
	seg(f, 82, 0, K_FULL, 17);
	payload(f, 4);
}

static void fr_frag4_first(struct frame *f, int rev)
{
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, 17, 0, 0x2000); /* MF, offset 0: ports present, not used */
	seg(f, 34, F, K_ADDR, 17);
	l4ports(f, 8);
	payload(f, 30);
}

static void fr_frag4_next(struct frame *f, int rev)
{
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, 17, 0, 185); /* offset 1480, last fragment */
	seg(f, 34, F, K_ADDR, 17);
	payload(f, 40);
}

static void fr_frag4_df(struct frame *f, int rev)
{
	/* DF alone is not a fragment */
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, 6, 0, 0x4000);
	seg(f, 34, T, K_ADDR, 6);
	l4ports(f, 20);
	seg(f, 54, 0, K_FULL, 6);
}

static void fr_vlan_udp4(struct frame *f, int rev)
{
	endpoints(f, 1, rev);
	eth(f, 0x8100);
	seg(f, 14, VL | T | N, K_MAC, 0);
	vlan(f, 100, 0x0800);
	seg(f, 18, VL | T, K_MAC, 0);
	ipv4(f, 17, 0, 0);
	seg(f, 38, VL | T, K_ADDR, 17);
	l4ports(f, 8);
	seg(f, 46, VL, K_FULL, 17);
	payload(f, 10);
}

static void fr_qinq_tcp6(struct frame *f, int rev)
{
	endpoints(f, 4, rev);
	eth(f, 0x88a8);
	seg(f, 14, VL | T | N, K_MAC, 0);
	vlan(f, 10, 0x8100);
	seg(f, 18, VL | T | N, K_MAC, 0);
	vlan(f, 20, 0x86dd);
	seg(f, 22, VL | V6 | T, K_MAC, 0);
	ipv6(f, 6);
	seg(f, 62, VL | V6 | T, K_ADDR, 6);
	l4ports(f, 20);
	seg(f, 82, VL | V6, K_FULL, 6);
	payload(f, 6);
}

static void fr_vlan3(struct frame *f, int rev)
{
	/* a third tag is not followed: non-IP */
	endpoints(f, 1, rev);
	eth(f, 0x8100);
	seg(f, 14, VL | T | N, K_MAC, 0);
	vlan(f, 1, 0x8100);
	seg(f, 18, VL | T | N, K_MAC, 0);
	vlan(f, 2, 0x8100);
	seg(f, 22, VL | N, K_MAC, 0);
	vlan(f, 3, 0x0800);
	ipv4(f, 17, 0, 0);
	l4ports(f, 8);
}

static void fr_ipv6_chain(struct frame *f, int rev)
{
	endpoints(f, 4, rev);
	eth(f, 0x86dd);
	seg(f, 14, V6 | T, K_MAC, 0);
	ipv6(f, 0 /* hop-by-hop */);
	seg(f, 54, V6 | T, K_ADDR, 0); /* HBH: 8 bytes, 54..61 */
	ext6(f, 43, 0);
	seg(f, 62, V6 | T, K_ADDR, 43); /* routing: 24 bytes, 62..85 */
	ext6(f, 60, 2);
	seg(f, 70, V6 | T, K_ADDR,
	    60); /* its first 8 bytes suffice to skip it */
	ext6(f, 17, 1); /* dstopts: 16 bytes, 86..101 */
	seg(f, 94, V6 | T, K_ADDR, 17);
	l4ports(f, 8);
	seg(f, 110, V6, K_FULL, 17);
	payload(f, 8);
}

static void fr_ipv6_ah(struct frame *f, int rev)
{
	endpoints(f, 4, rev);
	eth(f, 0x86dd);
	seg(f, 14, V6 | T, K_MAC, 0);
	ipv6(f, 51);
	seg(f, 54, V6 | T, K_ADDR, 51);
	ah6(f, 6, 4); /* (4 + 2) * 4 = 24 bytes, 54..77 */
	seg(f, 62, V6 | T, K_ADDR, 6);
	l4ports(f, 20);
	seg(f, 98, V6, K_FULL, 6);
}

static void fr_ipv6_long_chain(struct frame *f, int rev)
{
	/* nine destination-options headers: more than the parser follows */
	endpoints(f, 4, rev);
	eth(f, 0x86dd);
	seg(f, 14, V6 | T, K_MAC, 0);
	ipv6(f, 60);
	seg(f, 54, V6 | T, K_ADDR, 60);
	for (int i = 0; i < 9; i++)
		ext6(f, i < 8 ? 60 : 17, 0);
	/* after 8 headers: the 9th is not parsed, whatever its length */
	seg(f, 54 + 8 * 8, V6 | U, K_ADDR, 60);
	l4ports(f, 8);
}

static void fr_frag6(struct frame *f, int rev, __u16 off, int more)
{
	endpoints(f, 4, rev);
	eth(f, 0x86dd);
	seg(f, 14, V6 | T, K_MAC, 0);
	ipv6(f, 44);
	seg(f, 54, V6 | T, K_ADDR, 44);
	frag6(f, 17, off, more);
	seg(f, 62, V6 | F, K_ADDR, 17);
	if (!off)
		l4ports(f, 8);
	payload(f, 24);
}

static void fr_frag6_first(struct frame *f, int rev)
{
	fr_frag6(f, rev, 0, 1);
}
static void fr_frag6_next(struct frame *f, int rev)
{
	fr_frag6(f, rev, 181, 0);
}

static void fr_hbh_frag6(struct frame *f, int rev)
{
	/* hop-by-hop then fragment: both skipped, fragment counted */
	endpoints(f, 4, rev);
	eth(f, 0x86dd);
	seg(f, 14, V6 | T, K_MAC, 0);
	ipv6(f, 0);
	seg(f, 54, V6 | T, K_ADDR, 0);
	ext6(f, 44, 0);
	seg(f, 62, V6 | T, K_ADDR, 44);
	frag6(f, 6, 0, 1);
	seg(f, 70, V6 | F, K_ADDR, 6);
	l4ports(f, 20);
}

static void fr_icmp6(struct frame *f, int rev)
{
	endpoints(f, 4, rev);
	eth(f, 0x86dd);
	seg(f, 14, V6 | T, K_MAC, 0);
	ipv6(f, 58);
	seg(f, 54, V6 | T, K_ADDR, 58);
	put8(f, 128); /* echo request */
	zeros(f, 7);
	seg(f, 62, V6, K_ADDR, 58);
	payload(f, 16);
}

static void fr_gre4(struct frame *f, int rev)
{
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, 47, 0, 0);
	seg(f, 34, U, K_ADDR, 47);
	put16(f, 0);
	put16(f, 0x6558);
	payload(f, 20);
}

static void fr_arp(struct frame *f, int rev)
{
	endpoints(f, 1, rev);
	eth(f, 0x0806);
	seg(f, 14, N, K_MAC, 0);
	put16(f, 1);
	put16(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16(f, 1);
	put(f, f->smac, 6);
	put(f, &f->src[0], 4);
	zeros(f, 6);
	put(f, &f->dst[0], 4);
}

static void fr_bad_ihl(struct frame *f, int rev)
{
	/* ihl 4 (< 5): malformed, counted as truncated, hashed on MACs */
	endpoints(f, 1, rev);
	eth(f, 0x0800);
	seg(f, 14, T, K_MAC, 0);
	ipv4(f, 6, 0, 0);
	f->buf[14] = 0x44;
	l4ports(f, 20);
}

static const struct {
	const char *name;
	void (*build)(struct frame *f, int rev);
} frames[] = {
	{ "ipv4-tcp", fr_tcp4 },
	{ "ipv4-udp", fr_udp4 },
	{ "ipv4-sctp", fr_sctp4 },
	{ "ipv4-icmp", fr_icmp4 },
	{ "ipv4-options-udp", fr_ipv4_opts },
	{ "ipv4-first-fragment", fr_frag4_first },
	{ "ipv4-nonfirst-fragment", fr_frag4_next },
	{ "ipv4-df-tcp", fr_frag4_df },
	{ "vlan-ipv4-udp", fr_vlan_udp4 },
	{ "qinq-ipv6-tcp", fr_qinq_tcp6 },
	{ "three-vlan-tags", fr_vlan3 },
	{ "ipv6-hbh-rt-dst-udp", fr_ipv6_chain },
	{ "ipv6-ah-tcp", fr_ipv6_ah },
	{ "ipv6-nine-ext-headers", fr_ipv6_long_chain },
	{ "ipv6-first-fragment", fr_frag6_first },
	{ "ipv6-nonfirst-fragment", fr_frag6_next },
	{ "ipv6-hbh-fragment", fr_hbh_frag6 },
	{ "ipv6-icmp6", fr_icmp6 },
	{ "ipv4-gre", fr_gre4 },
	{ "arp", fr_arp },
	{ "ipv4-bad-ihl", fr_bad_ihl },
};
#define NFRAMES (int)(sizeof(frames) / sizeof(frames[0]))

static void build(struct frame *f, int i, int rev)
{
	memset(f, 0, sizeof(*f));
	f->name = frames[i].name;
	frames[i].build(f, rev);
	ck_assert_int_gt(f->nseg, 0);
	ck_assert_int_eq(f->seg[0].from, ETH_HLEN_);
}

static const struct seg *seg_at(const struct frame *f, int len)
{
	const struct seg *s = &f->seg[0];

	for (int i = 0; i < f->nseg; i++)
		if (f->seg[i].from <= len)
			s = &f->seg[i];
	return s;
}

static __u32 expect_hash(const struct frame *f, const struct seg *s, int l3)
{
	switch (s->kind) {
	case K_MAC:
		return wc_mac_hash(f->smac, f->dmac, f->eth_type);
	case K_ADDR:
		return wc_flow_hash(f->src, f->dst, f->nw, s->proto, 0, 0);
	case K_FULL:
	default:
		return wc_flow_hash(f->src, f->dst, f->nw, s->proto,
				    l3 ? 0 : f->sport, l3 ? 0 : f->dport);
	}
}

/* ---- checking one run --------------------------------------------------- */

struct expect {
	__u16 flags;
	__u32 hash;
	__u32 verdict; /* XDP_PASS or XDP_DROP */
};

static int meta_seen; /* did the kernel hand back the metadata? */

/* Run pkt[0..len) and check everything against exp; returns the hash */
static void run_check(struct env *e, const char *name, const __u8 *pkt, int len,
		      const struct expect *x)
{
	struct wc_queue_stats b, a;
	__u32 bucket = x->hash & (NBUCKETS - 1);
	struct wc_bucket_stats bb, ba;
	struct run r;
	int drop = x->verdict == XDP_DROP;

	read_qs(e, &b);
	bb = read_bucket(e, bucket);
	run_prog(e, pkt, len, &r);
	read_qs(e, &a);
	ba = read_bucket(e, bucket);

	ck_assert_msg(r.err == 0, "%s len %d: test run failed: %s", name, len,
		      strerror(-r.err));
	ck_assert_msg(r.retval == x->verdict,
		      "%s len %d: verdict %u, expected %u", name, len, r.retval,
		      x->verdict);
#define D(f) (a.f - b.f)
	ck_assert_msg(D(packets) == 1 && D(bytes) == (__u64)len,
		      "%s len %d: packets +%llu bytes +%llu", name, len,
		      (unsigned long long)D(packets),
		      (unsigned long long)D(bytes));
	ck_assert_msg(
		D(redirected) == 0 && D(nosock) == 1 &&
			D(passed) == (__u64)!drop && D(dropped) == (__u64)drop,
		"%s len %d: redirected +%llu nosock +%llu passed +%llu dropped +%llu",
		name, len, (unsigned long long)D(redirected),
		(unsigned long long)D(nosock), (unsigned long long)D(passed),
		(unsigned long long)D(dropped));
	ck_assert_msg(
		D(non_ip) == !!(x->flags & N) &&
			D(truncated) == !!(x->flags & T) &&
			D(fragment) == !!(x->flags & F) &&
			D(unknown_l4) == !!(x->flags & U),
		"%s len %d: non_ip +%llu truncated +%llu fragment +%llu unknown_l4 +%llu, expected flags 0x%x",
		name, len, (unsigned long long)D(non_ip),
		(unsigned long long)D(truncated),
		(unsigned long long)D(fragment),
		(unsigned long long)D(unknown_l4), x->flags);
	ck_assert_msg(D(meta_failed) == 0 && D(bad_queue) == 0,
		      "%s len %d: meta_failed +%llu bad_queue +%llu", name, len,
		      (unsigned long long)D(meta_failed),
		      (unsigned long long)D(bad_queue));
#undef D
	ck_assert_msg(
		ba.packets - bb.packets == 1 &&
			ba.bytes - bb.bytes == (__u64)len,
		"%s len %d: bucket %u (hash 0x%08x) did not count the packet",
		name, len, bucket, x->hash);

	if (e->c.meta_enabled && r.meta_len) {
		const struct wc_meta *m = &r.meta;

		ck_assert_msg(r.meta_len == sizeof(struct wc_meta),
			      "%s len %d: metadata of %u bytes", name, len,
			      r.meta_len);
		meta_seen = 1;
		ck_assert_msg(m->hash == x->hash,
			      "%s len %d: meta hash 0x%08x, expected 0x%08x",
			      name, len, m->hash, x->hash);
		ck_assert_uint_eq(m->bucket, bucket);
		ck_assert_uint_eq(m->queue, 0);
		ck_assert_uint_eq(m->worker, bucket % e->c.workers);
		ck_assert_uint_eq(m->gen, 1000 + bucket);
		ck_assert_msg(m->flags == x->flags,
			      "%s len %d: meta flags 0x%x, expected 0x%x", name,
			      len, m->flags, x->flags);
		ck_assert_uint_ne(m->ts_ns, 0);
	}
	if (!e->c.meta_enabled)
		ck_assert_msg(r.meta_len == 0,
			      "%s: metadata written while disabled", name);
	/* the packet itself is untouched */
	ck_assert_uint_eq(r.out_len, r.meta_len + len);
	ck_assert_msg(!memcmp(r.out + r.meta_len, pkt, len),
		      "%s len %d: packet modified", name, len);
}

/* Every crafted frame, forward and reversed, at every length */
static void sweep_frames(struct env *e, int l3)
{
	for (int i = 0; i < NFRAMES; i++) {
		struct frame f, fr;
		__u64 before = bucket_total(e);
		struct wc_queue_stats q0, q1;
		int runs = 0;

		build(&f, i, 0);
		build(&fr, i, 1);
		ck_assert_int_eq(f.len, fr.len);
		read_qs(e, &q0);
		for (int len = ETH_HLEN_; len <= f.len; len++) {
			const struct seg *s = seg_at(&f, len);
			struct expect x = {
				.flags = s->flags,
				.hash = expect_hash(&f, s, l3),
				.verdict =
					e->c.no_socket_action == WC_ACT_DROP ?
						XDP_DROP :
						XDP_PASS,
			};
			struct expect xr = x;
			char nm[96];

			xr.hash = expect_hash(&fr, seg_at(&fr, len), l3);
			/* symmetric: the reversed frame has the same hash */
			ck_assert_msg(
				x.hash == xr.hash,
				"%s len %d: reversed hash 0x%08x != 0x%08x",
				f.name, len, xr.hash, x.hash);
			run_check(e, f.name, f.buf, len, &x);
			snprintf(nm, sizeof(nm), "%s (reversed)", f.name);
			run_check(e, nm, fr.buf, len, &xr);
			runs += 2;
		}
		/* nothing counted anywhere else */
		read_qs(e, &q1);
		ck_assert_uint_eq(q1.packets - q0.packets, (__u64)runs);
		ck_assert_uint_eq(bucket_total(e) - before, (__u64)runs);
	}
}

START_TEST(test_frames_every_length)
{
	struct env e;

	env_load(&e, 1);
	sweep_frames(&e, 0);
	env_free(&e);
}
END_TEST

START_TEST(test_frames_l3_hash_drop_no_meta)
{
	struct env e;

	/* live config changes: hash on addresses, drop without socket, no
	 * metadata, two workers (steer says b % 2) */
	env_load(&e, 2);
	e.c.hash_mode = WC_HASH_L3;
	e.c.no_socket_action = WC_ACT_DROP;
	e.c.meta_enabled = 0;
	set_config(&e);
	sweep_frames(&e, 1);
	env_free(&e);
}
END_TEST

START_TEST(test_frames_two_workers_meta)
{
	struct env e;

	env_load(&e, 2);
	sweep_frames(&e, 0);
	env_free(&e);
}
END_TEST

START_TEST(test_below_eth_hlen)
{
	struct env e;
	struct wc_queue_stats b, a;
	struct frame f;
	struct run r;

	env_load(&e, 1);
	build(&f, 0, 0);
	read_qs(&e, &b);
	for (int len = 0; len < ETH_HLEN_; len++) {
		run_prog(&e, f.buf, len, &r);
		/* the kernel refuses frames shorter than an Ethernet header
		 * (EINVAL); if it ever runs one, it must pass it */
		if (r.err == 0)
			ck_assert_uint_eq(r.retval, XDP_PASS);
		else
			ck_assert_int_eq(r.err, -EINVAL);
	}
	read_qs(&e, &a);
	/* truncated Ethernet frames, if run, count as truncated non-IP */
	ck_assert_uint_eq(a.packets - b.packets, a.truncated - b.truncated);
	ck_assert_uint_eq(a.packets - b.packets, a.non_ip - b.non_ip);
	env_free(&e);
}
END_TEST

START_TEST(test_unconfigured_passes)
{
	struct env e;
	struct wc_queue_stats q;
	struct frame f;
	struct run r;
	__u32 zero = 0;
	struct wc_config c = {};

	env_load(&e, 1);
	ck_assert_int_eq(bpf_map_update_elem(e.cfg, &zero, &c, BPF_ANY), 0);
	build(&f, 0, 0);
	run_prog(&e, f.buf, f.len, &r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(r.retval, XDP_PASS);
	read_qs(&e, &q);
	ck_assert_uint_eq(q.packets, 0);
	env_free(&e);
}
END_TEST

/* ---- random frames against a reference model ----------------------------- */

static uint64_t rs = 0x1234567887654321ull;

static uint32_t rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (uint32_t)((rs * 0x2545f4914f6cdd1dull) >> 32);
}

/* The parser's contract, written from the specification (wc_layout.h and
 * the issue), independently of bpf/wirecap.bpf.c. */
static void model(const __u8 *p, int len, int l3, struct expect *x)
{
	__u16 et = (__u16)(p[12] << 8 | p[13]), outer = et, fl = 0;
	int off = 14;
	__u32 src[4] = {}, dst[4] = {};
	__u16 sp = 0, dp = 0;
	__u8 proto;
	int nw;

	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		fl |= VL;
		if (off + 4 > len) {
			fl |= T | N;
			goto mac;
		}
		et = (__u16)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et == 0x0800) {
		int hl;

		if (off + 20 > len) {
			fl |= T;
			goto mac;
		}
		hl = (p[off] & 0xf) * 4;
		if (hl < 20 || off + hl > len) {
			fl |= T;
			goto mac;
		}
		nw = 1;
		memcpy(src, p + off + 12, 4);
		memcpy(dst, p + off + 16, 4);
		proto = p[off + 9];
		if (((p[off + 6] << 8 | p[off + 7]) & 0x3fff) != 0) {
			fl |= F;
			goto l3hash;
		}
		off += hl;
		goto l4;
	}
	if (et == 0x86dd) {
		int frag = 0, n;

		fl |= V6;
		if (off + 40 > len) {
			fl |= T;
			goto mac;
		}
		nw = 4;
		memcpy(src, p + off + 8, 16);
		memcpy(dst, p + off + 24, 16);
		proto = p[off + 6];
		off += 40;
		for (n = 0; n < 8; n++) {
			if (proto != 0 && proto != 43 && proto != 60 &&
			    proto != 51 && proto != 44)
				break;
			if (off + 8 > len) {
				fl |= T;
				goto l3hash;
			}
			if (proto == 44) {
				frag = 1;
				fl |= F;
				proto = p[off];
				off += 8;
			} else if (proto == 51) {
				int sz = (p[off + 1] + 2) * 4;

				proto = p[off];
				off += sz;
			} else {
				int sz = (p[off + 1] + 1) * 8;

				proto = p[off];
				off += sz;
			}
		}
		if (proto == 0 || proto == 43 || proto == 60 || proto == 51 ||
		    proto == 44) {
			fl |= U;
			goto l3hash;
		}
		if (frag)
			goto l3hash;
		goto l4;
	}
	fl |= N;
	goto mac;
l4:
	switch (proto) {
	case 6:
	case 17:
	case 132: {
		int need = proto == 6 ? 20 : proto == 17 ? 8 : 12;

		if (off + need > len) {
			fl |= T;
			break;
		}
		memcpy(&sp, p + off, 2);
		memcpy(&dp, p + off + 2, 2);
		break;
	}
	case 1:
	case 58:
		if (off + 8 > len)
			fl |= T;
		break;
	default:
		fl |= U;
	}
l3hash:
	if (l3)
		sp = dp = 0;
	x->flags = fl;
	x->hash = wc_flow_hash(src, dst, nw, proto, sp, dp);
	return;
mac:
	x->flags = fl;
	x->hash = wc_mac_hash(p + 6, p, outer);
}

/* random bytes, with the ethertype and next headers biased towards the
 * paths the parser takes, so that deep parses happen often */
static int random_frame(__u8 *p)
{
	static const __u16 types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806 };
	static const __u8 nh[] = { 0, 43, 60, 51, 44, 6, 17, 132, 58, 1, 47 };
	int len = ETH_HLEN_ + (int)(rnd() % 200), off = 12;

	for (int i = 0; i < len; i++)
		p[i] = (__u8)rnd();
	if (rnd() % 8 == 0)
		return len; /* pure garbage */
	/* up to three tags, then an IP header */
	for (int tags = rnd() % 4, i = 0; i <= tags && off + 2 <= len; i++) {
		__u16 t = i < tags ? types[2 + rnd() % 2] : types[rnd() % 5];

		p[off] = t >> 8;
		p[off + 1] = t & 0xff;
		off += 4;
	}
	off -= 2; /* start of L3 */
	if (off + 1 <= len && rnd() % 2)
		p[off] = (p[off] & 0xf0) | (5 + rnd() % 3); /* sane ihl */
	if (off + 8 <= len && rnd() % 2) {
		p[off + 6] = nh[rnd() % sizeof(nh)]; /* IPv6 next header */
		p[off + 9 < len ? off + 9 : off] = nh[5 + rnd() % 6];
	}
	if (off + 8 <= len && rnd() % 2)
		p[off + 6] = p[off + 7] = 0; /* IPv4: not a fragment */
	/* short extension headers, so chains fit */
	for (int o = off + 40; o + 2 <= len && o < off + 40 + 64; o += 8) {
		if (rnd() % 2)
			p[o] = nh[rnd() % sizeof(nh)];
		p[o + 1] = (__u8)(rnd() % 2);
	}
	return len;
}

START_TEST(test_random_frames)
{
	struct env e;
	__u8 p[MAXF], q[MAXF];
	struct wc_queue_stats q0, q1;
	__u64 t0;
	int runs = 0;

	env_load(&e, 1);
	read_qs(&e, &q0);
	t0 = bucket_total(&e);
	for (int i = 0; i < 4000; i++) {
		struct expect x = { .verdict = XDP_PASS };
		int len = random_frame(p);

		model(p, len, 0, &x);
		run_check(&e, "random frame", p, len, &x);
		runs++;
		/* and truncated at a random length */
		len = ETH_HLEN_ + (int)(rnd() % (len - ETH_HLEN_ + 1));
		memcpy(q, p, len);
		model(q, len, 0, &x);
		run_check(&e, "random frame (cut)", q, len, &x);
		runs++;
	}
	read_qs(&e, &q1);
	ck_assert_uint_eq(q1.packets - q0.packets, (__u64)runs);
	ck_assert_uint_eq(q1.passed - q0.passed, (__u64)runs);
	ck_assert_uint_eq(bucket_total(&e) - t0, (__u64)runs);
	env_free(&e);
}
END_TEST

/* The model agrees with the hand-written tables (so the random test is
 * checking against the same contract). */
START_TEST(test_model_matches_tables)
{
	for (int i = 0; i < NFRAMES; i++) {
		struct frame f;

		build(&f, i, 0);
		for (int len = ETH_HLEN_; len <= f.len; len++) {
			const struct seg *s = seg_at(&f, len);
			struct expect x;

			model(f.buf, len, 0, &x);
			ck_assert_msg(
				x.flags == s->flags &&
					x.hash == expect_hash(&f, s, 0),
				"%s len %d: model flags 0x%x hash 0x%08x, table 0x%x 0x%08x",
				f.name, len, x.flags, x.hash, s->flags,
				expect_hash(&f, s, 0));
		}
	}
}
END_TEST

START_TEST(test_meta_returned)
{
	struct env e;
	struct frame f;
	struct run r;

	/* whether this kernel hands the metadata back in data_out: the
	 * other tests check its fields when it does */
	env_load(&e, 1);
	build(&f, 0, 0);
	run_prog(&e, f.buf, f.len, &r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_msg(
		r.meta_len == sizeof(struct wc_meta),
		"BPF_PROG_TEST_RUN returned %u bytes of metadata, expected %zu",
		r.meta_len, sizeof(struct wc_meta));
	env_free(&e);
}
END_TEST

Suite *parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("bpf_prog_test_run");

	(void)meta_seen;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_model_matches_tables);
	tcase_add_test(tc, test_meta_returned);
	tcase_add_test(tc, test_below_eth_hlen);
	tcase_add_test(tc, test_unconfigured_passes);
	tcase_add_test(tc, test_frames_every_length);
	tcase_add_test(tc, test_frames_two_workers_meta);
	tcase_add_test(tc, test_frames_l3_hash_drop_no_meta);
	tcase_add_test(tc, test_random_frames);
	suite_add_tcase(s, tc);
	return s;
}
