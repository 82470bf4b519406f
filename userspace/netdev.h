/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Network device facts asked of the kernel (ioctl / rtnetlink), not sysfs:
 * under `nsenter --net` /sys/class/net still shows the host's devices.
 */
#ifndef WIRECAP_NETDEV_H
#define WIRECAP_NETDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/if_link.h>

struct wc_netdev_info {
	int ifindex;
	unsigned flags; /* IFF_UP, IFF_RUNNING, ... */
	unsigned mtu;
	uint8_t mac[6];
};

/* 0, or -errno (-ENODEV: no such interface) */
int wc_netdev_get_info(const char *ifname, struct wc_netdev_info *out);

/* Counters of a device (RTM_GETLINK, IFLA_STATS64); 0 or -errno */
int wc_netdev_stats(int ifindex, struct rtnl_link_stats64 *out);

/* Active RX / TX queue counts (ETHTOOL_GCHANNELS: combined + dedicated);
 * 1 / 1 when the driver does not report channels. 0, or -errno
 * (-ENODEV: no such interface). */
int wc_netdev_queues(const char *ifname, unsigned *rx, unsigned *tx);

/* What merges packets before generic XDP sees them (ETHTOOL_GGRO,
 * ETHTOOL_GFLAGS) and the driver's name (ETHTOOL_GDRVINFO, "" when it does
 * not say). 0, or -errno when GRO cannot be read. */
struct wc_netdev_offloads {
	bool gro, lro;
	char driver[32];
};
int wc_netdev_rx_offloads(const char *ifname, struct wc_netdev_offloads *out);

/* xdpfeat.c: the NETDEV_XDP_ACT_* bits the driver of @ifindex advertises
 * (Linux 6.3+); 0, or -errno (-EOPNOTSUPP: the kernel cannot tell) */
#define WC_XDP_ACT_XSK_ZEROCOPY (1ull << 3)
int wc_netdev_xdp_features(int ifindex, uint64_t *features);

#endif
