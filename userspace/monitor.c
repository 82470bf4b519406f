// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine's monitor thread. Every interval it:
 *  - refreshes the clock offset used for timestamps and notices a vanished
 *    interface;
 *  - guards the config map: immutable fields changed behind its back are
 *    restored, invalid tunables are refused (the last valid ones stay);
 *  - runs buddy-group offloading: a worker whose backlog stays above the
 *    high watermark for the hold time sheds its hottest flow buckets to the
 *    least loaded buddies below the low watermark; buckets go home when
 *    their worker has been calm for the return time and has room; a bucket
 *    moved recently stays put for the cool-down. Moves are in order (fence.c
 *    and docs/monitor.md): this file decides what moves where, fence.c
 *    moves it;
 *  - reports and routes around a worker that stops consuming;
 *  - publishes the counters to the pinned maps for `wirecap stats`
 *    (counters.c).
 */
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "engine.h"
#include "fence.h"
#include "netdev.h"
#include "rx.h"

struct mon_worker {
	__u64 prev_packets;
	__u64 rate; /* packets consumed in the last interval */
	__u64 in_rate; /* packets steered to it in the last interval */
	__u64 projected; /* in_rate plus what this interval moved to it */
	__u64 cap; /* most it consumed in an interval while overloaded */
	__u64 over_since, under_since; /* ns; 0 = not in that state */
	__u64 backlog;
	__u64 last_seq, last_progress;
	unsigned share; /* backlog as % of a queue pool */
	bool stuck;
};

struct mon {
	struct wc_config cfg; /* last valid */
	struct wc_config boot; /* immutable fields as attached */
	struct wc_steer *steer; /* Q * B, our copy of the map */
	struct wc_bucket_stats *cur, *prev;
	__u64 *rate; /* packets per interval, per (q, b) */
	__u64 *rate_u; /* per offload unit (scratch) */
	__u64 *moved_ns; /* last move, per (q, b) */
	__u32 *order; /* scratch for sorting */
	struct mon_worker *w;
	__u64 last_ns;
	bool have_prev;
	bool warned_cfg;
	bool warned_meta;
	__u32 prog_id; /* our XDP program */
	__u64 xdp_check_ns; /* last look at what is attached */
};

static void mon_free(struct mon *m)
{
	if (!m)
		return;
	free(m->steer);
	free(m->cur);
	free(m->prev);
	free(m->rate);
	free(m->rate_u);
	free(m->moved_ns);
	free(m->order);
	free(m->w);
	free(m);
}

static unsigned home_of(const struct wc_engine *e, const struct mon *m,
			unsigned q, unsigned b);

static struct mon *mon_new(struct wc_engine *e)
{
	size_t n = (size_t)e->nq * e->buckets;
	struct mon *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->steer = calloc(n, sizeof(*m->steer));
	m->cur = calloc(n, sizeof(*m->cur));
	m->prev = calloc(n, sizeof(*m->prev));
	m->rate = calloc(n, sizeof(*m->rate));
	m->rate_u = calloc(n, sizeof(*m->rate_u));
	m->moved_ns = calloc(n, sizeof(*m->moved_ns));
	m->order = calloc(n, sizeof(*m->order));
	m->w = calloc(e->nw, sizeof(*m->w));
	if (!m->steer || !m->cur || !m->prev || !m->rate || !m->rate_u ||
	    !m->moved_ns || !m->order || !m->w) {
		mon_free(m);
		return NULL;
	}
	wc_iface__config(e->ifc, &m->cfg);
	m->boot = m->cfg;
	m->prog_id = wc_iface_prog_id(e->ifc);
	for (unsigned q = 0; q < e->nq; q++)
		for (unsigned b = 0; b < e->buckets; b++) {
			struct wc_steer *st = &m->steer[q * e->buckets + b];

			wc_iface__steer_get(e->ifc, q, b, st);
			/* a map edited by hand may name a worker we lack */
			if (st->worker >= e->nw) {
				st->worker = home_of(e, m, q, b);
				wc_iface__steer_set(e->ifc, q, b, st);
			}
		}
	return m;
}

static unsigned home_of(const struct wc_engine *e, const struct mon *m,
			unsigned q, unsigned b)
{
	return m->boot.steer_mode == WC_STEER_FLOW ? b % e->nw : q % e->nw;
}

/* Keep the config sane: immutable fields are restored, invalid tunables
 * are refused and the previous valid ones stay in force. */
static void guard_config(struct wc_engine *e, struct mon *m)
{
	struct wc_config c;
	int fd = wc_iface__map_fd(e->ifc, WC_MAP_CONFIG);
	__u32 zero = 0;

	if (wc_iface__config(e->ifc, &c))
		return;
	if (c.queues != m->boot.queues || c.workers != m->boot.workers ||
	    c.buckets != m->boot.buckets || c.version != m->boot.version ||
	    c.ifindex != m->boot.ifindex || c.netns_ino != m->boot.netns_ino ||
	    c.attach_mode != m->boot.attach_mode ||
	    c.meta_enabled != m->boot.meta_enabled) {
		pr_warn("%s: queues, workers, buckets, metadata and the attachment identity cannot change while an engine runs: restored\n",
			e->ifname);
		c.queues = m->boot.queues;
		c.workers = m->boot.workers;
		c.buckets = m->boot.buckets;
		c.version = m->boot.version;
		c.ifindex = m->boot.ifindex;
		c.netns_ino = m->boot.netns_ino;
		c.attach_mode = m->boot.attach_mode;
		c.meta_enabled = m->boot.meta_enabled;
		bpf_map_update_elem(fd, &zero, &c, BPF_ANY);
	}
	if (memcmp(&c, &m->cfg, sizeof(c))) {
		if (wc_config_validate(&m->boot, &c) == 0) {
			if (c.offload_enabled != m->cfg.offload_enabled)
				pr_info("%s: offloading %s\n", e->ifname,
					c.offload_enabled ? "on" : "off");
			m->cfg = c;
			m->warned_cfg = false;
		} else if (!m->warned_cfg) {
			pr_warn("%s: config rejected (see above); keeping the previous offload settings\n",
				e->ifname);
			m->warned_cfg = true;
		}
	}
}

static void read_rates(struct wc_engine *e, struct mon *m)
{
	size_t n = (size_t)e->nq * e->buckets;
	struct wc_bucket_stats *t;

	if (wc_iface_bucket_sums(e->ifc, m->cur, n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		m->rate[i] = m->have_prev ?
				     m->cur[i].packets - m->prev[i].packets :
				     0;
	t = m->prev;
	m->prev = m->cur;
	m->cur = t;
	m->have_prev = true;
}

/* Move (q, b) to worker `to`, in order (fence.c, which counts the move),
 * and take note: when, and whether it went home. */
static int move_bucket(struct wc_engine *e, struct mon *m, unsigned q,
		       unsigned b, unsigned to, __u64 now)
{
	size_t k = (size_t)q * e->buckets + b;
	unsigned from = m->steer[k].worker;
	struct wc_steer nv;
	int err;

	err = wc_fence_move(e, q, b, &m->steer[k], to, &nv);
	if (err)
		return err;
	m->steer[k] = nv;
	m->moved_ns[k] = now;
	if (to == home_of(e, m, q, b)) {
		atomic_fetch_add(&e->returns, 1);
	} else {
		if (!atomic_load(&e->first_move_ns))
			atomic_store(&e->first_move_ns, now);
		atomic_store(&e->last_move_ns, now);
	}
	pr_debug(
		"%s: bucket %u of queue %u: worker %u -> %u (%llu pkts/interval)\n",
		e->ifname, b, q, from, to, (unsigned long long)m->rate[k]);
	return 0;
}

/*
 * A unit of offloading. In `queue` mode a (queue, bucket); in `flow` mode
 * a bucket on every queue at once, so both directions of a flow (which may
 * arrive on different queues) stay together. Unit u: queue mode
 * u = q * buckets + b, flow mode u = b.
 */
static bool flow_mode(const struct mon *m)
{
	return m->boot.steer_mode == WC_STEER_FLOW;
}

static size_t units(const struct wc_engine *e, const struct mon *m)
{
	return flow_mode(m) ? e->buckets : (size_t)e->nq * e->buckets;
}

/* the steering key that tells a unit's owner (queue 0's entry in flow
 * mode: all queues move together) */
static size_t unit_key(size_t u)
{
	return u;
}

static __u64 unit_rate(const struct wc_engine *e, const struct mon *m, size_t u)
{
	__u64 r = 0;

	if (!flow_mode(m))
		return m->rate[u];
	for (unsigned q = 0; q < e->nq; q++)
		r += m->rate[(size_t)q * e->buckets + u];
	return r;
}

static __u64 unit_moved_ns(const struct wc_engine *e, const struct mon *m,
			   size_t u)
{
	__u64 t = 0;

	if (!flow_mode(m))
		return m->moved_ns[u];
	for (unsigned q = 0; q < e->nq; q++)
		if (m->moved_ns[(size_t)q * e->buckets + u] > t)
			t = m->moved_ns[(size_t)q * e->buckets + u];
	return t;
}

/* all of a unit's entries move, or none */
static int move_unit(struct wc_engine *e, struct mon *m, size_t u, unsigned to,
		     __u64 now)
{
	if (!flow_mode(m))
		return move_bucket(e, m, u / e->buckets, u % e->buckets, to,
				   now);
	for (unsigned q = 0; q < e->nq; q++)
		if (!wc_fence_movable(
			    e, (size_t)q * e->buckets + u,
			    m->steer[(size_t)q * e->buckets + u].worker, to) ||
		    wc_fences_pending(e) + e->nq > WC_MAX_FENCES)
			return -EBUSY;
	for (unsigned q = 0; q < e->nq; q++)
		move_bucket(e, m, q, u, to, now);
	return 0;
}

static int cmp_rate_desc(const void *a, const void *b, void *arg)
{
	const __u64 *rate = arg;
	__u64 ra = rate[*(const __u32 *)a], rb = rate[*(const __u32 *)b];

	return ra < rb ? 1 : ra > rb ? -1 : 0;
}

static int least_loaded(struct wc_engine *e, struct mon *m, unsigned except,
			bool need_low)
{
	int best = -1;

	for (unsigned w = 0; w < e->nw; w++) {
		struct mon_worker *mw = &m->w[w];

		if (w == except || mw->stuck)
			continue;
		if (need_low && mw->share >= m->cfg.offload_low_pct)
			continue;
		/* a buddy must have room by its measured capacity */
		if (need_low && mw->cap && mw->projected >= mw->cap * 9 / 10)
			continue;
		if (best < 0 || mw->projected < m->w[best].projected)
			best = w;
	}
	return best;
}

static void update_workers(struct wc_engine *e, struct mon *m, __u64 now)
{
	__u64 frames = (__u64)e->chunks * e->chunk_size;
	__u64 stuck_ns =
		(__u64)(m->cfg.offload_hold_ms > 500 ? m->cfg.offload_hold_ms :
						       500) *
		2000000ull;

	for (unsigned w = 0; w < e->nw; w++) {
		struct wc_worker *wk = &e->workers[w];
		struct mon_worker *mw = &m->w[w];
		struct wc_iface_worker_stats ws = { .sz = sizeof(ws) };
		__u64 seq = atomic_load(&wk->busy_seq);

		wc_engine__worker_stats(e, w, &ws);
		mw->rate = ws.packets - mw->prev_packets;
		mw->prev_packets = ws.packets;
		mw->backlog = ws.rx_backlog + ws.held_frames;
		mw->share = frames ? (unsigned)(mw->backlog * 100 / frames) : 0;
		mw->in_rate = 0;
		if (mw->share >= m->cfg.offload_high_pct) {
			mw->under_since = 0;
			if (!mw->over_since)
				mw->over_since = now;
		} else if (mw->share < m->cfg.offload_low_pct) {
			mw->over_since = 0;
			if (!mw->under_since)
				mw->under_since = now;
		} else {
			mw->over_since = mw->under_since = 0;
		}
		/* progress: a capture call made, or nothing to do */
		if (seq != mw->last_seq || !mw->backlog) {
			mw->last_seq = seq;
			mw->last_progress = now;
			if (mw->stuck) {
				pr_warn("%s: worker %u consumes again\n",
					e->ifname, w);
				mw->stuck = false;
				atomic_store(&wk->stuck, 0);
			}
		} else if (!mw->stuck && now - mw->last_progress > stuck_ns) {
			pr_warn("%s: worker %u is stuck: %llu packets wait in its rings; moving its buckets away\n",
				e->ifname, w, (unsigned long long)mw->backlog);
			mw->stuck = true;
			atomic_store(&wk->stuck, 1);
			atomic_fetch_add(&wk->stalls, 1);
			atomic_fetch_add(&e->stuck_events, 1);
		}
	}
	for (unsigned q = 0; q < e->nq; q++)
		for (unsigned b = 0; b < e->buckets; b++) {
			size_t k = (size_t)q * e->buckets + b;

			m->w[m->steer[k].worker].in_rate += m->rate[k];
		}
	for (unsigned w = 0; w < e->nw; w++)
		m->w[w].projected = m->w[w].in_rate;
}

static void offload(struct wc_engine *e, struct mon *m, __u64 now)
{
	__u64 hold = (__u64)m->cfg.offload_hold_ms * 1000000ull;
	__u64 ret = (__u64)m->cfg.offload_return_ms * 1000000ull;
	__u64 cool = (__u64)m->cfg.offload_cooldown_ms * 1000000ull;
	unsigned budget = m->cfg.offload_max_moves;
	size_t nu = units(e, m);

	/* 1. shed load from workers overloaded for the hold time, or stuck */
	for (unsigned w = 0; w < e->nw && budget; w++) {
		struct mon_worker *mw = &m->w[w];
		__u64 excess, moved = 0;
		size_t n = 0;

		if (mw->stuck) {
			excess = UINT64_MAX;
		} else {
			if (!mw->over_since || now - mw->over_since < hold)
				continue;
			/* draining already: the pool absorbs the rest */
			if (mw->in_rate <= mw->rate)
				continue;
			if (mw->rate > mw->cap)
				mw->cap = mw->rate;
			/* keep it below 70% of what it manages, so its backlog
			 * drains; buckets come home only under the same mark */
			excess = mw->in_rate - mw->rate * 7 / 10;
		}
		for (size_t u = 0; u < nu; u++) {
			__u64 t = unit_moved_ns(e, m, u);

			m->rate_u[u] = unit_rate(e, m, u);
			if (m->steer[unit_key(u)].worker == w &&
			    (m->rate_u[u] || mw->stuck) &&
			    (mw->stuck || !t || now - t >= cool))
				m->order[n++] = u;
		}
		qsort_r(m->order, n, sizeof(*m->order), cmp_rate_desc,
			m->rate_u);
		for (size_t i = 0; i < n && budget && moved < excess; i++) {
			size_t u = m->order[i];
			__u64 r = m->rate_u[u];
			int to = least_loaded(e, m, w, !mw->stuck);

			if (to < 0)
				break;
			if (move_unit(e, m, u, to, now))
				continue;
			moved += r;
			m->w[to].projected += r;
			mw->projected -= r < mw->projected ? r : mw->projected;
			if (!mw->stuck)
				budget--;
		}
		if (moved && !mw->stuck)
			mw->over_since =
				now; /* let the moves act before more */
	}
	/* 2. buckets go home to calm workers that have room */
	for (size_t u = 0; u < nu && budget; u++) {
		size_t k = unit_key(u);
		unsigned home = home_of(e, m, k / e->buckets, k % e->buckets);
		unsigned cur = m->steer[k].worker;
		struct mon_worker *hw = &m->w[home];
		__u64 r;

		if (cur == home || hw->stuck || !hw->under_since ||
		    now - hw->under_since < ret ||
		    now - unit_moved_ns(e, m, u) < cool)
			continue;
		/* return only what the home worker can take without tipping
		 * over: below 70% of the capacity it showed when overloaded */
		r = unit_rate(e, m, u);
		if (hw->cap && hw->projected + r > hw->cap * 7 / 10)
			continue;
		if (move_unit(e, m, u, home, now))
			continue;
		hw->projected += r;
		budget--;
	}
}

static void count_owned(struct wc_engine *e, struct mon *m)
{
	__u64 owned[WC_MAX_WORKERS] = { 0 }, foreign[WC_MAX_WORKERS] = { 0 };

	for (unsigned q = 0; q < e->nq; q++)
		for (unsigned b = 0; b < e->buckets; b++) {
			unsigned w = m->steer[q * e->buckets + b].worker;

			if (w >= e->nw)
				continue;
			owned[w]++;
			if (w != home_of(e, m, q, b))
				foreign[w]++;
		}
	for (unsigned w = 0; w < e->nw; w++) {
		atomic_store(&e->workers[w].buckets_owned, owned[w]);
		atomic_store(&e->workers[w].buckets_foreign, foreign[w]);
	}
}

/* Is our XDP program still the one attached? `wirecap detach --force`,
 * `ip link set dev X xdp off` or another attach take it away, and the
 * sockets then receive nothing: stop (like a vanished interface: the
 * workers drain what is queued) rather than capture nothing. One netlink
 * query, at most every XDP_CHECK_NS. */
#define XDP_CHECK_NS 500000000ull

static void check_xdp(struct wc_engine *e, struct mon *m, __u64 now)
{
	__u32 id;

	if (atomic_load(&e->dev_gone) ||
	    (m->xdp_check_ns && now - m->xdp_check_ns < XDP_CHECK_NS))
		return;
	m->xdp_check_ns = now;
	id = wc_iface_attached_id(e->ifc);
	if (!m->prog_id || id == m->prog_id)
		return;
	/* the interface itself may have gone since the look above */
	if ((int)if_nametoindex(e->ifname) != e->ifindex) {
		pr_warn("%s: interface disappeared\n", e->ifname);
	} else {
		/* the caller reports it (-ENOLINK from wc_engine__run) */
		pr_info("the XDP program on %s was detached or replaced (program %u, was %u): stopping\n",
			e->ifname, id, m->prog_id);
		atomic_store(&e->xdp_gone, true);
	}
	atomic_store(&e->dev_gone, true);
}

/* The interval, or at once on stop (close does not wait); link events
 * are taken as they come, timed when they happen. */
static void monitor_wait(struct wc_engine *e, __u32 ms)
{
	__u64 end = wc_now_mono() + (__u64)ms * 1000000ull;

	for (int i = 0; i < 1000 && !atomic_load(&e->stop); i++) {
		struct pollfd pfd[2] = {
			{ .fd = e->stop_efd, .events = POLLIN },
			{ .fd = wc_link_fd(e), .events = POLLIN },
		};
		__u64 now = wc_now_mono();

		if (now >= end)
			return;
		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1,
			 (int)((end - now + 999999) / 1000000)) <= 0)
			continue;
		if (pfd[1].revents)
			wc_link_read(e);
	}
}

static void *monitor_main(void *arg)
{
	struct wc_engine *e = arg;
	struct mon *m = e->monitor_state;

	while (!atomic_load(&e->stop)) {
		__u32 ms = m->cfg.offload_interval_ms ?
				   m->cfg.offload_interval_ms :
				   100;
		__u64 now;

		monitor_wait(e, ms);
		if (atomic_load(&e->stop))
			break;
		now = wc_now_mono();
		wc_refresh_rt_off(e);
		/* down and up are ridden out (link.c); vanished ends it */
		wc_link_check(e);
		check_xdp(e, m, now);
		guard_config(e, m);
		/* admission: the backlog count is corrected whenever frames
		 * go back; this catches a queue nobody touched since */
		for (unsigned q = 0; e->shed && q < e->nq; q++)
			wc_admit_check(e, &e->pools[q]);
		read_rates(e, m);
		update_workers(e, m, now);
		if (m->cfg.offload_enabled && m->boot.meta_enabled)
			offload(e, m, now);
		else if (m->cfg.offload_enabled && !m->warned_meta) {
			pr_warn("%s: offloading needs the packet metadata (attached with no_meta): off\n",
				e->ifname);
			m->warned_meta = true;
		}
		wc_fences_arm(e);
		wc_fences_timeouts(e, now);
		count_owned(e, m);
		wc_engine_publish(e);
	}
	return NULL;
}

int wc_monitor_start(struct wc_engine *e)
{
	int err;

	e->monitor_state = mon_new(e);
	if (!e->monitor_state)
		return -ENOMEM;
	count_owned(e, e->monitor_state);
	wc_link_open(e);
	wc_engine_publish(e);
	err = pthread_create(&e->monitor, NULL, monitor_main, e);
	if (err) {
		mon_free(e->monitor_state);
		e->monitor_state = NULL;
		return -err;
	}
	e->monitor_running = true;
	return 0;
}

void wc_monitor_stop(struct wc_engine *e)
{
	if (!e->monitor_running)
		return;
	atomic_store(&e->stop, true);
	pthread_join(e->monitor, NULL);
	e->monitor_running = false;
	mon_free(e->monitor_state);
	e->monitor_state = NULL;
}
