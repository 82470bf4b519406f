/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capture engine internals (engine.c, monitor.c, tx.c). */
#ifndef WIRECAP_ENGINE_H
#define WIRECAP_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <xdp/xsk.h>

#include "internal.h"

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
	__u64 base; /* UMEM offset of its first frame */
	__u32 nframes;
	int fd; /* socket that owns the fill/completion rings */
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	void *fq_map, *cq_map;
	size_t fq_map_len, cq_map_len;
	_Atomic __u64 hwm;
	_Atomic __u64 kicks;
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
 * (q, b) from worker `from` to worker `to`, packets of the bucket already
 * queued on from's socket of queue q must be processed before `to`
 * processes the bucket's new ones. The fence records from's RX ring
 * producer index right after the switch (`pos`); `to` parks the bucket's
 * packets (descriptors only) until `from` has come back for more after
 * consuming past `pos`, then delivers the parked packets first.
 */
#define WC_MAX_FENCES 256

enum {
	WC_FENCE_FREE,
	WC_FENCE_ARMING, /* steer switched, pos not read yet */
	WC_FENCE_ARMED, /* waiting for `from` to pass pos */
	WC_FENCE_RELEASED, /* `to` may deliver */
};

struct wc_fence {
	_Atomic int state;
	unsigned q, b, from, to;
	__u32 pos;
	__u64 armed_ns;
	bool forced; /* released by timeout or stop, not by `from` */
	/* parked descriptors, touched only by worker `to` */
	struct xdp_desc *park;
	unsigned park_head, park_n, park_cap;
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
	_Atomic int cpu;
	_Atomic int in_capture;
	/* offloading */
	_Atomic __u16 *hold; /* Q * buckets: fence index + 1 parking (q, b) */
	_Atomic int nholds;
	_Atomic __u64 busy_seq; /* odd while inside wc_worker__capture */
	_Atomic __u64 parked;
	_Atomic __u64 moves_in, moves_out, stalls;
	_Atomic __u64 buckets_owned, buckets_foreign;
	_Atomic int stuck;
	int wake_efd; /* the monitor wakes a sleeping worker */
};

struct wc_engine {
	struct wc_iface *ifc;
	bool own_attach;
	char ifname[16];
	int ifindex;
	unsigned nq, nw;
	__u32 frame_size, chunk_size, chunks, rx_size, fq_size, cq_size;
	__u32 bind_mode; /* WC_BIND_ZEROCOPY / WC_BIND_COPY */
	__u32 huge; /* WC_HUGE_* */
	enum wc_wait_mode wait;
	__u32 chunk_timeout_us, busy_budget;
	void *umem;
	size_t umem_len;
	struct wc_pool *pools;
	struct wc_worker *workers;
	int stop_efd; /* eventfd: wakes poll() on stop */
	atomic_bool stop;
	atomic_bool dev_gone;
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
	_Atomic int fences_active; /* armed fences: old owners check them */
	_Atomic __u64 fence_timeouts;
};

void wc_fences_force_release(struct wc_engine *e);

__u64 wc_now_mono(void);
__u64 wc_now_real(void);
void wc_refresh_rt_off(struct wc_engine *e);
int wc_pool_in_use(const struct wc_pool *p, __u64 *in_use);
int wc_engine_publish(struct wc_engine *e);
int wc_monitor_start(struct wc_engine *e);
void wc_monitor_stop(struct wc_engine *e);

#endif
