/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the floor of start-up. Launches benchmarks/startup-floor
 * (the least a start-up does: connect, read the CONFIG_DB ports, write them
 * back pipelined, PortConfigDone) the way portsyncd is launched, a fresh
 * process exec'd with none of the benchmark's descriptors, so that launch ->
 * PortConfigDone means the same for both.
 */
#ifndef PSYNC_BENCH_STARTUP_FLOOR_H
#define PSYNC_BENCH_STARTUP_FLOOR_H

#include <stdbool.h>
#include <sys/types.h>

/* Starts exe on redis_socket; plain: plain HSETs instead of the producer's
 * script. Returns its pid or a negative errno. */
pid_t startup_floor_launch(const char *exe, const char *redis_socket, bool plain);
void startup_floor_stop(pid_t pid);

#endif
