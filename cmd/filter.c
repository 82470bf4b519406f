// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wirecap filter IFACE EXPR | --clear, and the filter helpers of capture,
 * bench, forward and attach (docs/filter.md) */
#include <errno.h>
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

struct filter_opts {
	struct filter_args fa;
	const char *classic; /* --classic FILE */
	char *text; /* its contents (malloc'd) */
	bool clear;
	const char *ifname;
};

static int set_action(void *cfg, const struct param *p, const char *v)
{
	struct filter_opts *o = cfg;

	(void)p;
	return filter_action_parse(v, &o->fa.fo.action) ? -1 : 0;
}

#define FO struct filter_opts

static const struct param filter_params[] = {
	PARAM_FLAG('d', "drop", "filter out the packets that match instead", FO,
		   fa.fo.drop_matching),
	PARAM_FN('a', "action", "A",
		 "what to do with filtered packets: pass or drop\n"
		 "(default: the interface's no-socket action)",
		 set_action),
	PARAM_STR('C', "classic", "FILE",
		  "a classic BPF program as `tcpdump -ddd` (or -dd) prints it\n"
		  "('-': standard input), instead of an expression",
		  FO, classic),
	PARAM_FLAG('c', "clear", "remove the filter", FO, clear),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd filter_cmd = {
	.name = "filter",
	.head = "Usage: wirecap filter IFACE [--drop] [--action pass|drop] EXPRESSION\n"
		"       wirecap filter IFACE [--drop] [--action pass|drop] --classic FILE\n"
		"       wirecap filter IFACE --clear\n"
		"Install (or replace, live) a tcpdump filter in the XDP program of an\n"
		"attached interface: packets it does not match take no socket; they are\n"
		"counted as filtered and passed to the stack or dropped.\n",
	.params = filter_params,
};

/* the options, IFACE and exactly one of EXPRESSION, --classic, --clear.
 * 0, or 1 when the command ends now with *rc. */
static int filter_parse(struct filter_opts *o, int argc, char **argv, int *rc)
{
	*rc = 1;
	if (params_parse(&filter_cmd, o, argc, argv, rc))
		return 1;
	if (optind >= argc) {
		params_usage(&filter_cmd, stderr);
		return cmd_err("filter: expected an interface name");
	}
	o->ifname = argv[optind++];
	if (cmd_check_ifname(o->ifname))
		return 1;
	if (o->clear + (optind < argc) + !!o->classic != 1) {
		params_usage(&filter_cmd, stderr);
		return cmd_err(
			"filter: expected one of an expression, --classic FILE or --clear");
	}
	return 0;
}

/* The program: --classic FILE read and checked, or the expression
 * compiled for XDP; a bad one fails before the interface is looked at.
 * 0, or 1 after a one-line error. */
static int filter_load(struct filter_opts *o, int argc, char **argv)
{
	struct filter_args *fa = &o->fa;
	int err;

	if (o->classic) {
		o->text = read_text(o->classic);
		if (!o->text)
			return 1;
		fa->fo.sz = sizeof(fa->fo);
		fa->fo.classic = o->text;
		fa->fo.errbuf = fa->err;
		fa->fo.errbuf_sz = sizeof(fa->err);
		fa->expr = strdup(o->classic);
		err = wc_filter_check(&fa->fo);
		if (err || !fa->expr)
			return cmd_err_only(
				"filter: classic program %s: %s", o->classic,
				fa->expr ? fa->err : "out of memory");
		return 0;
	}
	if (o->clear)
		return 0;
	fa->expr = filter_join(argc, argv, optind);
	if (!fa->expr)
		return cmd_err("filter: out of memory");
	return filter_check("filter", fa);
}

/* installs or clears it on the attachment. 0, or 1. */
static int filter_apply(struct filter_opts *o)
{
	struct filter_args *fa = &o->fa;
	struct wc_iface *ifc = wc_iface__open(o->ifname, NULL);
	int err;

	if (!ifc) {
		err = errno;
		if (err == ENODEV)
			return cmd_err_only("filter: no such interface: %s",
					    o->ifname);
		if (err == ENOENT)
			return cmd_err_only(
				"filter: wirecap is not attached to %s (wirecap attach %s --filter EXPR)",
				o->ifname, o->ifname);
		return cmd_err("filter %s: %s", o->ifname, strerror(err));
	}
	if (o->clear) {
		err = wc_iface__clear_filter(ifc);
		if (!err)
			printf("%s: filter removed\n", o->ifname);
	} else {
		err = wc_iface__set_filter(ifc, &fa->fo);
		if (!err)
			printf("%s: filter installed: %s\n", o->ifname,
			       fa->expr);
	}
	wc_iface__close(ifc);
	if (err && !o->clear)
		return filter_report("filter", fa->expr, -err, fa->err);
	return err ? cmd_err("filter %s: %s", o->ifname, strerror(-err)) : 0;
}

int cmd_filter(int argc, char **argv)
{
	struct filter_opts o = {};
	int rc;

	if (filter_parse(&o, argc, argv, &rc))
		return rc;
	rc = filter_load(&o, argc, argv) || filter_apply(&o);
	free(o.text);
	free(o.fa.expr);
	return rc;
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
