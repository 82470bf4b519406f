// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Device info, counters and queue counts through ioctl and rtnetlink. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "netdev.h"

static int ifreq_init(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	strcpy(ifr->ifr_name, ifname);
	return 0;
}

int wc_netdev_get_info(const char *ifname, struct wc_netdev_info *out)
{
	struct ifreq ifr;
	int fd, err = ifreq_init(&ifr, ifname);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		goto fail;
	out->ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	out->flags = (unsigned short)ifr.ifr_flags;
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		goto fail;
	out->mtu = ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	memcpy(out->mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return 0;
fail:
	err = errno == ENXIO ? -ENODEV : -errno;
	close(fd);
	return err;
}

/* one SIOCETHTOOL request on @ifname; 0 or -errno */
static int ethtool_req(const char *ifname, void *req)
{
	struct ifreq ifr;
	int fd, err = ifreq_init(&ifr, ifname);

	if (err)
		return err;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ifr.ifr_data = req;
	err = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
	close(fd);
	return err;
}

int wc_netdev_queues(const char *ifname, unsigned *rx, unsigned *tx)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	int err = ethtool_req(ifname, &ch);

	if (err && err != -EOPNOTSUPP && err != -ENOTSUP)
		return err == -ENXIO ? -ENODEV : err;
	*rx = *tx = 1;
	/* no channel support: a single-queue device */
	if (err)
		return 0;
	if (ch.combined_count + ch.rx_count)
		*rx = ch.combined_count + ch.rx_count;
	if (ch.combined_count + ch.tx_count)
		*tx = ch.combined_count + ch.tx_count;
	return 0;
}

int wc_netdev_rx_offloads(const char *ifname, struct wc_netdev_offloads *out)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_value gro = { .cmd = ETHTOOL_GGRO };
	struct ethtool_value fl = { .cmd = ETHTOOL_GFLAGS };
	int err;

	memset(out, 0, sizeof(*out));
	err = ethtool_req(ifname, &gro);
	if (err)
		return err;
	out->gro = gro.data != 0;
	if (!ethtool_req(ifname, &fl))
		out->lro = (fl.data & ETH_FLAG_LRO) != 0;
	if (!ethtool_req(ifname, &di))
		memcpy(out->driver, di.driver,
		       sizeof(out->driver) - 1 < sizeof(di.driver) ?
			       sizeof(out->driver) - 1 :
			       sizeof(di.driver));
	return 0;
}

int wc_netdev_stats(int ifindex, struct rtnl_link_stats64 *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.nh.nlmsg_seq = 1,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = ifindex,
	};
	struct timeval tv = { .tv_sec = 2 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	/* one RTM_NEWLINK with all attributes: a few KiB */
	char buf[32768] __attribute__((aligned(8)));
	int fd, err = -EPROTO;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct ifinfomsg *ifi;
		struct rtattr *rta;
		int len;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			err = e->error ? e->error : -EPROTO;
			goto out;
		}
		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		ifi = NLMSG_DATA(nh);
		len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
		for (rta = IFLA_RTA(ifi); RTA_OK(rta, len);
		     rta = RTA_NEXT(rta, len)) {
			if (rta->rta_type != IFLA_STATS64)
				continue;
			memset(out, 0, sizeof(*out));
			/* older kernels send a shorter struct */
			memcpy(out, RTA_DATA(rta),
			       RTA_PAYLOAD(rta) < sizeof(*out) ?
				       RTA_PAYLOAD(rta) :
				       sizeof(*out));
			err = 0;
			goto out;
		}
	}
out:
	close(fd);
	return err;
}
