/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * wirecap: streaming pcapng writer (util/: linked by the CLI and the
 * tests from libwcutil.a, not part of libwirecap-xdp).
 *
 * Format written (pcapng, host byte order, one section per file):
 *   SHB   shb_hardware, shb_os ("Linux <release>"), shb_userappl
 *         ("wirecap <version>"), section length -1 (streamable: the writer
 *         never seeks, so "-" / a pipe to `tshark -r -` works)
 *   IDB   one per wc_pcapng_add_iface(): linktype, snaplen, if_name,
 *         if_description (optional), if_tsresol = 9 (nanoseconds)
 *   EPB   per packet: 64-bit ns timestamp, captured length (snaplen
 *         applied), original length, data padded to 32 bits, options
 *         epb_queue (code 6, shown by tshark as frame.interface_queue) and,
 *         with WC_PCAPNG_EPB_INBOUND, epb_flags = inbound
 *         (frame.packet_flags_direction)
 *   ISB   one per interface right before a file is closed (rotation and
 *         final close): isb_starttime, isb_endtime, isb_ifrecv, isb_ifdrop,
 *         isb_filteraccept, isb_osdrop, isb_usrdeliv (each when known).
 *
 * Buffering: blocks are assembled in one buffer (default 1 MiB) and handed
 * to write(2) when it is full, on wc_pcapng_flush(), on rotation and on
 * close. The buffer only ever holds whole blocks.
 *
 * Errors: every function returning int returns 0 (or an id >= 0) on success
 * and a negative errno on failure. When a write fails (ENOSPC, EFBIG, EIO,
 * EPIPE...), a regular file is truncated back to the end of the last block
 * written completely, so the file stays a valid pcapng holding every packet
 * that fit; the writer is then "failed": that call and every later call
 * return the same negative errno and wc_pcapng_strerror() describes it,
 * e.g. "write out.pcapng: No space left on device". To get EPIPE rather
 * than being killed when a pipe reader goes away, the caller ignores
 * SIGPIPE (the writer does not touch signal dispositions).
 *
 * Rotation and file names (tcpdump-like):
 *   no rotation        the path as given ("-" = standard output, which
 *                      cannot be combined with rotation)
 *   rotate_bytes (-C)  path, path1, path2, ... A file is closed before the
 *                      packet that would make it (with its closing ISBs)
 *                      exceed rotate_bytes, so files never exceed it unless
 *                      a single packet does not fit in an empty file.
 *                      (tcpdump's -C unit is 1,000,000 bytes: the CLI
 *                      converts.)
 *   max_files N (-W)   with rotate_bytes and a path without strftime
 *                      patterns: names path0 .. path<N-1>, zero-padded to
 *                      the width of N-1 (-W 10: out0..out9; -W 100:
 *                      out00..out99); the ring wraps and overwrites.
 *   rotate_secs (-G)   a new file every rotate_secs of wall-clock time
 *                      (CLOCK_REALTIME), checked by wc_pcapng_tick() (call
 *                      it once per batch). If the path contains '%', it
 *                      is expanded with strftime(3) in local time when each
 *                      file is opened (out-%Y%m%d-%H%M%S.pcapng); with -C
 *                      too, files within the same expanded name get
 *                      suffixes 1, 2, ... If the path has no '%', files are
 *                      numbered as with -C (unlike tcpdump, a file is never
 *                      overwritten by the next one).
 *   max_files with -G  keep at most N files: when a new file is opened the
 *                      oldest one this writer created is removed (tcpdump
 *                      -G -W instead stops; wirecap keeps a ring).
 * Every file is a complete pcapng: SHB, all IDBs, packets, ISBs.
 *
 * Threading: a writer is used by one thread at a time.
 */
#ifndef WIRECAP_PCAPNG_H
#define WIRECAP_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#define WC_PCAPNG_LINKTYPE_ETHERNET 1
#define WC_PCAPNG_DEFAULT_SNAPLEN 262144u
#define WC_PCAPNG_MAX_SNAPLEN 262144u /* what Wireshark accepts */
#define WC_PCAPNG_DEFAULT_BUF (1u << 20)
/* A counter of struct wc_pcapng_isb that is not known */
#define WC_PCAPNG_ABSENT UINT64_MAX
/* queue argument of wc_pcapng_write(): omit the epb_queue option */
#define WC_PCAPNG_NO_QUEUE UINT32_MAX
/* wc_pcapng_opts.flags: write epb_flags "inbound" on every packet */
#define WC_PCAPNG_EPB_INBOUND 0x1u

/* Interface statistics written in an ISB. Counters are cumulative since
 * start_ns; WC_PCAPNG_ABSENT leaves the option out. */
struct wc_pcapng_isb {
	uint64_t ifrecv; /* packets received by the interface (NIC/XDP) */
	uint64_t ifdrop; /* dropped by the interface: no buffer, ring full */
	uint64_t filteraccept; /* accepted by the filter */
	uint64_t osdrop; /* dropped by the OS / capture engine */
	uint64_t usrdeliv; /* delivered to the user (this writer) */
	uint64_t start_ns; /* isb_starttime, unix ns; 0 = time of open */
	uint64_t end_ns; /* isb_endtime and block time; 0 = now */
	char comment[128]; /* opt_comment; "": none */
};

/* Called once per interface right before a file is closed (rotation and
 * final close). *out is pre-filled with the values last given to
 * wc_pcapng_set_isb() (all counters absent if none), start_ns = time of
 * wc_pcapng_open() and end_ns = now; the callback updates what it knows. */
typedef void (*wc_pcapng_stats_cb)(void *ctx, unsigned if_id,
				   struct wc_pcapng_isb *out);

struct wc_pcapng_opts {
	size_t sz; /* sizeof(struct wc_pcapng_opts) */
	const char *path; /* file name, strftime pattern with -G, or "-" */
	uint64_t rotate_bytes; /* -C, bytes; 0 = off */
	unsigned rotate_secs; /* -G; 0 = off */
	unsigned max_files; /* -W; 0 = unlimited; needs -C or -G */
	uint32_t snaplen; /* 0 = default; at most WC_PCAPNG_MAX_SNAPLEN */
	size_t buf_size; /* 0 = WC_PCAPNG_DEFAULT_BUF (raised to fit a packet) */
	wc_pcapng_stats_cb stats_cb; /* optional */
	void *cb_ctx;
	unsigned flags; /* WC_PCAPNG_EPB_* */
};

/* Counters, all files together. */
struct wc_pcapng_stats {
	uint64_t packets; /* packets whose EPB reached the output (write(2)) */
	uint64_t bytes; /* bytes written to the output, whole blocks only */
	uint64_t buffered; /* packets accepted, still in the buffer */
	uint64_t lost; /* packets accepted but not in the output because of a
			* write error (cut off, buffered or refused after it) */
	uint64_t files; /* files opened (stdout counts as one) */
};

struct wc_pcapng;

/* Opens the first file and buffers the SHB. A regular file is opened
 * without O_TRUNC, locked (flock, exclusive, held while it is written) and
 * only then emptied: when another writer holds it, open fails with EBUSY
 * ("... is being written by another capture: not touched") and the file
 * is left as it was. The same holds for every file of a rotation. On failure returns NULL, sets
 * errno and, if errbuf is not NULL, a message such as
 * "open /x/out.pcapng: Permission denied". */
struct wc_pcapng *wc_pcapng_open(const struct wc_pcapng_opts *opts,
				 char *errbuf, size_t errlen);

/* Before anything else is set up: are the options valid, and could the
 * first file be written now? Neither creates, truncates nor removes
 * anything (an existing file is opened for writing without O_TRUNC and
 * closed; a new one is tried as a probe file in its directory). 0, or a
 * negative errno with a message in errbuf ("cannot create /x/out.pcapng:
 * Permission denied"). */
int wc_pcapng_check(const struct wc_pcapng_opts *opts, char *errbuf,
		    size_t errlen);

/* Adds an interface (IDB); returns its if_id (0, 1, ...). All interfaces
 * must be added before the first packet (-EBUSY after). descr may be NULL;
 * linktype 0 means Ethernet. */
int wc_pcapng_add_iface(struct wc_pcapng *w, const char *name,
			const char *descr, uint16_t linktype);

/* Stores the statistics used for the next ISBs of if_id (see stats_cb). */
int wc_pcapng_set_isb(struct wc_pcapng *w, unsigned if_id,
		      const struct wc_pcapng_isb *isb);

/* Call once per batch (chunk): with rotate_secs, rotates the file when its
 * wall-clock period has ended. Cheap (vDSO clock read). */
int wc_pcapng_tick(struct wc_pcapng *w);

/* Appends one packet: len bytes at data (snaplen applied here), origlen
 * the length on the wire (raised to len if smaller), ts_ns the unix time in
 * ns, queue the rx queue or WC_PCAPNG_NO_QUEUE. Writes out the buffer when
 * full and rotates with rotate_bytes. */
int wc_pcapng_write(struct wc_pcapng *w, unsigned if_id, uint64_t ts_ns,
		    const void *data, uint32_t len, uint32_t origlen,
		    uint32_t queue);

/* Writes the buffer out (call when idle so a pipe reader sees packets). */
int wc_pcapng_flush(struct wc_pcapng *w);

/* Writes the ISBs (stats_cb), flushes and closes the file. Idempotent;
 * afterwards only the getters, wc_pcapng_strerror and wc_pcapng_free may
 * be used. Returns the first error of the writer's life, or 0. Standard
 * output is flushed but not closed. */
int wc_pcapng_finish(struct wc_pcapng *w);
void wc_pcapng_free(struct wc_pcapng *w);
/* wc_pcapng_finish() then wc_pcapng_free(); NULL is ignored */
int wc_pcapng_close(struct wc_pcapng *w);

/* Message for the first error ("" if none); valid until wc_pcapng_free */
const char *wc_pcapng_strerror(const struct wc_pcapng *w);
void wc_pcapng_get_stats(const struct wc_pcapng *w, struct wc_pcapng_stats *st);
uint64_t wc_pcapng_packets(const struct wc_pcapng *w);
uint64_t wc_pcapng_bytes(const struct wc_pcapng *w);
uint64_t wc_pcapng_files(const struct wc_pcapng *w);
/* Name of the file being written (or last written) */
const char *wc_pcapng_cur_path(const struct wc_pcapng *w);

#endif
