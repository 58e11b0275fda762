/* SPDX-License-Identifier: Apache-2.0 */
/* One line of what the pipeline measured, for logs and systemd's STATUS=, and
 * the same figures as a STATE_DB hash. */
#ifndef PORTSYNCD_SUMMARY_H
#define PORTSYNCD_SUMMARY_H

#include <stddef.h>

#include <portsync/portsync.h>

/* Where the summary goes in STATE_DB: a table no SONiC daemon uses. */
#define SUMMARY_TABLE "PORTSYNCD_METRICS"
#define SUMMARY_KEY "portsyncd"

void summary_line(const struct psync_metrics *m, char *buf, size_t len);
/* Queues HSET STATE_DB PORTSYNCD_METRICS|portsyncd with the summary's figures. */
int summary_write_state_db(struct psync_pipeline *p, const struct psync_metrics *m);

#endif
