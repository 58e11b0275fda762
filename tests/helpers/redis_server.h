/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a throwaway redis-server on a unix socket in a temporary
 * directory, without persistence, and a blocking hiredis client to check what
 * landed. Independent of the test framework (benchmarks use it too): calls
 * return 0 or a negative errno. The server dies with the process that started
 * it, even when that process crashes.
 */
#ifndef PSYNC_TEST_REDIS_SERVER_H
#define PSYNC_TEST_REDIS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

struct redis_server {
	pid_t pid;            /* 0 when not running */
	char dir[64];         /* the temporary directory */
	char socket[128];     /* dir/redis.sock */
	char address[136];    /* "unix:" + socket, for psync_redis_options.address */
	const char *const *extra_args; /* more redis-server arguments, NULL-terminated */
};

/* Creates the directory and starts the server; returns once it answers PING.
 * extra_args (may be NULL) is kept for restarts: it must outlive the server. */
int redis_server_start(struct redis_server *srv, const char *const *extra_args);
/* Kills the server and removes its directory. Safe to call twice. */
void redis_server_stop(struct redis_server *srv);
/* SIGKILL, as a crash: the directory and socket path stay. */
void redis_server_kill(struct redis_server *srv);
/* Kills the server if it runs, then starts a fresh one on the same socket. */
int redis_server_restart(struct redis_server *srv);
/* SIGSTOP / SIGCONT: a server that hangs without closing its connections. */
int redis_server_pause(struct redis_server *srv);
int redis_server_resume(struct redis_server *srv);

/* A blocking client on database db (AUTH with password when not NULL), with a
 * 5 s timeout; NULL on failure. Free with redisFree. */
redisContext *redis_server_client(const struct redis_server *srv, int db, const char *password);

/* orchagent's step, as SONIC_SCHEMA describes ConsumerStateTable's pop: moves
 * every APPL_DB PORT_TABLE producer entry into PORT_TABLE:<key>, in rounds of
 * 128, until the key set is empty. c is left on APPL_DB. 0 or -EIO. */
int redis_server_consume_port_table(redisContext *c);

/* Writes dir/database_config.json naming this server as instance "redis" with
 * SONiC's usual databases, and puts its path into path. */
int redis_server_write_db_config(const struct redis_server *srv, char *path, size_t len);

#endif
