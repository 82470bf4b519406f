/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capture: gather, wait, the capture call, the stop's drain (rx.c). */
#ifndef WIRECAP_RX_H
#define WIRECAP_RX_H

#include "engine.h"

/* CLOCK_REALTIME - CLOCK_MONOTONIC, for the packets' timestamps */
void wc_refresh_rt_off(struct wc_engine *e);
/* the worker's rx rings into chunk c, up to its room (and the fences'
 * hand-off and parked packets when it is a move's new owner) */
void wc_gather(struct wc_worker *w, struct wc_chunk *c);
/* after stop: the sockets leave the XSKMAP, what is in flight lands, the
 * fences are released; once, whichever worker comes first */
void wc_engine_unplug(struct wc_engine *e);

#endif
