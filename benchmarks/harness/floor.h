/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the floor. A bare listener process that does the least
 * a port-state synchronizer can: read RTM_NEWLINK from a raw netlink socket
 * and write each link's admin state, MTU and oper state (the fields the
 * benchmarks check against the kernel) to STATE_DB with a blocking HSET.
 * No configuration, no checks, no retries, no metrics, no logging. Run as a
 * process of its own, like portsyncd, so that both meet the same scheduler;
 * what portsyncd costs on top of the kernel and Redis is its figure divided
 * by this one's.
 */
#ifndef PSYNC_BENCH_FLOOR_H
#define PSYNC_BENCH_FLOOR_H

#include <sys/types.h>

/* Starts the listener in the calling process's network namespace; returns
 * its pid once it listens, or a negative errno. */
pid_t floor_start(const char *redis_socket);
void floor_stop(pid_t pid);

#endif
