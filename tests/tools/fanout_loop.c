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
 *               [--buffer BYTES] [--cost-mode spin|sleep] [--flows F]
 *               [common options, see --help (common/loop.h)]
 * SIGINT/SIGTERM: stop, read what the rings still hold, print the summary.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
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
#include "common/loop.h"
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

static struct loop lp;
static struct thr th[MAX_THREADS];
static unsigned nthr = 4;
static unsigned rollover, cost_sleep; /* --mode, --cost-mode: word index */
static uint64_t buffer;
static unsigned nflows = 1024;
static _Atomic uint64_t *flow_max; /* highest seq + 1 processed, per flow */
static _Atomic uint16_t *flow_last; /* thread + 1 that processed it last */
static _Atomic uint64_t reordered, switches, not_ours;

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
		loop_cost(&lp);
		h = (void *)((uint8_t *)h + h->tp_next_offset);
	}
	if (cost_sleep && lp.cost_ns)
		wc_clock_sleep_ns(lp.cost_ns * n);
	atomic_thread_fence(memory_order_release);
	bd->hdr.bh1.block_status = TP_STATUS_KERNEL;
	return n;
}

static void *run(void *arg)
{
	struct thr *t = arg;
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN | POLLERR };
	unsigned cur = 0;

	for (;;) {
		struct tpacket_block_desc *bd =
			(void *)(t->ring + (size_t)cur * BLOCK_SIZE);

		if (atomic_load_explicit(
			    (_Atomic uint32_t *)&bd->hdr.bh1.block_status,
			    memory_order_acquire) &
		    TP_STATUS_USER) {
			t->packets += block(t, bd);
			loop_seen(&lp);
			cur = (cur + 1) % t->nblocks;
			continue;
		}
		if (loop_stopping())
			break; /* stopped and drained */
		if (loop_idle(&lp))
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

/* The sockets, then one thread each until stopped: 0, or 1 after a
 * message */
static int receive(unsigned ifindex)
{
	int err, type = PACKET_FANOUT_HASH |
			(rollover ? PACKET_FANOUT_FLAG_ROLLOVER : 0);

	for (unsigned i = 0; i < nthr; i++) {
		th[i].idx = i;
		err = setup(&th[i], ifindex, buffer / nthr, getpid() & 0xffff,
			    type);
		if (err)
			return loop_err(err,
					"cannot set up the AF_PACKET socket");
	}
	loop_signals(NULL);
	/* the threads inherit the CPU */
	if (loop_pin(&lp))
		return 1;
	for (unsigned i = 0; i < nthr; i++) {
		err = pthread_create(&th[i].t, NULL, run, &th[i]);
		if (err) {
			loop_err(err, "pthread_create");
			loop_stop();
			for (unsigned j = 0; j < i; j++)
				pthread_join(th[j].t, NULL);
			return 1;
		}
	}
	loop_ready(&lp);
	for (unsigned i = 0; i < nthr; i++)
		pthread_join(th[i].t, NULL);
	return 0;
}

struct sums {
	uint64_t total, drops, kpkts, rolled;
};

static void read_stats(struct sums *s)
{
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
		s->total += th[i].packets;
		s->kpkts += th[i].st.tp_packets; /* includes the drops */
		s->drops += th[i].st.tp_drops;
		s->rolled += th[i].ro.tp_all;
	}
}

/* the JSON's array of per-thread counts, after its head */
static void print_threads(FILE *f)
{
	for (unsigned i = 0; i < nthr; i++)
		fprintf(f, "%s%llu", i ? "," : "",
			(unsigned long long)th[i].packets);
	fprintf(f, "]}\n");
}

static void close_sockets(void)
{
	for (unsigned i = 0; i < nthr; i++) {
		if (th[i].ring)
			munmap(th[i].ring, th[i].ring_len);
		if (th[i].fd > 0)
			close(th[i].fd);
	}
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "hash", "rollover", NULL };
	static const char *const cost_modes[] = { "spin", "sleep", NULL };
	static const struct loop_opt opts[] = {
		{ "threads", "N", "threads and sockets (default 4)", LOOP_UINT,
		  &nthr, .min = 1, .max = MAX_THREADS },
		{ "mode", "M",
		  "hash (default) or rollover (hash + FLAG_ROLLOVER)",
		  LOOP_WORD, &rollover, .words = modes },
		{ "buffer", "BYTES",
		  "ring bytes over all sockets (default 2 MiB each)", LOOP_U64,
		  &buffer },
		{ "cost-mode", "M",
		  "spin (per packet, default) or sleep (per block)", LOOP_WORD,
		  &cost_sleep, .words = cost_modes },
		{ "flows", "F", "flow ids tracked for order (default 1024)",
		  LOOP_UINT, &nflows, .min = 1, .max = 1u << 24 },
		{ 0 }
	};
	static const struct loop_tool tool = {
		.name = "fanout_loop",
		.about =
			"AF_PACKET (TPACKET_V3) fanout over N threads, one socket each.\n",
		.opts = opts,
		.common = LOOP_O_ALL & ~LOOP_O_STALL,
	};
	struct sums s = {};
	unsigned ifindex;
	int rc;

	loop_parse(&lp, &tool, argc, argv);
	ifindex = if_nametoindex(lp.ifname);
	if (!ifindex)
		return loop_err(errno, "%s", lp.ifname);
	if (!buffer)
		buffer = (uint64_t)nthr * (2u << 20);
	flow_max = calloc(nflows, sizeof(*flow_max));
	flow_last = calloc(nflows, sizeof(*flow_last));
	if (!flow_max || !flow_last)
		return loop_err(ENOMEM, "flow table");
	if (!cost_sleep)
		loop_cost_init(&lp);
	rc = receive(ifindex);
	read_stats(&s);
	if (rc == 0)
		rc = loop_json(
			&lp, print_threads,
			"{\"tool\":\"fanout_loop\",\"mode\":\"%s\",\"threads\":%u,"
			"\"buffer\":%llu,\"received\":%llu,\"kernel_packets\":%llu,"
			"\"drops\":%llu,\"rolled_over\":%llu,\"reordered\":%llu,"
			"\"flow_switches\":%llu,\"not_payload\":%llu,\"per_thread\":[",
			rollover ? "rollover" : "hash", nthr,
			(unsigned long long)buffer, (unsigned long long)s.total,
			(unsigned long long)s.kpkts,
			(unsigned long long)s.drops,
			(unsigned long long)s.rolled,
			(unsigned long long)atomic_load(&reordered),
			(unsigned long long)atomic_load(&switches),
			(unsigned long long)atomic_load(&not_ours));
	fprintf(stderr,
		"fanout_loop: %s: %llu packets received by %u threads (%s), %llu dropped by the kernel, %llu rolled over, %llu reordered\n",
		lp.ifname, (unsigned long long)s.total, nthr,
		rollover ? "hash+rollover" : "hash",
		(unsigned long long)s.drops, (unsigned long long)s.rolled,
		(unsigned long long)atomic_load(&reordered));
	close_sockets();
	free((void *)flow_max);
	free((void *)flow_last);
	return rc;
}
