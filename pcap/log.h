/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The log lines of libwirecap-xdp, libbpf and libxdp inside a libpcap
 * program (log.c: not including pcap.h, whose struct bpf_insn collides
 * with libbpf's). */
#ifndef WIRECAP_PCAP_LOG_H
#define WIRECAP_PCAP_LOG_H

void wcp_log_init(void);
/* the last warning line since wcp_clear_warning(), "" when none */
const char *wcp_last_warning(void);
void wcp_clear_warning(void);
/* a line for WIRECAP_PCAP_LOG only (never the program's stderr unless
 * asked): the summary of a handle at close */
void wcp_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
