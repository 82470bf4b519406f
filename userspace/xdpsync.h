/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Waiting for the XDP program runs in flight (docs/monitor.md, "The grace"). */
#ifndef WC_XDPSYNC_H
#define WC_XDPSYNC_H

struct wc_xdpsync {
	int outer; /* an ARRAY_OF_MAPS of one entry; -1: not available */
	int inner; /* the map stored in it */
};

/* Sets s up; on failure (an old kernel, no memory) s waits by time. */
void wc_xdpsync__open(struct wc_xdpsync *s);
void wc_xdpsync__close(struct wc_xdpsync *s);
/* Returns once every XDP program run that began before the call has
 * ended, with what it redirected in its socket's ring: 0, or -errno when
 * the kernel could not be asked and a fixed grace of fallback_us was
 * slept instead. */
int wc_xdpsync__wait(struct wc_xdpsync *s, unsigned fallback_us);

#endif
