// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The XDP hook of an interface: which program is attached and in which
 * mode, attaching in native or generic mode through netlink or a BPF link,
 * and detaching however the program was attached.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"

__u32 wc_prog_id_of_fd(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* XDP program attached to ifindex (any mode) and the mode it is in. */
__u32 wc_xdp_attached(int ifindex, enum wc_xdp_mode *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode == XDP_ATTACHED_SKB ? WC_MODE_GENERIC :
							    WC_MODE_NATIVE;
	if (q.attach_mode == XDP_ATTACHED_SKB)
		return q.skb_prog_id;
	if (q.attach_mode == XDP_ATTACHED_DRV ||
	    q.attach_mode == XDP_ATTACHED_HW)
		return q.attach_mode == XDP_ATTACHED_DRV ? q.drv_prog_id :
							   q.hw_prog_id;
	if (q.attach_mode == XDP_ATTACHED_MULTI)
		return q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	return 0;
}

/* The BPF link that holds program prog_id on an interface, as an fd, or
 * -ENOENT. Netlink does not show XDP links: walk the kernel's links.
 * Program ids are global, so this holds across network namespaces, where
 * ifindexes do not. */
int wc_xdp_link_of(__u32 prog_id)
{
	__u32 id = 0;

	while (prog_id && !bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP && info.prog_id == prog_id)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Take program prog_id (fd prog_fd, or -1: whatever is attached) off the
 * interface, however it was attached: netlink refuses (EBUSY) to touch a
 * program a BPF link holds, so such a link is detached instead. */
int wc_xdp_detach(int ifindex, __u32 flags, int prog_fd, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = prog_fd);
	int err, lfd;

	err = bpf_xdp_detach(ifindex, flags, prog_fd >= 0 ? &ao : NULL);
	if (err != -EBUSY)
		return err;
	lfd = wc_xdp_link_of(prog_id);
	if (lfd < 0)
		return err;
	err = bpf_link_detach(lfd);
	close(lfd);
	return err;
}

/* netlink (persistent), or a BPF link when link_fd is given (transient:
 * *link_fd holds the attachment) */
static int attach_in_mode(int ifindex, int prog_fd, __u32 flags, int *link_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags & XDP_FLAGS_MODES);
	int fd;

	if (!link_fd)
		return bpf_xdp_attach(ifindex, prog_fd, flags, NULL);
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	if (fd == -EINVAL) {
		/* no XDP links before Linux 5.9 */
		pr_info("no BPF links for XDP on this kernel: attached through netlink, so a killed engine leaves the program attached\n");
		return bpf_xdp_attach(ifindex, prog_fd, flags, NULL);
	}
	if (fd < 0)
		return fd;
	*link_fd = fd;
	return 0;
}

int wc_xdp_attach(int ifindex, int prog_fd, enum wc_xdp_mode mode,
		  __u32 replace_id, enum wc_xdp_mode *got, int *link_fd)
{
	__u32 flags = replace_id ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST;
	int err = -EOPNOTSUPP;

	if (mode == WC_MODE_AUTO || mode == WC_MODE_NATIVE) {
		err = attach_in_mode(ifindex, prog_fd,
				     flags | XDP_FLAGS_DRV_MODE, link_fd);
		if (!err) {
			*got = WC_MODE_NATIVE;
			return 0;
		}
		if (mode == WC_MODE_NATIVE || err == -EBUSY || err == -EEXIST ||
		    err == -EPERM)
			return err;
		pr_info("native XDP refused (%s), falling back to generic\n",
			strerror(-err));
	}
	err = attach_in_mode(ifindex, prog_fd, flags | XDP_FLAGS_SKB_MODE,
			     link_fd);
	if (!err)
		*got = WC_MODE_GENERIC;
	return err;
}
