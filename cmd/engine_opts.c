// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The engine options of capture, bench, forward and exec, and the offload
 * tunables of attach: their table fragments and setters. */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>

#include "cmd.h"
#include "engine_opts.h"

void offload_args_init(struct offload_args *oa)
{
	oa->enabled = -1;
	oa->high = oa->low = oa->hold = oa->ret = oa->cooldown = -1;
	oa->interval = oa->max_moves = -1;
}

static int set_offload(void *cfg, const struct param *p, const char *v)
{
	struct offload_args *oa = cfg;

	(void)p;
	if (!strcmp(v, "on"))
		oa->enabled = 1;
	else if (!strcmp(v, "off"))
		oa->enabled = 0;
	else
		return cmd_err("invalid --offload '%s' (on or off)", v), -1;
	return 0;
}

/* a tunable: 0..max, kept in a long (-1: unchanged) */
static int set_tunable(void *cfg, const struct param *p, const char *v)
{
	uint32_t x;

	if (cmd_parse_u32(p->what, v, 0, (uint32_t)p->max, &x))
		return -1;
	*(long *)((char *)cfg + p->off) = x;
	return 0;
}

#define TUNABLE(n, a, h, field, hi)                                       \
	{                                                                 \
		.name = (n), .arg = (a), .help = (h), .set = set_tunable, \
		.off = offsetof(struct offload_args, field), .max = (hi), \
		.what = "--" n                                            \
	}

const struct param offload_params[] = {
	PARAM_FN(0, "offload", "on|off", "buddy-group offloading (default on)",
		 set_offload),
	TUNABLE("offload-high", "PCT",
		"backlog (% of a queue pool) marking overload (30)", high, 100),
	TUNABLE("offload-low", "PCT", "below this a worker takes buckets (10)",
		low, 100),
	TUNABLE("offload-hold", "MS",
		"overloaded this long before moving (500)", hold, 3600000),
	TUNABLE("offload-return", "MS",
		"calm this long before buckets go home (5000)", ret, 3600000),
	TUNABLE("offload-cooldown", "MS",
		"a moved bucket stays put this long (2000)", cooldown, 3600000),
	TUNABLE("offload-interval", "MS", "monitor period (100)", interval,
		60000),
	TUNABLE("offload-max-moves", "N",
		"buckets moved per interval at most (32)", max_moves,
		WC_MAX_BUCKETS),
	PARAM_END,
};

int offload_args_apply(struct wc_iface *ifc, const struct offload_args *oa)
{
	struct wc_config c;
	int err = wc_iface__config(ifc, &c);

	if (err)
		return cmd_err("cannot read the config map: %s",
			       strerror(-err));
	if (oa->enabled >= 0)
		c.offload_enabled = oa->enabled;
#define SET(f, v)     \
	if ((v) >= 0) \
	c.f = (v)
	SET(offload_high_pct, oa->high);
	SET(offload_low_pct, oa->low);
	SET(offload_hold_ms, oa->hold);
	SET(offload_return_ms, oa->ret);
	SET(offload_cooldown_ms, oa->cooldown);
	SET(offload_interval_ms, oa->interval);
	SET(offload_max_moves, oa->max_moves);
#undef SET
	err = wc_iface__set_config(ifc, &c);
	if (err)
		return cmd_err("offload settings refused: %s", strerror(-err));
	return 0;
}

void engine_args_init(struct engine_args *ea)
{
	memset(ea, 0, sizeof(*ea));
	offload_args_init(&ea->off);
	ea->eo.sz = sizeof(ea->eo);
	ea->ao.sz = sizeof(ea->ao);
	ea->eo.attach = &ea->ao;
}

/* "0-1,4": the CPUs of @set */
static void cpus_str(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && off < len; c++) {
		int e = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		off += snprintf(buf + off, len - off, "%s%d", off ? "," : "",
				c);
		if (e > c && off < len)
			off += snprintf(buf + off, len - off, "-%d", e);
		c = e;
	}
}

/* --cpus: every CPU must be one this process may run on (a worker pinned
 * elsewhere would run unpinned: refuse instead) */
static int set_cpus(void *cfg, const struct param *p, const char *v)
{
	struct engine_args *ea = cfg;
	cpu_set_t set;
	char list[128];

	(void)p;
	ea->ncpus = cmd_parse_list("--cpus", v, ea->cpus, 256);
	if (ea->ncpus < 0)
		return -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int i = 0; i < ea->ncpus; i++) {
		if (ea->cpus[i] < CPU_SETSIZE && CPU_ISSET(ea->cpus[i], &set))
			continue;
		cpus_str(&set, list, sizeof(list));
		cmd_err_only(
			"invalid --cpus: CPU %u is not available (this process may run on CPUs %s)",
			ea->cpus[i], list);
		return -1;
	}
	return 0;
}

static int set_wait(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "chunk", WC_WAIT_CHUNK },
		{ "poll", WC_WAIT_POLL },
		{ "busy", WC_WAIT_BUSY_POLL },
		{ "busy-poll", WC_WAIT_BUSY_POLL },
		{ 0 },
	};
	struct engine_args *ea = cfg;

	return param_set_word(&ea->eo.wait, p, v, w, "chunk, poll or busy");
}

static int set_bind(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "auto", WC_BIND_AUTO },
		{ "zc", WC_BIND_ZEROCOPY },
		{ "zerocopy", WC_BIND_ZEROCOPY },
		{ "copy", WC_BIND_COPY },
		{ 0 },
	};
	struct engine_args *ea = cfg;

	return param_set_word(&ea->eo.bind, p, v, w, "auto, zc or copy");
}

static int set_huge(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "auto", WC_HUGE_AUTO },
		{ "off", WC_HUGE_OFF },
		{ "require", WC_HUGE_REQUIRE },
		{ 0 },
	};
	struct engine_args *ea = cfg;

	return param_set_word(&ea->eo.huge_pages, p, v, w,
			      "auto, off or require");
}

static int set_mode(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "auto", WC_XDP_AUTO },
		{ "native", WC_XDP_NATIVE },
		{ "generic", WC_XDP_GENERIC },
		{ 0 },
	};
	struct engine_args *ea = cfg;

	return param_set_word(&ea->ao.mode, p, v, w, "auto, native or generic");
}

static int set_steer(void *cfg, const struct param *p, const char *v)
{
	static const struct param_word w[] = {
		{ "queue", WC_STEER_QUEUE },
		{ "flow", WC_STEER_FLOW },
		{ 0 },
	};
	struct engine_args *ea = cfg;

	return param_set_word(&ea->ao.steer_mode, p, v, w, "queue or flow");
}

#define EA struct engine_args

const struct param engine_params[] = {
	PARAM_U32(0, "workers", "N",
		  "capture workers (default: one per queue, at most #CPUs)", EA,
		  ao.workers, 1, WC_MAX_WORKERS, "--workers"),
	PARAM_FN(0, "cpus", "LIST",
		 "pin worker w to the w-th CPU of LIST (e.g. 0-1)", set_cpus),
	PARAM_U32(0, "pool-chunks", "R",
		  "chunks per queue pool (default: 200 ms at 1 Mpps)", EA,
		  eo.chunks, 2, 1u << 22, "--pool-chunks"),
	PARAM_U32(0, "chunk-size", "M", "frames per chunk (default 64)", EA,
		  eo.chunk_size, 1, 4096, "--chunk-size"),
	PARAM_U32(0, "frame-size", "B",
		  "UMEM frame size, 2048 or 4096 (default: 4096 when the\n"
		  "MTU needs it); longer frames are dropped (oversize)",
		  EA, eo.frame_size, 2048, 4096, "--frame-size"),
	{ .name = "rx-ring",
	  .arg = "N",
	  .help = "RX ring entries, a power of two (default: a whole pool)",
	  .set = param_set_u32_pow2,
	  .off = offsetof(EA, eo.rx_ring_size),
	  .min = 64,
	  .max = 1u << 22,
	  .what = "--rx-ring" },
	PARAM_FN(0, "wait", "MODE", "chunk (default), poll, busy", set_wait),
	PARAM_U32(0, "chunk-timeout", "US",
		  "chunk wait before a partial chunk is returned", EA,
		  eo.chunk_timeout_us, 1, 1000000, "--chunk-timeout"),
	PARAM_FN(0, "bind", "MODE", "auto (zero-copy, else copy), zc, copy",
		 set_bind),
	PARAM_FN(0, "huge-pages", "MODE", "auto, off, require", set_huge),
	PARAM_FN(0, "mode", "MODE",
		 "XDP mode when attaching: auto, native, generic", set_mode),
	PARAM_FN(0, "steer", "MODE", "queue or flow (when attaching)",
		 set_steer),
	{ .name = "buckets",
	  .arg = "N",
	  .help = "flow buckets per queue (when attaching)",
	  .set = param_set_u32_pow2,
	  .off = offsetof(EA, ao.buckets),
	  .min = 1,
	  .max = WC_MAX_BUCKETS,
	  .what = "--buckets" },
	PARAM_INCLUDE(offload_params, EA, off),
	PARAM_END,
};
