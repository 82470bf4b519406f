// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine's monitor thread: every interval it refreshes the clock
 * offset used for timestamps, notices a vanished interface, and publishes
 * the engine's counters to the pinned maps (engine, pool_stats,
 * worker_stats) so `wirecap stats` and bpftool can read them from outside.
 * Buddy-group offloading runs here too (see docs/monitor.md).
 */
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "engine.h"

int wc_engine_publish(struct wc_engine *e)
{
	int efd = wc_iface__map_fd(e->ifc, WC_MAP_ENGINE);
	int pfd = wc_iface__map_fd(e->ifc, WC_MAP_POOL_STATS);
	int wfd = wc_iface__map_fd(e->ifc, WC_MAP_WORKER_STATS);
	struct wc_engine_info info;
	int err = 0;
	__u32 zero = 0;

	if (efd < 0 || pfd < 0 || wfd < 0)
		return -ENOENT;
	pthread_mutex_lock(&e->stats_lock);
	for (__u32 q = 0; q < e->nq; q++) {
		struct wc_pool_stats ps;

		if (!wc_engine__pool_stats(e, q, &ps) &&
		    bpf_map_update_elem(pfd, &q, &ps, BPF_ANY))
			err = -errno;
	}
	for (__u32 w = 0; w < e->nw; w++) {
		struct wc_worker_stats ws;

		if (!wc_engine__worker_stats(e, w, &ws) &&
		    bpf_map_update_elem(wfd, &w, &ws, BPF_ANY))
			err = -errno;
	}
	wc_engine__info(e, &info);
	if (bpf_map_update_elem(efd, &zero, &info, BPF_ANY))
		err = -errno;
	pthread_mutex_unlock(&e->stats_lock);
	return err;
}

static void *monitor_main(void *arg)
{
	struct wc_engine *e = arg;

	while (!atomic_load(&e->stop)) {
		struct wc_config cfg;
		__u32 ms = 100;
		struct timespec ts;

		if (!wc_iface__config(e->ifc, &cfg) && cfg.offload_interval_ms)
			ms = cfg.offload_interval_ms;
		if (ms > 1000)
			ms = 1000;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		wc_refresh_rt_off(e);
		if (if_nametoindex(e->ifname) != (unsigned)e->ifindex &&
		    !atomic_load(&e->dev_gone)) {
			pr_warn("%s: interface disappeared\n", e->ifname);
			atomic_store(&e->dev_gone, true);
		}
		wc_engine_publish(e);
	}
	return NULL;
}

int wc_monitor_start(struct wc_engine *e)
{
	int err;

	wc_engine_publish(e);
	err = pthread_create(&e->monitor, NULL, monitor_main, e);
	if (err)
		return -err;
	e->monitor_running = true;
	return 0;
}

void wc_monitor_stop(struct wc_engine *e)
{
	if (!e->monitor_running)
		return;
	atomic_store(&e->stop, true);
	pthread_join(e->monitor, NULL);
	e->monitor_running = false;
}
