// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture: a worker's gather of its rx rings into a chunk (descriptors
 * only, no copy), the wait for packets (poll, busy poll, chunk timeout),
 * the capture call, and the stop: the sockets leave the XSKMAP, what was
 * queued is drained, then -EINTR. Bucket moves under way are the fences'
 * business (fence.c): the gather hands them the packets of a moving
 * bucket. See docs/pool.md.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "fence.h"
#include "pool.h"
#include "rx.h"
#include "xsk.h"

void wc_refresh_rt_off(struct wc_engine *e)
{
	/* bracket REALTIME by two MONOTONIC reads: the offset is good to half
	 * the bracket. A preemption inside it (a loaded machine, a VM's vCPU
	 * descheduled) would shift every timestamp until the next refresh,
	 * so keep the narrowest of a few tries (2 us, a microsecond either
	 * way, ends them early). */
	__u64 best = UINT64_MAX;
	__s64 off = 0;

	for (int i = 0; i < 4 && best > 2000; i++) {
		__u64 m1 = wc_now_mono(), r = wc_now_real(), m2 = wc_now_mono();

		if (m2 - m1 < best) {
			best = m2 - m1;
			off = (__s64)r - (__s64)((m1 + m2) / 2);
		}
	}
	atomic_store(&e->rt_off, off);
}

/* Every descriptor the kernel posted to the ring has been taken. A peek
 * that returns fewer than asked does not tell: it reads the producer only
 * once its cached view is used up, so it may hand out the rest of an old
 * view while the kernel has posted more since. */
static bool ring_drained(struct xsk_ring_cons *r)
{
	return __atomic_load_n(r->producer, __ATOMIC_ACQUIRE) == r->cached_cons;
}

static bool moving(struct wc_worker *w)
{
	return atomic_load_explicit(&w->nholds, memory_order_acquire) ||
	       atomic_load_explicit(&w->ndiverts, memory_order_acquire) ||
	       atomic_load_explicit(&w->parked, memory_order_acquire);
}

/* Move what the worker's RX rings hold (up to the chunk's room) into the
 * chunk. Descriptors only: no packet is copied. When the gather visited
 * every ring and left them all empty, everything posted before it began
 * was taken: that time is the worker's drained_ns
 * (wc_worker__drained_ns()). */
void wc_gather(struct wc_worker *w, struct wc_chunk *c)
{
	struct wc_engine *e = w->e;
	const size_t msz = sizeof(struct wc_meta);
	__s64 off = atomic_load_explicit(&e->rt_off, memory_order_relaxed);
	const bool meta = e->ifc->cfg.meta_enabled;
	__u64 now = 0, look = wc_now_mono();
	/* a move under way (at the look or after the gather) leaves
	 * drained_ns where it was: packets of the moved bucket stamped before
	 * the look may still be parked here or on their way */
	const bool quiet = !moving(w);
	unsigned i;

	if (atomic_load_explicit(&w->nholds, memory_order_acquire))
		wc_fenced_deliver(e, w, c, off, &now);
	for (i = 0; i < e->nq && c->n < e->chunk_size; i++) {
		unsigned q = (w->rr + i) % e->nq, start = c->n, ndiv = 0;
		struct wc_sock *s = &w->socks[q];
		/* the ring's addresses are in the queue's UMEM; from here
		 * on, offsets in the engine's memory */
		const __u64 uoff = e->pools[q].umem_off;
		bool holds, diverts;
		__u32 idx, n;

		n = xsk_ring_cons__peek(&s->rx, e->chunk_size - c->n, &idx);
		if (!n)
			continue;
		/* after the peek (its acquire): a packet steered by a move
		 * finds the move's hold already visible */
		holds = atomic_load_explicit(&w->nholds, memory_order_acquire) >
			0;
		diverts = atomic_load_explicit(&w->ndiverts,
					       memory_order_acquire) > 0;
		/* the metadata lies in the packet's frame: one cache miss per
		 * packet, taken in parallel rather than one after the other */
		for (__u32 k = 0; k < n; k++)
			__builtin_prefetch(
				(char *)e->umem + uoff +
				xsk_ring_cons__rx_desc(&s->rx, idx + k)->addr);
		for (__u32 k = 0; k < n; k++) {
			struct xdp_desc nd =
				*xsk_ring_cons__rx_desc(&s->rx, idx + k);
			const struct xdp_desc *d = &nd;
			const struct wc_meta *m;

			nd.addr += uoff;
			/* the XDP program put the metadata in front of the
			 * packet, inside the received data: from here on the
			 * descriptor names the packet, the metadata lies just
			 * before it (bpf/wirecap.bpf.c) */
			if (meta && nd.len >= msz) {
				nd.addr += msz;
				nd.len -= msz;
			}
			m = (const void *)((char *)e->umem + d->addr - msz);

			/* moves in progress: only then look at the bucket */
			if ((holds || diverts) && e->ifc->cfg.meta_enabled &&
			    (d->addr & (e->frame_size - 1)) >= msz &&
			    m->queue == q && m->worker == w->idx &&
			    m->bucket < e->buckets &&
			    wc_fence_take(e, w, q, m->bucket, d, holds, diverts,
					  &ndiv))
				continue;
			wc_chunk_add(e, w, c, q, d->addr, d->len, off, &now);
		}
		/* diverted packets reach the hand-off before the consumer moves:
		 * a release seen by the new owner means all of them are there */
		if (ndiv)
			wc_divert_flush(e, w, c, ndiv, q, off, &now);
		xsk_ring_cons__release(&s->rx, n);
		wc_chunk_seg_close(c, q, start);
		if (c->n > start)
			wc_chunk_account(e, w, c, q, start);
	}
	if (i == e->nq && quiet && !moving(w)) {
		for (i = 0; i < e->nq && ring_drained(&w->socks[i].rx); i++)
			;
		if (i == e->nq)
			atomic_store_explicit(&w->drained_ns,
					      (__u64)((__s64)look + off),
					      memory_order_release);
	}
	wc_fences_check(e, w);
	w->rr = (w->rr + 1) % e->nq;
}

static void busy_poll_kick(struct wc_worker *w)
{
	/* drives NAPI from this thread (SO_PREFER_BUSY_POLL) */
	for (unsigned q = 0; q < w->e->nq; q++)
		recvfrom(w->socks[q].fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Sleep until a socket is readable, stop, or timeout; -ENETDOWN on a
 * socket error (device gone). */
static int wait_readable(struct wc_worker *w, int timeout_ms)
{
	struct wc_engine *e = w->e;
	struct pollfd pfd[WC_MAX_QUEUES + 2];
	int n;

	for (unsigned q = 0; q < e->nq; q++) {
		pfd[q].fd = w->socks[q].fd;
		pfd[q].events = POLLIN;
		pfd[q].revents = 0;
	}
	pfd[e->nq].fd = e->stop_efd;
	pfd[e->nq].events = POLLIN;
	pfd[e->nq].revents = 0;
	pfd[e->nq + 1].fd = w->wake_efd;
	pfd[e->nq + 1].events = POLLIN;
	pfd[e->nq + 1].revents = 0;
	n = poll(pfd, e->nq + 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd[e->nq + 1].revents & POLLIN) {
		__u64 v;

		if (read(w->wake_efd, &v, sizeof(v)) < 0) {
			/* nothing pending: fine */
		}
	}
	for (unsigned q = 0; q < e->nq && n > 0; q++)
		if (pfd[q].revents & (POLLERR | POLLHUP | POLLNVAL))
			return -ENETDOWN;
	return 0;
}

static void sleep_us(__u64 us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Every frame the program redirected to queue q (since the plug) is in a
 * ring or was dropped by its socket: the program counts a redirect before
 * the frame reaches the socket, and deleting the XSKMAP entries does not
 * wait for NAPI polls that already looked a socket up. */
static bool queue_landed(struct wc_engine *e, unsigned q)
{
	struct wc_iface_queue_stats a = { .sz = sizeof(a) },
				    b = { .sz = sizeof(b) };
	__u32 landed = 0;

	if (wc_engine__queue_stats(e, q, &a))
		return true; /* cannot tell: do not hold the stop */
	for (unsigned w = 0; w < e->nw; w++) {
		struct wc_sock *s = &e->workers[w].socks[q];
		struct xdp_statistics st;

		/* the producer counts every descriptor posted since bind */
		landed += __atomic_load_n(s->rx.producer, __ATOMIC_ACQUIRE);
		if (!wc_xsk_stats(s->fd, &st))
			landed += (__u32)(st.rx_dropped + st.rx_ring_full);
	}
	if (wc_engine__queue_stats(e, q, &b))
		return true;
	return a.redirected == b.redirected && (__u32)b.redirected == landed;
}

/* After stop: take the sockets out of the XSKMAP so no new packet is
 * steered to them, and give redirects already under way time to land
 * (they are flushed at the end of the NAPI poll that made them). The
 * workers then drain their rings: a stop loses nothing that was queued. */
void wc_engine_unplug(struct wc_engine *e)
{
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_XSKS);

	if (atomic_exchange(&e->unplugged, 1)) {
		for (int i = 0; i < 1000 && !atomic_load(&e->unplug_done); i++)
			sleep_us(1000);
		return;
	}
	for (__u32 k = 0; fd >= 0 && k < e->nq * e->nw; k++)
		bpf_map_delete_elem(fd, &k);
	/* every XDP run that could still use a socket has ended (xdpsync.c);
	 * then until what is in flight has landed, bounded (where the kernel
	 * could not be asked, a stalled NAPI): what lands later shows as
	 * unaccounted */
	wc_xdpsync__wait(&e->xsync, 2000);
	for (int i = 0; i < 500; i++) {
		unsigned q;

		for (q = 0; q < e->nq && queue_landed(e, q); q++)
			;
		if (q == e->nq)
			break;
		sleep_us(2000);
	}
	/* nothing new arrives: parked packets may go (order across workers
	 * is best effort from here on) */
	wc_fences_force_release(e);
	atomic_store(&e->unplug_done, 1);
}

WC_API int wc_worker__capture(struct wc_worker *w, struct wc_chunk **chunk,
			      int timeout_ms)
{
	struct wc_engine *e;
	struct wc_chunk *c;
	__u64 start, deadline, first = 0, tmo_ns;
	int err = 0;

	if (!w || !chunk)
		return -EINVAL;
	*chunk = NULL;
	e = w->e;
	c = wc_chunk_get(w);
	if (!c)
		return -ENOBUFS;
	atomic_fetch_add(&w->busy_seq, 1); /* odd: inside capture */
	start = wc_now_mono();
	atomic_store_explicit(&w->last_active_ns, start, memory_order_relaxed);
	deadline = timeout_ms < 0 ? UINT64_MAX :
				    start + (__u64)timeout_ms * 1000000ull;
	tmo_ns = (__u64)e->chunk_timeout_us * 1000;
	for (;;) {
		__u64 now;

		if (atomic_load_explicit(&e->stop, memory_order_relaxed)) {
			/* drain: what is queued is delivered, then -EINTR; a
			 * new owner still holding packets of a move waits for
			 * them (bounded) */
			wc_engine_unplug(e);
			wc_gather(w, c);
			if (c->n)
				break;
			if (atomic_load(&w->parked) &&
			    wc_now_mono() - start < 5000000000ull) {
				sleep_us(100);
				continue;
			}
			if (atomic_load(&w->parked))
				pr_warn("worker %u: %llu packets of a bucket move not delivered at stop\n",
					w->idx,
					(unsigned long long)atomic_load(
						&w->parked));
			err = -EINTR;
			break;
		}
		if (e->wait == WC_WAIT_BUSY_POLL)
			busy_poll_kick(w);
		atomic_store(&w->idle_seq, 0);
		wc_gather(w, c);
		if (c->n >= e->chunk_size)
			break;
		if (atomic_load_explicit(&e->dev_gone, memory_order_relaxed) &&
		    !c->n) {
			err = -ENETDOWN;
			break;
		}
		now = wc_now_mono();
		if (c->n) {
			if (!first)
				first = now;
			if (e->wait != WC_WAIT_CHUNK || now - first >= tmo_ns ||
			    now >= deadline)
				break;
			/* let the chunk fill: one sleep for the rest of the
			 * chunk timeout, not a wake-up per packet (the rings
			 * hold what comes meanwhile) */
			sleep_us((first + tmo_ns - now) / 1000 + 1);
			continue;
		}
		if (now >= deadline)
			break;
		if (e->wait == WC_WAIT_BUSY_POLL) {
			atomic_store(&w->idle_seq, atomic_load(&w->busy_seq));
			continue;
		}
		if (atomic_load(&w->parked)) {
			/* waiting for an old owner during a move: a short
			 * sleep, not a wake-up per parked packet */
			sleep_us(e->chunk_timeout_us / 8 + 1);
			continue;
		}
		/* nothing taken in this call: a new owner waiting for us may go */
		atomic_store(&w->idle_seq, atomic_load(&w->busy_seq));
		wc_fences_check(e, w);
		{
			__u64 left_ms =
				deadline == UINT64_MAX ?
					100 :
					(deadline - now + 999999) / 1000000;

			err = wait_readable(w,
					    left_ms > 100 ? 100 : (int)left_ms);
			if (err)
				break;
		}
	}
	atomic_store_explicit(&w->last_active_ns, wc_now_mono(),
			      memory_order_relaxed);
	atomic_fetch_add(&w->busy_seq, 1);
	if (!c->n) {
		c->next = w->free;
		w->free = c;
		return err;
	}
	atomic_fetch_add_explicit(&w->packets, c->n, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->chunks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->held_frames, c->n, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->held_chunks, 1, memory_order_relaxed);
	*chunk = c;
	return (int)c->n;
}

WC_API __u64 wc_worker__drained_ns(const struct wc_worker *w)
{
	return w ? atomic_load_explicit(&w->drained_ns, memory_order_acquire) :
		   0;
}

WC_API void wc_engine__stop(struct wc_engine *e)
{
	__u64 one = 1;

	if (!e)
		return;
	atomic_store(&e->stop, true);
	if (e->stop_efd >= 0 && write(e->stop_efd, &one, sizeof(one)) < 0) {
		/* counter saturated: already signalled */
	}
}

WC_API bool wc_engine__stopped(const struct wc_engine *e)
{
	return e && atomic_load(&e->stop);
}
