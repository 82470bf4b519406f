// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap bench: a synthetic analyzer. Captures without writing, checks
 * the flow id / sequence payload of `wirecap gen` (lost, duplicated,
 * reordered per flow), can spend a cost per packet and stall, and prints
 * the accounting. It answers: how much work per packet can my analyzer
 * afford at this rate without loss?
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "report.h"
#include "params.h"
#include "json.h"
#include "setup.h"
#include "seq.h"
#include "clock.h"
#include "filter.h"
#include "filter_args.h"

enum cost_mode { COST_SPIN, COST_SLEEP };

struct bench {
	struct wc_engine *e;
	uint64_t count; /* stop after this many packets (0: no limit) */
	uint64_t cost_ns;
	enum cost_mode cost_mode;
	uint64_t stall_ms, stall_every_ns;
	const char *stall_until; /* stall until this file exists */
	_Atomic unsigned stalled; /* workers in a stall now */
	uint64_t stall_mask; /* workers that stall (bit w) */
	uint64_t idle_exit_ns, duration_ns;
	uint64_t spins_per_us;
	uint32_t nflows;
	_Atomic uint64_t total;
	_Atomic uint64_t first_ns, last_ns;
	_Atomic uint64_t not_ours;
	uint64_t start_ns;
	struct wc_seqtrack *track[WC_MAX_WORKERS];
	uint64_t next_stall[WC_MAX_WORKERS];
	uint64_t stalls[WC_MAX_WORKERS];
	/* across workers: a flow's packets must be processed in sequence
	 * order, also when its bucket moves between workers */
	_Atomic uint16_t *flow_last; /* worker + 1 that processed it last */
	_Atomic uint64_t *flow_max; /* highest seq + 1 processed */
	_Atomic uint64_t *flow_max_rev; /* the same, reverse direction */
	_Atomic uint64_t
		reverse; /* reverse-direction packets (not in lost/dup) */
	_Atomic uint64_t flow_switches; /* a flow's packet on another worker */
	/* a flow may change worker only when its bucket moves: switches per
	 * flow against the moves of its bucket (the span of steering
	 * generations its packets carried) */
	_Atomic uint32_t *flow_sw;
	_Atomic uint32_t *flow_qb; /* q * buckets + b + 1 */
	/* steering generation of each (queue, bucket) at start: the monitor
	 * adds one per move, so at the end the difference is the bucket's
	 * moves, whatever packets were lost */
	uint32_t *gen0;
	uint32_t nqb, buckets;
	uint64_t split_violations;
	/* --filter-in user: libpcap's interpreter on each delivered packet */
	struct wc_cbpf *ufilter;
	size_t nufilter;
	_Atomic uint64_t user_filtered;
	_Atomic uint64_t reordered_global;
	struct wc_seqtrack_result res;
	bool have_res;
	uint64_t expect, flow_base;
	uint64_t moves;
	struct wc_offload_stats off;
	int err;

	/* the options (bench_params) */
	const char *ifname, *json, *ready;
	bool quiet;
	struct filter_args fa;
	struct engine_args ea;
	struct acct acct;
};

/* the steering generation of (queue, bucket) index qb */
static uint32_t steer_gen(struct bench *b, uint32_t qb)
{
	struct wc_steer st = {};

	wc_iface__steer_get(wc_engine__iface(b->e), qb / b->buckets,
			    qb % b->buckets, &st);
	return st.gen;
}

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

/* --stall-until: hold off until FILE exists (polled: a test creates it
 * once its whole burst has been offered, whatever the machine's speed), or
 * the engine stops, or --duration ends */
static void stall_until(struct bench *b)
{
	while (access(b->stall_until, F_OK) && !sig_seen &&
	       !wc_engine__stopped(b->e) &&
	       !(b->duration_ns &&
		 wc_clock_mono_ns() - b->start_ns >= b->duration_ns))
		wc_clock_sleep_ns(5000000);
}

/* the run is done; a stall may have recycled the chunk already (c NULL) */
static int stop_run(struct bench *b, struct wc_chunk *c)
{
	if (c)
		return WC_RUN_STOP; /* the run recycles it */
	wc_engine__stop(b->e);
	return WC_CHUNK_KEEP;
}

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *ctx)
{
	struct bench *b = ctx;
	unsigned wi = wc_worker__index(w);
	uint64_t now = wc_clock_mono_ns(), first;
	struct wc_pkt *p;
	unsigned n;

	if (!c) {
		/* idle tick */
		uint64_t last = atomic_load(&b->last_ns);

		/* a stalled worker is not idle: --idle-exit counts from
		 * the end of its stall */
		if (b->idle_exit_ns && last && now - last >= b->idle_exit_ns &&
		    !atomic_load(&b->stalled))
			return WC_RUN_STOP;
		if (b->duration_ns && now - b->start_ns >= b->duration_ns)
			return WC_RUN_STOP;
		return WC_RUN_CONTINUE;
	}
	n = wc_chunk__count(c);
	p = wc_chunk__pkts(c);
	first = atomic_load(&b->first_ns);
	if (!first) {
		uint64_t zero = 0;

		atomic_compare_exchange_strong(&b->first_ns, &zero, now);
		first = atomic_load(&b->first_ns);
		for (unsigned i = 0; i < WC_MAX_WORKERS; i++)
			b->next_stall[i] = first;
	}
	atomic_store(&b->last_ns, now);
	for (unsigned i = 0; i < n; i++) {
		struct wc_seq_info si;

		if (b->ufilter &&
		    !wc_filter_run_classic(b->ufilter, b->nufilter, p[i].data,
					   p[i].len)) {
			atomic_fetch_add_explicit(&b->user_filtered, 1,
						  memory_order_relaxed);
			continue;
		}
		if (wc_seq_parse(p[i].data, p[i].len, &si)) {
			atomic_fetch_add_explicit(&b->not_ours, 1,
						  memory_order_relaxed);
		} else {
			/* the reverse direction of a flow has its own sequence */
			if (si.reverse)
				atomic_fetch_add_explicit(&b->reverse, 1,
							  memory_order_relaxed);
			else if (wc_seqtrack_feed(b->track[wi], si.flow,
						  si.seq))
				b->err = -ENOMEM;
			if (si.flow >= b->flow_base &&
			    si.flow - b->flow_base < b->nflows) {
				uint32_t f = si.flow - b->flow_base;
				_Atomic uint64_t *fmax =
					si.reverse ? &b->flow_max_rev[f] :
						     &b->flow_max[f];
				uint16_t me = wi + 1, prev;
				uint64_t max = atomic_load_explicit(
					fmax, memory_order_relaxed);

				prev = atomic_exchange_explicit(
					&b->flow_last[f], me,
					memory_order_relaxed);
				if (prev && prev != me) {
					atomic_fetch_add_explicit(
						&b->flow_switches, 1,
						memory_order_relaxed);
					atomic_fetch_add_explicit(
						&b->flow_sw[f], 1,
						memory_order_relaxed);
				}
				if (p[i].bucket < b->buckets) {
					uint32_t qb = p[i].queue * b->buckets +
						      p[i].bucket;

					if (qb < b->nqb)
						atomic_store_explicit(
							&b->flow_qb[f], qb + 1,
							memory_order_relaxed);
				}
				if (si.seq + 1 < max)
					atomic_fetch_add_explicit(
						&b->reordered_global, 1,
						memory_order_relaxed);
				while (si.seq + 1 > max &&
				       !atomic_compare_exchange_weak(
					       fmax, &max, si.seq + 1))
					;
			}
		}
		if (b->cost_ns && b->cost_mode == COST_SPIN)
			wc_spin(b->cost_ns * b->spins_per_us / 1000);
	}
	if (b->cost_ns && b->cost_mode == COST_SLEEP)
		wc_clock_sleep_ns(b->cost_ns * n);
	if ((b->stall_ms || b->stall_until) && (b->stall_mask >> wi & 1) &&
	    now >= b->next_stall[wi] && b->next_stall[wi] != UINT64_MAX) {
		b->stalls[wi]++;
		b->next_stall[wi] =
			b->stall_every_ns ?
				b->next_stall[wi] + b->stall_every_ns :
				UINT64_MAX;
		/* recycle first: a stalled analyzer holds nothing */
		wc_chunk__recycle(c);
		atomic_fetch_add(&b->stalled, 1);
		if (b->stall_until)
			stall_until(b);
		else
			wc_clock_sleep_ns(b->stall_ms * 1000000ull);
		atomic_store(&b->last_ns, wc_clock_mono_ns());
		atomic_fetch_sub(&b->stalled, 1);
		c = NULL;
	}
	if (b->count && atomic_fetch_add(&b->total, n) + n >= b->count) {
		return stop_run(b, c);
	} else if (!b->count) {
		atomic_fetch_add(&b->total, n);
	}
	if (b->duration_ns && now - b->start_ns >= b->duration_ns)
		return stop_run(b, c);
	if (!c)
		return WC_CHUNK_KEEP; /* already recycled */
	return WC_RUN_CONTINUE;
}

static void extra(FILE *f, json_t *json, void *ctx)
{
	struct bench *b = ctx;
	const struct wc_seqtrack_result *r = &b->res;

	uint64_t first = atomic_load(&b->first_ns);

	if (!b->have_res)
		return;
	if (json) {
		jset_u64(json, "lost", r->lost);
		jset_u64(json, "duplicates", r->duplicates);
		jset_u64(json, "reordered", r->reordered);
		jset_u64(json, "unique", r->unique);
		jset_u64(json, "flows_seen", r->flows_seen);
		jset_u64(json, "not_payload", atomic_load(&b->not_ours));
		jset_u64(json, "reverse_packets", atomic_load(&b->reverse));
		jset_u64(json, "flow_switches", atomic_load(&b->flow_switches));
		jset_u64(json, "flow_split_violations", b->split_violations);
		jset_u64(json, "reordered_global",
			 atomic_load(&b->reordered_global));
		jset_u64(json, "moves", b->moves);
		jset_u64(json, "excess", r->excess);
		jset_u64(json, "returns", b->off.returns);
		jset_fixed(json, "first_move_s",
			   b->off.first_move_ns && first ?
				   (b->off.first_move_ns - first) / 1e9 :
				   -1.0,
			   3);
		jset_fixed(json, "converged_s",
			   b->off.last_move_ns && first ?
				   (b->off.last_move_ns - first) / 1e9 :
				   -1.0,
			   3);
		jset_u64(json, "fence_timeouts", b->off.fence_timeouts);
		jset_u64(json, "stuck_events", b->off.stuck_events);
		jset_u64(json, "fence_late", b->off.late);
		jset_u64(json, "user_filtered", atomic_load(&b->user_filtered));
	} else {
		fprintf(f,
			"  payload check: %llu unique in %llu flows, %llu lost, %llu duplicated, %llu reordered (%llu across workers), %llu without payload; %llu flow switches between workers, %llu bucket moves\n",
			(unsigned long long)r->unique,
			(unsigned long long)r->flows_seen,
			(unsigned long long)r->lost,
			(unsigned long long)r->duplicates,
			(unsigned long long)r->reordered,
			(unsigned long long)atomic_load(&b->reordered_global),
			(unsigned long long)atomic_load(&b->not_ours),
			(unsigned long long)atomic_load(&b->flow_switches),
			(unsigned long long)b->moves);
	}
}

/* --duration, --idle-exit, --stall-every: seconds, kept in ns at p->off */
static int set_secs(void *cfg, const struct param *p, const char *v)
{
	char *end;
	double d = strtod(v, &end);

	if (*end || d < 0 || d > 1e6)
		return cmd_err("invalid %s: '%s'", p->name, v), -1;
	*(uint64_t *)((char *)cfg + p->off) = d * 1e9;
	return 0;
}

static int set_cost_mode(void *cfg, const struct param *p, const char *v)
{
	struct bench *b = cfg;

	(void)p;
	if (!strcmp(v, "spin"))
		b->cost_mode = COST_SPIN;
	else if (!strcmp(v, "sleep"))
		b->cost_mode = COST_SLEEP;
	else
		return cmd_err("invalid --cost-mode '%s' (spin or sleep)", v),
		       -1;
	return 0;
}

static int set_stall_until(void *cfg, const struct param *p, const char *v)
{
	struct bench *b = cfg;

	(void)p;
	if (!*v)
		return cmd_err("invalid --stall-until: empty path"), -1;
	b->stall_until = v;
	return 0;
}

static int set_stall_workers(void *cfg, const struct param *p, const char *v)
{
	struct bench *b = cfg;
	unsigned list[WC_MAX_WORKERS];
	int n = cmd_parse_list("--stall-workers", v, list, WC_MAX_WORKERS);

	(void)p;
	if (n < 0)
		return -1;
	b->stall_mask = 0;
	for (int i = 0; i < n; i++) {
		if (list[i] >= WC_MAX_WORKERS)
			return cmd_err("invalid --stall-workers: worker %u",
				       list[i]),
			       -1;
		b->stall_mask |= 1ull << list[i];
	}
	return 0;
}

#define B struct bench
#define SECS(n, a, h, field)                                           \
	{                                                              \
		.name = (n), .arg = (a), .help = (h), .set = set_secs, \
		.off = offsetof(B, field)                              \
	}

static const struct param bench_params[] = {
	PARAM_STR('i', "interface", "IFACE",
		  "interface (attached by wirecap, or attached now)", B,
		  ifname),
	PARAM_U64('c', "count", "COUNT", "stop after COUNT packets", B, count,
		  1, UINT64_MAX, "-c"),
	SECS("duration", "SEC", "stop after SEC seconds", duration_ns),
	SECS("idle-exit", "SEC", "stop SEC seconds after the last packet",
	     idle_exit_ns),
	PARAM_U64(0, "cost-ns", "N", "work per packet, in ns", B, cost_ns, 0,
		  1000000000, "--cost-ns"),
	PARAM_FN(0, "cost-mode", "M",
		 "spin (CPU per packet, default) or sleep (per chunk)",
		 set_cost_mode),
	PARAM_U64(0, "stall-ms", "MS",
		  "stall MS ms, first at the first packet...", B, stall_ms, 0,
		  3600000, "--stall-ms"),
	SECS("stall-every", "SEC", "...then every SEC seconds (0: once)",
	     stall_every_ns),
	PARAM_FN(0, "stall-until", "FILE",
		 "stall at the first packet until FILE exists\n"
		 "(instead of --stall-ms; once)",
		 set_stall_until),
	PARAM_FN(0, "stall-workers", "L",
		 "workers that stall (default: all), e.g. 1 or 0,2",
		 set_stall_workers),
	PARAM_U32(0, "flows", "F", "flow ids tracked (default 1048576)", B,
		  nflows, 1, WC_SEQTRACK_MAX_FLOWS, "--flows"),
	PARAM_U64(
		0, "expect", "N",
		"packets sent by `wirecap gen -c N` (with --flows/--flow-base:\n"
		"flow i expects N/F (+1 for i < N%F)): counts tail losses",
		B, expect, 0, UINT64_MAX, "--expect"),
	PARAM_U64(0, "flow-base", "B", "first flow id of --expect", B,
		  flow_base, 0, WC_SEQTRACK_MAX_FLOWS, "--flow-base"),
	PARAM_STR(0, "stats-json", "FILE", "accounting as JSON ('-': stdout)",
		  B, json),
	PARAM_STR(0, "ready-file", "FILE", "created when the engine is up", B,
		  ready),
	PARAM_FLAG('q', "quiet",
		   "no start-up line, no human summary (warnings stay)", B,
		   quiet),
	PARAM_FILTER_IN(FILTER_IN_HELP, B, fa),
	PARAM_INCLUDE(engine_params, B, ea),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd bench_cmd = {
	.name = "bench",
	.head = "Usage: wirecap bench -i IFACE [options] [FILTER EXPRESSION]\n"
		"Capture without writing; verify the payload of `wirecap gen`; print the accounting.\n"
		"SIGINT, SIGTERM and SIGHUP stop and print it. Not passive, as capture (see its --help).\n",
	.params = bench_params,
	/* options before the filter expression only (tcpdump) */
	.in_order = true,
};

/* the filter expression: checked, in XDP or user space */
static int bench_filter(struct bench *b, int argc, char **argv)
{
	struct filter_args *fa = &b->fa;
	char why[512] = "";
	int e;

	fa->expr = filter_join(argc, argv, optind);
	if (!fa->expr)
		return cmd_err("bench: out of memory");
	if (fa->user) {
		e = wc_filter_compile(fa->expr, &b->ufilter, &b->nufilter, why,
				      sizeof(why));
		if (e)
			return filter_report("bench", fa->expr, -e, why);
	} else if (filter_check("bench", fa)) {
		return 1;
	} else {
		b->ea.eo.filter = &fa->fo;
	}
	if (!b->quiet)
		fprintf(stderr, "wirecap: filter %s: %s\n",
			fa->user ?
				"in user space (--filter-in user), after the copy" :
				"in XDP, before the copy",
			fa->expr);
	return 0;
}

/* 0, or 1 when the command ends now with *rc */
static int bench_parse(struct bench *b, int argc, char **argv, int *rc)
{
	*rc = 1;
	engine_args_init(&b->ea);
	if (params_parse(&bench_cmd, b, argc, argv, rc))
		return 1;
	if (!b->ifname) {
		params_usage(&bench_cmd, stderr);
		return cmd_err("bench: -i IFACE is required");
	}
	if (optind < argc && bench_filter(b, argc, argv))
		return 1;
	if (cmd_check_ifname(b->ifname))
		return 1;
	if (b->stall_until && (b->stall_ms || b->stall_every_ns))
		return cmd_err(
			"bench: --stall-until excludes --stall-ms and --stall-every");
	if (b->expect && b->flow_base + b->nflows > WC_SEQTRACK_MAX_FLOWS)
		return cmd_err("bench: --flow-base + --flows too large");
	if (cmd_check_output("--stats-json", b->json) ||
	    cmd_check_output("--ready-file", b->ready))
		return 1;
	return 0;
}

/* The engine and the per-flow state. 0, or the exit status: 0 when a
 * signal stopped the engine's set-up, else 1. */
static int bench_setup(struct bench *b)
{
	struct wc_iface_info ii;
	int rc;

	b->flow_last = calloc(b->nflows, sizeof(*b->flow_last));
	b->flow_max = calloc(b->nflows, sizeof(*b->flow_max));
	b->flow_max_rev = calloc(b->nflows, sizeof(*b->flow_max_rev));
	if (!b->flow_last || !b->flow_max || !b->flow_max_rev)
		return cmd_err("bench: out of memory");
	sig_engine = NULL;
	cmd_stop_signals(on_signal, true);
	engine_prepare(&b->ea, b->ifname, NULL);
	b->ea.eo.cancel = &sig_seen; /* Ctrl-C during a long pool set-up */
	b->e = engine_open(b->ifname, &b->ea);
	if (!b->e) {
		rc = errno == EINTR && sig_seen ? 0 : 1;
		return rc;
	}
	wc_iface__info(wc_engine__iface(b->e), &ii);
	b->buckets = ii.buckets;
	b->nqb = ii.queues * ii.buckets;
	b->flow_sw = calloc(b->nflows, sizeof(*b->flow_sw));
	b->flow_qb = calloc(b->nflows, sizeof(*b->flow_qb));
	b->gen0 = calloc(b->nqb, sizeof(*b->gen0));
	if (!b->flow_sw || !b->flow_qb || !b->gen0)
		return cmd_err("bench: out of memory");
	for (uint32_t i = 0; i < b->nqb; i++)
		b->gen0[i] = steer_gen(b, i);
	for (unsigned w = 0; w < wc_engine__workers(b->e); w++) {
		b->track[w] = wc_seqtrack_new(b->flow_base + b->nflows);
		if (!b->track[w])
			return cmd_err("bench: out of memory");
	}
	if (b->cost_ns && b->cost_mode == COST_SPIN)
		b->spins_per_us = wc_spin_calibrate();
	warn_if_addresses(b->ifname);
	sig_engine = b->e;
	if (sig_seen)
		wc_engine__stop(b->e);
	return 0;
}

/* Runs until stopped. 0, or 1 after a one-line error. */
static int bench_run(struct bench *b)
{
	struct engine_args *ea = &b->ea;
	int err, rc = 0;

	acct_start(&b->acct, b->e);
	b->start_ns = wc_clock_mono_ns();
	if (!b->quiet) {
		char desc[256];

		engine_describe(b->e, desc, sizeof(desc));
		fprintf(stderr, "wirecap: bench on %s: %s\n", b->ifname, desc);
	}
	if (cmd_ready_file(b->ready)) {
		rc = 1;
		wc_engine__stop(b->e);
	}
	{
		WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = b,
			.cpus = ea->ncpus > 0 ? ea->cpus : NULL,
			.ncpus = ea->ncpus > 0 ? (unsigned)ea->ncpus : 0,
			.idle_ms = 50);

		err = wc_engine__run(b->e, &ro);
	}
	if (err == -ENETDOWN)
		rc = cmd_err("%s disappeared during the capture", b->ifname);
	else if (err == -ENOLINK)
		rc = cmd_err(
			"the XDP program on %s was detached or replaced: stopping",
			b->ifname);
	else if (err)
		rc = cmd_err("capture failed: %s", strerror(-err));
	return rc;
}

/* The sequence checks merged across workers, the summary. 0, or 1. */
static int bench_report(struct bench *b)
{
	int rc = 0;

	acct_finish(&b->acct);
	for (unsigned w = 0; w < wc_engine__workers(b->e); w++)
		b->moves += b->acct.w[w].moves_in;
	b->off.sz = sizeof(b->off);
	wc_engine__offload_stats(b->e, &b->off);
	for (unsigned w = 1; w < wc_engine__workers(b->e); w++)
		wc_seqtrack_merge(b->track[0], b->track[w]);
	for (uint32_t i = 0; b->expect && i < b->nflows; i++) {
		uint64_t n =
			b->expect / b->nflows + (i < b->expect % b->nflows);

		wc_seqtrack_set_expected(b->track[0], b->flow_base + i, n);
	}
	wc_seqtrack_result(b->track[0], &b->res);
	for (uint32_t f = 0; f < b->nflows; f++) {
		uint32_t qb = b->flow_qb[f], moves;

		if (!qb || !b->flow_sw[f])
			continue;
		moves = steer_gen(b, qb - 1) - b->gen0[qb - 1];
		if (b->flow_sw[f] > moves)
			b->split_violations += b->flow_sw[f] - moves;
	}
	b->have_res = true;
	if (b->err)
		rc = cmd_err("bench: out of memory while tracking sequences");
	if (acct_report(&b->acct, b->json, b->quiet, extra, b))
		rc = 1;
	return rc;
}

static void bench_free(struct bench *b)
{
	sig_engine = NULL;
	wc_engine__close(b->e);
	for (unsigned w = 0; w < WC_MAX_WORKERS; w++)
		wc_seqtrack_free(b->track[w]);
	free((void *)b->flow_last);
	free((void *)b->flow_max);
	free((void *)b->flow_max_rev);
	free((void *)b->flow_sw);
	free((void *)b->flow_qb);
	free(b->gen0);
	free(b->ufilter);
	free(b->fa.expr);
}

int cmd_bench(int argc, char **argv)
{
	struct bench b = { .nflows = 1u << 20,
			   .cost_mode = COST_SPIN,
			   .stall_mask = UINT64_MAX };
	int rc;

	if (bench_parse(&b, argc, argv, &rc)) {
		free(b.ufilter);
		free(b.fa.expr);
		return rc;
	}
	rc = bench_setup(&b);
	if (!rc && b.e) {
		rc = bench_run(&b);
		if (bench_report(&b))
			rc = 1;
	}
	cmd_stop_signals(NULL, true);
	bench_free(&b);
	return rc;
}
