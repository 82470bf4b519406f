// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap XDP steering program.
 *
 * For every frame: parse L2 (up to two VLAN tags) / L3 (IPv4 with options,
 * IPv6 with extension headers) / L4 ports, compute a symmetric flow hash,
 * pick the bucket and, from the steering map, the worker; write struct
 * wc_meta in front of the packet and redirect to the XSK of (rx queue,
 * worker). A frame is never dropped for being malformed: it is counted and
 * hashed on the deepest layer that was complete, so capture still sees it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "wirecap/wc_layout.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wc_config);
} config SEC(".maps");

/* key = q * W + w; sized at load time */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, WC_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* key = q * buckets + b; sized at load time */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WC_DEFAULT_BUCKETS);
	__type(key, __u32);
	__type(value, struct wc_steer);
} steer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WC_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct wc_queue_stats);
} queue_stats SEC(".maps");

/* key = q * buckets + b; sized at load time */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WC_DEFAULT_BUCKETS);
	__type(key, __u32);
	__type(value, struct wc_bucket_stats);
} bucket_stats SEC(".maps");

/* Written by the capture engine in user space, not by this program: they
 * live here so they are created, BTF-typed and pinned with the others. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wc_engine_info);
} engine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WC_MAX_WORKERS);
	__type(key, __u32);
	__type(value, struct wc_worker_stats);
} worker_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WC_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct wc_pool_stats);
} pool_stats SEC(".maps");

/* Written by an egress port (wc_port) of an engine on this interface. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wc_egress_stats);
} port_stats SEC(".maps");

/* Admission per rx queue (key = queue), see struct wc_admit; mapped by
 * the engine (a store per update, no system call). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, WC_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct wc_admit);
} admit SEC(".maps");
/* Filter in XDP: [WC_FILTER_SLOT_FILTER] the translated filter (empty: no
 * filter), [WC_FILTER_SLOT_STEER] wirecap_steer_matched, set by libbpf at
 * load. Replacing slot 0 is one atomic store: each packet runs the old
 * filter or the new one. */
int wirecap_steer_matched(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, WC_FILTER_SLOTS);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct xdp_md *));
} filter_progs SEC(".maps") = {
	.values = { [WC_FILTER_SLOT_STEER] = (void *)&wirecap_steer_matched },
};

/* What is installed (user space writes it; pinned for status/bpftool). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wc_filter_info);
} filter_info SEC(".maps");

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132
#define IPV6_MAX_EXT 8

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

struct ipv6_opt_ {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct frag6_ {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

struct parse_out {
	__u32 hash;
	__u16 flags;
};

/* L4: ports for TCP/UDP/SCTP, nothing for ICMP; returns 0 or -1 when the
 * L4 header is truncated. */
static __always_inline int parse_l4(void *pos, void *end, __u8 proto,
				    __u16 *sport, __u16 *dport, __u16 *flags)
{
	__u32 need;

	switch (proto) {
	case IPPROTO_TCP:
		need = 20;
		break;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6_:
		need = 8;
		break;
	case IPPROTO_SCTP_:
		need = 12;
		break;
	default:
		*flags |= WC_PKT_UNKNOWN_L4;
		return 0;
	}
	if (pos + need > end)
		return -1;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    proto == IPPROTO_SCTP_) {
		__be16 *p = pos;

		*sport = p[0];
		*dport = p[1];
	}
	return 0;
}

static __always_inline void parse_headers(struct xdp_md *ctx, __u32 hash_mode,
					  struct parse_out *out)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *pos = data + sizeof(*eth);
	__u16 sport = 0, dport = 0;
	__be16 proto;

	out->flags = 0;
	out->hash = 0;
	if (pos > end) {
		out->flags = WC_PKT_TRUNCATED | WC_PKT_NON_IP;
		return;
	}
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr_ *vh = pos;

		if (proto != bpf_htons(ETH_P_8021Q_) &&
		    proto != bpf_htons(ETH_P_8021AD_))
			break;
		out->flags |= WC_PKT_VLAN;
		if (pos + sizeof(*vh) > end) {
			out->flags |= WC_PKT_TRUNCATED | WC_PKT_NON_IP;
			goto mac_hash;
		}
		proto = vh->proto;
		pos += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = pos;
		__u32 hlen;
		int frag;

		if (pos + sizeof(*ip) > end) {
			out->flags |= WC_PKT_TRUNCATED;
			goto mac_hash;
		}
		hlen = (ip->ihl & 0xf) * 4;
		if (hlen < sizeof(*ip) || pos + hlen > end) {
			out->flags |= WC_PKT_TRUNCATED;
			goto mac_hash;
		}
		/* Every fragment (first or not) hashes on addresses, so all
		 * pieces of a datagram land on the same worker. */
		frag = (ip->frag_off & bpf_htons(0x3fff)) != 0;
		if (frag) {
			out->flags |= WC_PKT_FRAGMENT;
		} else if (parse_l4(pos + hlen, end, ip->protocol, &sport,
				    &dport, &out->flags) < 0) {
			out->flags |= WC_PKT_TRUNCATED;
		}
		if (hash_mode == WC_HASH_L3) {
			sport = 0;
			dport = 0;
		}
		out->hash = wc_flow_hash(&ip->saddr, &ip->daddr, 1,
					 ip->protocol, sport, dport);
		return;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = pos;
		__u8 nexthdr;
		int frag = 0;

		out->flags |= WC_PKT_IPV6;
		if (pos + sizeof(*ip6) > end) {
			out->flags |= WC_PKT_TRUNCATED;
			goto mac_hash;
		}
		nexthdr = ip6->nexthdr;
		pos += sizeof(*ip6);
#pragma unroll
		for (int i = 0; i < IPV6_MAX_EXT; i++) {
			if (nexthdr == IPPROTO_HOPOPTS ||
			    nexthdr == IPPROTO_ROUTING ||
			    nexthdr == IPPROTO_DSTOPTS) {
				struct ipv6_opt_ *o = pos;

				if (pos + 8 > end)
					goto trunc6;
				nexthdr = o->nexthdr;
				pos += ((__u32)o->hdrlen + 1) * 8;
			} else if (nexthdr == IPPROTO_AH) {
				struct ipv6_opt_ *o = pos;

				if (pos + 8 > end)
					goto trunc6;
				nexthdr = o->nexthdr;
				pos += ((__u32)o->hdrlen + 2) * 4;
			} else if (nexthdr == IPPROTO_FRAGMENT) {
				struct frag6_ *f = pos;

				if (pos + sizeof(*f) > end)
					goto trunc6;
				frag = 1;
				out->flags |= WC_PKT_FRAGMENT;
				nexthdr = f->nexthdr;
				pos += sizeof(*f);
			} else {
				break;
			}
		}
		if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
		    nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH ||
		    nexthdr == IPPROTO_FRAGMENT) {
			/* chain longer than we follow: no ports */
			out->flags |= WC_PKT_UNKNOWN_L4;
		} else if (!frag && parse_l4(pos, end, nexthdr, &sport, &dport,
					     &out->flags) < 0) {
			out->flags |= WC_PKT_TRUNCATED;
		}
		goto hash6;
	trunc6:
		out->flags |= WC_PKT_TRUNCATED;
		sport = 0;
		dport = 0;
	hash6:
		if (hash_mode == WC_HASH_L3) {
			sport = 0;
			dport = 0;
		}
		out->hash = wc_flow_hash((const __u32 *)&ip6->saddr,
					 (const __u32 *)&ip6->daddr, 4, nexthdr,
					 sport, dport);
		return;
	}
	out->flags |= WC_PKT_NON_IP;
mac_hash:
	out->hash = wc_mac_hash(eth->h_source, eth->h_dest,
				bpf_ntohs(eth->h_proto));
}

/*
 * The parser as a global function: the verifier checks a global function
 * once, on its own, and its callers see only the scalar it returns. Inlined,
 * every path through the VLAN and IPv6 extension-header loops was walked
 * again with each caller's state, in both programs: loading the object took
 * 0.18 s of verifier time, on the critical path of every engine's start
 * (docs/pool.md "Start-up time"), against 0.07 s now.
 */
__attribute__((noinline)) __u64 wc_parse(struct xdp_md *ctx, __u32 hash_mode)
{
	struct parse_out o;

	parse_headers(ctx, hash_mode, &o);
	return (__u64)o.flags << 32 | o.hash;
}

static __always_inline void parse(struct xdp_md *ctx, __u32 hash_mode,
				  struct parse_out *out)
{
	__u64 r = wc_parse(ctx, hash_mode);

	out->hash = (__u32)r;
	out->flags = r >> 32;
}

/* The unit tests' build of this program (tests/unit/test_parser.c: no
 * socket exists under BPF_PROG_TEST_RUN) prepends the metadata to every
 * packet and leaves it there, so each field can be checked. */
#ifndef WC_TEST_META
#define WC_TEST_META 0
#endif

/* The rx queue's counters: a queue the engine does not serve is counted
 * on its own entry (queues beyond the map share the last one), never on a
 * served queue's, so per-queue accounting stays exact. */
static __always_inline struct wc_queue_stats *queue_of(struct xdp_md *ctx,
						       struct wc_config **cfgp,
						       __u32 *qp,
						       __u32 *bad_queue)
{
	__u32 zero = 0, q = ctx->rx_queue_index;
	struct wc_config *cfg;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !cfg->queues || !cfg->workers || !cfg->buckets)
		return NULL; /* not configured yet: be transparent */
	*bad_queue = 0;
	if (q >= cfg->queues || q >= WC_MAX_QUEUES) {
		*bad_queue = 1;
		if (q >= WC_MAX_QUEUES)
			q = WC_MAX_QUEUES - 1;
	}
	*cfgp = cfg;
	*qp = q;
	return bpf_map_lookup_elem(&queue_stats, &q);
}

/* Parse, hash, pick the worker's socket and redirect (or pass/drop when
 * the slot is empty). The packet was counted in qs->packets already. */
static __always_inline int steer_packet(struct xdp_md *ctx,
					struct wc_config *cfg,
					struct wc_queue_stats *qs, __u32 q,
					__u32 bad_queue)
{
	__u32 key, idx, bucket, worker = 0, gen = 0;
	__u32 len = ctx->data_end - ctx->data;
	struct wc_bucket_stats *bs;
	struct wc_steer *st;
	struct parse_out po;
	struct wc_meta *m;
	long act;

	parse(ctx, cfg->hash_mode, &po);
	if (po.flags & WC_PKT_NON_IP)
		qs->non_ip++;
	if (po.flags & WC_PKT_TRUNCATED)
		qs->truncated++;
	if (po.flags & WC_PKT_FRAGMENT)
		qs->fragment++;
	if (po.flags & WC_PKT_UNKNOWN_L4)
		qs->unknown_l4++;

	bucket = po.hash & (cfg->buckets - 1);
	key = q * cfg->buckets + bucket;
	/* buckets (and their rates, which drive offloading) exist for the
	 * served queues only */
	bs = bad_queue ? NULL : bpf_map_lookup_elem(&bucket_stats, &key);
	if (bs) {
		bs->packets++;
		bs->bytes += len;
	}
	st = bad_queue ? NULL : bpf_map_lookup_elem(&steer, &key);
	if (st) {
		worker = st->worker;
		gen = st->gen;
	}
	if (worker >= cfg->workers)
		worker = 0;
	if (bad_queue) {
		/* A queue the engine does not serve has no sockets. */
		qs->bad_queue++;
		idx = (__u32)-1;
	} else {
		idx = q * cfg->workers + worker;
	}

	act = cfg->no_socket_action == WC_ACT_DROP ? XDP_DROP : XDP_PASS;
	if (!bad_queue) {
		struct wc_admit *ad = bpf_map_lookup_elem(&admit, &q);

		if (ad && ad->high) {
			__u64 backlog = ad->taken - ad->base;

			if (!ad->shed && backlog >= ad->high)
				ad->shed = 1;
			else if (ad->shed && backlog <= ad->low)
				ad->shed = 0;
			if (ad->shed) {
				qs->shed++;
				return XDP_DROP;
			}
			__sync_fetch_and_add(&ad->taken, 1);
		}
	}
	if (WC_TEST_META || bpf_map_lookup_elem(&xsks, &idx)) {
		/* The metadata goes in front of the packet, inside the data
		 * the socket receives (bpf_xdp_adjust_head), not in the
		 * data_meta area: some kernels refuse bpf_xdp_adjust_meta to
		 * XDP programs (6.18 here), and this works on every driver and
		 * in copy and zero-copy mode alike. The library strips it.
		 * It is added only for a packet that goes to a socket: a
		 * passed packet reaches the stack unchanged. */
		if (cfg->meta_enabled) {
			if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*m))) {
				/* no headroom: the socket could not tell
				 * packet from metadata; counted, not sent */
				qs->meta_failed++;
				qs->nosock++;
				qs->dropped++;
				return XDP_DROP;
			}
			m = (void *)(long)ctx->data;
			if ((void *)(m + 1) > (void *)(long)ctx->data_end) {
				qs->meta_failed++;
				qs->nosock++;
				qs->dropped++;
				return XDP_DROP;
			}
			m->ts_ns = bpf_ktime_get_ns();
			m->hash = po.hash;
			m->gen = gen;
			m->bucket = bucket;
			m->queue = ctx->rx_queue_index;
			m->worker = worker;
			m->flags = po.flags;
		}
		/* flags 0: XDP_ABORTED if the socket left since the lookup */
		if (bpf_redirect_map(&xsks, idx, 0) == XDP_REDIRECT) {
			qs->redirected++;
			return XDP_REDIRECT;
		}
		if (cfg->meta_enabled && !WC_TEST_META)
			bpf_xdp_adjust_head(ctx, (int)sizeof(*m));
	}
	qs->nosock++;
	if (act == XDP_DROP)
		qs->dropped++;
	else
		qs->passed++;
	return act;
}

/*
 * Entry: count the packet, then judge it with the filter when one is
 * installed. A tail call does not return: the filter goes on to
 * wirecap_steer_matched for a match, or counts the packet `filtered` and
 * returns the filter action itself. Only with the slot empty does the
 * call fall through here, and the packet is steered unjudged.
 */
SEC("xdp")
int wirecap_steer(struct xdp_md *ctx)
{
	__u32 q, bad_queue, len = ctx->data_end - ctx->data;
	struct wc_queue_stats *qs;
	struct wc_config *cfg;

	qs = queue_of(ctx, &cfg, &q, &bad_queue);
	if (!qs)
		return XDP_PASS;
	qs->packets++;
	qs->bytes += len;
	bpf_tail_call(ctx, &filter_progs, WC_FILTER_SLOT_FILTER);
	return steer_packet(ctx, cfg, qs, q, bad_queue);
}

/* A packet the filter matched: steered as if there were no filter (it was
 * counted at entry). */
SEC("xdp")
int wirecap_steer_matched(struct xdp_md *ctx)
{
	struct wc_queue_stats *qs;
	struct wc_config *cfg;
	__u32 q, bad_queue;

	qs = queue_of(ctx, &cfg, &q, &bad_queue);
	if (!qs)
		return XDP_PASS;
	return steer_packet(ctx, cfg, qs, q, bad_queue);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
