// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pcap_loop: the libpcap (AF_PACKET, TPACKET_V3) baseline of `make bench`:
 * what tcpdump -w /dev/null does, minus the writing. pcap_create(),
 * promiscuous, libpcap's default buffer size (2 MiB) and snap length, a
 * 100 ms timeout (as tcpdump's 1000 ms but more reactive), then
 * pcap_dispatch() in a loop, counting packets in the callback; pcap_stats()
 * at the end (ps_recv, ps_drop).
 *
 * The same per-packet cost (--cost-ns, a CPU spin) and stall (--stall-ms
 * at the first packet) as `wirecap bench`.
 *
 *   pcap_loop -i IFACE [--cost-ns N] [--stall-ms MS] [--cpu C]
 *             [--buffer-size BYTES] [--idle-exit SEC] [--json FILE|-]
 *             [--ready-file FILE]
 * SIGINT/SIGTERM: stop, read what the ring still holds, print the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"

struct ctx {
	uint64_t count;
	uint64_t cost_ns, spins;
	uint64_t stall_ms;
	bool stalled;
	uint64_t t_first, t_last;
};

static volatile sig_atomic_t stop_req;
static pcap_t *cap;

static void on_signal(int sig)
{
	(void)sig;
	stop_req = 1;
	if (cap)
		pcap_breakloop(cap);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h,
		      const u_char *bytes)
{
	struct ctx *c = (struct ctx *)user;
	volatile const u_char *b = bytes;

	(void)h;
	(void)b[0]; /* touch the packet, as any analyzer would */
	c->count++;
	if (c->spins)
		wc_spin(c->cost_ns * c->spins / 1000);
	if (c->stall_ms && !c->stalled) {
		struct timespec ts = { .tv_sec = c->stall_ms / 1000,
				       .tv_nsec =
					       (c->stall_ms % 1000) * 1000000 };

		c->stalled = true;
		while (nanosleep(&ts, &ts) && errno == EINTR && !stop_req)
			;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pcap_loop -i IFACE [options]\n"
		"libpcap on AF_PACKET: pcap_dispatch() loop counting packets.\n"
		"  -i IFACE              interface\n"
		"  --cost-ns N           CPU spin per packet, in ns\n"
		"  --stall-ms MS         sleep MS ms at the first packet\n"
		"  --cpu C               pin to CPU C\n"
		"  --buffer-size BYTES   pcap_set_buffer_size (default: libpcap's)\n"
		"  --idle-exit SEC       stop SEC s after the last packet\n"
		"  --json FILE|-         summary as JSON\n"
		"  --ready-file FILE     created when the capture is active\n");
}

int main(int argc, char **argv)
{
	enum { O_COST = 256, O_STALL, O_CPU, O_BUF, O_IDLE, O_JSON, O_READY };
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "cost-ns", required_argument, 0, O_COST },
		{ "stall-ms", required_argument, 0, O_STALL },
		{ "cpu", required_argument, 0, O_CPU },
		{ "buffer-size", required_argument, 0, O_BUF },
		{ "idle-exit", required_argument, 0, O_IDLE },
		{ "json", required_argument, 0, O_JSON },
		{ "ready-file", required_argument, 0, O_READY },
		{ "help", no_argument, 0, 'h' },
		{ 0 }
	};
	char errbuf[PCAP_ERRBUF_SIZE];
	const char *ifname = NULL, *json = NULL, *ready = NULL;
	struct ctx c = {};
	struct pcap_stat ps = {};
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t idle_ns = 0;
	long bufsize = 0;
	int o, cpu = -1, err, rc = 1;

	while ((o = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (o) {
		case 'i':
			ifname = optarg;
			break;
		case O_COST:
			c.cost_ns = strtoull(optarg, NULL, 0);
			break;
		case O_STALL:
			c.stall_ms = strtoull(optarg, NULL, 0);
			break;
		case O_CPU:
			cpu = atoi(optarg);
			break;
		case O_BUF:
			bufsize = strtol(optarg, NULL, 0);
			break;
		case O_IDLE:
			idle_ns = strtod(optarg, NULL) * 1e9;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_READY:
			ready = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "pcap_loop: cannot pin to CPU %d: %s\n",
				cpu, strerror(errno));
			return 1;
		}
	}
	if (c.cost_ns)
		c.spins = wc_spin_calibrate();
	cap = pcap_create(ifname, errbuf);
	if (!cap) {
		fprintf(stderr, "pcap_loop: %s\n", errbuf);
		return 1;
	}
	pcap_set_promisc(cap, 1);
	pcap_set_timeout(cap, 100);
	if (bufsize > 0)
		pcap_set_buffer_size(cap, (int)bufsize);
	err = pcap_activate(cap);
	if (err < 0) {
		fprintf(stderr, "pcap_loop: %s: %s\n", ifname,
			pcap_geterr(cap));
		pcap_close(cap);
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ready) {
		int fd = open(ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
	}
	/* Non-blocking reads and our own poll(): with TPACKET_V3 libpcap's
	 * blocking read waits for a block without a timeout, so an idle
	 * capture would never see an empty read (and --idle-exit never
	 * fire). The kernel still retires blocks after the 100 ms timeout. */
	if (idle_ns && pcap_setnonblock(cap, 1, errbuf)) {
		fprintf(stderr, "pcap_loop: %s\n", errbuf);
		goto out;
	}
	while (!stop_req) {
		uint64_t before = c.count;
		int n = pcap_dispatch(cap, -1, on_packet, (u_char *)&c);

		if (idle_ns && n == 0) {
			struct pollfd pfd = { .fd = pcap_get_selectable_fd(cap),
					      .events = POLLIN };

			poll(&pfd, 1, 100);
		}

		if (n == PCAP_ERROR) {
			fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(cap));
			goto out;
		}
		if (c.count != before) {
			c.t_last = wc_clock_mono_ns();
			if (!c.t_first)
				c.t_first = c.t_last;
		} else if (idle_ns && c.t_last &&
			   wc_clock_mono_ns() - c.t_last >= idle_ns) {
			break;
		}
	}
	/* stopped: read what the ring still holds */
	if (pcap_setnonblock(cap, 1, errbuf) == 0) {
		int n;

		do {
			n = pcap_dispatch(cap, -1, on_packet, (u_char *)&c);
		} while (n > 0 || n == PCAP_ERROR_BREAK);
	}
	rc = 0;
out:
	if (pcap_stats(cap, &ps))
		memset(&ps, 0, sizeof(ps));
	if (json && rc == 0) {
		FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;

		if (!f) {
			fprintf(stderr, "pcap_loop: cannot write %s: %s\n",
				json, strerror(errno));
			rc = 1;
		} else {
			fprintf(f,
				"{\"tool\":\"pcap_loop\",\"path\":\"AF_PACKET TPACKET_V3 (libpcap %s)\","
				"\"received\":%llu,\"ps_recv\":%u,\"ps_drop\":%u,\"ps_ifdrop\":%u,"
				"\"duration_s\":%.6f}\n",
				pcap_lib_version(), (unsigned long long)c.count,
				ps.ps_recv, ps.ps_drop, ps.ps_ifdrop,
				c.t_last > c.t_first ?
					(c.t_last - c.t_first) / 1e9 :
					0.0);
			if (f != stdout)
				fclose(f);
			else
				fflush(f);
		}
	}
	fprintf(stderr,
		"pcap_loop: %s: %llu packets received; pcap_stats: ps_recv %u, ps_drop %u\n",
		ifname, (unsigned long long)c.count, ps.ps_recv, ps.ps_drop);
	pcap_close(cap);
	return rc;
}
