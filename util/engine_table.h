/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The engine options, once: name, argument, help, kind, where the value
 * goes and its range. The CLI turns the lists into its option tables
 * (cmd/engine_opts.c: capture, bench, forward, exec, and attach for the
 * offload tunables); the libpcap front parses WIRECAP_PCAP_OPTS with them
 * (pcap/opts.c, through wc_eopt_set()). Adding an option here gives it to
 * both.
 *
 * Each list is X(name, arg, help, kind, field, min, max, words, choices):
 *   WC_ENGINE_OPTS over struct engine_args, WC_OFFLOAD_OPTS over struct
 *   offload_args; kind is one of
 *   U32   a number in [min, max]
 *   POW2  the same, a power of two
 *   WORD  one of words[] (an int field), "choices" says which
 *   CPUS  a CPU list "0-1,4" into cpus[] / ncpus (field unused)
 *   TUNE  a number in [min, max] into a long (-1: unchanged)
 */
#ifndef WIRECAP_UTIL_ENGINE_TABLE_H
#define WIRECAP_UTIL_ENGINE_TABLE_H

#include <stddef.h>

#include "wirecap/wirecap.h"

/* Offload tunables (written to the pinned config map) */
struct offload_args {
	int enabled; /* -1: unchanged */
	long high, low, hold, ret, cooldown, interval,
		max_moves; /* -1: unchanged */
};

/* Engine options shared by capture / bench / forward / exec and the
 * libpcap front */
struct engine_args {
	struct offload_args off;
	struct wc_engine_opts eo;
	struct wc_attach_opts ao;
	unsigned cpus[256];
	int ncpus;
};

void offload_args_init(struct offload_args *oa);
void engine_args_init(struct engine_args *ea);
/* the tunables set in @oa on the attachment's config (validated by the
 * library: on error nothing changes); 0 or -errno */
int offload_args_write(struct wc_iface *ifc, const struct offload_args *oa);

struct wc_eopt_word {
	const char *word;
	int val;
};

extern const struct wc_eopt_word wc_eopt_wait[], wc_eopt_bind[], wc_eopt_huge[],
	wc_eopt_mode[], wc_eopt_steer[], wc_eopt_onoff[];

/* clang-format off */
#define WC_ENGINE_OPTS(X)                                                     \
	X("workers", "N",                                                     \
	  "capture workers (default: one per queue, at most #CPUs)",          \
	  U32, ao.workers, 1, WC_MAX_WORKERS, NULL, NULL)                     \
	X("cpus", "LIST", "pin worker w to the w-th CPU of LIST (e.g. 0-1)",  \
	  CPUS, ncpus, 0, 4095, NULL, NULL)                                   \
	X("pool-chunks", "R",                                                 \
	  "chunks per queue pool (default: 200 ms at 1 Mpps)",                \
	  U32, eo.chunks, 2, 1u << 22, NULL, NULL)                            \
	X("chunk-size", "M", "frames per chunk (default 64)",                 \
	  U32, eo.chunk_size, 1, 4096, NULL, NULL)                            \
	X("frame-size", "B",                                                  \
	  "UMEM frame size, 2048 or 4096 (default: 4096 when the\n"           \
	  "MTU needs it); longer frames are dropped (oversize)",              \
	  U32, eo.frame_size, 2048, 4096, NULL, NULL)                         \
	X("rx-ring", "N",                                                     \
	  "RX ring entries, a power of two (default: a whole pool)",          \
	  POW2, eo.rx_ring_size, 64, 1u << 22, NULL, NULL)                    \
	X("wait", "MODE", "chunk (default), poll, busy",                      \
	  WORD, eo.wait, 0, 0, wc_eopt_wait, "chunk, poll or busy")           \
	X("chunk-timeout", "US",                                              \
	  "chunk wait before a partial chunk is returned",                    \
	  U32, eo.chunk_timeout_us, 1, 1000000, NULL, NULL)                   \
	X("bind", "MODE", "auto (zero-copy, else copy), zc, copy",            \
	  WORD, eo.bind, 0, 0, wc_eopt_bind, "auto, zc or copy")              \
	X("huge-pages", "MODE", "auto, off, require",                         \
	  WORD, eo.huge_pages, 0, 0, wc_eopt_huge, "auto, off or require")    \
	X("mode", "MODE", "XDP mode when attaching: auto, native, generic",   \
	  WORD, ao.mode, 0, 0, wc_eopt_mode, "auto, native or generic")       \
	X("steer", "MODE", "queue or flow (when attaching)",                  \
	  WORD, ao.steer_mode, 0, 0, wc_eopt_steer, "queue or flow")          \
	X("buckets", "N", "flow buckets per queue (when attaching)",          \
	  POW2, ao.buckets, 1, WC_MAX_BUCKETS, NULL, NULL)

#define WC_OFFLOAD_OPTS(X)                                                    \
	X("offload", "on|off", "buddy-group offloading (default on)",         \
	  WORD, enabled, 0, 0, wc_eopt_onoff, "on or off")                    \
	X("offload-high", "PCT",                                              \
	  "backlog (% of a queue pool) marking overload (30)",                \
	  TUNE, high, 0, 100, NULL, NULL)                                     \
	X("offload-low", "PCT", "below this a worker takes buckets (10)",     \
	  TUNE, low, 0, 100, NULL, NULL)                                      \
	X("offload-hold", "MS", "overloaded this long before moving (500)",   \
	  TUNE, hold, 0, 3600000, NULL, NULL)                                 \
	X("offload-return", "MS",                                             \
	  "calm this long before buckets go home (5000)",                     \
	  TUNE, ret, 0, 3600000, NULL, NULL)                                  \
	X("offload-cooldown", "MS",                                           \
	  "a moved bucket stays put this long (2000)",                        \
	  TUNE, cooldown, 0, 3600000, NULL, NULL)                             \
	X("offload-interval", "MS", "monitor period (100)",                   \
	  TUNE, interval, 0, 60000, NULL, NULL)                               \
	X("offload-max-moves", "N",                                           \
	  "buckets moved per interval at most (32)",                          \
	  TUNE, max_moves, 0, WC_MAX_BUCKETS, NULL, NULL)
/* clang-format on */

enum wc_eopt_kind {
	WC_EOPT_U32,
	WC_EOPT_POW2,
	WC_EOPT_WORD,
	WC_EOPT_CPUS,
	WC_EOPT_TUNE,
};

/* One option of the lists, as data (for a parser without getopt) */
struct wc_eopt {
	const char *name;
	enum wc_eopt_kind kind;
	size_t off; /* in struct engine_args */
	unsigned long min, max;
	const struct wc_eopt_word *words;
	const char *choices;
};

/* @name (without "--") among the engine and offload options, or NULL */
const struct wc_eopt *wc_eopt_find(const char *name);
/* Set option @o from @v in @ea: 0, or -EINVAL with "invalid --NAME 'v'
 * (what it takes)" in @err. No CPU affinity check (the CLI adds one). */
int wc_eopt_set(const struct wc_eopt *o, struct engine_args *ea, const char *v,
		char *err, size_t len);

#endif
