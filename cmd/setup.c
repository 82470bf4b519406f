// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

#include "netdev.h"
#include "cmd.h"
#include "setup.h"

/* The longest frame a UMEM frame takes: the kernel keeps
 * XDP_PACKET_HEADROOM in front of every AF_XDP frame (struct wc_meta lives
 * there) and wirecap's UMEM adds no headroom of its own; a longer frame is
 * dropped by the socket (counted as other / oversize). */
static unsigned frame_room(unsigned frame_size)
{
	return frame_size - XDP_PACKET_HEADROOM;
}

/* the longest frame of an MTU: Ethernet header and two VLAN tags */
#define L2_OVERHEAD (14 + 2 * 4)

static unsigned iface_mtu(const char *ifname)
{
	struct wc_netdev_info di;

	return ifname && !wc_netdev_get_info(ifname, &di) ? di.mtu : 0;
}

void engine_prepare(struct engine_args *ea, const char *ifname,
		    const char *ifname2)
{
	unsigned mtu = iface_mtu(ifname), mtu2 = iface_mtu(ifname2);

	if (mtu2 > mtu)
		mtu = mtu2;
	if (!ea->eo.frame_size && mtu && mtu + L2_OVERHEAD > frame_room(2048))
		ea->eo.frame_size = 4096;
}

static const char *mode_name(enum wc_xdp_mode m)
{
	return m == WC_XDP_NATIVE  ? "native" :
	       m == WC_XDP_GENERIC ? "generic" :
				     "auto";
}

/* Generic XDP runs on the sk_buff, after GRO/LRO merged TCP segments and
 * with a veth peer's TSO/GSO super-packets unsplit (native XDP on a veth
 * turns segmentation off on its peer; generic does not): up to 64 KiB
 * that no UMEM frame holds, every one dropped as oversize. */
static void warn_generic_merges(const char *ifname, unsigned room)
{
	struct wc_netdev_offloads o;

	if (wc_netdev_rx_offloads(ifname, &o))
		return;
	if (o.gro || o.lro)
		fprintf(stderr,
			"wirecap: warning: %s: generic XDP sees packets after %s merged them: merged TCP longer than %u bytes is dropped (counted as oversize); turn it off: ethtool -K %s %s\n",
			ifname,
			o.gro && o.lro ? "GRO and LRO" :
			o.gro	       ? "GRO" :
					 "LRO",
			room, ifname,
			o.gro && o.lro ? "gro off lro off" :
			o.gro	       ? "gro off" :
					 "lro off");
	if (!strcmp(o.driver, "veth"))
		fprintf(stderr,
			"wirecap: warning: %s: generic XDP on a veth: TCP/UDP its peer sends with TSO/GSO arrives unsplit, and longer than %u bytes is dropped (counted as oversize); turn them off on the peer: ethtool -K PEER tso off tx-udp-segmentation off\n",
			ifname, room);
}

void engine_notes(struct wc_engine *e, const char *ifname,
		  const struct engine_args *ea)
{
	const struct wc_attach_opts *ao = &ea->ao;
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	struct wc_iface_info ii;
	unsigned mtu = iface_mtu(ifname), room;

	if (wc_iface__info(wc_engine__iface(e), &ii) || wc_engine__info(e, &ei))
		return;
	if (ao->workers && ii.workers != ao->workers)
		fprintf(stderr,
			"wirecap: note: %s is attached with %u workers; --workers %u applies only when wirecap attaches\n",
			ifname, ii.workers, ao->workers);
	if (ao->mode != WC_XDP_AUTO && ii.mode != ao->mode)
		fprintf(stderr,
			"wirecap: note: %s is attached in %s mode; --mode %s applies only when wirecap attaches\n",
			ifname, mode_name(ii.mode), mode_name(ao->mode));
	if (ao->steer_mode == WC_STEER_FLOW && ii.steer_mode != WC_STEER_FLOW)
		fprintf(stderr,
			"wirecap: note: %s is attached with --steer queue; --steer flow applies only when wirecap attaches\n",
			ifname);
	if (ao->buckets && ii.buckets != ao->buckets)
		fprintf(stderr,
			"wirecap: note: %s is attached with %u buckets; --buckets %u applies only when wirecap attaches\n",
			ifname, ii.buckets, ao->buckets);
	room = frame_room(ei.frame_size);
	if (mtu && mtu + L2_OVERHEAD > room)
		fprintf(stderr,
			"wirecap: warning: %s: frames longer than %u bytes will be dropped (counted as oversize): MTU %u needs %s\n",
			ifname, room, mtu,
			mtu + L2_OVERHEAD <= frame_room(4096) ?
				"--frame-size 4096" :
				"multi-buffer AF_XDP, not supported");
	if (ii.mode == WC_XDP_GENERIC)
		warn_generic_merges(ifname, room);
}

void engine_describe(struct wc_engine *e, char *buf, size_t len)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	struct wc_iface_info ii;
	char pool[32], frames[48] = "";
	double mib;

	if (wc_engine__info(e, &ei) ||
	    wc_iface__info(wc_engine__iface(e), &ii)) {
		snprintf(buf, len, "running");
		return;
	}
	mib = ei.umem_bytes / (1024.0 * 1024.0);
	if (mib >= 1024)
		snprintf(pool, sizeof(pool), "%.1f GiB", mib / 1024);
	else if (mib >= 1)
		snprintf(pool, sizeof(pool), "%.0f MiB", mib);
	else /* a test-sized pool: not "0 MiB" */
		snprintf(pool, sizeof(pool), "%.0f KiB", mib * 1024);
	if (ei.frame_size != 2048) {
		unsigned mtu = iface_mtu(ii.ifname);

		if (mtu && mtu + L2_OVERHEAD > frame_room(2048))
			snprintf(frames, sizeof(frames), " of %u B for MTU %u",
				 ei.frame_size, mtu);
		else
			snprintf(frames, sizeof(frames), " of %u B",
				 ei.frame_size);
	}
	snprintf(
		buf, len,
		"%u queue%s, %u worker%s, pool %s (%llu frames/queue%s), %s XDP, %s mode",
		ei.queues, ei.queues == 1 ? "" : "s", ei.workers,
		ei.workers == 1 ? "" : "s", pool,
		(unsigned long long)ei.chunks * ei.chunk_size, frames,
		mode_name(ii.mode),
		ei.bind_mode == WC_BIND_ZEROCOPY ? "zero-copy" : "copy");
}

void warn_if_addresses(const char *ifname)
{
	struct ifaddrs *ifa, *a;
	bool found = false;

	if (getifaddrs(&ifa))
		return;
	for (a = ifa; a && !found; a = a->ifa_next) {
		if (!a->ifa_addr || !a->ifa_name || strcmp(a->ifa_name, ifname))
			continue;
		if (a->ifa_addr->sa_family == AF_INET)
			found = true;
		else if (a->ifa_addr->sa_family == AF_INET6)
			/* link-local addresses come with any interface up:
			 * a mirror port has them too */
			found = !IN6_IS_ADDR_LINKLOCAL(
				&((struct sockaddr_in6 *)a->ifa_addr)
					 ->sin6_addr);
	}
	freeifaddrs(ifa);
	if (found)
		fprintf(stderr,
			"wirecap: warning: %s has addresses: packets wirecap captures do not reach the host's stack (capture on a mirror port or tap)\n",
			ifname);
}

void engine_busy_err(const char *ifname, const struct wc_engine_opts *eo)
{
	struct wc_iface *ifc = wc_iface__open(ifname, eo->pin_root);
	unsigned ifindex = if_nametoindex(ifname);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (!ifc && ifindex && !bpf_xdp_query((int)ifindex, 0, &q) &&
	    q.attach_mode != XDP_ATTACHED_NONE) {
		/* not wirecap's: the library's advice (--force) is attach's */
		bool skb = q.attach_mode == XDP_ATTACHED_SKB;
		__u32 id = skb				     ? q.skb_prog_id :
			   q.attach_mode == XDP_ATTACHED_DRV ? q.drv_prog_id :
							       q.prog_id;

		cmd_err_only(
			"%s: another XDP program (id %u) is attached: remove it (ip link set dev %s %s off) or replace it (wirecap attach %s --force)",
			ifname, id, ifname, skb ? "xdpgeneric" : "xdp", ifname);
		return;
	}
	wc_iface__close(ifc);
	cmd_err_lib(
		"%s: busy: another capture (or AF_XDP socket) uses its queues",
		ifname);
}
