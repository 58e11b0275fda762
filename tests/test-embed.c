/* SPDX-License-Identifier: Apache-2.0 */
/* The embedding examples (examples/embed-*.c), run as programs: every event
 * reaches the store, and the pipeline's timer fires inside the host loop.
 * The example comes from $EMBED_EXAMPLE. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef EMBED_LIVE
#include "helpers/netns.h"
#include "helpers/redis_server.h"
#endif

struct figures {
	long events_received, events_expected, writes_acked, writes_retried, writes_failed;
	long timer_firings, backoff_firings;
	char state[16];
};

/* The example's last line: "<name>: key=value ...". */
static struct figures parse_last_line(const char *out)
{
	struct figures f = { .events_expected = -1 };
	const char *line = out, *nl;
	char *copy, *tok, *save;

	while ((nl = strchr(line, '\n')) && nl[1])
		line = nl + 1;
	copy = strdup(line);
	for (tok = strtok_r(copy, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		static const struct {
			const char *key;
			size_t offset;
		} keys[] = {
			{ "events_received=", offsetof(struct figures, events_received) },
			{ "events_expected=", offsetof(struct figures, events_expected) },
			{ "writes_acked=", offsetof(struct figures, writes_acked) },
			{ "writes_retried=", offsetof(struct figures, writes_retried) },
			{ "writes_failed=", offsetof(struct figures, writes_failed) },
			{ "timer_firings=", offsetof(struct figures, timer_firings) },
			{ "backoff_firings=", offsetof(struct figures, backoff_firings) },
		};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(tok, keys[i].key, strlen(keys[i].key)))
				*(long *)((char *)&f + keys[i].offset) =
					strtol(tok + strlen(keys[i].key), NULL, 10);
		if (!strncmp(tok, "state=", 6))
			snprintf(f.state, sizeof(f.state), "%s", tok + 6);
	}
	free(copy);
	return f;
}

/* Starts the example with these arguments; its stdout on *out_fd. */
static pid_t spawn(const char *arg1, const char *arg2, int *out_fd)
{
	const char *exe = getenv("EMBED_EXAMPLE");
	int out[2];
	pid_t pid;

	cr_assert_not_null(exe, "EMBED_EXAMPLE names the example to run");
	cr_assert_eq(pipe(out), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves nothing behind */
		dup2(out[1], 1);
		close(out[0]);
		execl(exe, exe, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	*out_fd = out[0];
	return pid;
}

static int finish(pid_t pid, int fd, char *out, size_t len)
{
	size_t used = 0;
	ssize_t n;
	int st;

	while (used + 1 < len && (n = read(fd, out + used, len - 1 - used)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(fd);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TestSuite(embed, .timeout = 60);

Test(embed, replay_arrives_whole_and_the_backoff_timer_fires_in_the_host_loop)
{
	char out[4096];
	int fd, status;
	pid_t pid = spawn(NULL, NULL, &fd);
	struct figures f;

	status = finish(pid, fd, out, sizeof(out));
	cr_log_info("%s", out);
	cr_assert_eq(status, 0, "exit status %d: %s", status, out);
	f = parse_last_line(out);
	cr_assert_gt(f.events_expected, 0, "%s", out);
	cr_assert_eq(f.events_received, f.events_expected, "every event arrived: %s", out);
	cr_assert_str_eq(f.state, "exact", "the store holds every port's last state: %s", out);
	cr_assert_eq(f.writes_failed, 0, "%s", out);
	cr_assert_gt(f.writes_acked, 0, "%s", out);
	cr_assert_gt(f.writes_retried, 0, "the memory sink's injected failures were retried: %s",
		     out);
	cr_assert_geq(f.timer_firings, 1, "%s", out);
	cr_assert_geq(f.backoff_firings, 1, "a retry waited for the host loop's timer: %s", out);
}

#ifdef EMBED_LIVE
static int state_mtu_is(redisContext *c, const char *mtu)
{
	redisReply *r = redisCommand(c, "HGET PORT_TABLE|Ethernet0 mtu");
	int yes = r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, mtu);

	freeReplyObject(r);
	return yes;
}

static int wait_mtu(struct redis_server *srv, const char *mtu)
{
	int seen = 0;

	for (int i = 0; i < 100 && !seen; i++) {
		redisContext *c = redis_server_client(srv, 6, NULL);

		seen = c && !c->err && state_mtu_is(c, mtu);
		redisFree(c);
		if (!seen)
			usleep(50000);
	}
	return seen;
}

/* --redis: kernel links into STATE_DB, through a Redis restart that only the
 * reconnect timer can get over. */
Test(embed, netlink_into_redis_survives_a_redis_restart)
{
	struct redis_server srv;
	char out[4096];
	int fd, idx, status;
	pid_t pid;
	struct figures f;

	netns_enter();
	cr_assert_eq(redis_server_start(&srv, NULL), 0);
	pid = spawn("--redis", srv.address, &fd);
	usleep(300000);
	idx = netns_link_add("Ethernet0", "ifb");
	cr_assert_eq(netns_link_set_mtu(idx, 1234), 0);
	cr_assert(wait_mtu(&srv, "1234"), "the link reached STATE_DB");
	redis_server_kill(&srv);
	usleep(200000);
	cr_assert_eq(netns_link_set_mtu(idx, 4321), 0); /* while Redis is away */
	usleep(300000);
	cr_assert_eq(redis_server_restart(&srv), 0);
	cr_assert(wait_mtu(&srv, "4321"), "the change made while Redis was away landed");
	kill(pid, SIGINT);
	status = finish(pid, fd, out, sizeof(out));
	redis_server_stop(&srv);
	cr_log_info("%s", out);
	cr_assert_eq(status, 0, "exit status %d: %s", status, out);
	f = parse_last_line(out);
	cr_assert_geq(f.events_received, 2, "%s", out);
	cr_assert_eq(f.writes_failed, 0, "%s", out);
	cr_assert_geq(f.backoff_firings, 1, "reconnecting waited for the host loop's timer: %s",
		      out);
}
#endif
