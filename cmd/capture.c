// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap capture: tcpdump-style capture to pcapng.
 *
 * Data path. Workers (wc_engine__run, one thread per engine worker) get
 * whole chunks. Per chunk, without any lock, a worker runs the optional
 * libpcap filter over its packets (pcap_offline_filter: the compiled
 * program is read-only, so threads share it) and, with -c, reserves its
 * share of the remaining count with one atomic add. It then hands the chunk
 * to the single pcapng writer: it takes the writer's mutex once for the
 * chunk and copies the chunk's accepted packets into the writer's buffer
 * itself (the writer calls write(2) once per full 1 MiB buffer), then
 * recycles the chunk. No lock and no syscall per packet.
 *
 * A writer thread fed chunk pointers (recycling them after writing) was
 * measured against this on tmpfs (2 CPUs, veth, 1M packets of 66 B queued
 * in the pools while the capture was stopped, then drained and written):
 * workers writing under the lock drained at 1.7-5.1 Mpps (typically ~4),
 * the writer thread at 2.1-4.4 Mpps (typically ~3) and took more CPU
 * (13-26 vs 12-19 ticks per million packets): on few cores the extra
 * thread competes with the workers and the kernel's receive path. Both
 * are far above what this machine receives (~1 Mpps), so the writer is
 * not the bottleneck; the simpler, faster one is kept.
 *
 * Time order. With more than one socket (rx queues x workers) the chunks
 * reach the writer in hand-over order, not in time order. Under the same
 * lock the worker then copies its accepted packets into the merge
 * (util/reorder.c) instead of the file buffer, tells it how far each
 * of its sockets has come (every packet's timestamp, filtered ones too;
 * and the start of its last look that found all its rings empty,
 * wc_worker__drained_ns(), less a margin for a frame stamped by XDP and not
 * yet in its ring), and writes what the merge releases. One copy more per
 * packet, no syscall.
 *
 * Accounting: every packet delivered by the engine goes through exactly one
 * worker callback and ends in exactly one of written, filtered (rejected by
 * the filter), not_written (after -c was reached, or after a write error
 * stopped the capture) or lost_write_error (accepted by the writer but cut
 * off by the write error): delivered = written + filtered + not_written +
 * lost_write_error.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "pcapng.h"
#include "filter_args.h"
#include "report.h"
#include "json.h"
#include "setup.h"
#include "clock.h"
#include "reorder.h"
#include "params.h"

#define IDLE_MS 50
/* the time order: how long a packet may wait for the other sockets, and
 * how far behind "now" a socket found empty may still hand over a packet
 * (XDP stamps a frame before the NAPI poll makes it visible in the ring) */
#define REORDER_MS_DEFAULT 250
#define REORDER_MARGIN_NS 2000000ull
_Static_assert(REORDER_MS_DEFAULT == 250, "capture --help names it");

/* per-worker counters, one cache line each; only its worker adds to them
 * (relaxed atomics so the ISB callback can read them live) */
struct wcount {
	_Atomic uint64_t accepted; /* passed the filter */
	_Atomic uint64_t filtered; /* rejected by the filter */
	_Atomic uint64_t not_written; /* after -c / after a write error */
	_Atomic uint64_t snapped; /* written truncated by -s */
	_Atomic uint64_t handed; /* given to the writer */
} __attribute__((aligned(64)));

struct cap {
	struct wc_engine *e;
	const char *ifname;
	const char *path;
	struct wc_pcapng *pw;
	pthread_mutex_t wlock; /* the writer: taken once per chunk */
	uint32_t snaplen;

	struct bpf_program prog;
	bool have_filter;
	bool xdp_filter; /* the filter runs in XDP */

	uint64_t count; /* -c: write exactly this many (0: no limit) */
	_Atomic uint64_t reserved;
	uint64_t duration_ns;
	uint64_t start_ns;
	_Atomic uint64_t last_write_ns;

	atomic_bool nowrite; /* -c reached or write error: count the rest */
	_Atomic int werr; /* first write error (negative errno) */
	char werrmsg[512];

	struct wcount cnt[WC_MAX_WORKERS];

	/* merge by timestamp over the engine's sockets (NULL: one socket,
	 * or --reorder-ms 0): source = worker * nq + queue; under wlock */
	struct wc_reorder *ro;
	uint64_t reorder_ns;
	unsigned nq, chunk_size;

	/* accounting */
	struct acct acct;
	bool acct_started;
	bool acct_final;
	struct wc_pcapng_stats ps; /* final */

	/* the options (capture_params) and what set-up derives from them */
	const char *json, *ready;
	uint64_t rotate_mb;
	uint32_t rotate_secs, max_files, reorder_ms;
	bool quiet, is_fifo;
	struct filter_args fa;
	char *expr; /* the filter expression (malloc'd) */
	struct engine_args ea;
	struct wc_pcapng_opts po;
};

static struct wc_engine *volatile sig_engine;
static volatile sig_atomic_t sig_seen;

static void on_signal(int sig)
{
	struct wc_engine *e = sig_engine;

	(void)sig;
	sig_seen = 1;
	if (e)
		wc_engine__stop(e);
}

#define ADD(field, v) \
	atomic_fetch_add_explicit(&(field), (v), memory_order_relaxed)

static uint64_t sum_cnt(struct cap *cp, size_t off)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < WC_MAX_WORKERS; i++)
		s += atomic_load_explicit(
			(_Atomic uint64_t *)((char *)&cp->cnt[i] + off),
			memory_order_relaxed);
	return s;
}
#define SUM(cp, f) sum_cnt(cp, offsetof(struct wcount, f))

/* ---- interface statistics blocks ------------------------------------------ */

/* Called by the writer before it closes a file (rotation, end), from the
 * worker that holds the writer lock, or from the main thread at the end. */
static void isb_cb(void *ctx, unsigned if_id, struct wc_pcapng_isb *s)
{
	struct cap *cp = ctx;
	struct wc_pcapng_stats ps;

	(void)if_id;
	wc_pcapng_get_stats(cp->pw, &ps);
	if (cp->acct_started) {
		/* the link's gaps: no counter for them in an ISB */
		struct wc_link_stats ls = { .sz = sizeof(ls) };

		if (!wc_engine__link_stats(cp->e, &ls))
			acct_link_note(&ls, s->comment, sizeof(s->comment));
	}
	s->usrdeliv = ps.packets + ps.buffered;
	if (cp->have_filter)
		s->filteraccept = SUM(cp, accepted);
	if (cp->acct_final) {
		const struct acct *a = &cp->acct;

		if (cp->xdp_filter)
			s->filteraccept = a->received - a->filtered;

		s->ifrecv = a->received;
		s->ifdrop = a->pool_exhausted + a->ring_full + a->other_dropped;
		s->osdrop = a->nosock_dropped + a->shed;
		return;
	}
	if (cp->acct_started) {
		uint64_t recv = 0, drop = 0, osdrop = 0, filtered = 0;
		unsigned nq = wc_engine__queues(cp->e);

		/* every queue: the ones not served count what they passed */
		for (unsigned q = 0; q < WC_MAX_QUEUES; q++) {
			struct wc_iface_queue_stats qs = { .sz = sizeof(qs) };
			struct wc_iface_pool_stats pst = { .sz = sizeof(pst) };

			if (wc_engine__queue_stats(cp->e, q, &qs))
				return;
			recv += qs.packets;
			osdrop += qs.dropped;
			filtered += qs.filtered;
			if (q >= nq)
				continue;
			if (wc_engine__pool_stats(cp->e, q, &pst))
				return;
			drop += pst.fill_empty + pst.ring_full +
				pst.other_dropped;
		}
		s->ifrecv = recv;
		s->ifdrop = drop;
		s->osdrop = osdrop;
		if (cp->xdp_filter)
			s->filteraccept = recv - filtered;
	}
}

/* ---- writing -------------------------------------------------------------- */

static void write_failed(struct cap *cp, int err)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&cp->werr, &zero, err))
		snprintf(cp->werrmsg, sizeof(cp->werrmsg), "%s",
			 wc_pcapng_strerror(cp->pw));
	atomic_store(&cp->nowrite, true);
	wc_engine__stop(cp->e);
}

/* Write the packets idx[0..k) of a chunk; the caller holds the writer.
 * Returns 0 or the writer's error (the rest of the chunk is then counted in
 * not_written by *cw). */
static int write_pkts(struct cap *cp, struct wcount *cw, struct wc_pkt *p,
		      const uint16_t *idx, unsigned k)
{
	uint64_t snapped = 0;
	unsigned j;
	int err;

	if (atomic_load_explicit(&cp->nowrite, memory_order_relaxed) &&
	    atomic_load_explicit(&cp->werr, memory_order_relaxed)) {
		ADD(cw->not_written, k);
		return -EIO;
	}
	err = wc_pcapng_tick(cp->pw);
	if (err) {
		ADD(cw->not_written, k);
		write_failed(cp, err);
		return err;
	}
	for (j = 0; j < k; j++) {
		const struct wc_pkt *pk = &p[idx[j]];

		err = wc_pcapng_write(cp->pw, 0, pk->ts_ns, pk->data, pk->len,
				      pk->len, pk->queue);
		if (err)
			break;
		snapped += pk->len > cp->snaplen;
	}
	if (err) {
		/* the failing packet was accepted (counted lost by the
		 * writer); the rest of the chunk is not written */
		ADD(cw->handed, j + 1);
		ADD(cw->not_written, k - j - 1);
		write_failed(cp, err);
	} else {
		ADD(cw->handed, k);
	}
	ADD(cw->snapped, snapped);
	atomic_store_explicit(&cp->last_write_ns, wc_clock_mono_ns(),
			      memory_order_relaxed);
	return err;
}

/* ---- time order ----------------------------------------------------------------- */

struct emit_ctx {
	struct cap *cp;
	struct wcount *cw;
};

static int emit_pkt(void *ctx, uint64_t ts_ns, const void *data,
		    uint32_t caplen, uint32_t len, uint32_t queue)
{
	struct emit_ctx *ec = ctx;

	/* a packet the writer refuses is counted lost by the writer */
	ADD(ec->cw->handed, 1);
	if (len > ec->cp->snaplen)
		ADD(ec->cw->snapped, 1);
	return wc_pcapng_write(ec->cp->pw, 0, ts_ns, data, caplen, len, queue);
}

/* Write what the merge can release (everything with all); the caller
 * holds the writer. After a write error what is still held is counted in
 * not_written. */
static void reorder_release(struct cap *cp, struct wcount *cw, bool all)
{
	struct emit_ctx ec = { .cp = cp, .cw = cw };
	struct wc_reorder_stats a, b;
	int err;

	if (atomic_load_explicit(&cp->werr, memory_order_relaxed)) {
		ADD(cw->not_written, wc_reorder__discard(cp->ro));
		return;
	}
	wc_reorder__stats(cp->ro, &a);
	err = wc_pcapng_tick(cp->pw);
	if (!err)
		err = all ? wc_reorder__flush(cp->ro, emit_pkt, &ec) :
			    wc_reorder__release(cp->ro, wc_clock_real_ns(),
						emit_pkt, &ec);
	if (err) {
		ADD(cw->not_written, wc_reorder__discard(cp->ro));
		write_failed(cp, err);
		return;
	}
	wc_reorder__stats(cp->ro, &b);
	if (b.emitted != a.emitted)
		atomic_store_explicit(&cp->last_write_ns, wc_clock_mono_ns(),
				      memory_order_relaxed);
}

/* The worker's sockets hold nothing older than when it last found its
 * rings empty, less the margin. That time is the library's (taken before
 * the look), not now: a worker preempted, or waiting for the writer, after
 * its look may have packets older than now in its rings meanwhile. */
static void reorder_worker_empty(struct cap *cp, struct wc_worker *w)
{
	unsigned wi = wc_worker__index(w);
	uint64_t d = wc_worker__drained_ns(w), h;

	if (d <= REORDER_MARGIN_NS)
		return;
	h = d - REORDER_MARGIN_NS;
	for (unsigned q = 0; q < cp->nq; q++)
		wc_reorder__horizon(cp->ro, wi * cp->nq + q, h);
}

/* A chunk into the merge: its accepted packets are copied in; every packet
 * (filtered ones too) tells how far its socket has come, and so does the
 * worker's last look that found its rings empty. The caller holds the
 * writer. */
static void reorder_chunk(struct cap *cp, struct wcount *cw,
			  struct wc_worker *w, struct wc_pkt *p, unsigned n,
			  const uint16_t *idx, unsigned k)
{
	uint64_t last[WC_MAX_QUEUES] = { 0 };
	unsigned wi = wc_worker__index(w), j;

	for (j = 0; j < k; j++) {
		const struct wc_pkt *pk = &p[idx[j]];

		if (wc_reorder__push(cp->ro, wi * cp->nq + pk->queue, pk->ts_ns,
				     pk->data, pk->len, pk->queue))
			break;
	}
	if (j < k) {
		/* out of memory: write what is held, in order, then the rest
		 * of this chunk as it came */
		reorder_release(cp, cw, true);
		write_pkts(cp, cw, p, idx + j, k - j);
	}
	for (unsigned i = 0; i < n; i++)
		if (p[i].queue < WC_MAX_QUEUES && p[i].ts_ns > last[p[i].queue])
			last[p[i].queue] = p[i].ts_ns;
	for (unsigned q = 0; q < cp->nq; q++)
		if (last[q])
			wc_reorder__horizon(cp->ro, wi * cp->nq + q, last[q]);
	reorder_worker_empty(cp, w);
	reorder_release(cp, cw, false);
}

/* idle: rotation by time (-G) and a flush so a pipe reader sees packets */
static void writer_idle(struct cap *cp)
{
	int err;

	if (atomic_load(&cp->werr))
		return;
	if (wc_clock_mono_ns() - atomic_load_explicit(&cp->last_write_ns,
						      memory_order_relaxed) <
	    IDLE_MS * 1000000ull)
		return;
	err = wc_pcapng_tick(cp->pw);
	if (!err)
		err = wc_pcapng_flush(cp->pw);
	if (err)
		write_failed(cp, err);
}

/* ---- worker callback ---------------------------------------------------------- */

static int stop_for_duration(struct cap *cp)
{
	if (cp->duration_ns &&
	    wc_clock_mono_ns() - cp->start_ns >= cp->duration_ns) {
		wc_engine__stop(cp->e);
		return WC_RUN_STOP;
	}
	return WC_RUN_CONTINUE;
}

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *ctx)
{
	struct cap *cp = ctx;
	unsigned wi = wc_worker__index(w);
	struct wcount *cw = &cp->cnt[wi];
	uint16_t idx[4096];
	struct wc_pkt *p;
	unsigned n, k = 0;

	if (!c) {
		if (cp->ro) {
			/* the worker's rings stayed empty: release what waited
			 * for its sockets */
			pthread_mutex_lock(&cp->wlock);
			reorder_worker_empty(cp, w);
			reorder_release(cp, cw, false);
			pthread_mutex_unlock(&cp->wlock);
		}
		if (!atomic_load_explicit(&cp->nowrite, memory_order_relaxed)) {
			pthread_mutex_lock(&cp->wlock);
			writer_idle(cp);
			pthread_mutex_unlock(&cp->wlock);
		}
		return stop_for_duration(cp);
	}
	n = wc_chunk__count(c);
	p = wc_chunk__pkts(c);
	if (atomic_load_explicit(&cp->nowrite, memory_order_relaxed)) {
		ADD(cw->not_written, n);
		return 0;
	}
	if (cp->have_filter) {
		for (unsigned i = 0; i < n; i++) {
			struct pcap_pkthdr h = {
				.caplen = p[i].len,
				.len = p[i].len,
			};

			if (pcap_offline_filter(&cp->prog, &h, p[i].data))
				idx[k++] = i;
		}
		ADD(cw->filtered, n - k);
	} else {
		for (unsigned i = 0; i < n; i++)
			idx[i] = i;
		k = n;
	}
	ADD(cw->accepted, k);
	if (cp->count) {
		uint64_t old = atomic_fetch_add(&cp->reserved, k), allow;

		allow = old >= cp->count ? 0 : cp->count - old;
		if (allow > k)
			allow = k;
		if (old + k >= cp->count) {
			atomic_store(&cp->nowrite, true);
			wc_engine__stop(cp->e);
		}
		ADD(cw->not_written, k - allow);
		k = allow;
	}
	if (cp->ro) {
		pthread_mutex_lock(&cp->wlock);
		reorder_chunk(cp, cw, w, p, n, idx, k);
		pthread_mutex_unlock(&cp->wlock);
	} else if (k) {
		pthread_mutex_lock(&cp->wlock);
		write_pkts(cp, cw, p, idx, k);
		pthread_mutex_unlock(&cp->wlock);
	}
	if (!atomic_load_explicit(&cp->nowrite, memory_order_relaxed))
		stop_for_duration(cp);
	return 0;
}

/* ---- summary ------------------------------------------------------------------- */

static json_t *time_order_json(const struct cap *cp,
			       const struct wc_reorder_stats *rs)
{
	json_t *o = jobj();

	jset_i64(o, "sockets", cp->nq * wc_engine__workers(cp->e));
	jset_u64(o, "delay_ms", cp->reorder_ns / 1000000);
	jset_u64(o, "late", rs->late);
	jset_u64(o, "forced", rs->forced);
	jset_u64(o, "max_held_bytes", rs->max_pending_bytes);
	return o;
}

static void extra(FILE *f, json_t *json, void *ctx)
{
	struct cap *cp = ctx;
	uint64_t written = cp->ps.packets, lost = cp->ps.lost;
	uint64_t filtered = SUM(cp, filtered), snapped = SUM(cp, snapped);
	uint64_t not_written = SUM(cp, not_written);
	struct wc_reorder_stats rs;

	wc_reorder__stats(cp->ro, &rs);
	if (json) {
		jset_u64(json, "written", written);
		jset_u64(json, "filtered", filtered);
		jset_u64(json, "snapped", snapped);
		jset_u64(json, "not_written", not_written);
		jset_u64(json, "lost_write_error", lost);
		jset_u64(json, "files", cp->ps.files);
		jset_u64(json, "bytes_written", cp->ps.bytes);
		jset_i64(json, "snaplen", cp->snaplen);
		jset_str(json, "write_error",
			 atomic_load(&cp->werr) ? cp->werrmsg : NULL);
		jset(json, "time_order",
		     cp->ro ? time_order_json(cp, &rs) : NULL);
		return;
	}
	fprintf(f,
		"  written: %llu packets (%llu bytes) to %s in %llu file%s; %llu filtered out, %llu snapped to %u B, %llu not written, %llu lost to the write error\n",
		(unsigned long long)written, (unsigned long long)cp->ps.bytes,
		cp->path, (unsigned long long)cp->ps.files,
		cp->ps.files == 1 ? "" : "s", (unsigned long long)filtered,
		(unsigned long long)snapped, cp->snaplen,
		(unsigned long long)not_written, (unsigned long long)lost);
	if (cp->ro)
		fprintf(f,
			"  time order: merged over %u sockets within %llu ms; %llu written out of order (a socket lagged more), %.1f MiB held at most\n",
			cp->nq * wc_engine__workers(cp->e),
			(unsigned long long)(cp->reorder_ns / 1000000),
			(unsigned long long)rs.late,
			rs.max_pending_bytes / 1048576.0);
}

static int compile_filter(struct cap *cp, const char *expr)
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, (int)cp->snaplen);
	int rc = 0;

	if (!pd)
		return cmd_err("capture: cannot set up libpcap for the filter");
	if (pcap_compile(pd, &cp->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		rc = cmd_err("invalid filter expression '%s': %s", expr,
			     pcap_geterr(pd));
	else
		cp->have_filter = true;
	pcap_close(pd);
	return rc;
}

/* -w FIFO: as tcpdump does, wait for the reader before anything starts.
 * SIGINT, SIGTERM and SIGHUP end the wait (nothing captured, exit 0). The
 * wait polls a non-blocking open: a blocking one would sleep through the
 * signals (they restart it) and could miss one that came just before.
 * Holding that end, the writer's own open finds the reader at once.
 * Returns 0 with cp->pw open, 0 without it when stopped, or 1. */
static int open_fifo(struct cap *cp, const struct wc_pcapng_opts *po,
		     bool quiet)
{
	char errbuf[600];
	int fd, err = 0;

	if (!quiet)
		fprintf(stderr,
			"wirecap: waiting for a reader of the FIFO %s\n",
			cp->path);
	/* no SA_RESTART: a signal also ends the writer's open below */
	cmd_stop_signals(on_signal, false);
	for (;;) {
		struct timespec ts = { 0, 20 * 1000000 };

		fd = open(cp->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 || errno != ENXIO || sig_seen)
			break;
		nanosleep(&ts, NULL);
	}
	if (fd < 0)
		err = errno;
	else if (!sig_seen)
		cp->pw = wc_pcapng_open(po, errbuf, sizeof(errbuf));
	if (fd >= 0)
		close(fd);
	cmd_stop_signals(on_signal, true);
	if (sig_seen) {
		/* the reader (if any) gets an empty, valid stream */
		wc_pcapng_close(cp->pw);
		cp->pw = NULL;
		if (!quiet)
			fprintf(stderr,
				"wirecap: stopped before a reader opened %s: nothing captured\n",
				cp->path);
		return 0;
	}
	if (fd < 0)
		return cmd_err("capture: open %s: %s", cp->path, strerror(err));
	if (!cp->pw)
		return cmd_err("capture: %s", errbuf);
	return 0;
}

static int set_duration(void *cfg, const struct param *p, const char *v)
{
	struct cap *cp = cfg;
	char *end;
	double d = strtod(v, &end);

	(void)p;
	if (end == v || *end || !(d > 0) || d > 1e7)
		return cmd_err("invalid --duration: '%s' (seconds > 0)", v), -1;
	cp->duration_ns = (uint64_t)(d * 1e9);
	return 0;
}

#define CAP struct cap

static const struct param capture_params[] = {
	PARAM_STR('i', "interface", "IFACE",
		  "interface (attached by wirecap, or attached now)", CAP,
		  ifname),
	PARAM_STR('w', "write", "FILE",
		  "output pcapng file ('-': standard output; a FIFO:\n"
		  "waits for its reader before the capture starts)",
		  CAP, path),
	PARAM_U64('c', "count", "COUNT",
		  "write exactly COUNT packets, then stop", CAP, count, 1,
		  UINT64_MAX / 2, "-c"),
	PARAM_FN(0, "duration", "SEC", "stop after SEC seconds", set_duration),
	PARAM_U32('s', "snaplen", "SNAPLEN",
		  "bytes kept per packet (0: 262144, the default)", CAP,
		  snaplen, 0, WC_PCAPNG_MAX_SNAPLEN, "-s (snap length)"),
	PARAM_U64('C', "file-size", "MB",
		  "rotate before a file exceeds MB x 1,000,000 bytes", CAP,
		  rotate_mb, 1, 1000000000, "-C (MB)"),
	PARAM_U32(
		'G', "rotate-seconds", "SEC",
		"rotate every SEC seconds (FILE may hold strftime %-patterns)",
		CAP, rotate_secs, 1, 100000000, "-G (seconds)"),
	PARAM_U32('W', "file-count", "N",
		  "keep N files (ring), with -C or -G\n"
		  "File names (suffixes at the end of FILE):\n"
		  "  -C: FILE, FILE1, FILE2, ...\n"
		  "  -C -W N: FILE0..FILE<N-1> (zero-padded), overwritten\n"
		  "    in a ring\n"
		  "  -G, FILE without %: as -C (with -W N: as -C -W N)\n"
		  "  -G, FILE with %: strftime(3), local time, at each\n"
		  "    file's opening; the same name twice gets 1, 2, ...;\n"
		  "    with -W N the oldest file is removed beyond N",
		  CAP, max_files, 1, 1000000, "-W (files)"),
	PARAM_STR(0, "stats-json", "FILE",
		  "accounting as JSON ('-': stdout, not with -w -)", CAP, json),
	PARAM_STR(0, "ready-file", "FILE",
		  "created when the capture is running", CAP, ready),
	/* 250: REORDER_MS_DEFAULT (asserted where it is defined) */
	PARAM_U32(0, "reorder-ms", "MS",
		  "write packets in time order across rx queues and\n"
		  "workers, holding each up to MS ms (default 250; 0: in\n"
		  "the order the workers hand them over)",
		  CAP, reorder_ms, 0, 60000, "--reorder-ms"),
	PARAM_FLAG('q', "quiet",
		   "no start-up line, no human summary (warnings stay)", CAP,
		   quiet),
	PARAM_FILTER_IN(FILTER_IN_HELP, CAP, fa),
	PARAM_INCLUDE(engine_params, CAP, ea),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd capture_cmd = {
	.name = "capture",
	.head = "Usage: wirecap capture -i IFACE -w FILE [options] [FILTER EXPRESSION]\n"
		"Capture to pcapng (tcpdump-style). FILTER is tcpdump syntax (libpcap),\n"
		"run in XDP (--filter-in user: in user space). Ctrl-C, SIGTERM and SIGHUP stop, drain, and close a\n"
		"valid file.\n"
		"Not passive: what XDP redirects to wirecap never reaches the host's stack\n"
		"(ARP, ping, TCP to this host on IFACE stop while capturing), and only\n"
		"ingress is seen. Capture on a mirror (SPAN) port or a tap.\n",
	.params = capture_params,
	/* options before the filter expression only (tcpdump) */
	.in_order = true,
};

/* the options and the filter expression: checked before anything is
 * touched. 0, or 1 when the command ends now with *rc. */
static int capture_parse(struct cap *cp, int argc, char **argv, int *rc)
{
	struct filter_args *fa = &cp->fa;

	*rc = 1;
	cp->reorder_ms = REORDER_MS_DEFAULT;
	engine_args_init(&cp->ea);
	if (params_parse(&capture_cmd, cp, argc, argv, rc))
		return 1;
	if (!cp->ifname || !cp->path)
		return cmd_err(
			"capture: -i IFACE and -w FILE are required (see wirecap capture --help)");
	if (cmd_check_ifname(cp->ifname))
		return 1;
	if (!cp->snaplen)
		cp->snaplen = WC_PCAPNG_DEFAULT_SNAPLEN;
	if (!strcmp(cp->path, "-") &&
	    (cp->rotate_mb || cp->rotate_secs || cp->max_files))
		return cmd_err(
			"capture: rotation (-C, -G, -W) needs a file, not -w -");
	if (cp->max_files && !cp->rotate_mb && !cp->rotate_secs)
		return cmd_err("capture: -W needs -C or -G");
	if (cp->json && !strcmp(cp->json, "-") && !strcmp(cp->path, "-"))
		return cmd_err(
			"capture: --stats-json - and -w - would both use standard output");

	/* the outputs written later, and the filter: a bad path or
	 * expression fails before anything is touched */
	if (cmd_check_output("--stats-json", cp->json) ||
	    cmd_check_output("--ready-file", cp->ready))
		return 1;
	if (optind >= argc)
		return 0;
	cp->expr = filter_join(argc, argv, optind);
	if (!cp->expr)
		return cmd_err("capture: out of memory");
	fa->expr = cp->expr;
	/* in XDP by default: what the filter rejects never takes a pool
	 * frame; in user space on request */
	if (fa->user ? compile_filter(cp, cp->expr) :
		       filter_check("capture", fa))
		return 1;
	if (!fa->user) {
		cp->ea.eo.filter = &fa->fo;
		cp->xdp_filter = true;
	}
	if (!cp->quiet)
		fprintf(stderr, "wirecap: filter %s: %s\n",
			fa->user ?
				"in user space (--filter-in user), after the copy" :
				"in XDP, before the copy",
			cp->expr);
	return 0;
}

/* The output: an unwritable path fails before attaching, and nothing is
 * created, truncated or removed until the engine runs. The check opens an
 * existing file for writing without O_TRUNC (a new one is tried as a probe
 * file in its directory); the writer opens, locks and empties it once the
 * engine is up (so -G periods also start with the capture). Opening late
 * rather than writing a temporary file renamed into place keeps the file's
 * inode, owner, mode and hard links, a `tail -f` on it, and leaves no
 * temporary file behind after kill -9; the writer's lock keeps a second
 * capture from emptying a file a first one writes. A FIFO is opened first
 * (opening it destroys nothing): the capture waits for its reader before
 * the engine starts. 0 (with cp->pw open for a FIFO), or 1; a FIFO wait
 * stopped by a signal is 0 without cp->pw. */
static int capture_check_output(struct cap *cp)
{
	char errbuf[600];
	struct stat st;

	cp->po = (struct wc_pcapng_opts){
		.sz = sizeof(cp->po),
		.path = cp->path,
		.rotate_bytes = cp->rotate_mb * 1000000ull,
		.rotate_secs = cp->rotate_secs,
		.max_files = cp->max_files,
		.snaplen = cp->snaplen,
		.stats_cb = isb_cb,
		.cb_ctx = cp,
		.flags = WC_PCAPNG_EPB_INBOUND,
	};
	signal(SIGPIPE, SIG_IGN);
	cp->is_fifo = strcmp(cp->path, "-") && !stat(cp->path, &st) &&
		      S_ISFIFO(st.st_mode);
	if (cp->is_fifo)
		return open_fifo(cp, &cp->po, cp->quiet);
	if (wc_pcapng_check(&cp->po, errbuf, sizeof(errbuf)))
		return cmd_err_only("capture: %s", errbuf);
	return 0;
}

/* The engine (attaches when needed). 0, or the exit status: 0 when a
 * signal stopped the set-up (nothing captured, as when the wait for a
 * FIFO's reader is stopped), else 1. */
static int capture_open_engine(struct cap *cp)
{
	cmd_stop_signals(on_signal, true);
	engine_prepare(&cp->ea, cp->ifname, NULL);
	cp->ea.eo.cancel = &sig_seen; /* Ctrl-C during a long pool set-up */
	cp->e = engine_open(cp->ifname, &cp->ea);
	if (!cp->e)
		return errno == EINTR && sig_seen ? 0 : 1;
	sig_engine = cp->e;
	if (sig_seen)
		wc_engine__stop(cp->e);
	warn_if_addresses(cp->ifname);
	return 0;
}

/* The writer (SHB and one IDB, nanosecond timestamps), the time-order
 * merge, the accounting baseline. 0, or 1. */
static int capture_setup(struct cap *cp)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	char errbuf[600];
	unsigned nsrc;

	if (!cp->pw)
		cp->pw = wc_pcapng_open(&cp->po, errbuf, sizeof(errbuf));
	if (!cp->pw)
		return cmd_err("capture: %s", errbuf);
	if (wc_pcapng_add_iface(cp->pw, cp->ifname,
				"wirecap XDP/AF_XDP capture", 0) < 0)
		return cmd_err("capture: %s", wc_pcapng_strerror(cp->pw));
	pthread_mutex_init(&cp->wlock, NULL);
	wc_engine__info(cp->e, &ei);
	cp->nq = wc_engine__queues(cp->e);
	cp->chunk_size = ei.chunk_size;
	cp->reorder_ns = cp->reorder_ms * 1000000ull;
	nsrc = cp->nq * wc_engine__workers(cp->e);
	if (cp->reorder_ns && nsrc > 1) {
		cp->ro = wc_reorder__new(nsrc, cp->reorder_ns, cp->snaplen, 0);
		if (!cp->ro)
			return cmd_err("capture: out of memory");
	}
	acct_start(&cp->acct, cp->e);
	cp->acct_started = true;
	cp->start_ns = wc_clock_mono_ns();
	atomic_store(&cp->last_write_ns, 0);
	return 0;
}

/* Runs until stopped. 0, or 1 after a one-line error. */
static int capture_run(struct cap *cp)
{
	const char *out = strcmp(cp->path, "-") ? cp->path : "the output";
	struct engine_args *ea = &cp->ea;
	char desc[256];
	int err, rc = 0;

	if (!cp->quiet) {
		engine_describe(cp->e, desc, sizeof(desc));
		fprintf(stderr, "wirecap: capturing on %s: %s\n", cp->ifname,
			desc);
	}
	if (cmd_ready_file(cp->ready)) {
		/* a script waits for it: stop, and still close the file */
		rc = 1;
		wc_engine__stop(cp->e);
	}
	{
		WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = cp,
			.cpus = ea->ncpus > 0 ? ea->cpus : NULL,
			.ncpus = ea->ncpus > 0 ? (unsigned)ea->ncpus : 0,
			.idle_ms = IDLE_MS);

		err = wc_engine__run(cp->e, &ro);
	}
	if (err == -ENETDOWN)
		rc = cmd_err(
			"%s disappeared during the capture; the capture stopped, %s is complete",
			cp->ifname, out);
	else if (err == -ENOLINK)
		rc = cmd_err(
			"the XDP program on %s was detached or replaced: stopping; %s is complete",
			cp->ifname, out);
	else if (err && err != -EINTR)
		rc = cmd_err("capture on %s failed: %s", cp->ifname,
			     strerror(-err));
	return rc;
}

/* The end: what the merge still holds, the final counters (the closing
 * ISBs use them), the file closed, the summary. 0, or 1. */
static int capture_report(struct cap *cp)
{
	uint64_t handed, sum;
	int err, rc = 0;

	/* the workers are done: the rest in order */
	if (cp->ro)
		reorder_release(cp, &cp->cnt[0], true);
	acct_finish(&cp->acct);
	cp->acct_final = true;
	err = wc_pcapng_finish(cp->pw);
	if (err && !atomic_load(&cp->werr)) {
		int zero = 0;

		atomic_compare_exchange_strong(&cp->werr, &zero, err);
		snprintf(cp->werrmsg, sizeof(cp->werrmsg), "%s",
			 wc_pcapng_strerror(cp->pw));
	}
	wc_pcapng_get_stats(cp->pw, &cp->ps);
	if (atomic_load(&cp->werr))
		rc = cmd_err(
			"%s; capture stopped (%llu packets written before the error)",
			cp->werrmsg, (unsigned long long)cp->ps.packets);
	handed = SUM(cp, handed);
	sum = cp->ps.packets + SUM(cp, filtered) + SUM(cp, not_written) +
	      cp->ps.lost;
	if (sum != cp->acct.delivered || handed != cp->ps.packets + cp->ps.lost)
		fprintf(stderr,
			"wirecap: warning: capture accounting does not reconcile: delivered %llu, written + filtered + not written + lost %llu (handed %llu)\n",
			(unsigned long long)cp->acct.delivered,
			(unsigned long long)sum, (unsigned long long)handed);
	if (acct_report(&cp->acct, cp->json, cp->quiet, extra, cp))
		rc = 1;
	return rc;
}

static void capture_free(struct cap *cp)
{
	sig_engine = NULL;
	if (cp->pw)
		wc_pcapng_close(cp->pw);
	wc_reorder__free(cp->ro);
	wc_engine__close(cp->e);
	cmd_stop_signals(NULL, true);
	if (cp->have_filter)
		pcap_freecode(&cp->prog);
	free(cp->expr);
	free(cp);
}

int cmd_capture(int argc, char **argv)
{
	struct cap *cp = calloc(1, sizeof(*cp));
	int rc;

	if (!cp)
		return cmd_err("capture: out of memory");
	if (capture_parse(cp, argc, argv, &rc)) {
		if (cp->have_filter)
			pcap_freecode(&cp->prog);
		free(cp->expr);
		free(cp);
		return rc;
	}
	rc = capture_check_output(cp);
	if (rc || (cp->is_fifo && !cp->pw))
		goto out; /* stopped while waiting for the FIFO's reader */
	rc = capture_open_engine(cp);
	if (rc || !cp->e)
		goto out;
	rc = capture_setup(cp);
	if (rc)
		goto out;
	rc = capture_run(cp);
	if (capture_report(cp))
		rc = 1;
out:
	capture_free(cp);
	return rc;
}
