/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The engine options that capture, bench, forward and exec share (and the
 * offload tunables attach takes too): option-table fragments made from
 * the one list of util/engine_table.h, which the libpcap front uses too. */
#ifndef WIRECAP_CMD_ENGINE_OPTS_H
#define WIRECAP_CMD_ENGINE_OPTS_H

#include "wirecap/wirecap.h"
#include "engine_table.h"
#include "params.h"

/* validated by the library: on error nothing changes (one-line message) */
int offload_args_apply(struct wc_iface *ifc, const struct offload_args *oa);
/* --offload, --offload-high, ...: a fragment over struct offload_args */
extern const struct param offload_params[];

/* --workers, --cpus, --pool-chunks, ...: a fragment over struct
 * engine_args (offload_params included) */
extern const struct param engine_params[];

#endif
