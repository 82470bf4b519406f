/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The shared part of the benchmark baselines of `make bench` (afxdp_loop,
 * fanout_loop, pcap_loop, wc_noop): the options they all take (-i, the
 * per-packet cost, the stall, the CPU, idle exit, JSON, the ready file) in
 * one table that each tool extends with rows of its own, the help made
 * from that table, and what each receive loop does around its packets
 * (pinning, the cost spin, the stall and the drain after it, idle exit,
 * SIGINT/SIGTERM, the ready file, the JSON summary). A tool holds only its
 * receive path and its own options.
 */
#ifndef WIRECAP_TOOLS_LOOP_H
#define WIRECAP_TOOLS_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "clock.h"

/* how a row stores its argument (no check of the number, as strtoul) */
enum loop_type {
	LOOP_STR, /* const char * */
	LOOP_UINT, /* unsigned (strtoul); in min..max unless max is 0 */
	LOOP_U64, /* uint64_t (strtoull) */
	LOOP_LONG, /* long (strtol) */
	LOOP_INT, /* int (atoi) */
	LOOP_SEC_NS, /* uint64_t ns, from seconds (strtod) */
	LOOP_FLAG, /* bool set to true; the row takes no argument */
	LOOP_WORD, /* unsigned: the index of the argument in words */
	LOOP_FUNC, /* parse(arg, dst): 0, or the exit status after a message */
};

/* one option: --name ARG, what it sets, its line in the help */
struct loop_opt {
	const char *name;
	const char *arg; /* the argument in the help; NULL: none */
	const char *help; /* '\n' starts a continuation line */
	enum loop_type type;
	void *dst;
	int (*parse)(const char *arg, void *dst); /* LOOP_FUNC */
	char key; /* the short option (-i, -h of the shared rows), 0: none */
	unsigned min, max; /* LOOP_UINT */
	const char *const *words; /* LOOP_WORD, ended by NULL */
};

/* the shared rows a tool takes (-i and --help always) */
enum {
	LOOP_O_COST = 1 << 0, /* --cost-ns */
	LOOP_O_STALL = 1 << 1, /* --stall-ms */
	LOOP_O_CPU = 1 << 2, /* --cpu */
	LOOP_O_IDLE = 1 << 3, /* --idle-exit */
	LOOP_O_JSON = 1 << 4, /* --json */
	LOOP_O_READY = 1 << 5, /* --ready-file */
	LOOP_O_ALL = (1 << 6) - 1,
};

struct loop_tool {
	const char *name; /* in the help and every message */
	const char *about; /* the help's lines under "Usage:" */
	const struct loop_opt *opts; /* its own rows, ended by { 0 } */
	unsigned common; /* LOOP_O_* */
};

/* the drain after the stall: CPU time of the thread while it works
 * through the backlog (full batches), the loop's cost per packet with no
 * kernel work and no wait in between */
struct loop_drain {
	bool on;
	uint64_t cpu0, cpu, pkts;
};

struct loop {
	/* options */
	const char *ifname, *json, *ready;
	uint64_t cost_ns, stall_ms, idle_ns;
	int cpu; /* -1: not pinned */
	/* run */
	uint64_t spins; /* per microsecond, when cost_ns */
	atomic_bool stalled;
	_Atomic uint64_t t_first, t_last; /* monotonic ns of packets seen */
	struct loop_drain drain;
};

/* Fills l from argv (defaults: 0, NULL, cpu -1) and the tool's own rows.
 * Exits on --help (0, the help on stdout), on bad usage (2, the help on
 * stderr: unknown option, no -i, an operand) and on an argument a row
 * refuses (1: out of range, not one of the words; a LOOP_FUNC's status). */
void loop_parse(struct loop *l, const struct loop_tool *t, int argc,
		char **argv);

/* "NAME: <fmt>[: strerror(err)]" on stderr (err: errno or -errno, 0:
 * none); returns 1, the exit status */
int loop_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --cpu: pins the calling thread (and the threads it creates after);
 * 0, or 1 with a message */
int loop_pin(const struct loop *l);

/* SIGINT/SIGTERM: loop_stopping() turns true and hook (may be NULL) runs
 * in the handler, to wake a blocked receive */
void loop_signals(void (*hook)(void));
bool loop_stopping(void);
void loop_stop(void);

/* --ready-file: created once the tool receives */
void loop_ready(const struct loop *l);

/* --cost-ns as a CPU spin: calibrate once, then spin per packet */
void loop_cost_init(struct loop *l);

static inline void loop_cost(const struct loop *l)
{
	if (l->spins)
		wc_spin(l->cost_ns * l->spins / 1000);
}

/* --stall-ms: true once (the first caller, any thread) */
bool loop_stall_claim(struct loop *l);
/* sleep --stall-ms (a signal ends it), then the drain starts */
void loop_stall_sleep(struct loop *l);

/* both at once: true when this call stalled */
static inline bool loop_stall(struct loop *l)
{
	if (!loop_stall_claim(l))
		return false;
	loop_stall_sleep(l);
	return true;
}

/* one batch after the stall: a full one extends the drain, the first
 * short one ends it */
void loop_drain_step(struct loop *l, uint64_t n, bool full);
double loop_drain_ns_per_pkt(const struct loop *l);

/* packets seen now (first and last time) */
void loop_seen(struct loop *l);
/* --idle-exit: idle_ns passed since the last packet */
bool loop_idle(const struct loop *l);
/* from the first packet to the last, in s */
double loop_duration_s(const struct loop *l);

/* --json: fmt and its arguments into FILE or stdout ("-"), then tail(f)
 * when not NULL (arrays); 0 (also without --json), or 1 with a message
 * when FILE cannot be opened */
int loop_json(const struct loop *l, void (*tail)(FILE *f), const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
