// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The XDP features a driver advertises (generic netlink family "netdev",
 * Linux 6.3+), asked before the UMEM is registered: a zero-copy bind that
 * fails costs the kernel an allocation and an initialisation of one
 * descriptor per frame of the whole UMEM (0.3 s for 1.5 GiB here), paid
 * again by the copy-mode bind that follows. (libbpf has this query from
 * 1.2 on; Debian 12 ships 1.1.)
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "netdev.h"

/* include/uapi/linux/netdev.h (not in every distribution's headers) */
#define NETDEV_CMD_DEV_GET_ 1
#define NETDEV_A_DEV_IFINDEX_ 1
#define NETDEV_A_DEV_XDP_FEATURES_ 3

struct gmsg {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char buf[1024];
};

static void put_attr(struct gmsg *m, __u16 type, const void *v, __u16 len)
{
	struct nlattr *a = (void *)((char *)m + NLMSG_ALIGN(m->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, v, len);
	m->n.nlmsg_len = NLMSG_ALIGN(m->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* send @m, receive the answer into @m; the attribute @type of it into @v */
static int ask(int fd, struct gmsg *m, __u16 type, void *v, size_t len)
{
	ssize_t n;
	struct nlattr *a;
	int left;

	if (send(fd, m, m->n.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, m, sizeof(*m), 0);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)NLMSG_HDRLEN || !NLMSG_OK(&m->n, n))
		return -EPROTO;
	if (m->n.nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(&m->n);

		return e->error ? e->error : -ENOENT;
	}
	a = (void *)((char *)&m->g + GENL_HDRLEN);
	left = (int)m->n.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= left) {
		if ((a->nla_type & NLA_TYPE_MASK) == type &&
		    (size_t)(a->nla_len - NLA_HDRLEN) >= len) {
			memcpy(v, (char *)a + NLA_HDRLEN, len);
			return 0;
		}
		left -= NLA_ALIGN(a->nla_len);
		a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return -ENOENT;
}

int wc_netdev_xdp_features(int ifindex, uint64_t *features)
{
	struct timeval tv = { .tv_sec = 1 };
	struct gmsg m;
	__u16 family = 0;
	__u32 idx = (__u32)ifindex;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&m, 0, sizeof(m));
	m.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m.n.nlmsg_type = GENL_ID_CTRL;
	m.n.nlmsg_flags = NLM_F_REQUEST;
	m.g.cmd = CTRL_CMD_GETFAMILY;
	m.g.version = 1;
	put_attr(&m, CTRL_ATTR_FAMILY_NAME, "netdev", sizeof("netdev"));
	err = ask(fd, &m, CTRL_ATTR_FAMILY_ID, &family, sizeof(family));
	if (err) {
		/* no "netdev" family before 6.3: unknown */
		close(fd);
		return err == -ENOENT ? -EOPNOTSUPP : err;
	}
	memset(&m, 0, sizeof(m));
	m.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m.n.nlmsg_type = family;
	m.n.nlmsg_flags = NLM_F_REQUEST;
	m.g.cmd = NETDEV_CMD_DEV_GET_;
	m.g.version = 1;
	put_attr(&m, NETDEV_A_DEV_IFINDEX_, &idx, sizeof(idx));
	err = ask(fd, &m, NETDEV_A_DEV_XDP_FEATURES_, features,
		  sizeof(*features));
	close(fd);
	return err;
}
