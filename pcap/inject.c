// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pcap_inject / pcap_sendpacket on a "wirecap:IF" handle: out of IF
 * through a wirecap egress port in the engine's UMEM (opened at the first
 * packet; one lane, serialized: libpcap's callers send from any thread). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "wcpcap.h"

#define ALLOC_TRIES 200 /* x 1 ms: the TX frames are all in flight */

static int get_frame(struct wcp *h, struct wc_frame *f)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < ALLOC_TRIES; i++) {
		if (wc_port__alloc(h->port, f, 1) == 1)
			return 0;
		wc_port__poll(h->port);
		nanosleep(&ms, NULL);
	}
	return -ENOBUFS;
}

int wcp_inject(struct wcp *h, const void *buf, size_t len)
{
	struct wc_frame f;
	int err = 0;

	if (!h->activated) {
		wcp_err(h, "this handle has not been activated");
		return PCAP_ERROR_NOT_ACTIVATED;
	}
	pthread_mutex_lock(&h->port_lock);
	if (!h->port) {
		h->port = wc_port__open(h->e, h->ifname, NULL);
		if (!h->port) {
			err = -errno;
			wcp_err(h, "%s: cannot open the egress port: %s",
				h->ifname, strerror(errno));
			goto out;
		}
	}
	err = get_frame(h, &f);
	if (err) {
		wcp_err(h, "%s: no transmit frame free", h->ifname);
		goto out;
	}
	if (len > f.room) {
		wc_port__free(h->port, &f, 1);
		wcp_err(h, "%s: packet of %zu bytes, at most %u", h->ifname,
			len, f.room);
		err = -EMSGSIZE;
		goto out;
	}
	memcpy(f.data, buf, len);
	f.len = len;
	err = wc_port__send(h->port, 0, &f, 1);
	if (err >= 0)
		err = 0;
	else
		wcp_err(h, "%s: send: %s", h->ifname, strerror(-err));
out:
	pthread_mutex_unlock(&h->port_lock);
	return err ? PCAP_ERROR : (int)len;
}

void wcp_inject_close(struct wcp *h)
{
	if (h->port)
		wc_port__close(h->port);
	h->port = NULL;
}
