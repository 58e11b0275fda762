/* SPDX-License-Identifier: Apache-2.0 */
/* portsyncd's event loop: the pipeline, signals, the metrics endpoint and the
 * timers of readiness, watchdog and summaries. */
#ifndef PORTSYNCD_LOOP_H
#define PORTSYNCD_LOOP_H

#include <portsync/portsync.h>

#include "config.h"
#include "options.h"

struct http_server;

struct loop {
	struct psync_pipeline *p;
	const struct daemon_options *opts;
	struct daemon_config *cfg; /* replaced on SIGHUP when the file reads well */
	struct http_server *http;  /* NULL when [metrics] listen is empty */
	int sigfd;
};

/* Blocks the signals portsyncd handles and returns a signalfd for them. */
int loop_open_signals(void);
/* Serves until SIGTERM or SIGINT, then handles what is queued and flushes: 0.
 * -ESTALE when Redis came back empty and [redis] exit_on_reset is set. */
int loop_run(struct loop *l);

#endif
