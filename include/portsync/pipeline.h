/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_PIPELINE_H
#define PORTSYNC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/metrics.h>
#include <portsync/policy.h>
#include <portsync/sink.h>
#include <portsync/source.h>

PSYNC_BEGIN_DECLS

/*
 * Tunables. Set sz to sizeof(struct psync_pipeline_options); a zero field takes
 * the default named beside it. Pass NULL for all defaults.
 */
struct psync_pipeline_options {
	size_t sz;
	unsigned dispatch_budget;    /* events taken from the source per dispatch: 256 */
	/* tries of a write failing transiently: 0 (the default) = until it
	 * succeeds. The queue holds one state per key, so waiting costs bounded
	 * memory; a write fails for good only on a permanent error (sink.h). */
	unsigned max_attempts;
	uint64_t retry_min_ns;       /* first retry delay: 1 ms, doubling per try */
	uint64_t retry_max_ns;       /* retry delay cap: 1 s */
	uint64_t rate_window_ns;     /* window of events_per_sec: 10 s */
	uint64_t overrun_degraded_ns; /* degraded this long after an overrun: 60 s */
	/* degraded above this queue depth: 0 (the default) = half the keys the
	 * pipeline tracks, at least 64; the queue holds at most one write per key */
	uint64_t queue_degraded;
	/* degraded when the p99 latency of the last health_window_ns exceeds this: 0 = never */
	uint64_t p99_degraded_ns;
	uint64_t health_window_ns;   /* the window p99_degraded_ns is judged over: 60 s */
};

struct psync_pipeline;

/*
 * Ties source -> policy -> sink. On success the pipeline owns all three (it is
 * the sink's only writer, and the sink holds its writes until they complete, so
 * they must go together); on failure they stay the caller's. -EINVAL, -EBUSY
 * when the sink already serves a pipeline, -ENOMEM, or the -errno of epoll.
 */
PSYNC_API int psync_pipeline_new(struct psync_source *source, struct psync_policy *policy,
				 struct psync_sink *sink,
				 const struct psync_pipeline_options *opts,
				 struct psync_pipeline **ret);
/* Frees the pipeline with its source, policy and sink. Writes not yet
 * acknowledged are dropped: call psync_pipeline_flush first to keep them. */
PSYNC_API void psync_pipeline_free(struct psync_pipeline *p);

/* Runs the policy's start method, then asks the source for a dump when it can. */
PSYNC_API int psync_pipeline_start(struct psync_pipeline *p);

/*
 * One fd for the caller's event loop: an epoll fd that polls readable whenever
 * the source or the sink has work. Call psync_pipeline_dispatch when it does,
 * and also when psync_pipeline_get_timeout_ms expires.
 */
PSYNC_API int psync_pipeline_get_fd(struct psync_pipeline *p);
/* Milliseconds until a timer is due (retry, reconnect), 0 when work is ready
 * without an fd, -1 when nothing is scheduled. */
PSYNC_API int psync_pipeline_get_timeout_ms(struct psync_pipeline *p);
/* Does the ready work without blocking. Returns the number of events handled,
 * or the first -errno a part reported (the pipeline stays usable). */
PSYNC_API int psync_pipeline_dispatch(struct psync_pipeline *p);

/* Runs a poll loop until the source is finished and every write completed, until
 * psync_pipeline_stop, or for timeout_ms (-1: no limit). 0, or -ETIMEDOUT. */
PSYNC_API int psync_pipeline_run(struct psync_pipeline *p, int timeout_ms);
/* Makes psync_pipeline_run return after its current dispatch. Async-signal-safe. */
PSYNC_API void psync_pipeline_stop(struct psync_pipeline *p);
/* Blocks until every queued and in-flight write completed, or timeout_ms.
 * 0, or -ETIMEDOUT. */
PSYNC_API int psync_pipeline_flush(struct psync_pipeline *p, int timeout_ms);

/* For policies: queue a write (copied). 0, -EINVAL, -ENOMEM. */
PSYNC_API int psync_pipeline_write(struct psync_pipeline *p, const struct psync_write *w);
/* For policies: a read through the sink, see psync_sink_read. */
PSYNC_API int psync_pipeline_read(struct psync_pipeline *p, const struct psync_read *r,
				  psync_read_fn cb, void *userdata);
/* For policies: ask the source for a fresh dump (after an overrun, say). */
PSYNC_API int psync_pipeline_request_dump(struct psync_pipeline *p);
PSYNC_API struct psync_sink *psync_pipeline_get_sink(struct psync_pipeline *p);
PSYNC_API struct psync_source *psync_pipeline_get_source(struct psync_pipeline *p);

/* Copies the metrics into m, at most m->sz bytes of it. -EINVAL when m->sz is
 * smaller than the first member. */
PSYNC_API int psync_pipeline_get_metrics(struct psync_pipeline *p, struct psync_metrics *m);

PSYNC_END_DECLS

#endif
