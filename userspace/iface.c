// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The attachment handle: open an existing attachment from its pins
 * (cleaning stale ones on the way), close, detach. Loading and attaching
 * the program is attach.c; the pins themselves pins.c.
 */
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"

/* id of the program this handle uses, and of the program attached to its
 * interface in the mode it was attached in (0: none) */
__u32 wc_iface_prog_id(const struct wc_iface *ifc)
{
	return ifc->prog_fd >= 0 ? wc_prog_id_of_fd(ifc->prog_fd) : 0;
}

__u32 wc_iface_attached_id(const struct wc_iface *ifc)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifc->ifindex, 0, &q))
		return 0;
	return ifc->cfg.attach_mode == WC_ATTACH_GENERIC ? q.skb_prog_id :
							   q.drv_prog_id;
}

void wc_iface_free(struct wc_iface *ifc)
{
	if (!ifc)
		return;
	if (ifc->prog_fd >= 0)
		close(ifc->prog_fd);
	if (ifc->link_fd >= 0)
		close(ifc->link_fd); /* the last reference: detaches */
	for (size_t i = 0; i < sizeof(ifc->map_fd) / sizeof(ifc->map_fd[0]);
	     i++)
		if (ifc->map_fd[i] >= 0)
			close(ifc->map_fd[i]);
	free(ifc);
}

struct wc_iface *wc_iface_new(const char *ifname, const char *root)
{
	struct wc_iface *ifc = calloc(1, sizeof(*ifc));
	char dir[3 * IF_NAMESIZE];
	int n;

	if (!ifc)
		return NULL;
	ifc->prog_fd = -1;
	ifc->link_fd = -1;
	for (size_t i = 0; i < sizeof(ifc->map_fd) / sizeof(ifc->map_fd[0]);
	     i++)
		ifc->map_fd[i] = -1;
	snprintf(ifc->ifname, sizeof(ifc->ifname), "%s", ifname);
	snprintf(ifc->pin_root, sizeof(ifc->pin_root), "%s", root);
	if (wc_pin_name_encode(dir, sizeof(dir), ifname)) {
		free(ifc);
		errno = ENAMETOOLONG;
		return NULL;
	}
	n = snprintf(ifc->pin_dir, sizeof(ifc->pin_dir), "%s/%s", root, dir);
	if (n < 0 || (size_t)n >= sizeof(ifc->pin_dir)) {
		free(ifc);
		errno = ENAMETOOLONG;
		return NULL;
	}
	ifc->ncpus = libbpf_num_possible_cpus();
	if (ifc->ncpus <= 0)
		ifc->ncpus = 1;
	return ifc;
}

/* BPF and XDP need CAP_BPF + CAP_NET_ADMIN (or CAP_SYS_ADMIN): say so
 * up front rather than failing on the first bpf() call with a riddle. */
int wc_check_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3
	};
	struct __user_cap_data_struct d[2] = {};
	__u64 eff;

	if (syscall(SYS_capget, &h, d))
		return 0; /* cannot tell: let the kernel decide */
	eff = d[0].effective | ((__u64)d[1].effective << 32);
#define HAS(c) (eff & (1ull << (c)))
	if (HAS(CAP_SYS_ADMIN) || (HAS(CAP_BPF) && HAS(CAP_NET_ADMIN)))
		return 0;
#undef HAS
	pr_warn("permission denied: needs root (CAP_BPF and CAP_NET_ADMIN)\n");
	return -EPERM;
}

int wc_check_ifname(const char *ifname)
{
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE ||
	    strchr(ifname, '/') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return -EINVAL;
	return if_nametoindex(ifname) ? 0 : -ENODEV;
}

void wc_iface_reset_fds(struct wc_iface *ifc)
{
	if (ifc->prog_fd >= 0)
		close(ifc->prog_fd);
	ifc->prog_fd = -1;
	for (size_t i = 0; i < sizeof(ifc->map_fd) / sizeof(ifc->map_fd[0]);
	     i++) {
		if (ifc->map_fd[i] >= 0)
			close(ifc->map_fd[i]);
		ifc->map_fd[i] = -1;
	}
}

/* Pins of an interface that no longer exists are stale: remove them (best
 * effort, no message unless some were there). */
static void clean_gone(const char *ifname, const char *root)
{
	struct wc_iface *ifc = wc_iface_new(ifname, root);
	struct stat st;
	int lockfd;

	if (!ifc)
		return;
	if (!stat(ifc->pin_dir, &st)) {
		lockfd = wc_root_lock(root);
		if (lockfd >= 0 && wc_pins_open(ifc) == -ESTALE) {
			pr_info("%s: removing stale pins in %s\n", ifname,
				ifc->pin_dir);
			wc_pins_remove(ifc->pin_dir);
		}
		wc_root_unlock(lockfd);
	}
	wc_iface_free(ifc);
}

WC_API struct wc_iface *wc_iface__open(const char *ifname, const char *pin_root)
{
	const char *root = wc_pin_root(pin_root);
	struct wc_iface *ifc;
	int err;

	/* a missing interface is said so before anything else; pins it left
	 * behind (deleted with them) are cleaned on the way, quietly */
	err = wc_check_ifname(ifname);
	if (err == -ENODEV)
		clean_gone(ifname, root);
	if (err) {
		errno = -err;
		return NULL;
	}
	err = wc_check_caps();
	if (!err)
		err = wc_ensure_bpffs(root);
	if (err) {
		errno = err == -EMEDIUMTYPE ? ENOENT : -err;
		return NULL;
	}
	ifc = wc_iface_new(ifname, root);
	if (!ifc)
		return NULL;
	err = wc_pins_open(ifc);
	if (err == -ESTALE) {
		int lockfd = wc_root_lock(root);

		wc_iface_reset_fds(ifc);
		/* re-check under the lock: an attach may just have finished */
		if (wc_pins_open(ifc) == -ESTALE) {
			wc_pins_say_stale(ifc);
			wc_pins_remove(ifc->pin_dir);
		}
		wc_root_unlock(lockfd);
		err = -ENOENT;
	}
	if (err == 0 && wc_check_ifname(ifname))
		err = -ENODEV;
	if (err) {
		wc_iface_free(ifc);
		errno = -err;
		return NULL;
	}
	return ifc;
}

WC_API void wc_iface__close(struct wc_iface *ifc)
{
	if (ifc && ifc->link_fd >= 0)
		wc_iface__detach(ifc); /* transient: it goes with its handle */
	else
		wc_iface_free(ifc);
}

WC_API int wc_iface__transient(const struct wc_iface *ifc)
{
	int fd;

	if (!ifc)
		return -EINVAL;
	if (ifc->link_fd >= 0)
		return 1;
	fd = wc_xdp_link_of(wc_iface_prog_id(ifc));
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

WC_API int wc_iface__detach(struct wc_iface *ifc)
{
	int lockfd, err = 0;
	__u32 flags;

	if (!ifc)
		return -EINVAL;
	lockfd = wc_root_lock(ifc->pin_root);
	flags = ifc->cfg.attach_mode == WC_ATTACH_GENERIC ? XDP_FLAGS_SKB_MODE :
							    XDP_FLAGS_DRV_MODE;
	if (ifc->link_fd >= 0) {
		/* ours: detach it (closing alone would not if the fd was
		 * inherited); gone already (detached by force) is fine */
		bpf_link_detach(ifc->link_fd);
		close(ifc->link_fd);
		ifc->link_fd = -1;
	} else if (ifc->ifindex && ifc->prog_fd >= 0) {
		err = wc_xdp_detach(ifc->ifindex, flags, ifc->prog_fd,
				    wc_iface_prog_id(ifc));
		if (err == -EEXIST || err == -ENODEV || err == -ENOENT)
			err = 0; /* replaced or gone already: pins still go */
		if (err)
			pr_warn("%s: cannot detach XDP: %s\n", ifc->ifname,
				strerror(-err));
	}
	/* the pins go only if they are still ours: after an `attach
	 * --force` they belong to the new attachment */
	if (!err && wc_pins_hold(ifc->pin_dir, wc_iface_prog_id(ifc)))
		wc_pins_remove(ifc->pin_dir);
	else if (!err)
		pr_info("%s: %s belongs to another attachment now: left alone\n",
			ifc->ifname, ifc->pin_dir);
	wc_root_unlock(lockfd);
	wc_iface_free(ifc);
	return err;
}

WC_API int wc_detach(const char *ifname, const char *pin_root)
{
	struct wc_iface *ifc = wc_iface__open(ifname, pin_root);

	if (!ifc)
		return -errno;
	return wc_iface__detach(ifc);
}

WC_API int wc_iface__map_fd(const struct wc_iface *ifc, enum wc_map_id map)
{
	if (!ifc || map < WC_MAP_CONFIG || map >= WC_MAP_COUNT)
		return -EINVAL;
	return ifc->map_fd[map] >= 0 ? ifc->map_fd[map] : -ENOENT;
}
