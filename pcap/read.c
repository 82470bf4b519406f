// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Packets from the engine's workers to the application's callbacks.
 *
 * Hand-off. Every worker (a thread of the engine) hands each chunk it
 * captured to the handle: one lock per chunk, no copy. The application's
 * thread (pcap_loop, pcap_dispatch, pcap_next_ex) takes the chunks and
 * calls back with a pointer into the UMEM frame; a chunk goes back to its
 * pool once its last packet's callback returned (pcap_next_ex: at the next
 * call, as libpcap documents the data valid until then).
 *
 * Order. A flow stays on one worker between buddy-group moves, and the
 * chunks are taken in the order the workers handed them over, so each
 * flow's packets come in order (a move's fence makes the new owner hand
 * over after the old one). Across queues the packets come in time order:
 * each (worker, rx queue) is a source whose packets are in time order, and
 * the next packet handed out is the oldest of the sources' next packets,
 * once no source without a packet may still have an older one: its
 * worker found its rings empty after that time (a partial chunk or an
 * idle wait, minus a 2 ms margin for a frame stamped by XDP and not yet in
 * its ring), or the packet waited for --reorder-ms (default 250). Sources
 * of a busy worker that had no packet within that window (in queue
 * steering a worker never sees the other workers' queues) hold nothing
 * up; an idle worker (none of its sources had a packet within the window,
 * or none ever) holds up until its watermark passes, a few ms. A packet
 * released by the window, or overtaken by a source that woke up while its
 * worker was busy (a bucket moved there), counts as late. Zero-copy
 * means the merge holds frames, not copies: a window of traffic stays in
 * the pools. --reorder-ms 0 (or more than 64 sources) hands packets out in
 * hand-over order, without waiting.
 *
 * Wake-ups. The eventfd is the selectable fd: a worker writes it when it
 * hands a chunk to an empty hand-off, when the merge waits for it
 * (blocked), and at the end; the reader drains it only before it sleeps,
 * and writes it again when it returns with packets left (a select() loop
 * such as dumpcap's comes back for them).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wcpcap.h"

#define MARGIN_NS 2000000ull
#define MERGE_MAX_SOURCES 64

enum { GOT, EMPTY, WAIT };

static uint64_t now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void wake(struct wcp *h)
{
	uint64_t one = 1;

	if (write(h->efd, &one, sizeof(one)) < 0) {
		/* the counter is full: it is readable anyway */
	}
}

static void drain_efd(struct wcp *h)
{
	uint64_t v;

	if (read(h->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled */
	}
}

int wcp_read_init(struct wcp *h)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	unsigned nsrc;

	if (wc_engine__info(h->e, &ei))
		return -EIO;
	h->chunk_size = ei.chunk_size;
	h->nq = wc_engine__queues(h->e);
	nsrc = h->nw * h->nq;
	if (h->opts.reorder_ms && nsrc > 1 && nsrc <= MERGE_MAX_SOURCES) {
		h->nsrc = nsrc;
		h->reorder_ns = h->opts.reorder_ms * 1000000ull;
	} else {
		h->nsrc = 1;
	}
	h->empty_ns = calloc(h->nw, sizeof(*h->empty_ns));
	h->wm = calloc(h->nw, sizeof(*h->wm));
	h->wlast = calloc(h->nw, sizeof(*h->wlast));
	h->src = calloc(h->nsrc, sizeof(*h->src));
	h->fifo.cap = 1024;
	h->fifo.ring = calloc(h->fifo.cap, sizeof(*h->fifo.ring));
	if (!h->empty_ns || !h->wm || !h->wlast || !h->src || !h->fifo.ring)
		return -ENOMEM;
	return 0;
}

/* ---- the workers' side ------------------------------------------------------- */

/* grow the ring (under its lock), keeping the order */
static int fifo_grow(struct wcp_fifo *f)
{
	unsigned cap = f->cap * 2;
	struct wc_chunk **r = calloc(cap, sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (unsigned i = 0; i < f->len; i++)
		r[i] = f->ring[(f->head + i) % f->cap];
	free(f->ring);
	f->ring = r;
	f->cap = cap;
	f->head = 0;
	return 0;
}

void wcp_handover(struct wcp *h, struct wc_worker *w, struct wc_chunk *c)
{
	unsigned wi = wc_worker__index(w);
	bool was_empty = false;
	uint64_t d;

	if (c) {
		struct wcp_fifo *f = &h->fifo;

		pthread_mutex_lock(&f->lock);
		if (f->len == f->cap && fifo_grow(f)) {
			pthread_mutex_unlock(&f->lock);
			/* cannot keep it: its packets are lost, and counted
			 * (they were delivered, never given to the callback) */
			wc_chunk__recycle(c);
			return;
		}
		f->ring[(f->head + f->len++) % f->cap] = c;
		was_empty = f->len == 1;
		pthread_mutex_unlock(&f->lock);
	}
	/* when the worker last found its rings empty (taken before that
	 * look, not now: a worker preempted after it may hold older packets
	 * in its rings by now), after the chunk is in the hand-off */
	d = wc_worker__drained_ns(w);
	if (d > MARGIN_NS)
		atomic_store_explicit(&h->empty_ns[wi], d - MARGIN_NS,
				      memory_order_release);
	/* Written under the lock, and only if the reader has not taken the
	 * chunk meanwhile or still waits for the watermark: a reader that
	 * returns with nothing clears both under the same lock (rearm), so
	 * the fd is never left readable with nothing to read. */
	if (was_empty ||
	    atomic_load_explicit(&h->blocked, memory_order_relaxed)) {
		pthread_mutex_lock(&h->fifo.lock);
		if ((was_empty && h->fifo.len) ||
		    atomic_exchange(&h->blocked, false))
			wake(h);
		pthread_mutex_unlock(&h->fifo.lock);
	}
}

void wcp_handover_end(struct wcp *h)
{
	atomic_store(&h->ended, true);
	wake(h);
}

/* ---- the application's side: entries ----------------------------------------- */

static struct wcp_ent *ent_at(struct wcp *h, uint64_t seq)
{
	return &h->ents[h->ents_off + (seq - h->base_seq)];
}

static uint64_t end_seq(const struct wcp *h)
{
	return h->base_seq + h->ents_len;
}

static int ents_push(struct wcp *h, struct wc_chunk *c)
{
	struct wcp_ent *e;

	if (h->ents_off + h->ents_len == h->ents_cap) {
		if (h->ents_off && h->ents_off >= h->ents_cap / 2) {
			memmove(h->ents, h->ents + h->ents_off,
				h->ents_len * sizeof(*h->ents));
			h->ents_off = 0;
		} else {
			unsigned cap = h->ents_cap ? h->ents_cap * 2 : 256;
			void *n = realloc(h->ents, cap * sizeof(*h->ents));

			if (!n)
				return -ENOMEM;
			h->ents = n;
			h->ents_cap = cap;
		}
	}
	e = &h->ents[h->ents_off + h->ents_len++];
	e->c = c;
	e->pkts = wc_chunk__pkts(c);
	e->n = e->left = wc_chunk__count(c);
	h->held_pkts += e->n;
	e->worker = wc_worker__index(wc_chunk__worker(c));
	return 0;
}

/* Take what the workers handed over. The watermarks are read first: a
 * chunk handed over before a watermark was set is then taken too. */
static void pull(struct wcp *h)
{
	struct wcp_fifo *f = &h->fifo;

	for (unsigned w = 0; w < h->nw; w++)
		h->wm[w] = atomic_load_explicit(&h->empty_ns[w],
						memory_order_acquire);
	pthread_mutex_lock(&f->lock);
	while (f->len && !ents_push(h, f->ring[f->head])) {
		f->head = (f->head + 1) % f->cap;
		f->len--;
	}
	pthread_mutex_unlock(&f->lock);
}

/* the last packet of entry @seq was consumed: its chunk goes back */
static void finish(struct wcp *h, uint64_t seq)
{
	struct wcp_ent *e = ent_at(h, seq);

	if (e->left || !e->c)
		return;
	wc_chunk__recycle(e->c);
	e->c = NULL;
	while (h->ents_len && !h->ents[h->ents_off].c) {
		h->ents_off++;
		h->ents_len--;
		h->base_seq++;
	}
	if (!h->ents_len)
		h->ents_off = 0;
}

/* ---- the application's side: the merge ---------------------------------------- */

/* the next packet of source @s, or NULL */
static struct wc_pkt *src_peek(struct wcp *h, unsigned s, uint64_t *seq)
{
	struct wcp_src *sr = &h->src[s];
	bool all = h->nsrc == 1;
	unsigned w = s / h->nq, q = s % h->nq;

	if (sr->seq < h->base_seq) {
		/* those entries went back: all their packets were consumed */
		sr->seq = h->base_seq;
		sr->idx = 0;
	}
	for (; sr->seq < end_seq(h); sr->seq++, sr->idx = 0) {
		struct wcp_ent *e = ent_at(h, sr->seq);

		if (!e->c || (!all && e->worker != w))
			continue;
		for (; sr->idx < e->n; sr->idx++) {
			struct wc_pkt *p = &e->pkts[sr->idx];

			if (all || p->queue % h->nq == q) {
				*seq = sr->seq;
				return p;
			}
		}
	}
	return NULL;
}

/* The next packet in time order (see the top of the file): GOT with *pp
 * and its entry (taken unless @peek), EMPTY, or WAIT (*wait_ns: until the
 * window ends) */
static int next_pkt(struct wcp *h, bool peek, struct wc_pkt **pp,
		    uint64_t *seqp, uint64_t *wait_ns)
{
	struct wc_pkt *best = NULL;
	uint64_t found = 0, seq, bseq = 0;
	unsigned bs = 0;

	for (unsigned s = 0; s < h->nsrc; s++) {
		struct wc_pkt *p = src_peek(h, s, &seq);

		if (!p)
			continue;
		found |= 1ull << s;
		if (!best || p->ts_ns < best->ts_ns) {
			best = p;
			bs = s;
			bseq = seq;
		}
	}
	if (!best)
		return EMPTY;
	if (h->reorder_ns) {
		uint64_t t = best->ts_ns, now = now_real();

		for (unsigned s = 0; s < h->nsrc && now < t + h->reorder_ns;
		     s++) {
			const struct wcp_src *o = &h->src[s];
			unsigned w = s / h->nq;
			bool src_active =
				o->last_ts && o->last_ts + h->reorder_ns > t;
			bool worker_active =
				h->wlast[w] && h->wlast[w] + h->reorder_ns > t;

			if (!(found & (1ull << s)) && h->wm[w] < t &&
			    (src_active || !worker_active)) {
				*wait_ns = t + h->reorder_ns - now;
				return WAIT;
			}
		}
	}
	if (peek)
		return GOT;
	if (best->ts_ns < h->last_ts)
		h->late++;
	else
		h->last_ts = best->ts_ns;
	h->src[bs].idx++;
	h->held_pkts--;
	h->src[bs].last_ts = best->ts_ns;
	h->wlast[bs / h->nq] = best->ts_ns;
	ent_at(h, bseq)->left--;
	*pp = best;
	*seqp = bseq;
	return GOT;
}

/* ---- pcap_loop, pcap_dispatch, pcap_next_ex ------------------------------------ */

static bool has_packets(const struct wcp *h)
{
	return h->held_pkts > 0;
}

static void finish_pending(struct wcp *h)
{
	if (h->pending) {
		h->pending = false;
		finish(h, h->pending_seq);
	}
}

/* Returning to the caller: the fd is readable exactly when the next call
 * has something. Packets left: it is (a select() loop comes back for
 * them). None: the merge waits for nothing, a wake-up for what was
 * already taken is drained (under the workers' lock: see wcp_handover),
 * and what was handed over meanwhile taken (a hand-over after that writes
 * the fd again). Otherwise a poll() loop that then blocks in
 * pcap_dispatch with no timeout (softflowd) would sleep there until the
 * next packet, its other fds and signals unserved. */
static void rearm(struct wcp *h)
{
	if (!has_packets(h)) {
		pthread_mutex_lock(&h->fifo.lock);
		atomic_store(&h->blocked, false);
		drain_efd(h);
		pthread_mutex_unlock(&h->fifo.lock);
		pull(h);
	}
	if (has_packets(h))
		wake(h);
}

static int ended(struct wcp *h)
{
	if (h->run_err && h->run_err != -EINTR) {
		wcp_err(h, "%s: capture stopped: %s", h->ifname,
			h->run_err == -ENETDOWN ? "the interface went away" :
			h->run_err == -ENOLINK ? "the XDP program was removed" :
						 strerror(-h->run_err));
		return PCAP_ERROR;
	}
	wcp_err(h, "%s: the capture engine stopped", h->ifname);
	return PCAP_ERROR;
}

/* try harder before sleeping: what was handed over meanwhile */
static int next_or_pull(struct wcp *h, struct wc_pkt **p, uint64_t *seq,
			uint64_t *wait_ns)
{
	int r = next_pkt(h, false, p, seq, wait_ns);

	if (r == GOT)
		return r;
	pull(h);
	return next_pkt(h, false, p, seq, wait_ns);
}

/*
 * The reader behind pcap_loop (@loop), pcap_dispatch and pcap_next_ex
 * (@defer: the packet's chunk goes back at the next call). Returns the
 * packets given to @cb, 0 on a timeout (not @loop), PCAP_ERROR_BREAK, or
 * PCAP_ERROR.
 */
static int read_core(struct wcp *h, int cnt, pcap_handler cb, u_char *user,
		     bool loop, bool defer)
{
	uint64_t deadline = 0;
	int n = 0;

	if (!h->activated) {
		wcp_err(h, "this handle has not been activated");
		return PCAP_ERROR_NOT_ACTIVATED;
	}
	finish_pending(h);
	if (!loop && h->timeout_ms > 0)
		deadline = now_mono_ms() + h->timeout_ms;
	for (;;) {
		struct wc_pkt *p;
		uint64_t seq, wait_ns = 0;
		int r, tmo;

		if (atomic_load_explicit(&h->brk, memory_order_relaxed)) {
			if (n && !loop)
				return rearm(h), n;
			atomic_store(&h->brk, false);
			return rearm(h), PCAP_ERROR_BREAK;
		}
		r = next_or_pull(h, &p, &seq, &wait_ns);
		if (r == GOT) {
			struct pcap_pkthdr *hd = &h->hdr;
			uint64_t sub = p->ts_ns % 1000000000ull;

			hd->ts.tv_sec = p->ts_ns / 1000000000ull;
			hd->ts.tv_usec =
				h->precision == PCAP_TSTAMP_PRECISION_NANO ?
					sub :
					sub / 1000;
			hd->len = p->len;
			hd->caplen = p->len < (__u32)h->snaplen ?
					     p->len :
					     (__u32)h->snaplen;
			if (h->have_filter &&
			    !pcap_offline_filter(&h->prog, hd, p->data)) {
				h->filtered++;
				finish(h, seq);
				continue;
			}
			h->accepted++;
			n++;
			cb(user, hd, p->data);
			if (defer) {
				h->pending = true;
				h->pending_seq = seq;
			} else {
				finish(h, seq);
			}
			if (cnt > 0 && n >= cnt)
				return rearm(h), n;
			continue;
		}
		/* packets held for the merge: the workers write the fd when
		 * their watermark moves */
		if (r == WAIT)
			atomic_store(&h->blocked, true);
		if (n && !loop) {
			/* held for the merge: the workers write the fd */
			if (r == EMPTY)
				rearm(h);
			return n;
		}
		if (r == EMPTY && atomic_load(&h->ended)) {
			pull(h);
			if (next_pkt(h, true, &p, &seq, &wait_ns) == EMPTY)
				return ended(h);
			continue;
		}
		/* before sleeping (or telling a non-blocking caller to): drain
		 * the fd, then look once more (a hand-over after the look
		 * writes it again), so that the fd is readable exactly when
		 * there is something to do */
		drain_efd(h);
		pull(h);
		r = next_pkt(h, true, &p, &seq, &wait_ns);
		if (r == GOT)
			continue;
		if (r == WAIT)
			atomic_store(&h->blocked, true);
		if (h->nonblock)
			return 0;
		tmo = -1;
		if (deadline) {
			uint64_t now = now_mono_ms();

			if (now >= deadline)
				return 0;
			tmo = deadline - now;
		}
		if (r == WAIT) {
			int w = wait_ns / 1000000 + 1;

			if (tmo < 0 || w < tmo)
				tmo = w;
		}
		{
			struct pollfd pfd = { .fd = h->efd, .events = POLLIN };

			if (poll(&pfd, 1, tmo) < 0 && errno != EINTR) {
				wcp_err(h, "poll: %s", strerror(errno));
				return PCAP_ERROR;
			}
		}
	}
}

int wcp_dispatch(struct wcp *h, int cnt, pcap_handler cb, u_char *user,
		 bool loop)
{
	int r;

	if (!loop)
		return read_core(h, cnt, cb, user, false, false);
	/* pcap_loop: until cnt packets (cnt <= 0: forever), a break or an
	 * error; 0 when cnt was reached */
	for (int done = 0;;) {
		r = read_core(h, cnt > 0 ? cnt - done : -1, cb, user, true,
			      false);
		if (r < 0)
			return r;
		done += r;
		if (cnt > 0 && done >= cnt)
			return 0;
	}
}

struct one {
	struct pcap_pkthdr *hdr;
	const u_char *data;
};

static void take_one(u_char *user, const struct pcap_pkthdr *hdr,
		     const u_char *data)
{
	struct one *o = (struct one *)user;

	o->hdr = (struct pcap_pkthdr *)hdr;
	o->data = data;
}

int wcp_next_ex(struct wcp *h, struct pcap_pkthdr **hdr, const u_char **data)
{
	struct one o = { 0 };
	int r = read_core(h, 1, take_one, (u_char *)&o, false, true);

	if (r <= 0)
		return r;
	*hdr = o.hdr;
	*data = o.data;
	return 1;
}

void wcp_breakloop(struct wcp *h)
{
	/* async-signal-safe: an atomic store and a write(2) */
	atomic_store(&h->brk, true);
	if (h->efd >= 0)
		wake(h);
}

void wcp_read_free(struct wcp *h)
{
	struct wcp_fifo *f = &h->fifo;

	/* the workers stopped: every chunk still held goes back */
	for (unsigned i = 0; i < h->ents_len; i++)
		if (h->ents[h->ents_off + i].c)
			wc_chunk__recycle(h->ents[h->ents_off + i].c);
	for (; f->ring && f->len; f->len--, f->head = (f->head + 1) % f->cap)
		wc_chunk__recycle(f->ring[f->head]);
	free(h->ents);
	free(f->ring);
	free(h->src);
	free(h->wm);
	free(h->wlast);
	free((void *)h->empty_ns);
	pthread_mutex_destroy(&f->lock);
}
