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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
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
		if (getenv("PSYNC_TEST_SET_WATCHDOG_PID")) {
			char self[16];

			snprintf(self, sizeof(self), "%d", getpid());
			setenv("WATCHDOG_PID", self, 1);
		}
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

/* ---- observability: /metrics, /health, systemd notifications ---- */

struct daemon_run {
	struct redis_server srv;
	pid_t pid;
	int out, err;
	int port;
	char conf[64];
};

/* portsyncd in this test's namespace, with a metrics endpoint on loopback.
 * notify: the NOTIFY_SOCKET path to pass, or NULL. */
static void daemon_start_with(struct daemon_run *d, const char *notify, const char *more_config)
{
	char text[512];
	char *argv[] = { "portsyncd", "--redis", NULL, "--log-stderr", "--config", NULL, NULL };

	netns_enter();
	netns_link_set_up(netns_ifindex("lo"), true);
	cr_assert_eq(redis_server_start(&d->srv, NULL), 0);
	d->port = 20000 + getpid() % 20000;
	snprintf(text, sizeof(text), "[metrics]\nlisten = 127.0.0.1:%d\n%s[redis]\nbackoff_max_ms = 200\n",
		 d->port, more_config);
	snprintf(d->conf, sizeof(d->conf), "%s", temp_file(text));
	argv[2] = d->srv.address;
	argv[5] = d->conf;
	if (notify) {
		setenv("NOTIFY_SOCKET", notify, 1);
		setenv("WATCHDOG_USEC", "400000", 1);
		setenv("PSYNC_TEST_SET_WATCHDOG_PID", "1", 1);
	}
	d->pid = spawn(argv, &d->out, &d->err);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("PSYNC_TEST_SET_WATCHDOG_PID");
	usleep(400000);
}

static char daemon_log[65536];

static void daemon_start(struct daemon_run *d, const char *notify)
{
	daemon_start_with(d, notify, "");
}

static int daemon_stop(struct daemon_run *d)
{
	int status;

	kill(d->pid, SIGTERM);
	close(d->out); /* nobody reads: the daemon must not block on a full pipe */
	read_all(d->err, daemon_log, sizeof(daemon_log));
	close(d->err);
	status = wait_status(d->pid);
	unlink(d->conf);
	redis_server_stop(&d->srv);
	return status;
}

static int connect_loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* The server may close on us mid-way (oversized, garbage): that is fine. */
static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* GET path over loopback: fills body, returns the HTTP status (-1: no answer). */
static int http_get(int port, const char *path, char *body, size_t len)
{
	char cmd[256];
	FILE *f;
	int status = -1;

	snprintf(cmd, sizeof(cmd), "curl -s -m 3 -o /dev/stdout -w '\\n%%{http_code}' http://127.0.0.1:%d%s", port, path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t n = fread(body, 1, len - 1, f);
	body[n] = '\0';
	pclose(f);
	char *last = strrchr(body, '\n');
	if (last) {
		status = atoi(last + 1);
		*last = '\0';
	}
	return status ? status : -1;
}

/* The value of one sample line "name value" (no labels), -1 when absent. */
static double sample(const char *page, const char *name)
{
	char pattern[128];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\n%s ", name);
	at = strstr(page, pattern);
	return at ? atof(at + strlen(pattern)) : -1;
}

static int valid_exposition(const char *page)
{
	const char *line = page;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char buf[512];

		snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
		if (buf[0] && buf[0] != '#') {
			char name[256];
			double v;

			if (sscanf(buf, "%255[a-zA-Z0-9_:{}=\".,+ -] %lf", name, &v) < 1 ||
			    !strchr(buf, ' ') || strncmp(buf, "portsyncd_", 10) != 0)
				return 0;
		}
		if (!end)
			break;
		line = end + 1;
	}
	return 1;
}

Test(cli, metrics_scraped_during_flaps_agree_with_what_happened)
{
	struct daemon_run d;
	static char page[65536];
	redisContext *c;

	daemon_start(&d, NULL);
	c = redis_server_client(&d.srv, 0, NULL);
	freeReplyObject(redisCommand(c, "HSET PORT_TABLE:Ethernet0 lanes 0"));
	int idx = netns_link_add("Ethernet0", "ifb");
	for (int i = 0; i < 20; i++)
		netns_link_set_up(idx, i % 2 == 0);
	usleep(300000);
	cr_assert_eq(http_get(d.port, "/metrics", page, sizeof(page)), 200);
	cr_assert(valid_exposition(page), "not the Prometheus text format:\n%s", page);
	cr_assert_geq(sample(page, "portsyncd_events_received_total"), 21, "%s", page);
	cr_assert_geq(sample(page, "portsyncd_writes_acked_total"), 20);
	cr_assert_eq(sample(page, "portsyncd_writes_failed_total"), 0);
	cr_assert_eq(sample(page, "portsyncd_health_status"), 1);
	cr_assert_gt(sample(page, "portsyncd_memory_bytes"), 100000);
	cr_assert_geq(sample(page, "portsyncd_event_latency_seconds_count"), 20,
		      "every STATE_DB write was timed");
	cr_assert_not_null(strstr(page, "portsyncd_event_latency_seconds_bucket{le=\"+Inf\"}"));
	cr_assert_not_null(strstr(page, "# TYPE portsyncd_event_latency_seconds histogram"));
	cr_assert_not_null(strstr(page, "portsyncd_events_per_second"));
	redisFree(c);
	cr_assert_eq(daemon_stop(&d), 0);
}

/* Prometheus' own linter on a page: its exit status, and what it said into out. */
static int promtool_check(const char *page, char *out, size_t len)
{
	const char *promtool = getenv("PROMTOOL") ? getenv("PROMTOOL") : "promtool";
	char *file = temp_file(page), cmd[512];
	FILE *f;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' check metrics < %s 2>&1", promtool, file);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	st = pclose(f);
	unlink(file);
	cr_assert_neq(WEXITSTATUS(st), 127, "promtool not found (Debian: prometheus): %s", out);
	return WEXITSTATUS(st);
}

/* A live scrape, healthy and with Redis gone, passes `promtool check metrics`. */
Test(cli, live_metrics_pass_promtool_check_metrics)
{
	struct daemon_run d;
	static char page[65536];
	char said[4096];
	redisContext *c;

	daemon_start(&d, NULL);
	c = redis_server_client(&d.srv, 0, NULL);
	freeReplyObject(redisCommand(c, "HSET PORT_TABLE:Ethernet0 lanes 0"));
	redisFree(c);
	int idx = netns_link_add("Ethernet0", "ifb");
	for (int i = 0; i < 10; i++)
		netns_link_set_up(idx, i % 2 == 0);
	usleep(300000);
	cr_assert_eq(http_get(d.port, "/metrics", page, sizeof(page)), 200);
	cr_assert_gt(sample(page, "portsyncd_event_latency_seconds_count"), 0, "%s", page);
	cr_assert_eq(promtool_check(page, said, sizeof(said)), 0, "promtool: %s\n%s", said, page);
	cr_assert_str_eq(said, "", "promtool reports nothing");

	redis_server_kill(&d.srv);
	netns_link_set_mtu(idx, 2000); /* something to write while Redis is gone */
	for (int i = 0; i < 30 && sample(page, "portsyncd_sink_connected") != 0; i++) {
		usleep(100000);
		cr_assert_eq(http_get(d.port, "/metrics", page, sizeof(page)), 200);
	}
	cr_assert_eq(sample(page, "portsyncd_health_status"), 3, "%s", page);
	cr_assert_eq(promtool_check(page, said, sizeof(said)), 0, "promtool: %s\n%s", said, page);
	cr_assert_str_eq(said, "");
	cr_assert_eq(daemon_stop(&d), 0);
}

/* legacy_names = 1 adds the earlier names; the lint names exactly the two in
 * microseconds, which is why they are not on the default page. */
Test(cli, legacy_names_are_the_only_lint_findings)
{
	struct daemon_run d;
	static char page[65536];
	char said[4096];

	daemon_start_with(&d, NULL, "legacy_names = 1\n");
	cr_assert_eq(http_get(d.port, "/metrics", page, sizeof(page)), 200);
	cr_assert_geq(sample(page, "portsyncd_event_latency_us_count"), 0, "%s", page);
	cr_assert_geq(sample(page, "portsyncd_throughput_eps"), 0, "%s", page);
	cr_assert_geq(sample(page, "portsyncd_event_latency_quantiles_seconds_count"), 0);
	cr_assert_neq(promtool_check(page, said, sizeof(said)), 0);
	cr_assert_str_eq(said, "portsyncd_event_latency_max_us metric names should not contain "
			 "abbreviated units\nportsyncd_event_latency_us metric names should not "
			 "contain abbreviated units\n", "%s", said);
	cr_assert_eq(daemon_stop(&d), 0);
}

Test(cli, health_follows_redis_going_and_coming_back)
{
	struct daemon_run d;
	char page[4096];

	daemon_start(&d, NULL);
	cr_assert_eq(http_get(d.port, "/health", page, sizeof(page)), 200);
	cr_assert_not_null(strstr(page, "healthy"), "%s", page);
	redis_server_kill(&d.srv);
	netns_link_add("Ethernet0", "ifb"); /* something to write */
	int status = -1;
	for (int i = 0; i < 30 && status != 503; i++) {
		usleep(100000);
		status = http_get(d.port, "/health", page, sizeof(page));
	}
	cr_assert_eq(status, 503, "unhealthy while Redis is gone");
	cr_assert_not_null(strstr(page, "disconnected"), "says why: %s", page);
	cr_assert_eq(redis_server_restart(&d.srv), 0);
	for (int i = 0; i < 50 && status != 200; i++) {
		usleep(100000);
		status = http_get(d.port, "/health", page, sizeof(page));
	}
	cr_assert_eq(status, 200, "healthy again once Redis is back");
	cr_assert_eq(daemon_stop(&d), 0);
}

Test(cli, bad_and_slow_http_clients_do_not_stall_the_sync_loop)
{
	struct daemon_run d;
	char page[4096];
	redisContext *c;

	daemon_start(&d, NULL);
	c = redis_server_client(&d.srv, 0, NULL);
	freeReplyObject(redisCommand(c, "HSET PORT_TABLE:Ethernet0 lanes 0"));
	/* Slow clients that never finish, garbage and an oversized head. */
	int clients[8];
	static char junk[20000];
	for (int i = 0; i < 8; i++)
		clients[i] = connect_loopback(d.port);
	for (int i = 0; i < 6; i++)
		send_all(clients[i], "GET /met", 8);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 + 13);
	send_all(clients[6], junk, sizeof(junk));
	send_all(clients[7], "GET /metrics HTTP/1.0\r\nX: ", 26);
	memset(junk, 'a', sizeof(junk));
	send_all(clients[7], junk, 9000);
	usleep(200000);
	freeReplyObject(redisCommand(c, "SELECT 6"));
	int idx = netns_link_add("Ethernet0", "ifb");
	netns_link_set_mtu(idx, 4321);
	int seen = 0;
	for (int i = 0; i < 20 && !seen; i++) {
		usleep(20000);
		redisReply *r = redisCommand(c, "HGET PORT_TABLE|Ethernet0 mtu");
		seen = r->type == REDIS_REPLY_STRING && strcmp(r->str, "4321") == 0;
		freeReplyObject(r);
	}
	cr_assert(seen, "the sync loop kept going while clients dawdled");
	for (int i = 0; i < 8; i++)
		close(clients[i]);
	cr_assert_eq(http_get(d.port, "/metrics", (char[65536]){ 0 }, 65536), 200, "and others are served");
	cr_assert_eq(http_get(d.port, "/nope", page, sizeof(page)), 404);
	redisFree(c);
	cr_assert_eq(daemon_stop(&d), 0);
}

Test(cli, systemd_ready_status_and_watchdog)
{
	struct daemon_run d;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char path[64], msg[1024];
	int s, ready = 0, status = 0, watchdog = 0, stopping = 0;

	snprintf(path, sizeof(path), "/tmp/psync-notify-%d", getpid());
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unlink(path);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	daemon_start(&d, path);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 15; i++) {
		ssize_t n = recv(s, msg, sizeof(msg) - 1, 0);

		if (n <= 0)
			continue;
		msg[n] = '\0';
		ready |= strstr(msg, "READY=1") != NULL;
		status |= strstr(msg, "STATUS=") != NULL && strstr(msg, "events") != NULL;
		watchdog += strstr(msg, "WATCHDOG=1") != NULL;
	}
	cr_assert(ready, "READY=1 once the first dump is applied");
	cr_assert(status, "STATUS= with a summary");
	cr_assert_geq(watchdog, 2, "WATCHDOG=1 at half the interval while healthy");
	kill(d.pid, SIGTERM);
	for (int i = 0; i < 10 && !stopping; i++) {
		ssize_t n = recv(s, msg, sizeof(msg) - 1, 0);

		if (n > 0) {
			msg[n] = '\0';
			stopping = strstr(msg, "STOPPING=1") != NULL;
		}
	}
	cr_assert(stopping);
	cr_assert_eq(daemon_stop(&d), 0);
	close(s);
	unlink(path);
}

Test(cli, summaries_on_a_timer_on_sigusr1_and_into_state_db_and_sighup_reloads)
{
	struct daemon_run d;
	redisContext *c;
	redisReply *r;

	daemon_start_with(&d, NULL, "summary_interval_s = 1\nstate_db_stats = 1\n");
	c = redis_server_client(&d.srv, 6, NULL);
	usleep(2600000); /* the first summary comes one interval after the first tick */
	r = redisCommand(c, "HGET PORTSYNCD_METRICS|portsyncd health");
	cr_assert_eq(r->type, REDIS_REPLY_STRING, "the summary lands in STATE_DB");
	cr_assert_str_eq(r->str, "healthy");
	freeReplyObject(r);
	kill(d.pid, SIGUSR1);
	kill(d.pid, SIGHUP);
	usleep(300000);
	redisFree(c);
	cr_assert_eq(daemon_stop(&d), 0);
	cr_assert_not_null(strstr(daemon_log, " writes acked, "), "a summary line: %s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "SIGHUP: reloaded"), "%s", daemon_log);
}
