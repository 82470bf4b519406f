// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pcap_api: a plain libpcap program (it knows nothing of wirecap) that
 * drives a capture handle through the calls other programs make, for
 * test_pcap.sh to run under `wirecap exec`:
 *
 *   pcap_api -i DEV -n N -w FILE
 *   pcap_api -i DEV -j N
 *
 * pcap_create + settings (snap length 200, nanosecond stamps, timeout)
 * + pcap_activate, a dumper, then N packets in three parts: pcap_next_ex
 * (the first quarter), pcap_dispatch in non-blocking mode on select()
 * of pcap_get_selectable_fd (up to half), and pcap_loop stopped by
 * pcap_breakloop from a signal handler (SIGUSR1 raised by the callback at
 * the N-th packet). Every packet is written to FILE. It prints "ready"
 * once the handle is active and at the end one line:
 *   packets N next_ex A dispatch B loop C dumped D recv R drop X ifdrop Y
 *   late L
 * and exits 0 when every check held (1 with a "pcap_api: ..." line).
 * With -j it sends N UDP packets (198.18.0.2:9 -> 198.18.0.1:9, Ethernet
 * broadcast) out of DEV instead, half with pcap_inject, half with
 * pcap_sendpacket, and prints "injected N".
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static pcap_t *p;
static pcap_dumper_t *dumper;
static unsigned long n_total, target, dumped, late;
static struct timeval last_ts;

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "pcap_api: %s: %s\n", what, detail);
	return 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	pcap_breakloop(p);
}

static void count(const struct pcap_pkthdr *h, const u_char *data)
{
	if (h->ts.tv_sec < last_ts.tv_sec ||
	    (h->ts.tv_sec == last_ts.tv_sec && h->ts.tv_usec < last_ts.tv_usec))
		late++;
	else
		last_ts = h->ts;
	pcap_dump((u_char *)dumper, h, data);
	dumped++;
	n_total++;
}

static void on_pkt(u_char *user, const struct pcap_pkthdr *h,
		   const u_char *data)
{
	unsigned long *part = (unsigned long *)user;

	count(h, data);
	(*part)++;
	if (n_total == target)
		raise(SIGUSR1); /* pcap_loop's part ends here */
}

static int open_handle(const char *dev)
{
	char err[PCAP_ERRBUF_SIZE];

	p = pcap_create(dev, err);
	if (!p)
		return fail("pcap_create", err);
	if (pcap_set_snaplen(p, 200) || pcap_set_promisc(p, 1) ||
	    pcap_set_timeout(p, 100) ||
	    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO))
		return fail("pcap_set_*", "refused");
	if (pcap_activate(p) < 0)
		return fail("pcap_activate", pcap_geterr(p));
	if (pcap_datalink(p) != DLT_EN10MB)
		return fail("pcap_datalink", "not DLT_EN10MB");
	if (pcap_snapshot(p) != 200)
		return fail("pcap_snapshot", "not 200");
	if (pcap_get_tstamp_precision(p) != PCAP_TSTAMP_PRECISION_NANO)
		return fail("pcap_get_tstamp_precision", "not nano");
	return 0;
}

/* pcap_dispatch, non-blocking, woken by select() on the selectable fd */
static int dispatch_part(unsigned long upto, unsigned long *part)
{
	char err[PCAP_ERRBUF_SIZE];
	int fd = pcap_get_selectable_fd(p);

	if (fd < 0)
		return fail("pcap_get_selectable_fd", "no fd");
	if (pcap_setnonblock(p, 1, err))
		return fail("pcap_setnonblock", err);
	if (pcap_getnonblock(p, err) != 1)
		return fail("pcap_getnonblock", "not non-blocking");
	while (n_total < upto) {
		const struct timeval *rt = pcap_get_required_select_timeout(p);
		struct timeval tv = rt ? *rt : (struct timeval){ 1, 0 };
		fd_set rd;
		int r;

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, &tv) < 0 && errno != EINTR)
			return fail("select", strerror(errno));
		r = pcap_dispatch(p, (int)(upto - n_total), on_pkt,
				  (u_char *)part);
		if (r < 0)
			return fail("pcap_dispatch", pcap_geterr(p));
	}
	if (pcap_setnonblock(p, 0, err))
		return fail("pcap_setnonblock", err);
	return 0;
}

/* a UDP frame: Ethernet broadcast, 198.18.0.2:9 -> 198.18.0.1:9, 18 B of
 * payload carrying @seq */
static size_t make_frame(u_char *f, unsigned seq)
{
	static const u_char head[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,	 0,  0, 1, 0x08,
		0x00, /* IPv4 */
		0x45, 0,    0,	  46,	0,    0,    0x40, 0, 64, 17, 0, 0, /* len 46, UDP */
		198,  18,   0,	  2,	198,  18,   0,	  1, /* addresses */
		0,    9,    0,	  9,	0,    26,   0,	  0, /* ports 9 -> 9, len 26 */
	};
	unsigned sum = 0;

	memcpy(f, head, sizeof(head));
	memset(f + sizeof(head), 0, 18);
	memcpy(f + sizeof(head), &seq, sizeof(seq));
	for (int i = 14; i < 34; i += 2)
		sum += f[i] << 8 | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = ~sum >> 8;
	f[25] = ~sum & 0xff;
	return sizeof(head) + 18;
}

static int inject(unsigned long n)
{
	u_char f[64];

	for (unsigned long i = 0; i < n; i++) {
		size_t len = make_frame(f, i);

		if (i % 2 ? pcap_sendpacket(p, f, len) != 0 :
			    pcap_inject(p, f, len) != (int)len)
			return fail(i % 2 ? "pcap_sendpacket" : "pcap_inject",
				    pcap_geterr(p));
	}
	printf("injected %lu\n", n);
	pcap_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *file = NULL;
	unsigned long n = 0, a = 0, b = 0, c = 0, inj = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct pcap_stat st;
	int opt, r;

	while ((opt = getopt(argc, argv, "i:n:w:j:")) != -1) {
		if (opt == 'j')
			inj = strtoul(optarg, NULL, 0);
		else if (opt == 'i')
			dev = optarg;
		else if (opt == 'n')
			n = strtoul(optarg, NULL, 0);
		else if (opt == 'w')
			file = optarg;
		else
			return 2;
	}
	if (dev && inj)
		return open_handle(dev) || inject(inj);
	if (!dev || !file || n < 4)
		return fail("usage", "pcap_api -i DEV -n N (>= 4) -w FILE");
	if (open_handle(dev))
		return 1;
	dumper = pcap_dump_open(p, file);
	if (!dumper)
		return fail("pcap_dump_open", pcap_geterr(p));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	target = n;
	while (n_total < n / 4) {
		struct pcap_pkthdr *h;
		const u_char *data;

		r = pcap_next_ex(p, &h, &data);
		if (r < 0)
			return fail("pcap_next_ex", pcap_geterr(p));
		if (r == 1) {
			count(h, data);
			a++;
		}
	}
	if (dispatch_part(n / 2, &b))
		return 1;
	r = pcap_loop(p, -1, on_pkt, (u_char *)&c);
	if (r != PCAP_ERROR_BREAK)
		return fail("pcap_loop", r < 0 ? pcap_geterr(p) :
						 "returned without the break");
	if (pcap_stats(p, &st))
		return fail("pcap_stats", pcap_geterr(p));
	pcap_dump_close(dumper);
	printf("packets %lu next_ex %lu dispatch %lu loop %lu dumped %lu recv %u drop %u ifdrop %u late %lu\n",
	       n_total, a, b, c, dumped, st.ps_recv, st.ps_drop, st.ps_ifdrop,
	       late);
	pcap_close(p);
	return n_total == n && dumped == n ? 0 : 1;
}
