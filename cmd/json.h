/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* JSON output of the CLI through json-c: every string is escaped by the
 * library, so any interface or file name gives valid JSON. Objects keep
 * their keys in insertion order; one object per line. */
#ifndef WIRECAP_CMD_JSON_H
#define WIRECAP_CMD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

typedef struct json_object json_t;

json_t *jobj(void);
json_t *jarr(void);
/* a number printed with @prec decimals as today ("%.3f"); null when not
 * finite (inf/nan are not JSON) */
json_t *jfixed(double v, int prec);

/* o[key] = value (the set functions take ownership of @v) */
void jset(json_t *o, const char *key, json_t *v);
void jset_u64(json_t *o, const char *key, uint64_t v);
void jset_i64(json_t *o, const char *key, int64_t v);
void jset_bool(json_t *o, const char *key, bool v);
/* NULL prints null */
void jset_str(json_t *o, const char *key, const char *s);
void jset_fixed(json_t *o, const char *key, double v, int prec);
/* a number printed as "%g" (short, as today) */
void jset_g(json_t *o, const char *key, double v);
/* v when @have, null otherwise */
void jset_fixed_or_null(json_t *o, const char *key, bool have, double v,
			int prec);
void jpush(json_t *a, json_t *v);

/* print @o on one line plus a newline, then free it; 0 or -1 (errno) */
int jprint(json_t *o, FILE *f);
/* write @o to @path ('-': stdout, flushed) and free it; on error a
 * one-line message and cmd_err's non-zero return */
int jwrite(json_t *o, const char *path);

#endif
