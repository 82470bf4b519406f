// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * AF_XDP binds that meet a queue the kernel is still releasing
 * (userspace/xskdiag.c, wc_xsk_bind in userspace/xsk.c), on the loopback
 * of a network namespace of its own (a child process: unshare): a socket
 * bound to lo queue 0 is seen there, a second UMEM's bind there is
 * refused with EBUSY at once, and after a close a new UMEM binds the
 * queue every time although the kernel frees the closed socket's pool in
 * deferred work; another process's socket is seen not to be there
 * (sock_diag) or leaves it unknown (the count). With sock_diag for AF_XDP
 * in the kernel, or with the namespace's count of /proc/net/protocols
 * without it (xskdiag.c); skipped without root (unshare).
 */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/xdp_diag.h>

#include "internal.h"
#include "unit.h"
#include "xsk.h"

#define FRAMES 16
#define FRAME 4096
#define SKIP 77

static void *area;

/* a socket with a UMEM of its own and the rings a bind needs (none
 * mapped: a close releases it at once), bound to lo queue 0; or -errno */
static int umem_sock(int ifindex, int *fd)
{
	int err;

	*fd = wc_xsk_socket();
	if (*fd < 0)
		return *fd;
	if ((err = wc_xsk_umem_reg(*fd, area, FRAMES * FRAME, FRAME)) ||
	    (err = wc_xsk_set_ring(*fd, XDP_UMEM_FILL_RING, FRAMES)) ||
	    (err = wc_xsk_set_ring(*fd, XDP_UMEM_COMPLETION_RING, FRAMES)) ||
	    (err = wc_xsk_set_ring(*fd, XDP_RX_RING, FRAMES)))
		return err;
	return wc_xsk_bind(*fd, ifindex, 0, XDP_COPY, -1, false);
}

#define FAIL(...)                                         \
	do {                                              \
		fprintf(stderr, "xskdiag: " __VA_ARGS__); \
		return 1;                                 \
	} while (0)

/* Another process of the namespace has an AF_XDP socket (not bound):
 * sock_diag sees it is not on the queue; without it, the namespace's
 * count cannot say where it is (the engine then fails at once on EBUSY,
 * as without this check) */
static int other_process(int lo, bool diag)
{
	int ready[2], hold[2], used, status;
	char c = 0;
	pid_t pid;

	if (pipe(ready) || pipe(hold))
		FAIL("pipe: %s\n", strerror(errno));
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s\n", strerror(errno));
	if (!pid) {
		int fd = wc_xsk_socket();

		/* tell the socket is there, then hold it until told */
		if (write(ready[1], &c, 1) != 1 || fd < 0)
			_exit(1);
		_exit(read(hold[0], &c, 1) < 0);
	}
	if (read(ready[0], &c, 1) != 1)
		FAIL("no socket in the other process\n");
	used = wc_xsk_queue_used(lo, 0);
	if (write(hold[1], &c, 1) != 1 || waitpid(pid, &status, 0) != pid)
		FAIL("the other process did not end\n");
	if (used != (diag ? 0 : -EAGAIN))
		FAIL("another process's socket: %d, not %d\n", used,
		     diag ? 0 : -EAGAIN);
	return 0;
}

/* in the child, in its own network namespace: 0, SKIP or 1 */
static int rebind_child(void)
{
	struct stat st;
	__u32 ino = 0;
	int lo, a, b, err;
	bool diag;

	if (unshare(CLONE_NEWNET)) {
		unit_skip("xskdiag", "no network namespace of its own (root?)");
		return SKIP;
	}
	lo = (int)if_nametoindex("lo");
	area = mmap(NULL, FRAMES * FRAME, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!lo || area == MAP_FAILED)
		FAIL("no lo, or no memory\n");
	if (wc_xsk_queue_used(lo, 0) < 0) {
		unit_skip("xskdiag", "the kernel cannot list AF_XDP sockets");
		return SKIP;
	}
	diag = wc_xsk_diag_bound(lo, 0, NULL) >= 0;
	if (!diag)
		unit_skip(
			"xskdiag: sock_diag",
			"not in this kernel (CONFIG_XDP_SOCKETS_DIAG): the count of /proc/net/protocols checked");
	err = umem_sock(lo, &a);
	if (err)
		FAIL("first bind to lo: %s\n", strerror(-err));
	if (wc_xsk_queue_used(lo, 0) != 1 || wc_xsk_queue_used(lo, 1) != 0)
		FAIL("the bound socket is not seen on queue 0 only\n");
	if (diag && (fstat(a, &st) || wc_xsk_diag_bound(lo, 0, &ino) != 1 ||
		     ino != st.st_ino))
		FAIL("sock_diag does not list the bound socket (inode %u, %lu)\n",
		     ino, (unsigned long)st.st_ino);
	/* a live socket holds the queue: refused, not waited for */
	err = umem_sock(lo, &b);
	if (err != -EBUSY)
		FAIL("second UMEM on a used queue: %s, not EBUSY\n",
		     strerror(-err));
	close(b);
	for (int i = 0; i < 10; i++) {
		close(a);
		if (wc_xsk_queue_used(lo, 0) != 0)
			FAIL("a closed socket is still seen\n");
		err = umem_sock(lo, &a);
		if (err)
			FAIL("bind %d right after a close: %s\n", i,
			     strerror(-err));
	}
	close(a);
	return other_process(lo, diag);
}

START_TEST(test_rebind)
{
	int status = -1;
	pid_t pid;

	wc_set_print(NULL);
	fflush(stdout);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(rebind_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) != SKIP)
		ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* ---- sock_diag's dump as the kernel writes it (xsk_diag.c), read by
 * wc_xsk_diag_scan: the kernels here lack CONFIG_XDP_SOCKETS_DIAG ---- */

struct diag_buf {
	char b[1024] __attribute__((aligned(8)));
	size_t len;
};

/* one attribute at a; the next one's place */
static struct nlattr *put_attr(struct nlattr *a, int type, const void *v,
			       size_t len)
{
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, v, len);
	return (void *)((char *)a + NLA_ALIGN(a->nla_len));
}

/* a SOCK_DIAG_BY_FAMILY message of socket ino; with XDP_DIAG_INFO (and the
 * XDP_DIAG_UID the kernel puts after it) when ifindex >= 0 */
static void put_sock(struct diag_buf *d, __u32 ino, int ifindex, __u32 q)
{
	struct nlmsghdr *nh = (void *)(d->b + d->len);
	struct xdp_diag_msg *m = NLMSG_DATA(nh);
	struct nlattr *a = (void *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	struct xdp_diag_info di = { (__u32)ifindex, q };
	__u32 uid = 0;

	memset(nh, 0, 128);
	nh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m->xdiag_family = AF_XDP;
	m->xdiag_ino = ino;
	if (ifindex >= 0) {
		a = put_attr(a, XDP_DIAG_INFO, &di, sizeof(di));
		a = put_attr(a, XDP_DIAG_UID, &uid, sizeof(uid));
	}
	nh->nlmsg_len = (__u32)((char *)a - (char *)nh);
	d->len += NLMSG_ALIGN(nh->nlmsg_len);
}

static void put_end(struct diag_buf *d, int type, int error)
{
	struct nlmsghdr *nh = (void *)(d->b + d->len);
	struct nlmsgerr *e = NLMSG_DATA(nh);

	memset(nh, 0, NLMSG_SPACE(sizeof(*e)));
	nh->nlmsg_type = type;
	nh->nlmsg_len = NLMSG_LENGTH(type == NLMSG_ERROR ? sizeof(*e) : 4);
	if (type == NLMSG_ERROR)
		e->error = error;
	d->len += NLMSG_ALIGN(nh->nlmsg_len);
}

START_TEST(test_scan)
{
	struct diag_buf d = { .len = 0 };
	__u32 ino = 0;

	put_sock(&d, 11, -1, 0); /* no info asked: skipped */
	put_sock(&d, 12, 0, 1); /* not bound: ifindex 0 */
	put_sock(&d, 13, 5, 0); /* another queue */
	put_sock(&d, 14, 6, 1); /* another device */
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len, 5, 1, &ino), 0);
	put_sock(&d, 15, 5, 1);
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len, 5, 1, &ino),
			 WC_DIAG_FOUND);
	ck_assert_uint_eq(ino, 15);
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len, 5, 2, &ino), 0);
	put_end(&d, NLMSG_DONE, 0);
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len, 5, 2, &ino),
			 WC_DIAG_DONE);
	/* the kernel without the family, or refusing */
	d.len = 0;
	put_end(&d, NLMSG_ERROR, -ENOENT);
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len, 5, 1, &ino), -ENOENT);
	d.len = 0;
	put_end(&d, NLMSG_ERROR, -EPERM);
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len, 5, 1, &ino), -EPERM);
	/* a message cut short is not read past its end */
	d.len = 0;
	put_sock(&d, 15, 5, 1);
	ck_assert_int_eq(wc_xsk_diag_scan(d.b, d.len - 4, 5, 1, &ino), 0);
}
END_TEST

Suite *xskdiag_suite(void)
{
	Suite *s = suite_create("xskdiag");
	TCase *tc = tcase_create("rebind");

	tcase_add_test(tc, test_rebind);
	tcase_add_test(tc, test_scan);
	suite_add_tcase(s, tc);
	return s;
}
