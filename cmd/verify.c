// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap verify: read a pcap / pcapng file, find the test packets of
 * `wirecap gen` and check them: lost, duplicated, reordered.
 *
 * The two directions of a flow (gen and gen --reverse) carry the same flow id
 * and sequence numbers, so each direction has its own tracker.
 * Expectations come from --expect N (with --flows / --flow-base / --reverse)
 * or from generator JSON summaries (--expect-json, repeatable): flow i of
 * F expects count/F + (i < count % F) packets, because gen sends packet k on
 * flow k mod F.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "seq.h"
#include "params.h"

#define MAX_SOURCES 16
#define REPORT_FLOWS 5

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

struct source {
	bool reverse;
	uint32_t base, flows;
	uint64_t count;
	const char *from; /* file name or "--expect" */
};

struct dir {
	const char *name;
	bool has_exp;
	uint32_t base, nflows;
	uint64_t expected; /* total over sources */
	uint64_t uncovered; /* in a gap between sources: foreign */
	struct wc_seqtrack *t;
	struct wc_seqtrack_result r;
};

struct verify {
	struct source src[MAX_SOURCES];
	unsigned nsrc;
	struct dir dir[2];
	uint64_t packets, non_payload;

	/* the options (verify_params) */
	uint64_t expect;
	uint32_t flows, base;
	bool have_expect, json, reverse;
	const char *file;
	/* the result */
	struct wc_seqtrack_result tot;
	bool any_exp;
	char reason[512];
};

/* An unsigned integer of the summary written by `wirecap gen` */
static int json_u64(json_t *o, const char *key, uint64_t max, uint64_t *out,
		    bool required, const char *file)
{
	json_t *val;
	uint64_t x;

	if (!json_object_object_get_ex(o, key, &val)) {
		if (required)
			return cmd_err("%s: no \"%s\" in the JSON summary",
				       file, key),
			       -1;
		return 0;
	}
	x = json_object_get_uint64(val);
	if (!json_object_is_type(val, json_type_int) ||
	    json_object_get_int64(val) < 0 || x > max)
		return cmd_err("%s: invalid \"%s\" in the JSON summary", file,
			       key),
		       -1;
	*out = x;
	return 0;
}

static int load_json(struct verify *v, const char *file)
{
	struct source *s = &v->src[v->nsrc];
	uint64_t sent = 0, flows = 0, base = 0;
	json_t *o, *rev;
	FILE *f;
	int err;

	if (v->nsrc == MAX_SOURCES)
		return cmd_err("too many expectations (max %d)", MAX_SOURCES);
	f = !strcmp(file, "-") ? stdin : fopen(file, "r");
	if (!f)
		return cmd_err("cannot open %s: %s", file, strerror(errno));
	o = json_object_from_fd(fileno(f));
	if (f != stdin)
		fclose(f);
	if (!json_object_is_type(o, json_type_object)) {
		const char *why = json_util_get_last_err();

		json_object_put(o);
		/* json-c's message ends with a newline */
		return cmd_err("%s: not a JSON summary of wirecap gen (%.*s)",
			       file, why ? (int)strcspn(why, "\n") : 0,
			       why ? why : "");
	}
	err = json_u64(o, "sent", UINT64_MAX, &sent, true, file) ||
	      json_u64(o, "flows", WC_SEQTRACK_MAX_FLOWS, &flows, true, file) ||
	      json_u64(o, "flow_base", UINT32_MAX, &base, false, file);
	s->reverse = json_object_object_get_ex(o, "reverse", &rev) &&
		     json_object_is_type(rev, json_type_boolean) &&
		     json_object_get_boolean(rev);
	json_object_put(o);
	if (err)
		return -1;
	if (!flows || base + flows - 1 > UINT32_MAX)
		return cmd_err("%s: invalid flow range in the JSON summary",
			       file);
	s->count = sent;
	s->flows = (uint32_t)flows;
	s->base = (uint32_t)base;
	s->from = file;
	v->nsrc++;
	return 0;
}

/* Size each direction's tracker to its expectations and set them. */
static int setup_dirs(struct verify *v, uint32_t opt_base, uint32_t opt_flows)
{
	for (int d = 0; d < 2; d++) {
		struct dir *dir = &v->dir[d];
		uint64_t lo = UINT64_MAX, hi = 0;

		dir->name = d ? "reverse" : "forward";
		for (unsigned i = 0; i < v->nsrc; i++) {
			struct source *s = &v->src[i];

			if (s->reverse != (d == 1))
				continue;
			for (unsigned j = 0; j < i; j++) {
				struct source *o = &v->src[j];

				if (o->reverse == s->reverse &&
				    s->base < (uint64_t)o->base + o->flows &&
				    o->base < (uint64_t)s->base + s->flows)
					return cmd_err(
						"%s and %s: overlapping "
						"flow ids in one direction",
						o->from, s->from);
			}
			dir->has_exp = true;
			dir->expected += s->count;
			if (s->base < lo)
				lo = s->base;
			if ((uint64_t)s->base + s->flows > hi)
				hi = (uint64_t)s->base + s->flows;
		}
		if (dir->has_exp) {
			if (hi - lo > WC_SEQTRACK_MAX_FLOWS)
				return cmd_err(
					"%s flow ids %llu..%llu: range too "
					"large (max %u)",
					dir->name, (unsigned long long)lo,
					(unsigned long long)hi - 1,
					WC_SEQTRACK_MAX_FLOWS);
			dir->base = (uint32_t)lo;
			dir->nflows = (uint32_t)(hi - lo);
		} else {
			uint64_t room = (1ULL << 32) - opt_base;

			dir->base = opt_base;
			dir->nflows =
				opt_flows ? opt_flows : WC_SEQTRACK_MAX_FLOWS;
			if (dir->nflows > room)
				dir->nflows = (uint32_t)room;
		}
		dir->t = wc_seqtrack_new(dir->nflows);
		if (!dir->t)
			return cmd_err("out of memory");
		for (unsigned i = 0; i < v->nsrc; i++) {
			struct source *s = &v->src[i];

			if (s->reverse != (d == 1))
				continue;
			for (uint32_t f = 0; f < s->flows; f++) {
				uint64_t c = s->count / s->flows +
					     (f < s->count % s->flows);

				if (wc_seqtrack_set_expected(
					    dir->t, s->base + f - dir->base, c))
					return cmd_err("cannot expect %llu "
						       "packets on flow %u",
						       (unsigned long long)c,
						       s->base + f);
			}
		}
	}
	return 0;
}

static bool covered(const struct verify *v, bool reverse, uint32_t flow)
{
	for (unsigned i = 0; i < v->nsrc; i++) {
		const struct source *s = &v->src[i];

		if (s->reverse == reverse && flow >= s->base &&
		    flow - s->base < s->flows)
			return true;
	}
	return false;
}

static int parse_packet(int dlt, const uint8_t *p, uint32_t len,
			struct wc_seq_info *info)
{
	switch (dlt) {
	case DLT_EN10MB:
		return wc_seq_parse(p, len, info);
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		return wc_seq_parse_l3((uint16_t)(p[14] << 8 | p[15]), p + 16,
				       len - 16, info);
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		return wc_seq_parse_l3((uint16_t)(p[0] << 8 | p[1]), p + 20,
				       len - 20, info);
	default: /* DLT_RAW, DLT_IPV4 */
		return wc_seq_parse_l3(0x0800, p, len, info);
	}
}

static int read_file(struct verify *v, const char *file, char *rerr,
		     size_t rerr_len)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int dlt, rc;

	p = pcap_open_offline(file, errbuf);
	if (!p)
		return cmd_err("cannot read %s: %s", file, errbuf);
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB && dlt != DLT_LINUX_SLL &&
	    dlt != DLT_LINUX_SLL2 && dlt != DLT_RAW && dlt != DLT_IPV4) {
		pcap_close(p);
		return cmd_err("%s: unsupported link type %s", file,
			       pcap_datalink_val_to_name(dlt) ?
				       pcap_datalink_val_to_name(dlt) :
				       "?");
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		struct wc_seq_info info;
		struct dir *d;

		v->packets++;
		if (parse_packet(dlt, data, h->caplen, &info)) {
			v->non_payload++;
			continue;
		}
		d = &v->dir[info.reverse];
		if (d->has_exp && !covered(v, info.reverse, info.flow)) {
			d->uncovered++;
			continue;
		}
		/* flows below the base wrap around to foreign ids */
		if (wc_seqtrack_feed(d->t, info.flow - d->base, info.seq)) {
			pcap_close(p);
			return cmd_err("out of memory after %llu packets",
				       (unsigned long long)v->packets);
		}
	}
	/* A damaged file still yields its readable packets: report them,
	 * then fail. */
	if (rc == -1)
		snprintf(rerr, rerr_len,
			 "%s: read error after %llu packets: %s", file,
			 (unsigned long long)v->packets, pcap_geterr(p));
	pcap_close(p);
	return 0;
}

static json_t *dir_json(const struct wc_seqtrack_result *r, const struct dir *d)
{
	json_t *o = jobj();

	jset_u64(o, "received", r->received);
	jset_u64(o, "unique", r->unique);
	jset_u64(o, "lost", r->lost);
	jset_u64(o, "duplicates", r->duplicates);
	jset_u64(o, "reordered", r->reordered);
	jset_u64(o, "excess", r->excess);
	jset_u64(o, "foreign", r->foreign + d->uncovered);
	jset_u64(o, "flows_seen", r->flows_seen);
	if (d->has_exp)
		jset_u64(o, "expected", d->expected);
	return o;
}

/* Print the first few flows that lost, duplicated or reordered packets */
static void report_flows(const struct verify *v)
{
	unsigned shown = 0;

	for (int di = 0; di < 2; di++) {
		const struct dir *d = &v->dir[di];

		for (uint32_t f = 0; f < d->nflows && shown < REPORT_FLOWS;
		     f++) {
			struct wc_seqtrack_flow r;

			if (wc_seqtrack_flow_result(d->t, f, &r))
				continue;
			if (!r.lost && !r.duplicates && !r.reordered &&
			    !r.excess)
				continue;
			printf("  flow %u (%s): ", d->base + f, d->name);
			if (r.has_expected)
				printf("expected %llu, ",
				       (unsigned long long)r.expected);
			printf("received %llu, unique %llu, lost %llu, "
			       "duplicates %llu, reordered %llu, excess %llu",
			       (unsigned long long)r.received,
			       (unsigned long long)r.unique,
			       (unsigned long long)r.lost,
			       (unsigned long long)r.duplicates,
			       (unsigned long long)r.reordered,
			       (unsigned long long)r.excess);
			if (r.received)
				printf(", highest seq %llu",
				       (unsigned long long)r.highest);
			printf("\n");
			shown++;
		}
	}
}

static int set_expect(void *cfg, const struct param *p, const char *v)
{
	struct verify *vf = cfg;

	if (param_set_u64(cfg, p, v))
		return -1;
	vf->have_expect = true;
	return 0;
}

static int set_expect_json(void *cfg, const struct param *p, const char *v)
{
	(void)p;
	return load_json(cfg, v) ? -1 : 0;
}

#define V struct verify

static const struct param verify_params[] = {
	{ .name = "expect",
	  .arg = "N",
	  .help = "N packets were sent over --flows flows\n"
		  "(default 64) from --flow-base (default 0)",
	  .set = set_expect,
	  .off = offsetof(V, expect),
	  .max = UINT64_MAX / 2,
	  .what = "expected count" },
	PARAM_FLAG(0, "reverse", "--expect describes gen --reverse traffic", V,
		   reverse),
	PARAM_FN(0, "expect-json", "FILE",
		 "take the expectation from gen --json output\n"
		 "(repeatable: one per gen run / direction)",
		 set_expect_json),
	PARAM_U32(0, "flows", "N", "flow ids outside the range are foreign", V,
		  flows, 1, WC_SEQTRACK_MAX_FLOWS, "flows"),
	PARAM_U32(0, "flow-base", "B", "first flow id (default 0)", V, base, 0,
		  UINT32_MAX, "flow base"),
	PARAM_FLAG(0, "json", "print one JSON object on stdout", V, json),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd verify_cmd = {
	.name = "verify",
	.head = "Usage: wirecap verify FILE [options]\n"
		"Check the test packets of `wirecap gen` in a pcap or pcapng file\n"
		"(FILE '-' reads stdin): lost, duplicated and reordered packets.\n\n",
	.tail = "\nWithout an expectation, a flow's loss is counted up to its highest\n"
		"sequence number. Exit status 0 only when nothing is lost,\n"
		"duplicated, reordered or in excess of the expectation.\n",
	.params = verify_params,
};

/* the options, FILE, and --expect as a source. 0, or 1 when the command
 * ends now with *rc. */
static int verify_parse(struct verify *v, int argc, char **argv, int *rc)
{
	struct source *s;

	*rc = 1;
	if (params_parse(&verify_cmd, v, argc, argv, rc))
		return 1;
	if (optind >= argc)
		return cmd_err("verify needs a file (or '-' for stdin)");
	if (argc - optind > 1)
		return cmd_err("unexpected argument '%s'", argv[optind + 1]);
	v->file = argv[optind];
	if (v->reverse && !v->have_expect)
		return cmd_err("--reverse describes --expect: give --expect N");
	if (!v->have_expect)
		return 0;
	if (v->nsrc == MAX_SOURCES)
		return cmd_err("too many expectations (max %d)", MAX_SOURCES);
	s = &v->src[v->nsrc];
	s->count = v->expect;
	s->flows = v->flows ? v->flows : 64;
	s->base = v->base;
	s->reverse = v->reverse;
	s->from = "--expect";
	if ((uint64_t)s->base + s->flows - 1 > UINT32_MAX)
		return cmd_err("flow ids %u..%llu do not fit in 32 bits",
			       v->base,
			       (unsigned long long)v->base + s->flows - 1);
	v->nsrc++;
	return 0;
}

/* both directions added up; v->reason: why it fails ("" when it passes) */
static void verify_judge(struct verify *v, const char *rerr)
{
	struct wc_seqtrack_result *tot = &v->tot;
	char expbuf[24];

	for (int d = 0; d < 2; d++) {
		struct wc_seqtrack_result *r = &v->dir[d].r;

		wc_seqtrack_result(v->dir[d].t, r);
		tot->received += r->received;
		tot->unique += r->unique;
		tot->lost += r->lost;
		tot->duplicates += r->duplicates;
		tot->reordered += r->reordered;
		tot->excess += r->excess;
		tot->flows_seen += r->flows_seen;
		tot->foreign += r->foreign + v->dir[d].uncovered;
	}
	v->any_exp = v->dir[0].has_exp || v->dir[1].has_exp;
	snprintf(expbuf, sizeof(expbuf), "%llu",
		 (unsigned long long)(v->dir[0].expected + v->dir[1].expected));
	if (rerr[0])
		snprintf(v->reason, sizeof(v->reason), "%s", rerr);
	else if (tot->lost || tot->duplicates || tot->reordered || tot->excess)
		snprintf(v->reason, sizeof(v->reason),
			 "%llu lost, %llu duplicated, %llu reordered, %llu in "
			 "excess (%llu received, %llu unique%s%s)",
			 (unsigned long long)tot->lost,
			 (unsigned long long)tot->duplicates,
			 (unsigned long long)tot->reordered,
			 (unsigned long long)tot->excess,
			 (unsigned long long)tot->received,
			 (unsigned long long)tot->unique,
			 v->any_exp ? ", expected " : "",
			 v->any_exp ? expbuf : "");
	else if (!tot->received && !v->any_exp)
		snprintf(v->reason, sizeof(v->reason),
			 "no wirecap test packets in %s (%llu packets read)",
			 v->file, (unsigned long long)v->packets);
}

static void verify_print_json(const struct verify *v)
{
	const struct wc_seqtrack_result *tot = &v->tot;
	json_t *o = jobj();

	jset_str(o, "file", v->file);
	jset_u64(o, "packets", v->packets);
	jset_u64(o, "received", tot->received);
	jset_u64(o, "unique", tot->unique);
	jset_u64(o, "lost", tot->lost);
	jset_u64(o, "duplicates", tot->duplicates);
	jset_u64(o, "reordered", tot->reordered);
	jset_u64(o, "excess", tot->excess);
	jset_u64(o, "foreign", tot->foreign);
	jset_u64(o, "non_payload", v->non_payload);
	jset_u64(o, "flows_seen", tot->flows_seen);
	if (v->any_exp)
		jset_u64(o, "expected",
			 v->dir[0].expected + v->dir[1].expected);
	for (int d = 0; d < 2; d++)
		jset(o, v->dir[d].name, dir_json(&v->dir[d].r, &v->dir[d]));
	jset_bool(o, "ok", !v->reason[0]);
	jprint(o, stdout);
}

static void verify_print_human(const struct verify *v)
{
	const struct wc_seqtrack_result *tot = &v->tot;

	printf("%s: %llu packets, %llu test packets in %llu flows", v->file,
	       (unsigned long long)v->packets,
	       (unsigned long long)tot->received,
	       (unsigned long long)tot->flows_seen);
	if (v->any_exp)
		printf(", %llu expected",
		       (unsigned long long)(v->dir[0].expected +
					    v->dir[1].expected));
	printf("\nunique %llu, lost %llu, duplicates %llu, reordered "
	       "%llu, excess %llu, foreign %llu, non-payload %llu\n",
	       (unsigned long long)tot->unique, (unsigned long long)tot->lost,
	       (unsigned long long)tot->duplicates,
	       (unsigned long long)tot->reordered,
	       (unsigned long long)tot->excess,
	       (unsigned long long)tot->foreign,
	       (unsigned long long)v->non_payload);
	if (v->dir[0].r.received && v->dir[1].r.received)
		for (int d = 0; d < 2; d++)
			printf("  %s: received %llu, unique %llu, "
			       "lost %llu\n",
			       v->dir[d].name,
			       (unsigned long long)v->dir[d].r.received,
			       (unsigned long long)v->dir[d].r.unique,
			       (unsigned long long)v->dir[d].r.lost);
	if (v->reason[0])
		report_flows(v);
	printf("%s\n", v->reason[0] ? "FAIL" : "OK");
}

int cmd_verify(int argc, char **argv)
{
	struct verify v = {};
	char rerr[PCAP_ERRBUF_SIZE + 256] = "";
	int ret = 1;

	if (verify_parse(&v, argc, argv, &ret))
		return ret;
	ret = 1;
	if (setup_dirs(&v, v.base, v.flows))
		goto out;
	if (read_file(&v, v.file, rerr, sizeof(rerr)))
		goto out;
	verify_judge(&v, rerr);
	if (v.json)
		verify_print_json(&v);
	else
		verify_print_human(&v);
	fflush(stdout);
	ret = v.reason[0] ? cmd_err("verify: %s", v.reason) : 0;
out:
	wc_seqtrack_free(v.dir[0].t);
	wc_seqtrack_free(v.dir[1].t);
	return ret;
}
