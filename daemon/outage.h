/* SPDX-License-Identifier: Apache-2.0 */
/* Redis outages and refusal episodes, told in the log: one line when one
 * starts, one when it ends, nothing per write. */
#ifndef PORTSYNCD_OUTAGE_H
#define PORTSYNCD_OUTAGE_H

#include <stdint.h>

#include <portsync/portsync.h>

struct outage {
	int on;
	uint64_t began_ns;     /* CLOCK_MONOTONIC */
	uint64_t retried_at_start;
	uint64_t failed_seen;  /* writes given up, as last told */
};

/* Compares the metrics with what was last seen; logs a start or an end, and
 * writes given up since the last call (one line for all of them). */
void outage_check(struct outage *o, const struct psync_metrics *m, uint64_t now_ns);

#endif
