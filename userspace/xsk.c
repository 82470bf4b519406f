// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * AF_XDP sockets with raw calls: ring sizes, mmap offsets, ring mapping,
 * UMEM registration, bind, statistics and socket options. Shared by the
 * capture engine (engine.c, pool.c) and the egress ports (tx.c).
 *
 * Sockets are set up with raw AF_XDP calls rather than libxdp's
 * xsk_socket__create_shared(): libxdp always shares with the UMEM's first
 * socket, but sharing one queue's pool between several sockets needs the
 * bind to name a socket of *that* queue (the kernel creates a second pool
 * otherwise and the bind fails with EBUSY). libxdp's inline ring helpers
 * (xdp/xsk.h) are used for every ring access.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "sysutil.h"
#include "xsk.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

int wc_xsk_socket(void)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int wc_ring_map(int fd, __u64 pgoff, const struct xdp_ring_offset *off, __u32 n,
		size_t esz, void **map, size_t *len, void *ring, bool prod)
{
	struct xsk_ring_prod *r = ring; /* same layout as xsk_ring_cons */

	*len = off->desc + (size_t)n * esz;
	*map = mmap(NULL, *len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -errno;
	}
	r->mask = n - 1;
	r->size = n;
	r->producer = (__u32 *)((char *)*map + off->producer);
	r->consumer = (__u32 *)((char *)*map + off->consumer);
	r->flags = (__u32 *)((char *)*map + off->flags);
	r->ring = (char *)*map + off->desc;
	r->cached_prod = *r->producer;
	/* a producer's cached_cons is kept `size` ahead (libxdp convention) */
	r->cached_cons = *r->consumer + (prod ? n : 0);
	return 0;
}

int wc_xsk_offsets(int fd, struct xdp_mmap_offsets *off)
{
	socklen_t len = sizeof(*off);

	return getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, off, &len) ? -errno :
								      0;
}

int wc_xsk_set_ring(int fd, int opt, __u32 n)
{
	return setsockopt(fd, SOL_XDP, opt, &n, sizeof(n)) ? -errno : 0;
}

int wc_sock_rx_setup(struct wc_sock *s, __u32 n)
{
	struct xdp_mmap_offsets off;
	int err;

	err = wc_xsk_set_ring(s->fd, XDP_RX_RING, n);
	if (err)
		return err;
	err = wc_xsk_offsets(s->fd, &off);
	if (err)
		return err;
	return wc_ring_map(s->fd, XDP_PGOFF_RX_RING, &off.rx, n,
			   sizeof(struct xdp_desc), &s->rx_map, &s->rx_map_len,
			   &s->rx, false);
}

int wc_xsk_umem_rings(int fd, __u32 fq_size, __u32 cq_size,
		      struct xsk_ring_prod *fq, void **fq_map, size_t *fq_len,
		      struct xsk_ring_cons *cq, void **cq_map, size_t *cq_len)
{
	struct xdp_mmap_offsets off;
	int err;

	if ((err = wc_xsk_set_ring(fd, XDP_UMEM_FILL_RING, fq_size)) ||
	    (err = wc_xsk_set_ring(fd, XDP_UMEM_COMPLETION_RING, cq_size)))
		return err;
	err = wc_xsk_offsets(fd, &off);
	if (err)
		return err;
	err = wc_ring_map(fd, XDP_UMEM_PGOFF_FILL_RING, &off.fr, fq_size,
			  sizeof(__u64), fq_map, fq_len, fq, true);
	if (err)
		return err;
	return wc_ring_map(fd, XDP_UMEM_PGOFF_COMPLETION_RING, &off.cr, cq_size,
			   sizeof(__u64), cq_map, cq_len, cq, false);
}

int wc_xsk_umem_reg(int fd, void *area, size_t len, __u32 frame_size)
{
	struct xdp_umem_reg reg = {
		.addr = (__u64)(uintptr_t)area,
		.len = len,
		.chunk_size = frame_size,
		.headroom = 0,
	};

	return setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ?
		       -errno :
		       0;
}

int wc_xsk_busy_poll(int fd, int usec, int budget)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one,
		       sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
		       sizeof(budget)))
		return -errno;
	return 0;
}

/* EBUSY with no live socket bound there: the queue's pool is still being
 * freed in the kernel's deferred work (xskdiag.c); waited for this long */
#define RELEASE_WAIT_NS (5ULL * 1000000000)
/* when the kernel cannot say, retry_busy retries blindly this long */
#define BLIND_WAIT_NS (500ULL * 1000000)

/* the queue's pool was not freed in RELEASE_WAIT_NS: said here, once for
 * the engine and the ports */
static int release_timeout(int ifindex, unsigned q)
{
	char name[IF_NAMESIZE] = "?";

	if_indextoname(ifindex, name);
	pr_warn("%s queue %u is still being released by the kernel %llu s after its AF_XDP socket closed: try again\n",
		name, q, RELEASE_WAIT_NS / 1000000000ULL);
	return -ETIMEDOUT;
}

int wc_xsk_bind(int fd, int ifindex, unsigned q, __u16 flags, int shared_fd,
		bool retry_busy)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = flags,
		.sxdp_ifindex = ifindex,
		.sxdp_queue_id = q,
		.sxdp_shared_umem_fd = shared_fd >= 0 ? shared_fd : 0,
	};
	__u64 t0 = 0, limit;
	long sleep_ns = 1000000;
	int used = 0; /* wc_xsk_queue_used; < 0: the kernel cannot say */

	for (;;) {
		struct timespec ts = { 0, sleep_ns };

		if (!bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
			wc_xsk_note_bound(fd, ifindex, q);
			return 0;
		}
		if (errno != EBUSY)
			return -errno;
		/* asked again each time: another socket may take the queue
		 * the moment the kernel has released it */
		if (!used)
			used = wc_xsk_queue_used(ifindex, q);
		if (used > 0)
			return -EBUSY;
		if (!t0) {
			t0 = wc_now_mono();
			if (!used)
				pr_debug(
					"ifindex %d queue %u: no AF_XDP socket bound, the kernel still releases one: waiting\n",
					ifindex, q);
		}
		limit = !used	   ? RELEASE_WAIT_NS :
			retry_busy ? BLIND_WAIT_NS :
				     0;
		if (wc_now_mono() - t0 >= limit)
			return used ? -EBUSY : release_timeout(ifindex, q);
		nanosleep(&ts, NULL);
		if (sleep_ns < 50000000)
			sleep_ns *= 2;
	}
}

int wc_xsk_tx_ring(int fd, __u32 n, struct xsk_ring_prod *tx, void **map,
		   size_t *len)
{
	struct xdp_mmap_offsets off;
	int err;

	err = wc_xsk_set_ring(fd, XDP_TX_RING, n);
	if (err)
		return err;
	err = wc_xsk_offsets(fd, &off);
	if (err)
		return err;
	return wc_ring_map(fd, XDP_PGOFF_TX_RING, &off.tx, n,
			   sizeof(struct xdp_desc), map, len, tx, true);
}

void wc_sock_close(struct wc_sock *s)
{
	if (s->rx_map)
		munmap(s->rx_map, s->rx_map_len);
	s->rx_map = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int wc_xsk_stats(int fd, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	return getsockopt(fd, SOL_XDP, XDP_STATISTICS, st, &len) ? -errno : 0;
}
