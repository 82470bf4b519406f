// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Egress ports, open and close. A port is a set of TX AF_XDP sockets
 * ("lanes") on one egress interface, bound with XDP_SHARED_UMEM to the
 * engine's UMEM, so a descriptor put on a lane's TX ring simply names the
 * frame the packet was received in (tx.c transmits). A port without an
 * engine has a UMEM of its own, a TX area only.
 *
 * Pools. The kernel allows one buffer pool per (device, queue id), and a
 * pool has one fill and one completion ring. For each egress queue a lane
 * uses, the port either
 *  - shares the pool an engine of the same UMEM already has on that
 *    (device, queue): the same interface (hairpin), or the peer engine of a
 *    bump in the wire (engine opened with umem_of, see wirecap.h): its
 *    completion ring then carries our completions, and the port is its only
 *    reader (wc_pool_claim_cq); or
 *  - creates a new pool with its own fill ring (left empty: the egress does
 *    not receive through it) and completion ring.
 * Two engines with *different* UMEMs cannot both use one (device, queue):
 * the second bind fails with EBUSY. That is why a bidirectional bump in the
 * wire puts both engines in one UMEM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "netdev.h"
#include "pool.h"
#include "port.h"
#include "umem.h"
#include "xsk.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* Linux 6.17+ */
#endif

#define DEFAULT_TX_RING 2048
#define DEFAULT_TX_FRAMES 4096
#define DEFAULT_TX_WAIT_MS 200
#define MIN_CQ 2048
#define EGRESS_FQ 64 /* required by the kernel, never filled */
#define TX_BUDGET 256

/* Publish the port's counters in the ingress interface's pinned map
 * "port_stats" (created, BTF-typed and pinned with the attachment's
 * others), so that `wirecap stats` can show them. Best effort. */
static void publish_setup(struct wc_port *p)
{
	int fd = wc_iface__map_fd(p->e->ifc, WC_MAP_PORT_STATS);
	struct wc_egress_stats old;
	__u32 zero = 0;

	p->stats_fd = -1;
	if (fd < 0)
		return;
	/* another live port of this engine publishes already */
	if (!bpf_map_lookup_elem(fd, &zero, &old) && old.pid &&
	    old.pid != (__u32)getpid() && wc_pid_alive(old.pid))
		return;
	p->stats_fd = dup(fd); /* ours to close, as the handle may go first */
	wc_port_publish(p);
}

/* ---- open / close --------------------------------------------------------- */

/* an engine of this UMEM with a pool on (ifindex, queue) */
static struct wc_pool *family_pool(struct wc_port *p, unsigned queue, int *fd)
{
	for (unsigned f = 0; f < 2; f++) {
		struct wc_engine *e = p->fam[f];

		if (e && e->ifindex == p->ifindex && queue < e->nq) {
			*fd = e->workers[0].socks[queue].fd;
			return &e->pools[queue];
		}
	}
	return NULL;
}

/* any socket of the UMEM, to bind a new pool with XDP_SHARED_UMEM */
static int umem_fd(struct wc_port *p)
{
	if (p->fam[0])
		return p->fam[0]->workers[0].socks[0].fd;
	return p->lanes[0].fd;
}

static int lane_open(struct wc_port *p, struct lane *l, struct txq *q,
		     bool first_of_q, bool first_of_umem,
		     enum wc_bind_mode bmode)
{
	__u32 budget = TX_BUDGET;
	int shared = -1, err;
	__u16 flags;

	err = wc_xsk_socket();
	if (err < 0)
		return err;
	l->fd = err;
	if (first_of_umem) {
		err = wc_xsk_umem_reg(l->fd, p->umem, p->umem_len,
				      p->frame_size);
		if (err)
			return err;
	}
	if (first_of_q && !q->borrowed) {
		err = wc_xsk_umem_rings(l->fd, EGRESS_FQ, q->cq_size,
					&q->own_fq, &q->fq_map, &q->fq_len,
					&q->own_cq, &q->cq_map, &q->cq_len);
		if (err)
			return err;
		q->cq = &q->own_cq;
	}
	err = wc_xsk_tx_ring(l->fd, p->tx_ring, &l->tx, &l->tx_map,
			     &l->tx_map_len);
	if (err)
		return err;
	if (first_of_umem) {
		flags = XDP_USE_NEED_WAKEUP |
			(bmode == WC_BIND_ZEROCOPY ? XDP_ZEROCOPY :
			 bmode == WC_BIND_COPY	   ? XDP_COPY :
						     0);
	} else {
		flags = XDP_SHARED_UMEM;
		shared = first_of_q ? umem_fd(p) : q->pool_fd;
		if (first_of_q && q->borrowed)
			shared = q->pool_fd;
	}
	/* a socket closed just before (a previous run) leaves its queue in
	 * the kernel's deferred work for a moment: EBUSY while no live
	 * socket is bound there is waited for (wc_xsk_bind) */
	err = wc_xsk_bind(l->fd, p->ifindex, q->queue, flags, shared, true);
	if (err)
		return err;
	if (first_of_q && !q->borrowed)
		q->pool_fd = l->fd;
	/* Linux 6.17+: more than 32 frames per sendto() in copy mode */
	setsockopt(l->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
		   sizeof(budget));
	return 0;
}

static void port_free(struct wc_port *p)
{
	if (!p)
		return;
	for (unsigned i = 0; p->lanes && i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];

		if (l->tx_map)
			munmap(l->tx_map, l->tx_map_len);
		if (l->fd >= 0)
			close(l->fd);
		free(l->drop);
		free(l->txa);
		free(l->txl);
		pthread_mutex_destroy(&l->lock);
	}
	for (unsigned q = 0; p->txqs && q < p->ntxq; q++) {
		struct txq *t = &p->txqs[q];

		if (t->fq_map)
			munmap(t->fq_map, t->fq_len);
		if (t->cq_map)
			munmap(t->cq_map, t->cq_len);
		if (t->borrowed)
			wc_pool_unclaim_cq(t->borrowed);
		pthread_mutex_destroy(&t->lock);
	}
	if (p->area) {
		if (p->own_umem)
			wc_tx_area_put(p->area);
		else
			wc_tx_engine_area_put(p->e, p->area);
	}
	if (p->own_umem && p->umem)
		munmap(p->umem, p->umem_len);
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	free(p->lanes);
	free(p->txqs);
	free(p);
}

WC_API struct wc_port *wc_port__open(struct wc_engine *e, const char *ifname,
				     const struct wc_port_opts *o)
{
	const unsigned *qlist = WC_OPTS_GET(o, queues, NULL);
	unsigned nql = WC_OPTS_GET(o, nqueues, 0);
	enum wc_bind_mode bind = WC_OPTS_GET(o, bind, WC_BIND_AUTO);
	unsigned lanes_q[WC_MAX_WORKERS], rxq = 1, txqn = 1, nmax;
	struct wc_netdev_info di;
	struct wc_port *p;
	__u32 scratch;
	int err;

	if (!ifname || !WC_OPTS_VALID(o, wc_port_opts) ||
	    (qlist && (!nql || nql > WC_MAX_WORKERS))) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->stats_fd = -1;
	p->e = e;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	err = wc_netdev_get_info(ifname, &di);
	if (err) {
		if (err == -ENODEV)
			pr_warn("no such interface: %s\n", ifname);
		goto fail;
	}
	p->ifindex = di.ifindex;
	atomic_store(&p->mtu, di.mtu);
	atomic_store(&p->link_up,
		     (di.flags & IFF_UP) && (di.flags & IFF_RUNNING));
	if (!(di.flags & IFF_UP)) {
		pr_warn("%s is down\n", ifname);
		err = -ENETDOWN;
		goto fail;
	}
	err = wc_netdev_queues(ifname, &rxq, &txqn);
	if (err)
		goto fail;
	nmax = rxq > txqn ? rxq : txqn;
	p->tx_ring = WC_OPTS_GET(o, tx_ring_size, 0);
	p->tx_ring = p->tx_ring ? p->tx_ring : DEFAULT_TX_RING;
	if (p->tx_ring & (p->tx_ring - 1)) {
		pr_warn("tx ring size must be a power of two, not %u\n",
			p->tx_ring);
		err = -EINVAL;
		goto fail;
	}
	p->csum_complete =
		WC_OPTS_GET(o, csum, WC_CSUM_COMPLETE) == WC_CSUM_COMPLETE;
	p->tx_wait_ns = (__u64)WC_OPTS_GET(o, tx_wait_ms, 0) * 1000000ull;
	if (!p->tx_wait_ns)
		p->tx_wait_ns = DEFAULT_TX_WAIT_MS * 1000000ull;
	/* lanes and their queues */
	if (qlist) {
		p->nlanes = nql;
		for (unsigned i = 0; i < nql; i++) {
			if (qlist[i] >= nmax) {
				pr_warn("%s has no queue %u (%u queues)\n",
					ifname, qlist[i], nmax);
				err = -EINVAL;
				goto fail;
			}
			lanes_q[i] = qlist[i];
		}
	} else if (e) {
		p->nlanes = e->nw;
		for (unsigned w = 0; w < e->nw; w++)
			lanes_q[w] = w % (txqn ? txqn : 1);
	} else {
		p->nlanes = 1;
		lanes_q[0] = 0;
	}
	/* the UMEM */
	if (e && e->umem_per_queue && e->nq > 1) {
		pr_warn("%s: the engine of %s has a UMEM per queue: open it with umem = WC_UMEM_ONE to forward from it\n",
			ifname, e->ifname);
		err = -EINVAL;
		goto fail;
	}
	if (e) {
		p->fam[0] = e->umem_owner ? e->umem_owner : e;
		p->fam[1] = p->fam[0]->umem_guest;
		p->umem = e->umem;
		p->umem_len = e->umem_len;
		p->frame_size = e->frame_size;
		p->zerocopy = e->bind_mode == WC_BIND_ZEROCOPY;
		if (e->tx_frames)
			p->area = wc_tx_engine_area(e);
	} else {
		__u32 nf = WC_OPTS_GET(o, tx_frames, 0),
		      fs = WC_OPTS_GET(o, frame_size, 0), kind;
		void *area = NULL;

		nf = nf ? nf : DEFAULT_TX_FRAMES;
		fs = fs ? fs : 2048;
		if (fs != 2048 && fs != 4096) {
			err = -EINVAL;
			goto fail;
		}
		p->own_umem = true;
		p->frame_size = fs;
		p->umem_len = (size_t)nf * fs;
		/* normal pages, RLIMIT_MEMLOCK checked */
		err = wc_umem_alloc(&area, &p->umem_len, &kind, WC_HUGE_OFF, 0,
				    false, NULL);
		p->umem = area;
		if (err)
			goto fail;
		p->area = wc_tx_area_new(0, nf, fs);
		if (!p->area) {
			err = -ENOMEM;
			goto fail;
		}
	}
	/* distinct egress queues */
	p->lanes = calloc(p->nlanes, sizeof(*p->lanes));
	p->txqs = calloc(p->nlanes, sizeof(*p->txqs));
	if (!p->lanes || !p->txqs) {
		err = -ENOMEM;
		goto fail;
	}
	scratch = e ? e->chunk_size : MAX_SCRATCH;
	if (scratch < MAX_SCRATCH)
		scratch = MAX_SCRATCH;
	for (unsigned i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];
		struct txq *q = NULL;

		l->fd = -1;
		pthread_mutex_init(&l->lock, NULL);
		l->drop = calloc(scratch, sizeof(*l->drop));
		l->txa = calloc(scratch, sizeof(*l->txa));
		l->txl = calloc(scratch, sizeof(*l->txl));
		if (!l->drop || !l->txa || !l->txl) {
			err = -ENOMEM;
			goto fail;
		}
		for (unsigned k = 0; k < p->ntxq; k++)
			if (p->txqs[k].queue == lanes_q[i])
				q = &p->txqs[k];
		if (!q) {
			q = &p->txqs[p->ntxq++];
			q->queue = lanes_q[i];
			q->pool_fd = -1;
			pthread_mutex_init(&q->lock, NULL);
		}
		l->q = q;
	}
	for (unsigned k = 0; k < p->ntxq; k++) {
		struct txq *q = &p->txqs[k];
		unsigned users = 0;

		for (unsigned i = 0; i < p->nlanes; i++)
			users += p->lanes[i].q == q;
		q->cq_size = wc_pow2_at_least((__u64)users * p->tx_ring);
		if (q->cq_size < MIN_CQ)
			q->cq_size = MIN_CQ;
		if (e) {
			int fd;
			struct wc_pool *pool = family_pool(p, q->queue, &fd);

			if (pool) {
				err = wc_pool_claim_cq(pool);
				if (err) {
					pr_warn("%s queue %u: another port transmits there already\n",
						ifname, q->queue);
					goto fail;
				}
				q->borrowed = pool;
				q->cq = &pool->cq;
				q->pool_fd = fd;
			}
		}
	}
	for (unsigned i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];
		bool first_q = true;

		for (unsigned j = 0; j < i; j++)
			first_q &= p->lanes[j].q != l->q;
		err = lane_open(p, l, l->q, first_q, !e && i == 0, bind);
		if (err) {
			if (err == -EBUSY)
				pr_warn("%s queue %u is busy: another AF_XDP socket (another program, or a capture with its own UMEM) uses it%s\n",
					ifname, l->q->queue,
					e ? "; for both directions of a bump in the wire, open the second engine with umem_of" :
					    "");
			else if (err == -ETIMEDOUT)
				err = -EBUSY; /* wc_xsk_bind said why */
			else if (err == -EOPNOTSUPP || err == -EINVAL)
				pr_warn("%s queue %u: cannot bind a TX socket (%s)%s\n",
					ifname, l->q->queue, strerror(-err),
					p->zerocopy ?
						": the UMEM is in zero-copy mode, the egress driver may not support it" :
						"");
			else
				pr_warn("%s queue %u: cannot create a TX socket: %s\n",
					ifname, l->q->queue, strerror(-err));
			goto fail;
		}
		if (!e && i == 0) {
			struct xdp_options xo;
			socklen_t len = sizeof(xo);

			if (!getsockopt(l->fd, SOL_XDP, XDP_OPTIONS, &xo, &len))
				p->zerocopy = xo.flags & XDP_OPTIONS_ZEROCOPY;
		}
	}
	if (e)
		publish_setup(p);
	atomic_store(&p->next_check, wc_now_mono() + LINK_CHECK_NS);
	pr_info("%s: egress port: %u lanes on %u queues, tx ring %u, %s%s\n",
		ifname, p->nlanes, p->ntxq, p->tx_ring,
		p->zerocopy ? "zero-copy" : "copy mode",
		e ? ", sharing the engine's UMEM" : "");
	return p;
fail:
	port_free(p);
	errno = -err;
	return NULL;
}

WC_API void wc_port__close(struct wc_port *p)
{
	int left;

	if (!p)
		return;
	left = wc_port__flush(p, 1000);
	if (left > 0) {
		atomic_store(&p->abandoned, (__u64)left);
		pr_warn("%s: %d frames never completed by the kernel (counted as abandoned)\n",
			p->ifname, left);
	}
	if (p->stats_fd >= 0) {
		/* no port runs: an all-zero entry (pid 0) */
		struct wc_egress_stats none = {};
		__u32 zero = 0;

		bpf_map_update_elem(p->stats_fd, &zero, &none, BPF_ANY);
	}
	port_free(p);
}

WC_API unsigned wc_port__lanes(const struct wc_port *p)
{
	return p ? p->nlanes : 0;
}

WC_API int wc_port__lane_queue(const struct wc_port *p, unsigned lane)
{
	if (!p || lane >= p->nlanes)
		return -EINVAL;
	return (int)p->lanes[lane].q->queue;
}
