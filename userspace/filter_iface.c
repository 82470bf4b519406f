// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Filters on an attachment: compile (filter_pcap.c), translate and load
 * (filter.c) against the attachment's pinned maps, then install in slot
 * WC_FILTER_SLOT_FILTER of its program array. The slot update is a single
 * atomic store, so a replacement never leaves a packet unjudged; the
 * program array is pinned, so the filter stays when this process exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "filter.h"
#include "internal.h"
#include "sysutil.h"

struct built {
	int fd;
	size_t classic, ebpf;
};

static void set_err(const struct wc_filter_opts *o, const char *msg)
{
	char *buf = WC_OPTS_GET(o, errbuf, NULL);
	size_t len = WC_OPTS_GET(o, errbuf_sz, 0);

	if (buf && len)
		snprintf(buf, len, "%s", msg);
}

/* progs/config/stats fds < 0: a standalone program (a check only) */
static int build(const struct wc_filter_opts *o,
		 const struct wc_filter_target *tg, struct built *b)
{
	const char *expr = WC_OPTS_GET(o, expr, NULL);
	const char *classic = WC_OPTS_GET(o, classic, NULL);
	char err[512] = "";
	struct wc_cbpf *c = NULL;
	void *insns = NULL;
	size_t n = 0, ni = 0;
	int ret;

	if (!o || !WC_OPTS_VALID(o, wc_filter_opts)) {
		set_err(o,
			"invalid struct wc_filter_opts (its sz, or a field this library does not know)");
		return -EINVAL;
	}
	if ((!expr && !classic) || (expr && classic)) {
		set_err(o, "a filter needs an expression or a classic program");
		return -EINVAL;
	}
	ret = expr ? wc_filter_compile(expr, &c, &n, err, sizeof(err)) :
		     wc_filter_parse_text(classic, &c, &n, err, sizeof(err));
	if (ret) {
		set_err(o, err);
		return ret;
	}
	ret = wc_filter_translate(c, n, tg, &insns, &ni, err, sizeof(err));
	free(c);
	if (ret) {
		set_err(o, err);
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	ret = wc_filter_load(insns, ni, err, sizeof(err));
	free(insns);
	if (ret < 0) {
		set_err(o, err);
		return ret;
	}
	b->fd = ret;
	b->classic = n;
	b->ebpf = ni;
	return 0;
}

WC_API int wc_filter_check(const struct wc_filter_opts *opts)
{
	struct wc_filter_target tg = {
		.progs_fd = -1,
		.invert = WC_OPTS_GET(opts, drop_matching, false),
	};
	struct built b;
	int err = build(opts, &tg, &b);

	if (!err)
		close(b.fd);
	return err;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int set_config_filter(struct wc_iface *ifc, __u32 on, __u32 action)
{
	struct wc_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(ifc->map_fd[WC_MAP_CONFIG], &zero, &cfg))
		return -errno;
	cfg.filter = on;
	cfg.filter_action = action;
	if (bpf_map_update_elem(ifc->map_fd[WC_MAP_CONFIG], &zero, &cfg,
				BPF_ANY))
		return -errno;
	ifc->cfg.filter = on;
	ifc->cfg.filter_action = action;
	return 0;
}

WC_API int wc_iface__set_filter(struct wc_iface *ifc,
				const struct wc_filter_opts *opts)
{
	int action = WC_OPTS_GET(opts, action, 0);
	struct wc_filter_target tg = {
		.invert = WC_OPTS_GET(opts, drop_matching, false),
	};
	const char *expr = WC_OPTS_GET(opts, expr, NULL);
	struct wc_filter_info info = {};
	__u32 zero = 0, slot = WC_FILTER_SLOT_FILTER;
	struct built b;
	int err;

	if (!ifc)
		return -EINVAL;
	if (action && action != WC_ACT_PASS && action != WC_ACT_DROP) {
		set_err(opts, "the filter action must be pass or drop");
		return -EINVAL;
	}
	tg.progs_fd = ifc->map_fd[WC_MAP_FILTER_PROGS];
	tg.config_fd = ifc->map_fd[WC_MAP_CONFIG];
	tg.queue_stats_fd = ifc->map_fd[WC_MAP_QUEUE_STATS];
	err = build(opts, &tg, &b);
	if (err)
		return err;
	/* the action first: the new filter reads it from its first packet */
	err = set_config_filter(ifc, 1, action);
	if (!err && bpf_map_update_elem(tg.progs_fd, &slot, &b.fd, BPF_ANY))
		err = -errno;
	if (err) {
		set_err(opts, "cannot install the filter in the program array");
		close(b.fd);
		return err;
	}
	bpf_map_lookup_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero, &info);
	info.installed = 1;
	info.invert = tg.invert;
	info.action = action;
	info.classic_insns = b.classic;
	info.ebpf_insns = b.ebpf;
	info.prog_id = prog_id(b.fd);
	info.generation++;
	info.installed_ns = wc_now_real();
	snprintf(info.expr, sizeof(info.expr), "%s%s", expr ? "" : "classic: ",
		 expr ? expr : WC_OPTS_GET(opts, classic, ""));
	for (char *p = info.expr; *p; p++)
		if (*p == '\n')
			*p = ' ';
	bpf_map_update_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero, &info,
			    BPF_ANY);
	/* the program array holds it now */
	close(b.fd);
	pr_info("%s: filter installed (%zu classic, %zu eBPF instructions)\n",
		ifc->ifname, b.classic, b.ebpf);
	return 0;
}

WC_API int wc_iface__clear_filter(struct wc_iface *ifc)
{
	__u32 zero = 0, slot = WC_FILTER_SLOT_FILTER;
	struct wc_filter_info info = {};

	if (!ifc)
		return -EINVAL;
	if (bpf_map_delete_elem(ifc->map_fd[WC_MAP_FILTER_PROGS], &slot) &&
	    errno != ENOENT)
		return -errno;
	bpf_map_lookup_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero, &info);
	if (info.installed) {
		info.installed = 0;
		info.generation++;
		bpf_map_update_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero,
				    &info, BPF_ANY);
	}
	return set_config_filter(ifc, 0, 0);
}

WC_API int wc_iface__filter_info(const struct wc_iface *ifc,
				 struct wc_filter_info *info)
{
	__u32 zero = 0;

	if (!ifc || !info)
		return -EINVAL;
	if (bpf_map_lookup_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero, info))
		return -errno;
	return 0;
}

/* An engine with a filter of its own puts back, at close, the one the
 * attachment had: the program (kept alive by this fd), its info and the
 * config's filter fields. */
int wc_filter_save(struct wc_iface *ifc, struct wc_filter_saved *sv)
{
	__u32 slot = WC_FILTER_SLOT_FILTER, id = 0, zero = 0;
	struct wc_config cfg;

	memset(sv, 0, sizeof(*sv));
	sv->fd = -1;
	if (bpf_map_lookup_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero,
				&sv->info) ||
	    bpf_map_lookup_elem(ifc->map_fd[WC_MAP_CONFIG], &zero, &cfg))
		return -errno;
	sv->action = cfg.filter_action;
	/* from user space a program array yields the program's id */
	if (bpf_map_lookup_elem(ifc->map_fd[WC_MAP_FILTER_PROGS], &slot, &id))
		return errno == ENOENT ? 0 : -errno;
	sv->fd = bpf_prog_get_fd_by_id(id);
	return sv->fd < 0 ? -errno : 0;
}

int wc_filter_restore(struct wc_iface *ifc, struct wc_filter_saved *sv)
{
	__u32 slot = WC_FILTER_SLOT_FILTER, zero = 0;
	struct wc_filter_info cur = {};
	int err = 0;

	if (sv->fd < 0)
		return wc_iface__clear_filter(ifc);
	err = set_config_filter(ifc, 1, sv->action);
	if (!err && bpf_map_update_elem(ifc->map_fd[WC_MAP_FILTER_PROGS], &slot,
					&sv->fd, BPF_ANY))
		err = -errno;
	bpf_map_lookup_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero, &cur);
	sv->info.generation = cur.generation + 1;
	bpf_map_update_elem(ifc->map_fd[WC_MAP_FILTER_INFO], &zero, &sv->info,
			    BPF_ANY);
	close(sv->fd);
	sv->fd = -1;
	return err;
}
