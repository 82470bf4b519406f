/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A streaming k-way merge by timestamp, for writers that receive packets
 * from several sockets (rx queue x worker) and must emit one stream in time
 * order, as a capture file of a single NIC is expected to be (Wireshark's
 * TCP analysis reads an ACK that precedes its data as a problem).
 *
 * Each source (one AF_XDP socket) delivers its packets in timestamp order:
 * one NAPI context stamps and enqueues them. Sources are merged with a heap
 * over their heads. A packet is released once no source can still deliver
 * an older one: every source has either delivered a later packet or was
 * found empty after that time (wc_reorder__horizon), or once it is older
 * than `delay` (a source that lags more than that cannot hold the others
 * back; what it then delivers is emitted as it comes and counted late).
 * Packets are copied (up to the snap length) into slabs, so the caller may
 * recycle its buffers at once.
 */
#ifndef WIRECAP_REORDER_H
#define WIRECAP_REORDER_H

#include <stddef.h>
#include <stdint.h>

struct wc_reorder;

/* emit one packet; a non-zero return stops the release and is returned */
typedef int (*wc_reorder_emit_fn)(void *ctx, uint64_t ts_ns, const void *data,
				  uint32_t caplen, uint32_t len,
				  uint32_t queue);

struct wc_reorder_stats {
	uint64_t pushed;
	uint64_t emitted;
	uint64_t late; /* emitted older than a packet emitted before it */
	uint64_t forced; /* released early because the buffer was full */
	uint64_t pending; /* held now */
	uint64_t pending_bytes;
	uint64_t max_pending_bytes; /* high-water mark */
};

/* sources: socket count; delay_ns: the longest a packet is held; snaplen:
 * bytes kept per packet; max_bytes: held bytes beyond which the oldest
 * packets are released early (0: 256 MiB). NULL + errno on failure. */
struct wc_reorder *wc_reorder__new(unsigned sources, uint64_t delay_ns,
				   uint32_t snaplen, size_t max_bytes);
void wc_reorder__free(struct wc_reorder *r);

/* copy a packet of source src in; 0 or -ENOMEM/-EINVAL */
int wc_reorder__push(struct wc_reorder *r, unsigned src, uint64_t ts_ns,
		     const void *data, uint32_t len, uint32_t queue);
/* source src will deliver nothing older than ts_ns (it was found empty) */
void wc_reorder__horizon(struct wc_reorder *r, unsigned src, uint64_t ts_ns);
/* emit, in order, every packet that can be released at time now_ns (same
 * clock as the timestamps) */
int wc_reorder__release(struct wc_reorder *r, uint64_t now_ns,
			wc_reorder_emit_fn emit, void *ctx);
/* emit everything held, in order (end of capture, rotation) */
int wc_reorder__flush(struct wc_reorder *r, wc_reorder_emit_fn emit, void *ctx);
/* drop everything held (after a write error); returns how many */
uint64_t wc_reorder__discard(struct wc_reorder *r);
void wc_reorder__stats(const struct wc_reorder *r, struct wc_reorder_stats *s);

#endif
