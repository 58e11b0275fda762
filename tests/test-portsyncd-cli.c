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
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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

/* The first error is reported, with the line it is about. */
static void assert_config_error(const char *text, const char *want)
{
	char *path = temp_file(text);
	struct outcome o = run("--config", path, NULL);

	cr_assert_eq(o.status, 1, "%s", text);
	cr_assert_not_null(strstr(o.err, want), "want '%s', got: %s", want, o.err);
	unlink(path);
}

Test(cli, config_errors_name_the_line_they_are_about)
{
	assert_config_error("[netlink]\nfoo bar baz\nreceive_buffer = lots\n",
			    ":2: not a [section] or a key = value line");
	assert_config_error("foo bar baz\n[netlink]\nbogus = 1\n",
			    ":1: not a [section] or a key = value line");
	assert_config_error("[netlink]\n=== ???\n", ":2: no key before '='");
	assert_config_error("[netlink]\nreceive_buffer = 8M\n[frobnicate]\n",
			    ":3: unknown section [frobnicate]");
	assert_config_error("[netlink]\n\n[redis]\nmax_in_flight = 1\nbogus = 2\n",
			    ":5: unknown key 'bogus' in section [redis]");
	assert_config_error("[netlink]\nreceive_buffer = 8M\n[netlink\n", ":3: no ']'");
}

/* inih reads a line into 200 bytes and parses the rest as a new line: a long
 * comment would turn its tail into a setting. */
Test(cli, long_lines_are_refused_or_are_only_comments)
{
	char text[1024], want[64];
	struct outcome o;
	char *path;

	snprintf(text, sizeof(text), "[metrics]\n#%0198d listen = 0.0.0.0:9101\n#%0300d\n", 0, 0);
	path = temp_file(text);
	o = run("--config", path, "--redis", "unix:/nonexistent/redis.sock", "--log-stderr", NULL);
	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.err, "cannot reach Redis"), "comments only: %s", o.err);
	cr_assert_null(strstr(o.err, "metrics"), "no listener from a comment: %s", o.err);
	unlink(path);
	/* 198 bytes pass, 199 do not */
	snprintf(text, sizeof(text), "[redis]\npassword_file = /%0181d\nmax_in_flight = %0183d\n", 0, 1);
	snprintf(want, sizeof(want), ":3: line longer than 198 bytes");
	assert_config_error(text, want);
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
	/* Set before starting: */
	const char *logger; /* fields of CONFIG_DB LOGGER|portsyncd to seed, or NULL */
	int log_from_table; /* 1: no --log-stderr, the table says where */
};

/* SONiC's redis.conf sends keyspace events: the LOGGER watch needs them. */
static const char *const keyspace_events[] = { "--notify-keyspace-events", "AKE", NULL };

/* HSET LOGGER|portsyncd with "FIELD VALUE ..." split at spaces. */
static void logger_hset(const struct redis_server *srv, const char *fields)
{
	char buf[256], *save = NULL;
	const char *argv[16] = { "HSET", "LOGGER|portsyncd" };
	int argc = 2;
	redisContext *c = redis_server_client(srv, 4, NULL);

	cr_assert_not_null(c);
	snprintf(buf, sizeof(buf), "%s", fields);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	freeReplyObject(redisCommandArgv(c, argc, argv, NULL));
	redisFree(c);
}

static void daemon_spawn(struct daemon_run *d)
{
	char *argv[] = { "portsyncd", "--redis", d->srv.address, "--config", d->conf,
			 d->log_from_table ? NULL : "--log-stderr", NULL };

	d->pid = spawn(argv, &d->out, &d->err);
}

/* portsyncd in this test's namespace, with a metrics endpoint on loopback.
 * notify: the NOTIFY_SOCKET path to pass, or NULL. */
static void daemon_start_with(struct daemon_run *d, const char *notify, const char *more_config)
{
	char text[512];

	netns_enter();
	netns_link_set_up(netns_ifindex("lo"), true);
	cr_assert_eq(redis_server_start(&d->srv, keyspace_events), 0);
	if (d->logger)
		logger_hset(&d->srv, d->logger);
	d->port = 20000 + getpid() % 20000;
	snprintf(text, sizeof(text), "[metrics]\nlisten = 127.0.0.1:%d\n%s[redis]\nbackoff_max_ms = 200\n",
		 d->port, more_config);
	snprintf(d->conf, sizeof(d->conf), "%s", temp_file(text));
	if (notify) {
		setenv("NOTIFY_SOCKET", notify, 1);
		setenv("WATCHDOG_USEC", "400000", 1);
		setenv("PSYNC_TEST_SET_WATCHDOG_PID", "1", 1);
	}
	daemon_spawn(d);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("PSYNC_TEST_SET_WATCHDOG_PID");
	usleep(400000);
}

static char daemon_log[65536];

static void daemon_start(struct daemon_run *d, const char *notify)
{
	memset(d, 0, sizeof(*d));
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
	struct daemon_run d = { 0 };
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
	struct daemon_run d = { 0 };
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
	struct daemon_run d = { 0 };
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
	struct daemon_run d = { 0 };
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
	struct daemon_run d = { 0 };
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
	struct daemon_run d = { 0 };
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
	/* Redis gone: the loop still runs, so the watchdog is still fed, and
	 * STATUS= tells the outage at once. */
	redis_server_kill(&d.srv);
	watchdog = status = 0;
	for (int i = 0; i < 20; i++) {
		ssize_t n = recv(s, msg, sizeof(msg) - 1, 0);

		if (n <= 0)
			continue;
		msg[n] = '\0';
		status |= strstr(msg, "STATUS=") && strstr(msg, "unhealthy");
		watchdog += strstr(msg, "WATCHDOG=1") != NULL;
	}
	cr_assert_geq(watchdog, 2, "WATCHDOG=1 during the Redis outage");
	cr_assert(status, "STATUS= says unhealthy while Redis is away");
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
	struct daemon_run d = { 0 };
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

/* ---- CONFIG_DB LOGGER|portsyncd: SONiC's run-time log settings ---- */

static char daemon_out[65536];

/* SIGTERM, and both outputs read to their end; Redis keeps running. */
static int daemon_end(struct daemon_run *d)
{
	kill(d->pid, SIGTERM);
	read_all(d->out, daemon_out, sizeof(daemon_out));
	read_all(d->err, daemon_log, sizeof(daemon_log));
	close(d->out);
	close(d->err);
	return wait_status(d->pid);
}

static void daemon_finish(struct daemon_run *d)
{
	unlink(d->conf);
	redis_server_stop(&d->srv);
}

static void logger_start(struct daemon_run *d, const char *seed)
{
	memset(d, 0, sizeof(*d));
	d->logger = seed;
	d->log_from_table = 1;
	daemon_start_with(d, NULL, "");
}

static void logger_set(struct daemon_run *d, const char *fields)
{
	logger_hset(&d->srv, fields);
}

static const char *logger_get(struct daemon_run *d, const char *field)
{
	static char value[2][64];
	static int next;
	redisContext *c = redis_server_client(&d->srv, 4, NULL);
	redisReply *r = redisCommand(c, "HGET LOGGER|portsyncd %s", field);
	char *v = value[next++ % 2];

	snprintf(v, 64, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static unsigned count(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *at = text; (at = strstr(at, needle)); at++)
		n++;
	return n;
}

/* A port with an APPL_DB entry, so that flips make "Publish" lines. */
static int publishing_port(struct daemon_run *d, const char *name)
{
	redisContext *c = redis_server_client(&d->srv, 0, NULL);

	freeReplyObject(redisCommand(c, "HSET PORT_TABLE:%s lanes 0", name));
	redisFree(c);
	return netns_link_add(name, "ifb");
}

static void flip(int idx, int times)
{
	for (int i = 0; i < times; i++)
		netns_link_set_up(idx, i % 2 == 0);
	usleep(200000);
}

Test(cli, logger_defaults_are_written_and_operator_values_kept)
{
	struct daemon_run d = { 0 };

	logger_start(&d, NULL);
	cr_assert_eq(daemon_end(&d), 0, "%s", daemon_log);
	cr_assert_str_eq(logger_get(&d, "LOGLEVEL"), "NOTICE");
	cr_assert_str_eq(logger_get(&d, "LOGOUTPUT"), "SYSLOG");

	redisContext *c = redis_server_client(&d.srv, 4, NULL);
	freeReplyObject(redisCommand(c, "DEL LOGGER|portsyncd"));
	redisFree(c);
	logger_set(&d, "LOGLEVEL DEBUG");
	daemon_spawn(&d);
	usleep(400000);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_str_eq(logger_get(&d, "LOGLEVEL"), "DEBUG", "a present level is kept");
	cr_assert_str_eq(logger_get(&d, "LOGOUTPUT"), "SYSLOG", "the missing output is added");

	/* An operator's values survive a restart of the daemon, and rule it. */
	logger_set(&d, "LOGLEVEL INFO LOGOUTPUT STDERR");
	daemon_spawn(&d);
	usleep(400000);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_str_eq(logger_get(&d, "LOGLEVEL"), "INFO");
	cr_assert_str_eq(logger_get(&d, "LOGOUTPUT"), "STDERR");
	cr_assert_not_null(strstr(daemon_log, "log output SYSLOG -> STDERR"), "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "log level NOTICE -> INFO"), "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "PortInitDone"), "lines on stderr: %s", daemon_log);
	daemon_finish(&d);
}

Test(cli, logger_level_changes_apply_at_run_time)
{
	struct daemon_run d = { 0 };
	const char *debug, *error;

	logger_start(&d, "LOGLEVEL NOTICE LOGOUTPUT STDERR");
	int idx = publishing_port(&d, "Ethernet0");
	flip(idx, 2);
	logger_set(&d, "LOGLEVEL DEBUG");
	usleep(500000); /* within a second */
	flip(idx, 2);
	logger_set(&d, "LOGLEVEL ERROR");
	usleep(500000);
	flip(idx, 4);
	cr_assert_eq(daemon_end(&d), 0);
	debug = strstr(daemon_log, "log level NOTICE -> DEBUG");
	error = strstr(daemon_log, "log level DEBUG -> ERROR");
	cr_assert(debug && error && debug < error, "%s", daemon_log);
	cr_assert_null(strstr(daemon_log, "nlmsg type:") < debug ? strstr(daemon_log, "nlmsg type:") : NULL,
		       "no debug line at NOTICE");
	cr_assert_not_null(strstr(debug, "nlmsg type:16 key:Ethernet0"), "debug lines at DEBUG: %s", daemon_log);
	cr_assert_not_null(strstr(debug, "Publish Ethernet0"));
	cr_assert_lt(strstr(debug, "Publish Ethernet0"), error);
	cr_assert_null(strstr(error, "Publish"), "no NOTICE line at ERROR: %s", error);
	cr_assert_null(strstr(error, "nlmsg"), "no DEBUG line at ERROR");
	daemon_finish(&d);
}

Test(cli, logger_output_moves_to_stderr)
{
	struct daemon_run d = { 0 };

	logger_start(&d, "LOGLEVEL NOTICE LOGOUTPUT STDOUT");
	flip(publishing_port(&d, "Ethernet0"), 1);
	logger_set(&d, "LOGOUTPUT STDERR");
	usleep(500000);
	flip(publishing_port(&d, "Ethernet4"), 1);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_not_null(strstr(daemon_out, "Publish Ethernet0"), "stdout: %s", daemon_out);
	cr_assert_null(strstr(daemon_out, "Publish Ethernet4"), "stdout: %s", daemon_out);
	cr_assert_not_null(strstr(daemon_out, "log output STDOUT -> STDERR"));
	cr_assert_not_null(strstr(daemon_log, "Publish Ethernet4"), "stderr: %s", daemon_log);
	cr_assert_null(strstr(daemon_log, "Publish Ethernet0"), "stderr: %s", daemon_log);
	daemon_finish(&d);
}

Test(cli, logger_bad_value_is_one_warning_and_keeps_the_level)
{
	struct daemon_run d = { 0 };

	logger_start(&d, "LOGLEVEL NOTICE LOGOUTPUT STDERR");
	int idx = publishing_port(&d, "Ethernet0");
	logger_set(&d, "LOGLEVEL LOUD");
	usleep(300000);
	logger_set(&d, "LOGLEVEL LOUD LOGOUTPUT STDERR");
	usleep(300000);
	logger_set(&d, "LOGOUTPUT PRINTER");
	usleep(300000);
	flip(idx, 2);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_eq(count(daemon_log, "unknown LOGLEVEL 'LOUD', keeping NOTICE"), 1, "%s", daemon_log);
	cr_assert_eq(count(daemon_log, "unknown LOGOUTPUT 'PRINTER', keeping STDERR"), 1, "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "Publish Ethernet0"), "still at NOTICE on stderr");
	daemon_finish(&d);
}

Test(cli, logger_watch_survives_a_redis_restart)
{
	struct daemon_run d = { 0 };
	const char *error;

	logger_start(&d, "LOGLEVEL NOTICE LOGOUTPUT STDERR");
	cr_assert_eq(redis_server_restart(&d.srv), 0); /* a fresh, empty server */
	usleep(1500000);                                /* the daemon's backoff is at most 200 ms */
	logger_set(&d, "LOGLEVEL ERROR LOGOUTPUT STDERR");
	usleep(700000);
	flip(netns_link_add("Ethernet0", "ifb"), 3);
	cr_assert_eq(daemon_end(&d), 0);
	error = strstr(daemon_log, "log level NOTICE -> ERROR");
	cr_assert_not_null(error, "the change on the new server is applied: %s", daemon_log);
	cr_assert_null(strstr(error, "Cannot find"), "%s", error);
	cr_assert_null(strstr(error, "Publish"), "%s", error);
	daemon_finish(&d);
}

/* A client that writes LOGGER in bursts of 64 every 10 ms (6,400 writes/s),
 * until killed. */
static pid_t logger_storm(struct daemon_run *d)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		redisContext *c = redis_server_client(&d->srv, 4, NULL);

		for (unsigned i = 0; c && !c->err; i++) {
			redisAppendCommand(c, "HSET LOGGER|portsyncd LOGLEVEL %s", i / 64 % 2 ? "INFO" : "NOTICE");
			if (i % 64 != 63)
				continue;
			for (int k = 0; k < 64; k++) {
				void *r;

				if (redisGetReply(c, &r) != REDIS_OK)
					_exit(0);
				freeReplyObject(r);
			}
			usleep(10000);
		}
		_exit(0);
	}
	return pid;
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

Test(cli, logger_storm_does_not_stall_the_sync)
{
	struct daemon_run d = { 0 };
	struct timespec t0;
	redisContext *st;
	long long worst = 0;
	pid_t storm;

	logger_start(&d, "LOGLEVEL NOTICE LOGOUTPUT STDERR");
	int idx = publishing_port(&d, "Ethernet0");
	usleep(200000);
	st = redis_server_client(&d.srv, 6, NULL);
	storm = logger_storm(&d);
	usleep(300000);
	for (int i = 0; i < 10; i++) {
		const char *want = i % 2 == 0 ? "up" : "down";
		redisReply *r = NULL;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		netns_link_set_up(idx, i % 2 == 0);
		do {
			freeReplyObject(r);
			r = redisCommand(st, "HGET PORT_TABLE|Ethernet0 admin_status");
		} while (!(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0) &&
			 ms_since(&t0) < 2000);
		cr_assert(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0,
			  "flip %d did not land in 2 s during the storm", i);
		freeReplyObject(r);
		if (ms_since(&t0) > worst)
			worst = ms_since(&t0);
	}
	kill(storm, SIGKILL);
	waitpid(storm, NULL, 0);
	redisFree(st);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_lt(worst, 500, "a flip took %lld ms to land during the LOGGER storm", worst);
	cr_assert_geq(count(daemon_log, "log level "), 2, "the storm was applied as it went: %s", daemon_log);
	daemon_finish(&d);
}

/* An explicit option wins over what the table holds at start; a change made
 * while running wins over the option. */
Test(cli, logger_options_win_at_start_then_changes_win)
{
	struct daemon_run d = { .logger = "LOGLEVEL NOTICE LOGOUTPUT SYSLOG" };
	const char *error;

	daemon_start_with(&d, NULL, "");
	int idx = publishing_port(&d, "Ethernet0");
	flip(idx, 1);
	logger_set(&d, "LOGLEVEL ERROR");
	usleep(500000);
	flip(idx, 2);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_not_null(strstr(daemon_log, "--log-stderr overrides CONFIG_DB LOGGER|portsyncd "
					      "LOGOUTPUT SYSLOG until it changes"), "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "Publish Ethernet0"), "still on stderr: %s", daemon_log);
	error = strstr(daemon_log, "log level NOTICE -> ERROR");
	cr_assert_not_null(error, "%s", daemon_log);
	cr_assert_null(strstr(error, "Publish"));
	daemon_finish(&d);
}

/* ---- the log under a flood ---- */

Test(cli, shutdown_lines_survive_a_flood_and_suppression_is_reported_rarely)
{
	struct daemon_run d = { 0 };

	daemon_start_with(&d, NULL, "[log]\nrate_limit = 20\nrate_burst = 20\n");
	int idx = publishing_port(&d, "Ethernet0");
	for (int i = 0; i < 2000; i++)
		netns_link_set_up_nowait(idx, i % 2 == 0);
	usleep(300000);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_not_null(strstr(daemon_log, "Terminated: flushing and exiting"), "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, " events ("), "the summary line: %s", daemon_log);
	cr_assert_leq(count(daemon_log, "suppressed "), 2, "at most one report per 10 s, and one at exit: %s",
		      daemon_log);
	cr_assert_geq(count(daemon_log, "suppressed "), 1, "the flood was limited");
	daemon_finish(&d);
}

/* ---- Redis faults: the final state is exact, and every outage is told ---- */

static void redis_config_set(struct daemon_run *d, const char *name, const char *value)
{
	redisContext *c = redis_server_client(&d->srv, 0, NULL);
	redisReply *r = redisCommand(c, "CONFIG SET %s %s", name, value);

	cr_assert(r && r->type == REDIS_REPLY_STATUS, "CONFIG SET %s %s", name, value);
	freeReplyObject(r);
	redisFree(c);
}

/* STATE_DB admin_status of each port equals the kernel's, within ms. */
static int state_matches_kernel(struct daemon_run *d, const char *const *ports, size_t n, int ms)
{
	redisContext *c = redis_server_client(&d->srv, 6, NULL);
	int ok = 0;

	for (int waited = 0; c && !ok && waited <= ms; waited += 100) {
		ok = 1;
		for (size_t i = 0; ok && i < n; i++) {
			redisReply *r = redisCommand(c, "HGET PORT_TABLE|%s admin_status", ports[i]);
			struct netns_link *links = NULL;
			int k = netns_snapshot(&links), up = -1;

			for (int j = 0; j < k; j++)
				if (strcmp(links[j].name, ports[i]) == 0)
					up = (links[j].flags & IFF_UP) != 0;
			free(links);
			ok = r && r->type == REDIS_REPLY_STRING && up >= 0 &&
			     strcmp(r->str, up ? "up" : "down") == 0;
			freeReplyObject(r);
		}
		if (!ok)
			usleep(100000);
	}
	redisFree(c);
	return ok;
}

Test(cli, refusals_are_retried_until_they_land_and_are_told, .timeout = 90)
{
	static const char *const ports[] = { "Ethernet0", "Ethernet4" };
	struct daemon_run d = { 0 };
	static char body[4096];

	daemon_start_with(&d, NULL, "");
	int a = publishing_port(&d, "Ethernet0"), b = publishing_port(&d, "Ethernet4");
	cr_assert(state_matches_kernel(&d, ports, 2, 2000));
	redis_config_set(&d, "maxmemory-policy", "noeviction");
	redis_config_set(&d, "maxmemory", "1");
	netns_link_set_up(a, true);
	for (int i = 0; i < 7; i++)
		netns_link_set_up(b, i % 2 == 0);
	sleep(12);
	cr_assert_eq(http_get(d.port, "/health", body, sizeof(body)), 503, "%s", body);
	cr_assert_not_null(strstr(body, "refusing writes"), "%s", body);
	cr_assert_not_null(strstr(body, "OOM"), "%s", body);
	redis_config_set(&d, "maxmemory", "0");
	cr_assert(state_matches_kernel(&d, ports, 2, 3000), "every refused write landed");
	usleep(1500000);
	cr_assert_eq(http_get(d.port, "/health", body, sizeof(body)), 200, "%s", body);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_eq(count(daemon_log, "Redis outage: sink refusing writes"), 1, "%s", daemon_log);
	cr_assert_eq(count(daemon_log, "Redis outage over after 1"), 1, "one end line, 12-13 s: %s",
		     daemon_log);
	cr_assert_not_null(strstr(daemon_log, "0 failed"), "nothing given up: %s", daemon_log);
	daemon_finish(&d);
}

Test(cli, a_stopped_redis_is_unhealthy_within_the_deadline_then_recovers, .timeout = 120)
{
	static const char *const ports[] = { "Ethernet0" };
	struct daemon_run d = { 0 };
	static char body[4096];
	int healthy = 0;

	daemon_start_with(&d, NULL, "[redis]\nreply_timeout_ms = 2000\n");
	int a = publishing_port(&d, "Ethernet0");
	cr_assert(state_matches_kernel(&d, ports, 1, 2000));
	cr_assert_eq(redis_server_pause(&d.srv), 0);
	netns_link_set_up(a, true);
	sleep(4); /* the deadline, and a tick */
	cr_assert_eq(http_get(d.port, "/health", body, sizeof(body)), 503, "%s", body);
	cr_assert_not_null(strstr(body, "not answering"), "%s", body);
	sleep(26);
	netns_link_set_up(a, false);
	netns_link_set_up(a, true);
	netns_link_set_up(a, false);
	cr_assert_eq(redis_server_resume(&d.srv), 0);
	cr_assert(state_matches_kernel(&d, ports, 1, 10000), "the state after the stop is exact");
	for (int i = 0; i < 50 && !healthy; i++) {
		usleep(200000);
		healthy = http_get(d.port, "/health", body, sizeof(body)) == 200;
	}
	cr_assert(healthy, "%s", body);
	usleep(1200000); /* the end is told at the next tick */
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_geq(count(daemon_log, "Redis outage: "), 1, "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "Redis outage over after"), "%s", daemon_log);
	daemon_finish(&d);
}

Test(cli, a_latency_spike_clears_from_health_after_the_window, .timeout = 60)
{
	struct daemon_run d = { 0 };
	static char body[4096];
	int healthy = 0;

	daemon_start_with(&d, NULL, "[health]\np99_degraded_us = 200000\nwindow_s = 4\n");
	int a = publishing_port(&d, "Ethernet0");
	usleep(300000);
	cr_assert_eq(redis_server_pause(&d.srv), 0);
	netns_link_set_up(a, true);
	usleep(1000000);
	cr_assert_eq(redis_server_resume(&d.srv), 0);
	usleep(500000);
	cr_assert_eq(http_get(d.port, "/health", body, sizeof(body)), 200);
	cr_assert_not_null(strstr(body, "degraded: p99 latency"), "%s", body);
	for (int i = 0; i < 40 && !healthy; i++) {
		netns_link_set_up(a, i % 2 == 0);
		usleep(200000);
		healthy = http_get(d.port, "/health", body, sizeof(body)) == 200 &&
			  strncmp(body, "healthy", 7) == 0;
	}
	cr_assert(healthy, "cleared after the 4 s window: %s", body);
	cr_assert_eq(daemon_end(&d), 0);
	daemon_finish(&d);
}

/* ---- Redis restarted empty: start-up runs again, as a fresh start would ---- */

static void seed_config_ports(struct redis_server *srv, unsigned n)
{
	redisContext *c = redis_server_client(srv, 4, NULL);

	for (unsigned i = 0; i < n; i++)
		redisAppendCommand(c, "HSET PORT|Ethernet%u lanes %u speed 100000 alias etp%u", 4 * i, i, i);
	for (unsigned i = 0; i < n; i++) {
		redisReply *r = NULL;

		cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	redisFree(c);
}

static long long db_count(struct redis_server *srv, int db, const char *pattern)
{
	redisContext *c = redis_server_client(srv, db, NULL);
	redisReply *r = redisCommand(c, "KEYS %s", pattern);
	long long n = r && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;

	freeReplyObject(r);
	redisFree(c);
	return n;
}

static const char *db_hget(struct redis_server *srv, int db, const char *key, const char *field)
{
	static char value[4][64];
	static int next;
	redisContext *c = redis_server_client(srv, db, NULL);
	redisReply *r = redisCommand(c, "HGET %s %s", key, field);
	char *v = value[next++ % 4];

	snprintf(v, 64, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static void flush_db(struct redis_server *srv, int db)
{
	redisContext *c = redis_server_client(srv, db, NULL);

	freeReplyObject(redisCommand(c, "FLUSHDB"));
	redisFree(c);
}

/* Until APPL_DB holds PortConfigDone (in the key set, staged or consumed). */
static int wait_port_config_done(struct redis_server *srv, int ms)
{
	for (int waited = 0; waited <= ms; waited += 50) {
		if (db_count(srv, 0, "*PORT_TABLE:PortConfigDone") > 0)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* The fresh-start state of a Redis holding n CONFIG_DB ports whose netdevs
 * exist: APPL_DB has exactly those ports, PortConfigDone count=n and
 * PortInitDone; STATE_DB has each port as the kernel has it. */
static void assert_fresh_start_state(struct daemon_run *d, unsigned n, const int *idx)
{
	redisContext *appl = redis_server_client(&d->srv, 0, NULL);
	const char *names[8];
	char buf[8][16];

	cr_assert(wait_port_config_done(&d->srv, 5000), "PortConfigDone in the new Redis");
	cr_assert_eq(redis_server_consume_port_table(appl), 0);
	for (unsigned i = 0; i < n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "Ethernet%u", 4 * i);
		names[i] = buf[i];
		/* events after orchagent took the port, whatever its state was */
		netns_link_set_up(idx[i], false);
		netns_link_set_up(idx[i], true);
		netns_link_set_up(idx[i], i % 2 == 0);
	}
	if (!state_matches_kernel(d, names, n, 5000)) {
		daemon_end(d);
		cr_assert_fail("STATE_DB differs from the kernel: %s", daemon_log);
	}
	usleep(300000);
	cr_assert_eq(redis_server_consume_port_table(appl), 0);
	redisFree(appl);
	if (db_count(&d->srv, 0, "PORT_TABLE:Ethernet*") != (long long)n) {
		long long got = db_count(&d->srv, 0, "PORT_TABLE:Ethernet*");

		daemon_end(d);
		cr_assert_fail("only the new Redis' ports: %lld: %s", got, daemon_log);
	}
	cr_assert_eq(db_count(&d->srv, 0, "_PORT_TABLE:*"), 0);
	cr_assert_str_eq(db_hget(&d->srv, 0, "PORT_TABLE:PortConfigDone", "count"), "8");
	cr_assert_str_eq(db_hget(&d->srv, 0, "PORT_TABLE:PortInitDone", "lanes"), "0");
	cr_assert_str_eq(db_hget(&d->srv, 6, "WARM_RESTART_TABLE|portsyncd", "restore_count"), "0");
	cr_assert_eq(db_count(&d->srv, 6, "PORT_TABLE|*"), n);
	cr_assert_str_eq(db_hget(&d->srv, 4, "LOGGER|portsyncd", "LOGLEVEL"), "NOTICE");
	cr_assert_str_eq(db_hget(&d->srv, 4, "LOGGER|portsyncd", "LOGOUTPUT"), "SYSLOG");
}

/* Links for the 8 ports, made while the daemon runs (so they are not old). */
static void make_links(int *idx, unsigned n)
{
	char name[16];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "Ethernet%u", 4 * i);
		idx[i] = netns_link_add(name, "ifb");
	}
}

/* Freezes the daemon while Redis restarts empty and is given its CONFIG_DB,
 * as SONiC's config reload would, so the daemon meets the new server only
 * once it is set up. */
static void restart_redis_empty_under(struct daemon_run *d)
{
	kill(d->pid, SIGSTOP);
	cr_assert_eq(redis_server_restart(&d->srv), 0);
	seed_config_ports(&d->srv, 8);
	kill(d->pid, SIGCONT);
}

Test(cli, redis_restarted_empty_mid_run_converges_to_a_fresh_start, .timeout = 90)
{
	struct daemon_run d = { 0 };
	int idx[8];

	daemon_start_with(&d, NULL, "");
	seed_config_ports(&d.srv, 8);
	kill(d.pid, SIGTERM); /* the first run only seeded: start again with the ports */
	cr_assert_eq(daemon_end(&d), 0);
	flush_db(&d.srv, 0);
	daemon_spawn(&d);
	cr_assert(wait_port_config_done(&d.srv, 5000));
	make_links(idx, 8);
	redisContext *appl = redis_server_client(&d.srv, 0, NULL);
	cr_assert_eq(redis_server_consume_port_table(appl), 0);
	redisFree(appl);
	for (unsigned i = 0; i < 8; i++)
		netns_link_set_up(idx[i], true);
	usleep(500000);
	cr_assert_str_eq(db_hget(&d.srv, 0, "_PORT_TABLE:PortInitDone", "lanes"), "0");

	restart_redis_empty_under(&d);
	assert_fresh_start_state(&d, 8, idx);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_not_null(strstr(daemon_log, "Redis came back without its data"), "%s", daemon_log);
	cr_assert_eq(count(daemon_log, "portsyncd: PortInitDone"), 2, "once per start-up run: %s",
		     daemon_log);
	daemon_finish(&d);
}

/* The daemon is frozen when MONITOR shows the first command of a start-up
 * step, with 10,000 CONFIG_DB ports so that each step lasts. */
static void restart_redis_empty_at(const char *step)
{
	struct daemon_run d = { 0 };
	redisContext *mon;
	redisReply *r;
	int idx[8], seen = 0;

	daemon_start_with(&d, NULL, "");
	kill(d.pid, SIGTERM);
	cr_assert_eq(daemon_end(&d), 0);
	flush_db(&d.srv, 0);
	seed_config_ports(&d.srv, 10000);
	mon = redis_server_client(&d.srv, 0, NULL);
	freeReplyObject(redisCommand(mon, "MONITOR"));
	daemon_spawn(&d);
	while (!seen && redisGetReply(mon, (void **)&r) == REDIS_OK) {
		seen = r->type == REDIS_REPLY_STATUS && strstr(r->str, step);
		freeReplyObject(r);
	}
	redisFree(mon);
	cr_assert(seen, "%s", step);
	restart_redis_empty_under(&d);
	cr_assert(wait_port_config_done(&d.srv, 10000));
	make_links(idx, 8);
	assert_fresh_start_state(&d, 8, idx);
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_eq(count(daemon_log, "portsyncd: PortInitDone"), 1, "%s: %s", step, daemon_log);
	cr_assert_null(strstr(daemon_log, "count=10000"), "no answer of the old server is used");
	daemon_finish(&d);
}

Test(cli, redis_restarted_empty_while_config_db_is_read, .timeout = 90)
{
	restart_redis_empty_at("\"HGETALL\" \"PORT|");
}

Test(cli, redis_restarted_empty_while_appl_db_is_written, .timeout = 90)
{
	restart_redis_empty_at("\"EVALSHA\"");
}

Test(cli, redis_restarted_empty_while_ports_are_pruned, .timeout = 90)
{
	restart_redis_empty_at("\"admin_status\"");
}

Test(cli, exit_on_reset_exits_one_for_the_supervisor, .timeout = 60)
{
	struct daemon_run d = { 0 };

	daemon_start_with(&d, NULL, "[redis]\nexit_on_reset = 1\n");
	cr_assert_eq(redis_server_restart(&d.srv), 0);
	sleep(2); /* the reconnection backoff is at most 200 ms */
	cr_assert_eq(daemon_end(&d), 1, "%s", daemon_log);
	cr_assert_not_null(strstr(daemon_log, "exiting for the supervisor to restart portsyncd"),
			   "%s", daemon_log);
	daemon_finish(&d);
}

/* A permanent error gives a write up: told once, with the server's reason. */
Test(cli, writes_given_up_are_told)
{
	struct daemon_run d = { 0 };
	redisContext *c;

	daemon_start_with(&d, NULL, "");
	c = redis_server_client(&d.srv, 6, NULL);
	freeReplyObject(redisCommand(c, "SET PORT_TABLE|Ethernet0 not-a-hash"));
	redisFree(c);
	flip(publishing_port(&d, "Ethernet0"), 3);
	usleep(1200000); /* told at the next tick */
	cr_assert_eq(daemon_end(&d), 0);
	cr_assert_not_null(strstr(daemon_log, "writes given up (a permanent error): redis: WRONGTYPE"),
			   "%s", daemon_log);
	daemon_finish(&d);
}

/* The tunables key of the extension, on the daemon itself. */
Test(cli, carrier_changes_only_with_the_extension_key)
{
	struct daemon_run d = { 0 };
	redisContext *c;
	redisReply *r;

	daemon_start_with(&d, NULL, "[extensions]\ncarrier_changes = 1\n");
	flip(publishing_port(&d, "Ethernet0"), 1);
	c = redis_server_client(&d.srv, 6, NULL);
	r = redisCommand(c, "HLEN PORT_TABLE|Ethernet0");
	cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer == 5, "the four fields and the extension");
	freeReplyObject(r);
	r = redisCommand(c, "HEXISTS PORT_TABLE|Ethernet0 carrier_changes");
	cr_assert(r && r->integer == 1);
	freeReplyObject(r);
	redisFree(c);
	cr_assert_eq(daemon_end(&d), 0);
	daemon_finish(&d);
}

/* ---- load-adaptive batching ---- */

struct storm_figures {
	double holds, batches, batch_events, events, acked, coalesced;
};

static void storm_sample(struct daemon_run *d, struct storm_figures *f)
{
	static char page[65536];

	cr_assert_eq(http_get(d->port, "/metrics", page, sizeof(page)), 200);
	f->holds = sample(page, "portsyncd_batch_holds_total");
	f->batches = sample(page, "portsyncd_batch_events_count");
	f->batch_events = sample(page, "portsyncd_batch_events_sum");
	f->events = sample(page, "portsyncd_events_received_total");
	f->acked = sample(page, "portsyncd_writes_acked_total");
	f->coalesced = sample(page, "portsyncd_writes_coalesced_total");
	cr_assert_geq(f->holds, 0, "%s", page);
	cr_assert_geq(f->batches, 0, "%s", page);
}

/* 3,000 admin flips of one port as fast as the kernel takes them; what the
 * metrics saw of them, and whether STATE_DB ended as the kernel. */
static void storm(const char *config, struct storm_figures *delta)
{
	static const char *const ports[] = { "Ethernet0" };
	struct daemon_run d = { 0 };
	struct storm_figures before, after;

	daemon_start_with(&d, NULL, config);
	int idx = publishing_port(&d, "Ethernet0");
	cr_assert(state_matches_kernel(&d, ports, 1, 2000));
	storm_sample(&d, &before);
	flip(idx, 3000);
	cr_assert(state_matches_kernel(&d, ports, 1, 3000), "the last change landed");
	storm_sample(&d, &after);
	cr_assert_eq(daemon_stop(&d), 0, "%s", daemon_log);
	delta->holds = after.holds - before.holds;
	delta->batches = after.batches - before.batches;
	delta->batch_events = after.batch_events - before.batch_events;
	delta->events = after.events - before.events;
	delta->acked = after.acked - before.acked;
	delta->coalesced = after.coalesced - before.coalesced;
	cr_assert_geq(delta->events, 3000);
	/* Redis kept up: no state was folded, every change made its own write. */
	cr_assert_eq(delta->coalesced, 0);
	cr_assert_eq(delta->acked, delta->events, "one STATE_DB write per change: %.0f for %.0f",
		     delta->acked, delta->events);
}

Test(cli, a_flap_storm_is_gathered_and_every_change_written, .timeout = 60)
{
	struct storm_figures on;

	storm("[log]\nrate_limit = 50\nrate_burst = 10\n", &on);
	cr_log_info("batching on: %.0f holds, %.1f events per read", on.holds,
		    on.batch_events / on.batches);
	cr_assert_gt(on.holds, 0, "batching engaged");
	cr_assert_gt(on.batch_events / on.batches, 2, "%.0f events in %.0f reads", on.batch_events,
		     on.batches);
}

Test(cli, batch_hold_us_0_turns_batching_off, .timeout = 60)
{
	struct storm_figures off;

	storm("[pipeline]\nbatch_hold_us = 0\n[log]\nrate_limit = 50\nrate_burst = 10\n", &off);
	cr_assert_eq(off.holds, 0, "%.1f events per read", off.batch_events / off.batches);
}

Test(cli, batch_hold_us_is_checked)
{
	assert_config_error("[pipeline]\nbatch_hold_us = 100001\n",
			    ":2: bad value '100001' for 'batch_hold_us'");
	assert_config_error("[pipeline]\nbatch_hold_us = -1\n", ":2: bad value '-1' for 'batch_hold_us'");
	assert_config_error("[pipeline]\nbatch_hold_us = 1ms\n", ":2: bad value '1ms' for 'batch_hold_us'");
}
