/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Time and synthetic per-packet work, shared by the CLI (bench, capture,
 * gen) and the benchmark baselines in tests/tools, so every consumer of a
 * benchmark spends the same cost measured the same way.
 */
#ifndef WIRECAP_CLOCK_H
#define WIRECAP_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "sysutil.h"

/* the library's clock reads (userspace/sysutil.h), under the CLI's names */
static inline uint64_t wc_clock_mono_ns(void)
{
	return wc_now_mono();
}

/* the unix time, as packet timestamps are */
static inline uint64_t wc_clock_real_ns(void)
{
	return wc_now_real();
}

static inline void wc_clock_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull,
			       .tv_nsec = ns % 1000000000ull };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* a CPU spin of `iters` loop iterations */
static inline void wc_spin(uint64_t iters)
{
	for (volatile uint64_t i = 0; i < iters; i++)
		;
}

/* spin iterations per microsecond on this CPU, measured once */
static inline uint64_t wc_spin_calibrate(void)
{
	uint64_t iters = 1000000, t0 = wc_clock_mono_ns(), dt;

	wc_spin(iters);
	dt = wc_clock_mono_ns() - t0;
	return dt ? iters * 1000 / dt : 1000;
}

#endif
