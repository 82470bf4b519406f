/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* wirecap CLI: one file per sub-command, each exporting cmd_<name>(). */
#ifndef WIRECAP_CMD_H
#define WIRECAP_CMD_H

#include <stdbool.h>
#include <stdint.h>

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_replay(int argc, char **argv);

/* Print "wirecap: <msg>" on stderr (one line) and return 1, the exit
 * status of every failed command. */
int cmd_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cmd_err appends a library warning held back during set-up in
 * parentheses, as the detail of a general message. When the library's
 * warning is the explanation, cmd_err_lib prints it alone (and the
 * message only when there is none, e.g. with -v where it printed at
 * once); when the message is complete by itself, cmd_err_only drops it. */
int cmd_err_lib(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cmd_err_only(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* getopt_long returned '?' (opterr is 0): one line on stderr, "wirecap
 * CMD: unrecognized option '--x' (see 'wirecap CMD --help')" (or the
 * option that needs an argument), as git and tcpdump do, instead of the
 * whole usage; returns 2, the exit status of a usage error. */
struct option;
int cmd_bad_option(const char *cmd, char **argv, const char *shortopts,
		   const struct option *lo);

/* An interface name the kernel can take: not empty, at most IFNAMSIZ - 1
 * characters. 0, or 1 after a one-line error. */
int cmd_check_ifname(const char *name);

/* Strict number parsing: the whole string, within [min, max]; on error
 * prints "wirecap: invalid <what>: '<s>'" and returns -1. */
int cmd_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max,
		  uint64_t *out);
int cmd_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
		  uint32_t *out);
/* "0,2-3" -> list of CPUs/queues; returns count or -1 */
int cmd_parse_list(const char *what, const char *s, unsigned *out,
		   unsigned max);

/* Logging callback for libwirecap-xdp: warnings always, info with -v,
 * debug with -vv (global --verbose / WIRECAP_DEBUG=1). */
extern int cmd_verbosity;
void cmd_setup_logging(void);
/* --ready-file: create PATH (if not NULL) once the engine runs, so a
 * script knows when to start sending. On failure: one line, returns 1
 * (the caller stops: a script would wait for the file forever). */
int cmd_ready_file(const char *path);

/* Before anything is set up: can @path (an output written later, e.g.
 * --stats-json, --ready-file; NULL and "-" pass) be written? Neither
 * creates nor changes it. 0, or 1 after a one-line error naming @what. */
int cmd_check_output(const char *what, const char *path);

/* SIGINT, SIGTERM and SIGHUP (a closed terminal, an SSH disconnect) call
 * @fn, so every long-running command stops cleanly, with its summary, on
 * each (as tcpdump does); SIGPIPE is ignored (a vanished reader is a write
 * error). @restart: SA_RESTART (interrupted system calls resume). NULL
 * restores the defaults (SIGPIPE stays ignored). */
void cmd_stop_signals(void (*fn)(int), bool restart);

/* Set-up is over: held-back library warnings print now, later ones at
 * once. Call after the engine / attachment is up. */
void cmd_setup_done(void);

#endif
