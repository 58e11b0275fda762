/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_REDIS_H
#define PORTSYNC_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/sink.h>

PSYNC_BEGIN_DECLS

/**
 * @file
 * The Redis sink: keyed state writes to Redis, as SONiC lays them out.
 *
 * Databases are named ("APPL_DB", "STATE_DB", ...) and resolved to a Redis
 * instance, a database id and a key separator, either from SONiC's
 * database_config.json or, for a plain address, from SONiC's usual ids and
 * separators (APPL_DB 0 ':', ASIC_DB 1, COUNTERS_DB 2, LOGLEVEL_DB 3,
 * CONFIG_DB 4 '|', PFC_WD_DB 5, FLEX_COUNTER_DB 5, STATE_DB 6 '|',
 * SNMP_OVERLAY_DB 7, ...).
 *
 * Writes: PSYNC_WRITE_SET is one HSET of TABLE<sep>key with the fields in the
 * caller's order (at least one field), PSYNC_WRITE_DEL one DEL, and the
 * PRODUCER ops follow SONiC's ProducerStateTable protocol (EVALSHA of a script
 * loaded once per connection; key set, del set, staging hash "_TABLE<sep>key",
 * "G" published on "TABLE_CHANNEL@<id>" only for keys new to the key set).
 *
 * One connection per Redis instance, opened when a database on it is first
 * used (or by psync_redis_sink_connect). Its handshake (AUTH, SCRIPT LOAD, a
 * SELECT of every database the instance holds) completes before any write goes
 * out: a database id the server lacks is a connection error that names it,
 * never a write to the wrong database. Everything submitted between two
 * flushes leaves as one pipelined batch per connection; replies are read from
 * dispatch without blocking. Writes to databases of one instance are applied
 * in submission order; across instances there is no order. A lost connection
 * completes its unacknowledged writes with -ECONNRESET (the pipeline sends them
 * again) and is reopened with capped exponential backoff and jitter; reads in
 * flight are sent again by the sink itself.
 *
 * Error replies complete a write with: LOADING, BUSY, READONLY, MASTERDOWN,
 * MISCONF -EBUSY; OOM -ENOMEM; TRYAGAIN -EAGAIN; NOAUTH, WRONGPASS -EACCES
 * (all transient: the server will take the write once it has loaded, has
 * memory, can snapshot, or an operator fixed the password); NOPERM -EPERM;
 * WRONGTYPE and unknown errors -EPROTO; ERR -EINVAL (permanent: the ACL, the
 * key's type or the command must change first). The server's text is the
 * reason. NOSCRIPT never reaches the caller: the scripts are loaded again and
 * the failed write and everything sent after it are sent again, in order (a
 * write that had landed lands twice; each write sets a final state, so the
 * end result is the same).
 *
 * The sink's fd (psync_sink_get_fd) is an epoll fd over all its connections;
 * it polls readable whenever a connection has input, or room for pending
 * output. Host names are resolved with a blocking lookup when connecting: use
 * numeric addresses or unix sockets where that matters.
 *
 * Connecting happens from the sink's dispatch (in a pipeline: from
 * psync_pipeline_dispatch), without blocking but for that lookup; only
 * psync_redis_sink_connect() and psync_sink_wait() wait. A sink, with its
 * connections, is used from one thread at a time; distinct sinks are
 * independent. A database configuration is read-only once made: one may be
 * shared by threads.
 */

/** Where SONiC keeps the database configuration. */
#define PSYNC_REDIS_DEFAULT_DB_CONFIG "/var/run/redis/sonic-db/database_config.json"

/**
 * Options of psync_redis_sink_new. Set sz to sizeof(struct psync_redis_options);
 * a zero field takes the default named beside it.
 */
struct psync_redis_options {
	size_t sz; /**< sizeof(struct psync_redis_options) */
	/** Where Redis is: "unix:/path", "/path" or "host:port" ("[v6addr]:port"); NULL: use db_config */
	const char *address;
	/** database_config.json, when address is NULL; NULL: PSYNC_REDIS_DEFAULT_DB_CONFIG */
	const char *db_config;
	/** AUTH with the first line of this file; never pass a password in argv */
	const char *password_file;
	/** or: AUTH with the value of this environment variable (its name, not the password) */
	const char *password_env;
	unsigned max_in_flight;      /**< writes per connection sent and not acknowledged: 1024 */
	unsigned connect_timeout_ms; /**< connect and handshake: 2000 */
	unsigned backoff_min_ms;     /**< first reconnect delay: 50, doubling per failure */
	unsigned backoff_max_ms;     /**< reconnect delay cap: 5000 */
	unsigned scan_count;         /**< COUNT hint of each SCAN step: 1000 */
	/** A command unanswered this long makes the sink report itself stalled
	 * (psync_sink_status::stalled_ns; health: unhealthy): 3000. A stalled server
	 * is not a dead one, so the connection is kept until 10 times this, then
	 * dropped and reopened (its writes are sent again). */
	unsigned reply_timeout_ms;
};

/**
 * Creates a Redis sink. Reads the database configuration and the password now,
 * opens connections later (see above). On failure returns -errno and, when err
 * is not NULL, writes a one-line reason naming the file or option at fault into
 * err: -EINVAL (bad option, address or configuration), -ENOENT or another
 * -errno of reading a file, -ENOMEM. Free with psync_sink_free.
 * opts and its strings are copied; opts may be NULL (database_config.json at
 * PSYNC_REDIS_DEFAULT_DB_CONFIG). Blocks only to read those local files.
 *
 * @retval 0 success, the sink in *ret.
 * @retval -EINVAL ret is NULL, opts->sz is smaller than its first member, or a
 *         bad option, address or configuration.
 * @retval -ENOMEM out of memory.
 * @retval <0 the -errno of reading a file (-ENOENT, -EACCES, ...) or of
 *         epoll_create1().
 */
PSYNC_API int psync_redis_sink_new(const struct psync_redis_options *opts, char *err,
				   size_t err_len, struct psync_sink **ret);

/**
 * Connects the instance holding db now and blocks until it is ready (connected,
 * authenticated, scripts loaded), for start-up checks. Dispatches the sink while
 * it waits, so writes and reads may complete. Returns 0 when ready, the -errno
 * of the first failed attempt (-ECONNREFUSED, -ENOENT, -EACCES, -ETIMEDOUT, ...)
 * with a reason in err, -ETIMEDOUT after timeout_ms (-1: no limit), -ENOENT for
 * an unknown db, -EINVAL when sink is not a Redis sink.
 * An instance that is ready already returns 0 at once.
 */
PSYNC_API int psync_redis_sink_connect(struct psync_sink *sink, const char *db, int timeout_ms,
				       char *err, size_t err_len);

/**
 * Counters of a Redis sink, copied out. Set sz to sizeof(struct
 * psync_redis_stats); at most sz bytes are filled.
 */
struct psync_redis_stats {
	size_t sz;                 /**< sizeof(struct psync_redis_stats) */
	uint64_t commands;         /**< commands appended to connections */
	uint64_t replies;          /**< replies read */
	uint64_t error_replies;    /**< replies that were errors, NOSCRIPT included */
	uint64_t script_reloads;   /**< NOSCRIPT answered by loading the scripts again */
	uint64_t connects;         /**< connections that became ready */
	uint64_t reconnects;       /**< of which after a loss or failure */
	uint64_t connect_failures; /**< attempts that failed before becoming ready */
	uint64_t disconnects;      /**< ready connections lost */
	uint64_t pending_output;   /**< bytes waiting to be sent, now */
	uint64_t in_flight;        /**< writes sent and not acknowledged, now */
};

/** Copies the counters into st, at most st->sz bytes. Never blocks.
 * -EINVAL when sink is not a Redis sink or st->sz is too small. */
PSYNC_API int psync_redis_sink_get_stats(struct psync_sink *sink, struct psync_redis_stats *st);

/**
 * SONiC's database configuration, parsed. Strings returned by resolve are owned
 * by the configuration and valid until it is freed.
 */
struct psync_redis_db_config;

/**
 * Parses database_config.json. On failure returns -errno and writes
 * "PATH: reason" (with a line number for JSON syntax errors) into err: the
 * -errno of opening or reading the file, -EINVAL for bad JSON or a schema error
 * (missing INSTANCES or DATABASES, a database naming an unknown instance, an id
 * that is not a non-negative integer, ...), -ENOMEM. err may be NULL. Blocks
 * only to read the file. Free the result with psync_redis_db_config_free().
 */
PSYNC_API int psync_redis_db_config_load(const char *path, char *err, size_t err_len,
					 struct psync_redis_db_config **ret);

/**
 * A configuration of one instance at address (as in psync_redis_options) with
 * SONiC's usual databases, ids and separators. -EINVAL for a bad address
 * (with a reason in err, which may be NULL), -ENOMEM. Never blocks.
 */
PSYNC_API int psync_redis_db_config_new_address(const char *address, char *err, size_t err_len,
						struct psync_redis_db_config **ret);

/** Frees cfg and the strings resolve returned from it. NULL is fine. */
PSYNC_API void psync_redis_db_config_free(struct psync_redis_db_config *cfg);

/** Where a database lives. Set sz to sizeof(struct psync_redis_db_location). */
struct psync_redis_db_location {
	size_t sz;               /**< sizeof(struct psync_redis_db_location) */
	const char *instance;    /**< the instance's name ("redis"; "default" for an address) */
	const char *unix_socket; /**< NULL when the instance is reached over TCP */
	const char *hostname;    /**< NULL when reached over a unix socket */
	int port;                /**< TCP port; not used over a unix socket */
	int id;                  /**< the database number (SELECT) */
	const char *separator;   /**< between table and key */
};

/** Fills ret for db. -ENOENT for an unknown database, -EINVAL for bad arguments.
 * ret->sz must be set; at most that much is filled. Never blocks. */
PSYNC_API int psync_redis_db_config_resolve(const struct psync_redis_db_config *cfg,
					    const char *db, struct psync_redis_db_location *ret);

/**
 * @name Watching a key
 * "Tell me when this hash changes." SONiC daemons follow their CONFIG_DB
 * settings this way (swss-common's SubscriberStateTable; LOGGER|name for log
 * levels). It is a read of the Redis sink rather than a daemon's own code
 * because every daemon that embeds the library needs the same thing, and the
 * sink already has what it takes: the database configuration, AUTH, the epoll
 * fd the caller polls, reconnection with backoff, and pipelined reads.
 *
 * The sink subscribes to the key's keyspace channel
 * (<tt>__keyspace\@ID__:TABLE\<sep\>key</tt>) on a connection of its own to the instance
 * holding the database (a subscribed connection can carry nothing else),
 * behind the same fd. Each time the subscription is made (at first, and again
 * after every reconnection, since changes made meanwhile went unseen) and each
 * time a notification arrives, the sink reads the whole hash (HGETALL, on its
 * usual connection) and calls the watch's function with what it found.
 * Notifications that arrive while a reading is in flight are folded into one
 * more reading after it, so a burst of changes costs at most two readings and
 * never holds the caller's loop. The last call always reflects a reading made
 * after the last notification.
 *
 * The server must send keyspace events for hashes (notify-keyspace-events
 * with K and h or A, as SONiC's redis.conf sets "AKE"); the sink asks with
 * CONFIG GET, says what it found in psync_redis_watch_update::keyspace_events,
 * and never changes the setting.
 * @{
 */

/** One reading of a watched key; borrowed for the duration of the call. */
struct psync_redis_watch_update {
	size_t sz;          /**< sizeof(struct psync_redis_watch_update) as the library knows it */
	int status;         /**< 0, or the -errno of the failed reading (fields are then empty) */
	int exists;         /**< 1 when the hash exists (has at least one field) */
	const struct psync_field *fields; /**< the hash, in HGETALL's order */
	size_t n_fields;    /**< entries of fields */
	int resubscribed;   /**< 1: the first reading since the subscription was (re)made */
	/** 1: the server sends keyspace events; -1: it does not, so no change will
	 * be seen until the next resubscription; 0: unknown (CONFIG refused) */
	int keyspace_events;
};

/** Called with each reading of a watched key, from psync_sink_dispatch() or
 * psync_sink_wait(); userdata is the one given to psync_redis_sink_watch(). */
typedef void (*psync_redis_watch_fn)(const struct psync_redis_watch_update *update,
				     void *userdata);

/**
 * Watches TABLE<sep>key of database db for the life of the sink (there is no
 * unwatch: the watch is freed with the sink). fn is called from a later
 * dispatch, never from this call. Strings are copied. Does not block; the
 * subscriber connection is opened by the following dispatches. Not
 * thread-safe: call it from the thread that dispatches the sink.
 *
 * @param sink a Redis sink (psync_redis_sink_new())
 * @param db a database name, e.g. "CONFIG_DB"
 * @param table the table, e.g. "LOGGER"
 * @param key the key within the table, e.g. "portsyncd"
 * @param fn called with every reading
 * @param userdata passed to fn
 * @retval 0 watching
 * @retval -EINVAL a NULL argument, or sink is not a Redis sink
 * @retval -ENOENT db is not in the sink's database configuration
 * @retval -ENOMEM out of memory
 */
PSYNC_API int psync_redis_sink_watch(struct psync_sink *sink, const char *db, const char *table,
				     const char *key, psync_redis_watch_fn fn, void *userdata);

/** @} */

PSYNC_END_DECLS

#endif
