// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Attachment: load the XDP steering program on an interface, fill its
 * steering map, attach it and pin it and its maps under
 * <pin_root>/<ifname>/ (pins.c).
 *
 * A persistent attachment (`wirecap attach`) goes through netlink, so it
 * stays on the interface when the pins vanish (e.g. a private bpffs
 * instance of an `ip netns exec`); `wirecap attach` then finds the
 * interface busy with a program whose pins are gone and can take it over
 * with --force. A transient one (a capture engine's own) goes through a
 * BPF link that is not pinned, as libxdp does: the kernel detaches the
 * program when the process that holds the link ends, killed or not, and
 * the pins it leaves are found stale by the next open and removed.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"
#include "kernel.h"
#include "netdev.h"
#include "wirecap.skel.h"

static int validate_opts(const struct wc_attach_opts *o, __u32 *workers,
			 __u32 *buckets)
{
	__u32 w = WC_OPTS_GET(o, workers, 0), b = WC_OPTS_GET(o, buckets, 0);
	int steer = WC_OPTS_GET(o, steer_mode, WC_STEER_QUEUE);
	int act = WC_OPTS_GET(o, no_socket_action, 0);
	int hm = WC_OPTS_GET(o, hash_mode, WC_HASH_L4);
	int mode = WC_OPTS_GET(o, mode, WC_MODE_AUTO);

	if (o && o->sz < offsetof(struct wc_attach_opts, mode))
		return -EINVAL;
	if (w > WC_MAX_WORKERS) {
		pr_warn("workers must be 1..%d, not %u\n", WC_MAX_WORKERS, w);
		return -EINVAL;
	}
	if (b && (!wc_is_pow2(b) || b > WC_MAX_BUCKETS)) {
		pr_warn("buckets must be a power of two in 1..%d, not %u\n",
			WC_MAX_BUCKETS, b);
		return -EINVAL;
	}
	if (steer != WC_STEER_QUEUE && steer != WC_STEER_FLOW) {
		pr_warn("invalid steering mode %d\n", steer);
		return -EINVAL;
	}
	if (act && act != WC_ACT_PASS && act != WC_ACT_DROP) {
		pr_warn("invalid no-socket action %d\n", act);
		return -EINVAL;
	}
	if (hm != WC_HASH_L4 && hm != WC_HASH_L3) {
		pr_warn("invalid hash mode %d\n", hm);
		return -EINVAL;
	}
	if (mode < WC_MODE_AUTO || mode > WC_MODE_GENERIC) {
		pr_warn("invalid XDP mode %d\n", mode);
		return -EINVAL;
	}
	*workers = w;
	*buckets = b ? b : WC_DEFAULT_BUCKETS;
	return 0;
}

/* steering at attach: `queue` keeps a queue's buckets on its home worker
 * (q mod W) as the paper does; `flow` gives every queue the same
 * bucket -> worker row so both directions of a flow meet on one worker. */
static int fill_steer(int fd, __u32 queues, __u32 buckets, __u32 workers,
		      int mode)
{
	for (__u32 q = 0; q < queues; q++) {
		for (__u32 b = 0; b < buckets; b++) {
			__u32 key = q * buckets + b;
			struct wc_steer v = {
				.worker = mode == WC_STEER_FLOW ? b % workers :
								  q % workers,
			};

			if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

WC_API struct wc_iface *wc_iface__attach(const char *ifname,
					 const struct wc_attach_opts *opts)
{
	const char *root = wc_pin_root(WC_OPTS_GET(opts, pin_root, NULL));
	enum wc_xdp_mode mode = WC_OPTS_GET(opts, mode, WC_MODE_AUTO),
			 got = WC_MODE_AUTO;
	bool force = WC_OPTS_GET(opts, force, false);
	bool transient = WC_OPTS_GET(opts, transient, false);
	struct wirecap_bpf *skel = NULL;
	unsigned dev_rx = 0, dev_tx = 0;
	__u32 workers, buckets, queues, cur, replace = 0;
	enum wc_xdp_mode cur_mode = WC_MODE_AUTO;
	struct wc_iface *ifc = NULL;
	int err, lockfd = -1, attached = 0, pinned = 0, link_fd = -1;
	bool old_pins = false, requeued = false, workers_auto;
	struct wirecap_bpf *prev = NULL; /* attached, being replaced */
	struct wc_config cfg = {};
	__u32 zero = 0;
	long ncpu;

	err = wc_check_ifname(ifname);
	if (err) {
		if (err == -ENODEV)
			pr_warn("no such interface: %s\n",
				ifname ? ifname : "");
		goto out;
	}
	err = validate_opts(opts, &workers, &buckets);
	if (err)
		goto out;
	err = wc_check_caps();
	if (!err)
		err = wc_kernel_check();
	if (err)
		goto out;
	err = wc_ensure_bpffs(root);
	if (err)
		goto out;
	err = wc_mkdir_p(root, 0700);
	if (err) {
		pr_warn("cannot create %s: %s\n", root, strerror(-err));
		goto out;
	}
	lockfd = wc_root_lock(root);
	if (lockfd < 0) {
		err = lockfd;
		goto out;
	}
	ifc = wc_iface_new(ifname, root);
	if (!ifc) {
		err = -errno;
		goto out;
	}

	err = wc_pins_open(ifc);
	if (err == 0) {
		if (!force) {
			pr_warn("%s: already attached (program %u); use --force to replace it\n",
				ifname, wc_prog_id_of_fd(ifc->prog_fd));
			err = -EEXIST;
			goto out;
		}
		/* replaced below: the old pins go before the new ones */
		old_pins = true;
	} else if (err == -EADDRINUSE) {
		pr_warn("%s: pins in %s belong to an interface of the same name in another network namespace; use another pin root (WIRECAP_PIN_ROOT)\n",
			ifname, ifc->pin_dir);
		goto out;
	} else if (err == -ESTALE) {
		wc_pins_say_stale(ifc);
		wc_pins_remove(ifc->pin_dir);
	} else if (err != -ENOENT) {
		goto out;
	}
	wc_iface_reset_fds(ifc);
	ifc->ifindex = if_nametoindex(ifname);

	cur = wc_xdp_attached(ifc->ifindex, &cur_mode);
	if (cur) {
		if (!force) {
			pr_warn("%s: another XDP program (id %u) is attached; use --force to replace it\n",
				ifname, cur);
			err = -EBUSY;
			goto out;
		}
		replace = cur;
	}

	err = wc_netdev_queues(ifname, &dev_rx, &dev_tx);
	if (err || !dev_rx)
		dev_rx = 1;
	queues = WC_OPTS_GET(opts, queues, 0);
	if (!queues)
		queues = dev_rx;
	if (queues > dev_rx) {
		pr_warn("%s has %u rx queues, cannot serve %u\n", ifname,
			dev_rx, queues);
		err = -EINVAL;
		goto out;
	}
	if (queues > WC_MAX_QUEUES) {
		pr_warn("%s: serving the first %d of %u queues\n", ifname,
			WC_MAX_QUEUES, queues);
		queues = WC_MAX_QUEUES;
	}
	workers_auto = !workers;
	if (!workers) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		workers = queues < ncpu ? queues : (__u32)ncpu;
		if (!workers)
			workers = 1;
	}

load:
	skel = wirecap_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s\n", strerror(-err));
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.xsks, queues * workers);
	bpf_map__set_max_entries(skel->maps.steer, queues * buckets);
	bpf_map__set_max_entries(skel->maps.bucket_stats, queues * buckets);
	err = wirecap_bpf__load(skel);
	if (err) {
		if (err == -EPERM)
			pr_warn("loading BPF needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)\n");
		else
			pr_warn("cannot load the XDP program: %s\n",
				strerror(-err));
		goto out;
	}

	cfg.version = WC_CONFIG_VERSION;
	cfg.queues = queues;
	cfg.workers = workers;
	cfg.buckets = buckets;
	cfg.no_socket_action = WC_OPTS_GET(opts, no_socket_action, 0);
	if (!cfg.no_socket_action)
		cfg.no_socket_action = WC_ACT_PASS;
	cfg.hash_mode = WC_OPTS_GET(opts, hash_mode, WC_HASH_L4);
	cfg.meta_enabled = !WC_OPTS_GET(opts, no_meta, false);
	cfg.steer_mode = WC_OPTS_GET(opts, steer_mode, WC_STEER_QUEUE);
	cfg.offload_enabled = 1;
	cfg.offload_high_pct = 30;
	cfg.offload_low_pct = 10;
	cfg.offload_hold_ms = 500;
	cfg.offload_return_ms = 5000;
	cfg.offload_cooldown_ms = 2000;
	cfg.offload_interval_ms = 100;
	cfg.offload_max_moves = 32;
	cfg.ifindex = ifc->ifindex;
	cfg.netns_ino = wc_netns_ino();

	err = fill_steer(bpf_map__fd(skel->maps.steer), queues, buckets,
			 workers, cfg.steer_mode);
	if (err)
		goto out;
	/* config last but before attach: the program passes everything
	 * while config.queues is 0 */
	if (replace) {
		/* native and generic cannot coexist: take the old program off
		 * in its own mode, then attach ours in the mode asked for */
		err = wc_xdp_detach(ifc->ifindex,
				    cur_mode == WC_MODE_GENERIC ?
					    XDP_FLAGS_SKB_MODE :
					    XDP_FLAGS_DRV_MODE,
				    -1, replace);
		if (err) {
			pr_warn("%s: cannot remove the attached XDP program %u: %s\n",
				ifname, replace, strerror(-err));
			goto out;
		}
		replace = 0;
	}
	if (prev) {
		/* swap in the program sized for the new queue count, in
		 * place: detaching would make the driver drop its queues */
		int old_fd = bpf_program__fd(prev->progs.wirecap_steer),
		    new_fd = bpf_program__fd(skel->progs.wirecap_steer);
		LIBBPF_OPTS(bpf_xdp_attach_opts, ro, .old_prog_fd = old_fd);
		LIBBPF_OPTS(bpf_link_update_opts, uo, .flags = BPF_F_REPLACE,
			    .old_prog_fd = old_fd);

		if (link_fd >= 0)
			err = bpf_link_update(link_fd, new_fd, &uo);
		else
			err = bpf_xdp_attach(
				ifc->ifindex, new_fd,
				XDP_FLAGS_REPLACE |
					(got == WC_MODE_NATIVE ?
						 XDP_FLAGS_DRV_MODE :
						 XDP_FLAGS_SKB_MODE),
				&ro);
		if (!err) {
			wirecap_bpf__destroy(prev);
			prev = NULL;
		}
	} else {
		err = wc_xdp_attach(ifc->ifindex,
				    bpf_program__fd(skel->progs.wirecap_steer),
				    mode, replace, &got,
				    transient ? &link_fd : NULL);
	}
	if (err) {
		if (err == -EOPNOTSUPP && mode == WC_MODE_NATIVE)
			pr_warn("%s: the driver refuses native XDP; try --mode generic\n",
				ifname);
		else if (err == -EBUSY || err == -EEXIST)
			pr_warn("%s: another XDP program is attached\n",
				ifname);
		else
			pr_warn("%s: cannot attach XDP: %s\n", ifname,
				strerror(-err));
		goto out;
	}
	attached = 1;
	/* Some drivers (virtio_net) add queue pairs for XDP when a program
	 * is attached, and spread traffic over them: serve the queues the
	 * device has now, with maps sized for them (once). */
	if (!WC_OPTS_GET(opts, queues, 0) && !requeued &&
	    !wc_netdev_queues(ifname, &dev_rx, &dev_tx) && dev_rx > queues &&
	    queues < WC_MAX_QUEUES) {
		pr_info("%s: the driver has %u rx queues with XDP attached (%u before): serving them all\n",
			ifname, dev_rx, queues);
		queues = dev_rx < WC_MAX_QUEUES ? dev_rx : WC_MAX_QUEUES;
		if (workers_auto) {
			ncpu = sysconf(_SC_NPROCESSORS_ONLN);
			workers = queues < ncpu ? queues : (__u32)ncpu;
		}
		requeued = true;
		prev = skel;
		skel = NULL;
		attached = 0;
		goto load;
	}
	cfg.attach_mode =
		got == WC_MODE_NATIVE ? WC_ATTACH_NATIVE : WC_ATTACH_GENERIC;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg,
				BPF_ANY)) {
		err = -errno;
		goto out;
	}
	if (old_pins)
		wc_pins_remove(ifc->pin_dir);
	pinned = 1;
	err = wc_pins_create(skel, ifc->pin_dir);
	if (err) {
		pr_warn("cannot pin under %s: %s\n", ifc->pin_dir,
			strerror(-err));
		goto out;
	}
	err = wc_pins_open(ifc);
	if (err)
		goto out;
	pr_info("%s: attached in %s mode%s, %u queues, %u workers, %u buckets\n",
		ifname, got == WC_MODE_NATIVE ? "native" : "generic",
		transient ? " (transient: BPF link)" : "", queues, workers,
		buckets);
	ifc->link_fd = link_fd;
	link_fd = -1;
out:
	if (err && link_fd >= 0) {
		/* the link held ours (or, while requeueing, the previous
		 * program): closing it detaches */
		close(link_fd);
		attached = 0;
	} else if (err && attached) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao,
			    .old_prog_fd =
				    bpf_program__fd(skel->progs.wirecap_steer));
		bpf_xdp_detach(ifc->ifindex,
			       got == WC_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
						       XDP_FLAGS_SKB_MODE,
			       &ao);
	}
	if (err && prev && !transient) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, po,
			    .old_prog_fd =
				    bpf_program__fd(prev->progs.wirecap_steer));
		bpf_xdp_detach(ifc->ifindex,
			       got == WC_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
						       XDP_FLAGS_SKB_MODE,
			       &po);
	}
	wirecap_bpf__destroy(prev);
	if (err && pinned)
		wc_pins_remove(ifc->pin_dir);
	wirecap_bpf__destroy(skel);
	wc_root_unlock(lockfd);
	if (err) {
		wc_iface_free(ifc);
		errno = -err;
		return NULL;
	}
	return ifc;
}
