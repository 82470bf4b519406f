/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Filters given on the command line: checked up front (one-line errors),
 * installed in XDP by default, or run in user space (--filter-in user). */
#ifndef WIRECAP_CMD_FILTER_ARGS_H
#define WIRECAP_CMD_FILTER_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "wirecap/wirecap.h"

struct filter_args {
	char *expr; /* joined trailing arguments (malloc'd) */
	bool user; /* --filter-in user */
	struct wc_filter_opts fo;
	char err[512];
};

/* argv[from..] joined by spaces, as tcpdump does; NULL: out of memory */
char *filter_join(int argc, char **argv, int from);
/* --filter-in kernel|user; 0, or 1 after a one-line error */
int filter_in_parse(const char *v, bool *user);
/* --action pass|drop; 0, or 1 after a one-line error */
int filter_action_parse(const char *v, int *action);
/* compile + translate + verify fa->expr for XDP; 0, or 1 after a one-line
 * error (libpcap's message, the construct XDP cannot serve, ...) */
int filter_check(const char *what, struct filter_args *fa);
/* one line for a failed wc_iface__set_filter / wc_filter_check (err > 0) */
int filter_report(const char *what, const char *expr, int err, const char *why);

/* --filter-in WHERE: a struct filter_args at cfg + p->off (params.h) */
struct param;
int filter_in_set(void *cfg, const struct param *p, const char *arg);
#define PARAM_FILTER_IN(h, type, field)                            \
	{                                                          \
		.name = "filter-in", .arg = "WHERE", .help = (h),  \
		.set = filter_in_set, .off = offsetof(type, field) \
	}
#define FILTER_IN_HELP                                                 \
	"kernel: the filter runs in XDP, before the copy (default);\n" \
	"user: on the captured packets (libpcap), e.g. for what\n"     \
	"XDP cannot run (inbound, protochain)"

#endif
