// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * afxdp_loop: the plain AF_XDP receive loop that `make bench` compares
 * wirecap against -- what one writes by hand from the libxdp examples
 * (xdpsock rx_drop), with nothing of wirecap's:
 *
 *  - a minimal XDP program of our own: bpf_redirect_map(xsks,
 *    rx_queue_index, XDP_PASS) (no parsing, no metadata, no counters);
 *  - one UMEM and one socket per rx queue, made with libxdp's
 *    xsk_umem__create() / xsk_socket__create(), default ring sizes
 *    (2048-entry fill, completion and RX rings), 2048 frames per queue in
 *    the fill ring; --ring N makes the fill and RX rings N entries (a
 *    power of two) with 2N frames of 2 KiB per queue, N in the fill ring:
 *    the same loop given rings as large as wirecap's pool;
 *  - one thread serving every queue round-robin, batches of 64, each frame
 *    given back to the fill ring as soon as the packet is counted, poll()
 *    when every ring is empty.
 *
 * It counts the packets it receives and, at the end, the drops the kernel
 * reports for its sockets (XDP_STATISTICS). It takes the same per-packet
 * cost (--cost-ns, a CPU spin) and the same stall (--stall-ms at the first
 * packet) as `wirecap bench` (common/loop.h).
 *
 *   afxdp_loop -i IFACE [--queues N] [--ring N] [--skb]
 *              [common options, see --help]
 * SIGINT/SIGTERM: stop, drain what the rings hold, print the summary.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include "common/loop.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define MAX_Q 64
#define BATCH 64

/* per queue; the defaults are xdpsock's, --ring changes them */
static unsigned ring = XSK_RING_CONS__DEFAULT_NUM_DESCS; /* 2048 */
static unsigned num_frames = 4096;
static unsigned frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE;
static bool default_rings = true;

struct q {
	unsigned id;
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	int fd;
	uint64_t packets;
	struct xdp_statistics st;
};

static struct loop lp;
static struct q qs[MAX_Q];
static struct pollfd pfd[MAX_Q];
static unsigned nq;
static uint64_t total, polls, kicks;
static uint32_t xdp_flags = XDP_FLAGS_DRV_MODE;

static int rx_queues(const char *ifname, unsigned *n)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	if (err)
		return err;
	*n = ch.rx_count + ch.combined_count;
	return *n ? 0 : -EINVAL;
}

/* r2 = ctx->rx_queue_index; return bpf_redirect_map(xsks, r2, XDP_PASS) */
static int load_prog(int map_fd)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W,
		  .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, rx_queue_index) },
		{ .code = BPF_LD | BPF_DW | BPF_IMM,
		  .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_3,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_XDP);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "afxdp_loop", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &o);
}

static int setup_queue(const char *ifname, struct q *q)
{
	struct xsk_socket_config scfg = {
		.rx_size = ring,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	struct xsk_umem_config ucfg = {
		.fill_size = ring,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = frame_size,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
	};
	size_t sz = (size_t)num_frames * frame_size;
	uint32_t idx = 0;
	int err;

	q->area = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return -errno;
	}
	/* NULL config: libxdp's defaults (2048-entry fill / completion) */
	err = xsk_umem__create(&q->umem, q->area, sz, &q->fq, &q->cq,
			       default_rings ? NULL : &ucfg);
	if (err)
		return err;
	err = xsk_socket__create(&q->xsk, ifname, q->id, q->umem, &q->rx, NULL,
				 &scfg);
	if (err)
		return err;
	q->fd = xsk_socket__fd(q->xsk);
	if (xsk_ring_prod__reserve(&q->fq, ring, &idx) != ring)
		return -ENOSPC;
	for (uint32_t i = 0; i < ring; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) =
			(uint64_t)i * frame_size;
	xsk_ring_prod__submit(&q->fq, ring);
	return 0;
}

/* The socket of every queue in an XSKMAP, our program attached: 0, or 1
 * after a message */
static int setup(unsigned ifindex, int *map_fd, int *prog_fd)
{
	int err;

	*map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "afxdp_xsks", 4, 4, nq,
				 NULL);
	if (*map_fd < 0)
		return loop_err(errno, "cannot create the XSKMAP");
	*prog_fd = load_prog(*map_fd);
	if (*prog_fd < 0)
		return loop_err(errno, "cannot load the XDP program");
	for (unsigned i = 0; i < nq; i++) {
		qs[i].id = i;
		qs[i].fd = -1;
		err = setup_queue(lp.ifname, &qs[i]);
		if (err)
			return loop_err(err,
					"cannot set up the AF_XDP socket of %s",
					lp.ifname);
		if (bpf_map_update_elem(*map_fd, &i, &qs[i].fd, BPF_ANY))
			return loop_err(
				errno,
				"cannot insert the socket in the XSKMAP");
		pfd[i].fd = qs[i].fd;
		pfd[i].events = POLLIN;
	}
	err = bpf_xdp_attach(ifindex, *prog_fd,
			     xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err)
		return loop_err(err, "cannot attach XDP to %s", lp.ifname);
	return 0;
}

/* One batch of queue q: each frame back to the fill ring once touched;
 * returns the packets */
static uint32_t batch(struct q *q)
{
	uint32_t idx_rx, idx_fq, n;

	n = xsk_ring_cons__peek(&q->rx, BATCH, &idx_rx);
	if (!n)
		return 0;
	if (xsk_ring_prod__reserve(&q->fq, n, &idx_fq) != n) {
		/* cannot happen: every frame we hold came from the fill ring */
		xsk_ring_cons__cancel(&q->rx, n);
		return 0;
	}
	for (uint32_t k = 0; k < n; k++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&q->rx, idx_rx + k);
		volatile const char *data =
			xsk_umem__get_data(q->area, d->addr);

		(void)data[0]; /* touch the packet, as any analyzer would */
		loop_cost(&lp);
		*xsk_ring_prod__fill_addr(&q->fq, idx_fq + k) =
			xsk_umem__extract_addr(d->addr);
	}
	xsk_ring_prod__submit(&q->fq, n);
	xsk_ring_cons__release(&q->rx, n);
	if (xsk_ring_prod__needs_wakeup(&q->fq)) {
		recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		kicks++;
	}
	q->packets += n;
	return n;
}

/* Round-robin over the queues until stopped and drained (or idle) */
static void receive(void)
{
	for (;;) {
		uint64_t got = 0;
		bool stopping = loop_stopping();

		for (unsigned i = 0; i < nq; i++)
			got += batch(&qs[i]);
		/* a pass that found every ring non-empty: still the backlog */
		loop_drain_step(&lp, got, got == (uint64_t)BATCH * nq);
		if (got) {
			loop_seen(&lp);
			total += got;
			loop_stall(&lp);
			continue;
		}
		if (stopping)
			break; /* stopped and drained */
		if (loop_idle(&lp))
			break;
		polls++;
		poll(pfd, nq, 100);
	}
}

/* the JSON's array of queues, after its head */
static void print_queues(FILE *f)
{
	for (unsigned i = 0; i < nq; i++)
		fprintf(f,
			"%s{\"queue\":%u,\"received\":%llu,\"rx_dropped\":%llu,"
			"\"rx_ring_full\":%llu}",
			i ? "," : "", i, (unsigned long long)qs[i].packets,
			(unsigned long long)qs[i].st.rx_dropped,
			(unsigned long long)qs[i].st.rx_ring_full);
	fprintf(f, "]}\n");
}

/* Each socket's final drop counts (XDP_STATISTICS, summed in sum), then
 * the socket and its UMEM */
static void close_queues(struct xdp_statistics *sum)
{
	for (unsigned i = 0; i < nq; i++) {
		socklen_t len = sizeof(qs[i].st);

		if (qs[i].fd < 0 || getsockopt(qs[i].fd, SOL_XDP,
					       XDP_STATISTICS, &qs[i].st, &len))
			memset(&qs[i].st, 0, sizeof(qs[i].st));
		sum->rx_dropped += qs[i].st.rx_dropped;
		sum->rx_ring_full += qs[i].st.rx_ring_full;
		sum->rx_fill_ring_empty_descs +=
			qs[i].st.rx_fill_ring_empty_descs;
		sum->rx_invalid_descs += qs[i].st.rx_invalid_descs;
		if (qs[i].xsk)
			xsk_socket__delete(qs[i].xsk);
		if (qs[i].umem)
			xsk_umem__delete(qs[i].umem);
		if (qs[i].area)
			munmap(qs[i].area, (size_t)num_frames * frame_size);
	}
}

/* --ring N: fill and RX rings of N entries, 2N frames of 2 KiB */
static int parse_ring(const char *arg, void *dst)
{
	(void)dst;
	ring = strtoul(arg, NULL, 0);
	if (ring < 64 || ring > (1u << 24) || (ring & (ring - 1)))
		return loop_err(0, "--ring %s: a power of two >= 64", arg);
	num_frames = 2 * ring;
	frame_size = 2048;
	default_rings = false;
	return 0;
}

int main(int argc, char **argv)
{
	bool skb = false;
	const struct loop_opt opts[] = {
		{ "queues", "N", "rx queues 0..N-1 (default: all)", LOOP_UINT,
		  &nq },
		{ "ring", "N",
		  "fill and RX rings of N entries (power of two),\n"
		  "2N frames of 2 KiB per queue (default: libxdp's)",
		  LOOP_FUNC, NULL, parse_ring },
		{ "skb", NULL, "generic (skb) XDP instead of native", LOOP_FLAG,
		  &skb },
		{ 0 }
	};
	const struct loop_tool tool = {
		.name = "afxdp_loop",
		.about =
			"A plain AF_XDP receive loop (libxdp, default 2048-entry rings,\n"
			"one socket per queue, one thread), for comparison with wirecap.\n",
		.opts = opts,
		.common = LOOP_O_ALL,
	};
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct xdp_statistics sum = {};
	int map_fd = -1, prog_fd = -1, err, rc;
	unsigned ifindex;

	loop_parse(&lp, &tool, argc, argv);
	if (skb)
		xdp_flags = XDP_FLAGS_SKB_MODE;
	ifindex = if_nametoindex(lp.ifname);
	if (!ifindex)
		return loop_err(errno, "unknown interface %s", lp.ifname);
	if (!nq && (err = rx_queues(lp.ifname, &nq)))
		return loop_err(err, "cannot read the queue count of %s",
				lp.ifname);
	if (nq > MAX_Q)
		nq = MAX_Q;
	if (loop_pin(&lp))
		return 1;
	setrlimit(RLIMIT_MEMLOCK, &rl);
	libbpf_set_print(NULL);
	loop_signals(NULL);
	loop_cost_init(&lp);
	rc = setup(ifindex, &map_fd, &prog_fd);
	if (rc == 0) {
		loop_ready(&lp);
		receive();
		bpf_xdp_detach(ifindex, xdp_flags, NULL);
	}
	close_queues(&sum);
	if (prog_fd >= 0)
		close(prog_fd);
	if (map_fd >= 0)
		close(map_fd);
	if (rc == 0)
		rc = loop_json(
			&lp, print_queues,
			"{\"tool\":\"afxdp_loop\",\"path\":\"%s XDP, AF_XDP copy mode\","
			"\"ring\":%u,\"frames\":%u,\"received\":%llu,\"rx_dropped\":%llu,\"rx_ring_full\":%llu,"
			"\"fill_ring_empty\":%llu,\"invalid\":%llu,\"polls\":%llu,"
			"\"kicks\":%llu,\"duration_s\":%.6f,\"drain_pkts\":%llu,"
			"\"drain_ns_per_pkt\":%.1f,\"queues\":[",
			xdp_flags == XDP_FLAGS_DRV_MODE ? "native" : "generic",
			ring, num_frames, (unsigned long long)total,
			(unsigned long long)sum.rx_dropped,
			(unsigned long long)sum.rx_ring_full,
			(unsigned long long)sum.rx_fill_ring_empty_descs,
			(unsigned long long)sum.rx_invalid_descs,
			(unsigned long long)polls, (unsigned long long)kicks,
			loop_duration_s(&lp), (unsigned long long)lp.drain.pkts,
			loop_drain_ns_per_pkt(&lp));
	fprintf(stderr,
		"afxdp_loop: %s: %llu packets received, %llu dropped by the kernel (%llu rx ring full, %llu fill ring empty)\n",
		lp.ifname, (unsigned long long)total,
		(unsigned long long)sum.rx_dropped,
		(unsigned long long)sum.rx_ring_full,
		(unsigned long long)sum.rx_fill_ring_empty_descs);
	return rc;
}
