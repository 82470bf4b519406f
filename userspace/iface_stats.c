// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What an attachment reports: its info, the XDP program's counters per
 * queue and per (queue, bucket), and what a capture engine publishes in
 * the pinned maps (engine info, pool and worker counters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"
#include "netdev.h"
#include "sysutil.h"

WC_API int wc_iface__info(const struct wc_iface *ifc,
			  struct wc_iface_info *info)
{
	unsigned rx = 0, tx = 0;
	enum wc_xdp_mode m = WC_XDP_AUTO;

	if (!ifc || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	snprintf(info->ifname, sizeof(info->ifname), "%s", ifc->ifname);
	info->ifindex = ifc->ifindex;
	info->prog_id = wc_xdp_attached(ifc->ifindex, &m);
	info->mode = ifc->cfg.attach_mode == WC_XDP_GENERIC ? WC_XDP_GENERIC :
							      WC_XDP_NATIVE;
	info->queues = ifc->cfg.queues;
	info->workers = ifc->cfg.workers;
	info->buckets = ifc->cfg.buckets;
	info->steer_mode = ifc->cfg.steer_mode;
	if (!wc_netdev_queues(ifc->ifname, &rx, &tx))
		info->dev_queues = rx;
	snprintf(info->pin_dir, sizeof(info->pin_dir), "%s", ifc->pin_dir);
	return 0;
}

int wc_iface_queue_sums(const struct wc_iface *ifc, __u32 queue,
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

int wc_iface_bucket_sums(const struct wc_iface *ifc,
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

/* The public structs are the map layouts behind a size_t sz. */
_Static_assert(sizeof(struct wc_iface_queue_stats) ==
		       sizeof(size_t) + sizeof(struct wc_queue_stats),
	       "wc_iface_queue_stats: sz + struct wc_queue_stats");
_Static_assert(sizeof(struct wc_iface_bucket_stats) ==
		       sizeof(size_t) + sizeof(struct wc_bucket_stats),
	       "wc_iface_bucket_stats: sz + struct wc_bucket_stats");
_Static_assert(sizeof(struct wc_iface_pool_stats) ==
		       sizeof(size_t) + sizeof(struct wc_pool_stats),
	       "wc_iface_pool_stats: sz + struct wc_pool_stats");
_Static_assert(sizeof(struct wc_iface_worker_stats) ==
		       sizeof(size_t) + sizeof(struct wc_worker_stats),
	       "wc_iface_worker_stats: sz + struct wc_worker_stats");

WC_API int wc_iface__queue_stats(const struct wc_iface *ifc, __u32 queue,
				 struct wc_iface_queue_stats *out)
{
	struct wc_queue_stats qs;
	int err;

	if (!WC_OUT_VALID(out))
		return -EINVAL;
	err = wc_iface_queue_sums(ifc, queue, &qs);
	if (err)
		return err;
	wc_out_put(out, &qs, sizeof(qs));
	return 0;
}

WC_API int wc_iface__bucket_stats(const struct wc_iface *ifc,
				  struct wc_iface_bucket_stats *out, size_t n)
{
	struct wc_bucket_stats *sums;
	size_t stride;
	int total;

	if (!ifc || !WC_OUT_VALID(out))
		return -EINVAL;
	stride = out->sz;
	if (n < (size_t)ifc->cfg.queues * ifc->cfg.buckets)
		return -ENOSPC;
	sums = calloc((size_t)ifc->cfg.queues * ifc->cfg.buckets + 1,
		      sizeof(*sums));
	if (!sums)
		return -ENOMEM;
	total = wc_iface_bucket_sums(
		ifc, sums, (size_t)ifc->cfg.queues * ifc->cfg.buckets);
	for (int k = 0; k < total; k++) {
		void *o = (char *)out + (size_t)k * stride;

		*(size_t *)o = stride;
		wc_out_put(o, &sums[k], sizeof(sums[k]));
	}
	free(sums);
	return total;
}

static int lookup(const struct wc_iface *ifc, enum wc_map_id map, __u32 key,
		  void *val)
{
	int fd = ifc->map_fd[map];

	if (fd < 0)
		return -ENOENT;
	return bpf_map_lookup_elem(fd, &key, val) ? -errno : 0;
}

void wc_engine_info_put(struct wc_iface_engine_info *out,
			const struct wc_engine_info *ei, bool alive)
{
	struct wc_iface_engine_info o;

	memset(&o, 0, sizeof(o)); /* padding too: it is copied */
	o.pid = ei->pid;
	o.alive = alive;
	o.bind_mode = ei->bind_mode;
	o.queues = ei->queues;
	o.workers = ei->workers;
	o.chunks = ei->chunks;
	o.chunk_size = ei->chunk_size;
	o.frame_size = ei->frame_size;
	o.rx_ring_size = ei->rx_ring_size;
	o.fill_ring_size = ei->fill_ring_size;
	o.huge_pages = ei->huge_pages;
	o.wait_mode = ei->wait_mode;
	o.chunk_timeout_us = ei->chunk_timeout_us;
	o.umem_bytes = ei->umem_bytes;
	o.start_ns = ei->start_ns;
	o.update_ns = ei->update_ns;
	WC_OUT_PUT(out, &o);
}

WC_API int wc_iface__engine_info(const struct wc_iface *ifc,
				 struct wc_iface_engine_info *out)
{
	struct wc_engine_info ei;
	int err;

	if (!ifc || !WC_OUT_VALID(out))
		return -EINVAL;
	err = lookup(ifc, WC_MAP_ENGINE, 0, &ei);
	if (err)
		return err;
	wc_engine_info_put(out, &ei, wc_pid_alive(ei.pid));
	return 0;
}

WC_API int wc_iface__pool_stats(const struct wc_iface *ifc, __u32 queue,
				struct wc_iface_pool_stats *out)
{
	struct wc_pool_stats ps;
	int err;

	if (!ifc || !WC_OUT_VALID(out) || queue >= WC_MAX_QUEUES)
		return -EINVAL;
	err = lookup(ifc, WC_MAP_POOL_STATS, queue, &ps);
	if (err)
		return err;
	wc_out_put(out, &ps, sizeof(ps));
	return 0;
}

WC_API int wc_iface__worker_stats(const struct wc_iface *ifc, __u32 worker,
				  struct wc_iface_worker_stats *out)
{
	struct wc_worker_stats ws;
	int err;

	if (!ifc || !WC_OUT_VALID(out) || worker >= WC_MAX_WORKERS)
		return -EINVAL;
	err = lookup(ifc, WC_MAP_WORKER_STATS, worker, &ws);
	if (err)
		return err;
	wc_out_put(out, &ws, sizeof(ws));
	return 0;
}
