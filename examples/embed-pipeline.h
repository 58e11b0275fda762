/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline the embedding examples host, and how a run is judged. */
#ifndef EMBED_PIPELINE_H
#define EMBED_PIPELINE_H

#include <portsync/portsync.h>

/* The command line: nothing (the replay) or --redis ADDRESS, into *redis.
 * 0, or 2 (the exit status) after printing the usage. */
int embed_read_args(int argc, char **argv, const char **redis);
/* redis NULL: replay -> mirror policy -> a memory sink failing every 7th
 * write (so retries need the host loop's timer); else netlink -> mirror
 * policy -> Redis at that address. name prefixes error lines. 0 or -errno. */
int embed_make_pipeline(const char *name, const char *redis, struct psync_pipeline **ret);
/* The replay is read and every write has completed. */
int embed_replay_done(struct psync_pipeline *p);
/* After the host's loop, whose outcome is r (>= 0, or -errno): waits for a
 * live run's writes, says what failed, and prints the run's key=value line.
 * Returns the exit status: 1 when r failed, an event is missing, a write
 * failed or (replay) a port's stored state is wrong. */
int embed_finish(const char *name, struct psync_pipeline *p, int replay, int r,
		 unsigned long timer_firings, unsigned long backoff_firings);

#endif
