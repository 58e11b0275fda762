/* SPDX-License-Identifier: Apache-2.0 */
/* portsyncd as operators run it: options, configuration files, start-up
 * failures, and SIGTERM. The binary comes from $PORTSYNCD. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers/netns.h"
#include "helpers/redis_server.h"

struct outcome {
	int status;       /* exit status, or 128 + signal */
	char err[4096];   /* standard error */
	char out[4096];   /* standard output */
};

static void read_all(int fd, char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;

	while (used + 1 < len && (n = read(fd, buf + used, len - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
}

static pid_t spawn(char *const argv[], int *out_fd, int *err_fd)
{
	int out[2], err[2];
	pid_t pid;

	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(err), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(getenv("PORTSYNCD"), argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	*out_fd = out[0];
	*err_fd = err[0];
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs portsyncd with these arguments (NULL-terminated) to its end. */
static struct outcome run(const char *arg, ...)
{
	static struct outcome o;
	char *argv[16] = { "portsyncd" };
	int argc = 1, out, err;
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	for (const char *a = arg; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	memset(&o, 0, sizeof(o));
	pid = spawn(argv, &out, &err);
	read_all(out, o.out, sizeof(o.out));
	read_all(err, o.err, sizeof(o.err));
	close(out);
	close(err);
	o.status = wait_status(pid);
	return o;
}

static char *temp_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/portsyncd-cli-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

TestSuite(cli, .timeout = 60);

Test(cli, version_exits_zero)
{
	struct outcome o = run("--version", NULL);

	cr_assert_eq(o.status, 0);
	cr_assert_not_null(strstr(o.out, "portsyncd (libportsync) "));
}

Test(cli, help_prints_usage_and_exits_one_like_sonic)
{
	struct outcome o = run("-h", NULL);

	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.out, "Usage: portsyncd"));
}

Test(cli, unknown_option_and_stray_argument)
{
	struct outcome o = run("--frobnicate", NULL);

	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, "unknown option '--frobnicate'"), "%s", o.err);
	o = run("extra", NULL);
	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, "unexpected argument 'extra'"));
	o = run("--log-level", "loud", NULL);
	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, "unknown log level 'loud'"));
	o = run("--config", NULL);
	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, "needs a value"));
}

Test(cli, missing_and_broken_db_config)
{
	struct outcome o = run("--db-config", "/nonexistent/database_config.json", NULL);
	char *path;

	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, "/nonexistent/database_config.json"), "%s", o.err);
	path = temp_file("{\"INSTANCES\": {\"redis\": ");
	o = run("--db-config", path, NULL);
	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, path), "names the file: %s", o.err);
	unlink(path);
}

Test(cli, redis_down_at_start)
{
	struct outcome o = run("--redis", "unix:/nonexistent/redis.sock", "--log-stderr", NULL);

	cr_assert_eq(o.status, 1);
	const char *first = strstr(o.err, "cannot reach Redis");
	cr_assert_not_null(first, "%s", o.err);
	cr_assert_null(strstr(first + 1, "cannot reach Redis"), "one message, not a cascade: %s", o.err);
}

Test(cli, config_file_errors_name_file_and_line)
{
	char *path = temp_file("[netlink]\nreceive_buffer = 8M\n\n[pipeline]\nretry_min_msec = 5\n");
	struct outcome o = run("--config", path, NULL);
	char want[128];

	cr_assert_eq(o.status, 1);
	snprintf(want, sizeof(want), "%s:5: unknown key 'retry_min_msec' in section [pipeline]", path);
	cr_assert_not_null(strstr(o.err, want), "%s", o.err);
	unlink(path);
	path = temp_file("[redis]\nmax_in_flight = lots\n");
	o = run("--config", path, NULL);
	cr_assert_not_null(strstr(o.err, ":2: bad value 'lots' for 'max_in_flight'"), "%s", o.err);
	unlink(path);
	path = temp_file("[netlink]\nthis line is wrong\n");
	o = run("--config", path, NULL);
	cr_assert_not_null(strstr(o.err, ":2: not a [section]"), "%s", o.err);
	unlink(path);
	o = run("--config", "/nonexistent/portsyncd.conf", NULL);
	cr_assert_not_null(strstr(o.err, "/nonexistent/portsyncd.conf: No such file"), "%s", o.err);
}

Test(cli, sigterm_flushes_and_exits_zero)
{
	struct redis_server srv;
	redisContext *c;
	redisReply *r;
	char *argv[] = { "portsyncd", "--redis", NULL, "--log-stderr", NULL };
	int out, err, status;
	pid_t pid;

	netns_enter();
	cr_assert_eq(redis_server_start(&srv, NULL), 0);
	c = redis_server_client(&srv, 0, NULL);
	freeReplyObject(redisCommand(c, "HSET PORT_TABLE:Ethernet0 lanes 0"));
	argv[2] = srv.address;
	pid = spawn(argv, &out, &err);
	usleep(300000);
	int idx = netns_link_add("Ethernet0", "ifb");
	for (int i = 0; i < 200; i++)
		netns_link_set_mtu_nowait(idx, 1000 + (unsigned)i);
	kill(pid, SIGTERM); /* right after the burst: pending writes must still land */
	static char log[8192];
	read_all(err, log, sizeof(log));
	status = wait_status(pid);
	close(out);
	close(err);
	cr_assert_eq(status, 0, "%s", log);
	freeReplyObject(redisCommand(c, "SELECT 6"));
	r = redisCommand(c, "HGET PORT_TABLE|Ethernet0 mtu");
	cr_assert_eq(r->type, REDIS_REPLY_STRING, "the state was flushed before exit");
	cr_assert_str_eq(r->str, "1199", "events queued before SIGTERM are handled too");
	freeReplyObject(r);
	redisFree(c);
	redis_server_stop(&srv);
}
