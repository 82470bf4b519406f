// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap: streaming pcapng writer. See pcapng.h for the format written,
 * the naming of rotated files and the error model.
 */
#include "clock.h"
#include "outpath.h"
#include "pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef WC_VERSION
#define WC_VERSION "unknown"
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Block types */
#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_ISB 0x00000005u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Option codes */
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define OPT_SHB_HARDWARE 2
#define OPT_SHB_OS 3
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_EPB_FLAGS 2
#define OPT_EPB_QUEUE 6
#define OPT_ISB_STARTTIME 2
#define OPT_ISB_ENDTIME 3
#define OPT_ISB_IFRECV 4
#define OPT_ISB_IFDROP 5
#define OPT_ISB_FILTERACCEPT 6
#define OPT_ISB_OSDROP 7
#define OPT_ISB_USRDELIV 8

#define EPB_FLAG_INBOUND 0x1u

/* EPB: type, len, if_id, ts_hi, ts_lo, caplen, origlen | data | opts | len */
#define EPB_HDR 28u
/* ISB with every option: 20 header + 7 * 12 options + a comment of up to
 * 128 bytes (4 + 128) + 4 end + 4 len */
#define ISB_MAX 244u
/* Longest string option value written */
#define OPT_STR_MAX 1024u
#define MAX_FILES_LIMIT 1000000u

#define PAD4(x) (((x) + 3u) & ~(size_t)3u)

struct wc_pcapng {
	/* options */
	char *path; /* template */
	uint64_t rotate_bytes;
	uint64_t rotate_ns;
	unsigned max_files;
	uint32_t snaplen;
	unsigned flags;
	wc_pcapng_stats_cb stats_cb;
	void *cb_ctx;
	bool is_stdout;
	bool time_names; /* -G and '%' in path */

	/* current file */
	int fd;
	bool fd_is_reg;
	char cur_path[PATH_MAX];
	uint64_t file_off; /* bytes of whole blocks written to this file */
	uint64_t file_pkts; /* packets in this file (written + buffered) */
	uint64_t deadline_ns; /* -G: end of this file's period */

	/* output buffer: whole blocks only */
	uint8_t *buf;
	size_t buf_size;
	size_t used;
	uint64_t buf_pkts; /* EPBs in buf */
	uint32_t epb_opts_len; /* constant options part of an EPB, w/o queue */

	/* SHB + IDBs, re-emitted at the start of every file */
	uint8_t *hdr;
	size_t hdr_len, hdr_cap;
	unsigned n_ifaces;
	struct wc_pcapng_isb *isb; /* per interface, last set */
	bool started; /* first packet seen: no more interfaces */
	uint64_t open_ns;

	/* naming */
	uint64_t seq; /* files opened so far */
	unsigned win_count; /* files with the same expanded name */
	char last_base[PATH_MAX];
	char **ring; /* -W: names of files created, oldest first */
	unsigned ring_n;

	/* counters */
	uint64_t packets, bytes, lost, files;

	int err; /* negative errno, first error */
	bool finished;
	char errmsg[PATH_MAX + 128];
};

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Records the first error; returns it (negative errno). */
static int __attribute__((format(printf, 3, 4)))
set_err(struct wc_pcapng *w, int e, const char *fmt, ...)
{
	va_list ap;

	if (e > 0)
		e = -e;
	if (e == 0)
		e = -EIO;
	if (w->err)
		return w->err;
	w->err = e;
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	return e;
}

static const char *out_name(const struct wc_pcapng *w)
{
	return w->is_stdout ? "stdout" : w->cur_path;
}

/* Option with a byte string value, padded; returns bytes used */
static size_t put_opt(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	size_t plen = PAD4(len);

	put16(p, code);
	put16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, plen - len);
	return 4 + plen;
}

/* strings are NUL-terminated; values longer than OPT_STR_MAX are cut */
static size_t opt_strlen(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > OPT_STR_MAX ? OPT_STR_MAX : n;
}

static size_t str_opt_len(const char *s)
{
	size_t n = opt_strlen(s);

	return n ? 4 + PAD4(n) : 0;
}

static size_t put_str_opt(uint8_t *p, uint16_t code, const char *s)
{
	size_t n = opt_strlen(s);

	return n ? put_opt(p, code, s, n) : 0;
}

static int hdr_reserve(struct wc_pcapng *w, size_t n)
{
	if (w->hdr_len + n > w->hdr_cap) {
		size_t cap = (w->hdr_len + n) * 2;
		uint8_t *h = realloc(w->hdr, cap);

		if (!h)
			return -ENOMEM;
		w->hdr = h;
		w->hdr_cap = cap;
	}
	return 0;
}

/* ---- output ---- */

/*
 * A write failed after `done` bytes of the buffer reached the file: cut the
 * file back to the end of the last whole block and fail the writer.
 */
static int fail_write(struct wc_pcapng *w, int e, size_t done)
{
	size_t off = 0, keep = 0;
	uint64_t kept_pkts = 0;
	int ret;

	/* walk the blocks of the buffer that were written completely */
	while (off + 8 <= w->used) {
		uint32_t type = get32(w->buf + off);
		uint32_t blen = get32(w->buf + off + 4);

		if (blen < 12 || off + blen > done)
			break;
		if (type == BT_EPB)
			kept_pkts++;
		off += blen;
		keep = off;
	}
	ret = set_err(w, e, "write %s: %s", out_name(w), strerror(e));
	if (w->fd_is_reg && keep < done &&
	    ftruncate(w->fd, (off_t)(w->file_off + keep)) < 0) {
		int e2 = errno;
		size_t l = strlen(w->errmsg);

		snprintf(w->errmsg + l, sizeof(w->errmsg) - l,
			 " (truncating to the last whole block: %s)",
			 strerror(e2));
	}
	w->file_off += keep;
	w->bytes += keep;
	w->packets += kept_pkts;
	w->lost += w->buf_pkts - kept_pkts;
	w->buf_pkts = 0;
	w->used = 0;
	return ret;
}

static int flush_buf(struct wc_pcapng *w)
{
	size_t done = 0;

	while (done < w->used) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_write(w, errno, done);
		}
		if (n == 0)
			return fail_write(w, EIO, done);
		done += (size_t)n;
	}
	w->file_off += w->used;
	w->bytes += w->used;
	w->packets += w->buf_pkts;
	w->buf_pkts = 0;
	w->used = 0;
	return 0;
}

/* Room for n bytes at the end of the buffer; NULL on error (w->err set) */
static uint8_t *buf_reserve(struct wc_pcapng *w, size_t n)
{
	if (w->used + n > w->buf_size) {
		if (flush_buf(w) < 0)
			return NULL;
		if (n > w->buf_size) {
			uint8_t *b = realloc(w->buf, n);

			if (!b) {
				set_err(w, ENOMEM, "pcapng buffer: %s",
					strerror(ENOMEM));
				return NULL;
			}
			w->buf = b;
			w->buf_size = n;
		}
	}
	return w->buf + w->used;
}

static int buf_append(struct wc_pcapng *w, const void *p, size_t n)
{
	uint8_t *d = buf_reserve(w, n);

	if (!d)
		return w->err;
	memcpy(d, p, n);
	w->used += n;
	return 0;
}

/* ---- blocks ---- */

static int build_shb(struct wc_pcapng *w)
{
	struct utsname u;
	char os[sizeof(u.sysname) + sizeof(u.release) + 2];
	const char *appl = "wirecap " WC_VERSION;
	size_t len;
	uint8_t *p;

	if (uname(&u) < 0) {
		snprintf(u.sysname, sizeof(u.sysname), "Linux");
		u.release[0] = 0;
		u.machine[0] = 0;
	}
	snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	/* 24 fixed + options + endofopt + trailing length */
	len = 24 + str_opt_len(u.machine) + str_opt_len(os) +
	      str_opt_len(appl) + 4 + 4;
	if (hdr_reserve(w, len) < 0)
		return -ENOMEM;
	p = w->hdr + w->hdr_len;
	put32(p, BT_SHB);
	put32(p + 4, (uint32_t)len);
	put32(p + 8, BYTE_ORDER_MAGIC);
	put16(p + 12, 1); /* major */
	put16(p + 14, 0); /* minor */
	put64(p + 16, UINT64_MAX); /* section length: unknown (-1) */
	p += 24;
	p += put_str_opt(p, OPT_SHB_HARDWARE, u.machine);
	p += put_str_opt(p, OPT_SHB_OS, os);
	p += put_str_opt(p, OPT_SHB_USERAPPL, appl);
	p += put_opt(p, OPT_ENDOFOPT, NULL, 0);
	put32(p, (uint32_t)len);
	w->hdr_len += len;
	return 0;
}

static int write_isbs(struct wc_pcapng *w)
{
	uint64_t now = wc_clock_real_ns();

	for (unsigned i = 0; i < w->n_ifaces; i++) {
		struct wc_pcapng_isb s = w->isb[i];
		const uint64_t *cnt[5] = { &s.ifrecv, &s.ifdrop,
					   &s.filteraccept, &s.osdrop,
					   &s.usrdeliv };
		static const uint16_t code[5] = {
			OPT_ISB_IFRECV, OPT_ISB_IFDROP, OPT_ISB_FILTERACCEPT,
			OPT_ISB_OSDROP, OPT_ISB_USRDELIV
		};
		uint8_t *b, *p;
		uint32_t len;

		if (!s.start_ns)
			s.start_ns = w->open_ns;
		if (!s.end_ns)
			s.end_ns = now;
		if (w->stats_cb)
			w->stats_cb(w->cb_ctx, i, &s);
		if (!s.start_ns)
			s.start_ns = w->open_ns;
		if (!s.end_ns)
			s.end_ns = now;

		b = buf_reserve(w, ISB_MAX);
		if (!b)
			return w->err;
		p = b;
		put32(p + 8, i);
		put32(p + 12, (uint32_t)(s.end_ns >> 32));
		put32(p + 16, (uint32_t)s.end_ns);
		p += 20;
		put16(p, OPT_ISB_STARTTIME);
		put16(p + 2, 8);
		put32(p + 4, (uint32_t)(s.start_ns >> 32));
		put32(p + 8, (uint32_t)s.start_ns);
		p += 12;
		put16(p, OPT_ISB_ENDTIME);
		put16(p + 2, 8);
		put32(p + 4, (uint32_t)(s.end_ns >> 32));
		put32(p + 8, (uint32_t)s.end_ns);
		p += 12;
		for (int k = 0; k < 5; k++) {
			if (*cnt[k] == WC_PCAPNG_ABSENT)
				continue;
			put16(p, code[k]);
			put16(p + 2, 8);
			put64(p + 4, *cnt[k]);
			p += 12;
		}
		if (s.comment[0])
			p += put_opt(p, OPT_COMMENT, s.comment,
				     strnlen(s.comment, sizeof(s.comment)));
		put32(p, 0); /* opt_endofopt */
		p += 4;
		len = (uint32_t)(p - b) + 4;
		put32(p, len);
		put32(b, BT_ISB);
		put32(b + 4, len);
		w->used += len;
	}
	return 0;
}

/* ---- files ---- */

static unsigned digits(unsigned x)
{
	unsigned c = 0;

	while (x > 0) {
		c++;
		x /= 10;
	}
	return c;
}

static int make_name(struct wc_pcapng *w, uint64_t now, char *out, size_t n)
{
	char base[PATH_MAX];
	int r;

	if (!w->rotate_bytes && !w->rotate_ns) {
		r = snprintf(out, n, "%s", w->path);
		return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
	}
	if (w->time_names) {
		time_t t = (time_t)(now / 1000000000ull);
		struct tm tm;

		if (!localtime_r(&t, &tm) ||
		    strftime(base, sizeof(base), w->path, &tm) == 0)
			return -ENAMETOOLONG;
		if (w->seq > 0 && strcmp(base, w->last_base) == 0) {
			w->win_count++;
		} else {
			w->win_count = 0;
			snprintf(w->last_base, sizeof(w->last_base), "%s",
				 base);
		}
		if (w->win_count)
			r = snprintf(out, n, "%s%u", base, w->win_count);
		else
			r = snprintf(out, n, "%s", base);
	} else if (w->max_files) {
		unsigned width = digits(w->max_files - 1);
		unsigned idx = (unsigned)(w->seq % w->max_files);

		if (width == 0)
			r = snprintf(out, n, "%s", w->path);
		else
			r = snprintf(out, n, "%s%0*u", w->path, (int)width,
				     idx);
	} else if (w->seq == 0) {
		r = snprintf(out, n, "%s", w->path);
	} else {
		r = snprintf(out, n, "%s%llu", w->path,
			     (unsigned long long)w->seq);
	}
	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

/* -W: remember name; remove the oldest file beyond max_files */
static void ring_add(struct wc_pcapng *w, const char *name)
{
	unsigned i;
	char *dup;

	if (!w->max_files)
		return;
	for (i = 0; i < w->ring_n; i++) {
		if (strcmp(w->ring[i], name) == 0) {
			/* being overwritten: it becomes the newest */
			dup = w->ring[i];
			memmove(&w->ring[i], &w->ring[i + 1],
				(w->ring_n - i - 1) * sizeof(*w->ring));
			w->ring[w->ring_n - 1] = dup;
			return;
		}
	}
	if (w->ring_n == w->max_files) {
		if (unlink(w->ring[0]) < 0 && errno != ENOENT)
			fprintf(stderr, "wirecap: remove %s: %s\n", w->ring[0],
				strerror(errno));
		free(w->ring[0]);
		memmove(&w->ring[0], &w->ring[1],
			(w->ring_n - 1) * sizeof(*w->ring));
		w->ring_n--;
	}
	dup = strdup(name);
	if (dup)
		w->ring[w->ring_n++] = dup;
}

/*
 * Open w->cur_path for writing and empty it, unless another writer holds
 * it: a regular file is locked (flock, exclusive) for as long as it is
 * written, and emptied only once the lock is ours. Opened without O_TRUNC,
 * so a second capture given the same path fails with the first one's file
 * intact instead of cutting it under it.
 */
static int open_locked(struct wc_pcapng *w)
{
	struct stat st;
	int fd, e;

	fd = open(w->cur_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return set_err(w, errno, "open %s: %s", w->cur_path,
			       strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				return set_err(
					w, EBUSY,
					"%s is being written by another capture: not touched",
					w->cur_path);
			return set_err(w, e, "lock %s: %s", w->cur_path,
				       strerror(e));
		}
		if (ftruncate(fd, 0) < 0) {
			e = errno;
			close(fd);
			return set_err(w, e, "truncate %s: %s", w->cur_path,
				       strerror(e));
		}
	}
	w->fd = fd;
	return 0;
}

static int open_file(struct wc_pcapng *w)
{
	uint64_t now = wc_clock_real_ns();
	struct stat st;
	int r;

	if (w->is_stdout) {
		w->fd = STDOUT_FILENO;
		snprintf(w->cur_path, sizeof(w->cur_path), "-");
	} else {
		r = make_name(w, now, w->cur_path, sizeof(w->cur_path));
		if (r < 0)
			return set_err(w, r, "file name from '%s': %s", w->path,
				       strerror(-r));
		r = open_locked(w);
		if (r < 0)
			return r;
		ring_add(w, w->cur_path);
	}
	w->fd_is_reg = fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode);
	w->seq++;
	w->files++;
	w->file_off = 0;
	w->file_pkts = 0;
	w->deadline_ns = now + w->rotate_ns;
	return buf_append(w, w->hdr, w->hdr_len);
}

/* ISBs, flush, close. Keeps the first error. */
static int close_file(struct wc_pcapng *w)
{
	if (w->fd < 0)
		return w->err;
	if (!w->err)
		write_isbs(w);
	if (!w->err)
		flush_buf(w);
	if (!w->is_stdout && close(w->fd) < 0)
		set_err(w, errno, "close %s: %s", w->cur_path, strerror(errno));
	w->fd = -1;
	w->used = 0;
	w->lost += w->buf_pkts;
	w->buf_pkts = 0;
	return w->err;
}

static int rotate(struct wc_pcapng *w)
{
	if (close_file(w) < 0)
		return w->err;
	return open_file(w);
}

/* ---- API ---- */

/* the writer without a file: options checked, buffers allocated */
static struct wc_pcapng *writer_new(const struct wc_pcapng_opts *opts,
				    char *errbuf, size_t errlen)
{
	struct wc_pcapng_opts o = { 0 };
	struct wc_pcapng *w;
	const char *msg = NULL;
	int e = EINVAL;

	if (errbuf && errlen)
		errbuf[0] = 0;
	if (!opts || opts->sz < offsetof(struct wc_pcapng_opts, flags)) {
		msg = "pcapng: bad options";
		goto fail_early;
	}
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.path || !o.path[0]) {
		msg = "pcapng: no output file";
		goto fail_early;
	}
	if (strcmp(o.path, "-") == 0 &&
	    (o.rotate_bytes || o.rotate_secs || o.max_files)) {
		msg = "pcapng: rotation (-C/-G/-W) needs a file, not stdout";
		goto fail_early;
	}
	if (o.max_files && !o.rotate_bytes && !o.rotate_secs) {
		msg = "pcapng: a file count (-W) needs -C or -G";
		goto fail_early;
	}
	if (o.snaplen > WC_PCAPNG_MAX_SNAPLEN) {
		msg = "pcapng: snap length above 262144";
		goto fail_early;
	}
	if (o.max_files > MAX_FILES_LIMIT) {
		msg = "pcapng: too many files for -W (at most 1000000)";
		goto fail_early;
	}

	w = calloc(1, sizeof(*w));
	if (!w) {
		e = ENOMEM;
		msg = "pcapng: out of memory";
		goto fail_early;
	}
	w->fd = -1;
	w->path = strdup(o.path);
	w->rotate_bytes = o.rotate_bytes;
	w->rotate_ns = (uint64_t)o.rotate_secs * 1000000000ull;
	w->max_files = o.max_files;
	w->snaplen = o.snaplen ? o.snaplen : WC_PCAPNG_DEFAULT_SNAPLEN;
	w->flags = o.flags;
	w->stats_cb = o.stats_cb;
	w->cb_ctx = o.cb_ctx;
	w->is_stdout = strcmp(o.path, "-") == 0;
	w->time_names = o.rotate_secs && strchr(o.path, '%');
	w->epb_opts_len = (o.flags & WC_PCAPNG_EPB_INBOUND) ? 8 : 0;
	w->buf_size = o.buf_size ? o.buf_size : WC_PCAPNG_DEFAULT_BUF;
	{
		/* the largest EPB must fit */
		size_t max_epb =
			EPB_HDR + PAD4((size_t)w->snaplen) + 8 + 8 + 4 + 4;

		if (w->buf_size < max_epb)
			w->buf_size = max_epb;
		if (w->buf_size < 4096)
			w->buf_size = 4096;
	}
	w->buf = malloc(w->buf_size);
	if (w->max_files)
		w->ring = calloc(w->max_files, sizeof(*w->ring));
	if (!w->path || !w->buf || (w->max_files && !w->ring)) {
		e = ENOMEM;
		msg = "pcapng: out of memory";
		goto fail;
	}
	return w;

fail:
	wc_pcapng_free(w);
fail_early:
	if (errbuf && errlen && msg)
		snprintf(errbuf, errlen, "%s", msg);
	errno = e;
	return NULL;
}

struct wc_pcapng *wc_pcapng_open(const struct wc_pcapng_opts *opts,
				 char *errbuf, size_t errlen)
{
	struct wc_pcapng *w = writer_new(opts, errbuf, errlen);
	int e;

	if (!w)
		return NULL;
	w->open_ns = wc_clock_real_ns();
	if (build_shb(w) < 0) {
		wc_pcapng_free(w);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "pcapng: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (open_file(w) < 0) {
		e = -w->err;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", w->errmsg);
		wc_pcapng_free(w);
		errno = e;
		return NULL;
	}
	return w;
}

int wc_pcapng_check(const struct wc_pcapng_opts *opts, char *errbuf,
		    size_t errlen)
{
	struct wc_pcapng *w = writer_new(opts, errbuf, errlen);
	bool created;
	int r;

	if (!w)
		return -errno;
	if (w->is_stdout) {
		wc_pcapng_free(w);
		return 0;
	}
	r = make_name(w, wc_clock_real_ns(), w->cur_path, sizeof(w->cur_path));
	if (r < 0) {
		set_err(w, -r, "file name from '%s': %s", w->path,
			strerror(-r));
	} else {
		r = wc_outpath_check(w->cur_path, &created);
		if (r < 0)
			set_err(w, -r, "%s %s: %s",
				created ? "cannot create" : "cannot write",
				w->cur_path, strerror(-r));
	}
	if (r < 0 && errbuf && errlen)
		snprintf(errbuf, errlen, "%s", w->errmsg);
	wc_pcapng_free(w);
	return r < 0 ? r : 0;
}

int wc_pcapng_add_iface(struct wc_pcapng *w, const char *name,
			const char *descr, uint16_t linktype)
{
	struct wc_pcapng_isb *isb;
	size_t len;
	uint8_t *p;
	uint8_t tsresol = 9;
	unsigned id;

	if (w->err)
		return w->err;
	if (w->finished)
		return -EBADF;
	if (w->started)
		return -EBUSY;
	if (w->n_ifaces >= 65536)
		return -E2BIG;
	isb = realloc(w->isb, (w->n_ifaces + 1) * sizeof(*isb));
	if (!isb)
		return -ENOMEM;
	w->isb = isb;
	id = w->n_ifaces;
	isb[id] = (struct wc_pcapng_isb){
		.ifrecv = WC_PCAPNG_ABSENT,
		.ifdrop = WC_PCAPNG_ABSENT,
		.filteraccept = WC_PCAPNG_ABSENT,
		.osdrop = WC_PCAPNG_ABSENT,
		.usrdeliv = WC_PCAPNG_ABSENT,
	};

	len = 16 + str_opt_len(name) + str_opt_len(descr) + 8 + 4 + 4;
	if (hdr_reserve(w, len) < 0)
		return -ENOMEM;
	p = w->hdr + w->hdr_len;
	put32(p, BT_IDB);
	put32(p + 4, (uint32_t)len);
	put16(p + 8, linktype ? linktype : WC_PCAPNG_LINKTYPE_ETHERNET);
	put16(p + 10, 0);
	put32(p + 12, w->snaplen);
	p += 16;
	p += put_str_opt(p, OPT_IF_NAME, name);
	p += put_str_opt(p, OPT_IF_DESCRIPTION, descr);
	p += put_opt(p, OPT_IF_TSRESOL, &tsresol, 1);
	p += put_opt(p, OPT_ENDOFOPT, NULL, 0);
	put32(p, (uint32_t)len);
	/* the current file already has the SHB and earlier IDBs */
	if (buf_append(w, w->hdr + w->hdr_len, len) < 0)
		return w->err;
	w->hdr_len += len;
	w->n_ifaces++;
	return (int)id;
}

int wc_pcapng_set_isb(struct wc_pcapng *w, unsigned if_id,
		      const struct wc_pcapng_isb *isb)
{
	if (if_id >= w->n_ifaces || !isb)
		return -EINVAL;
	w->isb[if_id] = *isb;
	return 0;
}

int wc_pcapng_tick(struct wc_pcapng *w)
{
	if (unlikely(w->err))
		return w->err;
	if (w->finished)
		return -EBADF;
	if (w->rotate_ns && wc_clock_real_ns() >= w->deadline_ns)
		return rotate(w);
	return 0;
}

static int write_slow(struct wc_pcapng *w, unsigned if_id, size_t blen)
{
	if (w->err) {
		w->lost++;
		return w->err;
	}
	if (w->finished)
		return -EBADF;
	if (if_id >= w->n_ifaces)
		return -EINVAL;
	w->started = true;
	/* -C: close before this packet and the closing ISBs would exceed */
	if (w->rotate_bytes && w->file_pkts > 0 &&
	    w->file_off + w->used + blen + (uint64_t)w->n_ifaces * ISB_MAX >
		    w->rotate_bytes) {
		if (rotate(w) < 0) {
			w->lost++;
			return w->err;
		}
	}
	if (!buf_reserve(w, blen)) {
		w->lost++;
		return w->err;
	}
	return 0;
}

int wc_pcapng_write(struct wc_pcapng *w, unsigned if_id, uint64_t ts_ns,
		    const void *data, uint32_t len, uint32_t origlen,
		    uint32_t queue)
{
	uint32_t cap = len < w->snaplen ? len : w->snaplen;
	size_t dlen = PAD4((size_t)cap);
	size_t olen = w->epb_opts_len + (queue != WC_PCAPNG_NO_QUEUE ? 8 : 0);
	size_t blen = EPB_HDR + dlen + (olen ? olen + 4 : 0) + 4;
	uint8_t *p;

	/* one test on the fast path: everything unusual goes slow */
	if (unlikely(w->err || w->finished || !w->started ||
		     if_id >= w->n_ifaces || w->rotate_bytes ||
		     w->used + blen > w->buf_size)) {
		int r = write_slow(w, if_id, blen);

		if (r < 0)
			return r;
	}
	if (origlen < len)
		origlen = len;
	p = w->buf + w->used;
	put32(p, BT_EPB);
	put32(p + 4, (uint32_t)blen);
	put32(p + 8, if_id);
	put32(p + 12, (uint32_t)(ts_ns >> 32));
	put32(p + 16, (uint32_t)ts_ns);
	put32(p + 20, cap);
	put32(p + 24, origlen);
	p += EPB_HDR;
	if (dlen != cap)
		put32(p + dlen - 4, 0); /* zero the padding */
	if (likely(cap))
		memcpy(p, data, cap);
	p += dlen;
	if (olen) {
		if (w->flags & WC_PCAPNG_EPB_INBOUND) {
			put16(p, OPT_EPB_FLAGS);
			put16(p + 2, 4);
			put32(p + 4, EPB_FLAG_INBOUND);
			p += 8;
		}
		if (queue != WC_PCAPNG_NO_QUEUE) {
			put16(p, OPT_EPB_QUEUE);
			put16(p + 2, 4);
			put32(p + 4, queue);
			p += 8;
		}
		put32(p, 0); /* opt_endofopt */
		p += 4;
	}
	put32(p, (uint32_t)blen);
	w->used += blen;
	w->buf_pkts++;
	w->file_pkts++;
	return 0;
}

int wc_pcapng_flush(struct wc_pcapng *w)
{
	if (w->err)
		return w->err;
	if (w->finished)
		return -EBADF;
	return flush_buf(w);
}

int wc_pcapng_finish(struct wc_pcapng *w)
{
	if (!w)
		return -EINVAL;
	if (!w->finished) {
		close_file(w);
		w->finished = true;
	}
	return w->err;
}

void wc_pcapng_free(struct wc_pcapng *w)
{
	if (!w)
		return;
	if (w->fd >= 0 && !w->is_stdout)
		close(w->fd);
	if (w->ring) {
		for (unsigned i = 0; i < w->ring_n; i++)
			free(w->ring[i]);
		free(w->ring);
	}
	free(w->isb);
	free(w->hdr);
	free(w->buf);
	free(w->path);
	free(w);
}

int wc_pcapng_close(struct wc_pcapng *w)
{
	int r;

	if (!w)
		return 0;
	r = wc_pcapng_finish(w);
	wc_pcapng_free(w);
	return r;
}

const char *wc_pcapng_strerror(const struct wc_pcapng *w)
{
	return w->errmsg;
}

void wc_pcapng_get_stats(const struct wc_pcapng *w, struct wc_pcapng_stats *st)
{
	st->packets = w->packets;
	st->bytes = w->bytes;
	st->buffered = w->buf_pkts;
	st->lost = w->lost;
	st->files = w->files;
}

uint64_t wc_pcapng_packets(const struct wc_pcapng *w)
{
	return w->packets;
}

uint64_t wc_pcapng_bytes(const struct wc_pcapng *w)
{
	return w->bytes;
}

uint64_t wc_pcapng_files(const struct wc_pcapng *w)
{
	return w->files;
}

const char *wc_pcapng_cur_path(const struct wc_pcapng *w)
{
	return w->cur_path;
}
