// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pcap_stats of a "wirecap:" handle, since pcap_activate:
 *   ps_drop   packets wirecap lost, every cause (pool exhausted, RX ring
 *             full, other socket drops): what `wirecap stats` shows;
 *   ps_recv   packets that passed the filter (handed to the callback, or
 *             still waiting in the handle, not yet filtered) + ps_drop, as
 *             Linux's libpcap counts packets dropped after its filter;
 *   ps_ifdrop the NIC's own drops (rx_missed + rx_fifo errors) since then.
 * tcpdump prints them as "received by filter", "dropped by kernel" and
 * "dropped by interface".
 */
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include "wcpcap.h"

uint64_t wcp_nic_drops(const char *ifname)
{
	struct ifaddrs *ifa, *a;
	uint64_t v = 0;

	/* netlink in the caller's network namespace (sysfs may show
	 * another's: see DESIGN.md) */
	if (getifaddrs(&ifa))
		return 0;
	for (a = ifa; a; a = a->ifa_next) {
		const struct rtnl_link_stats *s = a->ifa_data;

		if (a->ifa_addr && a->ifa_addr->sa_family == AF_PACKET && s &&
		    !strcmp(a->ifa_name, ifname)) {
			v = (uint64_t)s->rx_missed_errors + s->rx_fifo_errors;
			break;
		}
	}
	freeifaddrs(ifa);
	return v;
}

int wcp_stats(struct wcp *h, struct pcap_stat *ps)
{
	uint64_t delivered = 0, drop = 0;

	if (!h->activated) {
		wcp_err(h, "this handle has not been activated");
		return PCAP_ERROR_NOT_ACTIVATED;
	}
	for (unsigned q = 0; q < h->nq; q++) {
		struct wc_iface_pool_stats s = { .sz = sizeof(s) };
		int err = wc_engine__pool_stats(h->e, q, &s);

		if (err) {
			wcp_err(h, "%s: cannot read the pool counters: %s",
				h->ifname, strerror(-err));
			return PCAP_ERROR;
		}
		delivered += s.delivered;
		drop += s.fill_empty + s.ring_full + s.other_dropped;
	}
	memset(ps, 0, sizeof(*ps));
	ps->ps_recv = delivered - h->filtered + drop;
	ps->ps_drop = drop;
	ps->ps_ifdrop = wcp_nic_drops(h->ifname) - h->nic_drop0;
	return 0;
}
