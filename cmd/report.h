/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Accounting shared by capture, bench and forward: counters at start,
 * deltas at exit, the reconciliation, human and JSON output. */
#ifndef WIRECAP_CMD_REPORT_H
#define WIRECAP_CMD_REPORT_H

#include <stdio.h>
#include <linux/if_link.h>

#include "wirecap/wirecap.h"
#include "engine_opts.h"

struct json_object;

struct acct_queue {
	__u32 queue;
	struct wc_iface_queue_stats xdp; /* delta since start */
	struct wc_iface_pool_stats pool;
};

struct acct {
	struct wc_engine *e;
	unsigned nq, nw;
	unsigned nq_all; /* q[] entries to list: served + not served with packets */
	struct rtnl_link_stats64 dev0, dev1;
	bool have_dev;
	__u64 t0_ns, t1_ns;
	/* filled by acct_finish */
	struct acct_queue q[WC_MAX_QUEUES];
	struct wc_iface_worker_stats w[WC_MAX_WORKERS];
	__u64 received, delivered, passed, nosock_dropped;
	__u64 filtered; /* not matched by the filter in XDP */
	__u64 shed; /* refused in XDP by admission control (forward) */
	__u64 pool_exhausted, ring_full, other_dropped, invalid_descs;
	__u64 nic_dropped;
	__s64 unaccounted; /* received - (delivered + drops + passed +
			   * filtered + shed): 0 */
	__u64 hwm_max, frames;
	struct wc_link_stats link; /* gaps: link down or without carrier */
};

/* "link down N time(s), S s in all" into buf ("" when it never was) */
void acct_link_note(const struct wc_link_stats *l, char *buf, size_t len);

int acct_start(struct acct *a, struct wc_engine *e);
/* Read final counters (call after the workers drained). */
int acct_finish(struct acct *a);

/* The caller's part of the summary: with @json non-NULL, its fields are
 * added to that object; otherwise human lines are printed to @f. */
typedef void (*acct_extra_fn)(FILE *f, struct json_object *json, void *ctx);

/* One JSON object: delivered, dropped{...}, passed, received, queues[],
 * workers[], plus the caller's fields (extra); the caller owns it. */
struct json_object *acct_json(const struct acct *a, acct_extra_fn extra,
			      void *ctx);
void acct_print_human(const struct acct *a, FILE *f, acct_extra_fn extra,
		      void *ctx);
/* --stats-json FILE ('-' stdout) and the human summary on stderr */
int acct_report(const struct acct *a, const char *json_path, bool quiet,
		acct_extra_fn extra, void *ctx);

/* wc_engine__open with a one-line error on failure */
struct wc_engine *engine_open(const char *ifname, struct engine_args *ea);

#endif
