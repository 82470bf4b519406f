// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wirecap attach / detach / status */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "wirecap/wirecap.h"
#include "cmd.h"
#include "json.h"
#include "report.h"
#include "filter_args.h"
#include "params.h"

static const char *mode_name(enum wc_xdp_mode m)
{
	return m == WC_XDP_GENERIC ? "generic" :
	       m == WC_XDP_NATIVE  ? "native" :
				     "auto";
}

/* one line explaining errno for an interface operation (each case says
 * it all: the library's held-back warning would repeat it) */
static int iface_err(const char *what, const char *ifname, int err)
{
	switch (err) {
	case ENODEV:
		return cmd_err_only("%s: no such interface: %s", what, ifname);
	case EPERM:
	case EACCES:
		return cmd_err_only(
			"%s %s: permission denied (run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)",
			what, ifname);
	case EEXIST:
		return cmd_err_only(
			"%s: %s is already attached (use --force to replace)",
			what, ifname);
	case EBUSY:
		return cmd_err_only(
			"%s: %s has another XDP program attached (use --force to replace)",
			what, ifname);
	case ENOENT:
		/* with the note on stale pins it just removed, if any */
		return cmd_err("%s: wirecap is not attached to %s", what,
			       ifname);
	case EOPNOTSUPP:
		return cmd_err_only(
			"%s: the driver of %s does not support native XDP (try --mode generic)",
			what, ifname);
	case EMEDIUMTYPE:
		return cmd_err_only(
			"%s %s: the pin root is not on a bpffs (mount -t bpf bpf DIR, or unset WIRECAP_PIN_ROOT)",
			what, ifname);
	case EADDRINUSE:
		return cmd_err_only(
			"%s: the pin directory of %s is used by an interface of the same name in another network namespace (set WIRECAP_PIN_ROOT)",
			what, ifname);
	default:
		return cmd_err("%s %s: %s", what, ifname, strerror(err));
	}
}

/* The capture engine published in the engine map: its pid (0: none, or
 * this process) and whether that process is alive (a killed engine leaves
 * its pid behind) */
static __u32 engine_published(const struct wc_iface *ifc, bool *alive)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };

	*alive = false;
	if (wc_iface__engine_info(ifc, &ei) || !ei.pid ||
	    ei.pid == (__u32)getpid())
		return 0;
	*alive = ei.alive;
	return ei.pid;
}

/* pid of the capture engine that runs on the attachment (process alive,
 * as `wirecap stats` tells "running"), or 0 */
static __u32 engine_pid(const struct wc_iface *ifc)
{
	bool alive;
	__u32 pid = engine_published(ifc, &alive);

	return alive ? pid : 0;
}

struct attach_cfg {
	struct wc_attach_opts o;
	struct filter_args fa;
	struct offload_args oa;
};

static int set_xdp_mode(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "auto", WC_XDP_AUTO },   { "native", WC_XDP_NATIVE },
		{ "drv", WC_XDP_NATIVE },  { "generic", WC_XDP_GENERIC },
		{ "skb", WC_XDP_GENERIC }, { 0 },
	};
	struct attach_cfg *a = cfg;

	return param_set_word(&a->o.mode, p, v, w, "auto, native or generic");
}

static int set_steer(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "queue", WC_STEER_QUEUE },
		{ "flow", WC_STEER_FLOW },
		{ 0 },
	};
	struct attach_cfg *a = cfg;

	return param_set_word(&a->o.steer_mode, p, v, w, "queue or flow");
}

static int set_no_socket(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "pass", WC_ACT_PASS },
		{ "drop", WC_ACT_DROP },
		{ 0 },
	};
	struct attach_cfg *a = cfg;

	return param_set_word(&a->o.no_socket_action, p, v, w, "pass or drop");
}

static int set_hash(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "l4", WC_HASH_L4 },
		{ "l3", WC_HASH_L3 },
		{ 0 },
	};
	struct attach_cfg *a = cfg;

	return param_set_word(&a->o.hash_mode, p, v, w, "l4 or l3");
}

static int set_filter(void *cfg, const struct param *p, const char *v)
{
	struct attach_cfg *a = cfg;

	(void)p;
	a->fa.expr = (char *)v;
	return 0;
}

static int set_filter_action(void *cfg, const struct param *p, const char *v)
{
	struct attach_cfg *a = cfg;

	(void)p;
	return filter_action_parse(v, &a->fa.fo.action) ? -1 : 0;
}

#define AC struct attach_cfg

static const struct param attach_params[] = {
	PARAM_FN('m', "mode", "MODE",
		 "auto (native, falling back to generic), native, generic",
		 set_xdp_mode),
	PARAM_U32(
		'w', "workers", "W",
		"capture workers (1..64; default one per queue, at most #CPUs)",
		AC, o.workers, 1, WC_MAX_WORKERS, "--workers"),
	PARAM_U32('q', "queues", "N",
		  "rx queues served (default: all of the device's)", AC,
		  o.queues, 1, WC_MAX_QUEUES, "--queues"),
	{ .name = "buckets",
	  .short_opt = 'b',
	  .arg = "N",
	  .help = "flow buckets per queue, a power of two (default 256, max 4096)",
	  .set = param_set_u32_pow2,
	  .off = offsetof(AC, o.buckets),
	  .min = 1,
	  .max = WC_MAX_BUCKETS,
	  .what = "--buckets" },
	PARAM_FN(
		's', "steer", "MODE",
		"queue: a queue's buckets go to its home worker q % W (default)\n"
		"flow: bucket b goes to worker b % W on every queue",
		set_steer),
	PARAM_FN(
		'n', "no-socket", "pass|drop",
		"what to do with a packet whose (queue, worker) socket is absent",
		set_no_socket),
	PARAM_FN('H', "hash", "l4|l3",
		 "l4: symmetric 5-tuple (default), l3: addresses only",
		 set_hash),
	PARAM_FLAG('M', "no-meta", NULL, AC, o.no_meta),
	PARAM_FN(
		0, "filter", "EXPR",
		"a tcpdump expression run in XDP (one argument, quoted):\n"
		"packets it does not match take no socket (counted as filtered)",
		set_filter),
	PARAM_FN(0, "filter-action", "pass|drop",
		 "what happens to them: pass or drop (default: --no-socket)",
		 set_filter_action),
	PARAM_FLAG('f', "force",
		   "replace an existing attachment or another XDP program\n"
		   "(refused while a capture engine runs on IFACE)",
		   AC, o.force),
	PARAM_INCLUDE(offload_params, AC, oa),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd attach_cmd = {
	.name = "attach",
	.head = "Usage: wirecap attach IFACE [--mode auto|native|generic] [--workers N]\n"
		"                      [--queues N] [--buckets N] [--steer queue|flow]\n"
		"                      [--no-socket pass|drop] [--hash l4|l3] [--no-meta] [--force]\n"
		"                      [--filter EXPR [--filter-action pass|drop]]\n"
		"Load the wirecap XDP program on IFACE and pin it and its maps under\n"
		"/sys/fs/bpf/wirecap/IFACE (or $WIRECAP_PIN_ROOT/IFACE).\n",
	.params = attach_params,
};

/* The attachment with its offload settings and filter; prints what it
 * made. 0, or 1 after a one-line error (nothing left attached). */
static int attach_run(const char *ifname, struct attach_cfg *a)
{
	struct filter_args *fa = &a->fa;
	struct wc_iface_info info;
	struct wc_iface *ifc;
	int err;

	ifc = wc_iface__attach(ifname, &a->o);
	if (!ifc)
		return iface_err("attach", ifname, errno);
	if (offload_args_apply(ifc, &a->oa)) {
		wc_iface__detach(ifc);
		return 1;
	}
	if (fa->expr) {
		err = wc_iface__set_filter(ifc, &fa->fo);
		if (err) {
			wc_iface__detach(ifc);
			return filter_report("attach", fa->expr, -err, fa->err);
		}
	}
	cmd_setup_done();
	wc_iface__info(ifc, &info);
	printf("%s: attached in %s mode (program %u), %u queues, %u workers, %u buckets, steer %s, pins in %s\n",
	       ifname, mode_name(info.mode), info.prog_id, info.queues,
	       info.workers, info.buckets,
	       info.steer_mode == WC_STEER_FLOW ? "flow" : "queue",
	       info.pin_dir);
	if (fa->expr)
		printf("%s: filter in XDP: %s\n", ifname, fa->expr);
	wc_iface__close(ifc);
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	struct attach_cfg a = { .o = { .sz = sizeof(a.o) } };
	const char *ifname;
	int rc;

	offload_args_init(&a.oa);
	if (params_parse(&attach_cmd, &a, argc, argv, &rc))
		return rc;
	if (optind != argc - 1) {
		params_usage(&attach_cmd, stderr);
		return cmd_err("attach: expected one interface name");
	}
	ifname = argv[optind];
	if (cmd_check_ifname(ifname))
		return 1;
	/* a bad filter fails before anything is attached */
	if (a.fa.expr && filter_check("attach", &a.fa))
		return 1;
	if (a.o.force) {
		/* replacing the program under a running capture would leave it
		 * blind (it stops when it notices): not without being asked */
		struct wc_iface *cur = wc_iface__open(ifname, NULL);
		__u32 pid = cur ? engine_pid(cur) : 0;

		wc_iface__close(cur);
		if (pid)
			return cmd_err(
				"attach: a capture engine (pid %u) runs on %s: stop it first, or detach it with `wirecap detach --force %s` (the capture then stops)",
				pid, ifname, ifname);
	}
	return attach_run(ifname, &a);
}

static const struct param detach_params[] = {
	PARAM_FLAG(
		'f', "force",
		"even while a capture engine runs on IFACE (it stops\n"
		"with an error; its output stays valid)",
		struct { bool force; }, force),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd detach_cmd = {
	.name = "detach",
	.head = "Usage: wirecap detach IFACE [--force]\n"
		"Remove the wirecap XDP program from IFACE and every pin.\n",
	.params = detach_params,
};

int cmd_detach(int argc, char **argv)
{
	struct wc_iface *ifc;
	const char *ifname;
	bool force = false;
	__u32 pid;
	int err, rc;

	if (params_parse(&detach_cmd, &force, argc, argv, &rc))
		return rc;
	if (optind != argc - 1) {
		params_usage(&detach_cmd, stderr);
		return 2;
	}
	ifname = argv[optind];
	if (cmd_check_ifname(ifname))
		return 1;
	ifc = wc_iface__open(ifname, NULL);
	if (!ifc)
		return iface_err("detach", ifname, errno);
	pid = engine_pid(ifc);
	if (pid && !force) {
		wc_iface__close(ifc);
		return cmd_err(
			"detach: a capture engine (pid %u) runs on %s: stop it first, or use --force (the capture then stops)",
			pid, ifname);
	}
	err = wc_iface__detach(ifc);
	if (err)
		return iface_err("detach", ifname, -err);
	printf("%s: detached\n", ifname);
	return 0;
}

/* clang-format off */
#define QS_FIELDS(X)                                                          \
	X(packets) X(bytes) X(redirected) X(passed) X(dropped) X(nosock)      \
	X(non_ip) X(truncated) X(fragment) X(unknown_l4) X(meta_failed)       \
	X(bad_queue) X(filtered) X(shed)
/* clang-format on */

static void qs_json(json_t *o, const struct wc_iface_queue_stats *s)
{
#define X(f) jset_u64(o, #f, s->f);
	QS_FIELDS(X)
#undef X
}

static void add_qs(struct wc_iface_queue_stats *t,
		   const struct wc_iface_queue_stats *s)
{
#define X(f) t->f += s->f;
	QS_FIELDS(X)
#undef X
}

static const char *filter_action_name(const struct wc_config *cfg)
{
	int a = cfg->filter_action ? (int)cfg->filter_action :
				     (int)cfg->no_socket_action;

	return a == WC_ACT_DROP ? "dropped" : "passed to the stack";
}

static json_t *filter_json(const struct wc_filter_info *fi,
			   const struct wc_config *cfg,
			   const struct wc_iface_queue_stats *tot)
{
	json_t *o;

	if (!fi->installed || !cfg->filter)
		return NULL;
	o = jobj();
	jset_str(o, "expr", fi->expr);
	jset_bool(o, "drop_matching", fi->invert);
	jset_str(o, "action",
		 filter_action_name(cfg)[0] == 'd' ? "drop" : "pass");
	jset_i64(o, "classic_insns", fi->classic_insns);
	jset_i64(o, "ebpf_insns", fi->ebpf_insns);
	jset_i64(o, "prog_id", fi->prog_id);
	jset_u64(o, "generation", fi->generation);
	jset_u64(o, "filtered", tot->filtered);
	jset_u64(o, "packets", tot->packets);
	return o;
}

/* served queues always; a queue the engine does not serve when the
 * program saw packets on it */
static bool shown(const struct wc_iface_info *info,
		  const struct wc_iface_queue_stats *qs, __u32 q)
{
	return q < info->queues || qs[q].packets;
}

static void print_status_json(const struct wc_iface_info *info,
			      const struct wc_config *cfg, bool transient,
			      __u32 epid, bool alive,
			      const struct wc_iface_queue_stats *qs,
			      const struct wc_iface_queue_stats *tot,
			      const struct wc_filter_info *fi)
{
	json_t *o = jobj(), *eng = NULL, *tj = jobj(), *qa = jarr();

	jset_str(o, "ifname", info->ifname);
	jset_i64(o, "ifindex", info->ifindex);
	jset_i64(o, "prog_id", info->prog_id);
	jset_str(o, "mode", mode_name(info->mode));
	jset_i64(o, "n_queues", info->queues);
	jset_i64(o, "dev_queues", info->dev_queues);
	jset_i64(o, "n_workers", info->workers);
	jset_i64(o, "buckets", info->buckets);
	jset_str(o, "steer",
		 info->steer_mode == WC_STEER_FLOW ? "flow" : "queue");
	jset_str(o, "no_socket",
		 cfg->no_socket_action == WC_ACT_DROP ? "drop" : "pass");
	jset_str(o, "hash", cfg->hash_mode == WC_HASH_L3 ? "l3" : "l4");
	jset_bool(o, "meta", cfg->meta_enabled);
	jset_str(o, "pin_dir", info->pin_dir);
	jset_bool(o, "transient", transient);
	if (epid) {
		eng = jobj();
		jset_i64(eng, "pid", epid);
		jset_bool(eng, "alive", alive);
	}
	jset(o, "engine", eng);
	qs_json(tj, tot);
	jset(o, "totals", tj);
	jset(o, "filter", filter_json(fi, cfg, tot));
	for (__u32 q = 0; q < WC_MAX_QUEUES; q++) {
		json_t *qj;

		if (!shown(info, qs, q))
			continue;
		qj = jobj();
		jset_i64(qj, "queue", q);
		jset_bool(qj, "served", q < info->queues);
		qs_json(qj, &qs[q]);
		jpush(qa, qj);
	}
	jset(o, "queues", qa);
	jprint(o, stdout);
}

#define STATUS_USAGE "Usage: wirecap status IFACE [--json]\n"

static const struct param status_params[] = {
	PARAM_FLAG(
		'j', "json", "one JSON object", struct { bool json; }, json),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd status_cmd = {
	.name = "status",
	.head = STATUS_USAGE
	"Attach mode, program id, queues, workers and per-queue counters.\n",
	.params = status_params,
	.bad_option_usage = STATUS_USAGE,
};

int cmd_status(int argc, char **argv)
{
	struct wc_iface_queue_stats qs[WC_MAX_QUEUES],
		tot = { .sz = sizeof(tot) };
	struct wc_filter_info fi = {};
	struct wc_iface_info info;
	struct wc_config cfg;
	struct wc_iface *ifc;
	const char *ifname = NULL;
	bool json = false, alive;
	__u32 epid;
	int err, transient, rc;

	if (params_parse(&status_cmd, &json, argc, argv, &rc))
		return rc;
	if (optind != argc - 1) {
		fputs(STATUS_USAGE, stderr);
		return 2;
	}
	ifname = argv[optind];
	if (cmd_check_ifname(ifname))
		return 1;
	ifc = wc_iface__open(ifname, NULL);
	if (!ifc)
		return iface_err("status", ifname, errno);
	wc_iface__info(ifc, &info);
	epid = engine_published(ifc, &alive);
	transient = wc_iface__transient(ifc) == 1;
	err = wc_iface__config(ifc, &cfg);
	/* every queue: packets on a queue that is not served are counted on
	 * it (passed or dropped) and belong in the totals */
	for (__u32 q = 0; !err && q < WC_MAX_QUEUES; q++) {
		qs[q].sz = sizeof(qs[q]);
		err = wc_iface__queue_stats(ifc, q, &qs[q]);
		add_qs(&tot, &qs[q]);
	}
	if (err) {
		wc_iface__close(ifc);
		return cmd_err("status %s: cannot read maps: %s", ifname,
			       strerror(-err));
	}
	wc_iface__filter_info(ifc, &fi);
	if (json) {
		print_status_json(&info, &cfg, transient, epid, alive, qs, &tot,
				  &fi);
	} else {
		printf("%s (ifindex %d): XDP program %u, %s mode\n",
		       info.ifname, info.ifindex, info.prog_id,
		       mode_name(info.mode));
		printf("  queues %u of %u, workers %u, buckets %u, steer %s, no-socket %s, hash %s, metadata %s\n",
		       info.queues, info.dev_queues, info.workers, info.buckets,
		       info.steer_mode == WC_STEER_FLOW ? "flow" : "queue",
		       cfg.no_socket_action == WC_ACT_DROP ? "drop" : "pass",
		       cfg.hash_mode == WC_HASH_L3 ? "l3" : "l4",
		       cfg.meta_enabled ? "on" : "off");
		printf("  pins: %s\n", info.pin_dir);
		printf("  attachment: %s\n",
		       transient ?
			       "transient, held by the capture engine that attached it (goes when it ends)" :
			       "persistent (stays until `wirecap detach`)");
		if (!epid)
			printf("  capture engine: none\n");
		else if (alive)
			printf("  capture engine: pid %u, running\n", epid);
		else
			printf("  capture engine: pid %u is dead (it ended without closing: killed?); the attachment stays, a new capture can use it\n",
			       epid);
		if (fi.installed && cfg.filter)
			printf("  filter in XDP: %s%s (%u classic, %u eBPF instructions, program %u); filtered out %llu of %llu packets, %s\n",
			       fi.invert ? "drop " : "", fi.expr,
			       fi.classic_insns, fi.ebpf_insns, fi.prog_id,
			       (unsigned long long)tot.filtered,
			       (unsigned long long)tot.packets,
			       filter_action_name(&cfg));
		else
			printf("  filter: none\n");
		printf("  %5s %12s %14s %12s %10s %10s %10s %9s %9s %9s %9s\n",
		       "queue", "packets", "bytes", "redirected", "passed",
		       "dropped", "filtered", "non-ip", "truncated", "fragment",
		       "other-l4");
		for (__u32 q = 0; q <= info.queues; q++) {
			const struct wc_iface_queue_stats *s =
				q < info.queues ? &qs[q] : &tot;

			if (q < info.queues)
				printf("  %5u", q);
			else
				printf("  %5s", "total");
			printf(" %12llu %14llu %12llu %10llu %10llu %10llu %9llu %9llu %9llu %9llu\n",
			       (unsigned long long)s->packets,
			       (unsigned long long)s->bytes,
			       (unsigned long long)s->redirected,
			       (unsigned long long)s->passed,
			       (unsigned long long)s->dropped,
			       (unsigned long long)s->filtered,
			       (unsigned long long)s->non_ip,
			       (unsigned long long)s->truncated,
			       (unsigned long long)s->fragment,
			       (unsigned long long)s->unknown_l4);
		}
		for (__u32 q = info.queues; q < WC_MAX_QUEUES; q++)
			if (shown(&info, qs, q))
				printf("  queue %u (not served): %llu packets, %llu passed, %llu dropped\n",
				       q, (unsigned long long)qs[q].packets,
				       (unsigned long long)qs[q].passed,
				       (unsigned long long)qs[q].dropped);
	}
	wc_iface__close(ifc);
	return 0;
}
