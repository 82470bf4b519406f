/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Option tables of the sub-commands: each option once, with its short and
 * long name, its argument, its help text and how it is parsed (the idea of
 * xdp-tools' params). The parser runs getopt_long over the table and the
 * help text is printed from it, so the two cannot drift apart. */
#ifndef WIRECAP_CMD_PARAMS_H
#define WIRECAP_CMD_PARAMS_H

#include <getopt.h> /* optind: the first operand after params_parse */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct param;

/* Store @arg (NULL for a flag) in @cfg, the command's options (or the
 * part a fragment covers). 0, or -1 after a one-line error (exit 1). */
typedef int (*param_set_fn)(void *cfg, const struct param *p, const char *arg);

struct param {
	const char *name; /* long option, or NULL */
	int short_opt; /* short option, or 0 */
	const char *arg; /* name of the argument in the help; NULL: a flag */
	/* help text, '\n' continues on an indented line; an entry with
	 * neither name nor short option is a line of text in the help */
	const char *help;
	param_set_fn set;
	size_t off; /* the value's offset in cfg (typed setters) */
	uint64_t min, max; /* numbers: the range */
	const char *what; /* numbers: how an error names the option */
	const struct param *include; /* a fragment, at cfg + off */
};

/* A command: its name, its help around the options, its table. */
struct params_cmd {
	const char *name;
	const char *head; /* usage lines before the options */
	const char *tail; /* lines after them, or NULL */
	const struct param *params;
	bool in_order; /* stop at the first non-option ("+") */
	/* printed on stderr for an unknown option (exit 2) instead of the
	 * one line naming it, or NULL */
	const char *bad_option_usage;
	/* called after each option was set (e.g. to pass it on), or NULL */
	int (*after)(void *cfg, const struct param *p, const char *arg);
};

/* Typed setters: the value at cfg + p->off */
int param_set_flag(void *cfg, const struct param *p, const char *arg);
int param_set_str(void *cfg, const struct param *p, const char *arg);
int param_set_u32(void *cfg, const struct param *p, const char *arg);
int param_set_u64(void *cfg, const struct param *p, const char *arg);
/* a number that must also be a power of two ("invalid WHAT N: must be a
 * power of two") */
int param_set_u32_pow2(void *cfg, const struct param *p, const char *arg);

/* A word among choices: @v found in @w (ended by a NULL word) stores its
 * value in the int at @at; else "invalid --NAME 'v' (@choices)" */
struct param_word {
	const char *word;
	int val;
};
int param_set_word(void *at, const struct param *p, const char *v,
		   const struct param_word *w, const char *choices);

/* -h, --help: the help on stdout, exit 0 */
int param_help(void *cfg, const struct param *p, const char *arg);

/* offsetof(type, field), refused at compile time unless the field has
 * the size the setter writes */
#define PARAM_OFF(type, field, size) \
	(offsetof(type, field) +     \
	 0 * sizeof(char[sizeof(((type *)0)->field) == (size) ? 1 : -1]))

#define PARAM_TEXT(t)       \
	{                   \
		.help = (t) \
	}
#define PARAM_FLAG(s, n, h, type, field)                    \
	{                                                   \
		.name = (n), .short_opt = (s), .help = (h), \
		.set = param_set_flag,                      \
		.off = PARAM_OFF(type, field, sizeof(bool)) \
	}
#define PARAM_STR(s, n, a, h, type, field)                              \
	{                                                               \
		.name = (n), .short_opt = (s), .arg = (a), .help = (h), \
		.set = param_set_str,                                   \
		.off = PARAM_OFF(type, field, sizeof(char *))           \
	}
#define PARAM_U32(s, n, a, h, type, field, lo, hi, w)                   \
	{                                                               \
		.name = (n), .short_opt = (s), .arg = (a), .help = (h), \
		.set = param_set_u32, .off = PARAM_OFF(type, field, 4), \
		.min = (lo), .max = (hi), .what = (w)                   \
	}
#define PARAM_U64(s, n, a, h, type, field, lo, hi, w)                   \
	{                                                               \
		.name = (n), .short_opt = (s), .arg = (a), .help = (h), \
		.set = param_set_u64, .off = PARAM_OFF(type, field, 8), \
		.min = (lo), .max = (hi), .what = (w)                   \
	}
#define PARAM_FN(s, n, a, h, fn)                                        \
	{                                                               \
		.name = (n), .short_opt = (s), .arg = (a), .help = (h), \
		.set = (fn)                                             \
	}
#define PARAM_INCLUDE(tbl, type, field)                        \
	{                                                      \
		.include = (tbl), .off = offsetof(type, field) \
	}
#define PARAM_HELP                                                  \
	{                                                           \
		.name = "help", .short_opt = 'h', .set = param_help \
	}
#define PARAM_END \
	{         \
		0 \
	}

/* Parse the options of argv (argv[0] is the command's name). Returns 0
 * with optind at the first operand; or 1 when the command ends now with
 * *rc: 0 after --help, 1 after a bad value, 2 after an unknown option or a
 * missing argument (one line, "see 'wirecap CMD --help'"). */
int params_parse(const struct params_cmd *c, void *cfg, int argc, char **argv,
		 int *rc);
/* The help of @c, generated from its table */
void params_usage(const struct params_cmd *c, FILE *f);

#endif
