/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Egress ports: shared by port.c (open, close) and tx.c (transmit). */
#ifndef WIRECAP_PORT_H
#define WIRECAP_PORT_H

#include <net/if.h>

#include "engine.h"

#define REAP_BATCH 512
#define MAX_SCRATCH 4096
#define LINK_CHECK_NS 200000000ull /* link state and MTU refresh */

/* TX frames of an engine (or of a standalone port): a free stack */
struct tx_area {
	pthread_mutex_t lock;
	__u64 base;
	__u32 frames;
	__u64 *stack;
	__u32 n;
	int refs;
};

/* One egress (device, queue): its pool's completion ring */
struct txq {
	unsigned queue;
	pthread_mutex_t lock; /* completion ring consumer */
	struct xsk_ring_cons *cq;
	struct wc_pool *borrowed; /* an engine's pool we share */
	/* own pool (not borrowed) */
	struct xsk_ring_prod own_fq;
	struct xsk_ring_cons own_cq;
	void *fq_map, *cq_map;
	size_t fq_len, cq_len;
	int pool_fd; /* socket to share the pool with */
	__u32 cq_size;
	__u64 addr[REAP_BATCH];
	__u64 sorted[REAP_BATCH];
	_Atomic __u64 completed;
};

struct lane {
	pthread_mutex_t lock; /* producers of the TX ring */
	int fd;
	struct txq *q;
	struct xsk_ring_prod tx;
	void *tx_map;
	size_t tx_map_len;
	__u64 *drop; /* scratch: frames going back */
	__u64 *txa; /* scratch: descriptors to send */
	__u32 *txl;
	_Atomic __u64 offered, not_forwarded, submitted, bytes;
	_Atomic __u64 too_big, link_down, ring_full, bad_desc;
	_Atomic __u64 driver_dropped, ring_full_waits, kicks, kick_again;
	_Atomic __u64 alloc_failed, csum_completed;
};

struct wc_port {
	struct wc_engine *e; /* NULL: standalone */
	struct wc_engine *fam[2]; /* engines living in this UMEM */
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned nlanes, ntxq;
	struct lane *lanes;
	struct txq *txqs;
	char *umem;
	size_t umem_len; /* standalone: owned */
	bool own_umem;
	__u32 frame_size;
	__u32 tx_ring;
	__u64 tx_wait_ns;
	bool csum_complete; /* WC_CSUM_COMPLETE */
	bool zerocopy;
	struct tx_area *area;
	_Atomic __u32 mtu;
	_Atomic int link_up;
	_Atomic __u64 next_check, next_publish;
	_Atomic __u64 abandoned;
	int stats_fd;
	bool closing;
};

/* tx.c: the TX areas (a free stack of frames) */
struct tx_area *wc_tx_area_new(__u64 base, __u32 frames, __u32 fs);
void wc_tx_area_put(struct tx_area *a);
/* the engine's area, shared by its ports (refcounted) */
struct tx_area *wc_tx_engine_area(struct wc_engine *e);
void wc_tx_engine_area_put(struct wc_engine *e, struct tx_area *a);
/* tx.c: the port's counters into its pinned map */
void wc_port_publish(struct wc_port *p);

#endif
