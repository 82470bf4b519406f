// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wirecap: command-line front end of libwirecap-xdp. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <unistd.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "wirecap/wirecap.h"
#include "cmd.h"
#include "outpath.h"

int cmd_verbosity;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "attach", cmd_attach,
	  "load the XDP program on an interface and pin its maps" },
	{ "detach", cmd_detach, "remove the program and every pin" },
	{ "status", cmd_status,
	  "attach mode, program, queues, workers, filter, counters" },
	{ "filter", cmd_filter,
	  "install, replace or clear a tcpdump filter in XDP" },
	{ "capture", cmd_capture, "capture to pcapng (tcpdump-style)" },
	{ "stats", cmd_stats, "live counters of a running capture" },
	{ "bench", cmd_bench,
	  "synthetic analyzer: capacity planning, loss checks" },
	{ "gen", cmd_gen,
	  "generate test traffic with flow id / sequence payload" },
	{ "verify", cmd_verify,
	  "check a pcap/pcapng for lost, duplicated, reordered packets" },
	{ "forward", cmd_forward, "bump in the wire between two interfaces" },
	{ "replay", cmd_replay, "send a pcap/pcapng file" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: wirecap [-v] COMMAND [ARGS]\n"
		   "       wirecap --version | --help\n"
		   "       wirecap COMMAND --help\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
}

/* Library warnings raised while a command sets up are held back and
 * folded into the command's one-line error (or printed once set-up
 * succeeded): a failure reads as one line, not a cascade. */
static bool defer_warn = true;
static char pending_warn[512];

int cmd_err(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pending_warn[0] && !strstr(msg, pending_warn))
		fprintf(stderr, "wirecap: %s (%s)\n", msg, pending_warn);
	else
		fprintf(stderr, "wirecap: %s\n", msg);
	pending_warn[0] = '\0';
	return 1;
}

static void vcmd_err_line(const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "wirecap: %s\n", msg);
	pending_warn[0] = '\0';
}

int cmd_err_lib(const char *fmt, ...)
{
	va_list ap;

	if (pending_warn[0]) {
		fprintf(stderr, "wirecap: %s\n", pending_warn);
		pending_warn[0] = '\0';
		return 1;
	}
	va_start(ap, fmt);
	vcmd_err_line(fmt, ap);
	va_end(ap);
	return 1;
}

int cmd_err_only(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcmd_err_line(fmt, ap);
	va_end(ap);
	return 1;
}

int cmd_check_output(const char *what, const char *path)
{
	bool created;
	int err;

	if (!path || !strcmp(path, "-"))
		return 0;
	/* neither changes an existing file nor, for --ready-file, creates
	 * it early */
	err = wc_outpath_check(path, &created);
	if (err)
		return cmd_err_only("cannot %s %s %s: %s",
				    created ? "create" : "write", what, path,
				    strerror(-err));
	return 0;
}

int cmd_ready_file(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cmd_err_only("cannot create the --ready-file %s: %s",
				    path, strerror(errno));
	close(fd);
	return 0;
}

void cmd_stop_signals(void (*fn)(int), bool restart)
{
	struct sigaction sa = { .sa_handler = fn ? fn : SIG_DFL,
				.sa_flags = restart ? SA_RESTART : 0 };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (fn)
		signal(SIGPIPE, SIG_IGN);
}

void cmd_setup_done(void)
{
	if (pending_warn[0])
		fprintf(stderr, "wirecap: warning: %s\n", pending_warn);
	pending_warn[0] = '\0';
	defer_warn = false;
}

int cmd_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	cmd_err("invalid %s: '%s' (expected %llu..%llu)", what, s ? s : "",
		(unsigned long long)min, (unsigned long long)max);
	return -1;
}

int cmd_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
		  uint32_t *out)
{
	uint64_t v;

	if (cmd_parse_u64(what, s, min, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int cmd_parse_list(const char *what, const char *s, unsigned *out, unsigned max)
{
	char *dup = strdup(s), *save = NULL, *tok;
	int n = 0;

	if (!dup)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t a, b;

		if (dash)
			*dash = '\0';
		if (cmd_parse_u32(what, tok, 0, 4095, &a) ||
		    (dash && cmd_parse_u32(what, dash + 1, a, 4095, &b)))
			goto bad;
		if (!dash)
			b = a;
		for (uint32_t i = a; i <= b; i++) {
			if ((unsigned)n >= max) {
				cmd_err("too many entries in %s (max %u)", what,
					max);
				goto bad;
			}
			out[n++] = i;
		}
	}
	free(dup);
	if (!n)
		cmd_err("empty %s", what);
	return n ? n : -1;
bad:
	free(dup);
	return -1;
}

/* the long option @name (or a unique abbreviation of it, as getopt_long
 * takes it), or NULL */
static const struct option *find_long(const struct option *lo, const char *name,
				      size_t len)
{
	const struct option *hit = NULL;

	for (; lo && lo->name; lo++) {
		if (strncmp(lo->name, name, len))
			continue;
		if (strlen(lo->name) == len)
			return lo;
		if (hit)
			return NULL; /* ambiguous */
		hit = lo;
	}
	return hit;
}

int cmd_bad_option(const char *cmd, char **argv, const char *shortopts,
		   const struct option *lo)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char what[160];

	if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct option *o = find_long(lo, name, len);

		if (!o)
			snprintf(what, sizeof(what),
				 "unrecognized option '%.*s'", (int)(len + 2),
				 arg);
		else if (o->has_arg == no_argument && eq)
			snprintf(what, sizeof(what),
				 "option '--%s' takes no argument", o->name);
		else
			snprintf(what, sizeof(what),
				 "option '--%s' needs an argument", o->name);
	} else if (optopt && strchr(shortopts, optopt)) {
		snprintf(what, sizeof(what), "option '-%c' needs an argument",
			 optopt);
	} else if (optopt > ' ' && optopt < 127) {
		snprintf(what, sizeof(what), "unknown option '-%c'", optopt);
	} else {
		snprintf(what, sizeof(what), "unrecognized option '%s'", arg);
	}
	fprintf(stderr, "wirecap %s: %s (see 'wirecap %s --help')\n", cmd, what,
		cmd);
	return 2;
}

int cmd_check_ifname(const char *name)
{
	if (!name || !*name)
		return cmd_err_only("empty interface name");
	if (strlen(name) >= IF_NAMESIZE)
		return cmd_err_only(
			"interface name '%s' is too long (%zu characters; at most %d)",
			name, strlen(name), IF_NAMESIZE - 1);
	return 0;
}

static int print_cb(enum wc_print_level level, const char *fmt, va_list ap)
{
	if ((level == WC_INFO && cmd_verbosity < 1) ||
	    (level == WC_DEBUG && cmd_verbosity < 2))
		return 0;
	if (level == WC_WARN && defer_warn && cmd_verbosity < 1) {
		size_t n;

		vsnprintf(pending_warn, sizeof(pending_warn), fmt, ap);
		n = strlen(pending_warn);
		while (n && pending_warn[n - 1] == '\n')
			pending_warn[--n] = '\0';
		return 0;
	}
	fputs(level == WC_WARN ? "wirecap: warning: " : "wirecap: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* libbpf's own lines (verifier logs, kernel error strings) only with -v */
static int libbpf_print_cb(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	if (cmd_verbosity < 1 || (level == LIBBPF_DEBUG && cmd_verbosity < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cmd_setup_logging(void)
{
	const char *d = getenv("WIRECAP_DEBUG");

	if (d && *d && cmd_verbosity < 2)
		cmd_verbosity = 2;
	wc_set_print(print_cb);
	libbpf_set_print(libbpf_print_cb);
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("wirecap %s (libwirecap-xdp %s)\n", WC_VERSION,
			       wc_version());
			return 0;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-v") ||
			   !strcmp(argv[i], "--verbose")) {
			cmd_verbosity++;
		} else if (!strcmp(argv[i], "-vv")) {
			cmd_verbosity += 2;
		} else {
			return cmd_err(
				"unknown option '%s' (see 'wirecap --help')",
				argv[i]);
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd_setup_logging();
	/* an unknown option is one line (cmd_bad_option), not getopt's
	 * message followed by the usage */
	opterr = 0;
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (!strcmp(argv[i], cmds[c].name))
			return cmds[c].fn(argc - i, argv + i);
	return cmd_err("unknown command '%s' (see 'wirecap --help')", argv[i]);
}
