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
 * packet) as `wirecap bench`.
 *
 *   afxdp_loop -i IFACE [--queues N] [--ring N] [--cost-ns N] [--stall-ms MS]
 *              [--cpu C] [--skb] [--idle-exit SEC] [--json FILE|-]
 *              [--ready-file FILE]
 * SIGINT/SIGTERM: stop, drain what the rings hold, print the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include "clock.h"

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

static volatile sig_atomic_t stop_req;

static void on_signal(int sig)
{
	(void)sig;
	stop_req = 1;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stop_req)
		;
}

static int die(const char *fmt, const char *arg, int err)
{
	fprintf(stderr, "afxdp_loop: ");
	fprintf(stderr, fmt, arg);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fprintf(stderr, "\n");
	return 1;
}

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

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: afxdp_loop -i IFACE [options]\n"
		"A plain AF_XDP receive loop (libxdp, default 2048-entry rings,\n"
		"one socket per queue, one thread), for comparison with wirecap.\n"
		"  -i IFACE            interface\n"
		"  --queues N          rx queues 0..N-1 (default: all)\n"
		"  --ring N            fill and RX rings of N entries (power of two),\n"
		"                      2N frames of 2 KiB per queue (default: libxdp's)\n"
		"  --cost-ns N         CPU spin per packet, in ns\n"
		"  --stall-ms MS       sleep MS ms at the first packet\n"
		"  --cpu C             pin the thread to CPU C\n"
		"  --skb               generic (skb) XDP instead of native\n"
		"  --idle-exit SEC     stop SEC s after the last packet\n"
		"  --json FILE|-       summary as JSON\n"
		"  --ready-file FILE   created when the sockets are up\n");
}

int main(int argc, char **argv)
{
	enum {
		O_Q = 256,
		O_RING,
		O_COST,
		O_STALL,
		O_CPU,
		O_SKB,
		O_IDLE,
		O_JSON,
		O_READY
	};
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "queues", required_argument, 0, O_Q },
		{ "ring", required_argument, 0, O_RING },
		{ "cost-ns", required_argument, 0, O_COST },
		{ "stall-ms", required_argument, 0, O_STALL },
		{ "cpu", required_argument, 0, O_CPU },
		{ "skb", no_argument, 0, O_SKB },
		{ "idle-exit", required_argument, 0, O_IDLE },
		{ "json", required_argument, 0, O_JSON },
		{ "ready-file", required_argument, 0, O_READY },
		{ "help", no_argument, 0, 'h' },
		{ 0 }
	};
	const char *ifname = NULL, *json = NULL, *ready = NULL;
	unsigned nq = 0, ifindex;
	uint64_t cost_ns = 0, stall_ms = 0, spins = 0, idle_ns = 0;
	uint64_t total = 0, t_first = 0, t_last = 0, polls = 0, kicks = 0;
	uint32_t xdp_flags = XDP_FLAGS_DRV_MODE;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct sigaction sa = { .sa_handler = on_signal };
	struct q qs[MAX_Q] = {};
	struct pollfd pfd[MAX_Q];
	bool attached = false, stalled = false;
	/* after the stall: CPU time while draining the backlog (full batches) */
	int draining = 0;
	uint64_t drain_cpu0 = 0, drain_cpu = 0, drain_pkts = 0;
	int c, cpu = -1, map_fd = -1, prog_fd = -1, err, rc = 1;

	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case O_Q:
			nq = strtoul(optarg, NULL, 0);
			break;
		case O_RING:
			ring = strtoul(optarg, NULL, 0);
			if (ring < 64 || ring > (1u << 24) ||
			    (ring & (ring - 1)))
				return die("--ring %s: a power of two >= 64",
					   optarg, 0);
			num_frames = 2 * ring;
			frame_size = 2048;
			default_rings = false;
			break;
		case O_COST:
			cost_ns = strtoull(optarg, NULL, 0);
			break;
		case O_STALL:
			stall_ms = strtoull(optarg, NULL, 0);
			break;
		case O_CPU:
			cpu = atoi(optarg);
			break;
		case O_SKB:
			xdp_flags = XDP_FLAGS_SKB_MODE;
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
		return die("unknown interface %s", ifname, errno);
	if (!nq && (err = rx_queues(ifname, &nq)))
		return die("cannot read the queue count of %s", ifname, err);
	if (nq > MAX_Q)
		nq = MAX_Q;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			return die("cannot pin to the CPU given%s", "", errno);
	}
	setrlimit(RLIMIT_MEMLOCK, &rl);
	libbpf_set_print(NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cost_ns)
		spins = wc_spin_calibrate();

	map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "afxdp_xsks", 4, 4, nq,
				NULL);
	if (map_fd < 0) {
		die("cannot create the XSKMAP%s", "", errno);
		goto out;
	}
	prog_fd = load_prog(map_fd);
	if (prog_fd < 0) {
		die("cannot load the XDP program%s", "", errno);
		goto out;
	}
	for (unsigned i = 0; i < nq; i++) {
		qs[i].id = i;
		qs[i].fd = -1;
		err = setup_queue(ifname, &qs[i]);
		if (err) {
			die("cannot set up the AF_XDP socket of %s", ifname,
			    err);
			goto out;
		}
		if (bpf_map_update_elem(map_fd, &i, &qs[i].fd, BPF_ANY)) {
			die("cannot insert the socket in the XSKMAP%s", "",
			    errno);
			goto out;
		}
		pfd[i].fd = qs[i].fd;
		pfd[i].events = POLLIN;
	}
	err = bpf_xdp_attach(ifindex, prog_fd,
			     xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		die("cannot attach XDP to %s", ifname, err);
		goto out;
	}
	attached = true;
	if (ready) {
		int fd = open(ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
	}

	/* the loop */
	for (;;) {
		uint64_t got = 0;
		bool stopping = stop_req;

		for (unsigned i = 0; i < nq; i++) {
			struct q *q = &qs[i];
			uint32_t idx_rx, idx_fq, n;

			n = xsk_ring_cons__peek(&q->rx, BATCH, &idx_rx);
			if (!n)
				continue;
			if (xsk_ring_prod__reserve(&q->fq, n, &idx_fq) != n) {
				/* cannot happen: every frame we hold came from the fill ring */
				xsk_ring_cons__cancel(&q->rx, n);
				continue;
			}
			for (uint32_t k = 0; k < n; k++) {
				const struct xdp_desc *d =
					xsk_ring_cons__rx_desc(&q->rx,
							       idx_rx + k);
				volatile const char *data =
					xsk_umem__get_data(q->area, d->addr);

				(void)data[0]; /* touch the packet, as any analyzer would */
				if (spins)
					wc_spin(cost_ns * spins / 1000);
				*xsk_ring_prod__fill_addr(&q->fq, idx_fq + k) =
					xsk_umem__extract_addr(d->addr);
			}
			xsk_ring_prod__submit(&q->fq, n);
			xsk_ring_cons__release(&q->rx, n);
			if (xsk_ring_prod__needs_wakeup(&q->fq)) {
				recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL,
					 NULL);
				kicks++;
			}
			q->packets += n;
			got += n;
		}
		if (draining) {
			/* a pass that found every ring non-empty: still the backlog */
			if (got == (uint64_t)BATCH * nq) {
				drain_pkts += got;
				drain_cpu = thread_cpu_ns() - drain_cpu0;
			} else {
				draining = 0;
			}
		}
		if (got) {
			uint64_t now = wc_clock_mono_ns();

			if (!t_first)
				t_first = now;
			t_last = now;
			total += got;
			if (stall_ms && !stalled) {
				stalled = true;
				sleep_ms(stall_ms);
				draining = 1;
				drain_cpu0 = thread_cpu_ns();
			}
			continue;
		}
		if (stopping)
			break; /* stopped and drained */
		if (idle_ns && t_last && wc_clock_mono_ns() - t_last >= idle_ns)
			break;
		polls++;
		poll(pfd, nq, 100);
	}
	rc = 0;
out:
	if (attached)
		bpf_xdp_detach(ifindex, xdp_flags, NULL);
	{
		uint64_t dropped = 0, ring_full = 0, fill_empty = 0,
			 invalid = 0;
		FILE *f = NULL;

		for (unsigned i = 0; i < nq; i++) {
			socklen_t len = sizeof(qs[i].st);

			if (qs[i].fd < 0 ||
			    getsockopt(qs[i].fd, SOL_XDP, XDP_STATISTICS,
				       &qs[i].st, &len))
				memset(&qs[i].st, 0, sizeof(qs[i].st));
			dropped += qs[i].st.rx_dropped;
			ring_full += qs[i].st.rx_ring_full;
			fill_empty += qs[i].st.rx_fill_ring_empty_descs;
			invalid += qs[i].st.rx_invalid_descs;
		}
		if (json && rc == 0) {
			f = strcmp(json, "-") ? fopen(json, "w") : stdout;
			if (!f)
				rc = die("cannot write %s", json, errno);
		}
		if (f) {
			fprintf(f,
				"{\"tool\":\"afxdp_loop\",\"path\":\"%s XDP, AF_XDP copy mode\","
				"\"ring\":%u,\"frames\":%u,\"received\":%llu,\"rx_dropped\":%llu,\"rx_ring_full\":%llu,"
				"\"fill_ring_empty\":%llu,\"invalid\":%llu,\"polls\":%llu,"
				"\"kicks\":%llu,\"duration_s\":%.6f,\"drain_pkts\":%llu,"
				"\"drain_ns_per_pkt\":%.1f,\"queues\":[",
				xdp_flags == XDP_FLAGS_DRV_MODE ? "native" :
								  "generic",
				ring, num_frames, (unsigned long long)total,
				(unsigned long long)dropped,
				(unsigned long long)ring_full,
				(unsigned long long)fill_empty,
				(unsigned long long)invalid,
				(unsigned long long)polls,
				(unsigned long long)kicks,
				t_last > t_first ? (t_last - t_first) / 1e9 :
						   0.0,
				(unsigned long long)drain_pkts,
				drain_pkts ? (double)drain_cpu / drain_pkts :
					     0.0);
			for (unsigned i = 0; i < nq; i++)
				fprintf(f,
					"%s{\"queue\":%u,\"received\":%llu,\"rx_dropped\":%llu,"
					"\"rx_ring_full\":%llu}",
					i ? "," : "", i,
					(unsigned long long)qs[i].packets,
					(unsigned long long)qs[i].st.rx_dropped,
					(unsigned long long)qs[i]
						.st.rx_ring_full);
			fprintf(f, "]}\n");
			if (f != stdout)
				fclose(f);
			else
				fflush(f);
		}
		for (unsigned i = 0; i < nq; i++) {
			if (qs[i].xsk)
				xsk_socket__delete(qs[i].xsk);
			if (qs[i].umem)
				xsk_umem__delete(qs[i].umem);
			if (qs[i].area)
				munmap(qs[i].area,
				       (size_t)num_frames * frame_size);
		}
		if (prog_fd >= 0)
			close(prog_fd);
		if (map_fd >= 0)
			close(map_fd);
		fprintf(stderr,
			"afxdp_loop: %s: %llu packets received, %llu dropped by the kernel (%llu rx ring full, %llu fill ring empty)\n",
			ifname, (unsigned long long)total,
			(unsigned long long)dropped,
			(unsigned long long)ring_full,
			(unsigned long long)fill_empty);
	}
	return rc;
}
