// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The engine option lists of engine_table.h as data, and a setter that
 * reports in a buffer (for the libpcap front, which must not print). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_table.h"

const struct wc_eopt_word wc_eopt_wait[] = {
	{ "chunk", WC_WAIT_CHUNK },
	{ "poll", WC_WAIT_POLL },
	{ "busy", WC_WAIT_BUSY_POLL },
	{ "busy-poll", WC_WAIT_BUSY_POLL },
	{ 0 },
};
const struct wc_eopt_word wc_eopt_bind[] = {
	{ "auto", WC_BIND_AUTO },
	{ "zc", WC_BIND_ZEROCOPY },
	{ "zerocopy", WC_BIND_ZEROCOPY },
	{ "copy", WC_BIND_COPY },
	{ 0 },
};
const struct wc_eopt_word wc_eopt_huge[] = {
	{ "auto", WC_HUGE_AUTO },
	{ "off", WC_HUGE_OFF },
	{ "require", WC_HUGE_REQUIRE },
	{ 0 },
};
const struct wc_eopt_word wc_eopt_mode[] = {
	{ "auto", WC_XDP_AUTO },
	{ "native", WC_XDP_NATIVE },
	{ "generic", WC_XDP_GENERIC },
	{ 0 },
};
const struct wc_eopt_word wc_eopt_steer[] = {
	{ "queue", WC_STEER_QUEUE },
	{ "flow", WC_STEER_FLOW },
	{ 0 },
};
const struct wc_eopt_word wc_eopt_onoff[] = {
	{ "off", 0 },
	{ "on", 1 },
	{ 0 },
};

/* the size each kind writes, checked against the field at compile time */
#define SIZE_U32 4
#define SIZE_POW2 4
#define SIZE_WORD sizeof(int)
#define SIZE_CPUS sizeof(int)
#define SIZE_TUNE sizeof(long)
#define OFF(type, field, kind)   \
	(offsetof(type, field) + \
	 0 * sizeof(char[sizeof(((type *)0)->field) == SIZE_##kind ? 1 : -1]))

#define ENGINE(n, a, h, k, field, lo, hi, w, c)     \
	{ .name = (n),                              \
	  .kind = WC_EOPT_##k,                      \
	  .off = OFF(struct engine_args, field, k), \
	  .min = (lo),                              \
	  .max = (hi),                              \
	  .words = (w),                             \
	  .choices = (c) },
#define OFFLOAD(n, a, h, k, field, lo, hi, w, c)     \
	{ .name = (n),                               \
	  .kind = WC_EOPT_##k,                       \
	  .off = offsetof(struct engine_args, off) + \
		 OFF(struct offload_args, field, k), \
	  .min = (lo),                               \
	  .max = (hi),                               \
	  .words = (w),                              \
	  .choices = (c) },

static const struct wc_eopt eopts[] = { WC_ENGINE_OPTS(ENGINE)
						WC_OFFLOAD_OPTS(OFFLOAD) };

void offload_args_init(struct offload_args *oa)
{
	oa->enabled = -1;
	oa->high = oa->low = oa->hold = oa->ret = oa->cooldown = -1;
	oa->interval = oa->max_moves = -1;
}

void engine_args_init(struct engine_args *ea)
{
	memset(ea, 0, sizeof(*ea));
	offload_args_init(&ea->off);
	ea->eo.sz = sizeof(ea->eo);
	ea->ao.sz = sizeof(ea->ao);
	ea->eo.attach = &ea->ao;
}

int offload_args_write(struct wc_iface *ifc, const struct offload_args *oa)
{
	struct wc_config c;
	int err = wc_iface__config(ifc, &c);

	if (err)
		return err;
#define SET(f, v)     \
	if ((v) >= 0) \
	c.f = (v)
	SET(offload_enabled, oa->enabled);
	SET(offload_high_pct, oa->high);
	SET(offload_low_pct, oa->low);
	SET(offload_hold_ms, oa->hold);
	SET(offload_return_ms, oa->ret);
	SET(offload_cooldown_ms, oa->cooldown);
	SET(offload_interval_ms, oa->interval);
	SET(offload_max_moves, oa->max_moves);
#undef SET
	return wc_iface__set_config(ifc, &c);
}

const struct wc_eopt *wc_eopt_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(eopts) / sizeof(eopts[0]); i++)
		if (!strcmp(eopts[i].name, name))
			return &eopts[i];
	return NULL;
}

static int num(const char *v, unsigned long min, unsigned long max,
	       unsigned long *out)
{
	unsigned long x;
	char *end;

	if (!v || !*v || *v == '-')
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

/* "0-1,4" */
static int cpu_list(const char *v, struct engine_args *ea)
{
	char *dup = v ? strdup(v) : NULL, *save = NULL, *tok;
	int err = 0;

	if (!dup)
		return -EINVAL;
	ea->ncpus = 0;
	for (tok = strtok_r(dup, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long a, b;
		char *dash = strchr(tok, '-');

		if (dash)
			*dash = '\0';
		if (num(tok, 0, 4095, &a) ||
		    (dash ? num(dash + 1, a, 4095, &b) : (b = a, 0)))
			err = -EINVAL;
		for (unsigned long c = a; !err && c <= b; c++) {
			if (ea->ncpus == 256) {
				err = -EINVAL;
				break;
			}
			ea->cpus[ea->ncpus++] = c;
		}
	}
	free(dup);
	return err ? err : ea->ncpus ? 0 : -EINVAL;
}

static int set(const struct wc_eopt *o, void *at, const char *v)
{
	unsigned long x;

	switch (o->kind) {
	case WC_EOPT_U32:
	case WC_EOPT_POW2:
		if (num(v, o->min, o->max, &x) ||
		    (o->kind == WC_EOPT_POW2 && (x & (x - 1))))
			return -EINVAL;
		*(__u32 *)at = (__u32)x;
		return 0;
	case WC_EOPT_TUNE:
		if (num(v, o->min, o->max, &x))
			return -EINVAL;
		*(long *)at = (long)x;
		return 0;
	case WC_EOPT_WORD:
		for (const struct wc_eopt_word *w = o->words; v && w->word; w++)
			if (!strcmp(v, w->word)) {
				*(int *)at = w->val;
				return 0;
			}
		return -EINVAL;
	case WC_EOPT_CPUS:
		return -EINVAL; /* needs the whole struct: see wc_eopt_set */
	}
	return -EINVAL;
}

int wc_eopt_set(const struct wc_eopt *o, struct engine_args *ea, const char *v,
		char *err, size_t len)
{
	int r = o->kind == WC_EOPT_CPUS ? cpu_list(v, ea) :
					  set(o, (char *)ea + o->off, v);

	if (!r)
		return 0;
	if (o->kind == WC_EOPT_WORD)
		snprintf(err, len, "invalid --%s '%s' (%s)", o->name,
			 v ? v : "", o->choices);
	else if (o->kind == WC_EOPT_CPUS)
		snprintf(err, len, "invalid --%s '%s' (a CPU list: 0-1,4)",
			 o->name, v ? v : "");
	else
		snprintf(err, len, "invalid --%s '%s' (%lu..%lu%s)", o->name,
			 v ? v : "", o->min, o->max,
			 o->kind == WC_EOPT_POW2 ? ", a power of two" : "");
	return -EINVAL;
}
