/* SPDX-License-Identifier: Apache-2.0 */
/* What the Redis sink's files share; nothing here is part of the API. */
#ifndef PSYNC_REDIS_INTERNAL_H
#define PSYNC_REDIS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include <portsync/redis.h>

#include "internal.h"

/* ---- configuration (redis_config.c) ---- */

struct psync__redis_instance {
	char *name;
	char *unix_socket; /* NULL: TCP */
	char *hostname;
	int port;
};

struct psync__redis_db {
	char *name;
	char *separator;
	int id;
	size_t instance; /* index into the configuration's instances */
};

struct psync_redis_db_config {
	struct psync__redis_instance *instances;
	size_t n_instances;
	struct psync__redis_db *dbs;
	size_t n_dbs;
};

const struct psync__redis_db *psync__redis_db_config_find(const struct psync_redis_db_config *cfg,
							  const char *name);
/* "unix:/path", "host:port", ... as one instance; for messages too. */
const char *psync__redis_instance_address(const struct psync__redis_instance *inst, char *buf,
					  size_t len);

/* ---- building commands (redis_command.c, redis_producer.c) ---- */

/*
 * Arguments of one command for redisAppendCommandArgv. Arguments are borrowed
 * strings or text joined into the builder's own room, which is sized once by
 * psync__redis_argv_begin so that earlier arguments stay where they are.
 */
struct psync__redis_argv {
	const char **argv;
	size_t *len;
	size_t n, cap;
	char *text;
	size_t text_used, text_cap;
};

int psync__redis_argv_begin(struct psync__redis_argv *a, size_t n_args, size_t text);
void psync__redis_argv_add(struct psync__redis_argv *a, const char *s, size_t len);
void psync__redis_argv_add_str(struct psync__redis_argv *a, const char *s);
/* Adds the concatenation of the n strings in parts; returns it for re-adding. */
const char *psync__redis_argv_add_join(struct psync__redis_argv *a, const char *const *parts,
				       size_t n);
void psync__redis_argv_add_uint(struct psync__redis_argv *a, unsigned long long v);
void psync__redis_argv_release(struct psync__redis_argv *a);
/* Room add_uint needs for one number. */
#define PSYNC__REDIS_UINT_TEXT 24

/*
 * A command in Redis's wire format (RESP), encoded into a buffer reused from
 * command to command. hiredis' own encoder (redisAppendCommandArgv) allocates a
 * string per command and formats each length through a printf-like routine;
 * this one writes straight into memory it keeps, which is a tenth of the cost.
 */
struct psync__redis_resp {
	char *buf;
	size_t len, cap;
};

/* Encodes argv into r (replacing what it held). -ENOMEM. */
int psync__redis_resp_encode(struct psync__redis_resp *r, int argc, const char **argv,
			     const size_t *len);
void psync__redis_resp_release(struct psync__redis_resp *r);

/* The argv of a write; sha_* are the loaded producer scripts. -EINVAL, -ENOMEM. */
int psync__redis_write_argv(struct psync__redis_argv *a, const struct psync__redis_db *db,
			    const struct psync_write *w, const char *sha_set, const char *sha_del);
int psync__redis_producer_argv(struct psync__redis_argv *a, const struct psync__redis_db *db,
			       const struct psync_write *w, const char *sha_set,
			       const char *sha_del);
extern const char psync__redis_script_set[];
extern const char psync__redis_script_del[];

/* A server error reply as -errno (see redis.h). */
int psync__redis_error_to_errno(const char *text);
/* Does the error reply start with this code ("NOSCRIPT", ...)? */
int psync__redis_error_is(const char *text, const char *code);

/* ---- reads (redis_read.c) ---- */

struct psync__redis_read {
	const struct psync_read *read;
	const struct psync__redis_db *db;
	struct psync__list link; /* in a connection's held reads */
	char *prefix;            /* "TABLE<sep>" */
	char *pattern;           /* SCAN: the prefix as a glob, then '*' */
	char cursor[24];         /* SCAN position */
	char **keys;             /* SCAN: found so far, prefix cut */
	size_t n_keys, cap_keys;
};

struct psync__redis_read *psync__redis_read_new(const struct psync_read *r,
						const struct psync__redis_db *db);
void psync__redis_read_free(struct psync__redis_read *rd);
/* Forgets a SCAN's progress: the connection it ran on was lost. */
void psync__redis_read_restart(struct psync__redis_read *rd);
int psync__redis_read_argv(struct psync__redis_argv *a, struct psync__redis_read *rd,
			   unsigned scan_count);
/* Handles one reply: 1 when the read completed, 0 when it needs another step. */
int psync__redis_read_on_reply(struct psync__redis_read *rd, const redisReply *reply,
			       struct psync_sink *sink);
void psync__redis_read_fail(struct psync__redis_read *rd, int status, struct psync_sink *sink);

/* ---- what a connection expects back, in order (redis_expect.c) ---- */

enum psync__redis_expect_kind {
	PSYNC__EXPECT_AUTH = 1,
	PSYNC__EXPECT_SCRIPT_SET,
	PSYNC__EXPECT_SCRIPT_DEL,
	PSYNC__EXPECT_SELECT,
	PSYNC__EXPECT_WRITE,
	PSYNC__EXPECT_READ,
	PSYNC__EXPECT_CONFIG,    /* subscriber: CONFIG GET notify-keyspace-events */
	PSYNC__EXPECT_SUBSCRIBE, /* subscriber: item is the watch */
	PSYNC__EXPECT_INFO,      /* INFO server: which server this is (run_id) */
};

struct psync__redis_expect {
	uint8_t kind;
	uint8_t ghost; /* sent again later: this reply only tells what happened before */
	const struct psync__redis_db *db;
	void *item;    /* const struct psync_write * or struct psync__redis_read * */
};

struct psync__redis_fifo {
	struct psync__redis_expect *buf;
	size_t head, count, cap; /* cap is 0 or a power of two */
};

int psync__redis_fifo_reserve(struct psync__redis_fifo *f, size_t more);
/* Only after a reserve that made room. */
void psync__redis_fifo_push(struct psync__redis_fifo *f, const struct psync__redis_expect *e);
struct psync__redis_expect *psync__redis_fifo_at(struct psync__redis_fifo *f, size_t i);
int psync__redis_fifo_pop(struct psync__redis_fifo *f, struct psync__redis_expect *ret);
void psync__redis_fifo_release(struct psync__redis_fifo *f);

/* ---- bounded replies (redis_bound.c) ---- */

/* hiredis allocates an array's element pointers when it reads the header,
 * before any element arrives: "*300000000\r\n" alone would cost 2.4 GB. No
 * reply the sink asks for comes near this many elements. */
#define PSYNC__REDIS_MAX_ELEMENTS (1 << 20)

struct psync__redis_bound {
	redisReplyObjectFunctions fn; /* the reader's own, with createArray bounded */
	void *(*create_array)(const redisReadTask *task, int elements);
	long long refused;            /* elements of the array refused; 0: none */
};

/* Makes c's reader refuse arrays of more than PSYNC__REDIS_MAX_ELEMENTS; b
 * must outlive c. */
void psync__redis_bound_replies(struct psync__redis_bound *b, redisContext *c);

/* ---- connections (redis_conn.c, redis_reply.c) ---- */

enum psync__redis_conn_state {
	PSYNC__CONN_IDLE = 0,  /* not used yet */
	PSYNC__CONN_WAITING,   /* until timer_ns: backoff, or a first attempt due now */
	PSYNC__CONN_CONNECTING,
	PSYNC__CONN_HANDSHAKE, /* AUTH, SCRIPT LOAD, SELECT checks sent */
	PSYNC__CONN_READY,
};

struct psync__redis;

struct psync__redis_conn {
	struct psync__redis *owner;
	const struct psync__redis_instance *instance;
	redisContext *ctx;
	enum psync__redis_conn_state state;
	int tail_db;          /* database selected once all appended commands ran */
	int want_output;      /* EPOLLOUT registered */
	int ever_ready;
	int subscriber;       /* carries the watches' subscriptions, never a write */
	int keyspace_events;  /* subscriber: 1 on, -1 off, 0 unknown */
	unsigned handshake_left;
	unsigned failures;    /* in a row, for the backoff */
	unsigned in_flight;   /* writes */
	uint64_t attempts;
	uint64_t timer_ns;    /* WAITING: next attempt; CONNECTING, HANDSHAKE: deadline */
	uint64_t last_progress_ns; /* last reply, or the command sent with none outstanding */
	uint64_t down_since_ns;    /* in use and not ready since; 0 when ready */
	int last_error;
	int write_ahead_errno; /* a failed early write, for the flush to report */
	struct psync__redis_fifo expects;
	struct psync__list held_reads; /* waiting for the connection to be ready */
	char run_id[48];      /* of the server last connected to; "" when unknown */
	struct psync__redis_bound bound; /* the reader's limits */
	char sha_set[48];
	char sha_del[48];
	char reason[256];
};

/* A watched key (redis_watch.c). */
struct psync__redis_watch {
	struct psync__list link; /* in the sink's watches */
	struct psync__redis *owner;
	const struct psync__redis_db *db;
	char *table, *key;
	char *channel;           /* __keyspace@ID__:TABLE<sep>key */
	psync_redis_watch_fn fn;
	void *userdata;
	uint8_t reading;         /* an HGETALL is in flight */
	uint8_t again;           /* and the key changed since it left */
	uint8_t fresh;           /* the next reading follows a (re)subscription */
};

struct psync__redis {
	struct psync_sink *sink;
	struct psync_redis_db_config *cfg;
	struct psync__redis_conn *conns; /* one per instance */
	struct psync__redis_conn *subs;  /* one per instance, for watches; NULL until one */
	struct psync__list watches;
	uint64_t store_generation; /* servers that came back as another (a new run_id) */
	int epfd;
	char *password;
	unsigned max_in_flight;
	unsigned scan_count;
	uint64_t connect_timeout_ns;
	uint64_t reply_timeout_ns;
	uint64_t backoff_min_ns;
	uint64_t backoff_max_ns;
	uint64_t rng;
	struct psync__redis_argv argv;
	struct psync__redis_resp resp;
	struct psync_redis_stats stats;
};

void psync__redis_conn_init(struct psync__redis_conn *conn, struct psync__redis *owner,
			    const struct psync__redis_instance *instance);
/* Frees everything; writes and reads in hand are not completed. */
void psync__redis_conn_release(struct psync__redis_conn *conn);
/* Something needs this connection: open it if it never was. */
void psync__redis_conn_use(struct psync__redis_conn *conn);
/* Try now rather than at the end of the backoff. */
void psync__redis_conn_hurry(struct psync__redis_conn *conn);
/* Appends the command in a, preceded by a SELECT when db differs, and expects its reply. */
int psync__redis_conn_send(struct psync__redis_conn *conn, const struct psync__redis_db *db,
			   enum psync__redis_expect_kind kind, void *item,
			   const struct psync__redis_argv *a);
int psync__redis_conn_send_read(struct psync__redis_conn *conn, struct psync__redis_read *rd);
void psync__redis_conn_flush(struct psync__redis_conn *conn);
void psync__redis_conn_on_events(struct psync__redis_conn *conn, uint32_t events);
void psync__redis_conn_run_timer(struct psync__redis_conn *conn, uint64_t now);
/* The connection's next deadline, 0 when none: its timer, or a stall to drop. */
uint64_t psync__redis_conn_next_timer_ns(const struct psync__redis_conn *conn);
/* How long its commands have gone unanswered past the reply deadline; 0: not. */
uint64_t psync__redis_conn_stalled_ns(const struct psync__redis_conn *conn, uint64_t now);
/* Drops the connection: completes its writes with -ECONNRESET (lead first, a
 * write whose reply was already taken), keeps its reads, schedules the next
 * attempt. */
void psync__redis_conn_fail(struct psync__redis_conn *conn, const struct psync__redis_expect *lead,
			    int err, const char *what, const char *detail);
/* Appends SCRIPT LOAD of both producer scripts. */
int psync__redis_conn_send_scripts(struct psync__redis_conn *conn);
/* One handshake reply was fine. */
void psync__redis_conn_handshake_step(struct psync__redis_conn *conn);
size_t psync__redis_conn_pending_output(const struct psync__redis_conn *conn);

/* INFO server's answer: a run_id other than the last one is another server,
 * which knows nothing of what the last one acknowledged (redis_reply.c). */
void psync__redis_conn_on_info(struct psync__redis_conn *conn, const redisReply *reply);
/* After conn's reader failed: when it refused a reply as too large, fails
 * conn saying so and returns 1; else 0 (redis_bound.c). */
int psync__redis_bound_fail(struct psync__redis_conn *conn);

/* Handles one reply of conn (redis_reply.c). */
void psync__redis_conn_on_reply(struct psync__redis_conn *conn, const redisReply *reply);

/* ---- watches (redis_watch.c) ---- */

/* The subscriber handshake after AUTH: asks how keyspace events are set. */
int psync__redis_watch_send_config(struct psync__redis_conn *conn);
/* The subscriber connection became ready: subscribe every watch it carries. */
void psync__redis_watch_on_ready(struct psync__redis_conn *conn);
/* A published message; 1 when reply was one (it has no command to answer). */
int psync__redis_watch_on_push(struct psync__redis_conn *conn, const redisReply *reply);
void psync__redis_watch_on_config(struct psync__redis_conn *conn, const redisReply *reply);
void psync__redis_watch_on_subscribed(struct psync__redis_conn *conn,
				      struct psync__redis_watch *w, const redisReply *reply);
void psync__redis_watch_free_all(struct psync__redis *r);
int psync__redis_watch_add(struct psync__redis *r, const struct psync__redis_db *db,
			   const char *table, const char *key, psync_redis_watch_fn fn,
			   void *userdata);

#endif
