// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The option tables of params.h: getopt_long arrays built from a table
 * (fragments included), each option's setter, the help text. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "params.h"

#define MAX_OPTS 96
#define HELP_COL 25 /* where the help of an option starts */

/* the table flattened: each option with the offset of its fragment, and
 * the option of each getopt_long entry */
struct flat {
	const struct param *p[MAX_OPTS];
	size_t off[MAX_OPTS];
	unsigned n;
	int of_long[MAX_OPTS];
};

static void flatten(struct flat *f, const struct param *t, size_t off)
{
	for (; t->name || t->short_opt || t->help || t->include; t++) {
		if (t->include)
			flatten(f, t->include, off + t->off);
		else if ((t->name || t->short_opt) && f->n < MAX_OPTS) {
			f->p[f->n] = t;
			f->off[f->n++] = off;
		}
	}
}

/* Long-only options all return 0 (the entry is getopt's long index), as
 * hand-written tables had them: getopt_long then takes an abbreviation
 * shared by such options as the first of them, as before. */
static void build(const struct params_cmd *c, struct flat *f, struct option *lo,
		  char *so)
{
	unsigned nl = 0;

	if (c->in_order)
		*so++ = '+';
	for (unsigned i = 0; i < f->n; i++) {
		const struct param *p = f->p[i];
		int val = p->short_opt;

		if (p->short_opt) {
			*so++ = (char)p->short_opt;
			if (p->arg)
				*so++ = ':';
		}
		if (p->name) {
			f->of_long[nl] = (int)i;
			lo[nl++] = (struct option){ p->name,
						    p->arg ? required_argument :
							     no_argument,
						    NULL, val };
		}
	}
	*so = '\0';
	lo[nl] = (struct option){ 0 };
}

static int find(const struct flat *f, int val, int idx)
{
	if (!val)
		return f->of_long[idx];
	for (unsigned i = 0; i < f->n; i++)
		if (f->p[i]->short_opt == val)
			return (int)i;
	return -1;
}

int params_parse(const struct params_cmd *c, void *cfg, int argc, char **argv,
		 int *rc)
{
	struct flat f = { .n = 0 };
	struct option lo[MAX_OPTS + 1];
	char so[2 * MAX_OPTS + 2];
	int val, i, idx;

	flatten(&f, c->params, 0);
	build(c, &f, lo, so);
	optind = 0; /* a fresh scan (and "+" read again) */
	while ((val = getopt_long(argc, argv, so, lo, &idx)) != -1) {
		void *at;

		i = find(&f, val, idx);
		if ((val == '?' || i < 0) && c->bad_option_usage) {
			fputs(c->bad_option_usage, stderr);
			*rc = 2;
			return 1;
		}
		if (val == '?' || i < 0) {
			*rc = cmd_bad_option(c->name, argv,
					     so[0] == '+' ? so + 1 : so, lo);
			return 1;
		}
		if (f.p[i]->set == param_help) {
			params_usage(c, stdout);
			*rc = 0;
			return 1;
		}
		at = (char *)cfg + f.off[i];
		if (f.p[i]->set(at, f.p[i], optarg) ||
		    (c->after && c->after(cfg, f.p[i], optarg))) {
			*rc = 1;
			return 1;
		}
	}
	return 0;
}

int param_set_flag(void *cfg, const struct param *p, const char *arg)
{
	(void)arg;
	*(bool *)((char *)cfg + p->off) = true;
	return 0;
}

int param_set_str(void *cfg, const struct param *p, const char *arg)
{
	*(const char **)((char *)cfg + p->off) = arg;
	return 0;
}

int param_set_u32(void *cfg, const struct param *p, const char *arg)
{
	return cmd_parse_u32(p->what, arg, (uint32_t)p->min, (uint32_t)p->max,
			     (uint32_t *)((char *)cfg + p->off));
}

int param_set_u64(void *cfg, const struct param *p, const char *arg)
{
	return cmd_parse_u64(p->what, arg, p->min, p->max,
			     (uint64_t *)((char *)cfg + p->off));
}

int param_set_u32_pow2(void *cfg, const struct param *p, const char *arg)
{
	uint32_t *x = (uint32_t *)((char *)cfg + p->off);

	if (param_set_u32(cfg, p, arg))
		return -1;
	if (*x & (*x - 1))
		return cmd_err("invalid %s %u: must be a power of two", p->what,
			       *x),
		       -1;
	return 0;
}

int param_set_word(void *at, const struct param *p, const char *v,
		   const struct param_word *w, const char *choices)
{
	for (; w->word; w++)
		if (!strcmp(v, w->word)) {
			*(int *)at = w->val;
			return 0;
		}
	return cmd_err("invalid --%s '%s' (%s)", p->name, v, choices), -1;
}

int param_help(void *cfg, const struct param *p, const char *arg)
{
	(void)cfg;
	(void)p;
	(void)arg;
	return 0; /* params_parse prints the help */
}

/* "  -c, --count N" then the help, its continuation lines indented */
static void usage_one(const struct param *p, FILE *f)
{
	const char *h = p->help, *nl;
	int len;

	if (p->short_opt && p->name)
		len = fprintf(f, "  -%c, --%s", p->short_opt, p->name);
	else if (p->short_opt)
		len = fprintf(f, "  -%c", p->short_opt);
	else
		len = fprintf(f, "      --%s", p->name);
	if (p->arg)
		len += fprintf(f, " %s", p->arg);
	if (!*h) {
		fputc('\n', f);
		return;
	}
	fprintf(f, "%*s", len < HELP_COL ? HELP_COL - len : 1, "");
	while ((nl = strchr(h, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
		h = nl + 1;
	}
	fprintf(f, "%s\n", h);
}

static void usage_table(const struct param *t, FILE *f)
{
	for (; t->name || t->short_opt || t->help || t->include; t++) {
		if (t->include)
			usage_table(t->include, f);
		else if (!t->help)
			continue; /* not listed */
		else if (!t->name && !t->short_opt)
			fputs(t->help, f);
		else
			usage_one(t, f);
	}
}

void params_usage(const struct params_cmd *c, FILE *f)
{
	fputs(c->head, f);
	usage_table(c->params, f);
	if (c->tail)
		fputs(c->tail, f);
}
