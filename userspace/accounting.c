// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wc_engine__accounting(): where every packet the XDP program saw went,
 * summed over the queues, from the engine's own counters (a shared
 * baseline), so the equation of libwirecap-xdp(3), ACCOUNTING, holds
 * exactly once the engine stopped. Public API only. */
#include <string.h>

#include "internal.h"

WC_API int wc_engine__accounting(struct wc_engine *e, struct wc_accounting *out)
{
	struct wc_accounting a;
	unsigned nq;
	int err;

	if (!e || !WC_OUT_VALID(out))
		return -EINVAL;
	memset(&a, 0, sizeof(a)); /* padding too: it is copied */
	nq = wc_engine__queues(e);
	/* every queue: XDP counts the packets of a queue the engine does not
	 * serve too (passed or dropped there) */
	for (unsigned q = 0; q < WC_MAX_QUEUES; q++) {
		struct wc_iface_queue_stats x = { .sz = sizeof(x) };
		struct wc_iface_pool_stats p = { .sz = sizeof(p) };

		err = wc_engine__queue_stats(e, q, &x);
		if (err)
			return err;
		a.received += x.packets;
		a.passed += x.passed;
		a.nosock_dropped += x.dropped;
		a.filtered += x.filtered;
		a.shed += x.shed;
		if (q >= nq)
			continue;
		err = wc_engine__pool_stats(e, q, &p);
		if (err)
			return err;
		a.delivered += p.delivered;
		a.fill_empty += p.fill_empty;
		a.ring_full += p.ring_full;
		a.other_dropped += p.other_dropped;
	}
	a.dropped =
		a.fill_empty + a.ring_full + a.other_dropped + a.nosock_dropped;
	a.unaccounted =
		(__s64)a.received - (__s64)(a.delivered + a.dropped + a.passed +
					    a.filtered + a.shed);
	a.stopped = wc_engine__stopped(e);
	WC_OUT_PUT(out, &a);
	return 0;
}
