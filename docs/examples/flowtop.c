// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowtop: a complete analyzer on libwirecap-xdp.
 *
 * Captures on an interface with one thread per worker, looks at every
 * packet in place (no copy), keeps per-worker counters of IPv4/IPv6/other
 * packets and bytes per flow bucket, and prints the busiest bucket and
 * the engine's accounting every second until Ctrl-C: where every packet
 * went, drops by cause, and at the end `unaccounted 0`.
 *
 * Build:  cc -O2 flowtop.c $(pkg-config --cflags --libs wirecap-xdp) -o flowtop
 * Run:    ./flowtop eth0   (as root)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wirecap/wirecap.h>

struct worker_counts {
	unsigned long long ipv4, ipv6, other, bytes;
	unsigned long long *per_bucket; /* packets per bucket */
} __attribute__((aligned(64))); /* one cache line per worker: no sharing */

struct app {
	struct wc_engine *e;
	unsigned workers, buckets;
	struct worker_counts *wc;
	time_t last_print;
};

static struct wc_engine *engine;

static void on_sigint(int sig)
{
	(void)sig;
	wc_engine__stop(
		engine); /* async-signal-safe: the workers drain and return */
}

/* Called by each worker thread with a chunk of up to chunk_size packets;
 * WC_RUN_CONTINUE has the library recycle the chunk (its frames go back to
 * their pools). */
static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *ctx)
{
	struct app *a = ctx;
	struct worker_counts *k = &a->wc[wc_worker__index(w)];
	struct wc_pkt *p;
	unsigned n;

	if (!c) /* idle tick (run option idle_ms) */
		return WC_RUN_CONTINUE;
	p = wc_chunk__pkts(c);
	n = wc_chunk__count(c);
	for (unsigned i = 0; i < n; i++) {
		if (p[i].flags & WC_PKT_NON_IP)
			k->other++;
		else if (p[i].flags & WC_PKT_IPV6)
			k->ipv6++;
		else
			k->ipv4++;
		k->bytes += p[i].len;
		k->per_bucket[p[i].bucket % a->buckets]++;
	}
	return WC_RUN_CONTINUE;
}

#define U(x) ((unsigned long long)(x))

static void print_report(struct app *a, bool final)
{
	unsigned long long v4 = 0, v6 = 0, other = 0, bytes = 0, top = 0;
	unsigned top_b = 0;
	struct wc_accounting t = { .sz = sizeof(t) };

	for (unsigned w = 0; w < a->workers; w++) {
		v4 += a->wc[w].ipv4;
		v6 += a->wc[w].ipv6;
		other += a->wc[w].other;
		bytes += a->wc[w].bytes;
	}
	for (unsigned b = 0; b < a->buckets; b++) {
		unsigned long long s = 0;

		for (unsigned w = 0; w < a->workers; w++)
			s += a->wc[w].per_bucket[b];
		if (s > top) {
			top = s;
			top_b = b;
		}
	}
	printf("ipv4 %llu ipv6 %llu other %llu, %llu bytes; busiest bucket %u (%llu packets)\n",
	       v4, v6, other, bytes, top_b, top);
	for (unsigned q = 0; q < wc_engine__queues(a->e); q++) {
		struct wc_iface_pool_stats ps = { .sz = sizeof(ps) };

		if (!wc_engine__pool_stats(a->e, q, &ps))
			printf("  queue %u: delivered %llu, pool %llu/%llu in use (high-water %llu)\n",
			       q, U(ps.delivered), U(ps.in_use), U(ps.frames),
			       U(ps.hwm));
	}
	/* where every packet went: received == delivered + dropped (by
	 * cause) + passed + filtered + shed + unaccounted; unaccounted is
	 * what is still in the RX rings, 0 once stopped (libwirecap-xdp(3),
	 * Accounting) */
	if (wc_engine__accounting(a->e, &t))
		return;
	printf("  received %llu = delivered %llu + dropped %llu (pool exhausted %llu, rx ring full %llu, other %llu, no socket %llu) + passed %llu + filtered %llu + shed %llu + %s %lld\n",
	       U(t.received), U(t.delivered), U(t.dropped), U(t.fill_empty),
	       U(t.ring_full), U(t.other_dropped), U(t.nosock_dropped),
	       U(t.passed), U(t.filtered), U(t.shed),
	       final ? "unaccounted" : "in rx rings", (long long)t.unaccounted);
	if (final && t.unaccounted)
		fprintf(stderr, "flowtop: %lld packets unaccounted for\n",
			(long long)t.unaccounted);
}

struct runner {
	struct wc_engine *e;
	const struct wc_run_opts *ro;
	int err;
};

static void *run_workers(void *arg)
{
	struct runner *r = arg;

	r->err = wc_engine__run(r->e, r->ro);
	return NULL;
}

int main(int argc, char **argv)
{
	WC_OPTS(wc_engine_opts, eo, .chunk_size = 64);
	struct wc_iface_info info;
	struct app a = { 0 };
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IFACE\n", argv[0]);
		return 2;
	}
	/* attaches the XDP program if `wirecap attach` has not; detaches at close */
	a.e = engine = wc_engine__open(argv[1], &eo);
	if (!a.e) {
		fprintf(stderr, "flowtop: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	wc_iface__info(wc_engine__iface(a.e), &info);
	a.workers = wc_engine__workers(a.e);
	a.buckets = info.buckets;
	a.wc = aligned_alloc(64, a.workers * sizeof(*a.wc));
	if (!a.wc) {
		wc_engine__close(a.e);
		return 1;
	}
	memset(a.wc, 0, a.workers * sizeof(*a.wc));
	for (unsigned w = 0; w < a.workers; w++)
		a.wc[w].per_bucket =
			calloc(a.buckets, sizeof(unsigned long long));
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	setvbuf(stdout, NULL, _IOLBF, 0); /* a report a line at a time */

	/* the run helper starts one thread per worker and blocks until
	 * wc_engine__stop(): run it on a thread, report from this one */
	{
		WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = &a,
			.idle_ms = 100);
		struct runner r = { .e = a.e, .ro = &ro };
		struct timespec one = { 1, 0 };
		pthread_t t;

		err = pthread_create(&t, NULL, run_workers, &r);
		if (err) {
			fprintf(stderr, "flowtop: %s\n", strerror(err));
			wc_engine__close(a.e);
			return 1;
		}
		while (!wc_engine__stopped(a.e)) {
			nanosleep(&one, NULL);
			print_report(&a, false);
		}
		pthread_join(t, NULL);
		err = r.err;
	}
	/* stopped and drained: the accounting is final */
	print_report(&a, true);
	wc_engine__close(a.e);
	for (unsigned w = 0; w < a.workers; w++)
		free(a.wc[w].per_bucket);
	free(a.wc);
	if (err)
		fprintf(stderr, "flowtop: %s\n", strerror(-err));
	return err ? 1 : 0;
}
