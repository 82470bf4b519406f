// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pins: an attachment's program and maps pinned under
 * <pin_root>/<ifname>/ (mode 0600, the name encoded for bpffs), the pin
 * root's bpffs and lock, and telling live pins from stale ones (program
 * detached, interface recreated, its network namespace gone).
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
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"
#include "sysutil.h"
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
	[WC_MAP_ADMIT] = "admit",
	[WC_MAP_FILTER_PROGS] = "filter_progs",
	[WC_MAP_FILTER_INFO] = "filter_info",
	[WC_MAP_PORT_STATS] = "port_stats",
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

int wc_mkdir_p(const char *path, mode_t mode)
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
void wc_pins_remove(const char *dir)
{
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(map_pin_names) / sizeof(map_pin_names[0]);
	     i++)
		if (!pin_path(p, sizeof(p), dir, map_pin_names[i]))
			unlink(p);
	if (!pin_path(p, sizeof(p), dir, PROG_PIN_NAME))
		unlink(p);
	if (rmdir(dir) && errno != ENOENT)
		pr_warn("could not remove %s: %s\n", dir, strerror(errno));
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
int wc_pins_open(struct wc_iface *ifc)
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
	err = wc_config_read(ifc->map_fd[WC_MAP_CONFIG], &ifc->cfg);
	if (err || ifc->cfg.version != WC_CONFIG_VERSION)
		return -ESTALE;
	if (ifc->cfg.netns_ino && ifc->cfg.netns_ino != wc_netns_ino())
		return netns_alive(ifc->cfg.netns_ino) ? -EADDRINUSE : -ESTALE;
	ifc->ifindex = if_nametoindex(ifc->ifname);
	if (!ifc->ifindex || (__u32)ifc->ifindex != ifc->cfg.ifindex)
		return -ESTALE; /* interface gone or recreated */
	pid = wc_prog_id_of_fd(ifc->prog_fd);
	if (!pid || wc_xdp_attached(ifc->ifindex, NULL) != pid)
		return -ESTALE; /* program detached behind our back */
	return 0;
}

/* Say why pins are stale as they go: a capture engine that died without
 * closing (kill -9) left them, or the program or interface went. */
void wc_pins_say_stale(const struct wc_iface *ifc)
{
	int fd = ifc->map_fd[WC_MAP_ENGINE];
	struct wc_engine_info ei;
	__u32 zero = 0;

	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &ei) && ei.pid &&
	    !wc_pid_alive(ei.pid))
		pr_warn("%s: removed the pins in %s: their capture engine (pid %u) died without closing, and the attachment is gone\n",
			ifc->ifname, ifc->pin_dir, ei.pid);
	else
		pr_warn("%s: removed stale pins in %s (the program was detached or the interface recreated)\n",
			ifc->ifname, ifc->pin_dir);
}

/* Serialize attach/detach of one pin root across processes. */
int wc_root_lock(const char *root)
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

void wc_root_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

int wc_pins_create(struct wirecap_bpf *skel, const char *dir)
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
		[WC_MAP_ADMIT] = skel->maps.admit,
		[WC_MAP_FILTER_PROGS] = skel->maps.filter_progs,
		[WC_MAP_FILTER_INFO] = skel->maps.filter_info,
		[WC_MAP_PORT_STATS] = skel->maps.port_stats,
	};
	char p[PATH_MAX];
	int err;

	err = wc_mkdir_p(dir, 0700);
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

/* Does the program pinned in dir still name program prog_id? (No pinned
 * program: leftovers, ours to remove.) */
bool wc_pins_hold(const char *dir, __u32 prog_id)
{
	char p[PATH_MAX];
	__u32 id;
	int fd;

	if (pin_path(p, sizeof(p), dir, PROG_PIN_NAME))
		return false;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return errno == ENOENT;
	id = wc_prog_id_of_fd(fd);
	close(fd);
	return id && id == prog_id;
}
