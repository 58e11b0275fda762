/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_SINK_H
#define PORTSYNC_SINK_H

/**
 * @file
 * Sinks: where keyed state writes go. A sink is an ops table and an
 * implementation behind one handle; the Redis and memory sinks are built this
 * way, and so is any sink of your own (see @ref custom-sink in the guide).
 *
 * A sink applies keyed state writes: the key TABLE<sep>key lives in a named
 * database ("APPL_DB", "STATE_DB", ...); the sink knows each database's
 * separator. A sink is used from one thread at a time; once a pipeline owns it,
 * it is the pipeline's (see @ref threads in the guide).
 */

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>

PSYNC_BEGIN_DECLS

/** What a write does to its key. */
enum psync_write_op {
	PSYNC_WRITE_SET = 1,     /**< set the given fields of the hash, others untouched */
	PSYNC_WRITE_DEL,         /**< delete the whole key */
	PSYNC_WRITE_PRODUCER_SET, /**< SONiC ProducerStateTable set */
	PSYNC_WRITE_PRODUCER_DEL, /**< SONiC ProducerStateTable del */
};

/** One field of a hash: a name and its value, both NUL-terminated. */
struct psync_field {
	const char *name;  /**< the field's name */
	const char *value; /**< its value */
};

/**
 * One write. Writes to one key are states: the newest write to a key carries the
 * values that must hold in the end for the fields it names, and a DEL ends all.
 * The pipeline relies on this to coalesce a key's queued writes and to drop a
 * failed write that a newer write to the same key has made stale.
 *
 * Handed to psync_pipeline_write(), a write is copied. Handed to a sink's
 * submit, it is the pipeline's and stays valid, with all it points to, until
 * the sink completes it with psync_sink_write_done().
 */
struct psync_write {
	enum psync_write_op op; /**< what to do */
	const char *db;    /**< the database's name, e.g. "STATE_DB" */
	const char *table; /**< the table, e.g. "PORT_TABLE" */
	const char *key;   /**< the key within the table, e.g. "Ethernet0" */
	const struct psync_field *fields; /**< SET ops: applied in this order */
	size_t n_fields; /**< entries of fields; at least 1 for the SET ops */
	uint64_t origin_ns; /**< receive time of the causing event; 0 = not measured */
};

/** What a read asks. */
enum psync_read_op {
	PSYNC_READ_HGETALL = 1, /**< fields of TABLE<sep>key; none when it does not exist */
	PSYNC_READ_HGET,        /**< value of one field; NULL when absent */
	PSYNC_READ_EXISTS,      /**< whether TABLE<sep>key exists */
	PSYNC_READ_SCAN,        /**< every key of the table, without the "TABLE<sep>" prefix */
};

/** One read. psync_sink_read() copies its strings. */
struct psync_read {
	enum psync_read_op op; /**< what to read */
	const char *db;    /**< the database's name */
	const char *table; /**< the table */
	const char *key;   /**< not for SCAN */
	const char *field; /**< HGET only */
};

/** What a read found; borrowed for the duration of the callback. */
struct psync_read_result {
	int status; /**< 0, or -errno when the read failed */
	int exists; /**< HGETALL/HGET/EXISTS: 1 when the key (HGET: field) exists */
	const struct psync_field *fields; /**< HGETALL */
	size_t n_fields;                 /**< entries of fields */
	const char *value;               /**< HGET */
	const char *const *keys;         /**< SCAN */
	size_t n_keys;                   /**< entries of keys */
};

/**
 * Receives the result of a read. read is the library's copy of the request;
 * read and result, and everything they point to, are borrowed for the call.
 */
typedef void (*psync_read_fn)(const struct psync_read *read,
			      const struct psync_read_result *result, void *userdata);

/** A sink: an ops table and its implementation. Opaque. */
struct psync_sink;

/** Connection state a sink reports for health and metrics. */
struct psync_sink_status {
	size_t sz;          /**< set by the caller: sizeof(struct psync_sink_status) */
	int connected;      /**< 1 when writes can reach the store now */
	uint64_t reconnects; /**< successful reconnections since creation */
	uint64_t in_flight; /**< writes submitted and not yet completed */
	char reason[256];   /**< why it is not connected, "" otherwise; fits a Redis error line */
	uint64_t down_ns;   /**< not connected for this long (ns); 0 when connected */
	/** commands sent have waited this long (ns) for a reply, past the sink's
	 * reply deadline; 0 when they have not */
	uint64_t stalled_ns;
};

/**
 * What a sink implements; set sz to sizeof(struct psync_sink_ops). Optional
 * methods may be NULL. A sink completes every write it accepted exactly once, by
 * calling psync_sink_write_done(), and every read by psync_sink_read_done(); it
 * may do so from flush or dispatch, never from inside submit or read.
 * No method may block.
 */
struct psync_sink_ops {
	size_t sz; /**< sizeof(struct psync_sink_ops) */
	const char *name; /**< for logs and errors, e.g. "redis" */

	/** Required. Accept w; w and all it points to stay valid until completed.
	 * 0: accepted. -EAGAIN: not now (full or disconnected); the caller keeps w
	 * and tries again after the next dispatch. Other -errno: refused, never
	 * completed. */
	int (*submit)(void *impl, const struct psync_write *w);

	/** Optional. Start sending what submit queued; called once per dispatch. */
	int (*flush)(void *impl);

	/** Optional. Accept a read, completed later; -EOPNOTSUPP when NULL. r stays
	 * valid until completed. */
	int (*read)(void *impl, const struct psync_read *r);

	/** Optional. An fd to poll, and the poll events (POLLIN, POLLOUT) it wants
	 * now; get_events NULL means POLLIN. -1 or NULL: no fd right now. */
	int (*get_fd)(void *impl);
	/** Optional. The poll events get_fd's fd waits for now; see get_fd. */
	short (*get_events)(void *impl);

	/** Optional. Do the ready work without blocking: read replies, complete
	 * writes and reads, reconnect when a timer is due. */
	int (*dispatch)(void *impl);

	/** Optional. CLOCK_MONOTONIC ns of the next timer (reconnect backoff);
	 * 0 when none. */
	uint64_t (*next_timer_ns)(void *impl);

	/** Optional. Fill st (whose sz the caller set); NULL means always connected. */
	void (*get_status)(void *impl, struct psync_sink_status *st);

	/** Optional. Release impl; pending writes and reads are not completed. */
	void (*destroy)(void *impl);

	/** Optional. How many times the store behind the sink turned out to be a
	 * different one since creation (restarted without its data: a new Redis
	 * run_id): everything it acknowledged before is unknown. NULL: never. */
	uint64_t (*get_store_generation)(void *impl);
};

/**
 * Wraps an implementation into a sink; same rules as psync_source_new: ops must
 * outlive the sink (a static const table), and impl is owned by the sink from
 * now on when ops->destroy is set. Free it with psync_sink_free(), or hand it
 * to psync_pipeline_new().
 *
 * @retval 0 success, the sink in *ret.
 * @retval -EINVAL ops or ret is NULL, or ops has no submit method.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_sink_new(const struct psync_sink_ops *ops, void *impl,
			     struct psync_sink **ret);
/**
 * Destroys the sink and, through ops->destroy, its implementation; reads still
 * pending are dropped without their callbacks. NULL is fine. Never free a sink
 * a pipeline owns: psync_pipeline_free() does.
 */
PSYNC_API void psync_sink_free(struct psync_sink *sink);

/**
 * Called by sink implementations to complete a write accepted by submit.
 * status: 0 when the store acknowledged it, else -errno. Transient causes
 * (-ENOTCONN, -ECONNRESET, -EPIPE, -EAGAIN, -ETIMEDOUT, -EBUSY, -ENOMEM, -EIO,
 * -EACCES) are retried by the pipeline with capped backoff, by default until
 * the write lands (psync_pipeline_options::max_attempts); the rest are
 * permanent and count as failed at once: -EINVAL, -EPROTO, -EPERM say the same
 * write would be refused the same way again. reason
 * (may be NULL) says more, e.g. the store's error reply; it is read during
 * the call only.
 *
 * w must be the very pointer submit received, and is invalid once this
 * returns. Call it from flush or dispatch, never from inside submit: the
 * write counts as the sink's only once submit has returned 0. NULL arguments
 * are ignored.
 */
PSYNC_API void psync_sink_write_done(struct psync_sink *sink, const struct psync_write *w,
				     int status, const char *reason);
/**
 * Called by sink implementations to complete a read accepted by ops->read:
 * runs the reader's callback with result (borrowed for the call) and frees the
 * library's copy of the request. r must be the very pointer ops->read
 * received, and is invalid once this returns. Call it from flush or dispatch,
 * never from inside read. NULL arguments are ignored.
 */
PSYNC_API void psync_sink_read_done(struct psync_sink *sink, const struct psync_read *r,
				    const struct psync_read_result *result);

/**
 * Queue a read; cb runs from a later dispatch (or psync_sink_wait) with the
 * result. Strings in r are copied. Returns 0, or -errno without calling cb.
 * Never blocks.
 *
 * @retval 0 accepted: cb will run exactly once, unless the sink is freed first.
 * @retval -EINVAL sink, r or cb is NULL, r->db or r->table is NULL, key is
 *         NULL for HGETALL, HGET or EXISTS, field is NULL for HGET, or an
 *         unknown op.
 * @retval -EOPNOTSUPP the sink has no read method.
 * @retval -ENOMEM out of memory.
 * @retval <0 the sink's own refusal (Redis: -ENOENT for an unknown database).
 */
PSYNC_API int psync_sink_read(struct psync_sink *sink, const struct psync_read *r,
			      psync_read_fn cb, void *userdata);
/**
 * Blocks, dispatching the sink, until every read and write it has in hand has
 * completed, or timeout_ms passed (-1: no limit). For start-up code that runs
 * before an event loop. 0, -ETIMEDOUT, or the -errno of a failed poll/dispatch.
 *
 * @retval 0 nothing left in hand.
 * @retval -ETIMEDOUT timeout_ms passed first.
 * @retval -EINVAL sink is NULL.
 * @retval <0 the -errno of the sink's flush or dispatch, or of poll().
 */
PSYNC_API int psync_sink_wait(struct psync_sink *sink, int timeout_ms);

/**
 * The fd to poll for the sink, with the events psync_sink_get_events() says.
 * It belongs to the sink (do not close it) and may change after a dispatch,
 * when the sink reconnects. The pipeline polls it for you.
 *
 * @return the fd, or -1 when the sink has none right now.
 * @retval -EINVAL sink is NULL.
 */
PSYNC_API int psync_sink_get_fd(struct psync_sink *sink);
/** The poll events (POLLIN, POLLOUT) the sink's fd waits for now: POLLIN when
 * the sink has no get_events method, 0 when sink is NULL. */
PSYNC_API short psync_sink_get_events(struct psync_sink *sink);
/**
 * Does the sink's ready work without blocking: reads replies and completes
 * writes and reads. The pipeline calls it; call it yourself only for a sink
 * no pipeline owns.
 *
 * @return >= 0 on success (0 for a sink without a dispatch method).
 * @retval -EINVAL sink is NULL.
 * @retval <0 the sink's -errno.
 */
PSYNC_API int psync_sink_dispatch(struct psync_sink *sink);
/**
 * Fills st, at most st->sz bytes of it (set st->sz first). A sink without a
 * get_status method is always connected; in_flight is the library's count of
 * writes submitted and not completed. Never blocks.
 *
 * @retval 0 success.
 * @retval -EINVAL sink or st is NULL, or st->sz is smaller than its first member.
 */
PSYNC_API int psync_sink_get_status(struct psync_sink *sink, struct psync_sink_status *st);

/**
 * How many times the store behind the sink was found to be a different one
 * (see psync_sink_ops::get_store_generation); 0 for a NULL sink or one that
 * cannot tell. Does not block.
 */
PSYNC_API uint64_t psync_sink_get_store_generation(struct psync_sink *sink);
/** The ops table's name, borrowed from it; "sink" when it has none or sink is NULL. */
PSYNC_API const char *psync_sink_get_name(const struct psync_sink *sink);
/** The impl given to psync_sink_new, still owned by the sink; NULL when sink is NULL. */
PSYNC_API void *psync_sink_get_impl(const struct psync_sink *sink);

/** The name of a write op: "set", "del", "producer_set", "producer_del"
 * (static strings); NULL when unknown. Thread-safe. */
PSYNC_API const char *psync_write_op_to_string(enum psync_write_op op);

PSYNC_END_DECLS

#endif
