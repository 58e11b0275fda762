/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_POLICY_H
#define PORTSYNC_POLICY_H

#include <stddef.h>

#include <portsync/common.h>
#include <portsync/event.h>

PSYNC_BEGIN_DECLS

struct psync_pipeline;

/* on_event's answer for an event handled later: not counted as ignored. */
#define PSYNC_POLICY_DEFERRED 1

/*
 * A policy decides what each event means for the store. It writes and reads
 * through the pipeline it is given (psync_pipeline_write, psync_pipeline_read)
 * and never touches a socket. Set sz to sizeof(struct psync_policy_ops);
 * optional methods may be NULL.
 */
struct psync_policy_ops {
	size_t sz;
	const char *name;

	/* Optional. Runs once from psync_pipeline_start, before the first event:
	 * start-up reads and writes. A negative return aborts the start. */
	int (*start)(void *impl, struct psync_pipeline *p);

	/* Required. One event of any type (link events and stream markers). The
	 * event is borrowed. Returns 0 when done (a link event that caused no
	 * write or read counts as ignored), PSYNC_POLICY_DEFERRED when its writes
	 * will come later (after a read, say), or a negative errno, which the
	 * dispatch reports; the pipeline goes on with the next event. */
	int (*on_event)(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev);

	/* Optional. After each batch of events one dispatch took from the source. */
	int (*on_batch_end)(void *impl, struct psync_pipeline *p);

	/* Optional. Release impl. */
	void (*destroy)(void *impl);
};

struct psync_policy;

PSYNC_API int psync_policy_new(const struct psync_policy_ops *ops, void *impl,
			       struct psync_policy **ret);
PSYNC_API void psync_policy_free(struct psync_policy *policy);
PSYNC_API const char *psync_policy_get_name(const struct psync_policy *policy);
PSYNC_API void *psync_policy_get_impl(const struct psync_policy *policy);

/*
 * A ready-made policy for programs that only mirror links: every NEWLINK sets
 * TABLE<sep>ifname in db with fields admin_status, oper_status (up/down from
 * IFF_UP/IFF_RUNNING), mtu and ifindex; every DELLINK deletes the key. Strings
 * are copied.
 */
PSYNC_API int psync_policy_new_mirror(const char *db, const char *table,
				      struct psync_policy **ret);

PSYNC_END_DECLS

#endif
