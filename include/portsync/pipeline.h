/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_PIPELINE_H
#define PORTSYNC_PIPELINE_H

/**
 * @file
 * The pipeline: source -> policy -> sink, driven from the caller's event loop
 * through one fd, one dispatch call and one timeout (see @ref event-loop in
 * the guide).
 *
 * A pipeline and the source, policy and sink it owns are one object for
 * threads: use them from one thread at a time; distinct pipelines may run on
 * distinct threads (see @ref threads in the guide).
 */

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/metrics.h>
#include <portsync/policy.h>
#include <portsync/sink.h>
#include <portsync/source.h>

PSYNC_BEGIN_DECLS

/** psync_pipeline_options::store_reset */
enum psync_store_reset {
	PSYNC_STORE_RESET_RESTART = 0, /**< rewrite: the policy runs its start-up again */
	PSYNC_STORE_RESET_STOP = 1,    /**< stop: dispatch returns -ESTALE from then on */
};

/**
 * Tunables. Set sz to sizeof(struct psync_pipeline_options); a zero field takes
 * the default named beside it. Pass NULL for all defaults.
 */
struct psync_pipeline_options {
	size_t sz; /**< sizeof(struct psync_pipeline_options) */
	unsigned dispatch_budget;    /**< events taken from the source per dispatch: 256 */
	/** tries of a write failing transiently: 0 (the default) = until it succeeds.
	 * The queue holds one state per key, so waiting costs bounded memory; a
	 * write fails for good only on a permanent error (see psync_sink_write_done()). */
	unsigned max_attempts;
	uint64_t retry_min_ns;       /**< first retry delay: 1 ms, doubling per try */
	uint64_t retry_max_ns;       /**< retry delay cap: 1 s */
	uint64_t rate_window_ns;     /**< window of events_per_sec: 10 s */
	uint64_t overrun_degraded_ns; /**< degraded this long after an overrun: 60 s */
	/** degraded above this queue depth: 0 (the default) = half the keys the
	 * pipeline tracks, at least 64; the queue holds at most one write per key */
	uint64_t queue_degraded;
	/** degraded when the p99 latency over the last health_window_ns exceeds this: 0 = never */
	uint64_t p99_degraded_ns;
	uint64_t health_window_ns;   /**< the window p99_degraded_ns is judged over: 60 s */
	/** What to do when the store turns out to have lost what it acknowledged
	 * (psync_sink_get_store_generation() changed): PSYNC_STORE_RESET_RESTART
	 * (the default) lets the policy write everything again
	 * (psync_policy_ops::on_store_reset), after dropping the writes still
	 * queued for the old store; a policy without that method has its queue
	 * sent to the new store instead;
	 * PSYNC_STORE_RESET_STOP makes every later dispatch return -ESTALE, for a
	 * program that would rather exit and be restarted. */
	int store_reset;
	/** Load-adaptive batching, the bound on the wait it adds: 1 ms (0), or
	 * PSYNC_BATCH_OFF. While events come one at a time, each goes through at
	 * once. When reads of the source that find events come closer together
	 * than a quarter of this, for half of it and three reads at least (a
	 * short burst that is already over does not count), the pipeline stops polling the
	 * source for this long (its fd polls readable at the deadline), so that
	 * what arrived meanwhile is read, handled and sent to the sink together:
	 * one wakeup, one receive and one write for the lot. It goes on so while
	 * each such hold gathers two events or more. Every event still makes its
	 * own writes, in order; events read after a hold count their latency from
	 * the hold's start, and their acknowledgements are read at the next
	 * hold's end, so p99_degraded_ns is judged with twice this added to it.
	 * Only a source with an fd is held. */
	uint64_t batch_hold_ns;
};

/** psync_pipeline_options::batch_hold_ns: never hold the source; each read
 * of it goes through at once, however fast events come. */
#define PSYNC_BATCH_OFF UINT64_MAX

/** A pipeline: a source, a policy and a sink, with the writes between them. Opaque. */
struct psync_pipeline;

/**
 * Ties source -> policy -> sink. On success the pipeline owns all three (it is
 * the sink's only writer, and the sink holds its writes until they complete, so
 * they must go together); on failure they stay the caller's. -EINVAL, -EBUSY
 * when the sink already serves a pipeline, -ENOMEM, or the -errno of epoll.
 * opts is copied and may be NULL. Never blocks.
 *
 * @retval 0 success, the pipeline in *ret.
 * @retval -EINVAL source, policy, sink or ret is NULL, or opts->sz is smaller
 *         than its first member.
 * @retval -EBUSY the sink already serves a pipeline.
 * @retval -ENOMEM out of memory.
 * @retval <0 the -errno of epoll_create1() or of adding the source's fd, or an
 *         error the source's get_fd returned.
 */
PSYNC_API int psync_pipeline_new(struct psync_source *source, struct psync_policy *policy,
				 struct psync_sink *sink,
				 const struct psync_pipeline_options *opts,
				 struct psync_pipeline **ret);
/** Frees the pipeline with its source, policy and sink. Writes not yet
 * acknowledged are dropped: call psync_pipeline_flush first to keep them.
 * NULL is fine. */
PSYNC_API void psync_pipeline_free(struct psync_pipeline *p);

/**
 * Runs the policy's start method, then asks the source for a dump when it can.
 * Call it once, before the first dispatch. It blocks as long as the policy's
 * start does: the portsync policy waits for its start-up reads (up to
 * start_timeout_ms per round); the mirror policy has no start.
 *
 * @retval 0 started.
 * @retval -EINVAL p is NULL.
 * @retval <0 the policy's start failed (nothing was asked of the source), or
 *         the source's dump request did (a source that cannot dump is fine).
 */
PSYNC_API int psync_pipeline_start(struct psync_pipeline *p);

/**
 * One fd for the caller's event loop: an epoll fd that polls readable whenever
 * the source or the sink has work. Call psync_pipeline_dispatch when it does,
 * and also when psync_pipeline_get_timeout_ms expires.
 * The fd belongs to the pipeline (do not close it) and stays the same until
 * psync_pipeline_free().
 *
 * @return the fd.
 * @retval -EINVAL p is NULL.
 */
PSYNC_API int psync_pipeline_get_fd(struct psync_pipeline *p);
/** Milliseconds until a timer is due (retry, reconnect), 0 when work is ready
 * without an fd, -1 when nothing is scheduled. The end of a batching hold is
 * not among them: it makes the fd readable instead. Ask again after every dispatch:
 * the answer changes. -1 when p is NULL. Never blocks. */
PSYNC_API int psync_pipeline_get_timeout_ms(struct psync_pipeline *p);
/**
 * Does the ready work without blocking. Returns the number of events handled,
 * or the first -errno a part reported (the pipeline stays usable).
 * Completes writes the sink acknowledged, takes up to dispatch_budget events
 * from the source through the policy, and hands writes to the sink.
 *
 * @return the number of events taken from the source (0 when none was ready).
 * @retval -EINVAL p is NULL.
 * @retval <0 the first -errno that the sink, the source, the policy or epoll
 *         reported in this dispatch; the rest of the dispatch was still done.
 */
PSYNC_API int psync_pipeline_dispatch(struct psync_pipeline *p);

/** Runs a poll loop until the source is finished and every write completed, until
 * psync_pipeline_stop, or for timeout_ms (-1: no limit). 0, or -ETIMEDOUT.
 * Blocks: it is the loop, for programs that have none of their own. Errors
 * single dispatches report do not end it.
 *
 * @retval 0 finished, or stopped.
 * @retval -ETIMEDOUT timeout_ms passed first.
 * @retval -EINVAL p is NULL.
 * @retval <0 the -errno of epoll_wait().
 */
PSYNC_API int psync_pipeline_run(struct psync_pipeline *p, int timeout_ms);
/** Makes psync_pipeline_run return after its current dispatch. Async-signal-safe:
 * meant for a signal handler, which also interrupts the run's wait. NULL is fine. */
PSYNC_API void psync_pipeline_stop(struct psync_pipeline *p);
/** Blocks until every queued and in-flight write completed, or timeout_ms.
 * 0, or -ETIMEDOUT. Takes no events from the source; writes that fail for
 * good count as completed (see psync_metrics::writes_failed).
 *
 * @retval 0 every write completed.
 * @retval -ETIMEDOUT timeout_ms (-1: no limit) passed first.
 * @retval -EINVAL p is NULL.
 * @retval <0 the -errno of epoll_wait().
 */
PSYNC_API int psync_pipeline_flush(struct psync_pipeline *p, int timeout_ms);

/**
 * For policies: queue a write (copied). 0, -EINVAL, -ENOMEM.
 * w and its strings may go as soon as the call returns. The write goes
 * straight to the sink while it takes writes; while it pushes back, it waits
 * and a newer write to its key folds into it. Never blocks.
 *
 * @retval 0 queued; its outcome shows in the metrics.
 * @retval -EINVAL p or w is NULL, db, table or key is NULL, an unknown op, or
 *         a SET op without fields or with a NULL field name or value.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_pipeline_write(struct psync_pipeline *p, const struct psync_write *w);
/** For policies: a read through the sink, see psync_sink_read. Same ownership
 * and errors, and -EINVAL when p is NULL. Never blocks. */
PSYNC_API int psync_pipeline_read(struct psync_pipeline *p, const struct psync_read *r,
				  psync_read_fn cb, void *userdata);
/** For policies: ask the source for a fresh dump (after an overrun, say).
 * As psync_source_request_dump(), and -EINVAL when p is NULL. Never blocks. */
PSYNC_API int psync_pipeline_request_dump(struct psync_pipeline *p);
/** The sink, still owned by the pipeline; NULL when p is NULL. */
PSYNC_API struct psync_sink *psync_pipeline_get_sink(struct psync_pipeline *p);
/** The source, still owned by the pipeline; NULL when p is NULL. */
PSYNC_API struct psync_source *psync_pipeline_get_source(struct psync_pipeline *p);

/** Copies the metrics into m, at most m->sz bytes of it. -EINVAL when m->sz is
 * smaller than the first member.
 * m->sz is set to the bytes filled. Never blocks.
 *
 * @retval 0 success.
 * @retval -EINVAL p or m is NULL, or m->sz is smaller than its first member.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_pipeline_get_metrics(struct psync_pipeline *p, struct psync_metrics *m);

PSYNC_END_DECLS

#endif
