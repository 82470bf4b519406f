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
 * at the first packet) as `wirecap bench` (common/loop.h).
 *
 *   pcap_loop -i IFACE [--buffer-size BYTES] [common options, see --help]
 * SIGINT/SIGTERM: stop, read what the ring still holds, print the summary.
 */
#include <pcap/pcap.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "common/loop.h"

static struct loop lp;
static pcap_t *cap;
static uint64_t count;

static void breakloop(void)
{
	if (cap)
		pcap_breakloop(cap);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h,
		      const u_char *bytes)
{
	volatile const u_char *b = bytes;

	(void)user;
	(void)h;
	(void)b[0]; /* touch the packet, as any analyzer would */
	count++;
	loop_cost(&lp);
	loop_stall(&lp);
}

/* Until stopped (or --idle-exit); 0, or 1 after a message */
static int receive(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	/* Non-blocking reads and our own poll(): with TPACKET_V3 libpcap's
	 * blocking read waits for a block without a timeout, so an idle
	 * capture would never see an empty read (and --idle-exit never
	 * fire). The kernel still retires blocks after the 100 ms timeout. */
	if (lp.idle_ns && pcap_setnonblock(cap, 1, errbuf))
		return loop_err(0, "%s", errbuf);
	while (!loop_stopping()) {
		uint64_t before = count;
		int n = pcap_dispatch(cap, -1, on_packet, NULL);

		if (lp.idle_ns && n == 0) {
			struct pollfd pfd = { .fd = pcap_get_selectable_fd(cap),
					      .events = POLLIN };

			poll(&pfd, 1, 100);
		}
		if (n == PCAP_ERROR)
			return loop_err(0, "%s", pcap_geterr(cap));
		if (count != before)
			loop_seen(&lp);
		else if (loop_idle(&lp))
			break;
	}
	/* stopped: read what the ring still holds */
	if (pcap_setnonblock(cap, 1, errbuf) == 0) {
		int n;

		do {
			n = pcap_dispatch(cap, -1, on_packet, NULL);
		} while (n > 0 || n == PCAP_ERROR_BREAK);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long bufsize = 0;
	const struct loop_opt opts[] = {
		{ "buffer-size", "BYTES",
		  "pcap_set_buffer_size (default: libpcap's)", LOOP_LONG,
		  &bufsize },
		{ 0 }
	};
	const struct loop_tool tool = {
		.name = "pcap_loop",
		.about =
			"libpcap on AF_PACKET: pcap_dispatch() loop counting packets.\n",
		.opts = opts,
		.common = LOOP_O_ALL,
	};
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_stat ps = {};
	int rc;

	loop_parse(&lp, &tool, argc, argv);
	if (loop_pin(&lp))
		return 1;
	loop_cost_init(&lp);
	cap = pcap_create(lp.ifname, errbuf);
	if (!cap)
		return loop_err(0, "%s", errbuf);
	pcap_set_promisc(cap, 1);
	pcap_set_timeout(cap, 100);
	if (bufsize > 0)
		pcap_set_buffer_size(cap, (int)bufsize);
	if (pcap_activate(cap) < 0) {
		loop_err(0, "%s: %s", lp.ifname, pcap_geterr(cap));
		pcap_close(cap);
		return 1;
	}
	loop_signals(breakloop);
	loop_ready(&lp);
	rc = receive();
	if (pcap_stats(cap, &ps))
		memset(&ps, 0, sizeof(ps));
	if (rc == 0)
		rc = loop_json(
			&lp, NULL,
			"{\"tool\":\"pcap_loop\",\"path\":\"AF_PACKET TPACKET_V3 (libpcap %s)\","
			"\"received\":%llu,\"ps_recv\":%u,\"ps_drop\":%u,\"ps_ifdrop\":%u,"
			"\"duration_s\":%.6f}\n",
			pcap_lib_version(), (unsigned long long)count,
			ps.ps_recv, ps.ps_drop, ps.ps_ifdrop,
			loop_duration_s(&lp));
	fprintf(stderr,
		"pcap_loop: %s: %llu packets received; pcap_stats: ps_recv %u, ps_drop %u\n",
		lp.ifname, (unsigned long long)count, ps.ps_recv, ps.ps_drop);
	pcap_close(cap);
	return rc;
}
