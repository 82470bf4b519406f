// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The baselines' shared options and loop helpers (loop.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "loop.h"

#define MAX_ROWS 32
#define LONG_ONLY 256 /* getopt value of row i: LONG_ONLY + i */

static const char *tool_name = "tool";
static volatile sig_atomic_t stop_req;
static void (*stop_hook)(void);

/* ---- options ------------------------------------------------------------ */

/* -i, the tool's rows, the shared rows it takes, --help: in help order */
static unsigned rows_of(struct loop *l, const struct loop_tool *t,
			struct loop_opt *rows, bool *help)
{
	const struct loop_opt common[] = {
		{ "cost-ns", "N", "work per packet, in ns (a CPU spin)",
		  LOOP_U64, &l->cost_ns },
		{ "stall-ms", "MS", "sleep MS ms at the first packet", LOOP_U64,
		  &l->stall_ms },
		{ "cpu", "C", "pin the receiving threads to CPU C", LOOP_INT,
		  &l->cpu },
		{ "idle-exit", "SEC", "stop SEC s after the last packet",
		  LOOP_SEC_NS, &l->idle_ns },
		{ "json", "FILE|-", "summary as JSON", LOOP_STR, &l->json },
		{ "ready-file", "FILE", "created once the capture is active",
		  LOOP_STR, &l->ready },
	};
	unsigned n = 0;

	rows[n++] = (struct loop_opt){ .name = "interface",
				       .arg = "IFACE",
				       .help = "interface",
				       .type = LOOP_STR,
				       .dst = &l->ifname,
				       .key = 'i' };
	for (const struct loop_opt *o = t->opts; o && o->name; o++) {
		if (n == MAX_ROWS - 8)
			abort(); /* a tool with too many rows: raise MAX_ROWS */
		rows[n++] = *o;
	}
	for (unsigned i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (t->common & (1u << i))
			rows[n++] = common[i];
	rows[n++] = (struct loop_opt){ .name = "help",
				       .help = "this help",
				       .type = LOOP_FLAG,
				       .dst = help,
				       .key = 'h' };
	return n;
}

static void usage(FILE *f, const struct loop_tool *t,
		  const struct loop_opt *rows, unsigned n)
{
	int width = 0;

	fprintf(f, "Usage: %s -i IFACE [options]\n%s", t->name, t->about);
	for (unsigned i = 0; i < n; i++) {
		int w = (rows[i].key ? 4 : 0) + 2 + (int)strlen(rows[i].name) +
			(rows[i].arg ? 1 + (int)strlen(rows[i].arg) : 0);

		if (w > width)
			width = w;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct loop_opt *o = &rows[i];
		const char *h = o->help, *nl;
		char left[64];

		if (o->key)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key,
				 o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "--%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-*s  ", width, left);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n  %-*s  ", (int)(nl - h), h, width,
				"");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

/* "--NAME: a, b or c" */
static int bad_word(const struct loop_opt *o)
{
	char list[128] = "";
	size_t len = 0;

	for (unsigned i = 0; o->words[i] && len < sizeof(list); i++) {
		const char *sep = !i ? "" : o->words[i + 1] ? ", " : " or ";

		len += snprintf(list + len, sizeof(list) - len, "%s%s", sep,
				o->words[i]);
	}
	return loop_err(EINVAL, "--%s: %s", o->name, list);
}

static int store(const struct loop_opt *o, const char *arg)
{
	unsigned u;

	switch (o->type) {
	case LOOP_STR:
		*(const char **)o->dst = arg;
		break;
	case LOOP_UINT:
		u = strtoul(arg, NULL, 0);
		if (o->max && (u < o->min || u > o->max))
			return loop_err(EINVAL, "--%s: %u..%u", o->name, o->min,
					o->max);
		*(unsigned *)o->dst = u;
		break;
	case LOOP_WORD:
		for (u = 0; o->words[u] && strcmp(o->words[u], arg); u++)
			;
		if (!o->words[u])
			return bad_word(o);
		*(unsigned *)o->dst = u;
		break;
	case LOOP_U64:
		*(uint64_t *)o->dst = strtoull(arg, NULL, 0);
		break;
	case LOOP_LONG:
		*(long *)o->dst = strtol(arg, NULL, 0);
		break;
	case LOOP_INT:
		*(int *)o->dst = atoi(arg);
		break;
	case LOOP_SEC_NS:
		*(uint64_t *)o->dst = strtod(arg, NULL) * 1e9;
		break;
	case LOOP_FLAG:
		*(bool *)o->dst = true;
		break;
	case LOOP_FUNC:
		return o->parse(arg, o->dst);
	}
	return 0;
}

void loop_parse(struct loop *l, const struct loop_tool *t, int argc,
		char **argv)
{
	struct loop_opt rows[MAX_ROWS];
	struct option lo[MAX_ROWS + 1] = {};
	bool help = false;
	unsigned n;
	int c, rc;

	memset(l, 0, sizeof(*l));
	l->cpu = -1;
	tool_name = t->name;
	n = rows_of(l, t, rows, &help);
	for (unsigned i = 0; i < n; i++) {
		lo[i].name = rows[i].name;
		lo[i].has_arg = rows[i].arg ? required_argument : no_argument;
		lo[i].val = rows[i].key ? rows[i].key : LONG_ONLY + (int)i;
	}
	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		unsigned i = c == 'i' ? 0 :
			     c == 'h' ? n - 1 :
					(unsigned)(c - LONG_ONLY);

		if (c == '?' || i >= n) {
			usage(stderr, t, rows, n);
			exit(2);
		}
		rc = store(&rows[i], optarg);
		if (rc)
			exit(rc);
		if (help) {
			usage(stdout, t, rows, n);
			exit(0);
		}
	}
	if (!l->ifname || optind != argc) {
		usage(stderr, t, rows, n);
		exit(2);
	}
}

int loop_err(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fprintf(stderr, "\n");
	return 1;
}

/* ---- set-up ------------------------------------------------------------- */

int loop_pin(const struct loop *l)
{
	cpu_set_t set;

	if (l->cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(l->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return loop_err(errno, "cannot pin to CPU %d", l->cpu);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_req = 1;
	if (stop_hook)
		stop_hook();
}

/* SA_RESTART as signal(): only poll and nanosleep, which never restart,
 * see the signal */
void loop_signals(void (*hook)(void))
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };

	stop_hook = hook;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool loop_stopping(void)
{
	return stop_req;
}

void loop_stop(void)
{
	stop_req = 1;
}

void loop_ready(const struct loop *l)
{
	int fd;

	if (!l->ready)
		return;
	fd = open(l->ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

/* ---- the loop ----------------------------------------------------------- */

void loop_cost_init(struct loop *l)
{
	if (l->cost_ns)
		l->spins = wc_spin_calibrate();
}

bool loop_stall_claim(struct loop *l)
{
	return l->stall_ms && !atomic_exchange(&l->stalled, true);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void loop_stall_sleep(struct loop *l)
{
	struct timespec ts = { .tv_sec = l->stall_ms / 1000,
			       .tv_nsec = (l->stall_ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stop_req)
		;
	l->drain.on = true;
	l->drain.cpu0 = thread_cpu_ns();
}

void loop_drain_step(struct loop *l, uint64_t n, bool full)
{
	if (!l->drain.on)
		return;
	if (!full) {
		l->drain.on = false;
		return;
	}
	l->drain.pkts += n;
	l->drain.cpu = thread_cpu_ns() - l->drain.cpu0;
}

double loop_drain_ns_per_pkt(const struct loop *l)
{
	return l->drain.pkts ? (double)l->drain.cpu / l->drain.pkts : 0.0;
}

void loop_seen(struct loop *l)
{
	uint64_t now = wc_clock_mono_ns(), none = 0;

	/* the threads of one tool share it: set t_first once, without a
	 * write on every batch */
	if (!atomic_load_explicit(&l->t_first, memory_order_relaxed))
		atomic_compare_exchange_strong(&l->t_first, &none, now);
	atomic_store(&l->t_last, now);
}

bool loop_idle(const struct loop *l)
{
	uint64_t last = atomic_load(&l->t_last);

	return l->idle_ns && last && wc_clock_mono_ns() - last >= l->idle_ns;
}

double loop_duration_s(const struct loop *l)
{
	uint64_t first = atomic_load(&l->t_first),
		 last = atomic_load(&l->t_last);

	return last > first ? (last - first) / 1e9 : 0.0;
}

/* ---- the summary -------------------------------------------------------- */

int loop_json(const struct loop *l, void (*tail)(FILE *f), const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	if (!l->json)
		return 0;
	f = strcmp(l->json, "-") ? fopen(l->json, "w") : stdout;
	if (!f)
		return loop_err(errno, "cannot write %s", l->json);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (tail)
		tail(f);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
	return 0;
}
