// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap stats IFACE: the live counters of a running capture, read from
 * outside through the pinned maps:
 *  - the XDP program's per-queue counters (since attach);
 *  - what the capture engine publishes every monitor interval (~100 ms)
 *    and at exit: engine info (pid 0 when no engine runs), per-queue pool
 *    stats and per-worker stats (since the engine started).
 * Rates come from two samples: 1 s apart for a single print (unless
 * --no-rate), SEC apart with --watch SEC. Rates of engine counters use the
 * engine's own publication times as the time base.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wirecap/wirecap.h"
#include "clock.h"
#include "cmd.h"
#include "json.h"
#include "params.h"

#define U(x) ((unsigned long long)(x))

struct sample {
	__u64 t_ns; /* CLOCK_MONOTONIC */
	__u64 wall_ns; /* CLOCK_REALTIME */
	struct wc_iface_engine_info ei;
	bool running; /* an engine process is alive */
	bool stale; /* pid published but the process is gone */
	struct wc_iface_queue_stats xdp[WC_MAX_QUEUES];
	struct wc_iface_pool_stats pool[WC_MAX_QUEUES];
	struct wc_iface_worker_stats ws[WC_MAX_WORKERS];
	__u64 owned[WC_MAX_WORKERS], foreign[WC_MAX_WORKERS];
};

struct stats_ctx {
	const char *ifname;
	struct wc_iface *ifc;
	struct wc_iface_info info;
	bool json;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* buckets owned / foreign per worker, from the steering map itself */
static int count_buckets(struct stats_ctx *sc, struct sample *s)
{
	const struct wc_iface_info *in = &sc->info;

	memset(s->owned, 0, sizeof(s->owned));
	memset(s->foreign, 0, sizeof(s->foreign));
	for (__u32 q = 0; q < in->queues; q++) {
		for (__u32 b = 0; b < in->buckets; b++) {
			struct wc_steer st;
			unsigned home = in->steer_mode == WC_STEER_FLOW ?
						b % in->workers :
						q % in->workers;
			int err = wc_iface__steer_get(sc->ifc, q, b, &st);

			if (err)
				return err;
			if (st.worker >= in->workers ||
			    st.worker >= WC_MAX_WORKERS)
				continue;
			s->owned[st.worker]++;
			s->foreign[st.worker] += st.worker != home;
		}
	}
	return 0;
}

static int take_sample(struct stats_ctx *sc, struct sample *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->t_ns = wc_clock_mono_ns();
	s->wall_ns = wc_clock_real_ns();
	/* every queue: one the engine does not serve counts what arrives
	 * there (passed or dropped) */
	for (__u32 q = 0; q < WC_MAX_QUEUES; q++) {
		s->xdp[q].sz = sizeof(s->xdp[q]);
		err = wc_iface__queue_stats(sc->ifc, q, &s->xdp[q]);
		if (err)
			return err;
	}
	s->ei.sz = sizeof(s->ei);
	err = wc_iface__engine_info(sc->ifc, &s->ei);
	if (err)
		return err;
	s->running = s->ei.alive;
	s->stale = s->ei.pid && !s->ei.alive;
	if (s->running) {
		unsigned nq = s->ei.queues < WC_MAX_QUEUES ? s->ei.queues :
							     WC_MAX_QUEUES;
		unsigned nw = s->ei.workers < WC_MAX_WORKERS ? s->ei.workers :
							       WC_MAX_WORKERS;

		for (__u32 q = 0; q < nq; q++) {
			s->pool[q].sz = sizeof(s->pool[q]);
			err = wc_iface__pool_stats(sc->ifc, q, &s->pool[q]);
			if (err)
				return err;
		}
		for (__u32 w = 0; w < nw; w++) {
			s->ws[w].sz = sizeof(s->ws[w]);
			err = wc_iface__worker_stats(sc->ifc, w, &s->ws[w]);
			if (err)
				return err;
		}
	}
	return count_buckets(sc, s);
}

/* rate of a counter between two samples; dt in s (<= 0: no rate) */
static double rate(__u64 a, __u64 b, double dt)
{
	return dt > 0 && b >= a ? (b - a) / dt : 0.0;
}

static const char *bind_name(__u32 m)
{
	return m == WC_BIND_ZEROCOPY ? "zerocopy" :
	       m == WC_BIND_COPY     ? "copy" :
				       "unknown";
}

static const char *huge_name(__u32 h)
{
	return h == WC_PAGES_HUGETLB ? "hugetlb" :
	       h == WC_PAGES_THP     ? "thp" :
				       "none";
}

static const char *wait_name(__u32 w)
{
	return w == WC_WAIT_POLL      ? "poll" :
	       w == WC_WAIT_BUSY_POLL ? "busy-poll" :
					"chunk";
}

static const char *state_name(__u32 s)
{
	return s == WC_WORKER_RUNNING ? "running" :
	       s == WC_WORKER_STUCK   ? "stuck" :
					"idle";
}

static const char *mode_name(enum wc_xdp_mode m)
{
	return m == WC_XDP_GENERIC ? "generic" :
	       m == WC_XDP_NATIVE  ? "native" :
				     "auto";
}

static __u64 pool_drops(const struct wc_iface_pool_stats *p)
{
	return p->fill_empty + p->ring_full + p->other_dropped;
}

/* a rate with one decimal, or null without one */
static void jrate(json_t *o, const char *key, bool have, double v)
{
	jset_fixed_or_null(o, key, have, v, 1);
}

/* served queues always, others once the program saw packets there */
static bool shown(const struct stats_ctx *sc, const struct sample *b, __u32 q)
{
	return q < sc->info.queues || b->xdp[q].packets;
}

static json_t *xdp_json(const struct wc_iface_info *in)
{
	json_t *o = jobj();

	jset_i64(o, "prog_id", in->prog_id);
	jset_str(o, "mode", mode_name(in->mode));
	jset_i64(o, "queues", in->queues);
	jset_i64(o, "workers", in->workers);
	jset_i64(o, "buckets", in->buckets);
	jset_str(o, "steer",
		 in->steer_mode == WC_STEER_FLOW ? "flow" : "queue");
	return o;
}

static json_t *engine_json(const struct sample *b)
{
	const struct wc_iface_engine_info *ei = &b->ei;
	json_t *o = jobj();

	jset_bool(o, "running", b->running);
	jset_i64(o, "pid", b->running ? ei->pid : 0);
	jset_bool(o, "stale", b->stale);
	if (!b->running)
		return o;
	jset_str(o, "bind", bind_name(ei->bind_mode));
	jset_i64(o, "queues", ei->queues);
	jset_i64(o, "workers", ei->workers);
	jset_i64(o, "chunks", ei->chunks);
	jset_i64(o, "chunk_size", ei->chunk_size);
	jset_u64(o, "pool_frames_per_queue",
		 (__u64)ei->chunks * ei->chunk_size);
	jset_i64(o, "frame_size", ei->frame_size);
	jset_i64(o, "rx_ring_size", ei->rx_ring_size);
	jset_i64(o, "fill_ring_size", ei->fill_ring_size);
	jset_str(o, "huge_pages", huge_name(ei->huge_pages));
	jset_u64(o, "umem_bytes", ei->umem_bytes);
	jset_str(o, "wait", wait_name(ei->wait_mode));
	jset_i64(o, "chunk_timeout_us", ei->chunk_timeout_us);
	jset_fixed(o, "uptime_s",
		   b->wall_ns > ei->start_ns ?
			   (b->wall_ns - ei->start_ns) / 1e9 :
			   0.0,
		   3);
	jset_fixed(o, "update_age_ms",
		   b->wall_ns > ei->update_ns ?
			   (b->wall_ns - ei->update_ns) / 1e6 :
			   0.0,
		   1);
	return o;
}

/* the drops of a queue (or the totals): by cause with an engine, else
 * only what XDP dropped for want of a socket */
static json_t *dropped_json(const struct wc_iface_pool_stats *p, __u64 nosock)
{
	json_t *o = jobj();

	if (p) {
		jset_u64(o, "pool_exhausted", p->fill_empty);
		jset_u64(o, "ring_full", p->ring_full);
		jset_u64(o, "other", p->other_dropped);
	}
	jset_u64(o, "no_socket", nosock);
	jset_u64(o, "total", (p ? pool_drops(p) : 0) + nosock);
	return o;
}

/* rates of one print: dt over the sample clock, edt over the engine's
 * publication times (erate: both samples had an engine) */
struct rates {
	bool have, erate;
	double dt, edt;
};

static json_t *queue_json(const struct stats_ctx *sc, const struct sample *a,
			  const struct sample *b, __u32 q,
			  const struct rates *r)
{
	const struct wc_iface_queue_stats *x = &b->xdp[q];
	const struct wc_iface_pool_stats *p = &b->pool[q];
	json_t *o = jobj();

	jset_i64(o, "queue", q);
	jset_bool(o, "served", q < sc->info.queues);
	jset_u64(o, "packets", x->packets);
	jset_u64(o, "bytes", x->bytes);
	jrate(o, "pps", r->have, rate(a->xdp[q].packets, x->packets, r->dt));
	jrate(o, "bps", r->have, 8 * rate(a->xdp[q].bytes, x->bytes, r->dt));
	jset_u64(o, "redirected", x->redirected);
	jset_u64(o, "passed", x->passed);
	jset_u64(o, "non_ip", x->non_ip);
	jset_u64(o, "truncated", x->truncated);
	jset_u64(o, "fragment", x->fragment);
	jset_u64(o, "unknown_l4", x->unknown_l4);
	jset_u64(o, "bad_queue", x->bad_queue);
	jset_u64(o, "filtered", x->filtered);
	jset_u64(o, "shed", x->shed);
	if (!(b->running && q < b->ei.queues && q < sc->info.queues)) {
		jset(o, "dropped", dropped_json(NULL, x->dropped));
		return o;
	}
	jset_u64(o, "delivered", p->delivered);
	jset_u64(o, "delivered_bytes", p->bytes);
	jrate(o, "delivered_pps", r->erate,
	      rate(a->pool[q].delivered, p->delivered, r->edt));
	jset_u64(o, "pool_frames", p->frames);
	jset_u64(o, "pool_in_use", p->in_use);
	jset_fixed(o, "pool_use_pct",
		   p->frames ? 100.0 * p->in_use / p->frames : 0.0, 1);
	jset_u64(o, "pool_hwm", p->hwm);
	jset_fixed(o, "pool_hwm_pct",
		   p->frames ? 100.0 * p->hwm / p->frames : 0.0, 1);
	jset_u64(o, "invalid_descs", p->invalid_descs);
	jset(o, "dropped", dropped_json(p, x->dropped));
	jrate(o, "dropped_pps", r->erate,
	      rate(pool_drops(&a->pool[q]), pool_drops(p), r->edt));
	return o;
}

static json_t *worker_json(const struct sample *a, const struct sample *b,
			   unsigned w, const struct rates *r)
{
	const struct wc_iface_worker_stats *s = &b->ws[w];
	json_t *o = jobj();

	jset_i64(o, "worker", w);
	if (!b->running) {
		jset_u64(o, "buckets_owned", b->owned[w]);
		jset_u64(o, "buckets_foreign", b->foreign[w]);
		return o;
	}
	jset_u64(o, "packets", s->packets);
	jset_u64(o, "bytes", s->bytes);
	jrate(o, "pps", r->erate, rate(a->ws[w].packets, s->packets, r->edt));
	jset_u64(o, "chunks", s->chunks);
	jset_u64(o, "held_chunks", s->held_chunks);
	jset_u64(o, "held_frames", s->held_frames);
	jset_u64(o, "rx_backlog", s->rx_backlog);
	jset_u64(o, "ring_full", s->ring_full);
	jset_u64(o, "buckets_owned", s->buckets_owned);
	jset_u64(o, "buckets_foreign", s->buckets_foreign);
	jset_u64(o, "moves_in", s->moves_in);
	jset_u64(o, "moves_out", s->moves_out);
	jset_u64(o, "stalls", s->stalls);
	jset_i64(o, "cpu", (int)s->cpu);
	jset_str(o, "state", state_name(s->state));
	return o;
}

static json_t *totals_json(const struct stats_ctx *sc, const struct sample *a,
			   const struct sample *b, const struct rates *r)
{
	struct wc_iface_queue_stats tx = {};
	struct wc_iface_pool_stats tp = {};
	__u64 tx_a = 0, tdel_a = 0;
	json_t *o = jobj();

	for (__u32 q = 0; q < WC_MAX_QUEUES; q++) {
		const struct wc_iface_queue_stats *x = &b->xdp[q];
		const struct wc_iface_pool_stats *p = &b->pool[q];

		if (!shown(sc, b, q))
			continue;
		tx.packets += x->packets;
		tx.bytes += x->bytes;
		tx.passed += x->passed;
		tx.dropped += x->dropped;
		tx.filtered += x->filtered;
		tx_a += a->xdp[q].packets;
		tp.delivered += p->delivered;
		tp.frames += p->frames;
		tp.in_use += p->in_use;
		tp.fill_empty += p->fill_empty;
		tp.ring_full += p->ring_full;
		tp.other_dropped += p->other_dropped;
		tdel_a += a->pool[q].delivered;
	}
	jset_u64(o, "packets", tx.packets);
	jset_u64(o, "bytes", tx.bytes);
	jrate(o, "pps", r->have, rate(tx_a, tx.packets, r->dt));
	jset_u64(o, "passed", tx.passed);
	jset_u64(o, "filtered", tx.filtered);
	if (!b->running) {
		jset(o, "dropped", dropped_json(NULL, tx.dropped));
		return o;
	}
	jset_u64(o, "delivered", tp.delivered);
	jrate(o, "delivered_pps", r->erate, rate(tdel_a, tp.delivered, r->edt));
	jset_u64(o, "pool_frames", tp.frames);
	jset_u64(o, "pool_in_use", tp.in_use);
	jset(o, "dropped", dropped_json(&tp, tx.dropped));
	return o;
}

static void print_json(struct stats_ctx *sc, const struct sample *a,
		       const struct sample *b, bool have_rate)
{
	const struct wc_iface_info *in = &sc->info;
	unsigned nw = b->running ? b->ei.workers : in->workers;
	struct rates r = { .have = have_rate };
	json_t *o = jobj(), *qa = jarr(), *wa = jarr();

	r.dt = have_rate ? (b->t_ns - a->t_ns) / 1e9 : 0;
	/* engine counters: the engine's publication times are the time base */
	r.erate = have_rate && a->running && b->running;
	r.edt = r.erate && b->ei.update_ns > a->ei.update_ns ?
			(b->ei.update_ns - a->ei.update_ns) / 1e9 :
			r.dt;
	jset_str(o, "interface", in->ifname);
	jset_u64(o, "time_ns", b->wall_ns);
	jset_fixed_or_null(o, "interval_s", have_rate, r.dt, 1);
	jset(o, "xdp", xdp_json(in));
	jset(o, "engine", engine_json(b));
	for (__u32 q = 0; q < WC_MAX_QUEUES; q++)
		if (shown(sc, b, q))
			jpush(qa, queue_json(sc, a, b, q, &r));
	jset(o, "queues", qa);
	for (unsigned w = 0; w < nw && w < WC_MAX_WORKERS; w++)
		jpush(wa, worker_json(a, b, w, &r));
	jset(o, "workers", wa);
	jset(o, "totals", totals_json(sc, a, b, &r));
	jprint(o, stdout);
}

/* human number with a k/M/G suffix */
static const char *hnum(char *buf, size_t n, double v)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
	return buf;
}

static void print_human(struct stats_ctx *sc, const struct sample *a,
			const struct sample *b, bool have_rate)
{
	const struct wc_iface_info *in = &sc->info;
	const struct wc_iface_engine_info *ei = &b->ei;
	double dt = have_rate ? (b->t_ns - a->t_ns) / 1e9 : 0;
	double edt = have_rate && a->running && b->running &&
				     b->ei.update_ns > a->ei.update_ns ?
			     (b->ei.update_ns - a->ei.update_ns) / 1e9 :
			     dt;
	bool erate = have_rate && a->running && b->running;
	char r1[32], r2[32];
	time_t now = (time_t)(b->wall_ns / 1000000000ull);
	struct tm tm;
	char ts[32] = "";

	if (localtime_r(&now, &tm))
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%s %s: XDP program %u (%s), %u queues, %u workers, %u buckets (steer %s)%s\n",
	       ts, in->ifname, in->prog_id, mode_name(in->mode), in->queues,
	       in->workers, in->buckets,
	       in->steer_mode == WC_STEER_FLOW ? "flow" : "queue",
	       have_rate ? "" : "; totals only");
	if (b->running) {
		printf("  capture engine: pid %u, up %.1f s, %s mode, pool %u x %u frames of %u B per queue (%llu MiB UMEM, %s pages), rx rings %u, wait %s\n",
		       ei->pid,
		       b->wall_ns > ei->start_ns ?
			       (b->wall_ns - ei->start_ns) / 1e9 :
			       0.0,
		       bind_name(ei->bind_mode), ei->chunks, ei->chunk_size,
		       ei->frame_size, U(ei->umem_bytes >> 20),
		       ei->huge_pages == WC_PAGES_HUGETLB ? "huge" :
		       ei->huge_pages == WC_PAGES_THP	  ? "transparent huge" :
							    "normal",
		       ei->rx_ring_size, wait_name(ei->wait_mode));
	} else if (b->stale) {
		printf("  no capture running: the engine that published (pid %u) is gone; XDP counters only\n",
		       b->ei.pid);
	} else {
		printf("  no capture running on %s: XDP counters only\n",
		       in->ifname);
	}
	if (b->running) {
		printf("  %5s %12s %9s %12s %9s %9s %15s %9s %10s %10s %8s %8s\n",
		       "queue", "packets", "pps", "delivered", "deliv/s",
		       "passed", "pool use", "hwm", "pool-exh", "ring-full",
		       "other", "no-sock");
	} else {
		printf("  %5s %12s %9s %14s %12s %10s %10s %9s %9s\n", "queue",
		       "packets", "pps", "bytes", "redirected", "passed",
		       "no-sock", "non-ip", "truncated");
	}
	for (__u32 q = 0; q < in->queues; q++) {
		const struct wc_iface_queue_stats *x = &b->xdp[q];
		const struct wc_iface_pool_stats *p = &b->pool[q];
		double pps = rate(a->xdp[q].packets, x->packets, dt);

		if (b->running && q < ei->queues) {
			char use[40];

			snprintf(use, sizeof(use), "%llu (%.1f%%)",
				 U(p->in_use),
				 p->frames ? 100.0 * p->in_use / p->frames :
					     0.0);
			printf("  %5u %12llu %9s %12llu %9s %9llu %15s %9llu %10llu %10llu %8llu %8llu\n",
			       q, U(x->packets),
			       have_rate ? hnum(r1, sizeof(r1), pps) : "-",
			       U(p->delivered),
			       erate ? hnum(r2, sizeof(r2),
					    rate(a->pool[q].delivered,
						 p->delivered, edt)) :
				       "-",
			       U(x->passed), use, U(p->hwm), U(p->fill_empty),
			       U(p->ring_full), U(p->other_dropped),
			       U(x->dropped));
		} else {
			printf("  %5u %12llu %9s %14llu %12llu %10llu %10llu %9llu %9llu\n",
			       q, U(x->packets),
			       have_rate ? hnum(r1, sizeof(r1), pps) : "-",
			       U(x->bytes), U(x->redirected), U(x->passed),
			       U(x->dropped), U(x->non_ip), U(x->truncated));
		}
	}
	{
		__u64 fa = 0, fb = 0;

		for (__u32 q = 0; q < WC_MAX_QUEUES; q++) {
			fa += a->xdp[q].filtered;
			fb += b->xdp[q].filtered;
		}
		if (fb)
			printf("  filtered out in XDP (wirecap status shows the filter): %llu packets (%s pps)\n",
			       U(fb),
			       have_rate ?
				       hnum(r1, sizeof(r1), rate(fa, fb, dt)) :
				       "-");
	}
	for (__u32 q = in->queues; q < WC_MAX_QUEUES; q++) {
		const struct wc_iface_queue_stats *x = &b->xdp[q];

		if (!shown(sc, b, q))
			continue;
		printf("  queue %u (not served): %llu packets (%s pps), %llu passed, %llu dropped\n",
		       q, U(x->packets),
		       have_rate ?
			       hnum(r1, sizeof(r1),
				    rate(a->xdp[q].packets, x->packets, dt)) :
			       "-",
		       U(x->passed), U(x->dropped));
	}
	if (b->running) {
		printf("  %6s %12s %9s %10s %6s %8s %9s %8s %8s %9s %9s %6s %4s %s\n",
		       "worker", "packets", "pps", "chunks", "held", "backlog",
		       "ring-full", "buckets", "foreign", "moves-in",
		       "moves-out", "stalls", "cpu", "state");
		for (unsigned w = 0; w < ei->workers && w < WC_MAX_WORKERS;
		     w++) {
			const struct wc_iface_worker_stats *s = &b->ws[w];
			char cpu[16];

			if (s->cpu == (__u32)-1)
				snprintf(cpu, sizeof(cpu), "-");
			else
				snprintf(cpu, sizeof(cpu), "%u", s->cpu);
			printf("  %6u %12llu %9s %10llu %6llu %8llu %9llu %8llu %8llu %9llu %9llu %6llu %4s %s\n",
			       w, U(s->packets),
			       erate ? hnum(r1, sizeof(r1),
					    rate(a->ws[w].packets, s->packets,
						 edt)) :
				       "-",
			       U(s->chunks), U(s->held_frames),
			       U(s->rx_backlog), U(s->ring_full),
			       U(s->buckets_owned), U(s->buckets_foreign),
			       U(s->moves_in), U(s->moves_out), U(s->stalls),
			       cpu, state_name(s->state));
		}
	} else {
		printf("  %6s %8s %8s\n", "worker", "buckets", "foreign");
		for (unsigned w = 0; w < in->workers && w < WC_MAX_WORKERS; w++)
			printf("  %6u %8llu %8llu\n", w, U(b->owned[w]),
			       U(b->foreign[w]));
	}
	fflush(stdout);
}

/* Is the program we opened still the one attached to the interface? */
static bool still_attached(struct stats_ctx *sc)
{
	struct wc_iface_info now;

	return !wc_iface__info(sc->ifc, &now) && now.prog_id &&
	       now.prog_id == sc->info.prog_id;
}

struct stats_opts {
	bool json, norate;
	double watch; /* 0: one print after a 1 s sample */
	uint64_t count;
};

static int set_watch(void *cfg, const struct param *p, const char *v)
{
	struct stats_opts *o = cfg;
	char *end;

	(void)p;
	o->watch = strtod(v, &end);
	if (end == v || *end || !(o->watch >= 0.01) || o->watch > 86400)
		return cmd_err("invalid --watch: '%s' (seconds, 0.01..86400)",
			       v),
		       -1;
	return 0;
}

#define SO struct stats_opts

static const struct param stats_params[] = {
	PARAM_FLAG('j', "json",
		   "one JSON object per print (one per line with --watch)", SO,
		   json),
	PARAM_FN(0, "watch", "SEC",
		 "print every SEC seconds (rates over SEC) until Ctrl-C;\n"
		 "ends with an error once wirecap is detached from IFACE",
		 set_watch),
	PARAM_U64(0, "count", "N", "with --watch: stop after N prints", SO,
		  count, 1, UINT64_MAX, "--count"),
	PARAM_FLAG(0, "no-rate",
		   "a single print of the totals, without the 1 s sample", SO,
		   norate),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd stats_cmd = {
	.name = "stats",
	.head = "Usage: wirecap stats IFACE [--json] [--watch SEC [--count N]] [--no-rate]\n"
		"Live counters of a running capture on IFACE: per queue (XDP packets,\n"
		"delivered, pool use and high-water mark, drops by cause) and per worker\n"
		"(packets, chunks held, backlog, buckets owned / foreign, moves).\n"
		"Without a capture, the XDP counters only.\n",
	.params = stats_params,
};

/* the options and IFACE. 0, or 1 when the command ends now with *rc. */
static int stats_parse(struct stats_opts *o, struct stats_ctx *sc, int argc,
		       char **argv, int *rc)
{
	*rc = 1;
	if (params_parse(&stats_cmd, o, argc, argv, rc))
		return 1;
	if (optind != argc - 1) {
		params_usage(&stats_cmd, stderr);
		*rc = 2;
		return 1;
	}
	if (o->count && !o->watch)
		return cmd_err("stats: --count needs --watch");
	if (o->norate && o->watch)
		return cmd_err(
			"stats: --no-rate and --watch exclude each other");
	sc->json = o->json;
	sc->ifname = argv[optind];
	return cmd_check_ifname(sc->ifname);
}

/* the attachment's maps; 0, or 1 after a one-line error */
static int stats_open(struct stats_ctx *sc)
{
	int err;

	sc->ifc = wc_iface__open(sc->ifname, NULL);
	if (sc->ifc) {
		wc_iface__info(sc->ifc, &sc->info);
		return 0;
	}
	err = errno;
	/* each says it all: no held-back library warning after it */
	if (err == ENOENT)
		return cmd_err_only("stats: wirecap is not attached to %s",
				    sc->ifname);
	if (err == ENODEV)
		return cmd_err_only("stats: no such interface: %s", sc->ifname);
	if (err == EPERM || err == EACCES)
		return cmd_err_only("stats %s: permission denied (run as root)",
				    sc->ifname);
	return cmd_err("stats %s: %s", sc->ifname, strerror(err));
}

/* A sample every --watch SEC (or one after 1 s), printed as rates over
 * the previous one, until a signal or --count. 0, or 1. */
static int stats_watch(struct stats_ctx *sc, const struct stats_opts *o,
		       struct sample *s[2])
{
	int err, cur = 0;

	for (uint64_t n = 0; !stop && (!o->count || n < o->count); n++) {
		double secs = o->watch ? o->watch : 1.0;
		struct timespec ts = { .tv_sec = (time_t)secs,
				       .tv_nsec = (long)((secs - (time_t)secs) *
							 1e9) };

		while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
			;
		if (stop)
			break;
		/* the maps outlive the attachment (our fds hold them): a
		 * program that is gone must not be shown as if it ran */
		if (!still_attached(sc))
			return cmd_err(
				"stats %s: wirecap is no longer attached to %s (XDP program %u detached or replaced)",
				sc->ifname, sc->ifname, sc->info.prog_id);
		err = take_sample(sc, s[!cur]);
		if (err)
			return cmd_err(
				"stats %s: cannot read the maps: %s (detached?)",
				sc->ifname, strerror(-err));
		cur = !cur;
		if (sc->json) {
			print_json(sc, s[!cur], s[cur], true);
			fflush(stdout);
		} else {
			if (o->watch && n)
				printf("\n");
			print_human(sc, s[!cur], s[cur], true);
		}
		if (!o->watch)
			break;
	}
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	struct stats_opts o = {};
	struct stats_ctx sc = {};
	struct sample *s[2] = {};
	int err, rc;

	if (stats_parse(&o, &sc, argc, argv, &rc))
		return rc;
	if (stats_open(&sc))
		return 1;
	rc = 0;
	s[0] = calloc(1, sizeof(*s[0]));
	s[1] = calloc(1, sizeof(*s[1]));
	if (!s[0] || !s[1]) {
		rc = cmd_err("stats: out of memory");
		goto out;
	}
	err = take_sample(&sc, s[0]);
	if (err) {
		rc = cmd_err("stats %s: cannot read the maps: %s", sc.ifname,
			     strerror(-err));
		goto out;
	}
	if (o.norate) {
		if (sc.json)
			print_json(&sc, s[0], s[0], false);
		else
			print_human(&sc, s[0], s[0], false);
		goto out;
	}
	cmd_stop_signals(on_signal, true);
	rc = stats_watch(&sc, &o, s);
	cmd_stop_signals(NULL, true);
out:
	free(s[0]);
	free(s[1]);
	wc_iface__close(sc.ifc);
	return rc;
}
