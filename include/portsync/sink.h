/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_SINK_H
#define PORTSYNC_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>

PSYNC_BEGIN_DECLS

/*
 * A sink applies keyed state writes: the key TABLE<sep>key lives in a named
 * database ("APPL_DB", "STATE_DB", ...); the sink knows each database's separator.
 */
enum psync_write_op {
	PSYNC_WRITE_SET = 1,     /* set the given fields of the hash, others untouched */
	PSYNC_WRITE_DEL,         /* delete the whole key */
	PSYNC_WRITE_PRODUCER_SET, /* SONiC ProducerStateTable set */
	PSYNC_WRITE_PRODUCER_DEL, /* SONiC ProducerStateTable del */
};

struct psync_field {
	const char *name;
	const char *value;
};

/*
 * One write. Writes to one key are states: the newest write to a key carries the
 * values that must hold in the end for the fields it names, and a DEL ends all.
 * The pipeline relies on this to coalesce a key's queued writes and to drop a
 * failed write that a newer write to the same key has made stale.
 */
struct psync_write {
	enum psync_write_op op;
	const char *db;
	const char *table;
	const char *key;
	const struct psync_field *fields; /* SET ops: applied in this order */
	size_t n_fields;
	uint64_t origin_ns; /* receive time of the causing event; 0 = not measured */
};

enum psync_read_op {
	PSYNC_READ_HGETALL = 1, /* fields of TABLE<sep>key; none when it does not exist */
	PSYNC_READ_HGET,        /* value of one field; NULL when absent */
	PSYNC_READ_EXISTS,      /* whether TABLE<sep>key exists */
	PSYNC_READ_SCAN,        /* every key of the table, without the "TABLE<sep>" prefix */
};

struct psync_read {
	enum psync_read_op op;
	const char *db;
	const char *table;
	const char *key;   /* not for SCAN */
	const char *field; /* HGET only */
};

/* What a read found; borrowed for the duration of the callback. */
struct psync_read_result {
	int status; /* 0, or -errno when the read failed */
	int exists; /* HGETALL/HGET/EXISTS: 1 when the key (HGET: field) exists */
	const struct psync_field *fields; /* HGETALL */
	size_t n_fields;
	const char *value;               /* HGET */
	const char *const *keys;         /* SCAN */
	size_t n_keys;
};

typedef void (*psync_read_fn)(const struct psync_read *read,
			      const struct psync_read_result *result, void *userdata);

struct psync_sink;

/* Connection state a sink reports for health and metrics. */
struct psync_sink_status {
	size_t sz;          /* set by the caller: sizeof(struct psync_sink_status) */
	int connected;      /* 1 when writes can reach the store now */
	uint64_t reconnects; /* successful reconnections since creation */
	uint64_t in_flight; /* writes submitted and not yet completed */
	char reason[256];   /* why it is not connected, "" otherwise; fits a Redis error line */
	uint64_t down_ns;   /* not connected for this long (ns); 0 when connected */
	/* commands sent have waited this long (ns) for a reply, past the sink's
	 * reply deadline; 0 when they have not */
	uint64_t stalled_ns;
};

/*
 * What a sink implements; set sz to sizeof(struct psync_sink_ops). Optional
 * methods may be NULL. A sink completes every write it accepted exactly once, by
 * calling psync_sink_write_done(), and every read by psync_sink_read_done(); it
 * may do so from flush or dispatch, never from inside submit or read.
 */
struct psync_sink_ops {
	size_t sz;
	const char *name;

	/* Required. Accept w; w and all it points to stay valid until completed.
	 * 0: accepted. -EAGAIN: not now (full or disconnected); the caller keeps w
	 * and tries again after the next dispatch. Other -errno: refused, never
	 * completed. */
	int (*submit)(void *impl, const struct psync_write *w);

	/* Optional. Start sending what submit queued; called once per dispatch. */
	int (*flush)(void *impl);

	/* Optional. Accept a read, completed later; -EOPNOTSUPP when NULL. r stays
	 * valid until completed. */
	int (*read)(void *impl, const struct psync_read *r);

	/* Optional. An fd to poll, and the poll events (POLLIN, POLLOUT) it wants
	 * now; get_events NULL means POLLIN. -1 or NULL: no fd right now. */
	int (*get_fd)(void *impl);
	short (*get_events)(void *impl);

	/* Optional. Do the ready work without blocking: read replies, complete
	 * writes and reads, reconnect when a timer is due. */
	int (*dispatch)(void *impl);

	/* Optional. CLOCK_MONOTONIC ns of the next timer (reconnect backoff);
	 * 0 when none. */
	uint64_t (*next_timer_ns)(void *impl);

	/* Optional. Fill st (whose sz the caller set); NULL means always connected. */
	void (*get_status)(void *impl, struct psync_sink_status *st);

	/* Optional. Release impl; pending writes and reads are not completed. */
	void (*destroy)(void *impl);
};

/* Wraps an implementation into a sink; same rules as psync_source_new. */
PSYNC_API int psync_sink_new(const struct psync_sink_ops *ops, void *impl,
			     struct psync_sink **ret);
PSYNC_API void psync_sink_free(struct psync_sink *sink);

/*
 * Called by sink implementations to complete a write accepted by submit.
 * status: 0 when the store acknowledged it, else -errno; transient causes
 * (-ENOTCONN, -ECONNRESET, -EPIPE, -EAGAIN, -ETIMEDOUT, -EBUSY, -ENOMEM, -EIO)
 * are retried by the pipeline with backoff, others count as failed. reason
 * (may be NULL) says more, e.g. the store's error reply.
 */
PSYNC_API void psync_sink_write_done(struct psync_sink *sink, const struct psync_write *w,
				     int status, const char *reason);
/* Called by sink implementations to complete a read accepted by ops->read. */
PSYNC_API void psync_sink_read_done(struct psync_sink *sink, const struct psync_read *r,
				    const struct psync_read_result *result);

/*
 * Queue a read; cb runs from a later dispatch (or psync_sink_wait) with the
 * result. Strings in r are copied. Returns 0, or -errno without calling cb.
 */
PSYNC_API int psync_sink_read(struct psync_sink *sink, const struct psync_read *r,
			      psync_read_fn cb, void *userdata);
/*
 * Blocks, dispatching the sink, until every read and write it has in hand has
 * completed, or timeout_ms passed (-1: no limit). For start-up code that runs
 * before an event loop. 0, -ETIMEDOUT, or the -errno of a failed poll/dispatch.
 */
PSYNC_API int psync_sink_wait(struct psync_sink *sink, int timeout_ms);

PSYNC_API int psync_sink_get_fd(struct psync_sink *sink);
PSYNC_API short psync_sink_get_events(struct psync_sink *sink);
PSYNC_API int psync_sink_dispatch(struct psync_sink *sink);
PSYNC_API int psync_sink_get_status(struct psync_sink *sink, struct psync_sink_status *st);
PSYNC_API const char *psync_sink_get_name(const struct psync_sink *sink);
PSYNC_API void *psync_sink_get_impl(const struct psync_sink *sink);

/* "set", "del", "producer_set", "producer_del"; NULL when unknown. */
PSYNC_API const char *psync_write_op_to_string(enum psync_write_op op);

PSYNC_END_DECLS

#endif
