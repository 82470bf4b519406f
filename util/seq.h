/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Test payload format and per-flow sequence tracker.
 *
 * Test frames are Ethernet / IPv4 / UDP whose payload starts with
 * struct wc_seq_hdr (big-endian): magic "WCSQ", flow id, per-flow sequence
 * number from 0, sender CLOCK_MONOTONIC ns. Addresses are taken from
 * 198.18.0.0/15 (RFC 2544 benchmarking): forward direction
 * 198.18.a.b:sport -> 198.19.a.b:dport, with a.b = low 16 bits of the flow id;
 * the reverse direction swaps addresses and ports.
 */
#ifndef WIRECAP_SEQ_H
#define WIRECAP_SEQ_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WC_SEQ_MAGIC 0x57435351u /* "WCSQ" */
#define WC_SEQ_HDR_LEN 24
/* Ethernet + IPv4 + UDP + payload header, untagged */
#define WC_SEQ_MIN_FRAME (14 + 20 + 8 + WC_SEQ_HDR_LEN)
/* Largest untagged frame without FCS; a VLAN tag adds 4 */
#define WC_SEQ_MAX_FRAME 1514
#define WC_SEQ_MAX_FRAME_VLAN (WC_SEQ_MAX_FRAME + 4)
/* Bytes that differ between flows / packets: headers + payload header */
#define WC_SEQ_TMPL_MAX (WC_SEQ_MIN_FRAME + 4)

struct wc_seq_hdr {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint64_t tx_ns;
} __attribute__((packed));
_Static_assert(sizeof(struct wc_seq_hdr) == WC_SEQ_HDR_LEN, "wire format");

struct wc_seq_frame_opts {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	unsigned size; /* total frame length without FCS, tag included */
	uint16_t vlan; /* 802.1Q VLAN id 1..4094, 0 = untagged */
	bool reverse; /* the other direction of the flow */
};

/*
 * Per-flow template: the first len_hdr bytes of a frame (everything up to and
 * including the payload header). The rest of the frame, up to len, is the
 * same for every flow and packet (wc_seq_fill_tail()), so a sender writes it
 * once per buffer and copies only the template per packet.
 */
struct wc_seq_tmpl {
	uint16_t len; /* whole frame */
	uint16_t len_hdr; /* bytes to copy per packet */
	uint16_t off_seq; /* offset of struct wc_seq_hdr */
	uint8_t hdr[WC_SEQ_TMPL_MAX];
};

/* Minimum frame size for these options (66, or 70 with a VLAN tag). */
unsigned wc_seq_min_size(const struct wc_seq_frame_opts *o);

/* Build the template of a flow; returns 0 or -EINVAL (bad size or VLAN). */
int wc_seq_tmpl_init(struct wc_seq_tmpl *t, const struct wc_seq_frame_opts *o,
		     uint32_t flow);

/* Write the flow-independent tail (padding pattern) of a frame. */
void wc_seq_fill_tail(void *frame, const struct wc_seq_tmpl *t);

static inline void wc_seq_put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* Copy the template into a frame (whose tail is already written) and patch
 * sequence number and timestamp. */
static inline void wc_seq_tmpl_write(const struct wc_seq_tmpl *t, void *frame,
				     uint64_t seq, uint64_t tx_ns)
{
	uint8_t *p = frame;

	memcpy(p, t->hdr, t->len_hdr);
	wc_seq_put_be64(p + t->off_seq + 8, seq);
	wc_seq_put_be64(p + t->off_seq + 16, tx_ns);
}

/* Build a complete frame into buf; returns its length or -EINVAL / -ENOSPC. */
int wc_seq_build(void *buf, size_t cap, const struct wc_seq_frame_opts *o,
		 uint32_t flow, uint64_t seq, uint64_t tx_ns);

/* Addresses / ports used for a flow (host byte order). */
void wc_seq_flow_addrs(uint32_t flow, bool reverse, uint32_t *saddr,
		       uint32_t *daddr, uint16_t *sport, uint16_t *dport);

struct wc_seq_info {
	uint32_t flow;
	uint64_t seq;
	uint64_t tx_ns;
	uint32_t saddr, daddr; /* host byte order */
	uint16_t sport, dport;
	uint8_t vlans; /* number of VLAN tags skipped */
	bool reverse; /* source address in 198.19.0.0/16 */
};

/*
 * Parse a frame: Ethernet, up to two VLAN tags (802.1Q / 802.1ad), IPv4
 * (options allowed, first fragment only), UDP, payload header with magic.
 * Returns 0 and fills info, or -1 if the frame is not a test packet.
 */
int wc_seq_parse(const void *frame, size_t len, struct wc_seq_info *info);
/* Same, starting after the Ethernet addresses: ethertype in host order and
 * the bytes that follow it (for Linux cooked captures, raw IP). */
int wc_seq_parse_l3(uint16_t ethertype, const void *p, size_t len,
		    struct wc_seq_info *info);

/* IPv4 header checksum (RFC 1071) over len bytes; 0 when verifying a valid
 * header including its checksum field. */
uint16_t wc_seq_ip_csum(const void *hdr, size_t len);

/*
 * Sequence tracker: exact duplicate detection with a paged bitmap of seen
 * sequence numbers per flow. Thread-compatible: use one per thread and merge.
 * Flow ids >= nflows and sequence numbers > WC_SEQTRACK_MAX_SEQ are counted
 * as foreign (memory stays proportional to what is really sent).
 */
#define WC_SEQTRACK_MAX_SEQ ((1ULL << 36) - 1)
#define WC_SEQTRACK_MAX_FLOWS (1u << 24)

struct wc_seqtrack;

struct wc_seqtrack_result {
	uint64_t received; /* every packet fed, foreign excluded */
	uint64_t unique; /* distinct (flow, seq) */
	uint64_t duplicates; /* received - unique */
	uint64_t reordered; /* unique, seq below the flow's highest so far */
	uint64_t lost; /* sum(expected or highest+1) - unique seen below */
	uint64_t excess; /* unique with seq >= the flow's expected count */
	uint64_t flows_seen; /* flows with at least one packet */
	uint64_t foreign; /* flow id or seq out of range */
};

struct wc_seqtrack_flow {
	uint64_t received, unique, duplicates, reordered, lost, excess;
	uint64_t highest; /* valid if received */
	uint64_t expected; /* valid if has_expected */
	bool has_expected;
};

/* NULL with errno set (EINVAL: nflows 0 or > WC_SEQTRACK_MAX_FLOWS). */
struct wc_seqtrack *wc_seqtrack_new(uint32_t nflows);
void wc_seqtrack_free(struct wc_seqtrack *t);
/* 0, or -ENOMEM (the packet is then not counted) */
int wc_seqtrack_feed(struct wc_seqtrack *t, uint32_t flow, uint64_t seq);
/* Expected packet count of a flow (seq 0..count-1); -EINVAL if out of range */
int wc_seqtrack_set_expected(struct wc_seqtrack *t, uint32_t flow,
			     uint64_t count);
void wc_seqtrack_result(const struct wc_seqtrack *t,
			struct wc_seqtrack_result *r);
/* -ENOENT for a flow never fed nor expected */
int wc_seqtrack_flow_result(const struct wc_seqtrack *t, uint32_t flow,
			    struct wc_seqtrack_flow *r);
uint32_t wc_seqtrack_nflows(const struct wc_seqtrack *t);
/* Add b into a exactly (bitmaps are OR-ed, overlaps become duplicates);
 * reorder counts are summed; b's flows outside a's range count as foreign.
 * 0 or -ENOMEM, in which case a may be partially merged. */
int wc_seqtrack_merge(struct wc_seqtrack *a, const struct wc_seqtrack *b);

#endif
