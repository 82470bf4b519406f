// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The engine options of capture, bench, forward and exec, and the offload
 * tunables of attach: their table fragments, made from the lists of
 * util/engine_table.h, and the CLI's setters (messages, CPU affinity). */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>

#include "cmd.h"
#include "engine_opts.h"

int offload_args_apply(struct wc_iface *ifc, const struct offload_args *oa)
{
	struct wc_config c;
	int err = wc_iface__config(ifc, &c);

	if (err)
		return cmd_err("cannot read the config map: %s",
			       strerror(-err));
	err = offload_args_write(ifc, oa);
	if (err)
		return cmd_err("offload settings refused: %s", strerror(-err));
	return 0;
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

/* a word of the option's list (engine_table.h) */
static int set_word(void *cfg, const struct param *p, const char *v)
{
	const struct wc_eopt *o = wc_eopt_find(p->name);

	for (const struct wc_eopt_word *w = o->words; w->word; w++)
		if (!strcmp(v, w->word)) {
			*(int *)((char *)cfg + p->off) = w->val;
			return 0;
		}
	return cmd_err("invalid --%s '%s' (%s)", p->name, v, o->choices), -1;
}

/* a tunable: 0..max, kept in a long (-1: unchanged) */
static int set_tunable(void *cfg, const struct param *p, const char *v)
{
	uint32_t x;

	if (cmd_parse_u32(p->what, v, (uint32_t)p->min, (uint32_t)p->max, &x))
		return -1;
	*(long *)((char *)cfg + p->off) = x;
	return 0;
}

/* The lists of engine_table.h as option-table entries: each kind with
 * its setter (and its messages) */
#define SETTER_U32 param_set_u32
#define SETTER_POW2 param_set_u32_pow2
#define SETTER_WORD set_word
#define SETTER_TUNE set_tunable
#define SETTER_CPUS set_cpus
#define SIZE_U32 4
#define SIZE_POW2 4
#define SIZE_WORD sizeof(int)
#define SIZE_TUNE sizeof(long)
#define SIZE_CPUS sizeof(int)
#define ENTRY(type, n, a, h, kind, field, lo, hi)     \
	{ .name = (n),                                \
	  .arg = (a),                                 \
	  .help = (h),                                \
	  .set = SETTER_##kind,                       \
	  .off = PARAM_OFF(type, field, SIZE_##kind), \
	  .min = (lo),                                \
	  .max = (hi),                                \
	  .what = "--" n },
#define ENGINE_ENTRY(n, a, h, kind, field, lo, hi, w, c) \
	ENTRY(struct engine_args, n, a, h, kind, field, lo, hi)
#define OFFLOAD_ENTRY(n, a, h, kind, field, lo, hi, w, c) \
	ENTRY(struct offload_args, n, a, h, kind, field, lo, hi)

const struct param offload_params[] = {
	WC_OFFLOAD_OPTS(OFFLOAD_ENTRY) PARAM_END,
};

const struct param engine_params[] = {
	WC_ENGINE_OPTS(ENGINE_ENTRY)
		PARAM_INCLUDE(offload_params, struct engine_args, off),
	PARAM_END,
};
