/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Start-up of capture, bench and forward: the UMEM frame size for the
 * MTU, notes and warnings once the engine is up, the "listening" line. */
#ifndef WIRECAP_CMD_SETUP_H
#define WIRECAP_CMD_SETUP_H

#include <stddef.h>

#include "report.h"

/* Before engine_open(): when --frame-size was not given and a frame of the
 * MTU of @ifname (or of @ifname2, if not NULL) does not fit a 2048 B UMEM
 * frame, take 4096 B frames. */
void engine_prepare(struct engine_args *ea, const char *ifname,
		    const char *ifname2);

/* Once the engine on @ifname is up, one line each on stderr (also with
 * -q): a note per attach-time option (--workers, --mode, --steer,
 * --buckets) that the existing attachment overrides, and a warning when
 * frames of the MTU are longer than a UMEM frame takes. */
void engine_notes(struct wc_engine *e, const char *ifname,
		  const struct engine_args *ea);

/* "4 queues, 2 workers, pool 3.1 GiB (200000 frames/queue), native XDP,
 * copy mode" (and the frame size when it is not 2048 B) */
void engine_describe(struct wc_engine *e, char *buf, size_t len);

/* capture, bench: a warning (one line, also with -q) when @ifname has IPv4
 * or IPv6 addresses other than link-local ones: what XDP redirects to the
 * engine never reaches the host's stack. */
void warn_if_addresses(const char *ifname);

/* The one-line error of engine_open() for EBUSY: another XDP program, or
 * another engine / AF_XDP socket on the queues */
void engine_busy_err(const char *ifname, const struct wc_engine_opts *eo);

#endif
