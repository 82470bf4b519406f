// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fanout_loop: the AF_PACKET fanout baseline of `make bench`: N threads,
 * one TPACKET_V3 socket each, joined in one PACKET_FANOUT group, as a
 * multi-threaded monitor (Suricata, Zeek, ...) reads a NIC without XDP:
 *
 *  - hash:     PACKET_FANOUT_HASH, a flow always goes to the same thread
 *              (the kernel's flow hash): flows whole, load as the hash
 *              spreads them;
 *  - rollover: PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_ROLLOVER: the same,
 *              but a packet whose socket's ring is full goes to the next
 *              socket (flows split across threads under load).
 *
 * Every thread reads whole blocks, does the per-packet cost (--cost-ns: a
 * spin per packet, or with --cost-mode sleep a sleep of cost x packets per
 * block, as `wirecap bench --cost-mode sleep` sleeps per chunk), and checks
 * the flow/sequence payload of `wirecap gen`: a packet whose sequence
 * number is below the highest one already processed for its flow (by any
 * thread) counts as reordered; a flow's packet processed by another thread
 * than its previous one counts as a flow switch.
 *
 *   fanout_loop -i IFACE [--threads N] [--mode hash|rollover]
 *               [--buffer BYTES] [--cost-ns N] [--cost-mode spin|sleep]
 *               [--flows F] [--cpu C] [--idle-exit SEC] [--json FILE|-]
 *               [--ready-file FILE]
 * SIGINT/SIGTERM: stop, read what the rings still hold, print the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "clock.h"
#include "seq.h"

#define MAX_THREADS 64
#define BLOCK_SIZE (256u << 10)
#define FRAME_SIZE 2048u

struct thr {
	unsigned idx;
	int fd;
	uint8_t *ring;
	size_t ring_len;
	unsigned nblocks;
	pthread_t t;
	uint64_t packets;
	struct tpacket_stats_v3 st;
	struct tpacket_rollover_stats ro;
};

static volatile sig_atomic_t stop_req;
static int cpu = -1;
static uint64_t cost_ns, spins, idle_ns;
static bool cost_sleep;
static uint32_t nflows = 1024;
static _Atomic uint64_t *flow_max; /* highest seq + 1 processed, per flow */
static _Atomic uint16_t *flow_last; /* thread + 1 that processed it last */
static _Atomic uint64_t reordered, switches, not_ours, last_ns;

static void on_signal(int sig)
{
	(void)sig;
	stop_req = 1;
}

static void packet(struct thr *t, const uint8_t *data, size_t len)
{
	struct wc_seq_info si;
	uint16_t me = t->idx + 1, prev;
	uint64_t max;

	if (wc_seq_parse(data, len, &si) || si.flow >= nflows) {
		atomic_fetch_add_explicit(&not_ours, 1, memory_order_relaxed);
		return;
	}
	prev = atomic_exchange_explicit(&flow_last[si.flow], me,
					memory_order_relaxed);
	if (prev && prev != me)
		atomic_fetch_add_explicit(&switches, 1, memory_order_relaxed);
	max = atomic_load_explicit(&flow_max[si.flow], memory_order_relaxed);
	if (si.seq + 1 < max)
		atomic_fetch_add_explicit(&reordered, 1, memory_order_relaxed);
	while (si.seq + 1 > max &&
	       !atomic_compare_exchange_weak(&flow_max[si.flow], &max,
					     si.seq + 1))
		;
}

/* One block the kernel handed over: its packets, the cost, back to the
 * kernel. Returns the packets it held. */
static unsigned block(struct thr *t, struct tpacket_block_desc *bd)
{
	unsigned n = bd->hdr.bh1.num_pkts;
	struct tpacket3_hdr *h =
		(void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);

	for (unsigned i = 0; i < n; i++) {
		packet(t, (uint8_t *)h + h->tp_mac, h->tp_snaplen);
		if (spins)
			wc_spin(cost_ns * spins / 1000);
		h = (void *)((uint8_t *)h + h->tp_next_offset);
	}
	if (cost_sleep && cost_ns)
		wc_clock_sleep_ns(cost_ns * n);
	atomic_thread_fence(memory_order_release);
	bd->hdr.bh1.block_status = TP_STATUS_KERNEL;
	return n;
}

static void *run(void *arg)
{
	struct thr *t = arg;
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN | POLLERR };
	unsigned cur = 0;

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (;;) {
		struct tpacket_block_desc *bd =
			(void *)(t->ring + (size_t)cur * BLOCK_SIZE);
		uint64_t now;

		if (atomic_load_explicit(
			    (_Atomic uint32_t *)&bd->hdr.bh1.block_status,
			    memory_order_acquire) &
		    TP_STATUS_USER) {
			t->packets += block(t, bd);
			atomic_store(&last_ns, wc_clock_mono_ns());
			cur = (cur + 1) % t->nblocks;
			continue;
		}
		if (stop_req)
			break; /* stopped and drained */
		now = wc_clock_mono_ns();
		if (idle_ns && atomic_load(&last_ns) &&
		    now - atomic_load(&last_ns) >= idle_ns)
			break;
		poll(&pfd, 1, 100);
	}
	return NULL;
}

static int setup(struct thr *t, unsigned ifindex, size_t bytes, int group,
		 int type)
{
	struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE,
		.tp_frame_size = FRAME_SIZE,
		.tp_retire_blk_tov = 10, /* ms: partial blocks reach us soon */
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	struct packet_mreq mr = { .mr_ifindex = (int)ifindex,
				  .mr_type = PACKET_MR_PROMISC };
	int v = TPACKET_V3, fanout = (group & 0xffff) | (type << 16);

	t->nblocks = bytes / BLOCK_SIZE < 2 ? 2 : bytes / BLOCK_SIZE;
	req.tp_block_nr = t->nblocks;
	req.tp_frame_nr = t->nblocks * (BLOCK_SIZE / FRAME_SIZE);
	t->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (t->fd < 0)
		return -errno;
	if (setsockopt(t->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return -errno;
	t->ring_len = (size_t)t->nblocks * BLOCK_SIZE;
	t->ring = mmap(NULL, t->ring_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_LOCKED | MAP_POPULATE, t->fd, 0);
	if (t->ring == MAP_FAILED) {
		t->ring = NULL;
		return -errno;
	}
	if (bind(t->fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_FANOUT, &fanout,
		       sizeof(fanout)))
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fanout_loop -i IFACE [options]\n"
		"AF_PACKET (TPACKET_V3) fanout over N threads, one socket each.\n"
		"  -i IFACE              interface\n"
		"  --threads N           threads and sockets (default 4)\n"
		"  --mode M              hash (default) or rollover (hash + FLAG_ROLLOVER)\n"
		"  --buffer BYTES        ring bytes over all sockets (default 2 MiB each)\n"
		"  --cost-ns N           work per packet, in ns\n"
		"  --cost-mode M         spin (per packet, default) or sleep (per block)\n"
		"  --flows F             flow ids tracked for order (default 1024)\n"
		"  --cpu C               pin every thread to CPU C\n"
		"  --idle-exit SEC       stop SEC s after the last packet\n"
		"  --json FILE|-         summary as JSON\n"
		"  --ready-file FILE     created when the sockets are up\n");
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "fanout_loop: %s: %s\n", what,
		strerror(err < 0 ? -err : err));
	return 1;
}

int main(int argc, char **argv)
{
	enum {
		O_THR = 256,
		O_MODE,
		O_BUF,
		O_COST,
		O_CMODE,
		O_FLOWS,
		O_CPU,
		O_IDLE,
		O_JSON,
		O_READY
	};
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "threads", required_argument, 0, O_THR },
		{ "mode", required_argument, 0, O_MODE },
		{ "buffer", required_argument, 0, O_BUF },
		{ "cost-ns", required_argument, 0, O_COST },
		{ "cost-mode", required_argument, 0, O_CMODE },
		{ "flows", required_argument, 0, O_FLOWS },
		{ "cpu", required_argument, 0, O_CPU },
		{ "idle-exit", required_argument, 0, O_IDLE },
		{ "json", required_argument, 0, O_JSON },
		{ "ready-file", required_argument, 0, O_READY },
		{ "help", no_argument, 0, 'h' },
		{ 0 }
	};
	const char *ifname = NULL, *json = NULL, *ready = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	static struct thr th[MAX_THREADS];
	unsigned nthr = 4, ifindex;
	bool rollover = false;
	size_t buffer = 0;
	uint64_t total = 0, drops = 0, kpkts = 0, rolled = 0;
	int c, err, rc = 1, type;

	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case O_THR:
			nthr = strtoul(optarg, NULL, 0);
			if (!nthr || nthr > MAX_THREADS)
				return fail("--threads: 1..64", EINVAL);
			break;
		case O_MODE:
			if (!strcmp(optarg, "rollover"))
				rollover = true;
			else if (strcmp(optarg, "hash"))
				return fail("--mode: hash or rollover", EINVAL);
			break;
		case O_BUF:
			buffer = strtoull(optarg, NULL, 0);
			break;
		case O_COST:
			cost_ns = strtoull(optarg, NULL, 0);
			break;
		case O_CMODE:
			if (!strcmp(optarg, "sleep"))
				cost_sleep = true;
			else if (strcmp(optarg, "spin"))
				return fail("--cost-mode: spin or sleep",
					    EINVAL);
			break;
		case O_FLOWS:
			nflows = strtoul(optarg, NULL, 0);
			if (!nflows || nflows > (1u << 24))
				return fail("--flows: 1..16777216", EINVAL);
			break;
		case O_CPU:
			cpu = atoi(optarg);
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
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return fail(ifname, errno);
	if (!buffer)
		buffer = (size_t)nthr * (2u << 20);
	flow_max = calloc(nflows, sizeof(*flow_max));
	flow_last = calloc(nflows, sizeof(*flow_last));
	if (!flow_max || !flow_last)
		return fail("flow table", ENOMEM);
	if (cost_ns && !cost_sleep)
		spins = wc_spin_calibrate();
	type = PACKET_FANOUT_HASH |
	       (rollover ? PACKET_FANOUT_FLAG_ROLLOVER : 0);
	for (unsigned i = 0; i < nthr; i++) {
		th[i].idx = i;
		err = setup(&th[i], ifindex, buffer / nthr, getpid() & 0xffff,
			    type);
		if (err) {
			fail("cannot set up the AF_PACKET socket", err);
			goto out;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (unsigned i = 0; i < nthr; i++) {
		err = pthread_create(&th[i].t, NULL, run, &th[i]);
		if (err) {
			fail("pthread_create", err);
			stop_req = 1;
			for (unsigned j = 0; j < i; j++)
				pthread_join(th[j].t, NULL);
			goto out;
		}
	}
	if (ready) {
		int fd = open(ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
	}
	for (unsigned i = 0; i < nthr; i++)
		pthread_join(th[i].t, NULL);
	rc = 0;
out:
	for (unsigned i = 0; i < nthr; i++) {
		socklen_t len = sizeof(th[i].st);

		if (th[i].fd <= 0)
			continue;
		if (getsockopt(th[i].fd, SOL_PACKET, PACKET_STATISTICS,
			       &th[i].st, &len))
			memset(&th[i].st, 0, sizeof(th[i].st));
		len = sizeof(th[i].ro);
		if (getsockopt(th[i].fd, SOL_PACKET, PACKET_ROLLOVER_STATS,
			       &th[i].ro, &len))
			memset(&th[i].ro, 0, sizeof(th[i].ro));
		total += th[i].packets;
		kpkts += th[i].st.tp_packets; /* includes the drops */
		drops += th[i].st.tp_drops;
		rolled += th[i].ro.tp_all;
	}
	if (json && rc == 0) {
		FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;

		if (!f) {
			rc = fail(json, errno);
		} else {
			fprintf(f,
				"{\"tool\":\"fanout_loop\",\"mode\":\"%s\",\"threads\":%u,"
				"\"buffer\":%zu,\"received\":%llu,\"kernel_packets\":%llu,"
				"\"drops\":%llu,\"rolled_over\":%llu,\"reordered\":%llu,"
				"\"flow_switches\":%llu,\"not_payload\":%llu,\"per_thread\":[",
				rollover ? "rollover" : "hash", nthr, buffer,
				(unsigned long long)total,
				(unsigned long long)kpkts,
				(unsigned long long)drops,
				(unsigned long long)rolled,
				(unsigned long long)atomic_load(&reordered),
				(unsigned long long)atomic_load(&switches),
				(unsigned long long)atomic_load(&not_ours));
			for (unsigned i = 0; i < nthr; i++)
				fprintf(f, "%s%llu", i ? "," : "",
					(unsigned long long)th[i].packets);
			fprintf(f, "]}\n");
			if (f != stdout)
				fclose(f);
			else
				fflush(f);
		}
	}
	fprintf(stderr,
		"fanout_loop: %s: %llu packets received by %u threads (%s), %llu dropped by the kernel, %llu rolled over, %llu reordered\n",
		ifname, (unsigned long long)total, nthr,
		rollover ? "hash+rollover" : "hash", (unsigned long long)drops,
		(unsigned long long)rolled,
		(unsigned long long)atomic_load(&reordered));
	for (unsigned i = 0; i < nthr; i++) {
		if (th[i].ring)
			munmap(th[i].ring, th[i].ring_len);
		if (th[i].fd > 0)
			close(th[i].fd);
	}
	free((void *)flow_max);
	free((void *)flow_last);
	return rc;
}
