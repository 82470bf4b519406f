// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wc_noop: the smallest wirecap analyzer, on the public API only
 * (wc_engine__open + wc_engine__run with a chunk callback that touches the
 * first byte of every packet). `make bench` uses it next to `wirecap bench`
 * (which also verifies the flow/sequence payload of every packet) to tell
 * the engine's own cost from the analyzer's, against the plain AF_XDP loop
 * that does exactly the same per packet.
 *
 *   wc_noop -i IFACE [--workers N] [--pool-chunks R] [--chunk-size M]
 *           [--wait chunk|poll|busy] [--chunk-timeout US]
 *           [common options but --idle-exit, see --help (common/loop.h)]
 * SIGINT/SIGTERM: stop (the engine drains its rings), print the summary.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wirecap/wirecap.h>
#include "common/loop.h"

static struct loop lp;
static struct wc_engine *engine;
static _Atomic uint64_t packets;
static unsigned chunk_size; /* the engine's (full chunks: the drain) */

static void stop_engine(void)
{
	wc_engine__stop(engine);
}

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *arg)
{
	struct wc_pkt *p;
	unsigned n;

	(void)w;
	(void)arg;
	if (!c)
		return 0;
	n = wc_chunk__count(c);
	p = wc_chunk__pkts(c);
	loop_drain_step(&lp, n, n == chunk_size);
	for (unsigned i = 0; i < n; i++) {
		(void)*(volatile const char *)p[i].data;
		loop_cost(&lp);
	}
	atomic_fetch_add_explicit(&packets, n, memory_order_relaxed);
	if (loop_stall_claim(&lp)) {
		wc_chunk__recycle(c); /* a stalled analyzer holds nothing */
		loop_stall_sleep(&lp);
		return WC_CHUNK_KEEP;
	}
	return 0;
}

static int silent(enum wc_print_level l, const char *fmt, va_list ap)
{
	if (l == WC_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

struct sums {
	uint64_t delivered, fill_empty, ring_full, other, hwm, frames;
	const char *bind;
};

static void read_stats(struct sums *s)
{
	struct wc_engine_info ei;

	for (unsigned q = 0; q < wc_engine__queues(engine); q++) {
		struct wc_pool_stats ps;

		if (wc_engine__pool_stats(engine, q, &ps))
			continue;
		s->delivered += ps.delivered;
		s->fill_empty += ps.fill_empty;
		s->ring_full += ps.ring_full;
		s->other += ps.other_dropped;
		s->frames = ps.frames;
		if (ps.hwm > s->hwm)
			s->hwm = ps.hwm;
	}
	wc_engine__info(engine, &ei);
	s->bind = ei.bind_mode == WC_BIND_ZEROCOPY ? "zerocopy" : "copy";
}

/* --wait: anything else is chunk */
static int parse_wait(const char *arg, void *dst)
{
	*(enum wc_wait_mode *)dst = !strcmp(arg, "poll") ? WC_WAIT_POLL :
				    !strcmp(arg, "busy") ? WC_WAIT_BUSY_POLL :
							   WC_WAIT_CHUNK;
	return 0;
}

int main(int argc, char **argv)
{
	WC_OPTS(wc_attach_opts, ao);
	WC_OPTS(wc_engine_opts, eo, .attach = &ao);
	const struct loop_opt opts[] = {
		{ "workers", "N", "engine workers (default: one per queue)",
		  LOOP_UINT, &ao.workers },
		{ "pool-chunks", "R", "chunks per queue pool", LOOP_UINT,
		  &eo.chunks },
		{ "chunk-size", "M", "frames per chunk (default 64)", LOOP_UINT,
		  &eo.chunk_size },
		{ "wait", "W", "chunk (default), poll or busy", LOOP_FUNC,
		  &eo.wait, parse_wait },
		{ "chunk-timeout", "US", "with --wait chunk", LOOP_UINT,
		  &eo.chunk_timeout_us },
		{ 0 }
	};
	const struct loop_tool tool = {
		.name = "wc_noop",
		.about =
			"The wirecap engine on its public API (wc_engine__run), touching every\n"
			"packet as afxdp_loop does: the engine's own cost, for comparison.\n",
		.opts = opts,
		.common = LOOP_O_ALL & ~LOOP_O_IDLE,
	};
	struct sums s = {};
	unsigned cpu;
	int err, rc;

	loop_parse(&lp, &tool, argc, argv);
	wc_set_print(silent);
	chunk_size = eo.chunk_size ? eo.chunk_size : 64;
	loop_cost_init(&lp);
	engine = wc_engine__open(lp.ifname, &eo);
	if (!engine)
		return loop_err(errno, "%s", lp.ifname);
	loop_signals(stop_engine);
	loop_ready(&lp);
	cpu = (unsigned)lp.cpu;
	{
		WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk,
			.cpus = lp.cpu >= 0 ? &cpu : NULL,
			.ncpus = lp.cpu >= 0 ? 1 : 0);

		err = wc_engine__run(engine, &ro);
	}
	read_stats(&s);
	rc = loop_json(
		&lp, NULL,
		"{\"tool\":\"wc_noop\",\"received\":%llu,\"delivered\":%llu,"
		"\"dropped\":{\"pool_exhausted\":%llu,\"ring_full\":%llu,\"other\":%llu,"
		"\"total\":%llu},\"pool_frames_per_queue\":%llu,\"hwm\":%llu,"
		"\"bind\":\"%s\",\"drain_pkts\":%llu,\"drain_ns_per_pkt\":%.1f}\n",
		(unsigned long long)atomic_load(&packets),
		(unsigned long long)s.delivered,
		(unsigned long long)s.fill_empty,
		(unsigned long long)s.ring_full, (unsigned long long)s.other,
		(unsigned long long)(s.fill_empty + s.ring_full + s.other),
		(unsigned long long)s.frames, (unsigned long long)s.hwm, s.bind,
		(unsigned long long)lp.drain.pkts, loop_drain_ns_per_pkt(&lp));
	fprintf(stderr,
		"wc_noop: %s: %llu packets, %llu dropped (pool %llu, ring %llu)%s%s\n",
		lp.ifname, (unsigned long long)atomic_load(&packets),
		(unsigned long long)(s.fill_empty + s.ring_full + s.other),
		(unsigned long long)s.fill_empty,
		(unsigned long long)s.ring_full, err ? ": " : "",
		err ? strerror(-err) : "");
	wc_engine__close(engine);
	return err ? 1 : rc;
}
