// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What an attachment reports: its info, the XDP program's counters per
 * queue and per (queue, bucket).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"
#include "netdev.h"

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
	info->prog_id = wc_xdp_attached(ifc->ifindex, &m);
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
