/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Filters in XDP (internal): a tcpdump expression compiled by libpcap into
 * classic BPF (filter_pcap.c), or a classic program given as text
 * (`tcpdump -ddd`), translated into eBPF instructions (filter.c) that run
 * inside the steering program (see docs/filter.md).
 *
 * This header includes neither <pcap.h> nor <linux/bpf.h>: both define a
 * struct bpf_insn (classic and extended), so the two halves live in
 * separate files and meet here on neutral types.
 */
#ifndef WIRECAP_FILTER_H
#define WIRECAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "wirecap/wc_layout.h"

/* One classic BPF instruction: the layout of libpcap's struct bpf_insn
 * and of the kernel's struct sock_filter. */
struct wc_cbpf {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};

/* Where the translated program sends its verdict. */
struct wc_filter_target {
	/* -1 (all): a standalone XDP program returning XDP_PASS on a match
	 * and XDP_DROP otherwise (tests). Otherwise the data path: a match
	 * tail-calls WC_FILTER_SLOT_STEER of progs_fd; a packet that does
	 * not match is counted `filtered` in queue_stats and gets the
	 * config's filter (or no-socket) action. */
	int progs_fd;
	int config_fd;
	int queue_stats_fd;
	bool invert; /* a match is what is filtered out (forward --drop) */
};

/* Compile a tcpdump expression for Ethernet (optimized). On error:
 * -EINVAL and libpcap's message (one line) in err. *out is malloc'd. */
int wc_filter_compile(const char *expr, struct wc_cbpf **out, size_t *n,
		      char *err, size_t errlen);

/* Parse a classic program as text: `tcpdump -ddd` (a count, then one
 * "code jt jf k" line per instruction) or `tcpdump -dd` ("{ 0x28, 0, 0,
 * 0x0000000c },"). */
int wc_filter_parse_text(const char *text, struct wc_cbpf **out, size_t *n,
			 char *err, size_t errlen);

/* Translate into eBPF (an array of struct bpf_insn, malloc'd in *insns,
 * *ninsns of them). -EINVAL with the reason in err (naming the
 * instruction or construct) when the classic program is invalid or uses
 * what XDP cannot serve (ancillary loads, backward jumps). */
int wc_filter_translate(const struct wc_cbpf *c, size_t n,
			const struct wc_filter_target *t, void **insns,
			size_t *ninsns, char *err, size_t errlen);

/* Load translated instructions as an XDP program: its fd or -errno, with
 * the verifier's last line in err. */
int wc_filter_load(const void *insns, size_t ninsns, char *err, size_t errlen);

/* Run a loaded program once on a frame (BPF_PROG_TEST_RUN, repeat 1);
 * the XDP verdict in *verdict. Frames shorter than 14 bytes: -EINVAL. */
int wc_filter_test_run(int prog_fd, const void *frame, size_t len,
		       __u32 *verdict);

/* pcap_offline_filter() of a classic program on a frame of len bytes
 * (caplen == len): non-zero for a match. For tests and user-space
 * filtering. */
unsigned wc_filter_run_classic(const struct wc_cbpf *c, size_t n,
			       const void *frame, size_t len);

/* The filter installed on an attachment, to put back later (an engine
 * with its own filter restores the attachment's at close). */
struct wc_iface;
struct wc_filter_saved {
	int fd; /* the program; -1: none was installed */
	__u32 action;
	struct wc_filter_info info;
};

int wc_filter_save(struct wc_iface *ifc, struct wc_filter_saved *sv);
/* installs it back (or clears when there was none); closes sv->fd */
int wc_filter_restore(struct wc_iface *ifc, struct wc_filter_saved *sv);

#endif
