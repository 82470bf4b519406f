// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * metacheck: does the metadata the XDP program writes with
 * bpf_xdp_adjust_head() in front of each packet reach the application, on
 * this kernel and driver?
 *
 * It opens the capture engine on IFACE (attaching when needed) and checks
 * every IPv4 UDP/TCP packet: the engine fills wc_pkt.hash/bucket/ts_ns from
 * struct wc_meta only when the meta names the socket (queue, worker); else
 * hash is 0 and ts_ns is the capture time. So a packet whose hash equals
 * the flow hash computed here from its headers carried its metadata; one
 * with hash 0 did not. Timestamps must be within 10 s of the wall clock.
 *
 *   metacheck -i IFACE [--idle-exit SEC] [--timeout SEC] [--ready-file F]
 *             [-o FILE]
 *
 * Prints one JSON object: packets, checked (IPv4 UDP/TCP), meta_ok,
 * meta_missing (hash 0), meta_bad (hash set but wrong), ts_bad, per-queue
 * packets. Exit 0 when every checked packet had correct metadata.
 * Built by vmtest/run.sh on the host (cc ... build/libwirecap-xdp.a).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

#include "wirecap/wirecap.h"

#define MAXQ 64

static struct {
	atomic_ullong packets, checked, ok, missing, bad, ts_bad;
	atomic_ullong q[MAXQ];
	atomic_ullong last_ns;
} st;

static struct wc_engine *eng;
static volatile sig_atomic_t stop;

static unsigned long long now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void check(const struct wc_pkt *p)
{
	const unsigned char *d = p->data;
	const struct iphdr *ip;
	__u32 h;

	atomic_fetch_add(&st.packets, 1);
	if (p->queue < MAXQ)
		atomic_fetch_add(&st.q[p->queue], 1);
	if (p->len < ETH_HLEN + sizeof(*ip) + 4 ||
	    ((d[12] << 8) | d[13]) != ETH_P_IP)
		return;
	ip = (const void *)(d + ETH_HLEN);
	if (ip->ihl < 5 ||
	    (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP) ||
	    (ntohs(ip->frag_off) & 0x3fff) ||
	    p->len < ETH_HLEN + ip->ihl * 4u + 4)
		return;
	const unsigned char *l4 = d + ETH_HLEN + ip->ihl * 4;
	__u16 sport, dport;

	memcpy(&sport, l4, 2);
	memcpy(&dport, l4 + 2, 2);
	h = wc_flow_hash(&ip->saddr, &ip->daddr, 1, ip->protocol, sport, dport);
	atomic_fetch_add(&st.checked, 1);
	if (p->hash == h)
		atomic_fetch_add(&st.ok, 1);
	else if (p->hash == 0)
		atomic_fetch_add(&st.missing, 1);
	else
		atomic_fetch_add(&st.bad, 1);
	long long dt = (long long)(p->ts_ns - now_ns(CLOCK_REALTIME));
	if (dt > 10000000000ll || dt < -10000000000ll)
		atomic_fetch_add(&st.ts_bad, 1);
}

static void *worker(void *arg)
{
	struct wc_worker *w = arg;

	while (!stop) {
		struct wc_chunk *c;
		int n = wc_worker__capture(w, &c, 200);

		if (n < 0)
			break;
		if (n == 0)
			continue;
		struct wc_pkt *p = wc_chunk__pkts(c);

		for (int i = 0; i < n; i++)
			check(&p[i]);
		wc_chunk__recycle(c);
		atomic_store(&st.last_ns, now_ns(CLOCK_MONOTONIC));
	}
	return NULL;
}

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *ready = NULL, *outp = NULL;
	FILE *out = stdout;
	double idle = 2, timeout = 120;
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "idle-exit", required_argument, 0, 'I' },
		{ "timeout", required_argument, 0, 'T' },
		{ "ready-file", required_argument, 0, 'R' },
		{ 0, 0, 0, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "i:o:", lo, NULL)) != -1) {
		switch (o) {
		case 'i':
			ifname = optarg;
			break;
		case 'o':
			outp = optarg;
			break;
		case 'I':
			idle = atof(optarg);
			break;
		case 'T':
			timeout = atof(optarg);
			break;
		case 'R':
			ready = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: metacheck -i IFACE [--idle-exit SEC] [--timeout SEC] [--ready-file F] [-o FILE]\n");
			return 2;
		}
	}
	if (!ifname) {
		fprintf(stderr, "metacheck: -i IFACE is required\n");
		return 2;
	}
	if (outp && !(out = fopen(outp, "w"))) {
		fprintf(stderr, "metacheck: cannot write %s: %s\n", outp,
			strerror(errno));
		return 2;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	WC_OPTS(wc_engine_opts, eo, .chunks = 64, .chunk_timeout_us = 1000);
	eng = wc_engine__open(ifname, &eo);
	if (!eng) {
		fprintf(stderr, "metacheck: cannot open the engine on %s: %s\n",
			ifname, strerror(errno));
		return 1;
	}
	unsigned nw = wc_engine__workers(eng);
	pthread_t th[64];

	for (unsigned w = 0; w < nw && w < 64; w++)
		pthread_create(&th[w], NULL, worker, wc_engine__worker(eng, w));
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	unsigned long long t0 = now_ns(CLOCK_MONOTONIC);
	while (!stop) {
		struct timespec ts = { 0, 100000000 };
		unsigned long long t = now_ns(CLOCK_MONOTONIC),
				   last = atomic_load(&st.last_ns);

		nanosleep(&ts, NULL);
		if (t - t0 > timeout * 1e9)
			break;
		if (last && t > last && t - last > idle * 1e9)
			break;
	}
	stop = 1;
	wc_engine__stop(eng);
	for (unsigned w = 0; w < nw && w < 64; w++)
		pthread_join(th[w], NULL);
	fprintf(out,
		"{\"packets\":%llu,\"checked\":%llu,\"meta_ok\":%llu,\"meta_missing\":%llu,"
		"\"meta_bad\":%llu,\"ts_bad\":%llu,\"queues\":[",
		st.packets, st.checked, st.ok, st.missing, st.bad, st.ts_bad);
	unsigned nq = wc_engine__queues(eng);
	for (unsigned q = 0; q < nq && q < MAXQ; q++)
		fprintf(out, "%s%llu", q ? "," : "",
			(unsigned long long)st.q[q]);
	fprintf(out, "]}\n");
	fclose(out);
	wc_engine__close(eng);
	return st.checked && st.ok == st.checked && !st.ts_bad ? 0 : 1;
}
