/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portsyncd's bad day, for as long as asked: 64 ifb ports in a private
 * network namespace and a private redis-server (keyspace events on, as
 * SONiC's redis.conf has them), CONFIG_DB seeded, portsyncd started and the
 * netdevs created after it, orchagent's consume step every 100 ms. Then a
 * mixed load at a steady rate (admin flaps, MTU changes, a port's netdev
 * deleted and made again under the same name) while Redis misbehaves: every
 * 10 s its clients are killed (CLIENT KILL TYPE normal and pubsub), every
 * 2 minutes it is killed and a fresh, empty one started on the same socket
 * and given its CONFIG_DB as a config reload would (portsyncd frozen with
 * SIGSTOP meanwhile, so that it meets a set-up server).
 *
 *   bench-soak [--portsyncd PATH] [SECONDS]     (default 600; needs root)
 *
 * Prints portsyncd's open fds, RSS and CPU time once it is ready, a progress
 * line every minute, and at the end a table: those figures again, the load
 * and the faults done, portsyncd's counters from /metrics, and, once the load
 * stopped and a settle time passed, STATE_DB against the kernel ("exact", or
 * how many ports differ). Exits 0 when the end state is exact and portsyncd
 * still runs, 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness/clock.h"
#include "harness/daemon.h"
#include "harness/genlink.h"
#include "harness/sonic.h"
#include "harness/world.h"

#define PORTS 64
#define RATE 300 /* link changes per second, all kinds together */
#define KILL_EVERY_S 10
#define KILL_FIRST_S 5
#define RESTART_EVERY_S 120
#define RESTART_FIRST_S 60
#define CONSUME_MS 100
#define PROGRESS_S 60
#define SETTLE_MS 5000
#define LATE_MS 30000 /* how long past the settle time a difference is followed */
#define READY_MS 30000
#define HTTP_PORT 9111
#define GONE 4 /* ports whose netdev the load deletes for good as it ends */
#define MTU_BASE 1280
#define MTU_SPAN 7000
#define SEC 1000000000ull

static const char *const redis_args[] = { "--notify-keyspace-events", "AKE", NULL };

/* The generator, in a thread of its own so that its pace does not depend on
 * what Redis does. It alone changes links while it runs. */
struct load {
	struct genlink links;
	int ifindex[PORTS];
	bool up[PORTS];
	uint64_t end_ns;
	uint32_t rng;
	atomic_bool stop;
	atomic_uint flaps, mtus, recreations;
	int error;
	pthread_t thread;
};

struct faults {
	unsigned kills, clients_killed, restarts;
	unsigned reinits_seen;  /* restarts after which PortInitDone came again */
	uint64_t reinit_max_ns; /* the longest restart -> PortInitDone */
	uint64_t restarted_ns;  /* the last restart, while its PortInitDone is awaited */
};

struct figures {
	int fds;
	long rss_kb;
	double cpu_s;
};

static struct redis_server srv;
static struct daemon_proc portsyncd;
static redisContext *client;
static struct load load = { .links = { .fd = -1 }, .rng = 2463534242u };
static struct faults faults;
static int daemon_exit = -1; /* how portsyncd ended, when it did on its own */

static uint32_t next_random(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* --- Redis, as the bench sees it ----------------------------------------- */

/* The bench's own client, reopened when a restart or an error closed it. */
static redisContext *bench_client(void)
{
	if (client && client->err) {
		redisFree(client);
		client = NULL;
	}
	if (!client)
		client = redis_server_client(&srv, 0, NULL);
	return client;
}

static long long command_integer(const char *fmt, ...)
{
	redisContext *c = bench_client();
	redisReply *r;
	long long n = -1;
	va_list ap;

	if (!c)
		return -1;
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	freeReplyObject(r);
	return n;
}

static bool select_db(int db)
{
	redisContext *c = bench_client();
	redisReply *r = c ? redisCommand(c, "SELECT %d", db) : NULL;
	bool ok = r && r->type == REDIS_REPLY_STATUS;

	freeReplyObject(r);
	return ok;
}

/* APPL_DB holds key, announced or already consumed. */
static bool appl_has(const char *key)
{
	return select_db(0) && command_integer("EXISTS _PORT_TABLE:%s PORT_TABLE:%s", key, key) > 0;
}

static void consume(void)
{
	redisContext *c = bench_client();

	if (c)
		sonic_consume(c);
}

/* STATE_DB rows of no port of ours: there should be none. */
static int stray_rows(const struct genlink_state *kernel, int n)
{
	long long rows = select_db(6) ? command_integer("EVAL %s 0",
							"return #redis.call('KEYS', 'PORT_TABLE|*')")
				      : -1;
	int ports = 0;

	for (int i = 0; i < n; i++)
		ports += !strncmp(kernel[i].name, "Ethernet", 8);
	return rows < 0 ? -EIO : (int)(rows > ports ? rows - ports : 0);
}

/* Ports whose STATE_DB row differs from the kernel, rows without a netdev
 * included; 0 when exact. */
static int state_mismatches(struct genlink *links)
{
	static struct genlink_state kernel[PORTS + 16];
	int n = genlink_dump(links, kernel, PORTS + 16), r, stray;
	redisContext *c = bench_client();

	if (n < 0)
		return n;
	r = c ? sonic_state_mismatches(c, kernel, n, PORTS) : -ECONNREFUSED;
	stray = r < 0 ? 0 : stray_rows(kernel, n);
	return r < 0 ? r : stray < 0 ? stray : r + stray;
}

/* --- the faults ----------------------------------------------------------- */

static void kill_clients(void)
{
	long long normal = command_integer("CLIENT KILL TYPE normal SKIPME yes");
	long long pubsub = command_integer("CLIENT KILL TYPE pubsub SKIPME yes");

	faults.kills++;
	faults.clients_killed += (unsigned)((normal > 0 ? normal : 0) + (pubsub > 0 ? pubsub : 0));
}

/* As a config reload on a switch: Redis gone and back empty, CONFIG_DB loaded
 * again, and only then portsyncd let to meet it. */
static int restart_redis_empty(void)
{
	int r;

	daemon_signal(&portsyncd, SIGSTOP);
	redisFree(client);
	client = NULL;
	r = redis_server_restart(&srv);
	if (r == 0)
		r = bench_client() ? sonic_seed(client, PORTS) : -ECONNREFUSED;
	daemon_signal(&portsyncd, SIGCONT);
	faults.restarts++;
	faults.restarted_ns = bench_now_ns();
	return r;
}

static void note_reinit(void)
{
	uint64_t took;

	if (!faults.restarted_ns || !appl_has("PortInitDone"))
		return;
	took = bench_now_ns() - faults.restarted_ns;
	if (took > faults.reinit_max_ns)
		faults.reinit_max_ns = took;
	faults.reinits_seen++;
	faults.restarted_ns = 0;
}

/* --- the load ------------------------------------------------------------- */

static int port_create(struct load *l, unsigned port)
{
	char name[32];
	int ifindex;

	sonic_port_name(port, name, sizeof(name));
	ifindex = genlink_add_ifb(&l->links, name);
	if (ifindex < 0)
		return ifindex;
	l->ifindex[port] = ifindex;
	l->up[port] = false;
	return 0;
}

/* One change: 70 % admin flaps, 25 % MTU changes, 5 % re-creations. */
static int load_step(struct load *l)
{
	unsigned port = next_random(&l->rng) % PORTS, kind = next_random(&l->rng) % 100;
	int r;

	if (kind < 70) {
		l->up[port] = !l->up[port];
		atomic_fetch_add(&l->flaps, 1);
		return genlink_set_up(&l->links, l->ifindex[port], l->up[port]);
	}
	if (kind < 95) {
		atomic_fetch_add(&l->mtus, 1);
		return genlink_set_mtu(&l->links, l->ifindex[port],
				       MTU_BASE + next_random(&l->rng) % MTU_SPAN);
	}
	r = genlink_delete(&l->links, l->ifindex[port]);
	atomic_fetch_add(&l->recreations, 1);
	return r < 0 ? r : port_create(l, port);
}

static void *load_run(void *arg)
{
	struct load *l = arg;
	uint64_t start = bench_now_ns(), period = SEC / RATE;

	for (uint64_t i = 0; !atomic_load(&l->stop); i++) {
		uint64_t at = start + i * period;

		if (at >= l->end_ns)
			break;
		bench_sleep_until_ns(at);
		l->error = load_step(l);
		if (l->error < 0)
			return NULL;
	}
	/* CONFIG_DB keeps them: their STATE_DB rows must go all the same. */
	for (unsigned port = PORTS - GONE; l->error == 0 && port < PORTS; port++)
		l->error = genlink_delete(&l->links, l->ifindex[port]);
	return NULL;
}

static unsigned load_changes(struct load *l)
{
	return atomic_load(&l->flaps) + atomic_load(&l->mtus) + atomic_load(&l->recreations);
}

/* --- portsyncd ------------------------------------------------------------ */

static bool daemon_running(void)
{
	int status;

	if (portsyncd.pid <= 0)
		return false;
	if (waitpid(portsyncd.pid, &status, WNOHANG) != portsyncd.pid)
		return true;
	daemon_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	portsyncd.pid = 0;
	return false;
}

static void figures_take(struct figures *f)
{
	f->fds = proc_fd_count(portsyncd.pid);
	f->rss_kb = proc_status_kb(portsyncd.pid, "VmRSS");
	f->cpu_s = (double)proc_cpu_ns(portsyncd.pid) / 1e9;
}

static bool wait_until(bool (*done)(void), unsigned ms)
{
	for (unsigned waited = 0; waited < ms; waited += CONSUME_MS) {
		consume();
		if (done())
			return true;
		bench_sleep_ms(CONSUME_MS);
	}
	return false;
}

static bool config_done(void)
{
	return appl_has("PortConfigDone");
}

static bool ready(void)
{
	return appl_has("PortInitDone") && state_mismatches(&load.links) == 0;
}

/* CONFIG_DB seeded, portsyncd started, then the netdevs made (so that they
 * are new to it, as on a switch); returns once STATE_DB has every port. */
static int start_world(const char *exe)
{
	int r = redis_server_start(&srv, redis_args);

	if (r == 0)
		r = world_enter_netns(&load.links);
	if (r == 0)
		r = bench_client() ? sonic_seed(client, PORTS) : -ECONNREFUSED;
	if (r == 0)
		r = daemon_start(&portsyncd, exe, srv.address, srv.dir, HTTP_PORT);
	if (r == 0 && !wait_until(config_done, READY_MS))
		r = -ETIMEDOUT;
	for (unsigned port = 0; r == 0 && port < PORTS; port++)
		r = port_create(&load, port);
	if (r == 0 && !wait_until(ready, READY_MS))
		r = -ETIMEDOUT;
	return r;
}

/* --- the run -------------------------------------------------------------- */

static void progress(double t, const struct figures *f)
{
	printf("progress %5.0f s: fds %d, RSS %ld kB, CPU %.2f s, changes %u, kills %u, restarts %u\n",
	       t, f->fds, f->rss_kb, f->cpu_s, load_changes(&load), faults.kills, faults.restarts);
	fflush(stdout);
}

/* The load for seconds, the faults on their clocks, orchagent every 100 ms. */
static int soak(unsigned seconds)
{
	uint64_t start = bench_now_ns(), end = start + seconds * SEC;
	uint64_t next_kill = start + KILL_FIRST_S * SEC, next_restart = start + RESTART_FIRST_S * SEC;
	/* Half a period off, so that no progress line is taken amid a fault. */
	uint64_t next_progress = start + PROGRESS_S * SEC / 2;
	int r = 0;

	load.end_ns = end;
	r = -pthread_create(&load.thread, NULL, load_run, &load);
	for (uint64_t tick = start; r == 0 && tick < end; tick += CONSUME_MS * 1000000ull) {
		bench_sleep_until_ns(tick);
		if (!daemon_running())
			break;
		if (tick >= next_restart) {
			r = restart_redis_empty();
			next_restart += RESTART_EVERY_S * SEC;
		} else if (tick >= next_kill) {
			kill_clients();
			next_kill += KILL_EVERY_S * SEC;
		}
		consume();
		note_reinit();
		if (tick >= next_progress) {
			struct figures f;

			figures_take(&f);
			progress((double)(tick - start) / SEC, &f);
			next_progress += PROGRESS_S * SEC;
		}
	}
	atomic_store(&load.stop, true);
	pthread_join(load.thread, NULL);
	return r < 0 ? r : load.error;
}

/* After the settle time: the differences then, and when (if) they went. */
struct end_state {
	int mismatches;
	int late_mismatches; /* LATE_MS later, when there were some */
	double exact_after_s; /* when exact, counted from the end of the load; < 0: not */
};

static void settle(struct end_state *e)
{
	uint64_t from = bench_now_ns();

	e->exact_after_s = -1;
	for (unsigned waited = 0; waited < SETTLE_MS; waited += CONSUME_MS) {
		consume();
		note_reinit();
		bench_sleep_ms(CONSUME_MS);
	}
	e->mismatches = e->late_mismatches = state_mismatches(&load.links);
	for (unsigned waited = 0; e->late_mismatches != 0 && waited < LATE_MS; waited += CONSUME_MS) {
		bench_sleep_ms(CONSUME_MS);
		consume();
		e->late_mismatches = state_mismatches(&load.links);
	}
	if (e->late_mismatches == 0)
		e->exact_after_s = (double)(bench_now_ns() - from) / SEC;
}

/* --- the table ------------------------------------------------------------ */

static void row(const char *figure, const char *start, const char *end)
{
	printf("%-42s %12s %20s\n", figure, start, end);
}

/* Numbers with decimals digits after the point; a negative one is unknown. */
static void row_u(const char *figure, double start, double end, int decimals)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%.*f", decimals, start);
	snprintf(b, sizeof(b), "%.*f", decimals, end);
	row(figure, start < 0 ? "-" : a, end < 0 ? "-" : b);
}

static void print_figures(const struct figures *start, const struct figures *end)
{
	row("figure", "start", "end");
	row_u("portsyncd open fds", start->fds, end->fds, 0);
	row_u("portsyncd RSS (kB)", (double)start->rss_kb, (double)end->rss_kb, 0);
	row_u("portsyncd CPU (s)", start->cpu_s, end->cpu_s, 2);
}

static void print_start(const struct figures *f)
{
	printf("%-42s %12s\n%-42s %12d\n%-42s %12ld\n%-42s %12.2f\n", "figure", "start",
	       "portsyncd open fds", f->fds, "portsyncd RSS (kB)", f->rss_kb,
	       "portsyncd CPU (s)", f->cpu_s);
}

static const char *const counters[] = {
	"store_resets_total", "reconnects_total", "writes_failed_total",
	"writes_retried_total", "writes_dropped_total", "overruns_total",
};

static void print_counters(double at_start[], double at_end[])
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		char figure[64];

		snprintf(figure, sizeof(figure), "/metrics %s", counters[i]);
		row_u(figure, at_start[i], at_end[i], 0);
	}
}

static void scrape(double values[])
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "portsyncd_%s", counters[i]);
		if (portsyncd.pid <= 0 || daemon_metric(&portsyncd, name, &values[i]) < 0)
			values[i] = -1;
	}
}

static void print_load(void)
{
	row_u("link changes made", 0, load_changes(&load), 0);
	row_u("  admin flaps", 0, atomic_load(&load.flaps), 0);
	row_u("  MTU changes", 0, atomic_load(&load.mtus), 0);
	row_u("  netdev re-creations", 0, atomic_load(&load.recreations), 0);
	row_u("  netdevs deleted as the load ended", 0, GONE, 0);
	row_u("Redis client kills", 0, faults.kills, 0);
	row_u("  connections killed", 0, faults.clients_killed, 0);
	row_u("empty Redis restarts", 0, faults.restarts, 0);
	row_u("  PortInitDone again after them", 0, faults.reinits_seen, 0);
	row_u("  longest restart -> PortInitDone (ms)", 0, (double)faults.reinit_max_ns / 1e6, 0);
}

static void print_end_state(const struct end_state *e)
{
	char text[48];

	if (e->mismatches == 0)
		snprintf(text, sizeof(text), "exact");
	else if (e->mismatches > 0)
		snprintf(text, sizeof(text), "%d ports differ", e->mismatches);
	else
		snprintf(text, sizeof(text), "error %d", e->mismatches);
	row("STATE_DB vs kernel, 5 s after the load", "-", text);
	if (e->mismatches != 0 && e->exact_after_s >= 0)
		snprintf(text, sizeof(text), "exact after %.1f s", e->exact_after_s);
	else if (e->mismatches != 0)
		snprintf(text, sizeof(text), "%d differ after %u s", e->late_mismatches,
			 (SETTLE_MS + LATE_MS) / 1000);
	if (e->mismatches != 0)
		row("", "", text);
}

/* --- main ----------------------------------------------------------------- */

static int parse_args(int argc, char **argv, const char **exe, unsigned *seconds)
{
	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--portsyncd") && i + 1 < argc) {
			*exe = argv[++i];
			continue;
		}
		*seconds = (unsigned)strtoul(argv[i], &end, 10);
		if (*end || !*seconds) {
			fprintf(stderr, "usage: bench-soak [--portsyncd PATH] [SECONDS]\n");
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *exe = PORTSYNCD_PATH;
	unsigned seconds = 600;
	struct figures at_start, at_end;
	double counters_start[6], counters_end[6];
	struct end_state end = { .mismatches = -1 };
	bool running;
	int r;

	if (parse_args(argc, argv, &exe, &seconds) < 0)
		return 2;
	r = start_world(exe);
	if (r < 0) {
		fprintf(stderr, "bench-soak: start-up: %s (log: %s)\n", strerror(-r), portsyncd.log_path);
		return 1;
	}
	printf("bench-soak: %u ifb ports, %u s of mixed load at %u changes/s, clients killed every "
	       "%u s, Redis restarted empty every %u s\n",
	       PORTS, seconds, RATE, KILL_EVERY_S, RESTART_EVERY_S);
	figures_take(&at_start);
	scrape(counters_start);
	print_start(&at_start);
	fflush(stdout);
	r = soak(seconds);
	if (r < 0)
		fprintf(stderr, "bench-soak: load: %s\n", strerror(-r));
	if (daemon_running())
		settle(&end);
	running = daemon_running();
	if (running)
		figures_take(&at_end);
	else
		at_end = (struct figures){ -1, -1, -1 };
	scrape(counters_end);
	printf("\n");
	print_figures(&at_start, &at_end);
	print_load();
	print_counters(counters_start, counters_end);
	print_end_state(&end);
	row("portsyncd still running", "yes", running ? "yes" : "no");
	if (running) {
		char text[16];

		snprintf(text, sizeof(text), "%d", daemon_stop(&portsyncd));
		row("portsyncd exit status at SIGTERM", "-", text);
	} else {
		fprintf(stderr, "bench-soak: portsyncd ended with status %d (log: %s)\n", daemon_exit,
			portsyncd.log_path);
	}
	redisFree(client);
	genlink_close(&load.links);
	if (end.mismatches != 0 || !running || r < 0)
		fprintf(stderr, "bench-soak: redis and portsyncd logs kept in %s\n", srv.dir);
	else
		redis_server_stop(&srv);
	redis_server_kill(&srv);
	return end.mismatches == 0 && running && r == 0 ? 0 : 1;
}
