// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The library's log lines inside a libpcap program. A program's stderr is
 * not ours: dumpcap speaks to tshark over it (Wireshark 4.0's sync pipe)
 * and a stray line breaks the capture. So by default the lines are only
 * kept: the last warning becomes the detail of an activation error
 * (pcap_geterr). WIRECAP_PCAP_LOG=stderr prints them on stderr,
 * WIRECAP_PCAP_LOG=/path appends them to that file. libbpf's and libxdp's
 * warnings go the same way.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "wirecap/wirecap.h"
#include "log.h"

static char last_warn[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int print_cb(enum wc_print_level level, const char *fmt, va_list ap)
{
	const char *dest = getenv("WIRECAP_PCAP_LOG");
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (level == WC_WARN) {
		snprintf(last_warn, sizeof(last_warn), "%s", line);
		n = strlen(last_warn);
		if (n && last_warn[n - 1] == '\n')
			last_warn[n - 1] = '\0';
	}
	if (!dest || !*dest || level == WC_DEBUG)
		return 0;
	if (!strcmp(dest, "stderr")) {
		fprintf(stderr, "wirecap: %s", line);
	} else {
		/* opened once and kept: the program may drop its privileges
		 * (tcpdump) before its handle closes */
		static int fd = -1;

		if (fd < 0)
			fd = open(dest,
				  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				  0600);
		if (fd >= 0)
			dprintf(fd, "wirecap[%d]: %s", getpid(), line);
	}
	return 0;
}

/* libbpf's and libxdp's lines (they print on stderr by default) */
static int bpf_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? print_cb(WC_INFO, fmt, ap) : 0;
}

static int xdp_cb(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return level == LIBXDP_WARN ? print_cb(WC_INFO, fmt, ap) : 0;
}

void wcp_log_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_cb(WC_INFO, fmt, ap);
	va_end(ap);
}

static void install(void)
{
	wc_set_print(print_cb);
	libbpf_set_print(bpf_cb);
	libxdp_set_print(xdp_cb);
}

void wcp_log_init(void)
{
	pthread_once(&once, install);
}

const char *wcp_last_warning(void)
{
	return last_warn;
}

void wcp_clear_warning(void)
{
	last_warn[0] = '\0';
}
