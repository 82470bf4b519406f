// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Engine options of a "wirecap:" device, from the environment:
 *
 *   WIRECAP_PCAP_OPTS="--workers 2 --pool-chunks 1024 --mode native"
 *
 * The same long options as `wirecap capture` takes for its engine (see
 * engine_params in cmd/engine_opts.c), "--name value" or "--name=value",
 * separated by blanks; plus --reorder-ms (the time-order window across
 * queues, 0: hand-over order). `wirecap exec` checks them and sets the
 * variable; a program started by others reads the same variable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wcpcap.h"

#define REORDER_MS_DEFAULT 250

static int num(const char *v, unsigned long min, unsigned long max,
	       unsigned long *out)
{
	char *end;
	unsigned long x;

	if (!v || !*v || *v == '-')
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

static int word(const char *v, const char *const *words, int *out)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(v, words[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

static int cpu_list(const char *v, struct wcp_opts *o)
{
	char *dup = strdup(v), *save = NULL, *tok;
	int err = 0;

	if (!dup)
		return -ENOMEM;
	o->ncpus = 0;
	for (tok = strtok_r(dup, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long a, b;
		char *dash = strchr(tok, '-');

		if (dash)
			*dash = '\0';
		if (num(tok, 0, 4095, &a) ||
		    (dash ? num(dash + 1, a, 4095, &b) : (b = a, 0))) {
			err = -EINVAL;
			break;
		}
		for (unsigned long c = a; c <= b && o->ncpus < 256; c++)
			o->cpus[o->ncpus++] = c;
	}
	free(dup);
	return err ? err : o->ncpus ? 0 : -EINVAL;
}

static bool pow2(unsigned long x)
{
	return x && !(x & (x - 1));
}

static int one(struct wcp_opts *o, const char *n, const char *v)
{
	static const char *const waits[] = { "chunk", "poll", "busy", NULL };
	static const char *const binds[] = { "auto", "zc", "copy", NULL };
	static const char *const huge[] = { "auto", "off", "require", NULL };
	static const char *const modes[] = { "auto", "native", "generic",
					     NULL };
	static const char *const steer[] = { "queue", "flow", NULL };
	static const char *const onoff[] = { "off", "on", NULL };
	static const struct {
		const char *name;
		size_t off;
		unsigned long max;
	} tun[] = {
		{ "offload-high", offsetof(struct wcp_opts, high), 100 },
		{ "offload-low", offsetof(struct wcp_opts, low), 100 },
		{ "offload-hold", offsetof(struct wcp_opts, hold), 3600000 },
		{ "offload-return", offsetof(struct wcp_opts, ret), 3600000 },
		{ "offload-cooldown", offsetof(struct wcp_opts, cooldown),
		  3600000 },
		{ "offload-interval", offsetof(struct wcp_opts, interval),
		  60000 },
		{ "offload-max-moves", offsetof(struct wcp_opts, max_moves),
		  WC_MAX_BUCKETS },
	};
	unsigned long x;
	int i;

	if (!strcmp(n, "workers"))
		return num(v, 1, WC_MAX_WORKERS, &x) ?: (o->ao.workers = x, 0);
	if (!strcmp(n, "cpus"))
		return cpu_list(v, o);
	if (!strcmp(n, "pool-chunks"))
		return num(v, 2, 1ul << 22, &x) ?:
			       (o->eo.chunks = x, o->pool_given = true, 0);
	if (!strcmp(n, "chunk-size"))
		return num(v, 1, 4096, &x) ?: (o->eo.chunk_size = x, 0);
	if (!strcmp(n, "frame-size"))
		return num(v, 2048, 4096, &x) ?: (o->eo.frame_size = x, 0);
	if (!strcmp(n, "rx-ring"))
		return num(v, 64, 1ul << 22, &x) ?:
			       pow2(x)		 ? (o->eo.rx_ring_size = x, 0) :
						   -EINVAL;
	if (!strcmp(n, "chunk-timeout"))
		return num(v, 1, 1000000, &x) ?:
						(o->eo.chunk_timeout_us = x, 0);
	if (!strcmp(n, "buckets"))
		return num(v, 1, WC_MAX_BUCKETS, &x) ?:
			       pow2(x)		     ? (o->ao.buckets = x, 0) :
						       -EINVAL;
	if (!strcmp(n, "reorder-ms"))
		return num(v, 0, 10000, &x) ?: (o->reorder_ms = x, 0);
	if (!strcmp(n, "wait"))
		return word(v, waits, &i) ?: (o->eo.wait = i, 0);
	if (!strcmp(n, "bind"))
		return word(v, binds, &i) ?: (o->eo.bind = i, 0);
	if (!strcmp(n, "huge-pages"))
		return word(v, huge, &i) ?: (o->eo.huge_pages = i, 0);
	if (!strcmp(n, "mode"))
		return word(v, modes, &i) ?: (o->ao.mode = i, 0);
	if (!strcmp(n, "steer"))
		return word(v, steer, &i) ?:
					    (o->ao.steer_mode =
					     i ? WC_STEER_FLOW : WC_STEER_QUEUE,
				     0);
	if (!strcmp(n, "offload"))
		return word(v, onoff, &i) ?: (o->offload = i, 0);
	for (size_t k = 0; k < sizeof(tun) / sizeof(tun[0]); k++)
		if (!strcmp(n, tun[k].name))
			return num(v, 0, tun[k].max, &x) ?:
				       (*(long *)((char *)o + tun[k].off) = x,
					0);
	return -ENOENT;
}

int wcp_opts_parse(const char *s, struct wcp_opts *o, char *err, size_t len)
{
	char *dup, *save = NULL, *tok;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	o->eo.sz = sizeof(o->eo);
	o->ao.sz = sizeof(o->ao);
	o->eo.attach = &o->ao;
	o->offload = o->high = o->low = o->hold = o->ret = -1;
	o->cooldown = o->interval = o->max_moves = -1;
	o->reorder_ms = REORDER_MS_DEFAULT;
	if (!s)
		return 0;
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, " \t\n", &save); tok && !ret;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char *name = tok + 2, *val = strchr(tok, '=');

		if (strncmp(tok, "--", 2)) {
			snprintf(err, len, "%s: not an option: '%s'",
				 WCP_OPTS_ENV, tok);
			ret = -EINVAL;
			break;
		}
		if (val)
			*val++ = '\0';
		else
			val = strtok_r(NULL, " \t\n", &save);
		ret = one(o, name, val);
		if (ret == -ENOENT)
			snprintf(err, len, "%s: unknown option --%s",
				 WCP_OPTS_ENV, name);
		else if (ret)
			snprintf(err, len, "%s: invalid --%s '%s'",
				 WCP_OPTS_ENV, name, val ? val : "");
		if (ret)
			ret = -EINVAL;
	}
	free(dup);
	return ret;
}

int wcp_opts_apply(const struct wcp_opts *o, struct wc_iface *ifc)
{
	struct wc_config c;
	int err = wc_iface__config(ifc, &c);

	if (err)
		return err;
#define SET(f, v)     \
	if ((v) >= 0) \
	c.f = (v)
	SET(offload_enabled, o->offload);
	SET(offload_high_pct, o->high);
	SET(offload_low_pct, o->low);
	SET(offload_hold_ms, o->hold);
	SET(offload_return_ms, o->ret);
	SET(offload_cooldown_ms, o->cooldown);
	SET(offload_interval_ms, o->interval);
	SET(offload_max_moves, o->max_moves);
#undef SET
	return wc_iface__set_config(ifc, &c);
}
