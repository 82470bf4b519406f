// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The capture engine's open and close: one UMEM split into a ring-buffer
 * pool per rx queue, one AF_XDP socket per (queue, worker), plugged into
 * the XSKMAP once the pools are full; the monitor thread started last.
 * See docs/pool.md and docs/architecture.md for the other files: xsk.c
 * (sockets), umem.c (memory), pool.c (pools, chunks), rx.c (capture),
 * fence.c (bucket moves), monitor.c (offloading), counters.c (stats).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "kernel.h"
#include "netdev.h"
#include "pool.h"
#include "rx.h"
#include "umem.h"
#include "xsk.h"

/* Wait until the memory of pool q's UMEM is faulted in (all of it with
 * one UMEM per engine): with a UMEM per queue, the helpers fault in the
 * next queues' memory meanwhile, while this one registers and binds. */
static int umem_wait(struct wc_engine *e, unsigned q)
{
	const struct wc_pool *p = &e->pools[q];

	return e->populate ? wc_populate_wait(e->populate,
					      p->umem_off + p->umem_len) :
			     0;
}

/* The first socket of a UMEM (queue 0's, or queue q's with a UMEM per
 * queue) registers it and creates the queue's pool; the bind flags decide
 * copy or zero-copy for every socket that shares it. */
static int umem_socket_in(struct wc_engine *e, unsigned q, __u16 mode_flag,
			  struct wc_sock *s)
{
	struct wc_pool *p = &e->pools[q];
	int err = umem_wait(e, q);

	if (err)
		return err;
	err = wc_xsk_socket();
	if (err < 0)
		return err;
	s->fd = err;
	err = wc_xsk_umem_reg(s->fd, (char *)e->umem + p->umem_off, p->umem_len,
			      e->frame_size);
	if (!err)
		err = wc_pool_rings_setup(e, p, s->fd);
	if (!err)
		err = wc_sock_rx_setup(s, e->rx_size);
	if (!err)
		err = wc_xsk_bind(s->fd, e->ifindex, q,
				  mode_flag | XDP_USE_NEED_WAKEUP, -1, false);
	if (!err)
		return 0;
	wc_pool_unmap(p);
	wc_sock_close(s);
	return err;
}

static int umem_socket(struct wc_engine *e, unsigned q, __u16 mode_flag)
{
	return umem_socket_in(e, q, mode_flag, &e->workers[0].socks[q]);
}

/* ---- the first sockets, bound while the engine attaches ------------------ */

/* The expensive binds (a UMEM per queue, copy mode) need no XDP program:
 * they run on a thread of their own while the engine attaches (the
 * verifier), into e->early_socks; nothing is plugged before the end. */
static void *early_thread(void *arg)
{
	struct wc_engine *e = arg;

	/* each queue's fill ring is filled here too, as soon as its socket
	 * is bound: 200,000 descriptors a queue, off the critical path */
	for (unsigned q = 0; q < e->nq && !e->early_err; q++) {
		e->early_err =
			umem_socket_in(e, q, XDP_COPY, &e->early_socks[q]);
		if (!e->early_err)
			e->early_err = wc_pool_fill(e, &e->pools[q]);
	}
	return NULL;
}

static void early_join(struct wc_engine *e)
{
	if (e->early_running)
		pthread_join(e->early_th, NULL);
	e->early_running = false;
}

/* joined; the sockets closed (the attach serves other queues, or failure) */
static void early_close(struct wc_engine *e)
{
	early_join(e);
	for (unsigned q = 0; e->early_socks && q < e->nq; q++)
		wc_sock_close(&e->early_socks[q]);
	free(e->early_socks);
	e->early_socks = NULL;
}

/* after the attach: the early sockets become worker 0's (or their error) */
static int early_take(struct wc_engine *e)
{
	int err;

	early_join(e);
	err = e->early_err;
	if (!err) {
		for (unsigned q = 0; q < e->nq; q++) {
			e->workers[0].socks[q] = e->early_socks[q];
			e->early_socks[q].fd = -1;
			e->early_socks[q].rx_map = NULL;
		}
		e->bind_mode = WC_BIND_COPY;
	}
	early_close(e);
	return err;
}

/* An engine opened with umem_of: its first socket binds into the other
 * engine's UMEM (a new pool, with its own fill and completion rings); the
 * mode (copy / zero-copy) is the UMEM's. */
static int guest_socket(struct wc_engine *e)
{
	struct wc_sock *s = &e->workers[0].socks[0];
	int err = wc_xsk_socket();

	if (err < 0)
		return err;
	s->fd = err;
	err = wc_pool_rings_setup(e, &e->pools[0], s->fd);
	if (!err)
		err = wc_sock_rx_setup(s, e->rx_size);
	if (!err)
		err = wc_xsk_bind(s->fd, e->ifindex, 0, XDP_SHARED_UMEM,
				  e->umem_owner->workers[0].socks[0].fd, false);
	return err;
}

static int sockets_setup(struct wc_engine *e, enum wc_bind_mode bind)
{
	int err = -EINVAL;

	if (e->early_socks) {
		err = early_take(e);
		if (err)
			return err;
		bind = WC_BIND_COPY; /* skips queue 0's socket below */
	}

	if (e->umem_owner) {
		err = guest_socket(e);
		if (err)
			return err;
		e->bind_mode = e->umem_owner->bind_mode;
		bind = WC_BIND_COPY; /* skips the owner socket below */
	}

	if (bind == WC_BIND_AUTO && !e->zc_capable) {
		/* a failed zero-copy bind is not free: the kernel sets up a
		 * descriptor per UMEM frame for it (0.3 s for 1.5 GiB) */
		pr_info("%s: the driver has no zero-copy AF_XDP: copy mode\n",
			e->ifname);
		bind = WC_BIND_COPY;
	}
	if (bind != WC_BIND_COPY) {
		err = umem_socket(e, 0, XDP_ZEROCOPY);
		if (!err)
			e->bind_mode = WC_BIND_ZEROCOPY;
		else if (bind == WC_BIND_ZEROCOPY || err == -EBUSY)
			return err;
		else
			pr_info("%s: zero-copy refused (%s), using copy mode\n",
				e->ifname, strerror(-err));
	}
	if (err && e->workers[0].socks[0].fd < 0) {
		err = umem_socket(e, 0, XDP_COPY);
		if (err)
			return err;
		e->bind_mode = WC_BIND_COPY;
	}
	for (unsigned q = 0; q < e->nq; q++) {
		for (unsigned w = 0; w < e->nw; w++) {
			struct wc_sock *s = &e->workers[w].socks[q];
			int shared;

			if (s->fd >= 0)
				continue; /* queue 0's, or bound early */
			if (w == 0 && e->umem_per_queue) {
				/* its own UMEM, in the mode of queue 0's */
				err = umem_socket(
					e, q,
					e->bind_mode == WC_BIND_ZEROCOPY ?
						XDP_ZEROCOPY :
						XDP_COPY);
				if (err)
					return err;
				continue;
			}
			err = wc_xsk_socket();
			if (err < 0)
				return err;
			s->fd = err;
			if (w == 0) {
				/* first socket of the queue: its own pool, in
				 * the UMEM registered by socket (0, 0) */
				err = wc_pool_rings_setup(e, &e->pools[q],
							  s->fd);
				if (err)
					return err;
				shared = e->workers[0].socks[0].fd;
			} else {
				/* share the queue's pool and fill ring */
				shared = e->workers[0].socks[q].fd;
			}
			err = wc_sock_rx_setup(s, e->rx_size);
			if (err)
				return err;
			err = wc_xsk_bind(s->fd, e->ifindex, q, XDP_SHARED_UMEM,
					  shared, false);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Last step of the start: the pools are full, so the first packet
 * redirected finds a frame; the XDP counters are read first, so that what
 * the program counts from here on and what the sockets count match (a
 * packet seen before the plug is passed or dropped as "no socket" and is
 * counted on both sides of the baseline consistently, see
 * wc_engine__queue_stats). */
static int sockets_plug(struct wc_engine *e)
{
	int xsks_fd = wc_iface__map_fd(e->ifc, WC_MAP_XSKS);

	for (__u32 q = 0; q < WC_MAX_QUEUES; q++)
		if (wc_iface_queue_sums(e->ifc, q, &e->xdp0[q]))
			memset(&e->xdp0[q], 0, sizeof(e->xdp0[q]));
	for (unsigned q = 0; q < e->nq; q++) {
		for (unsigned w = 0; w < e->nw; w++) {
			__u32 key = q * e->nw + w;
			int fd = e->workers[w].socks[q].fd;

			if (bpf_map_update_elem(xsks_fd, &key, &fd, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

/* ---- pools -------------------------------------------------------------- */

/* the pools of the engine's queues, no socket yet */
static int pools_new(struct wc_engine *e)
{
	e->pools = calloc(e->nq, sizeof(*e->pools));
	if (!e->pools)
		return -ENOMEM;
	for (unsigned q = 0; q < e->nq; q++) {
		struct wc_pool *p = &e->pools[q];

		pthread_mutex_init(&p->lock, NULL);
		p->queue = q;
		p->nframes = e->chunks * e->chunk_size;
		p->base = (__u64)q * e->pool_stride;
		if (e->umem_owner)
			p->base += e->umem_owner->guest_base;
		if (e->umem_per_queue) {
			p->umem_off = p->base;
			p->umem_len = (size_t)p->nframes * e->frame_size;
		} else {
			p->umem_len = e->umem_len;
		}
		p->fd = -1;
	}
	return 0;
}

static void pools_free(struct wc_engine *e)
{
	for (unsigned q = 0; e->pools && q < e->nq; q++) {
		wc_pool_unmap(&e->pools[q]);
		pthread_mutex_destroy(&e->pools[q].lock);
	}
	free(e->pools);
	e->pools = NULL;
}

/* ---- open / close ------------------------------------------------------- */

static void engine_free(struct wc_engine *e)
{
	if (!e)
		return;
	/* the helpers stop before the memory they fault in goes */
	wc_populate_cancel(e->populate);
	early_close(e);
	wc_populate_end(e->populate, true);
	e->populate = NULL;
	if (e->workers) {
		for (unsigned w = 0; w < e->nw; w++) {
			struct wc_worker *wk = &e->workers[w];
			struct wc_chunk *c, *n;

			for (unsigned q = 0; wk->socks && q < e->nq; q++)
				wc_sock_close(&wk->socks[q]);
			free(wk->socks);
			free((void *)wk->hold);
			free((void *)wk->divert);
			free(wk->divbuf);
			if (wk->wake_efd >= 0)
				close(wk->wake_efd);
			free((void *)wk->qpackets);
			free((void *)wk->qbytes);
			for (int pass = 0; pass < 2; pass++) {
				c = pass ? atomic_load(&wk->returned) :
					   wk->free;
				for (; c; c = n) {
					n = c->next;
					free(c->seg);
					free(c->addr);
					free(c);
				}
			}
		}
		free(e->workers);
	}
	pools_free(e);
	for (unsigned i = 0; i < WC_MAX_FENCES; i++) {
		free(e->fences[i].park.v);
		free(e->fences[i].hand.v);
		pthread_mutex_destroy(&e->fences[i].lock);
	}
	if (e->umem_owner) {
		if (e->umem_owner->umem_guest == e)
			e->umem_owner->umem_guest = NULL;
	} else if (e->umem) {
		if (e->umem_guest)
			pr_warn("%s: closed before %s, which lives in its UMEM\n",
				e->ifname, e->umem_guest->ifname);
		munmap(e->umem, e->umem_len);
	}
	if (e->stop_efd >= 0)
		close(e->stop_efd);
	wc_xdpsync__close(&e->xsync);
	wc_link_close(e);
	pthread_mutex_destroy(&e->link.lock);
	pthread_mutex_destroy(&e->stats_lock);
	free(e);
}

static int engine_claim(struct wc_engine *e)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_ENGINE);
	struct wc_engine_info info = {};
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	if (!bpf_map_lookup_elem(fd, &zero, &info) && info.pid &&
	    info.pid != (__u32)getpid() && wc_pid_alive(info.pid)) {
		pr_warn("%s: a capture engine already runs on it (pid %u)\n",
			e->ifname, info.pid);
		return -EBUSY;
	}
	return 0;
}

/* An attachment's queues, workers and buckets are fixed: an engine that
 * asks for others is refused in one line, never silently given the
 * attachment's; the attach options apply only when the engine attaches. */
static int geometry_check(const struct wc_iface *ifc,
			  const struct wc_engine_opts *o,
			  const struct wc_attach_opts *ao)
{
	const struct {
		const char *what, *opt; /* opt: the field of both options */
		__u32 want, attach, have;
	} g[] = {
		{ "rx queues", "queues", WC_OPTS_GET(o, queues, 0),
		  WC_OPTS_GET(ao, queues, 0), ifc->cfg.queues },
		{ "workers", "workers", WC_OPTS_GET(o, workers, 0),
		  WC_OPTS_GET(ao, workers, 0), ifc->cfg.workers },
		{ "flow buckets", "buckets", WC_OPTS_GET(o, buckets, 0),
		  WC_OPTS_GET(ao, buckets, 0), ifc->cfg.buckets },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		if (g[i].want && g[i].want != g[i].have) {
			pr_warn("%s: attached with %u %s, not the engine's %s %u: detach it first, or leave %s 0 to take the attachment's\n",
				ifc->ifname, g[i].have, g[i].what, g[i].opt,
				g[i].want, g[i].opt);
			return -EEXIST;
		}
		if (!g[i].want && g[i].attach && g[i].attach != g[i].have)
			pr_info("%s: attached with %u %s: the attach option of %u applies only when the engine attaches\n",
				ifc->ifname, g[i].have, g[i].what, g[i].attach);
	}
	return 0;
}

/* The engine's memory: its geometry from the options and e->nq, mapped
 * (the memory limits checked), and faulted in from here on by helper
 * threads (see umem_wait()); a guest's is its owner's. */
static int umem_setup(struct wc_engine *e, const struct wc_engine_opts *o)
{
	const volatile int *cancel = WC_OPTS_GET(o, cancel, NULL);
	int err = wc_cancelled(cancel) ? -EINTR : wc_umem_size(e, o);

	if (err)
		return err;
	if (e->umem_owner) {
		e->umem = e->umem_owner->umem;
		e->umem_len = e->umem_owner->umem_len;
		e->huge = e->umem_owner->huge;
		return 0;
	}
	err = wc_umem_map(&e->umem, &e->umem_len, &e->huge,
			  WC_OPTS_GET(o, huge_pages, WC_HUGE_AUTO),
			  e->zc_capable, true);
	if (!err)
		err = wc_populate_start(&e->populate, e->umem, e->umem_len,
					cancel);
	return err;
}

static int zc_capable(int ifindex)
{
	uint64_t f;

	return wc_netdev_xdp_features(ifindex, &f) ?
		       -1 :
		       !!(f & WC_XDP_ACT_XSK_ZEROCOPY);
}

/* Copy mode known before the attach (the driver has no zero-copy, or it
 * is asked for): the first socket of each queue is bound meanwhile. */
static int early_start(struct wc_engine *e, const struct wc_engine_opts *o)
{
	enum wc_bind_mode bind = WC_OPTS_GET(o, bind, WC_BIND_AUTO);

	if (!e->umem_per_queue ||
	    !(bind == WC_BIND_COPY || (bind == WC_BIND_AUTO && !e->zc_capable)))
		return 0;
	if (bind == WC_BIND_AUTO)
		pr_info("%s: the driver has no zero-copy AF_XDP: copy mode\n",
			e->ifname);
	if (pools_new(e))
		return -ENOMEM;
	e->early_socks = calloc(e->nq, sizeof(*e->early_socks));
	if (!e->early_socks)
		return -ENOMEM;
	for (unsigned q = 0; q < e->nq; q++) {
		e->early_socks[q].fd = -1;
		e->early_socks[q].queue = q;
	}
	if (pthread_create(&e->early_th, NULL, early_thread, e)) {
		free(e->early_socks);
		e->early_socks = NULL;
		return 0; /* after the attach, then */
	}
	e->early_running = true;
	return 0;
}

/* Before the engine attaches: the attach spends its time in the verifier,
 * on one CPU, so the memory starts faulting in before it, for the queues
 * the attach will serve (the engine's or attach's option, else the
 * device's rx queues), and its limits are checked before anything is
 * attached. 0 also when that is left to after the attach. */
static int umem_early(struct wc_engine *e, const char *ifname,
		      const struct wc_engine_opts *o,
		      const struct wc_attach_opts *def)
{
	struct wc_netdev_info di;
	unsigned rx, tx;
	int err;

	if (WC_OPTS_GET(o, umem_of, NULL) || wc_netdev_get_info(ifname, &di) ||
	    wc_netdev_queues(ifname, &rx, &tx))
		return 0;
	e->nq = def->queues ? def->queues : rx;
	if (!e->nq || e->nq > rx)
		return 0; /* the attach says why */
	if (e->nq > WC_MAX_QUEUES)
		e->nq = WC_MAX_QUEUES;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	e->ifindex = di.ifindex;
	e->zc_capable = zc_capable(e->ifindex);
	err = umem_setup(e, o);
	return err ? err : early_start(e, o);
}

/* The attach serves other queues than umem_early() thought: start over. */
static void umem_drop(struct wc_engine *e)
{
	wc_populate_cancel(e->populate);
	early_close(e);
	pools_free(e);
	wc_populate_end(e->populate, true);
	e->populate = NULL;
	munmap(e->umem, e->umem_len);
	e->umem = NULL;
}

WC_API struct wc_engine *wc_engine__open(const char *ifname,
					 const struct wc_engine_opts *o)
{
	const struct wc_attach_opts *ao = WC_OPTS_GET(o, attach, NULL);
	const char *pin_root = WC_OPTS_GET(o, pin_root, NULL);
	const volatile int *cancel = WC_OPTS_GET(o, cancel, NULL);
	struct wc_engine *e;
	int err;

	if (!WC_OPTS_VALID(o, wc_engine_opts) ||
	    !WC_OPTS_VALID(ao, wc_attach_opts) ||
	    !WC_OPTS_VALID(WC_OPTS_GET(o, filter, NULL), wc_filter_opts)) {
		errno = EINVAL;
		return NULL;
	}
	err = wc_kernel_check();
	if (err) {
		errno = -err;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->stop_efd = -1;
	e->xsync.outer = e->xsync.inner = -1;
	e->link.nl_fd = -1;
	pthread_mutex_init(&e->link.lock, NULL);
	pthread_mutex_init(&e->stats_lock, NULL);
	for (unsigned i = 0; i < WC_MAX_FENCES; i++)
		pthread_mutex_init(&e->fences[i].lock, NULL);
	e->ifc = wc_iface__open(ifname, pin_root);
	if (!e->ifc && errno == ENOENT) {
		WC_OPTS(wc_attach_opts, def);

		/* the caller's options (as far as its struct goes), held by a
		 * BPF link: the attachment dies with the engine, even killed */
		if (ao)
			memcpy(&def, ao,
			       ao->sz < sizeof(def) ? ao->sz : sizeof(def));
		def.sz = sizeof(def);
		def.transient = true;
		/* the engine's own geometry, when asked, over attach's */
		if (WC_OPTS_GET(o, queues, 0))
			def.queues = o->queues;
		if (WC_OPTS_GET(o, workers, 0))
			def.workers = o->workers;
		if (WC_OPTS_GET(o, buckets, 0))
			def.buckets = o->buckets;
		if (pin_root && !def.pin_root)
			def.pin_root = pin_root;
		err = umem_early(e, ifname, o, &def);
		if (err)
			goto fail;
		e->ifc = wc_iface__attach(ifname, &def);
		e->own_attach = e->ifc != NULL;
	}
	if (!e->ifc) {
		err = -errno;
		goto fail;
	}
	err = geometry_check(e->ifc, o, ao);
	if (err)
		goto fail;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	e->ifindex = e->ifc->ifindex;
	if (e->umem && e->nq != e->ifc->cfg.queues)
		umem_drop(e);
	e->nq = e->ifc->cfg.queues;
	e->nw = e->ifc->cfg.workers;
	e->zc_capable = zc_capable(e->ifindex);
	e->buckets = e->ifc->cfg.buckets;
	err = engine_claim(e);
	if (err)
		goto fail;
	if (WC_OPTS_GET(o, filter, NULL)) {
		/* before any socket: every packet the engine accounts for
		 * was judged by it */
		err = wc_filter_save(e->ifc, &e->prev_filter);
		if (!err)
			err = wc_iface__set_filter(e->ifc, o->filter);
		if (err) {
			if (e->prev_filter.fd >= 0)
				close(e->prev_filter.fd);
			goto fail;
		}
		e->own_filter = true;
	}
	e->wait = WC_OPTS_GET(o, wait, WC_WAIT_CHUNK);
	e->chunk_timeout_us = WC_OPTS_GET(o, chunk_timeout_us, 0);
	if (!e->chunk_timeout_us)
		e->chunk_timeout_us = 1000;
	e->busy_budget = WC_OPTS_GET(o, busy_poll_budget, 0);
	if (!e->busy_budget)
		e->busy_budget = 64;
	if (!e->umem) {
		err = umem_setup(e, o);
		if (err)
			goto fail;
	}
	e->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	wc_xdpsync__open(&e->xsync);
	if (!e->pools)
		pools_new(e);
	e->workers = calloc(e->nw, sizeof(*e->workers));
	if (e->stop_efd < 0 || !e->pools || !e->workers) {
		err = -ENOMEM;
		goto fail;
	}
	for (unsigned w = 0; w < e->nw; w++) {
		struct wc_worker *wk = &e->workers[w];

		wk->e = e;
		wk->idx = w;
		atomic_store(&wk->cpu, -1);
		wk->socks = calloc(e->nq, sizeof(*wk->socks));
		for (unsigned q = 0; wk->socks && q < e->nq; q++)
			wk->socks[q].fd = -1;
		wk->wake_efd = -1;
		wk->qpackets = calloc(e->nq, sizeof(*wk->qpackets));
		wk->qbytes = calloc(e->nq, sizeof(*wk->qbytes));
		wk->hold =
			calloc((size_t)e->nq * e->buckets, sizeof(*wk->hold));
		wk->divert =
			calloc((size_t)e->nq * e->buckets, sizeof(*wk->divert));
		wk->divbuf = calloc(e->chunk_size, sizeof(*wk->divbuf));
		wk->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!wk->socks || !wk->qpackets || !wk->qbytes || !wk->hold ||
		    !wk->divert || !wk->divbuf || wk->wake_efd < 0) {
			err = -ENOMEM;
			goto fail;
		}
		for (unsigned q = 0; q < e->nq; q++) {
			wk->socks[q].fd = -1;
			wk->socks[q].queue = q;
		}
	}
	err = wc_cancelled(cancel) ?
		      -EINTR :
		      sockets_setup(e, WC_OPTS_GET(o, bind, WC_BIND_AUTO));
	if (err) {
		if (err == -EINTR)
			; /* cancelled: the caller knows */
		else if (err == -EBUSY)
			pr_warn("%s: a queue is busy: another AF_XDP socket (another capture?) is bound to it\n",
				ifname);
		else if (err == -ETIMEDOUT)
			err = -EBUSY; /* wc_xsk_bind said why */
		else if ((err == -ENOMEM || err == -ENOBUFS) &&
			 !wc_kernel_has(WC_KF_RING_VMALLOC))
			/* before 6.3 the kernel allocates each ring as one
			 * physically contiguous block (a 262144-entry RX ring
			 * is an order-10 allocation): fragmentation fails it */
			pr_warn("%s: cannot set up the sockets: %s (rings of %u entries: kernels before 6.3 need each ring physically contiguous; try an rx_ring_size of 32768 or a smaller pool)\n",
				ifname, strerror(-err), e->rx_size);
		else if (err == -ENOMEM || err == -ENOBUFS)
			pr_warn("%s: cannot set up the sockets: %s (rings of %u entries, %zu MiB UMEM)\n",
				ifname, strerror(-err), e->rx_size,
				e->umem_len >> 20);
		else if (err == -EOPNOTSUPP &&
			 WC_OPTS_GET(o, bind, WC_BIND_AUTO) == WC_BIND_ZEROCOPY)
			pr_warn("%s: the driver has no zero-copy AF_XDP: bind WC_BIND_AUTO (falls back to copy mode) or WC_BIND_COPY\n",
				ifname);
		else
			pr_warn("%s: cannot set up AF_XDP sockets: %s\n",
				ifname, strerror(-err));
		goto fail;
	}
	/* every page is in by now */
	wc_populate_end(e->populate, false);
	e->populate = NULL;
	if (e->umem_owner)
		e->umem_owner->umem_guest = e;
	for (unsigned q = 0; q < e->nq; q++) {
		if (e->pools[q].filled)
			continue; /* by early_thread() */
		err = wc_cancelled(cancel) ? -EINTR :
					     wc_pool_fill(e, &e->pools[q]);
		if (err)
			goto fail;
	}
	if (e->wait == WC_WAIT_BUSY_POLL && !wc_kernel_has(WC_KF_BUSY_POLL)) {
		char rel[65];

		wc_kver(rel, sizeof(rel));
		pr_info("busy poll needs Linux 5.11 (SO_PREFER_BUSY_POLL), this is %s: spinning on the rings without it\n",
			rel);
	} else if (e->wait == WC_WAIT_BUSY_POLL) {
		for (unsigned w = 0; w < e->nw; w++)
			for (unsigned q = 0; q < e->nq; q++) {
				int fd = e->workers[w].socks[q].fd;

				err = wc_xsk_busy_poll(fd, 20, e->busy_budget);
				if (err)
					pr_info("busy poll options refused (%s): spinning without them\n",
						strerror(-err));
			}
	}
	err = wc_cancelled(cancel) ? -EINTR : wc_admit_open(e, o);
	if (err)
		goto fail;
	err = wc_cancelled(cancel) ? -EINTR : sockets_plug(e);
	if (err) {
		if (err != -EINTR)
			pr_warn("%s: cannot plug the sockets into the XSKMAP: %s\n",
				ifname, strerror(-err));
		goto fail;
	}
	wc_refresh_rt_off(e);
	e->start_ns = wc_now_real();
	err = wc_monitor_start(e);
	if (err)
		goto fail;
	pr_info("%s: engine up: %u queues x %u workers, %s mode, pool %u x %u frames of %u B per queue, %s, rx rings %u, %s\n",
		ifname, e->nq, e->nw,
		e->bind_mode == WC_BIND_ZEROCOPY ? "zero-copy" : "copy",
		e->chunks, e->chunk_size, e->frame_size,
		e->umem_per_queue ? "a UMEM per queue" : "one UMEM", e->rx_size,
		e->huge == WC_PAGES_HUGETLB ? "huge pages" :
		e->huge == WC_PAGES_THP	    ? "transparent huge pages" :
					      "normal pages");
	return e;
fail:
	if (e->ifc) {
		/* sockets go first: they drop out of the XSKMAP */
		struct wc_iface *ifc = e->ifc;
		bool own = e->own_attach;

		wc_admit_close(e);
		if (e->own_filter && !own)
			wc_filter_restore(ifc, &e->prev_filter);
		e->ifc = NULL;
		engine_free(e);
		if (own)
			wc_iface__detach(ifc);
		else
			wc_iface__close(ifc);
	} else {
		engine_free(e);
	}
	errno = -err;
	return NULL;
}

WC_API void wc_engine__close(struct wc_engine *e)
{
	struct wc_iface *ifc;
	bool own;

	if (!e)
		return;
	wc_engine__stop(e);
	wc_monitor_stop(e);
	wc_engine_publish(e);
	{
		/* the engine is gone: clear its pid so `wirecap stats` knows */
		int fd = wc_iface__map_fd(e->ifc, WC_MAP_ENGINE);
		struct wc_engine_info info;
		__u32 zero = 0;

		if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &info)) {
			info.pid = 0;
			bpf_map_update_elem(fd, &zero, &info, BPF_ANY);
		}
	}
	wc_admit_close(e);
	ifc = e->ifc;
	own = e->own_attach;
	if (e->own_filter && !own)
		wc_filter_restore(ifc, &e->prev_filter);
	e->ifc = NULL;
	engine_free(e);
	if (own)
		wc_iface__detach(ifc);
	else
		wc_iface__close(ifc);
}

WC_API struct wc_iface *wc_engine__iface(struct wc_engine *e)
{
	return e ? e->ifc : NULL;
}

WC_API unsigned wc_engine__queues(const struct wc_engine *e)
{
	return e ? e->nq : 0;
}

WC_API unsigned wc_engine__workers(const struct wc_engine *e)
{
	return e ? e->nw : 0;
}

WC_API struct wc_worker *wc_engine__worker(struct wc_engine *e, unsigned idx)
{
	if (!e || idx >= e->nw) {
		errno = EINVAL;
		return NULL;
	}
	return &e->workers[idx];
}

WC_API unsigned wc_worker__index(const struct wc_worker *w)
{
	return w ? w->idx : 0;
}
