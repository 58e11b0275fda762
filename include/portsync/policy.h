/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_POLICY_H
#define PORTSYNC_POLICY_H

/**
 * @file
 * Policies: what each event means for the store. A policy is an ops table and
 * an implementation behind one handle; psync_policy_new_mirror() and the
 * portsync policy (portsync_policy.h) are ready-made ones.
 *
 * A policy's methods run inside the pipeline's calls (psync_pipeline_start,
 * psync_pipeline_dispatch), on the thread that makes them; a policy is used
 * from one thread at a time (see @ref threads in the guide).
 */

#include <stddef.h>

#include <portsync/common.h>
#include <portsync/event.h>

PSYNC_BEGIN_DECLS

struct psync_pipeline;

/** on_event's answer for an event handled later: not counted as ignored. */
#define PSYNC_POLICY_DEFERRED 1

/**
 * A policy decides what each event means for the store. It writes and reads
 * through the pipeline it is given (psync_pipeline_write, psync_pipeline_read)
 * and never touches a socket. Set sz to sizeof(struct psync_policy_ops);
 * optional methods may be NULL.
 */
struct psync_policy_ops {
	size_t sz; /**< sizeof(struct psync_policy_ops) */
	const char *name; /**< for logs and errors, e.g. "mirror" */

	/** Optional. Runs once from psync_pipeline_start, before the first event:
	 * start-up reads and writes. A negative return aborts the start. */
	int (*start)(void *impl, struct psync_pipeline *p);

	/** Required. One event of any type (link events and stream markers). The
	 * event is borrowed. Returns 0 when done (a link event that caused no
	 * write or read counts as ignored), PSYNC_POLICY_DEFERRED when its writes
	 * will come later (after a read, say), or a negative errno, which the
	 * dispatch reports; the pipeline goes on with the next event. */
	int (*on_event)(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev);

	/** Optional. After each batch of events one dispatch took from the source. */
	int (*on_batch_end)(void *impl, struct psync_pipeline *p);

	/** Optional. Release impl. */
	void (*destroy)(void *impl);

	/** Optional. The store lost everything it had acknowledged (the sink's
	 * store generation changed: Redis restarted empty). The pipeline has
	 * dropped the writes it still held; the policy writes what the store must
	 * hold again, as a fresh start would (it may block, as start does). NULL:
	 * nothing is rewritten. A negative return is reported by the dispatch. */
	int (*on_store_reset)(void *impl, struct psync_pipeline *p);
};

/** A policy: an ops table and its implementation. Opaque. */
struct psync_policy;

/**
 * Wraps an implementation into a policy; same rules as psync_source_new: ops
 * must outlive the policy (a static const table), and impl is owned by the
 * policy from now on when ops->destroy is set.
 *
 * @retval 0 success, the policy in *ret.
 * @retval -EINVAL ops or ret is NULL, or ops has no on_event method.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_policy_new(const struct psync_policy_ops *ops, void *impl,
			       struct psync_policy **ret);
/** Destroys the policy and, through ops->destroy, its implementation. NULL is
 * fine. Never free a policy a pipeline owns: psync_pipeline_free() does. */
PSYNC_API void psync_policy_free(struct psync_policy *policy);
/** The ops table's name, borrowed from it; "policy" when it has none or policy is NULL. */
PSYNC_API const char *psync_policy_get_name(const struct psync_policy *policy);
/** The impl given to psync_policy_new, still owned by the policy; NULL when policy is NULL. */
PSYNC_API void *psync_policy_get_impl(const struct psync_policy *policy);

/**
 * A ready-made policy for programs that only mirror links: every NEWLINK sets
 * TABLE<sep>ifname in db with fields admin_status, oper_status (up/down from
 * IFF_UP/IFF_RUNNING), mtu and ifindex; every DELLINK deletes the key. Strings
 * are copied. Stream markers are ignored.
 *
 * @retval 0 success, the policy in *ret; free it with psync_policy_free().
 * @retval -EINVAL db or table is NULL or empty, or ret is NULL.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_policy_new_mirror(const char *db, const char *table,
				      struct psync_policy **ret);

PSYNC_END_DECLS

#endif
