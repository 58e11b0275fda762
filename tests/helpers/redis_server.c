/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers/redis_server.h"

#define MAX_ARGS 64
#define START_TIMEOUT_MS 10000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static size_t build_argv(const struct redis_server *srv, const char **argv, char *logfile,
			 size_t logfile_len)
{
	static const char *const fixed[] = { "redis-server", "--port", "0", "--save", "",
					     "--appendonly", "no", "--daemonize", "no",
					     "--unixsocketperm", "700" };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = fixed[i];
	snprintf(logfile, logfile_len, "%s/redis.log", srv->dir);
	argv[n++] = "--unixsocket";
	argv[n++] = srv->socket;
	argv[n++] = "--dir";
	argv[n++] = srv->dir;
	argv[n++] = "--logfile";
	argv[n++] = logfile;
	for (size_t i = 0; srv->extra_args && srv->extra_args[i] && n < MAX_ARGS - 1; i++)
		argv[n++] = srv->extra_args[i];
	argv[n] = NULL;
	return n;
}

/* In the child: die with the parent, keep the test's output clean, exec. */
static void exec_server(const char **argv, pid_t parent)
{
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/* Up once it answers anything: with requirepass, PING gets NOAUTH. */
static int answers(const struct redis_server *srv)
{
	struct timeval tv = { .tv_sec = 1 };
	redisContext *c = redisConnectUnixWithTimeout(srv->socket, tv);
	redisReply *reply = NULL;
	int up = 0;

	if (c && !c->err) {
		reply = redisCommand(c, "PING");
		up = reply != NULL;
	}
	if (reply)
		freeReplyObject(reply);
	redisFree(c);
	return up;
}

static int wait_until_up(struct redis_server *srv)
{
	for (unsigned waited = 0; waited < START_TIMEOUT_MS; waited += 5) {
		int status;

		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = 0;
			return -ECHILD;
		}
		if (answers(srv))
			return 0;
		sleep_ms(5);
	}
	return -ETIMEDOUT;
}

static int spawn(struct redis_server *srv)
{
	const char *argv[MAX_ARGS];
	char logfile[160];
	pid_t parent = getpid(), pid;

	build_argv(srv, argv, logfile, sizeof(logfile));
	unlink(srv->socket);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_server(argv, parent);
	srv->pid = pid;
	return wait_until_up(srv);
}

int redis_server_start(struct redis_server *srv, const char *const *extra_args)
{
	memset(srv, 0, sizeof(*srv));
	strcpy(srv->dir, "/tmp/psync-redis-XXXXXX");
	if (!mkdtemp(srv->dir))
		return -errno;
	snprintf(srv->socket, sizeof(srv->socket), "%s/redis.sock", srv->dir);
	snprintf(srv->address, sizeof(srv->address), "unix:%s", srv->socket);
	srv->extra_args = extra_args;
	return spawn(srv);
}

void redis_server_kill(struct redis_server *srv)
{
	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGKILL);
	while (waitpid(srv->pid, NULL, 0) < 0 && errno == EINTR)
		;
	srv->pid = 0;
}

/* Removes what the server left under dir (rdb, log, appendonlydir/), then dir. */
static void remove_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno == EISDIR)
			remove_tree(dirfd(d), e->d_name);
	}
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

void redis_server_stop(struct redis_server *srv)
{
	redis_server_kill(srv);
	if (srv->dir[0])
		remove_tree(AT_FDCWD, srv->dir);
	srv->dir[0] = '\0';
}

int redis_server_restart(struct redis_server *srv)
{
	redis_server_kill(srv);
	return spawn(srv);
}

int redis_server_pause(struct redis_server *srv)
{
	return srv->pid > 0 && kill(srv->pid, SIGSTOP) == 0 ? 0 : -ESRCH;
}

int redis_server_resume(struct redis_server *srv)
{
	return srv->pid > 0 && kill(srv->pid, SIGCONT) == 0 ? 0 : -ESRCH;
}

static int command_ok(redisReply *reply)
{
	int ok = reply && reply->type != REDIS_REPLY_ERROR;

	if (reply)
		freeReplyObject(reply);
	return ok;
}

redisContext *redis_server_client(const struct redis_server *srv, int db, const char *password)
{
	struct timeval tv = { .tv_sec = 5 };
	redisContext *c = redisConnectUnixWithTimeout(srv->socket, tv);

	if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK)
		goto fail;
	if (password && !command_ok(redisCommand(c, "AUTH %s", password)))
		goto fail;
	if (db && !command_ok(redisCommand(c, "SELECT %d", db)))
		goto fail;
	return c;
fail:
	redisFree(c);
	return NULL;
}

int redis_server_write_db_config(const struct redis_server *srv, char *path, size_t len)
{
	static const char *const dbs[][3] = {
		{ "APPL_DB", "0", ":" },     { "ASIC_DB", "1", ":" },
		{ "COUNTERS_DB", "2", ":" }, { "CONFIG_DB", "4", "|" },
		{ "FLEX_COUNTER_DB", "5", ":" }, { "STATE_DB", "6", "|" },
	};
	size_t n = sizeof(dbs) / sizeof(dbs[0]);
	FILE *f;

	snprintf(path, len, "%s/database_config.json", srv->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\n  \"INSTANCES\": {\n    \"redis\": { \"hostname\": \"127.0.0.1\", "
		   "\"port\": 6379, \"unix_socket_path\": \"%s\" }\n  },\n  \"DATABASES\": {\n",
		srv->socket);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "    \"%s\": { \"id\": %s, \"separator\": \"%s\", "
			   "\"instance\": \"redis\" }%s\n",
			dbs[i][0], dbs[i][1], dbs[i][2], i + 1 < n ? "," : "");
	fprintf(f, "  },\n  \"VERSION\": \"1.0\"\n}\n");
	return fclose(f) == 0 ? 0 : -errno;
}

static const char pop_script[] =
	"local keys = redis.call('SPOP', 'PORT_TABLE_KEY_SET', 128) "
	"for _, k in ipairs(keys) do "
	"  if redis.call('SREM', 'PORT_TABLE_DEL_SET', k) == 1 then redis.call('DEL', 'PORT_TABLE:' .. k) end "
	"  local f = redis.call('HGETALL', '_PORT_TABLE:' .. k) "
	"  if #f > 0 then redis.call('HSET', 'PORT_TABLE:' .. k, unpack(f)) end "
	"  redis.call('DEL', '_PORT_TABLE:' .. k) "
	"end "
	"return #keys";

int redis_server_consume_port_table(redisContext *c)
{
	redisReply *reply = redisCommand(c, "SELECT 0");
	long long popped = reply && reply->type == REDIS_REPLY_STATUS ? 1 : -1;

	freeReplyObject(reply);
	while (popped > 0) {
		reply = redisCommand(c, "EVAL %s 0", pop_script);
		popped = reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
		freeReplyObject(reply);
	}
	return popped < 0 ? -EIO : 0;
}
