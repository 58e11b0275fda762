/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_SOURCE_H
#define PORTSYNC_SOURCE_H

/**
 * @file
 * Sources: what produces link events. A source is an ops table and an
 * implementation behind one handle; the netlink and replay sources are built
 * this way, and so is any source of your own.
 *
 * A source is used from one thread at a time; once a pipeline owns it, it is
 * the pipeline's (see @ref threads in the guide).
 * Dispatching never blocks.
 */

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/event.h>

PSYNC_BEGIN_DECLS

/**
 * Receives every event a source produces. ev is borrowed for the call.
 * Returning a negative errno stops the current dispatch, which returns it.
 */
typedef int (*psync_emit_fn)(const struct psync_link_event *ev, void *userdata);

/**
 * What a source implements. Set sz to sizeof(struct psync_source_ops) so that
 * later versions of the library can add methods. Methods marked optional may be
 * NULL. impl is the pointer given to psync_source_new.
 */
struct psync_source_ops {
	size_t sz; /**< sizeof(struct psync_source_ops) */
	const char *name; /**< for logs and errors, e.g. "netlink" */

	/** Required. Emit at most budget ready events through emit, without blocking.
	 * Returns how many it emitted (0 when nothing was ready) or -errno. */
	int (*dispatch)(void *impl, unsigned budget, psync_emit_fn emit, void *userdata);

	/** Optional. A file descriptor that polls readable while events are ready.
	 * A source without one is dispatched on every pipeline dispatch. */
	int (*get_fd)(void *impl);

	/** Optional. Ask for a full dump of the current state; its events arrive
	 * through dispatch, followed by PSYNC_EVENT_DUMP_DONE. -EOPNOTSUPP if NULL. */
	int (*request_dump)(void *impl);

	/** Optional. Returns 1 once a finite source (a replay) has emitted everything,
	 * 0 otherwise. A NULL method means the source never ends. */
	int (*is_finished)(void *impl);

	/** Optional. Called by psync_source_free to release impl. */
	void (*destroy)(void *impl);
};

/** A source: an ops table and its implementation. Opaque. */
struct psync_source;

/**
 * Wraps an implementation into a source. ops must outlive the source (a static
 * const table); impl is owned by the source from now on when ops->destroy is set.
 * Free the source with psync_source_free(), or hand it to psync_pipeline_new().
 *
 * @retval 0 success, the source in *ret.
 * @retval -EINVAL ops or ret is NULL, or ops has no dispatch method.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_source_new(const struct psync_source_ops *ops, void *impl,
			       struct psync_source **ret);
/** Destroys the source and, through ops->destroy, its implementation. NULL is fine.
 * Never free a source a pipeline owns: psync_pipeline_free() does. */
PSYNC_API void psync_source_free(struct psync_source *source);

/**
 * Emits at most budget ready events through emit, without blocking. What a
 * budget of 0 means is the source's: the netlink source takes its
 * dispatch_budget option, the replay source emits nothing.
 *
 * @return how many events it emitted (0 when none was ready).
 * @retval -EINVAL source or emit is NULL.
 * @retval <0 the -errno the source, or emit, reported; the events before it
 *         were emitted.
 */
PSYNC_API int psync_source_dispatch(struct psync_source *source, unsigned budget,
				    psync_emit_fn emit, void *userdata);
/**
 * The fd to poll for readability. It belongs to the source: do not close it;
 * it is valid until the source is freed.
 *
 * @return the fd, or -1 when the source has none right now.
 * @retval -EOPNOTSUPP the source has no get_fd method.
 * @retval -EINVAL source is NULL.
 */
PSYNC_API int psync_source_get_fd(struct psync_source *source);
/**
 * Asks the source for a full dump; its events arrive through later dispatches,
 * followed by PSYNC_EVENT_DUMP_DONE. Never blocks.
 *
 * @retval 0 requested (the replay source accepts and does nothing).
 * @retval -EOPNOTSUPP the source cannot dump.
 * @retval -EINVAL source is NULL.
 * @retval <0 the source's -errno (netlink: of sending the request).
 */
PSYNC_API int psync_source_request_dump(struct psync_source *source);
/**
 * Whether a finite source has nothing more to emit.
 *
 * @retval 1 finished (a replay that emitted all its events).
 * @retval 0 not finished, or a source that never ends.
 * @retval -EINVAL source is NULL.
 */
PSYNC_API int psync_source_is_finished(struct psync_source *source);
/** The ops table's name, borrowed from it; "source" when it has none or source is NULL. */
PSYNC_API const char *psync_source_get_name(const struct psync_source *source);
/** The impl given to psync_source_new, for backends that offer extra calls.
 * Still owned by the source; NULL when source is NULL. */
PSYNC_API void *psync_source_get_impl(const struct psync_source *source);

PSYNC_END_DECLS

#endif
