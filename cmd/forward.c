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
#include <getopt.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
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

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *ctx)
{
	struct dir *d = ctx;
	struct fwd *f = d->f;
	struct wc_pkt *p;
	__u8 *v;
	unsigned n, drops = 0;
	int r;

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
	if (r < 0 && r != -ENETDOWN)
		return r;
	return WC_CHUNK_KEEP; /* the port consumed the chunk */
}

static void *runner(void *arg)
{
	struct dir *d = arg;
	WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = d,
		.cpus = d->ncpus > 0 ? d->cpus : NULL,
		.ncpus = d->ncpus > 0 ? (unsigned)d->ncpus : 0, .idle_ms = 20);

	d->run_err = wc_engine__run(d->e, &ro);
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

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wirecap forward -i IFACE -o IFACE [options]\n"
		"A bump in the wire: forward what arrives on -i out of -o, zero-copy\n"
		"(AF_XDP TX sharing the capture engine's UMEM).\n"
		"  -i IFACE              ingress\n"
		"  -o IFACE              egress\n"
		"      --bidir           both directions (a second engine on -o, same UMEM)\n"
		"      --reflect         allow -o to be -i: send every frame back out of the\n"
		"                        port it came from (refused without it)\n"
		"      --drop EXPR       drop packets matching this tcpdump expression, in XDP\n"
		"                        before the copy (--filter-in user: after it)\n"
		"  -w FILE               pcapng of every packet handed to transmit (not those\n"
		"                        --drop matched), written before it is sent: packets\n"
		"                        the transmit path or the driver then drops (counted\n"
		"                        as dropped in transmit) are in it too ('-': stdout)\n"
		"      --duration SEC    stop after SEC seconds (default: until SIGINT, SIGTERM\n"
		"                        or SIGHUP)\n"
		"      --tx-ring N       TX ring entries per lane (default 2048)\n"
		"      --tx-wait-ms MS   TX ring full this long without progress: drop (200)\n"
		"      --latency-budget-ms MS  the backlog a queue may hold, in time at the\n"
		"                        expected rate (default 2): beyond it the XDP program\n"
		"                        sheds the queue's packets before the copy (counted\n"
		"                        as shed) until half of it is left; also sizes the\n"
		"                        pools (twice the budget) unless --pool-chunks is given\n"
		"                        and the partial chunk wait (a twentieth of it, at\n"
		"                        most 1 ms) unless --chunk-timeout is given\n"
		"      --expected-pps PPS  the rate the budget is counted at, all queues\n"
		"                        together (default 1000000)\n"
		"      --no-shed         no shedding: overload drops as pool exhausted\n"
		"      --cost-ns N       sleep N ns per packet before forwarding it (per chunk:\n"
		"                        a slower middlebox, for tests)\n"
		"      --csum complete|keep  TCP/UDP checksums a host stack left to the NIC\n"
		"                        (CHECKSUM_PARTIAL, as veth peers send them) are\n"
		"                        completed before they leave (complete, default)\n"
		"      --stats-json FILE accounting as JSON ('-': stdout)\n"
		"      --ready-file FILE created when forwarding runs\n"
		"  -q, --quiet           no start-up line, no human summary (warnings stay)\n"
		"      --filter-in WHERE kernel (default) or user: where --drop runs\n" ENGINE_ARGS_HELP);
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

int cmd_forward(int argc, char **argv)
{
	enum {
		O_BIDIR = 256,
		O_REFLECT,
		O_DROP,
		O_FILTER_IN,
		O_DUR,
		O_TXRING,
		O_TXWAIT,
		O_JSON,
		O_READY,
		O_CSUM,
		O_BUDGET,
		O_EXPPPS,
		O_NOSHED,
		O_COST
	};
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "output", required_argument, 0, 'o' },
		{ "bidir", no_argument, 0, O_BIDIR },
		{ "reflect", no_argument, 0, O_REFLECT },
		{ "drop", required_argument, 0, O_DROP },
		{ "filter-in", required_argument, 0, O_FILTER_IN },
		{ "write", required_argument, 0, 'w' },
		{ "duration", required_argument, 0, O_DUR },
		{ "tx-ring", required_argument, 0, O_TXRING },
		{ "tx-wait-ms", required_argument, 0, O_TXWAIT },
		{ "csum", required_argument, 0, O_CSUM },
		{ "latency-budget-ms", required_argument, 0, O_BUDGET },
		{ "expected-pps", required_argument, 0, O_EXPPPS },
		{ "no-shed", no_argument, 0, O_NOSHED },
		{ "cost-ns", required_argument, 0, O_COST },
		{ "stats-json", required_argument, 0, O_JSON },
		{ "ready-file", required_argument, 0, O_READY },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		ENGINE_ARGS_LONGOPTS,
		{ 0 }
	};
	static struct fwd F;
	struct fwd *f = &F;
	const char *in = NULL, *out = NULL, *drop = NULL, *wpath = NULL,
		   *json = NULL, *ready = NULL;
	struct engine_args ea, ea2;
	struct filter_args fa = { 0 };
	__u32 tx_ring = 0, tx_wait = 0, budget_ms = 2, exp_pps = 1000000;
	bool bidir = false, reflect = false, quiet = false, shed = true;
	uint64_t cost;
	enum wc_csum_mode csum = WC_CSUM_COMPLETE;
	int c, idx, err, rc = 0;
	char eb[600];
	double dsec;
	char *end;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->pw_lock, NULL);
	engine_args_init(&ea);
	optind = 0;
	while ((c = getopt_long(argc, argv, "i:o:w:qh", lo, &idx)) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			wpath = optarg;
			break;
		case O_BIDIR:
			bidir = true;
			break;
		case O_FILTER_IN:
			if (filter_in_parse(optarg, &fa.user))
				return 1;
			break;
		case O_REFLECT:
			reflect = true;
			break;
		case O_DROP:
			drop = optarg;
			break;
		case O_DUR:
			dsec = strtod(optarg, &end);
			if (*end || !(dsec > 0) || dsec > 1e7)
				return cmd_err("invalid --duration: '%s'",
					       optarg);
			f->duration_ns = dsec * 1e9;
			break;
		case O_TXRING:
			if (cmd_parse_u32("--tx-ring", optarg, 64, 1u << 20,
					  &tx_ring))
				return 1;
			if (tx_ring & (tx_ring - 1))
				return cmd_err(
					"invalid --tx-ring %u: must be a power of two",
					tx_ring);
			break;
		case O_TXWAIT:
			if (cmd_parse_u32("--tx-wait-ms", optarg, 1, 600000,
					  &tx_wait))
				return 1;
			break;
		case O_CSUM:
			if (!strcmp(optarg, "complete"))
				csum = WC_CSUM_COMPLETE;
			else if (!strcmp(optarg, "keep"))
				csum = WC_CSUM_KEEP;
			else
				return cmd_err(
					"invalid --csum '%s' (complete or keep)",
					optarg);
			break;
		case O_BUDGET:
			if (cmd_parse_u32("--latency-budget-ms", optarg, 1,
					  60000, &budget_ms))
				return 1;
			break;
		case O_EXPPPS:
			if (cmd_parse_u32("--expected-pps", optarg, 1000,
					  1000000000, &exp_pps))
				return 1;
			break;
		case O_NOSHED:
			shed = false;
			break;
		case O_COST:
			if (cmd_parse_u64("--cost-ns", optarg, 0, 100000000,
					  &cost))
				return 1;
			f->cost_ns = cost;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_READY:
			ready = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 0:
			err = engine_args_parse(&ea, lo[idx].name, optarg);
			if (err < 0)
				return 1;
			break;
		default:
			return cmd_bad_option("forward", argv, "i:o:w:qh", lo);
		}
	}
	if (optind != argc)
		return cmd_err("forward: unexpected argument '%s'",
			       argv[optind]);
	if (!in || !out)
		return cmd_err("forward: -i IFACE and -o IFACE are required");
	if (cmd_check_ifname(in) || cmd_check_ifname(out))
		return 1;
	if (wpath && json && !strcmp(wpath, "-") && !strcmp(json, "-"))
		return cmd_err(
			"forward: -w - and --stats-json - cannot both use standard output");
	if (!strcmp(in, out) && bidir)
		return cmd_err("forward: --bidir needs two interfaces");
	if (!strcmp(in, out) && !reflect)
		return cmd_err(
			"forward: -i and -o are both %s: every frame would go back out of the port it came from (--reflect if that is meant)",
			in);
	if (check_iface(in) || check_iface(out))
		return 1;
	if (cmd_check_output("--stats-json", json) ||
	    cmd_check_output("--ready-file", ready))
		return 1;
	if (drop && !fa.user) {
		/* in XDP: what matches is dropped before the copy */
		fa.expr = (char *)drop;
		fa.fo.drop_matching = true;
		fa.fo.action = WC_ACT_DROP;
		if (filter_check("forward --drop", &fa))
			return 1;
	} else if (drop) {
		pcap_t *pd = pcap_open_dead(DLT_EN10MB, 262144);

		if (!pd)
			return cmd_err(
				"forward: cannot set up the filter compiler");
		if (pcap_compile(pd, &f->filter, drop, 1,
				 PCAP_NETMASK_UNKNOWN)) {
			cmd_err("invalid --drop expression '%s': %s", drop,
				pcap_geterr(pd));
			pcap_close(pd);
			return 1;
		}
		pcap_close(pd);
		f->have_filter = true;
	}
	/* -w: checked now, opened once the engines run, as capture does
	 * (nothing created, truncated or removed when start-up fails); a
	 * FIFO is opened now (that destroys nothing) */
	if (wpath) {
		struct wc_pcapng_opts wpo = { .sz = sizeof(wpo),
					      .path = wpath };
		struct stat st;

		signal(SIGPIPE, SIG_IGN);
		if (strcmp(wpath, "-") && !stat(wpath, &st) &&
		    S_ISFIFO(st.st_mode)) {
			rc = open_writer(f, wpath, in, out, bidir);
			if (rc)
				goto out;
		} else if (wc_pcapng_check(&wpo, eb, sizeof(eb))) {
			rc = cmd_err_only("forward: %s", eb);
			goto out;
		}
	}
	f->ndir = bidir ? 2 : 1;
	f->d[0].in = in;
	f->d[0].out = out;
	f->d[1].in = out;
	f->d[1].out = in;
	for (unsigned i = 0; i < 2; i++)
		f->d[i].f = f;
	/* one UMEM for both directions: frames for the larger MTU */
	engine_prepare(&ea, in, bidir ? out : NULL);
	err = size_budget(&ea, in, budget_ms, exp_pps, shed);
	if (err) {
		rc = cmd_err("cannot read the queues of %s: %s", in,
			     strerror(-err));
		goto out;
	}
	if (drop && !fa.user)
		ea.eo.filter = &fa.fo;
	ea2 = ea;
	ea2.eo.attach = &ea2.ao;
	if (bidir) {
		unsigned nq;

		err = engine_queues(out, &ea, &nq);
		if (err) {
			rc = cmd_err("cannot read the queues of %s: %s", out,
				     strerror(-err));
			goto out;
		}
		ea.eo.guest_queues = nq;
	}
	sig_fwd = f;
	cmd_stop_signals(on_signal, true);
	/* Ctrl-C during a long pool set-up */
	ea.eo.cancel = ea2.eo.cancel = &sig_seen;
	f->d[0].e = engine_open(in, &ea);
	if (!f->d[0].e) {
		rc = errno == EINTR && sig_seen ? 0 : 1;
		goto out;
	}
	if (bidir) {
		ea2.eo.umem_of = f->d[0].e;
		f->d[1].e = engine_open(out, &ea2);
		if (!f->d[1].e) {
			rc = errno == EINTR && sig_seen ? 0 : 1;
			goto out;
		}
	}
	for (unsigned i = 0; i < f->ndir; i++) {
		struct dir *d = &f->d[i];
		WC_OPTS(wc_port_opts, po, .tx_ring_size = tx_ring,
			.tx_wait_ms = tx_wait, .csum = csum);
		struct wc_engine_info info;

		d->port = wc_port__open(d->e, d->out, &po);
		if (!d->port) {
			rc = cmd_err("%s: cannot open the egress port: %s",
				     d->out, strerror(errno));
			goto out;
		}
		wc_engine__info(d->e, &info);
		d->chunk_size = info.chunk_size;
		d->verdicts = calloc(
			(size_t)wc_engine__workers(d->e) * d->chunk_size, 1);
		if (!d->verdicts) {
			rc = cmd_err("out of memory");
			goto out;
		}
		memcpy(d->cpus, ea.cpus, sizeof(d->cpus));
		d->ncpus = ea.ncpus;
	}
	if (wpath && !f->pw) {
		rc = open_writer(f, wpath, in, out, bidir);
		if (rc)
			goto out;
	}
	if (sig_seen)
		for (unsigned i = 0; i < f->ndir; i++)
			wc_engine__stop(f->d[i].e);
	for (unsigned i = 0; i < f->ndir; i++) {
		err = acct_start(&f->d[i].acct, f->d[i].e);
		if (err) {
			rc = cmd_err("cannot read the counters of %s: %s",
				     f->d[i].in, strerror(-err));
			goto out;
		}
		f->d[i].acct_started = true;
	}
	f->start_ns = mono_ns();
	for (unsigned i = 0; i < f->ndir; i++) {
		err = pthread_create(&f->d[i].tid, NULL, runner, &f->d[i]);
		if (err) {
			rc = cmd_err("cannot start a thread: %s",
				     strerror(err));
			for (unsigned j = 0; j < i; j++) {
				wc_engine__stop(f->d[j].e);
				pthread_join(f->d[j].tid, NULL);
			}
			goto out;
		}
	}
	if (!quiet) {
		char desc[256], desc2[256];

		engine_describe(f->d[0].e, desc, sizeof(desc));
		if (bidir) {
			engine_describe(f->d[1].e, desc2, sizeof(desc2));
			fprintf(stderr,
				"wirecap: forwarding %s <-> %s: %s: %s; %s: %s\n",
				in, out, in, desc, out, desc2);
		} else {
			fprintf(stderr, "wirecap: forwarding %s -> %s: %s\n",
				in, out, desc);
		}
	}
	if (cmd_ready_file(ready)) {
		rc = 1;
		for (unsigned i = 0; i < f->ndir; i++)
			wc_engine__stop(f->d[i].e);
	}
	for (;;) {
		bool all = true;
		struct timespec ts = { 0, 20000000 };

		for (unsigned i = 0; i < f->ndir; i++)
			all &= atomic_load(&f->d[i].done);
		if (all)
			break;
		if (f->duration_ns && mono_ns() - f->start_ns >= f->duration_ns)
			for (unsigned i = 0; i < f->ndir; i++)
				wc_engine__stop(f->d[i].e);
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
	/* what is on the TX rings leaves (bounded), then the numbers */
	for (unsigned i = 0; i < f->ndir; i++)
		wc_port__flush(f->d[i].port, 1000);
	for (unsigned i = 0; i < f->ndir; i++) {
		struct dir *d = &f->d[i];

		wc_port__stats(d->port, &d->ps);
		acct_finish(&d->acct);
		dir_finish(d);
	}
	if (f->pw) {
		err = wc_pcapng_close(f->pw);
		f->pw = NULL;
		if (err || atomic_load(&f->pw_err))
			rc = cmd_err(
				"writing %s failed: %s", wpath,
				strerror(-(err ? err :
						 atomic_load(&f->pw_err))));
	}
	if (!quiet)
		for (unsigned i = 0; i < f->ndir; i++)
			dir_human(&f->d[i], stderr);
	if (json) {
		json_t *o = jobj(), *da = jarr();

		for (unsigned i = 0; i < f->ndir; i++)
			jpush(da, dir_json(&f->d[i]));
		jset(o, "directions", da);
		if (jwrite(o, json))
			rc = 1;
	}
out:
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
	return rc;
}
