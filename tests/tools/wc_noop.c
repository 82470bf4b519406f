// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wc_noop: the smallest wirecap analyzer, on the public API only
 * (wc_engine__open + wc_engine__run with a chunk callback that touches the
 * first byte of every packet). `make bench` uses it next to `wirecap bench`
 * (which also verifies the flow/sequence payload of every packet) to tell
 * the engine's own cost from the analyzer's, against the plain AF_XDP loop
 * that does exactly the same per packet.
 *
 *   wc_noop -i IFACE [--workers N] [--cpu C] [--cost-ns N] [--stall-ms MS]
 *           [--pool-chunks R] [--chunk-size M] [--wait chunk|poll|busy]
 *           [--chunk-timeout US] [--json FILE|-] [--ready-file FILE]
 * SIGINT/SIGTERM: stop (the engine drains its rings), print the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wirecap/wirecap.h>
#include "clock.h"

struct ctx {
	_Atomic uint64_t packets;
	uint64_t spins, cost_ns, stall_ms, chunk_size;
	atomic_bool stalled;
	/* after the stall: CPU time of the worker thread while it drains the
	 * backlog (full chunks), i.e. the engine's cost per packet with no
	 * kernel work and no wait in between */
	int draining;
	uint64_t drain_cpu0, drain_cpu, drain_pkts;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct wc_engine *g_engine;

static void on_signal(int sig)
{
	(void)sig;
	wc_engine__stop(g_engine);
}

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *arg)
{
	struct ctx *x = arg;
	struct wc_pkt *p;
	unsigned n;

	(void)w;
	if (!c)
		return 0;
	n = wc_chunk__count(c);
	p = wc_chunk__pkts(c);
	if (x->draining) {
		uint64_t t = thread_cpu_ns();

		if (n == x->chunk_size) {
			x->drain_pkts += n;
			x->drain_cpu = t - x->drain_cpu0;
		} else {
			x->draining = 0;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		(void)*(volatile const char *)p[i].data;
		if (x->spins)
			wc_spin(x->cost_ns * x->spins / 1000);
	}
	atomic_fetch_add_explicit(&x->packets, n, memory_order_relaxed);
	if (x->stall_ms && !atomic_exchange(&x->stalled, true)) {
		struct timespec ts = { .tv_sec = x->stall_ms / 1000,
				       .tv_nsec =
					       (x->stall_ms % 1000) * 1000000 };

		wc_chunk__recycle(c); /* a stalled analyzer holds nothing */
		nanosleep(&ts, NULL);
		x->draining = 1;
		x->drain_cpu0 = thread_cpu_ns();
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

int main(int argc, char **argv)
{
	enum {
		O_W = 256,
		O_CPU,
		O_COST,
		O_STALL,
		O_PC,
		O_CS,
		O_WAIT,
		O_CT,
		O_JSON,
		O_READY
	};
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "workers", required_argument, 0, O_W },
		{ "cpu", required_argument, 0, O_CPU },
		{ "cost-ns", required_argument, 0, O_COST },
		{ "stall-ms", required_argument, 0, O_STALL },
		{ "pool-chunks", required_argument, 0, O_PC },
		{ "chunk-size", required_argument, 0, O_CS },
		{ "wait", required_argument, 0, O_WAIT },
		{ "chunk-timeout", required_argument, 0, O_CT },
		{ "json", required_argument, 0, O_JSON },
		{ "ready-file", required_argument, 0, O_READY },
		{ 0 }
	};
	WC_OPTS(wc_attach_opts, ao);
	WC_OPTS(wc_engine_opts, eo, .attach = &ao);
	const char *ifname = NULL, *json = NULL, *ready = NULL;
	struct ctx x = {};
	unsigned cpu = 0;
	int have_cpu = 0, c, err;
	uint64_t delivered = 0, fill_empty = 0, ring_full = 0, other = 0,
		 hwm = 0, frames = 0;
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };

	while ((c = getopt_long(argc, argv, "i:", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case O_W:
			ao.workers = strtoul(optarg, NULL, 0);
			break;
		case O_CPU:
			cpu = strtoul(optarg, NULL, 0);
			have_cpu = 1;
			break;
		case O_COST:
			x.cost_ns = strtoull(optarg, NULL, 0);
			break;
		case O_STALL:
			x.stall_ms = strtoull(optarg, NULL, 0);
			break;
		case O_PC:
			eo.chunks = strtoul(optarg, NULL, 0);
			break;
		case O_CS:
			eo.chunk_size = strtoul(optarg, NULL, 0);
			break;
		case O_WAIT:
			eo.wait = !strcmp(optarg, "poll") ? WC_WAIT_POLL :
				  !strcmp(optarg, "busy") ? WC_WAIT_BUSY_POLL :
							    WC_WAIT_CHUNK;
			break;
		case O_CT:
			eo.chunk_timeout_us = strtoul(optarg, NULL, 0);
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_READY:
			ready = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: wc_noop -i IFACE [--workers N] [--cpu C] [--cost-ns N] [--stall-ms MS] [--pool-chunks R] [--chunk-size M] [--wait chunk|poll|busy] [--chunk-timeout US] [--json FILE] [--ready-file FILE]\n");
			return 2;
		}
	}
	if (!ifname)
		return 2;
	wc_set_print(silent);
	x.chunk_size = eo.chunk_size ? eo.chunk_size : 64;
	if (x.cost_ns)
		x.spins = wc_spin_calibrate();
	g_engine = wc_engine__open(ifname, &eo);
	if (!g_engine) {
		fprintf(stderr, "wc_noop: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (ready) {
		int fd = open(ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
	}
	{
		WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = &x,
			.cpus = have_cpu ? &cpu : NULL,
			.ncpus = have_cpu ? 1 : 0);

		err = wc_engine__run(g_engine, &ro);
	}
	for (unsigned q = 0; q < wc_engine__queues(g_engine); q++) {
		struct wc_iface_pool_stats ps = { .sz = sizeof(ps) };

		if (wc_engine__pool_stats(g_engine, q, &ps))
			continue;
		delivered += ps.delivered;
		fill_empty += ps.fill_empty;
		ring_full += ps.ring_full;
		other += ps.other_dropped;
		frames = ps.frames;
		if (ps.hwm > hwm)
			hwm = ps.hwm;
	}
	wc_engine__info(g_engine, &ei);
	if (json) {
		FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;

		if (f) {
			fprintf(f,
				"{\"tool\":\"wc_noop\",\"received\":%llu,\"delivered\":%llu,"
				"\"dropped\":{\"pool_exhausted\":%llu,\"ring_full\":%llu,\"other\":%llu,"
				"\"total\":%llu},\"pool_frames_per_queue\":%llu,\"hwm\":%llu,"
				"\"bind\":\"%s\",\"drain_pkts\":%llu,\"drain_ns_per_pkt\":%.1f}\n",
				(unsigned long long)atomic_load(&x.packets),
				(unsigned long long)delivered,
				(unsigned long long)fill_empty,
				(unsigned long long)ring_full,
				(unsigned long long)other,
				(unsigned long long)(fill_empty + ring_full +
						     other),
				(unsigned long long)frames,
				(unsigned long long)hwm,
				ei.bind_mode == WC_BIND_ZEROCOPY ? "zerocopy" :
								   "copy",
				(unsigned long long)x.drain_pkts,
				x.drain_pkts ?
					(double)x.drain_cpu / x.drain_pkts :
					0.0);
			if (f != stdout)
				fclose(f);
			else
				fflush(f);
		}
	}
	fprintf(stderr,
		"wc_noop: %s: %llu packets, %llu dropped (pool %llu, ring %llu)%s%s\n",
		ifname, (unsigned long long)atomic_load(&x.packets),
		(unsigned long long)(fill_empty + ring_full + other),
		(unsigned long long)fill_empty, (unsigned long long)ring_full,
		err ? ": " : "", err ? strerror(-err) : "");
	wc_engine__close(g_engine);
	return err ? 1 : 0;
}
