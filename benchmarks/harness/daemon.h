/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: portsyncd as a child process, with its HTTP metrics
 * endpoint on loopback, and what /proc tells about it (CPU time, RSS).
 */
#ifndef PSYNC_BENCH_DAEMON_H
#define PSYNC_BENCH_DAEMON_H

#include <stdint.h>
#include <sys/types.h>

struct daemon_proc {
	pid_t pid;
	int http_port;
	char log_path[160];
};

/* Writes a tunables file into workdir and starts exe against the Redis at
 * redis_address (unix:PATH), logging to workdir/portsyncd.log at the default
 * level. Returns once the process runs (not once it is ready). */
int daemon_start(struct daemon_proc *d, const char *exe, const char *redis_address,
		 const char *workdir, int http_port);
/* SIGTERM and wait; returns the exit status or a negative errno. */
int daemon_stop(struct daemon_proc *d);
int daemon_signal(struct daemon_proc *d, int sig);

/* One value of the daemon's /metrics page, by the metric's full name
 * ("portsyncd_events_received_total"). */
int daemon_metric(const struct daemon_proc *d, const char *name, double *value);

/* CPU time used so far by every thread of pid, in ns. */
uint64_t proc_cpu_ns(pid_t pid);
/* How many files pid holds open (entries of /proc/PID/fd); negative errno. */
int proc_fd_count(pid_t pid);
/* A /proc/PID/status field in kB ("VmRSS", "VmHWM"); negative on error. */
long proc_status_kb(pid_t pid, const char *field);

#endif
