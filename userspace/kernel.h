/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel-version gates: the kernel features wirecap relies on and the
 * upstream release that brought each (docs/vmtest.md, "Supported kernels").
 * The minimum is a hard gate (a clear error instead of an EINVAL from a
 * bind later); the others say what wirecap does without them.
 */
#ifndef WIRECAP_KERNEL_H
#define WIRECAP_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#define WC_KVER(a, b, c) (((a) << 16) + ((b) << 8) + (c))

enum wc_kfeat {
	WC_KF_AF_XDP, /* AF_XDP sockets, XSKMAP */
	WC_KF_REDIRECT_FLAGS, /* bpf_redirect_map fallback action */
	WC_KF_NEED_WAKEUP, /* XDP_USE_NEED_WAKEUP */
	WC_KF_XDP_REPLACE, /* XDP_FLAGS_REPLACE */
	WC_KF_XSK_STATS_V2, /* XDP_STATISTICS ring-full / fill-empty counts */
	WC_KF_SHARED_UMEM_QUEUES, /* XDP_SHARED_UMEM across queues, devices */
	WC_KF_BUSY_POLL, /* SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET */
	WC_KF_RING_VMALLOC, /* rings vmalloc'ed, not physically contiguous */
	WC_KF_COUNT,
};

/* the oldest kernel wirecap runs on: one UMEM shared by sockets of
 * several queues (5.10) */
#define WC_KF_MINIMUM WC_KF_SHARED_UMEM_QUEUES

struct wc_kfeat_info {
	const char *name;
	unsigned since; /* WC_KVER() */
};

const struct wc_kfeat_info *wc_kfeat_info(enum wc_kfeat f);
/* "6.1.0-56-amd64" -> WC_KVER(6, 1, 0); 0 when it is not a version */
unsigned wc_kver_parse(const char *release);
/* the running kernel's version as wirecap assumes it: WIRECAP_KVER when
 * set (a distribution kernel with backported features: the upstream
 * version it matches), else uname's; 0 when unknown. The string, for
 * messages, goes to buf. */
unsigned wc_kver(char *buf, size_t len);
/* true when the feature is there, or when the version is unknown (then
 * the kernel decides) */
bool wc_kernel_has(enum wc_kfeat f);
/* 0, or -ENOSYS with one line saying which minimum is not met */
int wc_kernel_check(void);

#endif
