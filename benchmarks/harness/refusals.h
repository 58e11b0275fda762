/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: failure injection by the server itself. A thread makes
 * redis-server refuse writes (OOM: maxmemory 1 byte, no eviction) for on_ms
 * out of every period_ms, so that share of the writes sent meanwhile fail
 * with a real error reply and must be retried.
 */
#ifndef PSYNC_BENCH_REFUSALS_H
#define PSYNC_BENCH_REFUSALS_H

struct refusals;

int refusals_start(const char *redis_socket, unsigned on_ms, unsigned period_ms,
		   struct refusals **ret);
/* Stops and leaves the server accepting writes again. */
void refusals_stop(struct refusals *r);

#endif
