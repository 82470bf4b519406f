// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Engine options of a "wirecap:" device, from the environment:
 *
 *   WIRECAP_PCAP_OPTS="--workers 2 --pool-chunks 1024 --mode native"
 *
 * The engine options of `wirecap capture`, from the same list
 * (util/engine_table.h), "--name value" or "--name=value", separated by
 * blanks; plus --reorder-ms (the time-order window across queues, 0:
 * hand-over order). `wirecap exec` checks them and sets the variable; a
 * program started by others reads the same variable. No getopt here: this
 * runs inside the application, whose getopt state is its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wcpcap.h"

#define REORDER_MS_DEFAULT 250
#define REORDER_MS_MAX 10000

static int reorder_ms(const char *v, int *out)
{
	char *end;
	long x;

	if (!v || !*v || *v == '-')
		return -EINVAL;
	errno = 0;
	x = strtol(v, &end, 0);
	if (errno || *end || x > REORDER_MS_MAX)
		return -EINVAL;
	*out = (int)x;
	return 0;
}

static int one(struct wcp_opts *o, const char *n, const char *v, char *err,
	       size_t len)
{
	const struct wc_eopt *eo;

	if (!strcmp(n, "reorder-ms")) {
		if (!reorder_ms(v, &o->reorder_ms))
			return 0;
		snprintf(err, len, "invalid --reorder-ms '%s' (0..%d)",
			 v ? v : "", REORDER_MS_MAX);
		return -EINVAL;
	}
	eo = wc_eopt_find(n);
	if (!eo) {
		snprintf(err, len, "unknown option --%s", n);
		return -EINVAL;
	}
	return wc_eopt_set(eo, &o->ea, v, err, len);
}

int wcp_opts_parse(const char *s, struct wcp_opts *o, char *err, size_t len)
{
	char *dup, *save = NULL, *tok, msg[200];
	int ret = 0;

	memset(o, 0, sizeof(*o));
	engine_args_init(&o->ea);
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
		ret = one(o, name, val, msg, sizeof(msg));
		if (ret)
			snprintf(err, len, "%s: %s", WCP_OPTS_ENV, msg);
	}
	free(dup);
	return ret;
}

int wcp_opts_apply(const struct wcp_opts *o, struct wc_iface *ifc)
{
	return offload_args_write(ifc, &o->ea.off);
}
