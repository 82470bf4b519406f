/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The library's clock reads and its process-liveness test, in one place
 * (the CLI has util/clock.h, which the library cannot link).
 */
#ifndef WIRECAP_SYSUTIL_H
#define WIRECAP_SYSUTIL_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <linux/types.h>

/* CLOCK_MONOTONIC in ns: intervals, deadlines, bpf_ktime_get_ns() */
static inline __u64 wc_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* CLOCK_REALTIME in ns: the unix time, as packet timestamps are */
static inline __u64 wc_now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Is a process with this (published) pid alive? One of another user is
 * (EPERM). 0 is no process: kill(0, 0) would test our process group. */
static inline bool wc_pid_alive(__u32 pid)
{
	if (!pid || pid > (__u32)__INT_MAX__)
		return false;
	return !kill((pid_t)pid, 0) || errno != ESRCH;
}

#endif
