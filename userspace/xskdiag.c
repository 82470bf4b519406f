// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Is a live AF_XDP socket bound to a queue? Asked after a bind's EBUSY.
 *
 * Why: a bind fails with EBUSY while the queue has a buffer pool, and the
 * kernel frees a closed socket's pool in deferred work (xp_put_pool ->
 * xp_release_deferred) after close() returned; the socket itself is gone
 * at close. So "EBUSY, and no live socket is bound there" means the queue
 * is being released, not used (xsk.c retries the bind then).
 *
 * The kernel's sock_diag (NETLINK_SOCK_DIAG, family AF_XDP, XDP_SHOW_INFO)
 * lists every socket of this network namespace with its ifindex and queue.
 * Kernels built without it (CONFIG_XDP_SOCKETS_DIAG) still count the
 * namespace's AF_XDP sockets (/proc/net/protocols, "XDP"): when all of
 * them are this process's, the sockets this library bound (noted at each
 * bind, wc_xsk_note_bound) say whether one is on the queue; when another
 * process has one, it may be there or not: cannot say.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/xdp_diag.h>

#include "xsk.h"

/* the XDP_DIAG_INFO attribute of one socket's message, or NULL */
static const struct xdp_diag_info *diag_info(const struct nlmsghdr *nh)
{
	const struct nlattr *a;
	int left;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct xdp_diag_msg)))
		return NULL;
	left = (int)nh->nlmsg_len -
	       NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct xdp_diag_msg)));
	a = (const void *)((const char *)NLMSG_DATA(nh) +
			   NLMSG_ALIGN(sizeof(struct xdp_diag_msg)));
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= left) {
		if ((a->nla_type & NLA_TYPE_MASK) == XDP_DIAG_INFO &&
		    (size_t)(a->nla_len - NLA_HDRLEN) >=
			    sizeof(struct xdp_diag_info))
			return (const void *)((const char *)a + NLA_HDRLEN);
		left -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

int wc_xsk_diag_scan(const void *buf, size_t len, int ifindex, unsigned q,
		     __u32 *ino)
{
	long n = (long)len;

	for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		const struct xdp_diag_info *di;

		if (nh->nlmsg_type == NLMSG_DONE)
			return WC_DIAG_DONE;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : -EPROTO;
		}
		if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		di = diag_info(nh);
		if (di && di->ifindex == (__u32)ifindex && di->queue_id == q) {
			const struct xdp_diag_msg *m = NLMSG_DATA(nh);

			*ino = m->xdiag_ino;
			return WC_DIAG_FOUND;
		}
	}
	return 0;
}

int wc_xsk_diag_bound(int ifindex, unsigned q, __u32 *ino)
{
	struct {
		struct nlmsghdr nh;
		struct xdp_diag_req r;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nh.nlmsg_seq = 1,
		.r.sdiag_family = AF_XDP,
		.r.xdiag_show = XDP_SHOW_INFO,
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	/* a message per socket, some 60 bytes each */
	char buf[16384] __attribute__((aligned(8)));
	__u32 found = 0;
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		ret = n < 0  ? -errno :
		      n == 0 ? -EPROTO :
			       wc_xsk_diag_scan(buf, n, ifindex, q, &found);
	} while (!ret);
	if (ret == WC_DIAG_DONE)
		ret = 0; /* the whole dump read: none there */
out:
	close(fd);
	if (ret == WC_DIAG_FOUND && ino)
		*ino = found;
	return ret;
}

/* ---- without sock_diag: the namespace's count and our own binds -------- */

struct bound {
	int fd, ifindex;
	unsigned q;
	ino_t ino;
};

static struct bound *bound;
static size_t nbound, bound_cap;
static pthread_mutex_t bound_lock = PTHREAD_MUTEX_INITIALIZER;

/* still the socket that was bound: its fd not closed nor reused */
static bool bound_live(const struct bound *b)
{
	struct stat st;

	return !fstat(b->fd, &st) && st.st_ino == b->ino;
}

void wc_xsk_note_bound(int fd, int ifindex, unsigned q)
{
	struct stat st;
	size_t n = 0;

	if (fstat(fd, &st))
		return;
	pthread_mutex_lock(&bound_lock);
	if (nbound == bound_cap) {
		for (size_t i = 0; i < nbound; i++)
			if (bound_live(&bound[i]))
				bound[n++] = bound[i];
		nbound = n;
	}
	if (nbound == bound_cap) {
		size_t cap = bound_cap ? 2 * bound_cap : 64;
		struct bound *b = realloc(bound, cap * sizeof(*b));

		if (b) {
			bound = b;
			bound_cap = cap;
		}
	}
	if (nbound < bound_cap)
		bound[nbound++] = (struct bound){ fd, ifindex, q, st.st_ino };
	pthread_mutex_unlock(&bound_lock);
}

static bool own_bound(int ifindex, unsigned q)
{
	bool found = false;

	pthread_mutex_lock(&bound_lock);
	for (size_t i = 0; i < nbound && !found; i++)
		found = bound[i].ifindex == ifindex && bound[i].q == q &&
			bound_live(&bound[i]);
	pthread_mutex_unlock(&bound_lock);
	return found;
}

/* the live AF_XDP sockets of this thread's network namespace (where its
 * sockets are), or -errno */
static long netns_sockets(void)
{
	FILE *f = fopen("/proc/thread-self/net/protocols", "re");
	char line[256];
	long n = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned size;
		long socks;

		if (sscanf(line, "XDP %u %ld", &size, &socks) == 2) {
			n = socks;
			break;
		}
	}
	fclose(f);
	return n;
}

static int ino_cmp(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/* this process's AF_XDP sockets (each once, however many fds), or -errno */
static long own_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	ino_t *inos = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	long count = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name), dom = 0;
		socklen_t len = sizeof(dom);
		struct stat st;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    fd == dirfd(d) || fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) ||
		    dom != AF_XDP)
			continue;
		if (n == cap) {
			ino_t *p = realloc(inos, (cap = cap ? 2 * cap : 64) *
							 sizeof(*p));

			if (!p) {
				count = -ENOMEM;
				goto out;
			}
			inos = p;
		}
		inos[n++] = st.st_ino;
	}
	if (n)
		qsort(inos, n, sizeof(*inos), ino_cmp);
	for (size_t i = 0; i < n; i++)
		count += !i || inos[i] != inos[i - 1];
out:
	closedir(d);
	free(inos);
	return count;
}

int wc_xsk_queue_used(int ifindex, unsigned q)
{
	long total, own;
	int used = wc_xsk_diag_bound(ifindex, q, NULL);

	if (used >= 0)
		return used;
	total = netns_sockets();
	if (total < 0)
		return (int)total;
	own = own_sockets();
	if (own < 0)
		return (int)own;
	/* another process's socket (or one of ours created or closed
	 * meanwhile): perhaps on this queue, perhaps not */
	if (total != own)
		return -EAGAIN;
	return own_bound(ifindex, q);
}
