// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel-version gates (kernel.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "internal.h"
#include "kernel.h"

static const struct wc_kfeat_info feats[WC_KF_COUNT] = {
	[WC_KF_AF_XDP] = { "AF_XDP sockets", WC_KVER(4, 18, 0) },
	[WC_KF_REDIRECT_FLAGS] = { "bpf_redirect_map fallback action",
				   WC_KVER(5, 3, 0) },
	[WC_KF_NEED_WAKEUP] = { "AF_XDP need_wakeup", WC_KVER(5, 4, 0) },
	[WC_KF_XDP_REPLACE] = { "XDP_FLAGS_REPLACE", WC_KVER(5, 7, 0) },
	[WC_KF_XSK_STATS_V2] = { "XDP_STATISTICS ring-full and fill-empty counts",
				 WC_KVER(5, 9, 0) },
	[WC_KF_SHARED_UMEM_QUEUES] = { "one UMEM shared by sockets of several queues",
				       WC_KVER(5, 10, 0) },
	[WC_KF_BUSY_POLL] = { "SO_PREFER_BUSY_POLL", WC_KVER(5, 11, 0) },
	[WC_KF_RING_VMALLOC] = { "AF_XDP rings in virtually contiguous memory",
				 WC_KVER(6, 3, 0) },
};

const struct wc_kfeat_info *wc_kfeat_info(enum wc_kfeat f)
{
	return (unsigned)f < WC_KF_COUNT ? &feats[f] : NULL;
}

unsigned wc_kver_parse(const char *s)
{
	unsigned long v[3] = { 0, 0, 0 };
	int n = 0;
	char *end;

	while (s && n < 3 && *s >= '0' && *s <= '9') {
		v[n++] = strtoul(s, &end, 10);
		s = end;
		if (*s != '.')
			break;
		s++;
	}
	if (n < 2)
		return 0;
	for (int i = 0; i < 3; i++)
		if (v[i] > 255) /* 4.9.337: saturates, as KERNEL_VERSION does */
			v[i] = 255;
	return WC_KVER(v[0], v[1], v[2]);
}

unsigned wc_kver(char *buf, size_t len)
{
	const char *over = getenv("WIRECAP_KVER");
	struct utsname u;
	const char *rel;

	if (over && *over) {
		rel = over;
	} else if (!uname(&u)) {
		rel = u.release;
	} else {
		if (buf && len)
			snprintf(buf, len, "(unknown)");
		return 0;
	}
	if (buf && len)
		snprintf(buf, len, "%s", rel);
	return wc_kver_parse(rel);
}

bool wc_kernel_has(enum wc_kfeat f)
{
	unsigned v = wc_kver(NULL, 0);

	return !v || (unsigned)f >= WC_KF_COUNT || v >= feats[f].since;
}

int wc_kernel_check(void)
{
	const struct wc_kfeat_info *m = &feats[WC_KF_MINIMUM];
	char rel[65];
	unsigned v = wc_kver(rel, sizeof(rel));

	if (!v || v >= m->since)
		return 0;
	pr_warn("kernel %s is older than %u.%u, the oldest wirecap supports: it needs %s; "
		"with that backported, set WIRECAP_KVER=%u.%u\n",
		rel, m->since >> 16, (m->since >> 8) & 0xff, m->name,
		m->since >> 16, (m->since >> 8) & 0xff);
	return -ENOSYS;
}
