/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Accounting shared by capture, bench and forward: counters at start,
 * deltas at exit, the reconciliation, human and JSON output. */
#ifndef WIRECAP_CMD_REPORT_H
#define WIRECAP_CMD_REPORT_H

#include <stdio.h>
#include <linux/if_link.h>

#include "wirecap/wirecap.h"

struct json_object;

struct acct_queue {
	__u32 queue;
	struct wc_queue_stats xdp; /* delta since start */
	struct wc_pool_stats pool;
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
	struct wc_worker_stats w[WC_MAX_WORKERS];
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

/* Offload tunables (written to the pinned config map) */
struct offload_args {
	int enabled; /* -1: unchanged */
	long high, low, hold, ret, cooldown, interval,
		max_moves; /* -1: unchanged */
};

void offload_args_init(struct offload_args *oa);
/* 1 if @name is an offload option, 0 if not, -1 on a bad value */
int offload_args_parse(struct offload_args *oa, const char *name,
		       const char *arg);
/* validated by the library: on error nothing changes (one-line message) */
int offload_args_apply(struct wc_iface *ifc, const struct offload_args *oa);
#define OFFLOAD_ARGS_HELP                                                               \
	"      --offload on|off   buddy-group offloading (default on)\n"                \
	"      --offload-high PCT backlog (%% of a queue pool) marking overload (30)\n" \
	"      --offload-low PCT  below this a worker takes buckets (10)\n"             \
	"      --offload-hold MS  overloaded this long before moving (500)\n"           \
	"      --offload-return MS calm this long before buckets go home (5000)\n"      \
	"      --offload-cooldown MS a moved bucket stays put this long (2000)\n"       \
	"      --offload-interval MS monitor period (100)\n"                            \
	"      --offload-max-moves N buckets moved per interval at most (32)\n"
#define OFFLOAD_ARGS_LONGOPTS                                    \
	{ "offload", required_argument, 0, 0 },                  \
		{ "offload-high", required_argument, 0, 0 },     \
		{ "offload-low", required_argument, 0, 0 },      \
		{ "offload-hold", required_argument, 0, 0 },     \
		{ "offload-return", required_argument, 0, 0 },   \
		{ "offload-cooldown", required_argument, 0, 0 }, \
		{ "offload-interval", required_argument, 0, 0 }, \
	{                                                        \
		"offload-max-moves", required_argument, 0, 0     \
	}

/* Engine options shared by capture / bench / forward */
struct engine_args {
	struct offload_args off;
	struct wc_engine_opts eo;
	struct wc_attach_opts ao;
	unsigned cpus[256];
	int ncpus;
};

void engine_args_init(struct engine_args *ea);
/* Handles one engine option (long option name, argument); returns 1 if it
 * was one, 0 if not, -1 on a bad value (message printed). */
int engine_args_parse(struct engine_args *ea, const char *name,
		      const char *arg);
#define ENGINE_ARGS_HELP                                                                     \
	"      --workers N        capture workers (default: one per queue, at most #CPUs)\n" \
	"      --cpus LIST        pin worker w to the w-th CPU of LIST (e.g. 0-1)\n"         \
	"      --pool-chunks R    chunks per queue pool (default: 200 ms at 1 Mpps)\n"       \
	"      --chunk-size M     frames per chunk (default 64)\n"                           \
	"      --frame-size B     UMEM frame size, 2048 or 4096 (default: 4096 when the\n"   \
	"                         MTU needs it); longer frames are dropped (oversize)\n"     \
	"      --rx-ring N        RX ring entries, a power of two (default: a whole pool)\n" \
	"      --wait MODE        chunk (default), poll, busy\n"                             \
	"      --chunk-timeout US chunk wait before a partial chunk is returned\n"           \
	"      --bind MODE        auto (zero-copy, else copy), zc, copy\n"                   \
	"      --huge-pages MODE  auto, off, require\n"                                      \
	"      --mode MODE        XDP mode when attaching: auto, native, generic\n"          \
	"      --steer MODE       queue or flow (when attaching)\n"                          \
	"      --buckets N        flow buckets per queue (when attaching)\n" OFFLOAD_ARGS_HELP

#define ENGINE_ARGS_LONGOPTS                                  \
	{ "workers", required_argument, 0, 0 },               \
		{ "cpus", required_argument, 0, 0 },          \
		{ "pool-chunks", required_argument, 0, 0 },   \
		{ "chunk-size", required_argument, 0, 0 },    \
		{ "frame-size", required_argument, 0, 0 },    \
		{ "rx-ring", required_argument, 0, 0 },       \
		{ "wait", required_argument, 0, 0 },          \
		{ "chunk-timeout", required_argument, 0, 0 }, \
		{ "bind", required_argument, 0, 0 },          \
		{ "huge-pages", required_argument, 0, 0 },    \
		{ "mode", required_argument, 0, 0 },          \
		{ "steer", required_argument, 0, 0 },         \
		{ "buckets", required_argument, 0, 0 }, OFFLOAD_ARGS_LONGOPTS

/* wc_engine__open with a one-line error on failure */
struct wc_engine *engine_open(const char *ifname, struct engine_args *ea);

#endif
