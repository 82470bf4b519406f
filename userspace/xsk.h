/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* AF_XDP sockets: rings, mmap offsets, bind, socket options (xsk.c). */
#ifndef WIRECAP_XSK_H
#define WIRECAP_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

struct wc_sock;

/* a new AF_XDP socket, or -errno */
int wc_xsk_socket(void);
/* size ring `opt` (XDP_RX_RING, XDP_UMEM_FILL_RING, ...) before its mmap */
int wc_xsk_set_ring(int fd, int opt, __u32 n);
int wc_xsk_offsets(int fd, struct xdp_mmap_offsets *off);
/* map one ring of n entries of esz bytes into `ring` (an xsk_ring_prod or
 * xsk_ring_cons: same layout) */
int wc_ring_map(int fd, __u64 pgoff, const struct xdp_ring_offset *off, __u32 n,
		size_t esz, void **map, size_t *len, void *ring, bool prod);
/* the fill and completion rings of the pool this socket creates */
int wc_xsk_umem_rings(int fd, __u32 fq_size, __u32 cq_size,
		      struct xsk_ring_prod *fq, void **fq_map, size_t *fq_len,
		      struct xsk_ring_cons *cq, void **cq_map, size_t *cq_len);
/* the TX ring of n entries (an egress lane) */
int wc_xsk_tx_ring(int fd, __u32 n, struct xsk_ring_prod *tx, void **map,
		   size_t *len);
/* register the UMEM [area, area + len) of frames of frame_size bytes */
int wc_xsk_umem_reg(int fd, void *area, size_t len, __u32 frame_size);
/* bind to (ifindex, q); shared_fd >= 0 with XDP_SHARED_UMEM. EBUSY while
 * no live socket is bound there (wc_xsk_queue_used) is a socket closed
 * just before whose pool the kernel still frees: retried for up to 5 s,
 * -ETIMEDOUT after that (with a one-line message); -EBUSY at once when a
 * live socket is bound. When the kernel cannot say, retry_busy retries
 * EBUSY for half a second. */
int wc_xsk_bind(int fd, int ifindex, unsigned q, __u16 flags, int shared_fd,
		bool retry_busy);

/* xskdiag.c. Is a live AF_XDP socket bound to (ifindex, q)? 1 yes, 0
 * none, -errno when it cannot say (-EAGAIN: without sock_diag, another
 * process has AF_XDP sockets in this network namespace) */
int wc_xsk_queue_used(int ifindex, unsigned q);
/* sock_diag's answer alone: 1 (the socket's inode in *ino when ino), 0
 * none, -errno without sock_diag for AF_XDP (CONFIG_XDP_SOCKETS_DIAG) */
int wc_xsk_diag_bound(int ifindex, unsigned q, __u32 *ino);
/* one recv of sock_diag's AF_XDP dump (XDP_SHOW_INFO): WC_DIAG_FOUND, a
 * socket on (ifindex, q) (its inode in *ino), 0 read on, WC_DIAG_DONE the
 * dump's end, or the dump's -errno */
enum { WC_DIAG_FOUND = 1, WC_DIAG_DONE = 2 };
int wc_xsk_diag_scan(const void *buf, size_t len, int ifindex, unsigned q,
		     __u32 *ino);
/* a bind of fd to (ifindex, q) succeeded (for wc_xsk_queue_used) */
void wc_xsk_note_bound(int fd, int ifindex, unsigned q);
int wc_xsk_stats(int fd, struct xdp_statistics *st);
/* SO_PREFER_BUSY_POLL, SO_BUSY_POLL and its budget: 0 or -errno */
int wc_xsk_busy_poll(int fd, int usec, int budget);

/* an rx socket of the engine: its RX ring of n entries, and its close */
int wc_sock_rx_setup(struct wc_sock *s, __u32 n);
void wc_sock_close(struct wc_sock *s);

#endif
