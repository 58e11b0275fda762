/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmarks: the one clock every figure is taken with (CLOCK_MONOTONIC, the
 * clock the library stamps events with), and sleeping on it. */
#ifndef PSYNC_BENCH_CLOCK_H
#define PSYNC_BENCH_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double bench_now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

/* Until the clock reads ns: periodic pacing without drift. */
static inline void bench_sleep_until_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static inline void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

#endif
