// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wc_engine__accounting(): where every packet the XDP program saw went,
 * summed over the queues, from the engine's own counters (a shared
 * baseline), so the equation of libwirecap-xdp(3), ACCOUNTING, holds
 * exactly once the engine stopped. Public API only. */
#include <string.h>

#include "internal.h"

WC_API int wc_engine__accounting(struct wc_engine *e, struct wc_accounting *out)
{
	struct wc_accounting a = { .sz = sizeof(a) };
	unsigned nq;
	size_t sz;
	int err;

	if (!e || !out || out->sz < sizeof(out->sz))
		return -EINVAL;
	nq = wc_engine__queues(e);
	/* every queue: XDP counts the packets of a queue the engine does not
	 * serve too (passed or dropped there) */
	for (unsigned q = 0; q < WC_MAX_QUEUES; q++) {
		struct wc_queue_stats x;
		struct wc_pool_stats p;

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
	/* a sized output: the caller's prefix, the rest of its struct zeroed */
	sz = out->sz;
	memcpy((char *)out + sizeof(sz), (char *)&a + sizeof(sz),
	       (sz < sizeof(a) ? sz : sizeof(a)) - sizeof(sz));
	if (sz > sizeof(a))
		memset((char *)out + sizeof(a), 0, sz - sizeof(a));
	return 0;
}
