// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* JSON output helpers over json-c (see json.h) */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cmd.h"
#include "json.h"

json_t *jobj(void)
{
	return json_object_new_object();
}

json_t *jarr(void)
{
	return json_object_new_array();
}

/* the number is serialized exactly as formatted (json-c's own format is
 * "%.17g": 0.1 would print as 0.10000000000000001) */
static json_t *jdouble_as(double v, const char *buf)
{
	return isfinite(v) ? json_object_new_double_s(v, buf) : NULL;
}

json_t *jfixed(double v, int prec)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", prec, v);
	return jdouble_as(v, buf);
}

void jset(json_t *o, const char *key, json_t *v)
{
	json_object_object_add(o, key, v);
}

void jset_u64(json_t *o, const char *key, uint64_t v)
{
	jset(o, key, json_object_new_uint64(v));
}

void jset_i64(json_t *o, const char *key, int64_t v)
{
	jset(o, key, json_object_new_int64(v));
}

void jset_bool(json_t *o, const char *key, bool v)
{
	jset(o, key, json_object_new_boolean(v));
}

void jset_str(json_t *o, const char *key, const char *s)
{
	jset(o, key, s ? json_object_new_string(s) : NULL);
}

void jset_fixed(json_t *o, const char *key, double v, int prec)
{
	jset(o, key, jfixed(v, prec));
}

void jset_g(json_t *o, const char *key, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%g", v);
	jset(o, key, jdouble_as(v, buf));
}

void jset_fixed_or_null(json_t *o, const char *key, bool have, double v,
			int prec)
{
	jset(o, key, have ? jfixed(v, prec) : NULL);
}

void jpush(json_t *a, json_t *v)
{
	json_object_array_add(a, v);
}

int jprint(json_t *o, FILE *f)
{
	const char *s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = 0;

	if (!s) {
		errno = ENOMEM;
		rc = -1;
	} else if (fputs(s, f) == EOF || fputc('\n', f) == EOF) {
		rc = -1;
	}
	json_object_put(o);
	return rc;
}

int jwrite(json_t *o, const char *path)
{
	bool out = !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "w");
	int rc;

	if (!f) {
		json_object_put(o);
		return cmd_err("cannot write %s: %s", path, strerror(errno));
	}
	rc = jprint(o, f);
	if (out)
		rc = fflush(f) || rc;
	else
		rc = fclose(f) || rc;
	if (rc)
		return cmd_err("cannot write %s: %s", path, strerror(errno));
	return 0;
}
