// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine's view of its interface's link: a link that goes down (set
 * down, or no carrier: a cable reseat, a switch reboot on a tap) and comes
 * back is a gap the engine rides out and counts; only an interface that
 * vanished (deleted, or moved to another network namespace) ends it.
 *
 * The AF_XDP sockets need nothing across a flap: the kernel unbinds them
 * only when the device unregisters (NETDEV_UNREGISTER, with sk_err
 * ENETDOWN); down and up leave them bound, and on veth (native and generic
 * XDP, copy mode) packets flow into the same sockets and pools after the
 * up. A zero-copy driver rebuilds its rings on up and may wait for a
 * wake-up: the fill rings are kicked when the link comes back.
 *
 * The kernel tells through rtnetlink (RTNLGRP_LINK), so a flap shorter than
 * the monitor's interval is seen and timed; the monitor also looks through
 * ioctl every interval (netlink may overrun, and it names the interface by
 * index only). ioctl and netlink ask the kernel of the engine's network
 * namespace: /sys/class/net may show another one (nsenter --net).
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "engine.h"
#include "pool.h"
#include "netdev.h"

static bool flags_up(unsigned flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

static void link_gone(struct wc_engine *e)
{
	if (atomic_exchange(&e->dev_gone, true))
		return;
	pr_warn("%s: interface disappeared\n", e->ifname);
}

/* the link is (up) now, as seen at @now (CLOCK_MONOTONIC ns) */
static void link_set(struct wc_engine *e, bool up, __u64 now)
{
	struct wc_link *l = &e->link;
	bool came_back = false;
	__u64 gap = 0;

	pthread_mutex_lock(&l->lock);
	if (!up && !l->down) {
		l->down = true;
		l->down_since = now;
		l->events++;
	} else if (up && l->down) {
		l->down = false;
		gap = now > l->down_since ? now - l->down_since : 0;
		l->down_ns += gap;
		came_back = true;
	} else {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	pthread_mutex_unlock(&l->lock);
	if (came_back) {
		pr_warn("%s: link up again after %.3f s down: capturing\n",
			e->ifname, gap / 1e9);
		wc_engine_kick_pools(e);
	} else {
		pr_warn("%s: link down: nothing arrives until it comes back; capture goes on\n",
			e->ifname);
	}
}

/* Through ioctl: the interface by name, its index and flags. */
void wc_link_check(struct wc_engine *e)
{
	struct wc_netdev_info ni;

	if (atomic_load(&e->dev_gone))
		return;
	if (wc_netdev_get_info(e->ifname, &ni) || ni.ifindex != e->ifindex) {
		link_gone(e);
		return;
	}
	link_set(e, flags_up(ni.flags), wc_now_mono());
}

int wc_link_open(struct wc_engine *e)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK };
	struct wc_link *l = &e->link;

	l->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  NETLINK_ROUTE);
	if (l->nl_fd >= 0 &&
	    bind(l->nl_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(l->nl_fd);
		l->nl_fd = -1;
	}
	if (l->nl_fd < 0)
		pr_info("%s: no link notifications (%s): looking every interval\n",
			e->ifname, strerror(errno));
	/* the state now (subscribed first: a change from here on is seen) */
	wc_link_check(e);
	return 0;
}

void wc_link_close(struct wc_engine *e)
{
	if (e->link.nl_fd >= 0)
		close(e->link.nl_fd);
	e->link.nl_fd = -1;
}

int wc_link_fd(const struct wc_engine *e)
{
	return e->link.nl_fd;
}

/* Read what the kernel said about links (non-blocking, bounded). */
void wc_link_read(struct wc_engine *e)
{
	char buf[16384] __attribute__((aligned(8)));

	for (int i = 0; i < 64 && e->link.nl_fd >= 0; i++) {
		ssize_t n = recv(e->link.nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		__u64 now = wc_now_mono();

		if (n < 0) {
			/* overrun: events were lost, ask for the state */
			if (errno == ENOBUFS)
				wc_link_check(e);
			return;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(nh);

			if ((nh->nlmsg_type != RTM_NEWLINK &&
			     nh->nlmsg_type != RTM_DELLINK) ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
			    ifi->ifi_index != e->ifindex)
				continue;
			if (nh->nlmsg_type == RTM_DELLINK)
				link_gone(e);
			else if (!atomic_load(&e->dev_gone))
				link_set(e, flags_up(ifi->ifi_flags), now);
		}
	}
}

WC_API int wc_engine__link_stats(struct wc_engine *e, struct wc_link_stats *out)
{
	struct wc_link_stats o;
	struct wc_link *l;

	if (!e || !WC_OUT_VALID(out))
		return -EINVAL;
	l = &e->link;
	memset(&o, 0, sizeof(o)); /* padding too: it is copied */
	pthread_mutex_lock(&l->lock);
	o.down_events = l->events;
	o.down_ns = l->down_ns;
	o.down = l->down;
	if (l->down) {
		__u64 now = wc_now_mono();

		o.down_ns += now > l->down_since ? now - l->down_since : 0;
	}
	pthread_mutex_unlock(&l->lock);
	o.gone = atomic_load(&e->dev_gone) && !atomic_load(&e->xdp_gone);
	WC_OUT_PUT(out, &o);
	return 0;
}
