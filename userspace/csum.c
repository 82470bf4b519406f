// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Checksum completion for frames a host stack left CHECKSUM_PARTIAL.
 *
 * The stack stores fold(pseudo-header sum) in the field and lets hardware
 * store ~fold(sum over the L4 header and payload, field included). We do
 * the same when the field equals fold(pseudo). Why that never breaks a
 * correct packet: a correct packet has pseudo + L4 == 0xffff (ones'
 * complement), so ~fold(L4) == fold(pseudo) == the field: no change.
 */
#include <stddef.h>
#include <string.h>

#include "csum.h"

#define ETH_HLEN 14
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* ones' complement sum of big-endian 16-bit words, not folded */
static __u64 sum16(const __u8 *p, size_t n, __u64 acc)
{
	for (; n > 1; p += 2, n -= 2)
		acc += get16(p);
	if (n)
		acc += (__u64)p[0] << 8;
	return acc;
}

static __u16 fold(__u64 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* the L4 header at l4 (l4len bytes to the end of the IP payload) */
static bool complete_l4(__u8 *l4, __u32 l4len, __u8 proto, __u64 pseudo)
{
	__u32 off;
	__u16 field, c;

	if (proto == IPPROTO_TCP_) {
		if (l4len < 20)
			return false;
		off = 16;
	} else if (proto == IPPROTO_UDP_) {
		if (l4len < 8 || get16(l4 + 4) != l4len)
			return false;
		off = 6;
	} else {
		return false;
	}
	pseudo += proto + l4len;
	field = get16(l4 + off);
	if (field != fold(pseudo))
		return false;
	c = (__u16)~fold(sum16(l4, l4len, 0));
	if (proto == IPPROTO_UDP_ && !c)
		c = 0xffff; /* 0 means "no checksum" in UDP */
	if (c == field)
		return false;
	put16(l4 + off, c);
	return true;
}

static bool complete_ipv4(__u8 *ip, __u32 len)
{
	__u32 ihl, tot;

	if (len < 20 || (ip[0] >> 4) != 4)
		return false;
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	if (ihl < 20 || tot < ihl || tot > len)
		return false;
	/* a fragment's checksum covers the whole datagram: never partial */
	if (get16(ip + 6) & 0x3fff)
		return false;
	return complete_l4(ip + ihl, tot - ihl, ip[9], sum16(ip + 12, 8, 0));
}

static bool complete_ipv6(__u8 *ip, __u32 len)
{
	__u32 plen, off = 40;
	__u8 nh;

	if (len < 40 || (ip[0] >> 4) != 6)
		return false;
	plen = get16(ip + 4);
	if (40 + plen > len)
		return false;
	nh = ip[6];
	/* hop-by-hop, routing, destination options */
	for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
		__u32 hl;

		if (off + 8 > 40 + plen)
			return false;
		hl = (ip[off + 1] + 1u) * 8;
		nh = ip[off];
		off += hl;
	}
	if (off > 40 + plen)
		return false;
	return complete_l4(ip + off, 40 + plen - off, nh, sum16(ip + 8, 32, 0));
}

bool wc_csum_complete(void *frame, __u32 len)
{
	__u8 *d = frame;
	__u32 off = 12;
	__u16 et;

	if (len < ETH_HLEN)
		return false;
	et = get16(d + off);
	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		off += 4;
		if (off + 2 > len)
			return false;
		et = get16(d + off);
	}
	off += 2;
	if (et == 0x0800)
		return complete_ipv4(d + off, len - off);
	if (et == 0x86dd)
		return complete_ipv6(d + off, len - off);
	return false;
}
