// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap forward: a bump in the wire. The capture engine on -i (pools,
 * workers, offloading) hands chunks to an egress port on -o that shares the
 * engine's UMEM: packets leave from the frame they arrived in. --bidir runs
 * a second engine on -o, living in the first one's UMEM, with a port on -i.
 * Everything the XDP program redirects is forwarded (ARP, ICMP, ...) unless
 * --drop matches it.
 *
 * Accounting per direction at exit (and published for `wirecap stats`):
 *   received == forwarded + dropped_by_rule + dropped (engine + tx causes)
 *               + shed + passed (to the middlebox's own stack: no socket)
 *
 * A forwarder is not a capture engine: its backlog is bounded by a latency
 * budget (--latency-budget-ms at --expected-pps: the pools and the mark at
 * which the XDP program sheds a queue's packets before the copy, counted
 * as shed), so under overload the CPU goes to forwarding, not to copying
 * packets that would be dropped later (docs/forward.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "netdev.h"
#include "pcapng.h"
#include "filter_args.h"
#include "report.h"
#include "params.h"
#include "json.h"
#include "setup.h"

struct fwd;

struct dir {
	struct fwd *f;
	const char *in, *out;
	struct wc_engine *e;
	struct wc_port *port;
	struct acct acct;
	bool acct_started;
	unsigned if_id; /* pcapng interface of the ingress */
	__u8 *verdicts; /* workers x chunk_size */
	unsigned chunk_size;
	_Atomic __u64 rule_dropped;
	_Atomic __u64 written;
	struct wc_port_stats ps;
	int run_err;
	atomic_int fwd_err; /* a port error seen by a worker */
	atomic_bool done;
	pthread_t tid;
	unsigned cpus[256];
	int ncpus;
	/* results */
	__u64 engine_dropped, tx_dropped, forwarded;
	__u64 rule_total; /* --drop: in user space + in XDP */
	__s64 unaccounted;
};

struct fwd {
	struct dir d[2];
	unsigned ndir;
	struct bpf_program filter;
	bool have_filter;
	struct wc_pcapng *pw;
	pthread_mutex_t pw_lock;
	atomic_int pw_err;
	__u64 duration_ns, start_ns;
	__u64 cost_ns; /* --cost-ns: a slower middlebox (tests) */

	/* the options (forward_params) */
	const char *in, *out, *drop, *wpath, *json, *ready;
	struct engine_args ea, ea2;
	struct filter_args fa;
	__u32 tx_ring, tx_wait, budget_ms, exp_pps, rt_prio;
	bool bidir, reflect, quiet, no_shed;
	atomic_bool prio_warned;
	int csum; /* enum wc_csum_mode */
};

static struct fwd *volatile sig_fwd;
static volatile sig_atomic_t sig_seen;

static void on_signal(int sig)
{
	struct fwd *f = sig_fwd;

	(void)sig;
	sig_seen = 1;
	for (unsigned i = 0; f && i < f->ndir; i++)
		wc_engine__stop(f->d[i].e);
}

/*
 * The worker above the receive path: a veth's NAPI thread, ksoftirqd (where
 * a NIC's softirq goes under load) are SCHED_OTHER, and sharing the CPU
 * with them by CFS gives the worker about half of it under overload, while
 * the other half copies packets the worker cannot take (shed). With a
 * real-time priority the worker runs whenever it has packets and the
 * receive path gets the CPU when it waits: overload stays in the device's
 * ring, before the middlebox spends anything on it (docs/forward.md).
 * SCHED_RR, not FIFO: workers sharing a CPU take turns.
 */
#define WAIT_UNSET ((enum wc_wait_mode) - 1)

static int set_rt(__u32 prio)
{
	struct sched_param sp = { .sched_priority = (int)prio };

	return pthread_setschedparam(pthread_self(), SCHED_RR, &sp);
}

static void warn_rt(struct fwd *f, int err)
{
	if (!atomic_exchange(&f->prio_warned, true))
		fprintf(stderr,
			"wirecap: warning: forward: cannot give the workers real-time priority %u (%s; needs CAP_SYS_NICE or RLIMIT_RTPRIO): under overload they share their CPU with the receive path (--rt-priority 0 for normal scheduling)\n",
			f->rt_prio, strerror(err));
}

/*
 * At start, on this thread (and undone): can the workers have it? If not,
 * one line says so and they keep normal scheduling. Busy polling never
 * waits: it keeps normal scheduling. With the priority the workers wait by
 * poll(2) unless --wait says otherwise: the receive path's wake-up already
 * batches (a NAPI poll's packets), and waiting for a full chunk would only
 * add latency (docs/forward.md).
 */
static void rt_prepare(struct fwd *f, bool wait_given)
{
	struct sched_param none = { 0 };
	int err;

	if (f->rt_prio && f->ea.eo.wait == WC_WAIT_BUSY_POLL)
		f->rt_prio = 0;
	if (f->rt_prio) {
		err = set_rt(f->rt_prio);
		if (err) {
			warn_rt(f, err);
			f->rt_prio = 0;
		} else {
			pthread_setschedparam(pthread_self(), SCHED_OTHER,
					      &none);
		}
	}
	if (!wait_given)
		f->ea.eo.wait = f->rt_prio ? WC_WAIT_POLL : WC_WAIT_CHUNK;
}

/* in the worker's thread, on its first callback */
static void worker_priority(struct fwd *f)
{
	int err;

	if (!f->rt_prio)
		return;
	err = set_rt(f->rt_prio);
	if (err)
		warn_rt(f, err);
}

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *ctx)
{
	static __thread bool prio_set;
	struct dir *d = ctx;
	struct fwd *f = d->f;
	struct wc_pkt *p;
	__u8 *v;
	unsigned n, drops = 0;
	int r;

	if (!prio_set) {
		/* the first call, in the worker's thread */
		prio_set = true;
		worker_priority(f);
	}
	if (!c) {
		/* idle: completions home, pending frames out */
		wc_port__poll(d->port);
		return 0;
	}
	n = wc_chunk__count(c);
	p = wc_chunk__pkts(c);
	v = d->verdicts + (size_t)wc_worker__index(w) * d->chunk_size;
	for (unsigned i = 0; i < n; i++) {
		v[i] = WC_VERDICT_FORWARD;
		if (f->have_filter) {
			struct pcap_pkthdr h = { .caplen = p[i].len,
						 .len = p[i].len };

			if (pcap_offline_filter(&f->filter, &h, p[i].data)) {
				v[i] = WC_VERDICT_DROP;
				drops++;
			}
		}
	}
	if (drops)
		atomic_fetch_add_explicit(&d->rule_dropped, drops,
					  memory_order_relaxed);
	if (f->cost_ns)
		wc_clock_sleep_ns(f->cost_ns * n);
	if (f->pw && !atomic_load_explicit(&f->pw_err, memory_order_relaxed)) {
		/* the copy is written before the frame leaves: once on the TX
		 * ring it may complete and be refilled at any time */
		unsigned k = 0;
		int err = 0;

		pthread_mutex_lock(&f->pw_lock);
		for (unsigned i = 0; i < n && !err; i++) {
			if (v[i] == WC_VERDICT_DROP)
				continue;
			err = wc_pcapng_write(f->pw, d->if_id, p[i].ts_ns,
					      p[i].data, p[i].len, p[i].len,
					      p[i].queue);
			k += !err;
		}
		wc_pcapng_tick(f->pw);
		pthread_mutex_unlock(&f->pw_lock);
		atomic_fetch_add_explicit(&d->written, k, memory_order_relaxed);
		if (err)
			atomic_store(&f->pw_err, err);
	}
	r = wc_port__forward(d->port, c, v);
	if (r < 0 && r != -ENETDOWN) {
		/* the port consumed the chunk even so (a negative return
		 * would make the run recycle it a second time): stop, and
		 * report the error once the run returned */
		int none = 0;

		atomic_compare_exchange_strong(&d->fwd_err, &none, r);
		wc_engine__stop(d->e);
	}
	return WC_CHUNK_KEEP; /* the port consumed the chunk */
}

static void *runner(void *arg)
{
	struct dir *d = arg;
	WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = d,
		.cpus = d->ncpus > 0 ? d->cpus : NULL,
		.ncpus = d->ncpus > 0 ? (unsigned)d->ncpus : 0, .idle_ms = 20);

	d->run_err = wc_engine__run(d->e, &ro);
	if (!d->run_err)
		d->run_err = atomic_load(&d->fwd_err);
	atomic_store(&d->done, true);
	/* one direction ended (error): the other stops too */
	for (unsigned i = 0; i < d->f->ndir; i++)
		wc_engine__stop(d->f->d[i].e);
	return NULL;
}

#define U(x) ((unsigned long long)(x))

static void dir_finish(struct dir *d)
{
	const struct acct *a = &d->acct;
	const struct wc_port_stats *s = &d->ps;

	d->engine_dropped = a->pool_exhausted + a->ring_full +
			    a->other_dropped + a->nosock_dropped;
	/* what never completed counts as abandoned */
	d->tx_dropped = s->dropped + s->in_flight;
	d->forwarded = s->sent;
	/* --drop in XDP: what it matched was filtered out there */
	d->rule_total = atomic_load(&d->rule_dropped) + a->filtered;
	d->unaccounted =
		(__s64)a->received -
		(__s64)(d->forwarded + d->rule_total + d->engine_dropped +
			d->tx_dropped + a->shed + a->passed);
}

static void dir_human(const struct dir *d, FILE *f)
{
	const struct acct *a = &d->acct;
	const struct wc_port_stats *s = &d->ps;
	double secs = (a->t1_ns - a->t0_ns) / 1e9;

	fprintf(f,
		"%s -> %s: %llu received, %llu forwarded, %llu dropped by rule (%llu of them in XDP), %llu dropped, %llu shed, %llu passed to the stack (%.2f s, %.0f pps forwarded)\n",
		d->in, d->out, U(a->received), U(d->forwarded),
		U(d->rule_total), U(a->filtered),
		U(d->engine_dropped + d->tx_dropped), U(a->shed), U(a->passed),
		secs, secs > 0 ? d->forwarded / secs : 0.0);
	fprintf(f,
		"  dropped in capture: %llu pool exhausted, %llu rx ring full, %llu other, %llu no socket\n",
		U(a->pool_exhausted), U(a->ring_full), U(a->other_dropped),
		U(a->nosock_dropped));
	fprintf(f,
		"  dropped in transmit: %llu too big (mtu %u), %llu link down, %llu tx ring full, %llu bad descriptor, %llu by the driver, %llu never completed\n",
		U(s->too_big), s->mtu, U(s->link_down), U(s->ring_full),
		U(s->bad_desc), U(s->driver_dropped),
		U(s->in_flight + s->abandoned));
	fprintf(f,
		"  transmit: %llu submitted, %llu completed, %llu tx-ring-full waits, %llu kicks, %llu checksums completed; pool high-water %llu of %llu frames per queue\n",
		U(s->submitted), U(s->completed), U(s->ring_full_waits),
		U(s->kicks), U(s->csum_completed), U(a->hwm_max),
		U(a->nq ? a->frames / a->nq : 0));
	if (d->unaccounted)
		fprintf(f, "  WARNING: %lld packets unaccounted for\n",
			(long long)d->unaccounted);
}

static json_t *tx_json(const struct wc_port_stats *s)
{
	json_t *o = jobj();

	jset_u64(o, "offered", s->offered);
	jset_u64(o, "submitted", s->submitted);
	jset_u64(o, "completed", s->completed);
	jset_u64(o, "ring_full_waits", s->ring_full_waits);
	jset_u64(o, "kicks", s->kicks);
	jset_u64(o, "kick_again", s->kick_again);
	jset_u64(o, "invalid_descs", s->tx_invalid_descs);
	jset_u64(o, "csum_completed", s->csum_completed);
	jset_i64(o, "lanes", s->lanes);
	jset_i64(o, "queues", s->queues);
	jset_i64(o, "mtu", s->mtu);
	jset_bool(o, "zerocopy", s->zerocopy);
	return o;
}

static json_t *dir_json(const struct dir *d)
{
	const struct acct *a = &d->acct;
	const struct wc_port_stats *s = &d->ps;
	json_t *o = jobj(), *dr = jobj();

	jset_str(o, "in", d->in);
	jset_str(o, "out", d->out);
	jset_u64(o, "received", a->received);
	jset_u64(o, "forwarded", d->forwarded);
	jset_u64(o, "dropped_by_rule", d->rule_total);
	jset_u64(o, "dropped_by_rule_xdp", a->filtered);
	jset_u64(o, "shed", a->shed);
	jset_u64(o, "passed", a->passed);
	jset_u64(o, "delivered", a->delivered);
	jset_u64(dr, "pool_exhausted", a->pool_exhausted);
	jset_u64(dr, "ring_full", a->ring_full);
	jset_u64(dr, "other", a->other_dropped);
	jset_u64(dr, "no_socket", a->nosock_dropped);
	jset_u64(dr, "too_big", s->too_big);
	jset_u64(dr, "link_down", s->link_down);
	jset_u64(dr, "tx_ring_full", s->ring_full);
	jset_u64(dr, "bad_desc", s->bad_desc);
	jset_u64(dr, "driver", s->driver_dropped);
	jset_u64(dr, "not_completed", s->in_flight + s->abandoned);
	jset_u64(dr, "total", d->engine_dropped + d->tx_dropped);
	jset(o, "dropped", dr);
	jset_i64(o, "unaccounted", d->unaccounted);
	jset_u64(o, "bytes", s->bytes);
	jset_u64(o, "written", atomic_load(&d->written));
	jset(o, "tx", tx_json(s));
	jset(o, "engine", acct_json(a, NULL, NULL));
	return o;
}

static int check_iface(const char *name)
{
	struct wc_netdev_info di;
	int err = wc_netdev_get_info(name, &di);

	if (err == -ENODEV)
		return cmd_err("no such interface: %s", name);
	if (err)
		return cmd_err("cannot query interface %s: %s", name,
			       strerror(-err));
	if (!(di.flags & IFF_UP))
		return cmd_err("interface %s is down", name);
	return 0;
}

/* Queues the engine on @ifname will have: its attachment's, or every rx
 * queue of the device when wirecap attaches now. */
static int engine_queues(const char *ifname, const struct engine_args *ea,
			 unsigned *nq)
{
	struct wc_iface *ifc = wc_iface__open(ifname, ea->eo.pin_root);
	unsigned rx, tx;
	int err;

	if (ifc) {
		struct wc_iface_info info;

		err = wc_iface__info(ifc, &info);
		wc_iface__close(ifc);
		if (!err) {
			*nq = info.queues;
			return 0;
		}
	}
	if (ea->ao.queues) {
		*nq = ea->ao.queues;
		return 0;
	}
	err = wc_netdev_queues(ifname, &rx, &tx);
	if (err)
		return err;
	*nq = rx > WC_MAX_QUEUES ? WC_MAX_QUEUES : rx ? rx : 1;
	return 0;
}

/*
 * The latency budget in frames per queue: budget_ms at exp_pps spread over
 * the queues (one worker serves them in turn, so the time a packet waits
 * is the backlog of all of them over the rate). The XDP program sheds a
 * queue from that many frames in use (RX ring, worker, TX) to half of it.
 * The pool holds twice the budget, so the kernel does not run out of frames
 * in the time the engine takes to react (a chunk); --pool-chunks keeps the
 * user's pool.
 */
static int size_budget(struct engine_args *ea, const char *in, __u32 budget_ms,
		       __u32 exp_pps, bool shed)
{
	__u32 cs = ea->eo.chunk_size ? ea->eo.chunk_size : 64;
	__u64 frames;
	unsigned nq;
	int err;

	err = engine_queues(in, ea, &nq);
	if (err)
		return err;
	frames = (__u64)budget_ms * exp_pps / 1000 / (nq ? nq : 1);
	if (frames < cs)
		frames = cs;
	if (frames > 1u << 20)
		frames = 1u << 20;
	if (!ea->eo.chunks)
		ea->eo.chunks = (2 * frames + cs - 1) / cs;
	if (frames > (__u64)ea->eo.chunks * cs)
		frames = (__u64)ea->eo.chunks * cs;
	ea->eo.shed = shed;
	ea->eo.shed_high = (__u32)frames;
	ea->eo.shed_low = (__u32)frames / 2;
	/* a partial chunk waits a twentieth of the budget, not the capture
	 * default of 1 ms: that wait is latency at low rates */
	if (!ea->eo.chunk_timeout_us) {
		__u32 us = budget_ms * 1000 / 20;

		ea->eo.chunk_timeout_us = us < 20 ? 20 : us > 1000 ? 1000 : us;
	}
	return 0;
}

/* -w: the writer and its interfaces (the ingress of each direction) */
static int open_writer(struct fwd *f, const char *wpath, const char *in,
		       const char *out, bool bidir)
{
	struct wc_pcapng_opts po = { .sz = sizeof(po), .path = wpath };
	char eb[600];

	f->pw = wc_pcapng_open(&po, eb, sizeof(eb));
	if (!f->pw)
		return cmd_err_only("forward: %s", eb);
	f->d[0].if_id =
		wc_pcapng_add_iface(f->pw, in, "wirecap forward ingress", 0);
	if (bidir)
		f->d[1].if_id = wc_pcapng_add_iface(
			f->pw, out, "wirecap forward ingress", 0);
	return 0;
}

static int set_duration(void *cfg, const struct param *p, const char *v)
{
	struct fwd *f = cfg;
	char *end;
	double d = strtod(v, &end);

	(void)p;
	if (*end || !(d > 0) || d > 1e7)
		return cmd_err("invalid --duration: '%s'", v), -1;
	f->duration_ns = d * 1e9;
	return 0;
}

static int set_tx_ring(void *cfg, const struct param *p, const char *v)
{
	struct fwd *f = cfg;

	if (param_set_u32(cfg, p, v))
		return -1;
	if (f->tx_ring & (f->tx_ring - 1))
		return cmd_err("invalid --tx-ring %u: must be a power of two",
			       f->tx_ring),
		       -1;
	return 0;
}

static int set_csum(void *cfg, const struct param *p, const char *v)
{
	struct fwd *f = cfg;

	(void)p;
	if (!strcmp(v, "complete"))
		f->csum = WC_CSUM_COMPLETE;
	else if (!strcmp(v, "keep"))
		f->csum = WC_CSUM_KEEP;
	else
		return cmd_err("invalid --csum '%s' (complete or keep)", v), -1;
	return 0;
}

#define FWD struct fwd

static const struct param forward_params[] = {
	PARAM_STR('i', "interface", "IFACE", "ingress", FWD, in),
	PARAM_STR('o', "output", "IFACE", "egress", FWD, out),
	PARAM_FLAG(0, "bidir",
		   "both directions (a second engine on -o, same UMEM)", FWD,
		   bidir),
	PARAM_FLAG(0, "reflect",
		   "allow -o to be -i: send every frame back out of the\n"
		   "port it came from (refused without it)",
		   FWD, reflect),
	PARAM_STR(0, "drop", "EXPR",
		  "drop packets matching this tcpdump expression, in XDP\n"
		  "before the copy (--filter-in user: after it)",
		  FWD, drop),
	PARAM_STR('w', "write", "FILE",
		  "pcapng of every packet handed to transmit (not those\n"
		  "--drop matched), written before it is sent: packets\n"
		  "the transmit path or the driver then drops (counted\n"
		  "as dropped in transmit) are in it too ('-': stdout)",
		  FWD, wpath),
	PARAM_FN(0, "duration", "SEC",
		 "stop after SEC seconds (default: until SIGINT, SIGTERM\n"
		 "or SIGHUP)",
		 set_duration),
	{ .name = "tx-ring",
	  .arg = "N",
	  .help = "TX ring entries per lane (default 2048)",
	  .set = set_tx_ring,
	  .off = offsetof(FWD, tx_ring),
	  .min = 64,
	  .max = 1u << 20,
	  .what = "--tx-ring" },
	PARAM_U32(0, "tx-wait-ms", "MS",
		  "TX ring full this long without progress: drop (200)", FWD,
		  tx_wait, 1, 600000, "--tx-wait-ms"),
	PARAM_U32(0, "latency-budget-ms", "MS",
		  "the backlog a queue may hold, in time at the\n"
		  "expected rate (default 2): beyond it the XDP program\n"
		  "sheds the queue's packets before the copy (counted\n"
		  "as shed) until half of it is left; also sizes the\n"
		  "pools (twice the budget) unless --pool-chunks is given\n"
		  "and the partial chunk wait (a twentieth of it, at\n"
		  "most 1 ms) unless --chunk-timeout is given",
		  FWD, budget_ms, 1, 60000, "--latency-budget-ms"),
	PARAM_U32(0, "expected-pps", "PPS",
		  "the rate the budget is counted at, all queues\n"
		  "together (default 1000000)",
		  FWD, exp_pps, 1000, 1000000000, "--expected-pps"),
	PARAM_U32(0, "rt-priority", "PRIO",
		  "real-time priority (SCHED_RR) of the workers, above\n"
		  "the receive path's threads, so that under overload\n"
		  "the CPU goes to forwarding and excess stays in the\n"
		  "device's ring (default 1; 0: normal scheduling); with\n"
		  "it the workers wait by poll unless --wait is given",
		  FWD, rt_prio, 0, 99, "--rt-priority"),
	PARAM_FLAG(0, "no-shed",
		   "no shedding: overload drops as pool exhausted", FWD,
		   no_shed),
	PARAM_U64(0, "cost-ns", "N",
		  "sleep N ns per packet before forwarding it (per chunk:\n"
		  "a slower middlebox, for tests)",
		  FWD, cost_ns, 0, 100000000, "--cost-ns"),
	PARAM_FN(0, "csum", "complete|keep",
		 "TCP/UDP checksums a host stack left to the NIC\n"
		 "(CHECKSUM_PARTIAL, as veth peers send them) are\n"
		 "completed before they leave (complete, default)",
		 set_csum),
	PARAM_STR(0, "stats-json", "FILE", "accounting as JSON ('-': stdout)",
		  FWD, json),
	PARAM_STR(0, "ready-file", "FILE", "created when forwarding runs", FWD,
		  ready),
	PARAM_FLAG('q', "quiet",
		   "no start-up line, no human summary (warnings stay)", FWD,
		   quiet),
	PARAM_FILTER_IN("kernel (default) or user: where --drop runs", FWD, fa),
	PARAM_INCLUDE(engine_params, FWD, ea),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd forward_cmd = {
	.name = "forward",
	.head = "Usage: wirecap forward -i IFACE -o IFACE [options]\n"
		"A bump in the wire: forward what arrives on -i out of -o, zero-copy\n"
		"(AF_XDP TX sharing the capture engine's UMEM).\n",
	.params = forward_params,
};

/* --drop: checked for XDP, or compiled for user space */
static int forward_drop(struct fwd *f)
{
	struct filter_args *fa = &f->fa;
	pcap_t *pd;

	if (!fa->user) {
		/* in XDP: what matches is dropped before the copy */
		fa->expr = (char *)f->drop;
		fa->fo.drop_matching = true;
		fa->fo.action = WC_ACT_DROP;
		return filter_check("forward --drop", fa);
	}
	pd = pcap_open_dead(DLT_EN10MB, 262144);
	if (!pd)
		return cmd_err("forward: cannot set up the filter compiler");
	if (pcap_compile(pd, &f->filter, f->drop, 1, PCAP_NETMASK_UNKNOWN)) {
		cmd_err("invalid --drop expression '%s': %s", f->drop,
			pcap_geterr(pd));
		pcap_close(pd);
		return 1;
	}
	pcap_close(pd);
	f->have_filter = true;
	return 0;
}

/* 0, or 1 when the command ends now with *rc */
static int forward_parse(struct fwd *f, int argc, char **argv, int *rc)
{
	bool wait_given;

	*rc = 1;
	f->budget_ms = 2;
	f->exp_pps = 1000000;
	f->rt_prio = 1;
	f->csum = WC_CSUM_COMPLETE;
	engine_args_init(&f->ea);
	/* --wait given or not: its default follows the priority */
	f->ea.eo.wait = WAIT_UNSET;
	if (params_parse(&forward_cmd, f, argc, argv, rc))
		return 1;
	wait_given = f->ea.eo.wait != WAIT_UNSET;
	if (!wait_given)
		f->ea.eo.wait = WC_WAIT_CHUNK;
	if (optind != argc)
		return cmd_err("forward: unexpected argument '%s'",
			       argv[optind]);
	if (!f->in || !f->out)
		return cmd_err("forward: -i IFACE and -o IFACE are required");
	if (cmd_check_ifname(f->in) || cmd_check_ifname(f->out))
		return 1;
	if (f->wpath && f->json && !strcmp(f->wpath, "-") &&
	    !strcmp(f->json, "-"))
		return cmd_err(
			"forward: -w - and --stats-json - cannot both use standard output");
	if (!strcmp(f->in, f->out) && f->bidir)
		return cmd_err("forward: --bidir needs two interfaces");
	if (!strcmp(f->in, f->out) && !f->reflect)
		return cmd_err(
			"forward: -i and -o are both %s: every frame would go back out of the port it came from (--reflect if that is meant)",
			f->in);
	if (check_iface(f->in) || check_iface(f->out))
		return 1;
	if (cmd_check_output("--stats-json", f->json) ||
	    cmd_check_output("--ready-file", f->ready))
		return 1;
	if (f->drop && forward_drop(f))
		return 1;
	rt_prepare(f, wait_given);
	return 0;
}

/* -w: checked now, opened once the engines run, as capture does (nothing
 * created, truncated or removed when start-up fails); a FIFO is opened now
 * (that destroys nothing). 0, or 1. */
static int forward_check_output(struct fwd *f)
{
	struct wc_pcapng_opts wpo = { .sz = sizeof(wpo), .path = f->wpath };
	struct stat st;
	char eb[600];

	if (!f->wpath)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(f->wpath, "-") && !stat(f->wpath, &st) &&
	    S_ISFIFO(st.st_mode))
		return open_writer(f, f->wpath, f->in, f->out, f->bidir);
	if (wc_pcapng_check(&wpo, eb, sizeof(eb)))
		return cmd_err_only("forward: %s", eb);
	return 0;
}

/* The engine options of both directions: one UMEM for both (frames for
 * the larger MTU), the latency budget. 0, or 1. */
static int forward_prepare(struct fwd *f)
{
	struct engine_args *ea = &f->ea, *ea2 = &f->ea2;
	unsigned nq;
	int err;

	f->ndir = f->bidir ? 2 : 1;
	f->d[0].in = f->in;
	f->d[0].out = f->out;
	f->d[1].in = f->out;
	f->d[1].out = f->in;
	for (unsigned i = 0; i < 2; i++)
		f->d[i].f = f;
	engine_prepare(ea, f->in, f->bidir ? f->out : NULL);
	err = size_budget(ea, f->in, f->budget_ms, f->exp_pps, !f->no_shed);
	if (err)
		return cmd_err("cannot read the queues of %s: %s", f->in,
			       strerror(-err));
	if (f->drop && !f->fa.user)
		ea->eo.filter = &f->fa.fo;
	/* the egress port transmits the frames of every queue */
	ea->eo.umem = WC_UMEM_ONE;
	*ea2 = *ea;
	ea2->eo.attach = &ea2->ao;
	if (f->bidir) {
		err = engine_queues(f->out, ea, &nq);
		if (err)
			return cmd_err("cannot read the queues of %s: %s",
				       f->out, strerror(-err));
		ea->eo.guest_queues = nq;
	}
	return 0;
}

/* The engines, each direction's egress port, the writer. 0, or the exit
 * status: 0 when a signal stopped the set-up, else 1. */
static int forward_open(struct fwd *f)
{
	struct engine_args *ea = &f->ea, *ea2 = &f->ea2;

	sig_fwd = f;
	cmd_stop_signals(on_signal, true);
	/* Ctrl-C during a long pool set-up */
	ea->eo.cancel = ea2->eo.cancel = &sig_seen;
	f->d[0].e = engine_open(f->in, ea);
	if (!f->d[0].e)
		return errno == EINTR && sig_seen ? 0 : 1;
	if (f->bidir) {
		ea2->eo.umem_of = f->d[0].e;
		f->d[1].e = engine_open(f->out, ea2);
		if (!f->d[1].e)
			return errno == EINTR && sig_seen ? 0 : 1;
	}
	for (unsigned i = 0; i < f->ndir; i++) {
		struct dir *d = &f->d[i];
		WC_OPTS(wc_port_opts, po, .tx_ring_size = f->tx_ring,
			.tx_wait_ms = f->tx_wait, .csum = f->csum);
		struct wc_iface_engine_info info = { .sz = sizeof(info) };

		d->port = wc_port__open(d->e, d->out, &po);
		if (!d->port)
			return cmd_err("%s: cannot open the egress port: %s",
				       d->out, strerror(errno));
		wc_engine__info(d->e, &info);
		d->chunk_size = info.chunk_size;
		d->verdicts = calloc(
			(size_t)wc_engine__workers(d->e) * d->chunk_size, 1);
		if (!d->verdicts)
			return cmd_err("out of memory");
		memcpy(d->cpus, ea->cpus, sizeof(d->cpus));
		d->ncpus = ea->ncpus;
	}
	if (f->wpath && !f->pw)
		return open_writer(f, f->wpath, f->in, f->out, f->bidir);
	return 0;
}

static void stop_all(struct fwd *f)
{
	for (unsigned i = 0; i < f->ndir; i++)
		wc_engine__stop(f->d[i].e);
}

/* The counters at start, a thread per direction. 0, or 1. */
static int forward_start(struct fwd *f)
{
	int err;

	if (sig_seen)
		stop_all(f);
	for (unsigned i = 0; i < f->ndir; i++) {
		err = acct_start(&f->d[i].acct, f->d[i].e);
		if (err)
			return cmd_err("cannot read the counters of %s: %s",
				       f->d[i].in, strerror(-err));
		f->d[i].acct_started = true;
	}
	f->start_ns = wc_clock_mono_ns();
	for (unsigned i = 0; i < f->ndir; i++) {
		err = pthread_create(&f->d[i].tid, NULL, runner, &f->d[i]);
		if (!err)
			continue;
		for (unsigned j = 0; j < i; j++) {
			wc_engine__stop(f->d[j].e);
			pthread_join(f->d[j].tid, NULL);
		}
		return cmd_err("cannot start a thread: %s", strerror(err));
	}
	return 0;
}

/* Until both directions stopped (a signal, --duration, an error). 0, or
 * 1 after a one-line error. */
static int forward_run(struct fwd *f)
{
	int rc = 0;

	if (!f->quiet) {
		char desc[256], desc2[256];

		engine_describe(f->d[0].e, desc, sizeof(desc));
		if (f->bidir) {
			engine_describe(f->d[1].e, desc2, sizeof(desc2));
			fprintf(stderr,
				"wirecap: forwarding %s <-> %s: %s: %s; %s: %s\n",
				f->in, f->out, f->in, desc, f->out, desc2);
		} else {
			fprintf(stderr, "wirecap: forwarding %s -> %s: %s\n",
				f->in, f->out, desc);
		}
	}
	if (cmd_ready_file(f->ready)) {
		rc = 1;
		stop_all(f);
	}
	for (;;) {
		bool all = true;
		struct timespec ts = { 0, 20000000 };

		for (unsigned i = 0; i < f->ndir; i++)
			all &= atomic_load(&f->d[i].done);
		if (all)
			break;
		if (f->duration_ns &&
		    wc_clock_mono_ns() - f->start_ns >= f->duration_ns)
			stop_all(f);
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < f->ndir; i++) {
		struct dir *d = &f->d[i];

		pthread_join(d->tid, NULL);
		if (d->run_err == -ENETDOWN)
			rc = cmd_err("%s disappeared", d->in);
		else if (d->run_err == -ENOLINK)
			rc = cmd_err(
				"the XDP program on %s was detached or replaced: stopping",
				d->in);
		else if (d->run_err)
			rc = cmd_err("forwarding %s -> %s failed: %s", d->in,
				     d->out, strerror(-d->run_err));
	}
	return rc;
}

/* What is on the TX rings leaves (bounded), then the numbers. 0, or 1. */
static int forward_report(struct fwd *f)
{
	int err, rc = 0;

	for (unsigned i = 0; i < f->ndir; i++)
		wc_port__flush(f->d[i].port, 1000);
	for (unsigned i = 0; i < f->ndir; i++) {
		struct dir *d = &f->d[i];

		d->ps.sz = sizeof(d->ps);
		wc_port__stats(d->port, &d->ps);
		acct_finish(&d->acct);
		dir_finish(d);
	}
	if (f->pw) {
		err = wc_pcapng_close(f->pw);
		f->pw = NULL;
		if (err || atomic_load(&f->pw_err))
			rc = cmd_err(
				"writing %s failed: %s", f->wpath,
				strerror(-(err ? err :
						 atomic_load(&f->pw_err))));
	}
	if (!f->quiet)
		for (unsigned i = 0; i < f->ndir; i++)
			dir_human(&f->d[i], stderr);
	if (f->json) {
		json_t *o = jobj(), *da = jarr();

		for (unsigned i = 0; i < f->ndir; i++)
			jpush(da, dir_json(&f->d[i]));
		jset(o, "directions", da);
		if (jwrite(o, f->json))
			rc = 1;
	}
	return rc;
}

static void forward_close(struct fwd *f)
{
	cmd_stop_signals(NULL, true);
	sig_fwd = NULL;
	/* ports before engines, the guest engine before its UMEM's owner */
	for (unsigned i = 0; i < 2; i++) {
		wc_port__close(f->d[i].port);
		f->d[i].port = NULL;
	}
	for (int i = 1; i >= 0; i--) {
		wc_engine__close(f->d[i].e);
		f->d[i].e = NULL;
		free(f->d[i].verdicts);
	}
	if (f->pw)
		wc_pcapng_close(f->pw);
	if (f->have_filter)
		pcap_freecode(&f->filter);
}

int cmd_forward(int argc, char **argv)
{
	static struct fwd F;
	struct fwd *f = &F;
	int rc;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->pw_lock, NULL);
	if (forward_parse(f, argc, argv, &rc)) {
		if (f->have_filter)
			pcap_freecode(&f->filter);
		return rc;
	}
	rc = forward_check_output(f);
	if (!rc)
		rc = forward_prepare(f);
	if (!rc)
		rc = forward_open(f);
	if (!rc && f->d[0].e && (!f->bidir || f->d[1].e))
		rc = forward_start(f);
	else if (!rc)
		goto out; /* stopped by a signal during set-up */
	if (!rc) {
		rc = forward_run(f);
		if (forward_report(f))
			rc = 1;
	}
out:
	forward_close(f);
	return rc;
}
