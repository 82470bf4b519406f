/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The engine options that capture, bench, forward and exec share (and the
 * offload tunables attach takes too): one option-table fragment each. */
#ifndef WIRECAP_CMD_ENGINE_OPTS_H
#define WIRECAP_CMD_ENGINE_OPTS_H

#include "wirecap/wirecap.h"
#include "params.h"

/* Offload tunables (written to the pinned config map) */
struct offload_args {
	int enabled; /* -1: unchanged */
	long high, low, hold, ret, cooldown, interval,
		max_moves; /* -1: unchanged */
};

void offload_args_init(struct offload_args *oa);
/* validated by the library: on error nothing changes (one-line message) */
int offload_args_apply(struct wc_iface *ifc, const struct offload_args *oa);
/* --offload, --offload-high, ...: a fragment over struct offload_args */
extern const struct param offload_params[];

/* Engine options shared by capture / bench / forward / exec */
struct engine_args {
	struct offload_args off;
	struct wc_engine_opts eo;
	struct wc_attach_opts ao;
	unsigned cpus[256];
	int ncpus;
};

void engine_args_init(struct engine_args *ea);
/* --workers, --cpus, --pool-chunks, ...: a fragment over struct
 * engine_args (offload_params included) */
extern const struct param engine_params[];

#endif
