/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline the embedding examples host, and how a run is judged. */
#ifndef EMBED_PIPELINE_H
#define EMBED_PIPELINE_H

#include <portsync/portsync.h>

/* redis NULL: replay -> mirror policy -> a memory sink failing every 7th
 * write (so retries need the host loop's timer); else netlink -> mirror
 * policy -> Redis at that address. name prefixes error lines. 0 or -errno. */
int embed_make_pipeline(const char *name, const char *redis, struct psync_pipeline **ret);
/* The replay is read and every write has completed. */
int embed_replay_done(struct psync_pipeline *p);
/* Prints the run's key=value line; returns the exit status: 1 when an event
 * is missing, a write failed or (replay) a port's stored state is wrong. */
int embed_report(const char *name, struct psync_pipeline *p, int replay,
		 unsigned long timer_firings, unsigned long backoff_firings);

#endif
