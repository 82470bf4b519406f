// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An attachment's config entry and steering map: read, validated writes.
 */
#include <bpf/bpf.h>

#include "iface.h"

int wc_config_read(int fd, struct wc_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, cfg) ? -errno : 0;
}

WC_API int wc_iface__config(const struct wc_iface *ifc, struct wc_config *cfg)
{
	if (!ifc || !cfg)
		return -EINVAL;
	return wc_config_read(ifc->map_fd[WC_MAP_CONFIG], cfg);
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
	err = wc_config_read(ifc->map_fd[WC_MAP_CONFIG], &cur);
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
