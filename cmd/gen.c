// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap gen: AF_XDP (copy mode, TX only) test traffic generator.
 *
 * Packet k of the run belongs to flow (k mod F), or with --zipf S to a flow
 * drawn from a Zipf distribution (flow i with weight 1/(i+1)^S: a few heavy
 * hitters among many small flows, the same draws every run), and carries
 * that flow's next sequence number; every flow is pinned to one TX queue
 * (weighted), so its packets stay in order. On veth, TX queue q of one end arrives on RX queue q
 * of the peer: that is how tests aim at receive queues. A packet counts as
 * sent when its TX completion comes back.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "cmd.h"
#include "json.h"
#include "netdev.h"
#include "seq.h"
#include "clock.h"
#include "params.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* Linux 6.17+ */
#endif

#define FRAME_SIZE 2048
#define NUM_FRAMES 4096
#define TX_RING 2048
#define BATCH 64
#define TX_BUDGET 256
#define MAX_QUEUES 256
#define MAX_FLOWS (1u << 20)
#define DEFAULT_COUNT 1000
#define DRAIN_NS (2 * 1000000000ULL)

struct gq {
	unsigned id;
	uint32_t weight;
	uint32_t nflows;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq; /* required by the UMEM, never used */
	struct xsk_ring_cons cq;
	struct xsk_ring_prod tx;
	int fd;
	void *area;
	uint64_t *free; /* stack of free frame addresses */
	unsigned nfree;
	unsigned round; /* packets for this queue in the current round */
	uint32_t idx;
	uint64_t submitted, completed;
	uint64_t again, busy; /* sendto EAGAIN / EBUSY */
	/* completed when a kick sent nothing (EAGAIN/ENOBUFS); UINT64_MAX:
	 * not stalled */
	uint64_t stalled_at;
	struct xdp_statistics st;
};

struct gen {
	const char *ifname;
	struct wc_netdev_info dev;
	unsigned nq;
	struct gq *q;
	uint32_t flows, flow_base;
	uint16_t *flow_q; /* flow index -> queue slot */
	uint64_t *flow_seq; /* flow index -> its next sequence number */
	double zipf; /* 0: round robin over the flows */
	double *cdf; /* --zipf: cumulative weight of flows 0..i, last = 1 */
	uint64_t rng;
	uint32_t rr; /* round robin: the flow after next_f */
	uint32_t *fl; /* flows of the packets of one round */
	struct wc_seq_tmpl *tmpl; /* per flow */
	struct wc_seq_frame_opts fo;
	uint64_t count; /* 0 = unbounded (duration) */
	double duration; /* 0 = none */
	uint64_t pps, burst, burst_gap_ms;
	bool quiet;
	const char *json;
	/* progress */
	uint64_t k; /* packets generated */
	uint32_t next_f; /* flow of packet k */
	uint64_t t_first, t_last;
	bool aborted;

	/* the options (gen_params) read later */
	const char *qlist, *wlist;
	uint32_t size, vlan;
	bool src_set;
};

static volatile sig_atomic_t stop_req;

static void on_signal(int sig)
{
	(void)sig;
	stop_req++;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000ULL,
			       .tv_nsec = t % 1000000000ULL };

	/* a signal interrupts the sleep: the caller rechecks stop_req */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int parse_mac(const char *what, const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int n = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &n) != 6 ||
	    s[n] || n != 17)
		return cmd_err("invalid %s: '%s' (expected aa:bb:cc:dd:ee:ff)",
			       what, s),
		       -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return cmd_err("invalid duration: '%s' (expected seconds > 0)",
			       s),
		       -1;
	*out = v;
	return 0;
}

static int parse_weights(const char *s, uint32_t *w, unsigned max)
{
	char *dup = strdup(s), *save = NULL, *tok;
	int n = 0;

	if (!dup)
		return cmd_err("out of memory"), -1;
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((unsigned)n == max) {
			cmd_err("too many weights (max %u)", max);
			n = -1;
			break;
		}
		if (cmd_parse_u32("weight", tok, 0, 1000000, &w[n])) {
			n = -1;
			break;
		}
		n++;
	}
	free(dup);
	if (!n)
		return cmd_err("empty weights"), -1;
	return n;
}

/* Smooth weighted round robin over the flows: deterministic, each queue
 * gets its share within one flow, and consecutive flows alternate queues so
 * a round of packets spreads over all of them. */
static void assign_flows(struct gen *g)
{
	int64_t cur[MAX_QUEUES] = { 0 }, total = 0;

	for (unsigned i = 0; i < g->nq; i++)
		total += g->q[i].weight;
	for (uint32_t f = 0; f < g->flows; f++) {
		unsigned best = 0;

		for (unsigned i = 0; i < g->nq; i++) {
			cur[i] += g->q[i].weight;
			if (g->q[i].weight &&
			    (!g->q[best].weight || cur[i] > cur[best]))
				best = i;
		}
		cur[best] -= total;
		g->flow_q[f] = (uint16_t)best;
		g->q[best].nflows++;
	}
}

static int xsk_error(struct gen *g, unsigned qid, int err, const char *what)
{
	err = err < 0 ? -err : err;
	switch (err) {
	case EPERM:
	case EACCES:
		return cmd_err("permission denied creating AF_XDP %s on %s "
			       "(needs root, or CAP_NET_RAW and CAP_IPC_LOCK)",
			       what, g->ifname);
	case EBUSY:
		return cmd_err("queue %u of %s is busy: another AF_XDP socket "
			       "is bound to it",
			       qid, g->ifname);
	case EAFNOSUPPORT:
	case ENOPROTOOPT:
		return cmd_err("AF_XDP is not supported by this kernel");
	case ENODEV:
	case ENXIO:
		return cmd_err("interface %s disappeared", g->ifname);
	default:
		return cmd_err("cannot create AF_XDP %s on %s queue %u: %s",
			       what, g->ifname, qid, strerror(err));
	}
}

static int setup_queue(struct gen *g, struct gq *q)
{
	struct xsk_umem_config ucfg = {
		.fill_size = 64,
		.comp_size = NUM_FRAMES, /* every frame may be in flight */
		.frame_size = FRAME_SIZE,
	};
	struct xsk_socket_config scfg = {
		.tx_size = TX_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	size_t sz = (size_t)NUM_FRAMES * FRAME_SIZE;
	unsigned budget = TX_BUDGET;
	int err;

	q->area = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return cmd_err("cannot map %zu bytes of UMEM: %s", sz,
			       strerror(errno));
	}
	q->free = malloc(NUM_FRAMES * sizeof(*q->free));
	if (!q->free)
		return cmd_err("out of memory");
	/* The tail of every frame is flow-independent: write it once. */
	for (unsigned i = 0; i < NUM_FRAMES; i++) {
		q->free[i] = (uint64_t)(NUM_FRAMES - 1 - i) * FRAME_SIZE;
		wc_seq_fill_tail((char *)q->area + (size_t)i * FRAME_SIZE,
				 &g->tmpl[0]);
	}
	q->nfree = NUM_FRAMES;
	q->stalled_at = UINT64_MAX;

	/* The kernel frees a closed socket's queue in deferred work: a
	 * generator started right after another one (or a capture) ended on
	 * the same queue meets EBUSY for a moment. Retried for up to 2 s. */
	for (int tries = 0;; tries++) {
		struct timespec nap = { 0, 50000000 };

		err = xsk_umem__create(&q->umem, q->area, sz, &q->fq, &q->cq,
				       &ucfg);
		if (err)
			return xsk_error(g, q->id, err, "UMEM");
		err = xsk_socket__create(&q->xsk, g->ifname, q->id, q->umem,
					 NULL, &q->tx, &scfg);
		if (!err)
			break;
		xsk_umem__delete(q->umem);
		q->umem = NULL;
		if ((err != -EBUSY && err != EBUSY) || tries == 40)
			return xsk_error(g, q->id, err, "socket");
		nanosleep(&nap, NULL);
	}
	q->fd = xsk_socket__fd(q->xsk);
	/* Linux 6.17+: let one sendto() hand more than 32 frames to the
	 * driver; older kernels refuse and keep 32, which only costs kicks. */
	setsockopt(q->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
		   sizeof(budget));
	return 0;
}

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: fast, and good enough to draw flows */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The flow of the next packet: round robin, or a Zipf draw (binary search
 * of a uniform number in the cumulative weights). */
static uint32_t draw_flow(struct gen *g)
{
	uint32_t lo = 0, hi = g->flows - 1;
	double u;

	if (!g->cdf) {
		uint32_t f = g->rr;

		g->rr = f + 1 == g->flows ? 0 : f + 1;
		return f;
	}
	u = (rng_next(&g->rng) >> 11) * 0x1.0p-53;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int zipf_init(struct gen *g)
{
	double sum = 0;

	g->cdf = malloc((size_t)g->flows * sizeof(*g->cdf));
	if (!g->cdf)
		return cmd_err("out of memory for %u flows", g->flows);
	for (uint32_t i = 0; i < g->flows; i++) {
		sum += pow(i + 1.0, -g->zipf);
		g->cdf[i] = sum;
	}
	for (uint32_t i = 0; i < g->flows; i++)
		g->cdf[i] /= sum;
	g->cdf[g->flows - 1] = 1.0;
	g->rng = 1;
	return 0;
}

static void teardown(struct gen *g)
{
	for (unsigned i = 0; g->q && i < g->nq; i++) {
		struct gq *q = &g->q[i];

		if (q->xsk)
			xsk_socket__delete(q->xsk);
		if (q->umem)
			xsk_umem__delete(q->umem);
		if (q->area)
			munmap(q->area, (size_t)NUM_FRAMES * FRAME_SIZE);
		free(q->free);
	}
	free(g->q);
	free(g->flow_q);
	free(g->flow_seq);
	free(g->cdf);
	free(g->fl);
	free(g->tmpl);
}

static void reap(struct gen *g, struct gq *q, uint64_t now)
{
	uint32_t idx, n = xsk_ring_cons__peek(&q->cq, NUM_FRAMES, &idx);

	if (!n)
		return;
	for (uint32_t i = 0; i < n; i++)
		q->free[q->nfree++] =
			*xsk_ring_cons__comp_addr(&q->cq, idx + i);
	xsk_ring_cons__release(&q->cq, n);
	q->completed += n;
	g->t_last = now;
}

/* Descriptors the kernel has not consumed yet */
static uint32_t tx_pending(struct gq *q)
{
	return TX_RING - xsk_prod_nb_free(&q->tx, TX_RING);
}

/* Kick one queue. Copy mode transmits only inside sendto(); returns -1
 * on a fatal error. */
static int kick(struct gen *g, struct gq *q)
{
	uint32_t pending = tx_pending(q);

	if (!xsk_ring_prod__needs_wakeup(&q->tx) || !pending)
		return 0;
	/* The last kick sent nothing: the socket's send buffer is full of
	 * frames the receiver has not consumed yet (copy mode). Kick again
	 * once some completed. Kicking meanwhile only fails again, and each
	 * failure takes the completion ring's lock and the socket's
	 * accounting that the receiving CPU takes to free every frame: on
	 * veth, a sender that keeps kicking slows the system it measures. */
	if (q->stalled_at == q->completed)
		return 0;
	q->stalled_at = UINT64_MAX;
	if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	switch (errno) {
	case EAGAIN: /* budget used up or send buffer full: retry */
	case ENOBUFS: /* skb allocation failed: retry */
	case EINTR:
		q->again++;
		/* nothing taken, and frames out that will complete (with none
		 * out, only a retry can make progress) */
		if (tx_pending(q) == pending &&
		    q->submitted - pending > q->completed)
			q->stalled_at = q->completed;
		return 0;
	case EBUSY:
		/* the driver dropped the frame (it still completes): counted
		 * in the device's tx_dropped too */
		q->busy++;
		return 0;
	case ENETDOWN:
		return cmd_err("interface %s went down", g->ifname), -1;
	case ENXIO:
	case ENODEV:
		return cmd_err("interface %s disappeared", g->ifname), -1;
	default:
		return cmd_err("send on %s queue %u failed: %s", g->ifname,
			       q->id, strerror(errno)),
		       -1;
	}
}

/* Queue up to max packets, in order of k, as long as every queue the next
 * packet needs has ring space and frames. Returns packets queued. */
static uint64_t fill_round(struct gen *g, uint64_t max, uint64_t now)
{
	unsigned cap[MAX_QUEUES];
	uint64_t n = 0;

	for (unsigned i = 0; i < g->nq; i++) {
		struct gq *q = &g->q[i];
		uint32_t room = xsk_prod_nb_free(&q->tx, BATCH);

		cap[i] = BATCH;
		if (room < cap[i])
			cap[i] = room;
		if (q->nfree < cap[i])
			cap[i] = q->nfree;
		q->round = 0;
	}
	/* at most BATCH packets per queue: fl[] holds nq * BATCH */
	while (n < max) {
		unsigned qi = g->flow_q[g->next_f];

		if (g->q[qi].round == cap[qi])
			break;
		g->q[qi].round++;
		g->fl[n++] = g->next_f;
		g->next_f = draw_flow(g);
	}
	if (!n)
		return 0;
	for (unsigned i = 0; i < g->nq; i++)
		if (g->q[i].round)
			xsk_ring_prod__reserve(&g->q[i].tx, g->q[i].round,
					       &g->q[i].idx);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t f = g->fl[i];
		struct gq *q = &g->q[g->flow_q[f]];
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, q->idx++);
		uint64_t addr = q->free[--q->nfree];

		wc_seq_tmpl_write(&g->tmpl[f], (char *)q->area + addr,
				  g->flow_seq[f]++, now);
		d->addr = addr;
		d->len = g->tmpl[f].len;
		d->options = 0;
	}
	for (unsigned i = 0; i < g->nq; i++) {
		struct gq *q = &g->q[i];

		if (q->round) {
			xsk_ring_prod__submit(&q->tx, q->round);
			q->submitted += q->round;
		}
	}
	if (!g->k)
		g->t_first = now;
	g->k += n;
	return n;
}

/* A peer without NAPI on its receive path (veth with generic XDP or none)
 * queues each packet on the backlog of the CPU that sent it, and two CPUs'
 * backlogs run in parallel: a sender that migrates would reorder its own
 * flows before any capture sees them. So gen stays on the CPU it started
 * on (best effort: a failure only loses that guarantee). */
static void stay_on_this_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int run(struct gen *g)
{
	uint64_t t0 = wc_clock_mono_ns(), t_end = 0, pace0 = t0, pace_k = 0;
	uint64_t burst_left = g->burst, gap_until = 0, drain_end = 0;
	uint64_t quantum = 1;
	unsigned idle = 0;

	stay_on_this_cpu();
	if (g->duration > 0)
		t_end = t0 + (uint64_t)(g->duration * 1e9);
	/* pace in batches: about 20 k wakeups/s at most */
	if (g->pps) {
		quantum = g->pps / 20000;
		quantum = quantum < 1 ? 1 : quantum > BATCH ? BATCH : quantum;
	}
	for (;;) {
		uint64_t now = wc_clock_mono_ns(), allow = UINT64_MAX, done = 0;
		bool generating, progress = false;

		for (unsigned i = 0; i < g->nq; i++) {
			uint64_t before = g->q[i].completed;

			reap(g, &g->q[i], now);
			progress |= g->q[i].completed != before;
		}
		generating = !drain_end && !stop_req &&
			     (!g->count || g->k < g->count) &&
			     (!t_end || now < t_end);
		if (!generating && !drain_end) {
			drain_end = now + DRAIN_NS;
			if (stop_req)
				g->aborted = true;
		}
		if (generating && g->burst && !burst_left) {
			bool pending = false;

			for (unsigned i = 0; i < g->nq; i++)
				pending |= tx_pending(&g->q[i]) != 0;
			if (!pending && !gap_until)
				gap_until = now + g->burst_gap_ms * 1000000ULL;
			if (gap_until && now >= gap_until) {
				gap_until = 0;
				burst_left = g->burst;
				pace0 = now;
				pace_k = 0;
			} else if (gap_until) {
				uint64_t t = gap_until;

				if (t_end && t_end < t)
					t = t_end;
				if (t > now + 100000000ULL)
					t = now + 100000000ULL;
				sleep_until(t);
				continue;
			}
		}
		if (generating && g->count)
			allow = g->count - g->k;
		if (generating && g->burst && burst_left < allow)
			allow = burst_left;
		if (generating && g->pps) {
			uint64_t due = (uint64_t)((double)(now - pace0) *
						  g->pps / 1e9) +
				       1;
			uint64_t want = quantum < allow ? quantum : allow;
			uint64_t ok = due > pace_k ? due - pace_k : 0;

			if (ok < want) {
				/* sleep until a whole quantum is due */
				uint64_t t =
					pace0 +
					(uint64_t)((double)(pace_k + want - 1) *
						   1e9 / g->pps);

				for (unsigned i = 0; i < g->nq; i++)
					if (kick(g, &g->q[i]))
						return -1;
				if (t_end && t_end < t)
					t = t_end;
				if (t > now + 100000000ULL)
					t = now + 100000000ULL;
				if (t > now)
					sleep_until(t);
				continue;
			}
			if (ok < allow)
				allow = ok;
		}
		if (generating) {
			done = fill_round(g, allow, now);
			pace_k += done;
			if (g->burst)
				burst_left -= done;
			progress |= done != 0;
		}
		for (unsigned i = 0; i < g->nq; i++)
			if (kick(g, &g->q[i]))
				return -1;
		if (drain_end) {
			bool all = true;

			for (unsigned i = 0; i < g->nq; i++)
				all &= g->q[i].completed == g->q[i].submitted;
			if (all)
				return 0;
			if (now >= drain_end || stop_req > 1) {
				g->aborted = true;
				return 0;
			}
		}
		/* Waiting for completions (receiver slower than us): don't
		 * burn the CPU the receive path may need. */
		if (progress) {
			idle = 0;
		} else if (++idle > 256) {
			usleep(20);
		}
	}
}

static json_t *queue_json(const struct gq *q)
{
	json_t *o = jobj();

	jset_i64(o, "queue", q->id);
	jset_i64(o, "weight", q->weight);
	jset_u64(o, "sent", q->completed);
	jset_i64(o, "flows", q->nflows);
	jset_u64(o, "tx_invalid", q->st.tx_invalid_descs);
	jset_u64(o, "tx_ring_empty", q->st.tx_ring_empty_descs);
	return o;
}

static void summary(struct gen *g, const struct rtnl_link_stats64 *s0,
		    const struct rtnl_link_stats64 *s1, bool have_stats)
{
	uint64_t sent = 0, submitted = 0, invalid = 0, empty = 0, busy = 0;
	uint64_t again = 0;
	uint64_t dropped = have_stats ? s1->tx_dropped - s0->tx_dropped : 0;
	double dur =
		g->t_last > g->t_first ? (g->t_last - g->t_first) / 1e9 : 0;
	double rate;

	for (unsigned i = 0; i < g->nq; i++) {
		struct gq *q = &g->q[i];
		socklen_t len = sizeof(q->st);

		if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &q->st, &len))
			memset(&q->st, 0, sizeof(q->st));
		sent += q->completed;
		submitted += q->submitted;
		invalid += q->st.tx_invalid_descs;
		empty += q->st.tx_ring_empty_descs;
		busy += q->busy;
		again += q->again;
	}
	rate = dur > 0 ? sent / dur : 0;
	if (g->json) {
		json_t *o = jobj(), *qa = jarr();

		jset_str(o, "interface", g->ifname);
		jset_u64(o, "sent", sent);
		jset_u64(o, "submitted", submitted);
		jset_fixed(o, "duration_s", dur, 6);
		jset_fixed(o, "pps", rate, 1);
		jset_i64(o, "flows", g->flows);
		jset_i64(o, "flow_base", g->flow_base);
		jset_g(o, "zipf", g->zipf);
		jset_i64(o, "size", g->fo.size);
		jset_bool(o, "reverse", g->fo.reverse);
		jset_i64(o, "vlan", g->fo.vlan);
		for (unsigned i = 0; i < g->nq; i++)
			jpush(qa, queue_json(&g->q[i]));
		jset(o, "queues", qa);
		jset_u64(o, "tx_invalid", invalid);
		jset_u64(o, "tx_ring_empty", empty);
		jset_u64(o, "tx_busy_drops", busy);
		jset_u64(o, "tx_retries", again);
		jset_u64(o, "dev_tx_dropped", dropped);
		jset_bool(o, "interrupted", g->aborted);
		/* a failed write is reported; the exit status is the send's */
		jwrite(o, g->json);
	}
	if (sent != submitted)
		cmd_err("warning: %llu packets submitted but not completed",
			(unsigned long long)(submitted - sent));
	if (!g->quiet)
		fprintf(stderr,
			"wirecap gen: %s: sent %llu packets in %.3f s (%.0f pps), "
			"%u flows, %u B, %u queues; tx_invalid %llu, "
			"driver drops %llu, dev_tx_dropped %llu%s\n",
			g->ifname, (unsigned long long)sent, dur, rate,
			g->flows, g->fo.size, g->nq,
			(unsigned long long)invalid, (unsigned long long)busy,
			(unsigned long long)dropped,
			g->aborted ? " (interrupted)" : "");
}

static int set_duration(void *cfg, const struct param *p, const char *v)
{
	struct gen *g = cfg;

	(void)p;
	return parse_seconds(v, &g->duration) ? -1 : 0;
}

static int set_zipf(void *cfg, const struct param *p, const char *v)
{
	struct gen *g = cfg;
	char *end;

	(void)p;
	errno = 0;
	g->zipf = strtod(v, &end);
	if (errno || end == v || *end || !(g->zipf > 0) || g->zipf > 10)
		return cmd_err("invalid --zipf: '%s' (expected an exponent in (0, 10])",
			       v),
		       -1;
	return 0;
}

static int set_src_mac(void *cfg, const struct param *p, const char *v)
{
	struct gen *g = cfg;

	(void)p;
	if (parse_mac("source MAC", v, g->fo.src_mac))
		return -1;
	g->src_set = true;
	return 0;
}

static int set_dst_mac(void *cfg, const struct param *p, const char *v)
{
	struct gen *g = cfg;

	(void)p;
	return parse_mac("destination MAC", v, g->fo.dst_mac);
}

#define G struct gen
/* the numbers the help names */
_Static_assert(DEFAULT_COUNT == 1000 && MAX_FLOWS == 1048576 &&
		       WC_SEQ_MIN_FRAME == 66,
	       "gen --help names them");

static const struct param gen_params[] = {
	PARAM_STR('i', "interface", "IFACE", "device to send on (required)", G,
		  ifname),
	PARAM_STR('q', "queues", "LIST",
		  "TX queues, e.g. 0,1,2-3 (default: all)", G, qlist),
	PARAM_U64('c', "count", "N",
		  "packets to send (default 1000 when no\n"
		  "--duration is given)",
		  G, count, 1, UINT64_MAX / 2, "count"),
	PARAM_FN('d', "duration", "SEC",
		 "stop after SEC seconds (fractions allowed)", set_duration),
	PARAM_U64(0, "pps", "N", "packet rate (default 0: as fast as possible)",
		  G, pps, 0, 1000000000ULL, "pps"),
	PARAM_U32(0, "flows", "F", "number of flows (default 64, max 1048576)",
		  G, flows, 1, MAX_FLOWS, "flows"),
	PARAM_U32(0, "flow-base", "B", "flow ids B..B+F-1 (default 0)", G,
		  flow_base, 0, UINT32_MAX, "flow base"),
	PARAM_FN(0, "zipf", "S",
		 "flow of each packet drawn from a Zipf\n"
		 "distribution with exponent S (flow i has\n"
		 "weight 1/(i+1)^S; fixed seed: the same\n"
		 "sequence every run) instead of k mod F",
		 set_zipf),
	PARAM_U32('s', "size", "BYTES",
		  "frame size without FCS (default and\n"
		  "minimum 66, 70 with --vlan; max 1514,\n"
		  "1518 with --vlan); smaller sizes are raised",
		  G, size, 60, WC_SEQ_MAX_FRAME_VLAN, "size"),
	PARAM_STR(0, "weights", "W,W,..",
		  "per-queue weights for assigning flows\n"
		  "(one per queue, 0 = no flows)",
		  G, wlist),
	PARAM_U64(0, "burst", "N", "send N packets, then pause ...", G, burst,
		  1, UINT64_MAX / 2, "burst"),
	PARAM_U64(0, "burst-gap-ms", "MS", "... MS milliseconds, repeat", G,
		  burst_gap_ms, 0, 3600000, "burst gap"),
	PARAM_FLAG(0, "reverse", "the reverse direction of the flows", G,
		   fo.reverse),
	PARAM_U32(0, "vlan", "ID", "add an 802.1Q tag", G, vlan, 1, 4094,
		  "VLAN id"),
	PARAM_FN(0, "src-mac", "MAC", "(default: the interface's address)",
		 set_src_mac),
	PARAM_FN(0, "dst-mac", "MAC", "(default: 02:00:00:00:00:01)",
		 set_dst_mac),
	PARAM_STR(0, "json", "FILE|-", "write a JSON summary ('-': stdout)", G,
		  json),
	PARAM_FLAG(0, "quiet", "no human summary on stderr", G, quiet),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd gen_cmd = {
	.name = "gen",
	.head = "Usage: wirecap gen -i IFACE [options]\n"
		"Send UDP/IPv4 test packets (198.18.0.0/15) carrying flow id and\n"
		"per-flow sequence number, over AF_XDP in copy mode (TX only).\n"
		"Packet k goes to flow k mod F; each flow stays on one TX queue.\n\n",
	.tail = "\nA packet counts as sent when its TX completion returns. Ctrl-C stops\n"
		"and still prints the summary of the packets completed.\n",
	.params = gen_params,
};

/* the options, and the frame size they give. 0, or 1 when the command
 * ends now with *rc. */
static int gen_parse(struct gen *g, int argc, char **argv, int *rc)
{
	*rc = 1;
	if (params_parse(&gen_cmd, g, argc, argv, rc))
		return 1;
	if (optind < argc)
		return cmd_err("unexpected argument '%s'", argv[optind]);
	if (!g->ifname)
		return cmd_err("gen needs an interface: -i IFACE");
	if (cmd_check_ifname(g->ifname))
		return 1;
	if (!g->count && !g->duration)
		g->count = DEFAULT_COUNT;
	if (g->burst_gap_ms && !g->burst)
		return cmd_err("--burst-gap-ms needs --burst");
	if ((uint64_t)g->flow_base + g->flows - 1 > UINT32_MAX)
		return cmd_err("flow ids %u..%llu do not fit in 32 bits",
			       g->flow_base,
			       (unsigned long long)g->flow_base + g->flows - 1);
	g->fo.vlan = (uint16_t)g->vlan;
	g->fo.size = g->size ? g->size : wc_seq_min_size(&g->fo);
	if (g->fo.size < wc_seq_min_size(&g->fo)) {
		if (!g->quiet)
			fprintf(stderr,
				"wirecap gen: frame size %u raised to "
				"%u, the minimum for the test headers\n",
				g->fo.size, wc_seq_min_size(&g->fo));
		g->fo.size = wc_seq_min_size(&g->fo);
	}
	if (!g->vlan && g->fo.size > WC_SEQ_MAX_FRAME)
		return cmd_err(
			"frame size %u too large: max %u (%u with --vlan)",
			g->fo.size, WC_SEQ_MAX_FRAME, WC_SEQ_MAX_FRAME_VLAN);
	return 0;
}

/* -q LIST: queues of the device, each once (default: all) */
static int gen_queues(struct gen *g, unsigned txq, unsigned *qids)
{
	int nq;

	if (!g->qlist) {
		for (unsigned i = 0; i < txq; i++)
			qids[i] = i;
		return (int)txq;
	}
	nq = cmd_parse_list("queues", g->qlist, qids, MAX_QUEUES);
	if (nq < 0)
		return -1;
	for (int i = 0; i < nq; i++) {
		if (qids[i] >= txq)
			return cmd_err("queue %u out of range: %s has %u "
				       "TX queue%s (0-%u)",
				       qids[i], g->ifname, txq,
				       txq > 1 ? "s" : "", txq - 1),
			       -1;
		for (int j = 0; j < i; j++)
			if (qids[j] == qids[i])
				return cmd_err("queue %u listed twice",
					       qids[i]),
				       -1;
	}
	return nq;
}

/* --weights: one per queue, not all 0. 0, or 1. */
static int gen_weights(struct gen *g, int nq, uint32_t *weights)
{
	uint64_t sum = 0;
	int nw = parse_weights(g->wlist, weights, MAX_QUEUES);

	if (nw < 0)
		return 1;
	if (nw != nq)
		return cmd_err("--weights has %d entr%s, expected %d "
			       "(one per queue)",
			       nw, nw == 1 ? "y" : "ies", nq);
	for (int i = 0; i < nw; i++)
		sum += weights[i];
	if (!sum)
		return cmd_err("all weights are 0");
	return 0;
}

/* The device (up, with carrier, MTU), its queues and their weights; then
 * the flows' state and templates. 0, or 1 after a one-line error. */
static int gen_setup(struct gen *g)
{
	unsigned qids[MAX_QUEUES], rxq, txq;
	uint32_t weights[MAX_QUEUES];
	int nq, err;

	err = wc_netdev_get_info(g->ifname, &g->dev);
	if (err == -ENODEV)
		return cmd_err("unknown interface '%s'", g->ifname);
	if (err)
		return cmd_err("cannot query interface %s: %s", g->ifname,
			       strerror(-err));
	if (!(g->dev.flags & IFF_UP))
		return cmd_err("interface %s is down", g->ifname);
	if (!(g->dev.flags & IFF_RUNNING))
		return cmd_err("interface %s has no carrier (is its peer up?)",
			       g->ifname);
	if (g->fo.size - 14 - (g->vlan ? 4 : 0) > g->dev.mtu)
		return cmd_err("frame size %u exceeds the MTU %u of %s",
			       g->fo.size, g->dev.mtu, g->ifname);
	if (!g->src_set)
		memcpy(g->fo.src_mac, g->dev.mac, 6);
	err = wc_netdev_queues(g->ifname, &rxq, &txq);
	if (err)
		return cmd_err("cannot read queue count of %s: %s", g->ifname,
			       strerror(-err));
	if (txq > MAX_QUEUES)
		txq = MAX_QUEUES;
	nq = gen_queues(g, txq, qids);
	if (nq < 0 || (g->wlist && gen_weights(g, nq, weights)))
		return 1;

	g->nq = (unsigned)nq;
	g->q = calloc(g->nq, sizeof(*g->q));
	g->flow_q = malloc(g->flows * sizeof(*g->flow_q));
	g->tmpl = malloc((size_t)g->flows * sizeof(*g->tmpl));
	g->flow_seq = calloc(g->flows, sizeof(*g->flow_seq));
	g->fl = malloc((size_t)g->nq * BATCH * sizeof(*g->fl));
	if (!g->q || !g->flow_q || !g->tmpl || !g->flow_seq || !g->fl)
		return cmd_err("out of memory for %u flows", g->flows);
	for (unsigned i = 0; i < g->nq; i++) {
		g->q[i].id = qids[i];
		g->q[i].weight = g->wlist ? weights[i] : 1;
		g->q[i].fd = -1;
	}
	for (uint32_t f = 0; f < g->flows; f++)
		if (wc_seq_tmpl_init(&g->tmpl[f], &g->fo, g->flow_base + f))
			return cmd_err("cannot build a %u-byte frame",
				       g->fo.size);
	assign_flows(g);
	if (g->zipf > 0 && zipf_init(g))
		return 1;
	g->next_f = draw_flow(g);
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	struct gen g = { .flows = 64,
			 .fo.dst_mac = { 0x02, 0, 0, 0, 0, 0x01 } };
	struct rtnl_link_stats64 s0 = {}, s1 = {};
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	bool have_stats;
	int ret = 1, err;

	if (gen_parse(&g, argc, argv, &ret))
		return ret;
	ret = 1;
	if (gen_setup(&g))
		goto out;
	/* root has CAP_IPC_LOCK; others need the limit for the UMEM */
	setrlimit(RLIMIT_MEMLOCK, &rl);
	for (unsigned i = 0; i < g.nq; i++)
		if (setup_queue(&g, &g.q[i]))
			goto out;

	/* no SA_RESTART: a signal ends the pacing sleep at once */
	cmd_stop_signals(on_signal, false);
	have_stats = !wc_netdev_stats(g.dev.ifindex, &s0);

	err = run(&g);
	have_stats = have_stats && !wc_netdev_stats(g.dev.ifindex, &s1);
	summary(&g, &s0, &s1, have_stats);
	ret = err ? 1 : 0;
out:
	cmd_stop_signals(NULL, true);
	teardown(&g);
	return ret;
}
