// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap exec [ENGINE OPTIONS] -- CMD [ARGS]: run an unmodified libpcap
 * program with libwirecap-pcap.so preloaded, so that its devices named
 * "wirecap:IFACE" capture through a wirecap engine. The engine options
 * (checked here) reach the library in WIRECAP_PCAP_OPTS, after any the
 * environment already had (later ones win); CMD replaces this process.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cmd.h"
#include "report.h"
#include "params.h"

#define PCAP_LIB "libwirecap-pcap.so"
#define OPTS_ENV "WIRECAP_PCAP_OPTS"
#ifndef WC_LIBDIR
#define WC_LIBDIR "/usr/local/lib"
#endif

/* The library: $WIRECAP_PCAP_LIB, else next to this executable (the build
 * directory, or an installed bin/../lib), else the installed LIBDIR. */
static int find_lib(char *out, size_t len)
{
	const char *env = getenv("WIRECAP_PCAP_LIB");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		if (env[0] != '/' || access(env, R_OK))
			return cmd_err(
				"WIRECAP_PCAP_LIB=%s: not a readable absolute path",
				env);
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		dir = dirname(exe);
		snprintf(out, len, "%s/%s", dir, PCAP_LIB);
		if (!access(out, R_OK))
			return 0;
		snprintf(out, len, "%s/../lib/%s", dir, PCAP_LIB);
		if (!access(out, R_OK))
			return 0;
	}
	snprintf(out, len, "%s/%s", WC_LIBDIR, PCAP_LIB);
	if (!access(out, R_OK))
		return 0;
	return cmd_err("cannot find %s (set WIRECAP_PCAP_LIB to its path)",
		       PCAP_LIB);
}

/* "NAME VALUE" appended to @buf (the values were checked: no blanks) */
static int add_opt(char **buf, const char *name, const char *val)
{
	char *n;

	if (strpbrk(val, " \t\n"))
		return cmd_err("invalid --%s '%s'", name, val);
	if (asprintf(&n, "%s%s--%s %s", *buf ? *buf : "", *buf ? " " : "", name,
		     val) < 0)
		return cmd_err("out of memory");
	free(*buf);
	*buf = n;
	return 0;
}

static int set_env(const char *lib, const char *opts)
{
	const char *pre = getenv("LD_PRELOAD"), *old = getenv(OPTS_ENV);
	char *v;

	/* after the ones already there: they keep their precedence (a
	 * sanitizer runtime must come first), and every preload comes
	 * before libpcap anyway */
	if (asprintf(&v, "%s%s%s", pre ? pre : "", pre && *pre ? " " : "",
		     lib) < 0 ||
	    setenv("LD_PRELOAD", v, 1))
		return cmd_err("cannot set LD_PRELOAD");
	free(v);
	if (!opts)
		return 0;
	if (asprintf(&v, "%s%s%s", old && *old ? old : "",
		     old && *old ? " " : "", opts) < 0 ||
	    setenv(OPTS_ENV, v, 1))
		return cmd_err("cannot set %s", OPTS_ENV);
	free(v);
	return 0;
}

/* @cmd as execvp finds it, in @out; false when it is not found */
static bool resolve(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *dup, *save = NULL, *dir;
	bool found = false;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return true;
	}
	dup = strdup(path ? path : "/usr/bin:/bin");
	for (dir = dup ? strtok_r(dup, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", *dir ? dir : ".", cmd);
		found = !access(out, X_OK);
	}
	free(dup);
	return found;
}

/* The dynamic loader ignores LD_PRELOAD for setuid/setgid programs and
 * programs with file capabilities (secure execution): say so, once. */
static void warn_secure_exec(const char *cmd)
{
	char path[PATH_MAX];
	struct stat st;

	if (!resolve(cmd, path, sizeof(path)) || stat(path, &st))
		return;
	if ((st.st_mode & (S_ISUID | S_ISGID)) ||
	    getxattr(path, "security.capability", NULL, 0) > 0)
		fprintf(stderr,
			"wirecap: warning: %s is setuid/setgid or has file capabilities: the loader ignores LD_PRELOAD for it (secure execution), its wirecap: devices will not work; run a copy without them as root\n",
			path);
}

struct exec_opts {
	struct engine_args ea;
	uint32_t reorder_ms; /* checked here, read by the library */
	char *opts; /* the options as "--name value ..." for OPTS_ENV */
};

/* every engine option is passed on to the library in OPTS_ENV */
static int pass_on(void *cfg, const struct param *p, const char *arg)
{
	struct exec_opts *x = cfg;

	return add_opt(&x->opts, p->name, arg);
}

static const struct param exec_params[] = {
	PARAM_INCLUDE(engine_params, struct exec_opts, ea),
	PARAM_U32(0, "reorder-ms", "MS",
		  "time-order window across queues (250; 0: none)",
		  struct exec_opts, reorder_ms, 0, 10000, "--reorder-ms"),
	{ .name = "help", .short_opt = 'h', .help = "", .set = param_help },
	PARAM_END,
};

static const struct params_cmd exec_cmd = {
	.name = "exec",
	.head = "Usage: wirecap exec [OPTIONS] -- CMD [ARGS]\n"
		"Run a libpcap program (tcpdump, tshark, nfpcapd...) with its devices\n"
		"named wirecap:IFACE served by a wirecap engine (" PCAP_LIB
		" preloaded).\n"
		"Engine options (as capture takes them; also read from $" OPTS_ENV
		"):\n",
	.tail = "Setuid and file-capability programs ignore LD_PRELOAD; statically\n"
		"linked ones cannot be served (see README).\n",
	.params = exec_params,
	/* the first non-option is CMD (its own options are its own) */
	.in_order = true,
	.after = pass_on,
};

int cmd_exec(int argc, char **argv)
{
	struct exec_opts x = { .opts = NULL };
	char lib[PATH_MAX];
	int rc;

	engine_args_init(&x.ea);
	if (params_parse(&exec_cmd, &x, argc, argv, &rc))
		return rc;
	if (optind >= argc)
		return cmd_err(
			"exec: no command given (wirecap exec -- CMD [ARGS])");
	if (find_lib(lib, sizeof(lib)) || set_env(lib, x.opts))
		return 1;
	free(x.opts);
	warn_secure_exec(argv[optind]);
	execvp(argv[optind], argv + optind);
	return cmd_err("cannot run %s: %s", argv[optind], strerror(errno));
}
