/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * wirecap: layouts shared by the XDP program (bpf/wirecap.bpf.c) and user
 * space. Every pinned map's key and value type is defined here and nowhere
 * else, so `bpftool map dump` (BTF) and the library always agree.
 *
 * This header is included by a BPF program (clang -target bpf) and by C
 * user space; it must only use <linux/types.h> types.
 */
#ifndef WIRECAP_WC_LAYOUT_H
#define WIRECAP_WC_LAYOUT_H

#include <linux/types.h>

/* BPF functions take at most five arguments: inline everything here. */
#define WC_INLINE static inline __attribute__((always_inline))

#define WC_MAX_QUEUES 64
#define WC_MAX_WORKERS 64
#define WC_MAX_BUCKETS 4096
#define WC_DEFAULT_BUCKETS 256

/* config.no_socket_action: what XDP does when the (queue, worker) XSK slot
 * is empty. Values are the XDP verdicts so bpf_redirect_map() can use them
 * directly as its fallback. */
#define WC_ACT_DROP 1 /* XDP_DROP */
#define WC_ACT_PASS 2 /* XDP_PASS */

/* config.hash_mode */
#define WC_HASH_L4 0 /* symmetric 5-tuple (addresses, protocol, ports) */
#define WC_HASH_L3 1 /* symmetric addresses + protocol only */

/* config.steer_mode: how the steering map was filled at attach time */
#define WC_STEER_QUEUE 0 /* every bucket of queue q -> worker q % W */
#define WC_STEER_FLOW 1 /* bucket b -> worker b % W, same for every queue */

/*
 * The single entry (key 0) of the pinned "config" array. Fields may be
 * changed live with `bpftool map update`; the XDP program reads them per
 * packet and the user-space monitor once per interval.
 */
struct wc_config {
	__u32 version; /* WC_CONFIG_VERSION; layout guard */
	__u32 queues; /* number of rx queues served (Q) */
	__u32 workers; /* number of workers (W): XSKMAP index = q * W + w */
	__u32 buckets; /* flow buckets per queue, power of two */
	__u32 no_socket_action; /* WC_ACT_PASS or WC_ACT_DROP */
	__u32 hash_mode; /* WC_HASH_* */
	__u32 meta_enabled; /* 1: prepend struct wc_meta to redirected packets */
	__u32 steer_mode; /* WC_STEER_*, informational after attach */
	/* buddy-group offloading monitor (user space), see docs/monitor.md */
	__u32 offload_enabled;
	__u32 offload_high_pct; /* backlog share of pool that marks overload */
	__u32 offload_low_pct; /* below this a worker can take buckets */
	__u32 offload_hold_ms; /* overloaded this long before moving */
	__u32 offload_return_ms; /* calm this long before buckets go home */
	__u32 offload_cooldown_ms; /* a moved bucket stays put this long */
	__u32 offload_interval_ms; /* monitor period */
	__u32 offload_max_moves; /* buckets moved per interval, at most */
	/* identity of the attachment, to detect stale pins */
	__u32 ifindex;
	__u32 attach_mode; /* enum wc_xdp_mode: WC_XDP_NATIVE or WC_XDP_GENERIC */
	__u64 netns_ino; /* inode of the network namespace attached in */
	/* filter in XDP (docs/filter.md) */
	__u32 filter; /* 1: a filter is installed (see the filter_info map) */
	__u32 filter_action; /* packets it filters out: WC_ACT_PASS or
			      * WC_ACT_DROP; 0: the no-socket action */
};

#define WC_CONFIG_VERSION 1

/* config.attach_mode takes the values of enum wc_xdp_mode (wirecap.h) */

/* Per-queue counters (per-CPU array, key = rx queue). Every packet the
 * program sees is counted in `packets` and in exactly one of
 * redirected / passed / dropped / filtered / shed:
 * packets == redirected + passed + dropped + filtered + shed.
 * The parse-outcome counters classify packets and overlap with those. */
struct wc_queue_stats {
	__u64 packets;
	__u64 bytes;
	__u64 redirected; /* handed to an XSK (may still drop there: see XDP_STATISTICS) */
	__u64 passed; /* no socket in the slot, action PASS */
	__u64 dropped; /* no socket in the slot, action DROP */
	__u64 nosock; /* slot empty (passed or dropped) */
	__u64 non_ip; /* neither IPv4 nor IPv6 */
	__u64 truncated; /* a header ended past the frame */
	__u64 fragment; /* IPv4 or IPv6 fragment (hashed on addresses) */
	__u64 unknown_l4; /* IP protocol without ports we parse */
	__u64 meta_failed; /* no headroom for the metadata: dropped */
	__u64 bad_queue; /* rx queue not served (>= config.queues): passed or
			  * dropped, counted on its own queue (queues from
			  * WC_MAX_QUEUES - 1 up share the last entry) */
	__u64 filtered; /* not matched by the filter in XDP (passed or
			 * dropped by the filter action, not in those) */
	__u64 shed; /* refused by admission control (struct wc_admit): the
		     * queue's backlog was past its latency budget */
};

/* Admission of one rx queue (array "admit", key = rx queue, mapped into
 * the engine's memory: BPF_F_MMAPABLE). A shedding engine (a forwarder,
 * wc_engine_opts.shed) sets high/low; 0 high: admission off. The program
 * counts the packets it hands to the queue's sockets in `taken`; the
 * engine keeps `base` such that taken - base is the pool's frames in use
 * (its backlog: RX ring, worker, TX), rewritten whenever frames go back to
 * the pool. So the program knows the backlog packet by packet, even while
 * the engine is not scheduled: from high frames it sheds the queue's
 * packets (wc_queue_stats.shed) before they take a frame, down to low. */
struct wc_admit {
	__u64 taken; /* written by the program */
	__u64 base; /* written by the engine */
	__u32 high; /* shed from this many frames in use ... */
	__u32 low; /* ... down to this many */
	__u32 shed; /* shedding now (the program's state) */
	__u32 reserved;
};

/*
 * Filter in XDP (docs/filter.md). The pinned program array "filter_progs"
 * has two slots: the translated filter (empty: no filter) and the
 * steering stage a matching packet goes on to. The steering program
 * tail-calls the filter; the filter tail-calls the stage on a match, or
 * counts the packet `filtered` and returns the filter action.
 */
#define WC_FILTER_SLOT_FILTER 0
#define WC_FILTER_SLOT_STEER 1
#define WC_FILTER_SLOTS 2

#define WC_FILTER_TEXT_MAX 1024

/* The single entry of the pinned "filter_info" array: what is installed,
 * written by user space (the program never reads it). */
struct wc_filter_info {
	__u32 installed; /* 1 while a filter is in the program array */
	__u32 invert; /* 1: the packets it matches are filtered out */
	__u32 action; /* WC_ACT_* for filtered packets; 0: no-socket action */
	__u32 classic_insns; /* classic BPF instructions */
	__u32 ebpf_insns; /* after translation */
	__u32 prog_id; /* the loaded filter program */
	__u64 generation; /* bumped at every set, replace and clear */
	__u64 installed_ns; /* CLOCK_REALTIME of the last set or replace */
	char expr[WC_FILTER_TEXT_MAX]; /* the expression (or "classic: ...") */
};

/* Per-(queue, bucket) counter (per-CPU array, key = q * buckets + b). */
struct wc_bucket_stats {
	__u64 packets;
	__u64 bytes;
};

/* Steering map value (array, key = q * buckets + b). `gen` increases each
 * time the monitor moves the bucket; it is copied into wc_meta so a worker
 * can tell packets steered before a move from those steered after it. */
struct wc_steer {
	__u32 worker;
	__u32 gen;
};

/* Metadata in front of every packet sent to a socket: the XDP program
 * prepends it to the packet (bpf_xdp_adjust_head), so the socket receives
 * it as the first sizeof(struct wc_meta) bytes; the library strips it, and
 * to an application it lies in the UMEM frame immediately before the
 * packet data. (Not bpf_xdp_adjust_meta: some kernels refuse that helper
 * to XDP programs.) Size is a multiple of 4. */
struct wc_meta {
	__u64 ts_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) at XDP entry */
	__u32 hash; /* symmetric flow hash */
	__u32 gen; /* steering generation of the bucket */
	__u16 bucket;
	__u16 queue; /* rx queue */
	__u16 worker; /* worker the packet was steered to */
	__u16 flags; /* WC_PKT_* parse outcome */
};

#define WC_PKT_NON_IP 0x1
#define WC_PKT_TRUNCATED 0x2
#define WC_PKT_FRAGMENT 0x4
#define WC_PKT_UNKNOWN_L4 0x8
#define WC_PKT_IPV6 0x10
#define WC_PKT_VLAN 0x20
/* set by the library, never by XDP: the packet came without struct
 * wc_meta (an attachment without metadata, or a frame whose metadata does
 * not name its socket): its ts_ns is the capture's time, and hash, bucket
 * and gen are 0 */
#define WC_PKT_NO_META 0x8000

/*
 * Symmetric flow hash, shared by the XDP program and user space (unit
 * tests, offline tools). The two endpoints are put in a canonical order
 * (smaller address first, ports follow their address) so A->B and B->A
 * hash the same. Words are mixed with the murmur3 finalizer, which spreads
 * well and costs a few multiplies: cheap enough per packet in XDP.
 */
WC_INLINE __u32 wc_hash_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = (k << 15) | (k >> 17);
	k *= 0x1b873593;
	h ^= k;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64;
}

WC_INLINE __u32 wc_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#define WC_HASH_SEED 0x9e3779b9u

/* Compare two addresses of nw words (1 for IPv4, 4 for IPv6), in the
 * order they lie in memory; returns <0, 0, >0. */
WC_INLINE int wc_addr_cmp(const __u32 *a, const __u32 *b, int nw)
{
	for (int i = 0; i < 4; i++) {
		if (i >= nw)
			break;
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/* src/dst: nw words each; ports in network order (0 when unknown). */
WC_INLINE __u32 wc_flow_hash(const __u32 *src, const __u32 *dst, int nw,
			     __u8 proto, __u16 sport, __u16 dport)
{
	const __u32 *lo = src, *hi = dst;
	__u16 plo = sport, phi = dport;
	int c = wc_addr_cmp(src, dst, nw);
	__u32 h = WC_HASH_SEED;

	if (c > 0 || (c == 0 && sport > dport)) {
		lo = dst;
		hi = src;
		plo = dport;
		phi = sport;
	}
	for (int i = 0; i < 4; i++) {
		if (i >= nw)
			break;
		h = wc_hash_mix(h, lo[i]);
		h = wc_hash_mix(h, hi[i]);
	}
	h = wc_hash_mix(h, ((__u32)plo << 16) | phi);
	h = wc_hash_mix(h, proto | ((__u32)nw << 8));
	return wc_hash_final(h);
}

/* Non-IP frames hash on the unordered pair of MAC addresses. */
WC_INLINE __u32 wc_mac_hash(const __u8 *a, const __u8 *b, __u16 proto)
{
	__u32 x = 0, y = 0, h = WC_HASH_SEED;

	for (int i = 0; i < 6; i++) {
		x = x * 31 + a[i];
		y = y * 31 + b[i];
	}
	/* order-independent: combine min and max */
	h = wc_hash_mix(h, x < y ? x : y);
	h = wc_hash_mix(h, x < y ? y : x);
	h = wc_hash_mix(h, proto);
	return wc_hash_final(h);
}

/*
 * Engine state published by the process that runs the capture engine
 * (pinned maps "engine", "worker_stats", "pool_stats"), refreshed every
 * monitor interval and at exit, so `wirecap stats` and bpftool can read a
 * running capture from outside.
 */
/* wc_engine_info.huge_pages: the pages the UMEM got (a request is enum
 * wc_huge_mode, another family) */
#define WC_PAGES_NORMAL 0
#define WC_PAGES_THP 1 /* transparent huge pages (madvise) */
#define WC_PAGES_HUGETLB 2 /* MAP_HUGETLB, reserved huge pages */

struct wc_engine_info {
	__u32 pid; /* 0 when no engine runs */
	__u32 bind_mode; /* enum wc_bind_mode: WC_BIND_ZEROCOPY or WC_BIND_COPY */
	__u32 queues;
	__u32 workers;
	__u32 chunks; /* chunks per queue pool (R) */
	__u32 chunk_size; /* frames per chunk (M) */
	__u32 frame_size;
	__u32 rx_ring_size;
	__u32 fill_ring_size;
	__u32 huge_pages; /* WC_PAGES_* */
	__u32 wait_mode;
	__u32 chunk_timeout_us;
	__u64 umem_bytes;
	__u64 start_ns; /* CLOCK_REALTIME */
	__u64 update_ns; /* CLOCK_REALTIME of the last refresh */
};

/* Per rx-queue pool. Drops are the kernel's XDP_STATISTICS of the
 * queue's sockets: fill_empty counts packets that found the pool
 * exhausted (copy mode); ring_full packets that found an RX ring full;
 * other_dropped packets dropped by the socket for another reason (frame
 * larger than a UMEM frame). */
struct wc_pool_stats {
	__u64 frames; /* pool size: chunks * chunk_size */
	__u64 in_use; /* frames not in the fill ring: RX rings, application, TX */
	__u64 hwm; /* high-water mark of in_use */
	__u64 delivered; /* packets of this queue handed to workers */
	__u64 bytes;
	__u64 fill_empty;
	__u64 ring_full;
	__u64 other_dropped;
	__u64 invalid_descs; /* bad addresses on the fill ring (a bug) */
};

/* Per worker. */
struct wc_worker_stats {
	__u64 packets;
	__u64 bytes;
	__u64 chunks;
	__u64 held_chunks; /* captured, not yet recycled */
	__u64 held_frames;
	__u64 rx_backlog; /* frames waiting in its RX rings */
	__u64 ring_full; /* its sockets' RX ring full drops */
	__u64 buckets_owned; /* buckets steered to it now */
	__u64 buckets_foreign; /* of those, buckets whose home is another worker */
	__u64 moves_in;
	__u64 moves_out;
	__u64 stalls; /* times the monitor found it not consuming */
	__u32 cpu; /* CPU it runs on, or (u32)-1 */
	__u32 state; /* WC_WORKER_* */
};

/* The counters of an egress port (wc_port), published by the process
 * that runs it in the single entry of the pinned map "port_stats" of the
 * ingress interface, refreshed every 100 ms; all zero (pid 0) when no port
 * runs. Fields as in struct wc_port_stats (wirecap.h), which reads them. */
struct wc_egress_stats {
	char ifname[16]; /* egress interface */
	__u32 lanes;
	__u32 queues;
	__u32 mtu;
	__u32 link_up;
	__u32 pid; /* process of the port */
	__u32 zerocopy;
	__u64 offered;
	__u64 not_forwarded;
	__u64 submitted;
	__u64 completed;
	__u64 sent;
	__u64 bytes;
	__u64 in_flight;
	__u64 dropped;
	__u64 too_big;
	__u64 link_down;
	__u64 ring_full;
	__u64 bad_desc;
	__u64 driver_dropped;
	__u64 abandoned;
	__u64 ring_full_waits;
	__u64 kicks;
	__u64 kick_again;
	__u64 tx_invalid_descs;
	__u64 tx_ring_empty_descs;
	__u64 alloc_failed;
	__u64 csum_completed;
};

#define WC_WORKER_IDLE 0
#define WC_WORKER_RUNNING 1
#define WC_WORKER_STUCK 2

#endif /* WIRECAP_WC_LAYOUT_H */
