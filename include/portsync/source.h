/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_SOURCE_H
#define PORTSYNC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/event.h>

PSYNC_BEGIN_DECLS

/*
 * Receives every event a source produces. ev is borrowed for the call.
 * Returning a negative errno stops the current dispatch, which returns it.
 */
typedef int (*psync_emit_fn)(const struct psync_link_event *ev, void *userdata);

/*
 * What a source implements. Set sz to sizeof(struct psync_source_ops) so that
 * later versions of the library can add methods. Methods marked optional may be
 * NULL. impl is the pointer given to psync_source_new.
 */
struct psync_source_ops {
	size_t sz;
	const char *name; /* for logs and errors, e.g. "netlink" */

	/* Required. Emit at most budget ready events through emit, without blocking.
	 * Returns how many it emitted (0 when nothing was ready) or -errno. */
	int (*dispatch)(void *impl, unsigned budget, psync_emit_fn emit, void *userdata);

	/* Optional. A file descriptor that polls readable while events are ready.
	 * A source without one is dispatched on every pipeline dispatch. */
	int (*get_fd)(void *impl);

	/* Optional. Ask for a full dump of the current state; its events arrive
	 * through dispatch, followed by PSYNC_EVENT_DUMP_DONE. -EOPNOTSUPP if NULL. */
	int (*request_dump)(void *impl);

	/* Optional. Returns 1 once a finite source (a replay) has emitted everything,
	 * 0 otherwise. A NULL method means the source never ends. */
	int (*is_finished)(void *impl);

	/* Optional. Called by psync_source_free to release impl. */
	void (*destroy)(void *impl);
};

struct psync_source;

/*
 * Wraps an implementation into a source. ops must outlive the source (a static
 * const table); impl is owned by the source from now on when ops->destroy is set.
 * -EINVAL when ops or its required method is missing, -ENOMEM.
 */
PSYNC_API int psync_source_new(const struct psync_source_ops *ops, void *impl,
			       struct psync_source **ret);
/* Destroys the source and, through ops->destroy, its implementation. NULL is fine. */
PSYNC_API void psync_source_free(struct psync_source *source);

PSYNC_API int psync_source_dispatch(struct psync_source *source, unsigned budget,
				    psync_emit_fn emit, void *userdata);
/* The fd to poll for readability, or -EOPNOTSUPP when the source has none. */
PSYNC_API int psync_source_get_fd(struct psync_source *source);
PSYNC_API int psync_source_request_dump(struct psync_source *source);
/* 1 when a finite source has nothing more to emit, else 0. */
PSYNC_API int psync_source_is_finished(struct psync_source *source);
PSYNC_API const char *psync_source_get_name(const struct psync_source *source);
/* The impl given to psync_source_new, for backends that offer extra calls. */
PSYNC_API void *psync_source_get_impl(const struct psync_source *source);

PSYNC_END_DECLS

#endif
