// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Attachment: load the XDP steering program on an interface, pin it and
 * its maps under <pin_root>/<ifname>/, detect and clean stale pins, detach.
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
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "kernel.h"
#include "netdev.h"
#include "wirecap.skel.h"

static const char *const map_pin_names[] = {
	[WC_MAP_CONFIG] = "config",
	[WC_MAP_XSKS] = "xsks",
	[WC_MAP_STEER] = "steer",
	[WC_MAP_QUEUE_STATS] = "queue_stats",
	[WC_MAP_BUCKET_STATS] = "bucket_stats",
	[WC_MAP_ENGINE] = "engine",
	[WC_MAP_WORKER_STATS] = "worker_stats",
	[WC_MAP_POOL_STATS] = "pool_stats",
	[WC_MAP_FILTER_PROGS] = "filter_progs",
	[WC_MAP_FILTER_INFO] = "filter_info",
};
#define PROG_PIN_NAME "prog"
#define NMAPS WC_MAP_COUNT

const char *wc_pin_root(const char *pin_root)
{
	const char *env;

	if (pin_root && *pin_root)
		return pin_root;
	env = getenv("WIRECAP_PIN_ROOT");
	return env && *env ? env : WC_DEFAULT_PIN_ROOT;
}

uint64_t wc_netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The pin root must live on a bpffs. When /sys/fs/bpf is not mounted (as
 * inside `ip netns exec`), mount it: that is what bpftool and xdp-tools do. */
int wc_ensure_bpffs(const char *root)
{
	char parent[PATH_MAX];
	struct statfs sfs;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", root);
	/* find the closest existing ancestor */
	while (statfs(parent, &sfs)) {
		if (errno == EACCES || errno == EPERM)
			return -errno;
		slash = strrchr(parent, '/');
		if (!slash || slash == parent)
			break;
		*slash = '\0';
	}
	if (!statfs(parent, &sfs) && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (!strncmp(root, "/sys/fs/bpf", 11) &&
	    (root[11] == '/' || !root[11])) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			int err = -errno;

			pr_warn("bpffs is not mounted on /sys/fs/bpf and mounting it failed (%s); run: mount -t bpf bpf /sys/fs/bpf\n",
				strerror(-err));
			return err;
		}
		pr_info("mounted bpffs on /sys/fs/bpf\n");
		return 0;
	}
	pr_warn("pin root %s is not on a bpffs; mount one: mount -t bpf bpf <dir>\n",
		root);
	return -EMEDIUMTYPE;
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Remove every pin we know of, then the directory. Missing entries are
 * fine: this is also the stale-pin cleaner. */
static void remove_pins(const char *dir)
{
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(map_pin_names) / sizeof(map_pin_names[0]);
	     i++)
		if (!pin_path(p, sizeof(p), dir, map_pin_names[i]))
			unlink(p);
	if (!pin_path(p, sizeof(p), dir, PROG_PIN_NAME))
		unlink(p);
	/* pinned by an egress port (tx.c) */
	if (!pin_path(p, sizeof(p), dir, "port_stats"))
		unlink(p);
	if (rmdir(dir) && errno != ENOENT)
		pr_warn("could not remove %s: %s\n", dir, strerror(errno));
}

static __u32 prog_id_of_fd(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* XDP program attached to ifindex (any mode) and the mode it is in. */
static __u32 attached_prog(int ifindex, enum wc_xdp_mode *mode)
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
static int xdp_link_of(__u32 prog_id)
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
static int xdp_detach(int ifindex, __u32 flags, int prog_fd, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = prog_fd);
	int err, lfd;

	err = bpf_xdp_detach(ifindex, flags, prog_fd >= 0 ? &ao : NULL);
	if (err != -EBUSY)
		return err;
	lfd = xdp_link_of(prog_id);
	if (lfd < 0)
		return err;
	err = bpf_link_detach(lfd);
	close(lfd);
	return err;
}

/* id of the program this handle uses, and of the program attached to its
 * interface in the mode it was attached in (0: none) */
__u32 wc_iface_prog_id(const struct wc_iface *ifc)
{
	return ifc->prog_fd >= 0 ? prog_id_of_fd(ifc->prog_fd) : 0;
}

__u32 wc_iface_attached_id(const struct wc_iface *ifc)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifc->ifindex, 0, &q))
		return 0;
	return ifc->cfg.attach_mode == WC_ATTACH_GENERIC ? q.skb_prog_id :
							   q.drv_prog_id;
}

static int read_config(int fd, struct wc_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, cfg) ? -errno : 0;
}

static void iface_free(struct wc_iface *ifc)
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

/* bpffs refuses names that contain a '.' (kernel/bpf/inode.c reserves them
 * and answers EPERM), and interface names may contain one (VLAN
 * sub-interfaces: eth0.100). The pin directory of an interface is its name
 * with '.' written "%2e" and '%' written "%25"; every other character an
 * interface name may hold (anything but '/', ':' and white space) is fine
 * on bpffs. A name without '.' or '%' is its own directory name. */
int wc_pin_name_encode(char *buf, size_t len, const char *ifname)
{
	size_t o = 0;

	for (const char *c = ifname; *c; c++) {
		const char *esc = *c == '.' ? "%2e" : *c == '%' ? "%25" : NULL;
		size_t n = esc ? 3 : 1;

		if (o + n >= len)
			return -ENAMETOOLONG;
		memcpy(buf + o, esc ? esc : c, n);
		o += n;
	}
	if (o >= len)
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

/* The inverse: a pin directory name back to the interface name. -EINVAL
 * for a name no interface encodes to (a stray '%' or a literal '.'). */
int wc_pin_name_decode(char *buf, size_t len, const char *name)
{
	size_t o = 0;

	for (const char *c = name; *c; c++) {
		char ch = *c;

		if (ch == '.')
			return -EINVAL;
		if (ch == '%') {
			if (!strncmp(c + 1, "2e", 2))
				ch = '.';
			else if (!strncmp(c + 1, "25", 2))
				ch = '%';
			else
				return -EINVAL;
			c += 2;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		buf[o++] = ch;
	}
	if (!len)
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

static struct wc_iface *iface_new(const char *ifname, const char *root)
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
static int check_caps(void)
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

static int check_ifname(const char *ifname)
{
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE ||
	    strchr(ifname, '/') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return -EINVAL;
	return if_nametoindex(ifname) ? 0 : -ENODEV;
}

/* Does a network namespace with this inode still exist? Looks at the named
 * namespaces and at every process; good enough to tell stale pins. */
static int netns_alive(uint64_t ino)
{
	const char *dirs[] = { "/run/netns", "/proc" };
	char p[PATH_MAX];
	struct stat st;

	for (int d = 0; d < 2; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (d == 1 &&
			    (e->d_name[0] < '0' || e->d_name[0] > '9'))
				continue;
			snprintf(p, sizeof(p),
				 d ? "/proc/%s/ns/net" : "/run/netns/%s",
				 e->d_name);
			if (!stat(p, &st) && st.st_ino == ino) {
				closedir(dir);
				return 1;
			}
		}
		closedir(dir);
	}
	return 0;
}

/* Open the pins in ifc->pin_dir and classify them.
 * Returns 0 when they describe a live attachment of this interface in this
 * netns, -ENOENT when there are none, -ESTALE when they are stale, and
 * -EADDRINUSE when they belong to a live interface of the same name in
 * another network namespace. */
static int open_pins(struct wc_iface *ifc)
{
	char p[PATH_MAX];
	struct stat st;
	__u32 pid;
	int err;

	if (stat(ifc->pin_dir, &st))
		return errno == EACCES || errno == EPERM ? -errno : -ENOENT;
	if (pin_path(p, sizeof(p), ifc->pin_dir, PROG_PIN_NAME))
		return -ENAMETOOLONG;
	ifc->prog_fd = bpf_obj_get(p);
	if (ifc->prog_fd < 0)
		return errno == EACCES || errno == EPERM ? -errno : -ESTALE;
	for (int i = 0; i < NMAPS; i++) {
		if (pin_path(p, sizeof(p), ifc->pin_dir, map_pin_names[i]))
			return -ENAMETOOLONG;
		ifc->map_fd[i] = bpf_obj_get(p);
		if (ifc->map_fd[i] < 0)
			return -ESTALE;
	}
	err = read_config(ifc->map_fd[WC_MAP_CONFIG], &ifc->cfg);
	if (err || ifc->cfg.version != WC_CONFIG_VERSION)
		return -ESTALE;
	if (ifc->cfg.netns_ino && ifc->cfg.netns_ino != wc_netns_ino())
		return netns_alive(ifc->cfg.netns_ino) ? -EADDRINUSE : -ESTALE;
	ifc->ifindex = if_nametoindex(ifc->ifname);
	if (!ifc->ifindex || (__u32)ifc->ifindex != ifc->cfg.ifindex)
		return -ESTALE; /* interface gone or recreated */
	pid = prog_id_of_fd(ifc->prog_fd);
	if (!pid || attached_prog(ifc->ifindex, NULL) != pid)
		return -ESTALE; /* program detached behind our back */
	return 0;
}

static void iface_reset_fds(struct wc_iface *ifc)
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

/* Say why pins are stale as they go: a capture engine that died without
 * closing (kill -9) left them, or the program or interface went. */
static void say_stale(const struct wc_iface *ifc)
{
	int fd = ifc->map_fd[WC_MAP_ENGINE];
	struct wc_engine_info ei;
	__u32 zero = 0;

	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &ei) && ei.pid &&
	    kill((pid_t)ei.pid, 0) && errno == ESRCH)
		pr_warn("%s: removed the pins in %s: their capture engine (pid %u) died without closing, and the attachment is gone\n",
			ifc->ifname, ifc->pin_dir, ei.pid);
	else
		pr_warn("%s: removed stale pins in %s (the program was detached or the interface recreated)\n",
			ifc->ifname, ifc->pin_dir);
}

/* Serialize attach/detach of one pin root across processes. */
static int lock_root(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void unlock_root(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

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

static int pin_all(struct wirecap_bpf *skel, const char *dir)
{
	struct bpf_map *maps[] = {
		[WC_MAP_CONFIG] = skel->maps.config,
		[WC_MAP_XSKS] = skel->maps.xsks,
		[WC_MAP_STEER] = skel->maps.steer,
		[WC_MAP_QUEUE_STATS] = skel->maps.queue_stats,
		[WC_MAP_BUCKET_STATS] = skel->maps.bucket_stats,
		[WC_MAP_ENGINE] = skel->maps.engine,
		[WC_MAP_WORKER_STATS] = skel->maps.worker_stats,
		[WC_MAP_POOL_STATS] = skel->maps.pool_stats,
		[WC_MAP_FILTER_PROGS] = skel->maps.filter_progs,
		[WC_MAP_FILTER_INFO] = skel->maps.filter_info,
	};
	char p[PATH_MAX];
	int err;

	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	for (int i = 0; i < NMAPS; i++) {
		if ((err = pin_path(p, sizeof(p), dir, map_pin_names[i])))
			return err;
		if ((err = bpf_map__pin(maps[i], p)))
			return err;
		chmod(p, 0600);
	}
	if ((err = pin_path(p, sizeof(p), dir, PROG_PIN_NAME)))
		return err;
	if ((err = bpf_program__pin(skel->progs.wirecap_steer, p)))
		return err;
	chmod(p, 0600);
	return 0;
}

/* netlink (persistent), or a BPF link when link_fd is given (transient:
 * *link_fd holds the attachment) */
static int xdp_attach(int ifindex, int prog_fd, __u32 flags, int *link_fd)
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

static int do_attach_xdp(int ifindex, int prog_fd, enum wc_xdp_mode mode,
			 __u32 replace_id, enum wc_xdp_mode *got, int *link_fd)
{
	__u32 flags = replace_id ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST;
	int err = -EOPNOTSUPP;

	if (mode == WC_MODE_AUTO || mode == WC_MODE_NATIVE) {
		err = xdp_attach(ifindex, prog_fd, flags | XDP_FLAGS_DRV_MODE,
				 link_fd);
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
	err = xdp_attach(ifindex, prog_fd, flags | XDP_FLAGS_SKB_MODE, link_fd);
	if (!err)
		*got = WC_MODE_GENERIC;
	return err;
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

	err = check_ifname(ifname);
	if (err) {
		if (err == -ENODEV)
			pr_warn("no such interface: %s\n",
				ifname ? ifname : "");
		goto out;
	}
	err = validate_opts(opts, &workers, &buckets);
	if (err)
		goto out;
	err = check_caps();
	if (!err)
		err = wc_kernel_check();
	if (err)
		goto out;
	err = wc_ensure_bpffs(root);
	if (err)
		goto out;
	err = mkdir_p(root, 0700);
	if (err) {
		pr_warn("cannot create %s: %s\n", root, strerror(-err));
		goto out;
	}
	lockfd = lock_root(root);
	if (lockfd < 0) {
		err = lockfd;
		goto out;
	}
	ifc = iface_new(ifname, root);
	if (!ifc) {
		err = -errno;
		goto out;
	}

	err = open_pins(ifc);
	if (err == 0) {
		if (!force) {
			pr_warn("%s: already attached (program %u); use --force to replace it\n",
				ifname, prog_id_of_fd(ifc->prog_fd));
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
		say_stale(ifc);
		remove_pins(ifc->pin_dir);
	} else if (err != -ENOENT) {
		goto out;
	}
	iface_reset_fds(ifc);
	ifc->ifindex = if_nametoindex(ifname);

	cur = attached_prog(ifc->ifindex, &cur_mode);
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
		err = xdp_detach(ifc->ifindex,
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
		err = do_attach_xdp(ifc->ifindex,
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
		remove_pins(ifc->pin_dir);
	pinned = 1;
	err = pin_all(skel, ifc->pin_dir);
	if (err) {
		pr_warn("cannot pin under %s: %s\n", ifc->pin_dir,
			strerror(-err));
		goto out;
	}
	err = open_pins(ifc);
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
		remove_pins(ifc->pin_dir);
	wirecap_bpf__destroy(skel);
	unlock_root(lockfd);
	if (err) {
		iface_free(ifc);
		errno = -err;
		return NULL;
	}
	return ifc;
}

/* Pins of an interface that no longer exists are stale: remove them (best
 * effort, no message unless some were there). */
static void clean_gone(const char *ifname, const char *root)
{
	struct wc_iface *ifc = iface_new(ifname, root);
	struct stat st;
	int lockfd;

	if (!ifc)
		return;
	if (!stat(ifc->pin_dir, &st)) {
		lockfd = lock_root(root);
		if (lockfd >= 0 && open_pins(ifc) == -ESTALE) {
			pr_info("%s: removing stale pins in %s\n", ifname,
				ifc->pin_dir);
			remove_pins(ifc->pin_dir);
		}
		unlock_root(lockfd);
	}
	iface_free(ifc);
}

WC_API struct wc_iface *wc_iface__open(const char *ifname, const char *pin_root)
{
	const char *root = wc_pin_root(pin_root);
	struct wc_iface *ifc;
	int err;

	/* a missing interface is said so before anything else; pins it left
	 * behind (deleted with them) are cleaned on the way, quietly */
	err = check_ifname(ifname);
	if (err == -ENODEV)
		clean_gone(ifname, root);
	if (err) {
		errno = -err;
		return NULL;
	}
	err = check_caps();
	if (!err)
		err = wc_ensure_bpffs(root);
	if (err) {
		errno = err == -EMEDIUMTYPE ? ENOENT : -err;
		return NULL;
	}
	ifc = iface_new(ifname, root);
	if (!ifc)
		return NULL;
	err = open_pins(ifc);
	if (err == -ESTALE) {
		int lockfd = lock_root(root);

		iface_reset_fds(ifc);
		/* re-check under the lock: an attach may just have finished */
		if (open_pins(ifc) == -ESTALE) {
			say_stale(ifc);
			remove_pins(ifc->pin_dir);
		}
		unlock_root(lockfd);
		err = -ENOENT;
	}
	if (err == 0 && check_ifname(ifname))
		err = -ENODEV;
	if (err) {
		iface_free(ifc);
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
		iface_free(ifc);
}

WC_API int wc_iface__transient(const struct wc_iface *ifc)
{
	int fd;

	if (!ifc)
		return -EINVAL;
	if (ifc->link_fd >= 0)
		return 1;
	fd = xdp_link_of(wc_iface_prog_id(ifc));
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Does the pinned program still name this handle's program? (No pinned
 * program: leftovers, ours to remove.) */
static bool pins_are_ours(const struct wc_iface *ifc)
{
	char p[PATH_MAX];
	__u32 id;
	int fd;

	if (pin_path(p, sizeof(p), ifc->pin_dir, PROG_PIN_NAME))
		return false;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return errno == ENOENT;
	id = prog_id_of_fd(fd);
	close(fd);
	return id && id == wc_iface_prog_id(ifc);
}

WC_API int wc_iface__detach(struct wc_iface *ifc)
{
	int lockfd, err = 0;
	__u32 flags;

	if (!ifc)
		return -EINVAL;
	lockfd = lock_root(ifc->pin_root);
	flags = ifc->cfg.attach_mode == WC_ATTACH_GENERIC ? XDP_FLAGS_SKB_MODE :
							    XDP_FLAGS_DRV_MODE;
	if (ifc->link_fd >= 0) {
		/* ours: detach it (closing alone would not if the fd was
		 * inherited); gone already (detached by force) is fine */
		bpf_link_detach(ifc->link_fd);
		close(ifc->link_fd);
		ifc->link_fd = -1;
	} else if (ifc->ifindex && ifc->prog_fd >= 0) {
		err = xdp_detach(ifc->ifindex, flags, ifc->prog_fd,
				 wc_iface_prog_id(ifc));
		if (err == -EEXIST || err == -ENODEV || err == -ENOENT)
			err = 0; /* replaced or gone already: pins still go */
		if (err)
			pr_warn("%s: cannot detach XDP: %s\n", ifc->ifname,
				strerror(-err));
	}
	/* the pins go only if they are still ours: after an `attach
	 * --force` they belong to the new attachment */
	if (!err && pins_are_ours(ifc))
		remove_pins(ifc->pin_dir);
	else if (!err)
		pr_info("%s: %s belongs to another attachment now: left alone\n",
			ifc->ifname, ifc->pin_dir);
	unlock_root(lockfd);
	iface_free(ifc);
	return err;
}

WC_API int wc_detach(const char *ifname, const char *pin_root)
{
	struct wc_iface *ifc = wc_iface__open(ifname, pin_root);

	if (!ifc)
		return -errno;
	return wc_iface__detach(ifc);
}

WC_API int wc_iface__info(const struct wc_iface *ifc,
			  struct wc_iface_info *info)
{
	unsigned rx = 0, tx = 0;
	enum wc_xdp_mode m = WC_MODE_AUTO;

	if (!ifc || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	snprintf(info->ifname, sizeof(info->ifname), "%s", ifc->ifname);
	info->ifindex = ifc->ifindex;
	info->prog_id = attached_prog(ifc->ifindex, &m);
	info->mode = ifc->cfg.attach_mode == WC_ATTACH_GENERIC ?
			     WC_MODE_GENERIC :
			     WC_MODE_NATIVE;
	info->queues = ifc->cfg.queues;
	info->workers = ifc->cfg.workers;
	info->buckets = ifc->cfg.buckets;
	info->steer_mode = ifc->cfg.steer_mode;
	if (!wc_netdev_queues(ifc->ifname, &rx, &tx))
		info->dev_queues = rx;
	snprintf(info->pin_dir, sizeof(info->pin_dir), "%s", ifc->pin_dir);
	return 0;
}

WC_API int wc_iface__config(const struct wc_iface *ifc, struct wc_config *cfg)
{
	if (!ifc || !cfg)
		return -EINVAL;
	return read_config(ifc->map_fd[WC_MAP_CONFIG], cfg);
}

int wc_config_validate(const struct wc_config *cur, const struct wc_config *n)
{
	if (n->version != cur->version || n->queues != cur->queues ||
	    n->workers != cur->workers || n->buckets != cur->buckets ||
	    n->ifindex != cur->ifindex || n->netns_ino != cur->netns_ino ||
	    n->attach_mode != cur->attach_mode) {
		pr_warn("queues, workers, buckets and the attachment identity cannot change while attached\n");
		return -EPERM;
	}
	if (n->no_socket_action != WC_ACT_PASS &&
	    n->no_socket_action != WC_ACT_DROP) {
		pr_warn("no_socket_action must be %d (drop) or %d (pass)\n",
			WC_ACT_DROP, WC_ACT_PASS);
		return -EINVAL;
	}
	if (n->hash_mode != WC_HASH_L4 && n->hash_mode != WC_HASH_L3) {
		pr_warn("hash_mode must be %d or %d\n", WC_HASH_L4, WC_HASH_L3);
		return -EINVAL;
	}
	if (n->offload_high_pct > 100 ||
	    n->offload_low_pct >= n->offload_high_pct) {
		pr_warn("offload watermarks need 0 <= low < high <= 100 (got low %u, high %u)\n",
			n->offload_low_pct, n->offload_high_pct);
		return -EINVAL;
	}
	if (!n->offload_interval_ms || n->offload_interval_ms > 60000 ||
	    !n->offload_max_moves || n->offload_max_moves > n->buckets) {
		pr_warn("offload interval must be 1..60000 ms and max moves 1..buckets\n");
		return -EINVAL;
	}
	return 0;
}

WC_API int wc_iface__set_config(struct wc_iface *ifc,
				const struct wc_config *cfg)
{
	struct wc_config cur;
	__u32 zero = 0;
	int err;

	if (!ifc || !cfg)
		return -EINVAL;
	err = read_config(ifc->map_fd[WC_MAP_CONFIG], &cur);
	if (err)
		return err;
	err = wc_config_validate(&cur, cfg);
	if (err)
		return err;
	if (bpf_map_update_elem(ifc->map_fd[WC_MAP_CONFIG], &zero, cfg,
				BPF_ANY))
		return -errno;
	ifc->cfg = *cfg;
	return 0;
}

WC_API int wc_iface__queue_stats(const struct wc_iface *ifc, __u32 queue,
				 struct wc_queue_stats *out)
{
	struct wc_queue_stats *pc;
	int err = 0;

	if (!ifc || !out || queue >= WC_MAX_QUEUES)
		return -EINVAL;
	pc = calloc(ifc->ncpus, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(ifc->map_fd[WC_MAP_QUEUE_STATS], &queue, pc)) {
		err = -errno;
		goto out;
	}
	for (int c = 0; c < ifc->ncpus; c++) {
		__u64 *dst = (__u64 *)out, *src = (__u64 *)&pc[c];

		for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
			dst[i] += src[i];
	}
out:
	free(pc);
	return err;
}

WC_API int wc_iface__bucket_stats(const struct wc_iface *ifc,
				  struct wc_bucket_stats *out, size_t n)
{
	int fd = ifc ? ifc->map_fd[WC_MAP_BUCKET_STATS] : -1;
	__u32 total, ncpu, done = 0, batch, cursor = 0;
	struct wc_bucket_stats *pc;
	__u32 *keys;
	int err = 0;

	if (!ifc || !out)
		return -EINVAL;
	total = ifc->cfg.queues * ifc->cfg.buckets;
	if (n < total)
		return -ENOSPC;
	ncpu = ifc->ncpus;
	/* the monitor reads this every interval: in batches, not a
	 * syscall per key (per-CPU values: ncpu structs per key) */
	batch = total < 256 ? total : 256;
	pc = calloc((size_t)batch * ncpu, sizeof(*pc));
	keys = calloc(batch, sizeof(*keys));
	if (!pc || !keys) {
		err = -ENOMEM;
		goto out;
	}
	while (done < total) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		__u32 cnt = total - done < batch ? total - done : batch;
		int r = bpf_map_lookup_batch(fd, done ? &cursor : NULL, &cursor,
					     keys, pc, &cnt, &bo);

		if (r && errno != ENOENT) {
			/* no batch support: one key at a time */
			for (__u32 k = done; k < total; k++) {
				if (bpf_map_lookup_elem(fd, &k, pc)) {
					err = -errno;
					goto out;
				}
				out[k].packets = out[k].bytes = 0;
				for (__u32 c = 0; c < ncpu; c++) {
					out[k].packets += pc[c].packets;
					out[k].bytes += pc[c].bytes;
				}
			}
			break;
		}
		for (__u32 i = 0; i < cnt; i++) {
			__u32 k = keys[i];

			if (k >= total)
				continue;
			out[k].packets = out[k].bytes = 0;
			for (__u32 c = 0; c < ncpu; c++) {
				out[k].packets +=
					pc[(size_t)i * ncpu + c].packets;
				out[k].bytes += pc[(size_t)i * ncpu + c].bytes;
			}
		}
		done += cnt;
		if (r || !cnt)
			break; /* ENOENT: the end */
	}
out:
	free(pc);
	free(keys);
	return err ? err : (int)total;
}

WC_API int wc_iface__steer_get(const struct wc_iface *ifc, __u32 queue,
			       __u32 bucket, struct wc_steer *out)
{
	__u32 key;

	if (!ifc || !out || queue >= ifc->cfg.queues ||
	    bucket >= ifc->cfg.buckets)
		return -EINVAL;
	key = queue * ifc->cfg.buckets + bucket;
	return bpf_map_lookup_elem(ifc->map_fd[WC_MAP_STEER], &key, out) ?
		       -errno :
		       0;
}

WC_API int wc_iface__steer_set(struct wc_iface *ifc, __u32 queue, __u32 bucket,
			       const struct wc_steer *val)
{
	__u32 key;

	if (!ifc || !val || queue >= ifc->cfg.queues ||
	    bucket >= ifc->cfg.buckets || val->worker >= ifc->cfg.workers)
		return -EINVAL;
	key = queue * ifc->cfg.buckets + bucket;
	return bpf_map_update_elem(ifc->map_fd[WC_MAP_STEER], &key, val,
				   BPF_ANY) ?
		       -errno :
		       0;
}

WC_API int wc_iface__map_fd(const struct wc_iface *ifc, enum wc_map_id map)
{
	if (!ifc || map < WC_MAP_CONFIG || map >= WC_MAP_COUNT)
		return -EINVAL;
	return ifc->map_fd[map] >= 0 ? ifc->map_fd[map] : -ENOENT;
}
