// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Filters in XDP, proved by difference (needs root: CAP_BPF + CAP_PERFMON).
 *
 * Every expression is compiled by libpcap, translated to eBPF
 * (userspace/filter.c), loaded as a standalone XDP program (XDP_PASS on a
 * match, XDP_DROP otherwise) and run with BPF_PROG_TEST_RUN on every
 * frame; its verdict must equal pcap_offline_filter's on the same frame.
 * An expression may be refused (by libpcap or by the translator, which
 * names what XDP cannot serve); it is then counted, never run. Frames are
 * crafted (IPv4 with options and fragments, IPv6 with extension headers,
 * VLAN and QinQ, ARP, LLC, broadcast and multicast), truncated at every
 * header boundary (and one byte either side), mutated and random. Random
 * valid classic programs go through the same comparison.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter.h"
#include "unit.h"
#include "wirecap.skel.h"

#define MAXLEN 256
#define MAXFRAMES 16384
#define MIN_FRAME 14 /* BPF_PROG_TEST_RUN refuses shorter XDP frames */

struct frame {
	__u16 len;
	__u8 b[MAXLEN];
};

static struct frame *frames;
static size_t nframes;

/* xorshift: the same frames and programs every run */
static __u64 rng_state = 0x9e3779b97f4a7c15ull;

static __u32 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (__u32)(rng_state >> 11);
}

static void add_frame(const __u8 *b, size_t len)
{
	if (nframes >= MAXFRAMES || len < MIN_FRAME || len > MAXLEN)
		return;
	frames[nframes].len = len;
	memcpy(frames[nframes].b, b, len);
	nframes++;
}

/* ---- crafting ------------------------------------------------------------ */

struct pb {
	__u8 b[MAXLEN];
	size_t len;
	size_t cut[16]; /* header boundaries */
	int ncut;
};

static void put(struct pb *p, const void *d, size_t n)
{
	if (p->len + n > MAXLEN)
		n = MAXLEN - p->len;
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void put8(struct pb *p, __u8 v)
{
	put(p, &v, 1);
}

static void put16(struct pb *p, __u16 v)
{
	__u8 b[2] = { v >> 8, v & 0xff };

	put(p, b, 2);
}

static void put32(struct pb *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void boundary(struct pb *p)
{
	if (p->ncut < 16)
		p->cut[p->ncut++] = p->len;
}

static const __u8 macs[][6] = {
	{ 0x02, 0, 0, 0, 0, 0x01 },
	{ 0x02, 0, 0, 0, 0, 0x02 },
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	{ 0x01, 0x00, 0x5e, 0, 0, 0x01 },
	{ 0x33, 0x33, 0, 0, 0, 0x01 },
	{ 0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff },
};
static const __u32 v4[] = {
	0xc6120001, 0xc6120002, 0xc613ffff, 0x0a000001, 0xc0a80101,
	0xe0000001, 0xffffffff, 0x7f000001, 0xc6120101, 0x00000000,
};
static const __u8 v6[][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
	{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
};
static const __u16 ports[] = {
	80, 443, 53, 22, 1024, 6000, 6005, 6010, 65535, 0
};

#define PICK(a) ((a)[rnd() % (sizeof(a) / sizeof((a)[0]))])

static void eth(struct pb *p, int vlans, bool qinq, __u16 type)
{
	put(p, PICK(macs), 6);
	put(p, PICK(macs), 6);
	for (int i = 0; i < vlans; i++) {
		static const __u16 vids[] = { 1, 100, 200, 4095, 0 };

		put16(p, i == 0 && qinq ? 0x88a8 : 0x8100);
		boundary(p);
		put16(p, (rnd() % 8) << 13 | PICK(vids));
		boundary(p);
	}
	put16(p, type);
	boundary(p);
}

static void l4(struct pb *p, __u8 proto)
{
	if (proto == 6) {
		static const __u8 flags[] = { 0x02, 0x12, 0x10, 0x18, 0x11,
					      0x04, 0x14, 0x01, 0x29, 0xff };
		__u8 doff = 5 + (rnd() % 4 == 0 ? rnd() % 11 : 0);

		put16(p, PICK(ports));
		put16(p, PICK(ports));
		boundary(p);
		put32(p, rnd());
		put32(p, rnd());
		put8(p, doff << 4);
		put8(p, PICK(flags));
		put16(p, rnd() & 0xffff);
		put32(p, 0);
		boundary(p);
		for (int i = 5; i < doff; i++)
			put32(p, 0x01010101);
		boundary(p);
		if (rnd() % 2)
			put(p, "GET / HTTP/1.1\r\n", 16);
	} else if (proto == 17) {
		put16(p, PICK(ports));
		put16(p, PICK(ports));
		boundary(p);
		put16(p, 8 + rnd() % 64);
		put16(p, 0);
		boundary(p);
		for (int i = rnd() % 12; i > 0; i--)
			put32(p, rnd());
	} else if (proto == 1 || proto == 58) {
		static const __u8 types[] = { 8, 0, 3, 11, 128, 129, 135 };

		put8(p, PICK(types));
		put8(p, rnd() % 4);
		boundary(p);
		put16(p, 0);
		put32(p, rnd());
		boundary(p);
	} else {
		for (int i = rnd() % 6; i > 0; i--)
			put32(p, rnd());
	}
}

static const __u8 protos[] = { 6, 17, 1, 2, 47, 50, 51, 132, 103, 112 };

static void ipv4(struct pb *p)
{
	__u8 ihl = 5 + (rnd() % 3 == 0 ? rnd() % 11 : 0);
	__u8 proto = rnd() % 3 ? PICK(protos) % 2 ? 6 : 17 : PICK(protos);
	static const __u16 frag[] = { 0,      0,      0,      0x4000,
				      0x2000, 0x2010, 0x0010, 0x1fff };
	static const __u8 ttls[] = { 64, 63, 128, 1, 255 };

	put8(p, 0x40 | ihl);
	put8(p, rnd() % 4 ? 0 : rnd() & 0xff);
	put16(p, 20 + rnd() % 200);
	put16(p, rnd() & 0xffff);
	put16(p, PICK(frag));
	put8(p, PICK(ttls));
	put8(p, proto);
	put16(p, 0);
	boundary(p);
	put32(p, PICK(v4));
	put32(p, PICK(v4));
	boundary(p);
	for (int i = 5; i < ihl; i++)
		put32(p, i == 5 ? 0x94040000 : 0x01010101); /* router alert */
	boundary(p);
	l4(p, proto);
}

static void ipv6(struct pb *p)
{
	static const __u8 exts[] = { 0, 43, 60, 44, 51 };
	__u8 first = rnd() % 2 ? (rnd() % 2 ? 6 : 17) : PICK(exts);
	__u8 next = first;
	int n = 0;

	put32(p, 0x60000000 | (rnd() & 0xfffff));
	put16(p, 40 + rnd() % 100);
	put8(p, first == 6 || first == 17 ? first : first);
	put8(p, 64);
	boundary(p);
	put(p, PICK(v6), 16);
	put(p, PICK(v6), 16);
	boundary(p);
	while ((next == 0 || next == 43 || next == 60 || next == 44 ||
		next == 51) &&
	       n++ < 4) {
		__u8 nn = rnd() % 3 ? (rnd() % 2 ? 6 : 58) : PICK(exts);

		if (next == 0 && n > 1)
			nn = 17;
		put8(p, nn);
		if (next == 44) {
			put8(p, 0);
			put16(p, rnd() % 2 ? 0 : 0x0009);
			put32(p, rnd());
		} else if (next == 51) {
			put8(p, 1); /* (1 + 2) * 4 = 12 bytes */
			put16(p, 0);
			put32(p, rnd());
			put32(p, rnd());
		} else {
			put8(p, 0);
			put16(p, 0x0104);
			put32(p, 0);
		}
		boundary(p);
		next = nn;
	}
	l4(p, next);
}

static void arp(struct pb *p)
{
	put16(p, 1);
	put16(p, 0x0800);
	put8(p, 6);
	put8(p, 4);
	put16(p, 1 + rnd() % 2);
	boundary(p);
	put(p, PICK(macs), 6);
	put32(p, PICK(v4));
	put(p, PICK(macs), 6);
	put32(p, PICK(v4));
	boundary(p);
}

/* A crafted frame, and its truncations at every header boundary and one
 * byte either side. */
static void craft(void)
{
	static const __u16 others[] = { 0x88cc, 0x8847, 0x8864, 0x0842,
					0x86dd, 0x0800, 0x05dc };
	struct pb p = { .len = 0 };
	int kind = rnd() % 10, vlans = 0;
	bool qinq = false;

	if (rnd() % 4 == 0) {
		vlans = 1 + rnd() % 2;
		qinq = vlans == 2 && rnd() % 2;
	}
	switch (kind) {
	case 0:
	case 1:
	case 2:
	case 3:
		eth(&p, vlans, qinq, 0x0800);
		ipv4(&p);
		break;
	case 4:
	case 5:
	case 6:
		eth(&p, vlans, qinq, 0x86dd);
		ipv6(&p);
		break;
	case 7:
		eth(&p, vlans, qinq, 0x0806);
		arp(&p);
		break;
	case 8: /* 802.3 length + LLC */
		eth(&p, vlans, qinq, 40 + rnd() % 60);
		put8(&p, rnd() % 2 ? 0x42 : 0xaa);
		put8(&p, rnd() % 2 ? 0x42 : 0xaa);
		put8(&p, 3);
		for (int i = rnd() % 10; i > 0; i--)
			put32(&p, rnd());
		break;
	default:
		eth(&p, vlans, qinq, PICK(others));
		for (int i = rnd() % 20; i > 0; i--)
			put32(&p, rnd());
		break;
	}
	while (p.len < 60 && rnd() % 2)
		put8(&p, 0);
	add_frame(p.b, p.len);
	for (int i = 0; i < p.ncut; i++)
		for (int d = -1; d <= 1; d++)
			if (p.cut[i] + d < p.len)
				add_frame(p.b, p.cut[i] + d);
}

static void build_frames(void)
{
	size_t crafted;

	frames = calloc(MAXFRAMES, sizeof(*frames));
	ck_assert_ptr_nonnull(frames);
	while (nframes < 8000)
		craft();
	crafted = nframes;
	/* mutations of crafted frames: a few bytes changed */
	while (nframes < 9500) {
		struct frame f = frames[rnd() % crafted];

		for (int i = 1 + rnd() % 3; i > 0; i--)
			f.b[rnd() % f.len] = rnd();
		add_frame(f.b, f.len);
	}
	/* random bytes behind a plausible or random EtherType */
	while (nframes < 10500) {
		static const __u16 types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8,
					       0x0806 };
		__u8 b[MAXLEN];
		size_t len = MIN_FRAME + rnd() % (MAXLEN - MIN_FRAME + 1);

		for (size_t i = 0; i < len; i++)
			b[i] = rnd();
		if (rnd() % 4) {
			__u16 t = PICK(types);

			b[12] = t >> 8;
			b[13] = t & 0xff;
		}
		add_frame(b, len);
	}
}

/* ---- expressions ---------------------------------------------------------- */

static const char *const prims[] = {
	"",
	"ip",
	"ip6",
	"arp",
	"rarp",
	"tcp",
	"udp",
	"icmp",
	"icmp6",
	"sctp",
	"igmp",
	"vlan",
	"vlan 100",
	"vlan 1",
	"vlan 4095",
	"vlan and vlan",
	"vlan 100 and vlan 200",
	"vlan and ip",
	"vlan and ip6",
	"vlan and tcp port 80",
	"vlan 100 and host 198.18.0.1",
	"vlan and vlan and ip6",
	"vlan and (tcp or udp)",
	"ether broadcast",
	"ether multicast",
	"ip multicast",
	"ip6 multicast",
	"multicast",
	"ether host 02:00:00:00:00:01",
	"ether src 02:00:00:00:00:02",
	"ether dst ff:ff:ff:ff:ff:ff",
	"ether proto 0x88cc",
	"ether src 02:00:00:00:00:01 and ip6",
	"host 198.18.0.1",
	"src host 198.18.0.1",
	"dst host 198.18.0.2",
	"host 10.0.0.1 or host 192.168.1.1",
	"net 198.18.0.0/15",
	"net 10.0.0.0/8",
	"src net 192.168.0.0/16",
	"dst net 224.0.0.0/4",
	"ip dst 224.0.0.1",
	"host 2001:db8::1",
	"net 2001:db8::/32",
	"ip6 src net fe80::/10",
	"ip6 dst net 2001:db8:1::/48",
	"ip6 src host fe80::1",
	"port 80",
	"src port 443",
	"dst port 53",
	"tcp port 22",
	"udp port 53",
	"port 0",
	"port 65535",
	"portrange 6000-6010",
	"tcp dst portrange 1-1023",
	"udp src portrange 1024-65535",
	"port 80 or port 443",
	"port 53 and ip6",
	"less 64",
	"greater 100",
	"less 20",
	"greater 1000",
	"len > 60",
	"len <= 100",
	"len == 74",
	"len - 14 > 50",
	"len / 2 > 40",
	"len % 2 = 0",
	"ip[0] & 0xf > 5",
	"ip[6:2] & 0x1fff != 0",
	"ip[6] & 0x20 != 0",
	"ip[8] < 64",
	"ip[2:2] > 100",
	"ip[9] = 6",
	"ip[1] & 0xfc == 0x10",
	"ip[12:4] = 0xc6120001",
	"ip[16] >= 224",
	"ip[0:4] & 0xff = 0",
	"ip[2:2] - ((ip[0] & 0xf) << 2) > 40",
	"ip[2:2] / 4 > 20",
	"ip[2:2] % 7 = 3",
	"ip[2:2] * 3 > 300",
	"ip[8] + ip[9] > 70",
	"ip[8] - 1 = 63",
	"ip[8] ^ 0xff = 0xbf",
	"ip[8] | 1 = 65",
	"-ip[8] != 0",
	"ip[8] << 2 > 200",
	"ip[8] >> 1 = 32",
	"ip[8] / ip[9] > 1",
	"ip[8] % ip[9] = 4",
	"ip[8] << ip[9] > 1000",
	"ip[8] >> ip[9] = 0",
	"ip[8] & ip[9] != 0",
	"ip[8] * ip[9] > 300",
	"ip[ip[9]] = 0",
	"ip[ip[0] & 0xf] > 0",
	"ether[len - 1] = 0",
	"ether[len - 4:4] != 0",
	"ether[12:2] = 0x0800",
	"ether[0] & 1 != 0",
	"ether[6:4] = 0x02000000",
	"ether[14] = 0x45",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
	"tcp[tcpflags] == tcp-rst",
	"tcp[tcpflags] & tcp-push != 0",
	"tcp[tcpflags] & tcp-fin != 0 and tcp[tcpflags] & tcp-ack != 0",
	"tcp[13] & 7 != 0",
	"tcp[0:2] > 1023",
	"tcp[2:2] = 80",
	"tcp[12] >> 4 > 5",
	"(tcp[12] & 0xf0) >> 2 > 20",
	"tcp[20:4] = 0x47455420",
	"tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
	"tcp[tcp[12] >> 2] = 0x47",
	"udp[4:2] > 100",
	"udp and (udp[8] & 0x80 != 0)",
	"icmp[icmptype] == icmp-echo",
	"icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
	"icmp[0] = 8",
	"icmp6 and ip6[40] = 128",
	"ip6[6] = 17",
	"ip6[0] & 0xf0 == 0x60",
	"ip6 and tcp",
	"ip6 and udp port 53",
	"ip and not tcp",
	"not ip",
	"not (tcp or udp)",
	"ip proto 47",
	"ip proto 50",
	"ip6 proto 58",
	"proto 17",
	"ah",
	"esp",
	"ip6 and ah",
	"pim",
	"vrrp",
	"carp",
	"llc",
	"stp",
	"ipx",
	"atalk",
	"aarp",
	"decnet",
	"iso",
	"netbeui",
	"mpls",
	"mpls 100",
	"pppoes",
	"pppoes and ip",
	"pppoed",
	"ip and ip[6:2] & 0x3fff = 0 and tcp",
	"ip host 198.18.0.1 and tcp",
	"dst host 198.18.0.2 and (port 80 or port 443)",
	"src net 198.18.0.0/16 and not dst port 22",
	"icmp or arp",
	"(tcp and port 80) or (udp and port 53) or icmp",
	"not (host 198.18.0.1 or host 198.18.0.2) and ip",
	"ether host ff:ff:ff:ff:ff:ff or ether multicast",
	"tcp and (tcp[tcpflags] & tcp-syn != 0) and not src net 10.0.0.0/8",
	"ip and (ip[6:2] & 0x1fff) = 0 and udp port 53",
	"(ip or ip6) and (tcp port 80 or udp port 80)",
	"not vlan",
	"vlan and not vlan 100",
	"geneve",
	"geneve and ip",
	/* refused: libpcap errors and what XDP cannot serve */
	"ip broadcast",
	"inbound",
	"outbound",
	"ifindex 1",
	"ip6 protochain 6",
	"ip protochain 17",
	"tcp port http-nonsense",
	"host",
	"ip[",
};

static char **exprs;
static size_t nexprs;

static void add_expr(const char *e)
{
	exprs[nexprs++] = strdup(e);
}

/* the primitives, then random and/or/not nests of them */
static void build_exprs(void)
{
	size_t np = sizeof(prims) / sizeof(prims[0]), nok;
	static const char *const ops[] = { "and", "or", "and not", "or not" };

	exprs = calloc(600, sizeof(*exprs));
	ck_assert_ptr_nonnull(exprs);
	for (size_t i = 0; i < np; i++)
		add_expr(prims[i]);
	nok = np - 9; /* the refused ones come last */
	for (int i = 0; i < 120; i++) {
		char buf[1024];
		const char *a = prims[1 + rnd() % (nok - 1)];
		const char *b = prims[1 + rnd() % (nok - 1)];
		const char *c = prims[1 + rnd() % (nok - 1)];

		if (i % 3 == 0)
			snprintf(buf, sizeof(buf), "(%s) %s (%s)", a, PICK(ops),
				 b);
		else if (i % 3 == 1)
			snprintf(buf, sizeof(buf), "not ((%s) %s (%s)) %s (%s)",
				 a, PICK(ops), b, PICK(ops), c);
		else
			snprintf(buf, sizeof(buf), "((%s) %s ((%s) %s (%s)))",
				 a, PICK(ops), b, PICK(ops), c);
		add_expr(buf);
	}
}

/* ---- the comparison ------------------------------------------------------- */

struct tally {
	size_t programs, refused_pcap, refused_xdp, runs, mismatches;
	size_t matched;
};

static bool have_bpf(void)
{
	static const struct wc_cbpf ret1 = { .code = 0x06, .k = 1 };
	char err[256];
	void *insns;
	size_t n;
	int fd;

	if (wc_filter_translate(&ret1, 1, NULL, &insns, &n, err, sizeof(err)))
		return false;
	fd = wc_filter_load(insns, n, err, sizeof(err));
	free(insns);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The reference: libpcap's interpreter on the program behind a prologue
 * that zeroes the scratch words it reads (then A = 0 again). libpcap 1.10
 * leaves its scratch memory uninitialized, and libpcap's own code for some
 * expressions (geneve under `not`) reads a word no path wrote; later
 * libpcap zeroes it, as the translation does. Prepending instructions
 * does not move any relative jump of the program. */
static struct wc_cbpf *reference(const struct wc_cbpf *c, size_t n,
				 size_t *nref)
{
	struct wc_cbpf *r = calloc(n + 18, sizeof(*r));
	bool read[16] = { false };
	size_t k = 0;

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < n; i++)
		if ((c[i].code == 0x60 || c[i].code == 0x61) && c[i].k < 16)
			read[c[i].k] = true;
	r[k++] = (struct wc_cbpf){ .code = 0x00, .k = 0 }; /* ld #0 */
	for (int m = 0; m < 16; m++)
		if (read[m])
			r[k++] = (struct wc_cbpf){ .code = 0x02, .k = m };
	memcpy(r + k, c, n * sizeof(*c));
	*nref = k + n;
	return r;
}

/* Returns 1 if compared, 0 if refused by the translator. */
static int compare(const char *what, const struct wc_cbpf *c, size_t n,
		   struct tally *t)
{
	struct wc_cbpf *ref;
	char err[512];
	size_t ni, nref;
	void *insns;
	int fd;

	if (wc_filter_translate(c, n, NULL, &insns, &ni, err, sizeof(err))) {
		t->refused_xdp++;
		ck_assert_msg(strlen(err) > 0, "%s: refused without a reason",
			      what);
		return 0;
	}
	fd = wc_filter_load(insns, ni, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s: verifier refused the translation: %s", what,
		      err);
	free(insns);
	t->programs++;
	ref = reference(c, n, &nref);
	for (size_t i = 0; i < nframes; i++) {
		unsigned want = wc_filter_run_classic(ref, nref, frames[i].b,
						      frames[i].len);
		__u32 verdict = 0;
		int err2 = wc_filter_test_run(fd, frames[i].b, frames[i].len,
					      &verdict);

		ck_assert_msg(!err2, "%s: test run: %s", what, strerror(-err2));
		t->runs++;
		t->matched += want;
		if ((verdict == 2) != (want != 0)) {
			if (t->mismatches++ < 5)
				fprintf(stderr,
					"MISMATCH %s frame %zu (len %u): pcap %u, xdp %u\n",
					what, i, frames[i].len, want, verdict);
		}
		ck_assert_msg(verdict == 2 || verdict == 1,
			      "%s: verdict %u is neither PASS nor DROP", what,
			      verdict);
	}
	close(fd);
	free(ref);
	return 1;
}

START_TEST(test_expressions_by_difference)
{
	struct tally t = { 0 };

	if (!have_bpf()) {
		unit_skip("filter by difference",
			  "needs root (CAP_BPF, CAP_PERFMON)");
		return;
	}
	build_frames();
	build_exprs();
	ck_assert_uint_ge(nexprs, 200);
	ck_assert_uint_ge(nframes, 10000);
	for (size_t i = 0; i < nexprs; i++) {
		struct wc_cbpf *c;
		char err[512];
		size_t n;

		if (wc_filter_compile(exprs[i], &c, &n, err, sizeof(err))) {
			t.refused_pcap++;
			ck_assert_msg(!strchr(err, '\n'),
				      "libpcap message on one line");
			continue;
		}
		compare(exprs[i], c, n, &t);
		free(c);
	}
	printf("filter by difference: %zu expressions x %zu frames: %zu translated and compared (%zu runs, %zu matches), %zu refused by libpcap, %zu refused by the translator, %zu mismatches\n",
	       nexprs, nframes, t.programs, t.runs, t.matched, t.refused_pcap,
	       t.refused_xdp, t.mismatches);
	ck_assert_uint_eq(t.mismatches, 0);
	ck_assert_uint_ge(t.programs, 200);
}
END_TEST

/* ---- random valid classic programs ------------------------------------------ */

static struct wc_cbpf rand_insn(size_t pc, size_t n)
{
	static const __u16 loads[] = {
		0x20, 0x28, 0x30, /* ld w/h/b abs */
		0x40, 0x48, 0x50, /* ld w/h/b ind */
		0xb1, /* ldx msh */
	};
	static const __u16 alus[] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0x50,
				      0x60, 0x70, 0x80, 0x90, 0xa0 };
	static const __u16 jmps[] = { 0x10, 0x20, 0x30, 0x40 };
	struct wc_cbpf c = { 0 };
	size_t room = n - pc - 2; /* jump targets stay before the final ret */
	__u32 r = rnd() % 16;

	if (r < 5) {
		c.code = PICK(loads);
		c.k = rnd() % 8 ? rnd() % 80 : rnd();
	} else if (r < 8) {
		c.code = 0x04 | PICK(alus) | (rnd() % 2 ? 0x08 : 0);
		c.k = rnd() % 3 ? rnd() % 64 : rnd();
		if ((c.code & 0xf0) == 0x30 && !(c.code & 0x08) && !c.k)
			c.k = 1; /* div by constant 0 */
		if ((c.code & 0xf0) == 0x90 && !(c.code & 0x08) && !c.k)
			c.k = 3; /* mod by constant 0 */
		if (((c.code & 0xf0) == 0x60 || (c.code & 0xf0) == 0x70) &&
		    !(c.code & 0x08))
			c.k %= 32;
		if ((c.code & 0xf0) == 0x80)
			c.code = 0x84; /* neg */
	} else if (r < 11) {
		c.code = 0x05 | PICK(jmps) | (rnd() % 2 ? 0x08 : 0);
		c.k = rnd() % 2 ? rnd() % 256 : rnd();
		c.jt = room ? rnd() % (room < 8 ? room : 8) : 0;
		c.jf = room ? rnd() % (room < 8 ? room : 8) : 0;
	} else if (r < 12) {
		c.code = 0x05; /* ja */
		c.k = room ? rnd() % (room < 8 ? room : 8) : 0;
	} else if (r < 13) {
		static const __u16 misc[] = { 0x07, 0x87, 0x00, 0x01, 0x80,
					      0x81, 0x02, 0x03, 0x60, 0x61 };

		c.code = PICK(misc); /* tax txa ld/ldx imm, len, st stx, mem */
		c.k = (c.code & 0x07) == 0x02 || (c.code & 0x07) == 0x03 ||
				      c.code == 0x60 || c.code == 0x61 ?
			      rnd() % 16 :
			      rnd() % 200;
	} else if (r < 14) {
		c.code = rnd() % 2 ? 0x06 : 0x16; /* ret k / ret a */
		c.k = rnd() % 2 ? 0 : 0xffff;
	} else {
		c.code = 0x45 | (rnd() % 2 ? 0x08 : 0); /* jset */
		c.k = rnd();
		c.jt = room ? rnd() % (room < 8 ? room : 8) : 0;
		c.jf = room ? rnd() % (room < 8 ? room : 8) : 0;
	}
	return c;
}

START_TEST(test_random_programs)
{
	struct tally t = { 0 };
	size_t saved = nframes;

	if (!have_bpf()) {
		unit_skip("filter: random classic programs",
			  "needs root (CAP_BPF, CAP_PERFMON)");
		return;
	}
	if (!frames)
		build_frames();
	/* a quarter of the frames keeps this part short */
	nframes = nframes / 4;
	for (int i = 0; i < 250; i++) {
		struct wc_cbpf c[60], body[40];
		size_t nb = 4 + rnd() % 36, n = 0;
		bool read[16] = { false };
		char what[32];

		for (size_t j = 0; j < nb - 1; j++) {
			body[j] = rand_insn(j, nb);
			if ((body[j].code == 0x60 || body[j].code == 0x61))
				read[body[j].k] = true;
		}
		body[nb - 1] = (struct wc_cbpf){ .code = 0x16 };
		/* M[] read anywhere is written first: libpcap 1.10's
		 * interpreter does not zero its scratch memory */
		c[n++] = (struct wc_cbpf){ .code = 0x00, .k = rnd() };
		for (int m = 0; m < 16; m++)
			if (read[m])
				c[n++] = (struct wc_cbpf){ .code = 0x02,
							   .k = m };
		c[n++] = (struct wc_cbpf){ .code = 0x00, .k = 0 };
		memcpy(c + n, body, nb * sizeof(*body));
		n += nb;
		snprintf(what, sizeof(what), "random program %d", i);
		compare(what, c, n, &t);
	}
	nframes = saved;
	printf("random classic programs: %zu compared, %zu refused by the translator, %zu mismatches\n",
	       t.programs, t.refused_xdp, t.mismatches);
	ck_assert_uint_eq(t.mismatches, 0);
}
END_TEST

/* ---- refusals and text input -------------------------------------------------- */

START_TEST(test_refusals)
{
	struct wc_cbpf *c;
	char err[512];
	void *insns;
	size_t n, ni;

	ck_assert_int_eq(
		wc_filter_compile("tcp port", &c, &n, err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_ptr_nonnull(strstr(err, "syntax error"));

	ck_assert_int_eq(wc_filter_compile("inbound", &c, &n, err, sizeof(err)),
			 0);
	ck_assert_int_eq(
		wc_filter_translate(c, n, NULL, &insns, &ni, err, sizeof(err)),
		-EINVAL);
	ck_assert_msg(strstr(err, "SKF_AD_PKTTYPE"), "names the load: %s", err);
	free(c);

	ck_assert_int_eq(
		wc_filter_compile("ip6 protochain 6", &c, &n, err, sizeof(err)),
		0);
	ck_assert_int_eq(
		wc_filter_translate(c, n, NULL, &insns, &ni, err, sizeof(err)),
		-EINVAL);
	ck_assert_msg(strstr(err, "backward jump"), "names it: %s", err);
	free(c);
}
END_TEST

START_TEST(test_text_input)
{
	/* tcpdump -ddd 'ip' and tcpdump -dd 'ip' */
	static const char ddd[] =
		"4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n";
	static const char dd[] = "{ 0x28, 0, 0, 0x0000000c },\n"
				 "{ 0x15, 0, 1, 0x00000800 },\n"
				 "{ 0x6, 0, 0, 0x00040000 },\n"
				 "{ 0x6, 0, 0, 0x00000000 },\n";
	struct wc_cbpf *a, *b, *c;
	size_t na, nb, nc;
	char err[256];

	ck_assert_int_eq(wc_filter_parse_text(ddd, &a, &na, err, sizeof(err)),
			 0);
	ck_assert_int_eq(wc_filter_parse_text(dd, &b, &nb, err, sizeof(err)),
			 0);
	ck_assert_int_eq(wc_filter_compile("ip", &c, &nc, err, sizeof(err)), 0);
	ck_assert_uint_eq(na, 4);
	ck_assert_uint_eq(nb, 4);
	ck_assert_uint_eq(nc, 4);
	ck_assert_mem_eq(a, c, sizeof(*c) * 4);
	ck_assert_mem_eq(b, c, sizeof(*c) * 4);
	free(a);
	free(b);
	free(c);
	ck_assert_int_eq(
		wc_filter_parse_text("3\n1 2 3 4\n", &a, &na, err, sizeof(err)),
		-EINVAL);
	ck_assert_int_eq(
		wc_filter_parse_text("4\nx y\n", &a, &na, err, sizeof(err)),
		-EINVAL);
}
END_TEST

/* ---- in the steering program ------------------------------------------------ */

struct dp {
	struct wirecap_bpf *skel;
	int prog, cfg, qs, progs, ncpu;
	struct wc_config c;
};

static void dp_qs(struct dp *d, struct wc_queue_stats *out)
{
	struct wc_queue_stats pc[d->ncpu];
	__u32 q = 0;

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(bpf_map_lookup_elem(d->qs, &q, pc), 0);
	for (int c = 0; c < d->ncpu; c++) {
		__u64 *o = (__u64 *)out, *p = (__u64 *)&pc[c];

		for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
			o[i] += p[i];
	}
}

static void dp_install(struct dp *d, const char *expr, bool invert)
{
	struct wc_filter_target tg = {
		.progs_fd = d->progs,
		.config_fd = d->cfg,
		.queue_stats_fd = d->qs,
		.invert = invert,
	};
	__u32 slot = WC_FILTER_SLOT_FILTER;
	struct wc_cbpf *c;
	char err[512];
	void *insns;
	size_t n, ni;
	int fd;

	ck_assert_int_eq(wc_filter_compile(expr, &c, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(
		wc_filter_translate(c, n, &tg, &insns, &ni, err, sizeof(err)),
		0);
	fd = wc_filter_load(insns, ni, err, sizeof(err));
	ck_assert_msg(fd >= 0, "data-path filter refused: %s", err);
	ck_assert_int_eq(bpf_map_update_elem(d->progs, &slot, &fd, BPF_ANY), 0);
	close(fd);
	free(c);
	free(insns);
}

static __u32 dp_run(struct dp *d, const __u8 *f, size_t len)
{
	__u32 v = 0;

	ck_assert_int_eq(wc_filter_test_run(d->prog, f, len, &v), 0);
	return v;
}

static void dp_config(struct dp *d)
{
	__u32 zero = 0;

	ck_assert_int_eq(bpf_map_update_elem(d->cfg, &zero, &d->c, BPF_ANY), 0);
}

/* udp 53 or tcp 80, IPv4 */
static size_t dp_frame(__u8 *b, bool udp53)
{
	struct pb p = { .len = 0 };

	put(&p, macs[0], 6);
	put(&p, macs[1], 6);
	put16(&p, 0x0800);
	put8(&p, 0x45);
	put8(&p, 0);
	put16(&p, 40);
	put32(&p, 0);
	put8(&p, 64);
	put8(&p, udp53 ? 17 : 6);
	put16(&p, 0);
	put32(&p, 0xc6120001);
	put32(&p, 0xc6120002);
	put16(&p, 1234);
	put16(&p, udp53 ? 53 : 80);
	for (int i = 0; i < 16; i++)
		put8(&p, 0);
	memcpy(b, p.b, p.len);
	return p.len;
}

/* The steering program tail-calls the filter: a match is steered (no
 * socket here: passed), a miss is counted `filtered` and gets the filter
 * action; an empty slot is no filter; a replacement takes effect at once;
 * packets == redirected + passed + dropped + filtered throughout. */
START_TEST(test_data_path)
{
	struct wc_queue_stats s0, s1;
	struct dp d = { 0 };
	__u8 hit[128], miss[128];
	size_t lh = dp_frame(hit, true), lm = dp_frame(miss, false);
	__u32 slot = WC_FILTER_SLOT_FILTER;

	if (!have_bpf()) {
		unit_skip("filter in the data path",
			  "needs root (CAP_BPF, CAP_PERFMON)");
		return;
	}
	d.skel = wirecap_bpf__open();
	ck_assert_ptr_nonnull(d.skel);
	bpf_map__set_max_entries(d.skel->maps.xsks, 1);
	bpf_map__set_max_entries(d.skel->maps.steer, 256);
	bpf_map__set_max_entries(d.skel->maps.bucket_stats, 256);
	ck_assert_int_eq(wirecap_bpf__load(d.skel), 0);
	d.prog = bpf_program__fd(d.skel->progs.wirecap_steer);
	d.cfg = bpf_map__fd(d.skel->maps.config);
	d.qs = bpf_map__fd(d.skel->maps.queue_stats);
	d.progs = bpf_map__fd(d.skel->maps.filter_progs);
	d.ncpu = libbpf_num_possible_cpus();
	d.c.version = WC_CONFIG_VERSION;
	d.c.queues = 1;
	d.c.workers = 1;
	d.c.buckets = 256;
	d.c.no_socket_action = WC_ACT_PASS;
	d.c.meta_enabled = 1;
	dp_config(&d);

	/* no filter: steered */
	dp_qs(&d, &s0);
	ck_assert_uint_eq(dp_run(&d, miss, lm), 2);
	dp_qs(&d, &s1);
	ck_assert_uint_eq(s1.passed - s0.passed, 1);
	ck_assert_uint_eq(s1.filtered, 0);

	dp_install(&d, "udp port 53", false);
	ck_assert_uint_eq(dp_run(&d, hit, lh), 2);
	ck_assert_uint_eq(dp_run(&d, miss, lm), 2); /* no-socket: pass */
	dp_qs(&d, &s1);
	ck_assert_uint_eq(s1.passed - s0.passed, 2);
	ck_assert_uint_eq(s1.filtered, 1);
	ck_assert_uint_eq(s1.packets - s0.packets, 3);

	d.c.no_socket_action = WC_ACT_DROP;
	dp_config(&d);
	ck_assert_uint_eq(dp_run(&d, miss, lm), 1);
	d.c.filter_action = WC_ACT_PASS; /* overrides the no-socket action */
	dp_config(&d);
	ck_assert_uint_eq(dp_run(&d, miss, lm), 2);
	ck_assert_uint_eq(dp_run(&d, hit, lh), 1); /* steered: no socket */

	/* replaced, inverted: what matches is filtered out */
	dp_install(&d, "udp port 53", true);
	d.c.filter_action = WC_ACT_DROP;
	dp_config(&d);
	ck_assert_uint_eq(dp_run(&d, hit, lh), 1);
	dp_qs(&d, &s0);
	ck_assert_uint_eq(dp_run(&d, miss, lm), 1); /* steered: no socket */
	dp_qs(&d, &s1);
	ck_assert_uint_eq(s1.dropped - s0.dropped, 1);
	ck_assert_uint_eq(s1.filtered, s0.filtered);

	/* cleared */
	ck_assert_int_eq(bpf_map_delete_elem(d.progs, &slot), 0);
	ck_assert_uint_eq(dp_run(&d, hit, lh), 1); /* steered: no socket */
	dp_qs(&d, &s1);
	ck_assert_uint_eq(s1.filtered, 4);
	ck_assert_uint_eq(s1.packets,
			  s1.redirected + s1.passed + s1.dropped + s1.filtered);
	wirecap_bpf__destroy(d.skel);
}
END_TEST

Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("translate");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_text_input);
	tcase_add_test(tc, test_data_path);
	tcase_add_test(tc, test_expressions_by_difference);
	tcase_add_test(tc, test_random_programs);
	suite_add_tcase(s, tc);
	return s;
}
