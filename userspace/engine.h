/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capture engine internals: the structures every engine file shares. */
#ifndef WIRECAP_ENGINE_H
#define WIRECAP_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <xdp/xsk.h>

#include "internal.h"
#include "sysutil.h"
#include "filter.h"
#include "xdpsync.h"

struct wc_sock {
	int fd;
	unsigned queue;
	struct xsk_ring_cons rx;
	void *rx_map;
	size_t rx_map_len;
};

/* One ring-buffer pool per rx queue: frames [base, base + nframes) of the
 * UMEM, all of them in the queue's fill ring unless captured. The fill
 * ring is single-producer: recyclers serialize on `lock`, once per chunk. */
struct wc_pool {
	pthread_mutex_t lock;
	unsigned queue;
	__u64 base; /* offset of its first frame in the engine's memory */
	__u32 nframes;
	/* the UMEM its sockets registered: [umem_off, umem_off + umem_len)
	 * of the engine's memory. The rings carry addresses relative to it;
	 * the rest of the engine uses offsets in its memory (rx.c adds
	 * umem_off, the fill adds it back). 0 with one UMEM per engine. */
	__u64 umem_off;
	size_t umem_len;
	int fd; /* socket that owns the fill/completion rings */
	bool filled; /* every frame is on the fill ring (wc_pool_fill) */
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	void *fq_map, *cq_map;
	size_t fq_map_len, cq_map_len;
	_Atomic __u64 hwm;
	_Atomic __u64 kicks;
	/* an egress port reads the completion ring (port.c): one at most */
	atomic_bool cq_claimed;
};

struct wc_chunk_seg {
	__u16 queue;
	__u16 start;
	__u16 count;
};

struct wc_chunk {
	struct wc_worker *w;
	struct wc_chunk *next;
	unsigned n;
	unsigned nseg;
	struct wc_chunk_seg *seg; /* Q entries */
	__u64 *addr; /* chunk_size UMEM frame addresses */
	struct wc_pkt pkts[];
};

/*
 * In-order bucket moves (docs/monitor.md). When the monitor moves bucket
 * (q, b) from worker `from` to worker `to`:
 *  - `from` diverts the bucket's packets still queued on its socket of
 *    queue q into the fence's hand-off queue instead of processing them,
 *    until it has consumed past `pos`, its ring's producer index read
 *    right after the switch (then the fence is RELEASED);
 *  - `to` parks the bucket's new packets (descriptors only);
 *  - `to` processes the hand-off queue once `from` has finished the chunk
 *    it held when the move began (s0), then, after the release, the parked
 *    packets. A flow's packets are processed in order across the move, and
 *    `to` takes over at once instead of waiting for `from`'s backlog.
 */
#define WC_MAX_FENCES 256

enum {
	WC_FENCE_FREE,
	WC_FENCE_RESERVED, /* the monitor fills it in: only `from` diverts */
	WC_FENCE_ARMING, /* steer switched, pos not read yet */
	WC_FENCE_ARMED, /* `from` diverts until it passes pos */
	WC_FENCE_RELEASED, /* all old packets are in the hand-off queue */
};

/* a growable FIFO of descriptors */
struct wc_descq {
	struct xdp_desc *v;
	unsigned head, n, cap;
};

struct wc_fence {
	_Atomic int state;
	unsigned q, b, from, to;
	__u32 pos;
	__u64 s0; /* from's busy_seq when the move began */
	__u64 armed_ns;
	_Atomic bool forced; /* released by timeout or stop, not by `from` */
	pthread_mutex_t lock; /* hand: from -> to, taken once per batch */
	struct wc_descq hand;
	struct wc_descq park; /* touched only by `to` */
};

struct wc_divert {
	unsigned fence;
	unsigned bucket;
	struct xdp_desc d;
};

struct wc_worker {
	struct wc_engine *e;
	unsigned idx;
	struct wc_sock *socks; /* one per queue */
	unsigned rr;
	struct wc_chunk *free; /* private to the capturing thread */
	_Atomic(struct wc_chunk *) returned; /* pushed by recyclers */
	_Atomic __u64 packets, bytes, chunks;
	_Atomic __u64 held_chunks, held_frames;
	_Atomic __u64 *qpackets, *qbytes; /* per queue of origin */
	_Atomic __u64 last_active_ns; /* CLOCK_MONOTONIC of the last capture */
	/* CLOCK_REALTIME (as wc_pkt.ts_ns) of the start of the last gather
	 * that found every RX ring empty */
	_Atomic __u64 drained_ns;
	_Atomic int cpu;
	_Atomic int in_capture;
	/* offloading */
	_Atomic __u16 *hold; /* Q * buckets: fence + 1 parking (q, b) here */
	_Atomic int nholds;
	_Atomic __u16 *divert; /* Q * buckets: fence + 1 diverting (q, b) away */
	_Atomic int ndiverts;
	struct wc_divert *divbuf; /* chunk_size, one gather's diversions */
	_Atomic __u64 busy_seq; /* odd while inside wc_worker__capture */
	_Atomic __u64
		idle_seq; /* == busy_seq: idle inside capture, holding nothing */
	_Atomic __u64 parked;
	_Atomic __u64 moves_in, moves_out, stalls;
	_Atomic __u64 buckets_owned, buckets_foreign;
	_Atomic int stuck;
	int wake_efd; /* the monitor wakes a sleeping worker */
};

/* link.c: the link's gaps (down or no carrier), written by the monitor */
struct wc_link {
	pthread_mutex_t lock;
	int nl_fd; /* rtnetlink RTNLGRP_LINK, or -1 */
	bool down;
	__u64 down_since; /* CLOCK_MONOTONIC ns */
	__u64 down_ns; /* closed gaps */
	__u64 events;
};

struct wc_engine {
	struct wc_iface *ifc;
	/* the XDP program's counters just before the sockets were plugged
	 * into the XSKMAP: wc_engine__queue_stats() counts from there, as
	 * the sockets' own counters do */
	struct wc_queue_stats xdp0[WC_MAX_QUEUES];
	bool own_attach;
	bool own_filter; /* installed the filter of its options: undo it */
	struct wc_filter_saved prev_filter; /* the attachment's, put back */
	char ifname[16];
	int ifindex;
	unsigned nq, nw;
	__u32 frame_size, chunk_size, chunks, rx_size, fq_size, cq_size;
	__u32 bind_mode; /* WC_BIND_ZEROCOPY / WC_BIND_COPY */
	__u32 huge; /* WC_PAGES_* */
	/* the driver advertises zero-copy AF_XDP: 1 yes, 0 no, -1 unknown */
	int zc_capable;
	enum wc_wait_mode wait;
	__u32 chunk_timeout_us, busy_budget;
	void *umem; /* the engine's memory: every pool, the TX area */
	size_t umem_len;
	/* a UMEM per queue (the pools of a capture engine), or one for the
	 * whole memory (forwarding: see enum wc_umem_mode) */
	bool umem_per_queue;
	__u64 pool_stride; /* offset from pool q to pool q + 1 */
	struct wc_populate *populate; /* faulting the memory in (open only) */
	/* open only: the first socket of each queue, bound while the
	 * engine attaches (engine.c, early_thread) */
	struct wc_sock *early_socks;
	pthread_t early_th;
	bool early_running;
	int early_err;
	struct wc_pool *pools;
	struct wc_worker *workers;
	/* admission per queue: the pinned "admit" map, mapped (admit.c) */
	struct wc_admit *admit;
	bool shed;
	__u32 shed_high, shed_low;
	int stop_efd; /* eventfd: wakes poll() on stop */
	struct wc_xdpsync xsync; /* waits for XDP runs in flight (xdpsync.c) */
	atomic_bool stop;
	atomic_bool dev_gone; /* the interface vanished */
	struct wc_link link;
	/* the XDP program on the interface is no longer ours (detached or
	 * replaced): dev_gone is set with it, wc_engine__run says -ENOLINK */
	atomic_bool xdp_gone;
	atomic_int unplugged; /* XSKMAP entries removed for the final drain */
	atomic_int unplug_done;
	_Atomic __s64 rt_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	__u64 start_ns;
	pthread_t monitor;
	bool monitor_running;
	pthread_mutex_t stats_lock;
	void *monitor_state;
	__u32 buckets;
	struct wc_fence fences[WC_MAX_FENCES];
	/* moved, armed after the grace period (the monitor thread only) */
	unsigned fence_pending[WC_MAX_FENCES];
	unsigned fence_npending;
	/* transmit (tx.c): the TX area follows the pools; a guest engine
	 * (opts.umem_of) lives in its owner's UMEM */
	__u64 tx_base; /* UMEM offset of the TX area */
	__u32 tx_frames;
	__u32 guest_queues; /* owner: room reserved for a guest */
	__u64 guest_base; /* owner: UMEM offset of the guest's pools */
	struct wc_engine *umem_owner; /* guest: whose UMEM */
	struct wc_engine *umem_guest; /* owner: who lives in it */
	void *tx_state; /* tx.c: the TX area's free list */
	_Atomic int fences_active; /* armed fences: old owners check them */
	_Atomic __u64 fence_timeouts;
	_Atomic __u64 fence_late; /* old packets after the grace period */
	_Atomic __u64 moves, returns, first_move_ns, last_move_ns, stuck_events;
};

/* counters.c: the counters into the pinned maps (`wirecap stats`) */
int wc_engine_publish(struct wc_engine *e);
/* admit.c: admission control (opts.shed) */
int wc_admit_open(struct wc_engine *e, const struct wc_engine_opts *o);
void wc_admit_close(struct wc_engine *e);
/* with the pool's lock held: the XDP program's count of the queue's
 * backlog corrected to the pool's frames in use */
void wc_admit_check_locked(struct wc_engine *e, struct wc_pool *p);
/* the same, taking the lock (the monitor) */
void wc_admit_check(struct wc_engine *e, struct wc_pool *p);
/* link.c */
int wc_link_open(struct wc_engine *e);
void wc_link_close(struct wc_engine *e);
int wc_link_fd(const struct wc_engine *e);
void wc_link_read(struct wc_engine *e);
void wc_link_check(struct wc_engine *e);
int wc_monitor_start(struct wc_engine *e);
void wc_monitor_stop(struct wc_engine *e);

#endif
