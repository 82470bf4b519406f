// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Checksum completion (userspace/csum.c): a frame a host stack left
 * CHECKSUM_PARTIAL gets the checksum a NIC would have written; a frame
 * whose checksum is right, or that is not TCP/UDP, is never changed.
 * The reference checksum here is computed independently, word by word.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"

/* ones' complement sum of 16-bit big-endian words, folded */
static unsigned ref_sum(const unsigned char *p, size_t n, unsigned s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += p[i] << 8 | p[i + 1];
	if (n & 1)
		s += p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

struct frame {
	unsigned char b[1600];
	size_t len, l4, csum_off; /* offsets in b */
	unsigned pseudo; /* folded pseudo-header sum */
};

/* Ethernet (+ vlans tags), IPv4 or IPv6 (+ one hop-by-hop header when
 * ext), TCP or UDP with plen random payload bytes; checksum correct. */
static void build(struct frame *f, int v6, int udp, int vlans, int ext,
		  size_t plen, unsigned seed)
{
	unsigned char *d = f->b;
	size_t o = 12, ip, l4len;

	srand(seed);
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 12; i++)
		d[i] = rand();
	for (int i = 0; i < vlans; i++, o += 4) {
		d[o] = 0x81;
		d[o + 1] = 0x00;
		d[o + 3] = 7;
	}
	d[o] = v6 ? 0x86 : 0x08;
	d[o + 1] = v6 ? 0xdd : 0x00;
	ip = o + 2;
	l4len = (udp ? 8 : 20) + plen;
	if (!v6) {
		d[ip] = 0x45;
		d[ip + 2] = (20 + l4len) >> 8;
		d[ip + 3] = (20 + l4len) & 0xff;
		d[ip + 8] = 64;
		d[ip + 9] = udp ? 17 : 6;
		for (int i = 12; i < 20; i++)
			d[ip + i] = rand();
		f->l4 = ip + 20;
		f->pseudo = ref_sum(d + ip + 12, 8, (udp ? 17 : 6) + l4len);
	} else {
		size_t xl = ext ? 8 : 0;

		d[ip] = 0x60;
		d[ip + 4] = (l4len + xl) >> 8;
		d[ip + 5] = (l4len + xl) & 0xff;
		d[ip + 6] = ext ? 0 : (udp ? 17 : 6);
		d[ip + 7] = 64;
		for (int i = 8; i < 40; i++)
			d[ip + i] = rand();
		if (ext) {
			d[ip + 40] = udp ? 17 : 6; /* next header, length 0 */
			d[ip + 42] = 1; /* PadN */
			d[ip + 43] = 4;
		}
		f->l4 = ip + 40 + xl;
		f->pseudo = ref_sum(d + ip + 8, 32, (udp ? 17 : 6) + l4len);
	}
	for (size_t i = 0; i < l4len; i++)
		d[f->l4 + i] = rand();
	if (udp) {
		d[f->l4 + 4] = l4len >> 8;
		d[f->l4 + 5] = l4len & 0xff;
		f->csum_off = f->l4 + 6;
	} else {
		d[f->l4 + 12] = 0x50;
		f->csum_off = f->l4 + 16;
	}
	d[f->csum_off] = d[f->csum_off + 1] = 0;
	{
		unsigned c = ~ref_sum(d + f->l4, l4len, f->pseudo) & 0xffff;

		if (udp && !c)
			c = 0xffff;
		d[f->csum_off] = c >> 8;
		d[f->csum_off + 1] = c & 0xff;
	}
	f->len = f->l4 + l4len;
}

/* what the stack leaves with CHECKSUM_PARTIAL */
static void make_partial(struct frame *f)
{
	f->b[f->csum_off] = f->pseudo >> 8;
	f->b[f->csum_off + 1] = f->pseudo & 0xff;
}

START_TEST(partial_completed)
{
	/* every shape, many payloads */
	for (unsigned seed = 1; seed <= 400; seed++) {
		int v6 = seed & 1, udp = (seed >> 1) & 1,
		    vlans = (seed >> 2) % 3, ext = v6 && ((seed >> 4) & 1);
		struct frame f, want;

		build(&f, v6, udp, vlans, ext, seed % 1400, seed);
		want = f;
		make_partial(&f);
		if (!memcmp(f.b, want.b, f.len))
			continue; /* the right checksum is the pseudo sum */
		ck_assert_msg(wc_csum_complete(f.b, f.len),
			      "seed %u: partial checksum not completed", seed);
		ck_assert_msg(!memcmp(f.b, want.b, f.len),
			      "seed %u: completed checksum differs", seed);
	}
}
END_TEST

START_TEST(correct_unchanged)
{
	for (unsigned seed = 1; seed <= 2000; seed++) {
		struct frame f, want;

		build(&f, seed & 1, (seed >> 1) & 1, (seed >> 2) % 3,
		      (seed >> 4) & 1, seed % 1400, seed * 7919);
		want = f;
		wc_csum_complete(f.b, f.len);
		ck_assert_msg(!memcmp(f.b, want.b, f.len),
			      "seed %u: a correct frame was changed", seed);
	}
}
END_TEST

START_TEST(others_unchanged)
{
	struct frame f, want;

	/* a fragment, a truncated frame, ARP, and random bytes */
	build(&f, 0, 0, 0, 0, 100, 3);
	make_partial(&f);
	f.b[14 + 6] = 0x20; /* more fragments */
	want = f;
	ck_assert(!wc_csum_complete(f.b, f.len));
	ck_assert(!memcmp(f.b, want.b, f.len));
	build(&f, 1, 1, 1, 1, 50, 4);
	make_partial(&f);
	for (size_t n = 0; n < f.len; n++) {
		want = f;
		ck_assert(!wc_csum_complete(f.b, n));
		ck_assert(!memcmp(f.b, want.b, f.len));
	}
	memset(&f, 0, sizeof(f));
	f.b[12] = 0x08;
	f.b[13] = 0x06;
	ck_assert(!wc_csum_complete(f.b, 60));
	srand(11);
	for (int i = 0; i < 20000; i++) {
		size_t n = rand() % 200;

		for (size_t k = 0; k < n; k++)
			f.b[k] = rand();
		if (i & 1) {
			f.b[12] = 0x08;
			f.b[13] = 0x00;
		}
		wc_csum_complete(f.b, n); /* must not read past n (ASan) */
	}
}
END_TEST

Suite *csum_suite(void)
{
	Suite *s = suite_create("csum");
	TCase *tc = tcase_create("complete");

	tcase_add_test(tc, partial_completed);
	tcase_add_test(tc, correct_unchanged);
	tcase_add_test(tc, others_unchanged);
	suite_add_tcase(s, tc);
	return s;
}
