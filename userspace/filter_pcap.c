// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The classic side of filters: tcpdump expressions compiled by libpcap,
 * classic programs read as text (tcpdump -ddd / -dd), and libpcap's own
 * interpreter (pcap_offline_filter) to run them in user space.
 */
#include <ctype.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

_Static_assert(sizeof(struct wc_cbpf) == sizeof(struct bpf_insn),
	       "classic instruction layout");

/* A dead Ethernet handle: libpcap then tests VLAN tags in the packet
 * bytes (a live Linux handle would use ancillary loads XDP cannot do). */
int wc_filter_compile(const char *expr, struct wc_cbpf **out, size_t *n,
		      char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *pd;
	int ret = 0;

	if (!expr)
		expr = "";
	pd = pcap_open_dead(DLT_EN10MB, 262144);
	if (!pd) {
		snprintf(err, errlen, "libpcap: cannot open a dead handle");
		return -ENOMEM;
	}
	if (pcap_compile(pd, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		char *nl;

		snprintf(err, errlen, "%s", pcap_geterr(pd));
		nl = strchr(err, '\n');
		if (nl)
			*nl = 0;
		pcap_close(pd);
		return -EINVAL;
	}
	*n = prog.bf_len;
	*out = malloc(sizeof(**out) * (prog.bf_len ? prog.bf_len : 1));
	if (!*out)
		ret = -ENOMEM;
	else
		memcpy(*out, prog.bf_insns, sizeof(**out) * prog.bf_len);
	pcap_freecode(&prog);
	pcap_close(pd);
	return ret;
}

/* Numbers separated by blanks, commas and braces (both -ddd and -dd). */
static int next_num(const char **p, unsigned long *v)
{
	const char *s = *p;
	char *end;

	while (*s && (isspace((unsigned char)*s) || *s == ',' || *s == '{' ||
		      *s == '}'))
		s++;
	if (!*s)
		return 0;
	if (!isdigit((unsigned char)*s)) {
		*p = s;
		return -1;
	}
	errno = 0;
	*v = strtoul(s, &end, 0);
	if (errno || *v > 0xffffffffUL)
		return -1;
	*p = end;
	return 1;
}

int wc_filter_parse_text(const char *text, struct wc_cbpf **out, size_t *n,
			 char *err, size_t errlen)
{
	unsigned long v, *nums = NULL;
	size_t cnt = 0, cap = 0, first = 0;
	const char *p = text ? text : "";
	struct wc_cbpf *c;
	int r;

	while ((r = next_num(&p, &v)) > 0) {
		if (cnt == cap) {
			unsigned long *nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(nums, cap * sizeof(*nums));
			if (!nn) {
				free(nums);
				return -ENOMEM;
			}
			nums = nn;
		}
		nums[cnt++] = v;
	}
	if (r < 0) {
		int w = (int)strcspn(p, " \t\r\n,{}");

		/* the offending word, on one line */
		snprintf(
			err, errlen,
			"classic BPF text: unexpected '%.*s' (expected numbers as printed by tcpdump -ddd)",
			w > 16 ? 16 : w, p);
		free(nums);
		return -EINVAL;
	}
	/* -ddd starts with the instruction count */
	if (cnt % 4 == 1 && nums[0] == cnt / 4)
		first = 1;
	if (cnt < 4 || (cnt - first) % 4) {
		snprintf(
			err, errlen,
			"classic BPF text: %zu numbers do not make instructions of 4 (code jt jf k)",
			cnt);
		free(nums);
		return -EINVAL;
	}
	*n = (cnt - first) / 4;
	c = calloc(*n, sizeof(*c));
	if (!c) {
		free(nums);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++) {
		const unsigned long *q = nums + first + 4 * i;

		if (q[0] > 0xffff || q[1] > 0xff || q[2] > 0xff) {
			snprintf(
				err, errlen,
				"classic BPF text: instruction %zu out of range (code %lu jt %lu jf %lu)",
				i, q[0], q[1], q[2]);
			free(c);
			free(nums);
			return -EINVAL;
		}
		c[i].code = q[0];
		c[i].jt = q[1];
		c[i].jf = q[2];
		c[i].k = q[3];
	}
	free(nums);
	*out = c;
	return 0;
}

unsigned wc_filter_run_classic(const struct wc_cbpf *c, size_t n,
			       const void *frame, size_t len)
{
	struct bpf_program prog = {
		.bf_len = n,
		.bf_insns = (struct bpf_insn *)c,
	};
	struct pcap_pkthdr h = { .caplen = len, .len = len };

	return pcap_offline_filter(&prog, &h, frame) != 0;
}
