// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pcapng writer (util/pcapng.c): files read back with libpcap at
 * nanosecond precision, with tshark when installed, and block by block by
 * a small parser here (block lengths, EPB queue options, ISB counters);
 * rotation by size and time, the -W ring, and a write error (EFBIG from
 * RLIMIT_FSIZE, EPIPE) that must leave a valid file ending on a block.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcapng.h"
#include "unit.h"

#define TS_BASE 1700000000123456789ull

/* ---- helpers ---- */

/* Each test works in its own directory under a base directory that the
 * tcase's unchecked fixture creates and removes (also after a failure). */
static char tbase[256];
static char tdir[300];

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void rm_rf(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void base_setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tbase, sizeof(tbase), "%s/wc_pcapng_XXXXXX",
		 t && *t ? t : "/tmp");
	if (!mkdtemp(tbase))
		tbase[0] = 0;
}

static void base_teardown(void)
{
	rm_rf(tbase);
	tbase[0] = 0;
}

static void mk_tdir(void)
{
	ck_assert_msg(tbase[0], "no base directory");
	snprintf(tdir, sizeof(tdir), "%s/tXXXXXX", tbase);
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static void rm_tdir(void)
{
	rm_rf(tdir);
}

static void tpath(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tdir, name);
}

/* number of entries in tdir */
static int count_files(void)
{
	DIR *d = opendir(tdir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void fill(uint8_t *p, unsigned idx, unsigned len)
{
	for (unsigned j = 0; j < len; j++)
		p[j] = (uint8_t)(idx * 31 + j * 7 + (j >> 8));
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

/* What the block walker found in a file */
#define MAXQ 8192
struct summary {
	int shb, idb, epb, isb, other;
	bool clean; /* every block well formed, EOF on a block boundary */
	size_t size, good; /* file size, end of the last whole block */
	unsigned nq; /* EPBs seen; queue of each (UINT32_MAX = none) */
	uint32_t queue[MAXQ];
	uint32_t epb_flags[MAXQ];
	/* last ISB per interface (0, 1) */
	bool isb_seen[2];
	bool isb_has[2][9]; /* option code present */
	uint64_t isb_val[2][9]; /* counters; times as hi:lo */
	uint64_t isb_ts[2];
	int last_type;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Walks options [p, end); calls back per option */
static bool walk_opts(const uint8_t *p, const uint8_t *end,
		      void (*fn)(void *, uint16_t, uint16_t, const uint8_t *),
		      void *ctx)
{
	while (p + 4 <= end) {
		uint16_t code = rd16(p), len = rd16(p + 2);

		if (p + 4 + ((len + 3u) & ~3u) > end)
			return false;
		if (code == 0)
			return true;
		fn(ctx, code, len, p + 4);
		p += 4 + ((len + 3u) & ~3u);
	}
	return p == end;
}

struct epb_ctx {
	uint32_t queue, flags;
};

static void epb_opt(void *c, uint16_t code, uint16_t len, const uint8_t *v)
{
	struct epb_ctx *e = c;

	if (code == 6 && len == 4)
		e->queue = rd32(v);
	if (code == 2 && len == 4)
		e->flags = rd32(v);
}

struct isb_ctx {
	bool *has;
	uint64_t *val;
};

static void isb_opt(void *c, uint16_t code, uint16_t len, const uint8_t *v)
{
	struct isb_ctx *x = c;

	if (code < 9 && len == 8) {
		x->has[code] = true;
		if (code == 2 || code == 3) /* timestamps: high, low */
			x->val[code] = ((uint64_t)rd32(v) << 32) | rd32(v + 4);
		else
			x->val[code] = rd64(v);
	}
}

static void parse_file(const char *path, struct summary *s)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	size_t off = 0;
	long sz;

	memset(s, 0, sizeof(*s));
	s->last_type = -1;
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(sz ? (size_t)sz : 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	s->size = (size_t)sz;
	s->clean = true;
	while (off < s->size) {
		uint32_t type, len;

		if (off + 12 > s->size) {
			s->clean = false;
			break;
		}
		type = rd32(b + off);
		len = rd32(b + off + 4);
		if (len < 12 || len % 4 || off + len > s->size ||
		    rd32(b + off + len - 4) != len) {
			s->clean = false;
			break;
		}
		if (off == 0 && type != 0x0A0D0D0A)
			s->clean = false;
		switch (type) {
		case 0x0A0D0D0A:
			s->shb++;
			if (rd32(b + off + 8) != 0x1A2B3C4D)
				s->clean = false;
			break;
		case 1:
			s->idb++;
			break;
		case 6: {
			uint32_t cap = rd32(b + off + 20);
			const uint8_t *o = b + off + 28 + ((cap + 3u) & ~3u);
			struct epb_ctx e = { UINT32_MAX, 0 };

			if (28 + ((cap + 3u) & ~3u) + 4 > len ||
			    !walk_opts(o, b + off + len - 4, epb_opt, &e))
				s->clean = false;
			for (const uint8_t *z = b + off + 28 + cap; z < o; z++)
				if (*z) /* padding must be zero */
					s->clean = false;
			if (s->nq < MAXQ) {
				s->queue[s->nq] = e.queue;
				s->epb_flags[s->nq] = e.flags;
			}
			s->nq++;
			s->epb++;
			break;
		}
		case 5: {
			uint32_t id = rd32(b + off + 8);

			s->isb++;
			if (id < 2) {
				struct isb_ctx x = { s->isb_has[id],
						     s->isb_val[id] };

				s->isb_seen[id] = true;
				memset(s->isb_has[id], 0,
				       sizeof(s->isb_has[id]));
				s->isb_ts[id] =
					((uint64_t)rd32(b + off + 12) << 32) |
					rd32(b + off + 16);
				if (!walk_opts(b + off + 20, b + off + len - 4,
					       isb_opt, &x))
					s->clean = false;
			}
			break;
		}
		default:
			s->other++;
		}
		s->last_type = (int)type;
		off += len;
		s->good = off;
	}
	free(b);
}

/* Reads path with libpcap at ns precision; returns the packet count and
 * checks each packet against the generator when `check` */
struct expect {
	unsigned first; /* index of the first packet */
	uint32_t snaplen;
	unsigned (*len_of)(unsigned i);
	bool check;
};

static int pcap_count(const char *path, const struct expect *x,
		      uint64_t *last_ts)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, eb);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint8_t ref[2048];
	int n = 0, r;

	ck_assert_msg(p != NULL, "pcap_open %s: %s", path, eb);
	ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull +
			      (uint64_t)h->ts.tv_usec;

		if (last_ts)
			*last_ts = ts;
		if (x && x->check) {
			unsigned i = x->first + (unsigned)n;
			unsigned len = x->len_of(i);
			unsigned cap = len < x->snaplen ? len : x->snaplen;

			ck_assert_uint_eq(ts, TS_BASE + (uint64_t)i * 1001);
			ck_assert_uint_eq(h->caplen, cap);
			ck_assert_uint_eq(h->len, len + i % 3);
			fill(ref, i, cap);
			ck_assert_msg(memcmp(ref, d, cap) == 0,
				      "packet %u data differs", i);
		}
		n++;
	}
	ck_assert_msg(r == PCAP_ERROR_BREAK, "pcap_next_ex %s: %s", path,
		      pcap_geterr(p));
	pcap_close(p);
	return n;
}

static unsigned len_ramp(unsigned i)
{
	return i % 1514 + 1; /* 1..1514: every padding case */
}

static unsigned len_200(unsigned i)
{
	return 200 + i % 64;
}

static uint32_t queue_of(unsigned i)
{
	return i % 7 == 6 ? WC_PCAPNG_NO_QUEUE : i % 5;
}

static struct wc_pcapng *open_w(struct wc_pcapng_opts *o)
{
	char eb[256];
	struct wc_pcapng *w = wc_pcapng_open(o, eb, sizeof(eb));

	ck_assert_msg(w != NULL, "open: %s", eb);
	return w;
}

static void write_pkts(struct wc_pcapng *w, unsigned first, unsigned n,
		       unsigned (*len_of)(unsigned), unsigned n_if)
{
	uint8_t pkt[2048];

	for (unsigned i = first; i < first + n; i++) {
		unsigned len = len_of(i);
		int r;

		fill(pkt, i, len);
		r = wc_pcapng_write(w, i % n_if, TS_BASE + (uint64_t)i * 1001,
				    pkt, len, len + i % 3, queue_of(i));
		ck_assert_msg(r == 0, "write %u: %d %s", i, r,
			      wc_pcapng_strerror(w));
	}
}

static bool have_tshark(void)
{
	return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* ---- tests ---- */

START_TEST(test_roundtrip)
{
	struct wc_pcapng_opts o = { .sz = sizeof(o),
				    .snaplen = 1000,
				    .buf_size = 4096 };
	struct wc_pcapng_stats st;
	struct expect x = { 0, 1000, len_ramp, true };
	struct summary *s = malloc(sizeof(*s));
	char path[512];
	struct wc_pcapng *w;

	mk_tdir();
	tpath(path, sizeof(path), "rt.pcapng");
	o.path = path;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "veth0", "test port", 0), 0);
	write_pkts(w, 0, 1514, len_ramp, 1);
	ck_assert_int_eq(wc_pcapng_flush(w), 0);
	wc_pcapng_get_stats(w, &st);
	ck_assert_uint_eq(st.packets, 1514);
	ck_assert_uint_eq(st.buffered, 0);
	ck_assert_int_eq(wc_pcapng_finish(w), 0);
	wc_pcapng_get_stats(w, &st);
	ck_assert_uint_eq(st.packets, 1514);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.files, 1);
	ck_assert_uint_eq(st.bytes, (uint64_t)file_size(path));
	ck_assert_str_eq(wc_pcapng_strerror(w), "");
	/* nothing more after finish */
	ck_assert_int_eq(wc_pcapng_write(w, 0, 1, "x", 1, 1, 0), -EBADF);
	ck_assert_int_eq(wc_pcapng_finish(w), 0);
	wc_pcapng_free(w);

	ck_assert_int_eq(pcap_count(path, &x, NULL), 1514);

	parse_file(path, s);
	ck_assert(s->clean);
	ck_assert_int_eq(s->shb, 1);
	ck_assert_int_eq(s->idb, 1);
	ck_assert_int_eq(s->epb, 1514);
	ck_assert_int_eq(s->isb, 1);
	ck_assert_int_eq(s->last_type, 5); /* ISB last */
	for (unsigned i = 0; i < 1514; i++) {
		ck_assert_uint_eq(s->queue[i], queue_of(i));
		ck_assert_uint_eq(s->epb_flags[i], 0);
	}
	free(s);
	rm_tdir();
}
END_TEST

/* default buffer, two interfaces, epb_flags; tshark sees queue and flags */
START_TEST(test_tshark_file_and_pipe)
{
	struct wc_pcapng_opts o = { .sz = sizeof(o),
				    .flags = WC_PCAPNG_EPB_INBOUND };
	char path[512], out[512], cmd[1400], line[256];
	struct wc_pcapng *w;
	struct summary *s = malloc(sizeof(*s));
	FILE *f;
	unsigned n = 0;
	int p[2], saved;
	pid_t pid;
	int status;

	mk_tdir();
	tpath(path, sizeof(path), "ts.pcapng");
	tpath(out, sizeof(out), "ts.txt");
	o.path = path;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "eth0", NULL, 0), 0);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "eth1", "second", 1), 1);
	write_pkts(w, 0, 300, len_ramp, 2);
	/* interfaces cannot be added once packets were written */
	ck_assert_int_eq(wc_pcapng_add_iface(w, "eth2", NULL, 0), -EBUSY);
	ck_assert_int_eq(wc_pcapng_write(w, 2, 1, "x", 1, 1, 0), -EINVAL);
	ck_assert_int_eq(wc_pcapng_close(w), 0);

	parse_file(path, s);
	ck_assert(s->clean);
	ck_assert_int_eq(s->idb, 2);
	ck_assert_int_eq(s->epb, 300);
	ck_assert_int_eq(s->isb, 2);
	ck_assert_uint_eq(s->epb_flags[0], 1);
	ck_assert_int_eq(pcap_count(path, NULL, NULL), 300);

	if (!have_tshark()) {
		unit_skip("pcapng: tshark reads the file and the pipe",
			  "tshark is not installed (make deps)");
		free(s);
		rm_tdir();
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -e frame.interface_id "
		 "-e frame.interface_queue -e frame.packet_flags_direction "
		 "-e frame.cap_len > '%s' 2>/dev/null",
		 path, out);
	ck_assert_int_eq(system(cmd), 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned ifid, dir, cap;
		char q[32] = "";
		int k;

		line[strcspn(line, "\n")] = 0;
		/* "if\tqueue\tdir\tcap" with queue possibly empty */
		k = sscanf(line, "%u\t%31[0-9]\t%x\t%u", &ifid, q, &dir, &cap);
		if (k != 4) {
			k = sscanf(line, "%u\t\t%x\t%u", &ifid, &dir, &cap);
			ck_assert_msg(k == 3, "tshark line '%s'", line);
			ck_assert_uint_eq(queue_of(n), WC_PCAPNG_NO_QUEUE);
		} else {
			ck_assert_uint_eq(strtoul(q, NULL, 10), queue_of(n));
		}
		ck_assert_uint_eq(ifid, n % 2);
		ck_assert_uint_eq(dir, 1);
		ck_assert_uint_eq(cap, len_ramp(n));
		n++;
	}
	fclose(f);
	ck_assert_uint_eq(n, 300);

	/* "-": streamed through a pipe to tshark -r - */
	ck_assert_int_eq(pipe(p), 0);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r - -T fields -e frame.interface_queue "
		 "> '%s' 2>/dev/null",
		 out);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	fflush(stdout);
	saved = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	o.path = "-";
	o.flags = 0;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "eth0", NULL, 0), 0);
	write_pkts(w, 0, 500, len_ramp, 1);
	ck_assert_int_eq(wc_pcapng_close(w), 0);
	dup2(saved, 1);
	close(saved);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (queue_of(n) == WC_PCAPNG_NO_QUEUE)
			ck_assert_str_eq(line, "");
		else
			ck_assert_uint_eq(strtoul(line, NULL, 10), queue_of(n));
		n++;
	}
	fclose(f);
	ck_assert_uint_eq(n, 500);
	free(s);
	rm_tdir();
}
END_TEST

static void isb_cb(void *ctx, unsigned if_id, struct wc_pcapng_isb *out)
{
	unsigned *calls = ctx;

	(*calls)++;
	out->ifrecv = 1000 + if_id;
	out->ifdrop = 7 + if_id;
	out->osdrop = 3;
	out->usrdeliv = 990;
	/* filteraccept left as pre-filled: absent */
}

START_TEST(test_isb)
{
	unsigned calls = 0;
	struct wc_pcapng_opts o = { .sz = sizeof(o),
				    .stats_cb = isb_cb,
				    .cb_ctx = &calls };
	struct wc_pcapng_isb set = {
		.ifrecv = WC_PCAPNG_ABSENT,
		.ifdrop = WC_PCAPNG_ABSENT,
		.filteraccept = 55,
		.osdrop = WC_PCAPNG_ABSENT,
		.usrdeliv = WC_PCAPNG_ABSENT,
		.start_ns = TS_BASE - 5,
		.end_ns = TS_BASE + 99,
	};
	struct summary *s = malloc(sizeof(*s));
	char path[512];
	struct wc_pcapng *w;
	uint64_t t0, t1;
	struct timespec ts;

	mk_tdir();
	tpath(path, sizeof(path), "isb.pcapng");
	o.path = path;
	clock_gettime(CLOCK_REALTIME, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "a", NULL, 0), 0);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "b", NULL, 0), 1);
	ck_assert_int_eq(wc_pcapng_set_isb(w, 2, &set), -EINVAL);
	write_pkts(w, 0, 10, len_200, 2);
	ck_assert_int_eq(wc_pcapng_close(w), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	t1 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ck_assert_uint_eq(calls, 2);

	parse_file(path, s);
	ck_assert(s->clean);
	ck_assert_int_eq(s->isb, 2);
	ck_assert_int_eq(s->last_type, 5);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert(s->isb_seen[i]);
		ck_assert(s->isb_has[i][2] && s->isb_has[i][3]);
		ck_assert_uint_ge(s->isb_val[i][2], t0); /* start = open */
		ck_assert_uint_le(s->isb_val[i][2], s->isb_val[i][3]);
		ck_assert_uint_le(s->isb_val[i][3], t1);
		ck_assert_uint_eq(s->isb_ts[i], s->isb_val[i][3]);
		ck_assert_uint_eq(s->isb_val[i][4], 1000 + i);
		ck_assert_uint_eq(s->isb_val[i][5], 7 + i);
		ck_assert(!s->isb_has[i][6]);
		ck_assert_uint_eq(s->isb_val[i][7], 3);
		ck_assert_uint_eq(s->isb_val[i][8], 990);
	}

	/* no callback: the values of wc_pcapng_set_isb() */
	o.stats_cb = NULL;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "a", NULL, 0), 0);
	ck_assert_int_eq(wc_pcapng_set_isb(w, 0, &set), 0);
	write_pkts(w, 0, 3, len_200, 1);
	ck_assert_int_eq(wc_pcapng_close(w), 0);
	parse_file(path, s);
	ck_assert(s->clean);
	ck_assert_int_eq(s->isb, 1);
	ck_assert_uint_eq(s->isb_val[0][2], TS_BASE - 5);
	ck_assert_uint_eq(s->isb_val[0][3], TS_BASE + 99);
	ck_assert_uint_eq(s->isb_val[0][6], 55);
	ck_assert(!s->isb_has[0][4] && !s->isb_has[0][5] && !s->isb_has[0][7] &&
		  !s->isb_has[0][8]);
	free(s);
	rm_tdir();
}
END_TEST

START_TEST(test_rotate_size)
{
	const uint64_t limit = 64 * 1024;
	unsigned calls = 0;
	struct wc_pcapng_opts o = { .sz = sizeof(o),
				    .rotate_bytes = limit,
				    .stats_cb = isb_cb,
				    .cb_ctx = &calls };
	struct summary *s = malloc(sizeof(*s));
	char path[512], name[600];
	struct wc_pcapng *w;
	unsigned total = 0, nfiles;
	uint64_t last_ts = 0;

	mk_tdir();
	tpath(path, sizeof(path), "rot.pcapng");
	o.path = path;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "a", NULL, 0), 0);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "b", NULL, 0), 1);
	write_pkts(w, 0, 2000, len_200, 2);
	ck_assert_int_eq(wc_pcapng_finish(w), 0);
	nfiles = (unsigned)wc_pcapng_files(w);
	ck_assert_uint_ge(nfiles, 5);
	ck_assert_uint_eq(wc_pcapng_packets(w), 2000);
	wc_pcapng_free(w);
	ck_assert_int_eq(count_files(), (int)nfiles);
	ck_assert_uint_eq(calls, 2 * nfiles); /* both ISBs of every file */

	for (unsigned k = 0; k < nfiles; k++) {
		struct expect x = { total, 262144, len_200, true };
		uint64_t ts;
		int n;

		if (k == 0)
			snprintf(name, sizeof(name), "%s", path);
		else
			snprintf(name, sizeof(name), "%s%u", path, k);
		ck_assert_int_le(file_size(name), (off_t)limit);
		parse_file(name, s);
		ck_assert_msg(s->clean, "%s not clean", name);
		ck_assert_int_eq(s->shb, 1);
		ck_assert_int_eq(s->idb, 2);
		ck_assert_int_eq(s->isb, 2);
		ck_assert_int_eq(s->last_type, 5);
		ck_assert_uint_eq(s->isb_val[1][4], 1001);
		n = pcap_count(name, &x, &ts);
		ck_assert_int_eq(n, s->epb);
		ck_assert_int_gt(n, 0);
		ck_assert_uint_gt(ts, last_ts);
		last_ts = ts;
		total += (unsigned)n;
	}
	ck_assert_uint_eq(total, 2000);
	free(s);
	rm_tdir();
}
END_TEST

START_TEST(test_rotate_ring)
{
	struct wc_pcapng_opts o = { .sz = sizeof(o),
				    .rotate_bytes = 16384,
				    .max_files = 3 };
	struct summary *s = malloc(sizeof(*s));
	char path[512], name[600];
	struct wc_pcapng *w;
	unsigned total = 0;
	uint64_t files;
	bool has_last = false;

	mk_tdir();
	tpath(path, sizeof(path), "ring.pcapng");
	o.path = path;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "a", NULL, 0), 0);
	write_pkts(w, 0, 1000, len_200, 1);
	ck_assert_int_eq(wc_pcapng_finish(w), 0);
	files = wc_pcapng_files(w);
	wc_pcapng_free(w);
	ck_assert_uint_gt(files, 6);
	ck_assert_int_eq(count_files(), 3);
	for (unsigned k = 0; k < 3; k++) {
		uint64_t ts = 0;
		int n;

		snprintf(name, sizeof(name), "%s%u", path, k);
		parse_file(name, s);
		ck_assert_msg(s->clean, "%s not clean", name);
		ck_assert_int_eq(s->isb, 1);
		n = pcap_count(name, NULL, &ts);
		ck_assert_int_eq(n, s->epb);
		if (ts == TS_BASE + 999ull * 1001)
			has_last = true;
		total += (unsigned)n;
	}
	ck_assert(has_last);
	ck_assert_uint_lt(total, 1000);
	rm_tdir();

	/* width of the number follows -W: 12 files -> two digits */
	mk_tdir();
	tpath(path, sizeof(path), "w.pcapng");
	o.path = path;
	o.max_files = 12;
	w = open_w(&o);
	ck_assert_int_eq(wc_pcapng_add_iface(w, "a", NULL, 0), 0);
	write_pkts(w, 0, 300, len_200, 1);
	ck_assert_int_eq(wc_pcapng_close(w), 0);
	snprintf(name, sizeof(name), "%s00", path);
	ck_assert_int_gt(file_size(name), 0);
	snprintf(name, sizeof(name), "%s01", path);
	ck_assert_int_gt(file_size(name), 0);
	free(s);
	rm_tdir();
}
END_TEST

/* -G with strftime names and -W: ring of the newest files */
START_TEST(test_rotate_time)
{
	struct wc_pcapng_opts o = { .sz = sizeof(o),
				    .rotate_secs = 1,
				    .max_files = 2 };
	struct timespec nap = { 1, 50 * 1000 * 1000 };
	char path[512], first[512];
	struct wc_pcapng *w;
	DIR *d;
	struct dirent *e;
	unsigned total = 0, n = 0;

	mk_tdir();
	tpath(path, sizeof(path), "t-%Y%m%d-%H%M%S.pcapng");
	o.path = path;
	w = open_w(&o);
	snprintf(first, sizeof(first), "%s", wc_pcapng_cur_path(w));
	ck_assert_ptr_null(strchr(first, '%'));
	ck_assert_int_eq(wc_pcapng_add_iface(w, "a", NULL, 0), 0);
	ck_assert_int_eq(wc_pcapng_tick(w), 0);
	write_pkts(w, 0, 10, len_200, 1);
	ck_assert_int_eq(wc_pcapng_tick(w), 0);
	ck_assert_uint_eq(wc_pcapng_files(w), 1);
	for (unsigned k = 1; k <= 2; k++) {
		nanosleep(&nap, NULL);
		ck_assert_int_eq(wc_pcapng_tick(w), 0);
		ck_assert_uint_eq(wc_pcapng_files(w), 1 + k);
		write_pkts(w, k * 10, 10, len_200, 1);
	}
	ck_assert_int_eq(wc_pcapng_close(w), 0);
	/* the first file was removed, the two newest stay */
	ck_assert_int_lt(file_size(first), 0);
	ck_assert_int_eq(count_files(), 2);
	d = opendir(tdir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char p[600];

		if (e->d_name[0] == '.')
			continue;
		ck_assert_msg(strncmp(e->d_name, "t-20", 4) == 0, "%s",
			      e->d_name);
		snprintf(p, sizeof(p), "%s/%s", tdir, e->d_name);
		total += (unsigned)pcap_count(p, NULL, NULL);
		n++;
	}
	closedir(d);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(total, 20);
	rm_tdir();
}
END_TEST

/*
 * A write error in the middle of the stream: RLIMIT_FSIZE makes write(2)
 * short, then EFBIG (SIGXFSZ ignored), in a child process. The file must
 * end on the last whole block and hold exactly the packets reported.
 */
START_TEST(test_write_error_efbig)
{
	const rlim_t lim = 100003;
	char path[512];
	struct summary *s = malloc(sizeof(*s));
	int p[2], status;
	uint64_t reported[2] = { 0, 0 };
	pid_t pid;

	mk_tdir();
	tpath(path, sizeof(path), "full.pcapng");
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { lim, lim };
		struct wc_pcapng_opts o = { .sz = sizeof(o),
					    .path = path,
					    .buf_size = 16384 };
		struct wc_pcapng_stats st;
		struct wc_pcapng *w;
		uint8_t pkt[2048];
		unsigned i;
		int r = 0;

		close(p[0]);
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		w = wc_pcapng_open(&o, NULL, 0);
		if (!w || wc_pcapng_add_iface(w, "a", NULL, 0) != 0)
			_exit(3);
		for (i = 0; i < 100000 && r == 0; i++) {
			unsigned len = 60 + (i * 13) % 1400;

			fill(pkt, i, len);
			r = wc_pcapng_write(w, 0, TS_BASE + i, pkt, len, len,
					    i % 4);
		}
		if (r != -EFBIG)
			_exit(4);
		if (strncmp(wc_pcapng_strerror(w), "write ", 6) != 0 ||
		    !strstr(wc_pcapng_strerror(w), path) ||
		    !strstr(wc_pcapng_strerror(w), strerror(EFBIG)))
			_exit(5);
		/* sticky */
		if (wc_pcapng_write(w, 0, 1, pkt, 60, 60, 0) != -EFBIG ||
		    wc_pcapng_flush(w) != -EFBIG || wc_pcapng_tick(w) != -EFBIG)
			_exit(6);
		if (wc_pcapng_finish(w) != -EFBIG)
			_exit(7);
		wc_pcapng_get_stats(w, &st);
		/* every packet handed over (i, and the refused one after
		 * the error) is in the file or counted lost */
		if (st.packets + st.lost != i + 1)
			_exit(8);
		reported[0] = st.packets;
		reported[1] = st.bytes;
		wc_pcapng_free(w);
		if (write(p[1], reported, sizeof(reported)) !=
		    (ssize_t)sizeof(reported))
			_exit(9);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], reported, sizeof(reported)),
			 (ssize_t)sizeof(reported));
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);

	parse_file(path, s);
	ck_assert(s->clean); /* ends exactly on a block boundary */
	ck_assert_uint_eq(s->size, reported[1]);
	ck_assert_uint_le(s->size, lim);
	/* cut at the last whole block, not at the start of the buffer */
	ck_assert_uint_gt(s->size, lim - (28 + 1460 + 16));
	ck_assert_int_eq(s->shb, 1);
	ck_assert_int_eq(s->idb, 1);
	ck_assert_int_eq(s->isb, 0);
	ck_assert_uint_eq((uint64_t)s->epb, reported[0]);
	ck_assert_int_eq(pcap_count(path, NULL, NULL), s->epb);
	free(s);
	rm_tdir();
}
END_TEST

/* A pipe whose reader is gone: EPIPE (SIGPIPE ignored), clear message */
START_TEST(test_write_error_epipe)
{
	int p[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct wc_pcapng_opts o = { .sz = sizeof(o), .path = "-" };
		struct wc_pcapng *w;
		uint8_t pkt[100] = { 0 };
		int r = 0;

		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		if (dup2(p[1], 1) < 0)
			_exit(2);
		close(p[1]);
		w = wc_pcapng_open(&o, NULL, 0);
		if (!w || wc_pcapng_add_iface(w, "a", NULL, 0) != 0)
			_exit(3);
		for (unsigned i = 0; i < 100000 && r == 0; i++)
			r = wc_pcapng_write(w, 0, i, pkt, 100, 100, 0);
		if (r != -EPIPE)
			_exit(4);
		if (strcmp(wc_pcapng_strerror(w), "write stdout: Broken pipe"))
			_exit(5);
		if (wc_pcapng_close(w) != -EPIPE)
			_exit(6);
		_exit(0);
	}
	close(p[1]);
	close(p[0]); /* reader goes away */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
}
END_TEST

START_TEST(test_open_errors)
{
	struct wc_pcapng_opts o = { .sz = sizeof(o) };
	char eb[256];

	errno = 0;
	ck_assert_ptr_null(wc_pcapng_open(&o, eb, sizeof(eb)));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(eb, "pcapng: no output file");

	o.path = "-";
	o.rotate_bytes = 1000;
	ck_assert_ptr_null(wc_pcapng_open(&o, eb, sizeof(eb)));
	ck_assert_int_eq(errno, EINVAL);

	o.path = "/tmp/x.pcapng";
	o.rotate_bytes = 0;
	o.max_files = 3;
	ck_assert_ptr_null(wc_pcapng_open(&o, eb, sizeof(eb)));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(strstr(eb, "-W"));

	o.max_files = 0;
	o.snaplen = WC_PCAPNG_MAX_SNAPLEN + 1;
	ck_assert_ptr_null(wc_pcapng_open(&o, eb, sizeof(eb)));
	ck_assert_int_eq(errno, EINVAL);

	o.snaplen = 0;
	o.path = "/nonexistent-wirecap-dir/out.pcapng";
	ck_assert_ptr_null(wc_pcapng_open(&o, eb, sizeof(eb)));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(eb, "open /nonexistent-wirecap-dir/out.pcapng: "
			     "No such file or directory");
	ck_assert_ptr_null(wc_pcapng_open(NULL, NULL, 0));
	ck_assert_int_eq(wc_pcapng_close(NULL), 0);
}
END_TEST

/* wc_pcapng_check touches nothing; a second writer on a file a first one
 * writes fails with EBUSY and leaves it alone */
START_TEST(test_check_and_lock)
{
	struct wc_pcapng_opts o = { .sz = sizeof(o) };
	static const char old[] = "not a pcapng, must survive";
	struct wc_pcapng *w, *w2;
	char path[PATH_MAX], eb[PATH_MAX + 128];
	uint8_t pkt[64];
	FILE *f;

	mk_tdir();
	tpath(path, sizeof(path), "keep.pcapng");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(old, f);
	fclose(f);
	o.path = path;
	ck_assert_int_eq(wc_pcapng_check(&o, eb, sizeof(eb)), 0);
	ck_assert_int_eq(file_size(path), (off_t)strlen(old));

	/* a new file: checked, not created */
	tpath(path, sizeof(path), "new.pcapng");
	ck_assert_int_eq(wc_pcapng_check(&o, eb, sizeof(eb)), 0);
	ck_assert_int_eq(file_size(path), -1);
	ck_assert_int_eq(count_files(), 1);
	o.path = "/nonexistent-wirecap-dir/out.pcapng";
	ck_assert_int_eq(wc_pcapng_check(&o, eb, sizeof(eb)), -ENOENT);
	ck_assert_str_eq(eb,
			 "cannot create /nonexistent-wirecap-dir/out.pcapng: "
			 "No such file or directory");

	/* the first writer holds it; the second leaves it alone */
	o.path = path;
	w = wc_pcapng_open(&o, eb, sizeof(eb));
	ck_assert_ptr_nonnull(w);
	ck_assert_int_ge(wc_pcapng_add_iface(w, "x", NULL, 0), 0);
	fill(pkt, 1, sizeof(pkt));
	ck_assert_int_eq(wc_pcapng_write(w, 0, 1, pkt, sizeof(pkt), sizeof(pkt),
					 WC_PCAPNG_NO_QUEUE),
			 0);
	ck_assert_int_eq(wc_pcapng_flush(w), 0);
	errno = 0;
	w2 = wc_pcapng_open(&o, eb, sizeof(eb));
	ck_assert_ptr_null(w2);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_ptr_nonnull(strstr(eb, "being written by another capture"));
	ck_assert_int_eq(file_size(path), (off_t)wc_pcapng_bytes(w));
	ck_assert_int_eq(wc_pcapng_close(w), 0);
	/* closed: the lock is gone, the next writer takes the file */
	w2 = wc_pcapng_open(&o, eb, sizeof(eb));
	ck_assert_ptr_nonnull(w2);
	ck_assert_int_eq(wc_pcapng_close(w2), 0);
	rm_tdir();
}
END_TEST

Suite *pcapng_suite(void)
{
	Suite *s = suite_create("pcapng");
	TCase *tc = tcase_create("format");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_tshark_file_and_pipe);
	tcase_add_test(tc, test_isb);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_check_and_lock);
	suite_add_tcase(s, tc);

	tc = tcase_create("rotation");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, test_rotate_size);
	tcase_add_test(tc, test_rotate_ring);
	tcase_add_test(tc, test_rotate_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("write_errors");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, test_write_error_efbig);
	tcase_add_test(tc, test_write_error_epipe);
	suite_add_tcase(s, tc);
	return s;
}
