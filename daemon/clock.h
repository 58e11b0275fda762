/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's one clock: CLOCK_MONOTONIC, for deadlines and rates. */
#ifndef PORTSYNCD_CLOCK_H
#define PORTSYNCD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
