/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the world a scenario runs in. One private redis-server
 * (unix socket in a temp dir) and its observer for the whole run; per
 * scenario a fresh network namespace with ifb ports Ethernet0, Ethernet4, ...,
 * the SONiC databases seeded for them, and portsyncd started as a child.
 */
#ifndef PSYNC_BENCH_WORLD_H
#define PSYNC_BENCH_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "helpers/redis_server.h"

#include "daemon.h"
#include "genlink.h"
#include "observer.h"

#define WORLD_MAX_PORTS 10000

struct world {
	const char *exe; /* portsyncd */
	struct redis_server redis;
	redisContext *client;
	struct observer *observer;
	struct genlink links;
	struct daemon_proc daemon;
	unsigned ports;     /* configured in CONFIG_DB */
	unsigned created;   /* netdevs made so far: ports 0..created-1 */
	int *ifindex;
	bool *up;           /* admin state the generator last set */
	uint32_t changes;   /* changes made so far, for distinct MTUs */
	uint64_t launch_ns; /* when portsyncd was started */
	uint64_t created_ns; /* when the last netdev was asked for */
	/* CPU time from launch until PortConfigDone was seen (to within 1 ms):
	 * portsyncd's own, and redis-server's executing what it sent. */
	uint64_t startup_cpu_ns;
	uint64_t startup_redis_cpu_ns;
};

/* A run of changes: when the first was sent and the last acknowledged. */
struct change_run {
	unsigned changes;
	uint64_t first_sent_ns;
	uint64_t last_acked_ns;
};

int world_open(struct world *w, const char *exe);
void world_close(struct world *w);

/* Moves the calling process (and the children and threads it makes from now
 * on) into a fresh network namespace with loopback up and the kernel's IPv6
 * work off, and opens links on it (closing it first if open). */
int world_enter_netns(struct genlink *links);

/* Leaves the previous namespace (and portsyncd) behind for a fresh one with
 * loopback up, and seeds the databases for ports ports. */
int world_reset(struct world *w, unsigned ports);
/* Creates the netdevs of ports created..count-1 (admin down); notes when
 * the last was asked for in created_ns. As on a switch, they must appear after
 * portsyncd started: it takes netdevs it finds at start for stale ones. */
int world_create_links(struct world *w, unsigned count);

/* Starts portsyncd, waits until it wrote PortConfigDone, then consumes
 * its port announcements as orchagent would. */
int world_start_daemon(struct world *w);
/* Waits for PortInitDone and for the start-up writes of every port. */
int world_wait_init(struct world *w);
int world_stop_daemon(struct world *w);

/* Admin up/down of ports 0..ports-1 in turn, count changes at rate per
 * second (0: each as soon as the one before was acknowledged), each marked
 * in the observer for its latency. */
int world_flap_paced(struct world *w, unsigned ports, unsigned rate, unsigned count,
		     struct change_run *run);
/* count MTU changes of ports 0..ports-1 in turn, each as soon as the
 * kernel acknowledged the one before. */
int world_mtu_flood(struct world *w, unsigned ports, unsigned count, struct change_run *run);

/* Waits until STATE_DB has been quiet for quiet_ms, then returns how many
 * configured ports disagree with the kernel (0: exact). */
int world_settle_and_check(struct world *w, unsigned quiet_ms);

/* A metric of the daemon's /metrics page; NAN when unreadable. */
double world_metric(struct world *w, const char *name);

#endif
