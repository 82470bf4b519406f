// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wirecap filter IFACE EXPR | --clear, and the filter helpers of capture,
 * bench, forward and attach (docs/filter.md) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wirecap/wirecap.h"
#include "cmd.h"
#include "filter_args.h"
#include "params.h"

char *filter_join(int argc, char **argv, int from)
{
	size_t len = 1;
	char *s;

	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = from; i < argc; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

int filter_in_parse(const char *v, bool *user)
{
	if (!strcmp(v, "kernel") || !strcmp(v, "xdp"))
		*user = false;
	else if (!strcmp(v, "user"))
		*user = true;
	else
		return cmd_err("invalid --filter-in '%s' (kernel or user)", v);
	return 0;
}

int filter_in_set(void *cfg, const struct param *p, const char *arg)
{
	struct filter_args *fa = (void *)((char *)cfg + p->off);

	return filter_in_parse(arg, &fa->user) ? -1 : 0;
}

int filter_report(const char *what, const char *expr, int err, const char *why)
{
	switch (err) {
	case EINVAL:
		return cmd_err_only("invalid %s expression '%s': %s",
				    strstr(what, "--drop") ? "--drop" :
							     "filter",
				    expr, why);
	case EOPNOTSUPP:
		return cmd_err_only(
			"%s: '%s' cannot run in XDP: %s (--filter-in user runs it in user space)",
			what, expr, why);
	case EPERM:
	case EACCES:
		return cmd_err_only(
			"%s: permission denied loading the filter (run as root, or with CAP_BPF and CAP_PERFMON)",
			what);
	default:
		return cmd_err_only("%s: filter '%s': %s", what, expr,
				    *why ? why : strerror(err));
	}
}

int filter_check(const char *what, struct filter_args *fa)
{
	int err;

	fa->fo.sz = sizeof(fa->fo);
	fa->fo.expr = fa->expr;
	fa->fo.errbuf = fa->err;
	fa->fo.errbuf_sz = sizeof(fa->err);
	err = wc_filter_check(&fa->fo);
	return err ? filter_report(what, fa->expr, -err, fa->err) : 0;
}

/* the whole of FILE ('-': stdin), NUL-terminated; NULL after an error */
static char *read_text(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t len = 0, cap = 4096;
	char *buf;

	if (!f) {
		cmd_err("filter: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (len < cap - 1)
			break;
		char *nb = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;

		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	if (f != stdin)
		fclose(f);
	if (!buf) {
		cmd_err("filter: %s: too large or out of memory", path);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wirecap filter IFACE [--drop] [--action pass|drop] EXPRESSION\n"
		"       wirecap filter IFACE [--drop] [--action pass|drop] --classic FILE\n"
		"       wirecap filter IFACE --clear\n"
		"Install (or replace, live) a tcpdump filter in the XDP program of an\n"
		"attached interface: packets it does not match take no socket; they are\n"
		"counted as filtered and passed to the stack or dropped.\n"
		"  --drop         filter out the packets that match instead\n"
		"  --action A     what to do with filtered packets: pass or drop\n"
		"                 (default: the interface's no-socket action)\n"
		"  --classic FILE a classic BPF program as `tcpdump -ddd` (or -dd) prints it\n"
		"                 ('-': standard input), instead of an expression\n"
		"  --clear        remove the filter\n");
}

int cmd_filter(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "drop", no_argument, 0, 'd' },
		{ "action", required_argument, 0, 'a' },
		{ "clear", no_argument, 0, 'c' },
		{ "classic", required_argument, 0, 'C' },
		{ "help", no_argument, 0, 'h' },
		{ 0 },
	};
	struct filter_args fa = { 0 };
	const char *classic = NULL;
	char *text = NULL;
	bool clear = false;
	struct wc_iface *ifc;
	const char *ifname;
	int c, err;

	while ((c = getopt_long(argc, argv, "a:dcC:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			fa.fo.drop_matching = true;
			break;
		case 'a':
			if (filter_action_parse(optarg, &fa.fo.action))
				return 1;
			break;
		case 'c':
			clear = true;
			break;
		case 'C':
			classic = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cmd_bad_option("filter", argv, "a:dcC:h", lo);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return cmd_err("filter: expected an interface name");
	}
	ifname = argv[optind++];
	if (cmd_check_ifname(ifname))
		return 1;
	if (clear + (optind < argc) + !!classic != 1) {
		usage(stderr);
		return cmd_err(
			"filter: expected one of an expression, --classic FILE or --clear");
	}
	if (classic) {
		text = read_text(classic);
		if (!text)
			return 1;
		fa.fo.sz = sizeof(fa.fo);
		fa.fo.classic = text;
		fa.fo.errbuf = fa.err;
		fa.fo.errbuf_sz = sizeof(fa.err);
		fa.expr = strdup(classic);
		err = wc_filter_check(&fa.fo);
		if (err || !fa.expr) {
			cmd_err_only("filter: classic program %s: %s", classic,
				     fa.expr ? fa.err : "out of memory");
			free(text);
			free(fa.expr);
			return 1;
		}
	} else if (!clear) {
		fa.expr = filter_join(argc, argv, optind);
		if (!fa.expr)
			return cmd_err("filter: out of memory");
		/* a bad expression fails before the interface is looked at */
		if (filter_check("filter", &fa)) {
			free(fa.expr);
			return 1;
		}
	}
	ifc = wc_iface__open(ifname, NULL);
	if (!ifc) {
		err = errno;
		free(fa.expr);
		free(text);
		if (err == ENODEV)
			return cmd_err_only("filter: no such interface: %s",
					    ifname);
		if (err == ENOENT)
			return cmd_err_only(
				"filter: wirecap is not attached to %s (wirecap attach %s --filter EXPR)",
				ifname, ifname);
		return cmd_err("filter %s: %s", ifname, strerror(err));
	}
	if (clear) {
		err = wc_iface__clear_filter(ifc);
		if (!err)
			printf("%s: filter removed\n", ifname);
	} else {
		err = wc_iface__set_filter(ifc, &fa.fo);
		if (!err)
			printf("%s: filter installed: %s\n", ifname, fa.expr);
	}
	wc_iface__close(ifc);
	free(text);
	if (err && !clear) {
		filter_report("filter", fa.expr, -err, fa.err);
		free(fa.expr);
		return 1;
	}
	free(fa.expr);
	return err ? cmd_err("filter %s: %s", ifname, strerror(-err)) : 0;
}

int filter_action_parse(const char *v, int *action)
{
	if (!strcmp(v, "pass"))
		*action = WC_ACT_PASS;
	else if (!strcmp(v, "drop"))
		*action = WC_ACT_DROP;
	else
		return cmd_err("invalid --action '%s' (pass or drop)", v);
	return 0;
}
