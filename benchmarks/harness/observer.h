/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the observer, a client subscribed to Redis keyspace
 * notifications in a thread of its own. It stamps every write to STATE_DB
 * PORT_TABLE|EthernetN (port N/4) and to APPL_DB _PORT_TABLE:PortConfigDone /
 * PortInitDone as it arrives, which makes end-to-end latency measurable from
 * outside the daemon: the generator marks a port when it sends a change, and
 * the next STATE_DB write of that port closes the sample.
 */
#ifndef PSYNC_BENCH_OBSERVER_H
#define PSYNC_BENCH_OBSERVER_H

#include <stddef.h>
#include <stdint.h>

struct observer;

/* Turns keyspace notifications on in the server behind socket_path and
 * subscribes; ports is the highest port index + 1 that will be marked. */
int observer_start(const char *socket_path, unsigned ports, struct observer **ret);
void observer_stop(struct observer *o);

/* The generator sent a change of port at sent_ns (CLOCK_MONOTONIC). */
void observer_mark_sent(struct observer *o, unsigned port, uint64_t sent_ns);
/* Moves the latency samples (ns) gathered so far into out (at most max) and
 * forgets them; returns how many. */
size_t observer_take_samples(struct observer *o, uint64_t *out, size_t max);
/* Forgets samples, marks, counts and the APPL_DB stamps. */
void observer_reset(struct observer *o);

/* STATE_DB PORT_TABLE writes seen since the last reset, and when the last one
 * arrived (0: none). */
uint64_t observer_state_writes(struct observer *o);
uint64_t observer_last_state_ns(struct observer *o);
/* When APPL_DB's PortConfigDone / PortInitDone was first written (0: not yet). */
uint64_t observer_config_done_ns(struct observer *o);
uint64_t observer_init_done_ns(struct observer *o);

/* Waits until no STATE_DB write has arrived for quiet_ms (0), or timeout_ms
 * passed (-ETIMEDOUT). */
int observer_wait_quiet(struct observer *o, unsigned quiet_ms, unsigned timeout_ms);
/* Waits until the given stamp getter turns non-zero; returns it, 0 on timeout. */
uint64_t observer_wait_for(struct observer *o, uint64_t (*stamp)(struct observer *),
			   unsigned timeout_ms);

#endif
