/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's own cost, without a kernel: the replay generator (a dump of N
 * ports, then NEWLINKs flapping pseudo-random ports) -> a policy -> a sink,
 * timed from the first dispatch after start-up until the last write is
 * acknowledged. One table, one row per set-up:
 *
 *   mirror   -> memory   the ready-made policy, 64 / 512 / 4096 ports
 *   portsync -> memory   SONiC portsyncd's rules as the daemon runs them,
 *                        64 / 512 / 4096 ports: CONFIG_DB holds the ports,
 *                        start-up copies them to APPL_DB and orchagent's
 *                        consume step makes them known there, so every event
 *                        writes STATE_DB. The log callback wants warnings
 *                        only, as a daemon whose rate limit is spent.
 *   portsync -> redis    the same against a private redis-server on a unix
 *                        socket in a temp dir, 512 ports, EVENTS/4 events
 *                        (only when built with Redis support)
 *   portsync -> memory   with 5 % of writes failing (fail%), EVENTS/10 events:
 *                        every write must land after retries (failed 0)
 *
 * events/s counts the link events received (the dump included), ns/event is
 * its inverse, p50/p99/max are the pipeline's own receipt -> acknowledgement
 * latency. "state" compares every port's final STATE_DB entry with the last
 * event the generator made for it: "exact" or "MISMATCH". The memory sink's
 * rows without failures have a target here, >= 2,000,000 events/s, and are
 * marked "met" or "SHORT"; the last line counts them, "targets: N met, M
 * short". With RUNS > 1 every row runs RUNS times and the run with the
 * median events/s is shown.
 *
 *   bench-pipeline [EVENTS [RUNS]]      (2000000 events, 1 run)
 *
 * Figures only mean something from a release build (-Dbuildtype=release).
 */
#include <errno.h>
#include <linux/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <portsync/portsync.h>
#ifdef PSYNC_BENCH_HAVE_REDIS
#include <portsync/redis.h>

#include "helpers/redis_server.h"
#endif

#include "harness/clock.h"

#define MAX_RUNS 15

struct store;

/* What a row's sink is, and how the bench plays the rest of the switch on it. */
struct store_ops {
	int (*open)(struct store *s, unsigned fail_percent);
	/* CONFIG_DB PORT|<port> for every port, as the switch's configuration. */
	int (*seed_config)(struct store *s, unsigned ports);
	/* orchagent: the producer's APPL_DB PORT_TABLE staging into PORT_TABLE. */
	int (*consume)(struct store *s, unsigned ports);
	/* A STATE_DB field; -ENOENT when absent. */
	int (*get_state)(struct store *s, const char *key, const char *field, char *buf,
			 size_t len);
	void (*close)(struct store *s);
};

struct store {
	struct psync_sink *sink; /* the pipeline's once it is built */
	void *client;            /* Redis: a hiredis context to seed and inspect */
};

enum policy_kind { MIRROR, PORTSYNC };

struct row {
	const char *name;
	enum policy_kind policy;
	const struct store_ops *store;
	unsigned ports;
	unsigned events_divisor; /* of the EVENTS argument */
	unsigned fail_percent;
	bool targeted; /* held to TARGET_EVENTS_PER_SEC */
};

#define TARGET_EVENTS_PER_SEC 2000000.0

static unsigned targets_met, targets_short;

struct result {
	double events_per_sec;
	uint64_t events, p50_ns, p99_ns, max_ns, retried, failed;
	const char *state;
};

/* The generator's names: Ethernet0, Ethernet4, ... */
static void port_name(char *buf, size_t len, unsigned port)
{
	snprintf(buf, len, "Ethernet%u", port * 4);
}

/* ---- the memory sink ---- */

static int memory_open(struct store *s, unsigned fail_percent)
{
	struct psync_memory_sink_options o = { .sz = sizeof(o), .fail_percent = fail_percent,
					       .seed = 11 };

	return psync_memory_sink_new(&o, &s->sink);
}

static int memory_seed_config(struct store *s, unsigned ports)
{
	struct psync_field f[2] = { { "lanes", "0,1,2,3" }, { "speed", "100000" } };
	char name[32], key[48];
	int r = 0;

	for (unsigned i = 0; i < ports && r == 0; i++) {
		port_name(name, sizeof(name), i);
		snprintf(key, sizeof(key), "PORT|%s", name);
		r = psync_memory_sink_seed(s->sink, "CONFIG_DB", key, f, 2);
	}
	return r;
}

static int memory_consume(struct store *s, unsigned ports)
{
	(void)ports;
	return psync_memory_sink_consume(s->sink, "APPL_DB", "PORT_TABLE");
}

static int memory_get_state(struct store *s, const char *key, const char *field, char *buf,
			    size_t len)
{
	const char *v = psync_memory_sink_get(s->sink, "STATE_DB", key, field);

	if (!v)
		return -ENOENT;
	snprintf(buf, len, "%s", v);
	return 0;
}

static void memory_close(struct store *s)
{
	(void)s;
}

static const struct store_ops memory_store = {
	memory_open, memory_seed_config, memory_consume, memory_get_state, memory_close,
};

/* ---- a private redis-server (SONiC's ids: APPL_DB 0, CONFIG_DB 4, STATE_DB 6) ---- */
#ifdef PSYNC_BENCH_HAVE_REDIS
static struct redis_server server;

static int redis_ok(redisReply *reply)
{
	int ok = reply && reply->type != REDIS_REPLY_ERROR;

	freeReplyObject(reply);
	return ok ? 0 : -EIO;
}

static int redis_open(struct store *s, unsigned fail_percent)
{
	struct psync_redis_options o = { .sz = sizeof(o), .address = server.address };

	(void)fail_percent;
	s->client = redis_server_client(&server, 0, NULL);
	if (!s->client || redis_ok(redisCommand(s->client, "FLUSHALL")) < 0)
		return -EIO;
	return psync_redis_sink_new(&o, NULL, 0, &s->sink);
}

static int redis_seed_config(struct store *s, unsigned ports)
{
	char name[32];
	int r = redis_ok(redisCommand(s->client, "SELECT 4"));

	for (unsigned i = 0; i < ports && r == 0; i++) {
		port_name(name, sizeof(name), i);
		r = redis_ok(redisCommand(s->client, "HSET PORT|%s lanes 0,1,2,3 speed 100000",
					  name));
	}
	return r;
}

/* ConsumerStateTable's pop, for fresh keys: the staging hash becomes the entry. */
static int redis_consume(struct store *s, unsigned ports)
{
	char name[32];
	int r = redis_ok(redisCommand(s->client, "SELECT 0"));

	for (unsigned i = 0; i < ports && r == 0; i++) {
		port_name(name, sizeof(name), i);
		r = redis_ok(redisCommand(s->client, "RENAME _PORT_TABLE:%s PORT_TABLE:%s", name,
					  name));
	}
	return r == 0 ? redis_ok(redisCommand(s->client, "DEL PORT_TABLE_KEY_SET")) : r;
}

static int redis_get_state(struct store *s, const char *key, const char *field, char *buf,
			   size_t len)
{
	redisReply *reply;
	int r = redis_ok(redisCommand(s->client, "SELECT 6"));

	if (r < 0 || !(reply = redisCommand(s->client, "HGET %s %s", key, field)))
		return -EIO;
	r = reply->type == REDIS_REPLY_STRING ? 0 : -ENOENT;
	if (r == 0)
		snprintf(buf, len, "%s", reply->str);
	freeReplyObject(reply);
	return r;
}

static void redis_close(struct store *s)
{
	redisFree(s->client);
}

static const struct store_ops redis_store = {
	redis_open, redis_seed_config, redis_consume, redis_get_state, redis_close,
};
#endif

/* ---- what the final state must be ---- */

static int remember_flags(const struct psync_link_event *ev, void *userdata)
{
	uint32_t *flags = userdata;

	if (ev->type == PSYNC_EVENT_NEWLINK)
		flags[strtoul(ev->ifname + strlen("Ethernet"), NULL, 10) / 4] = ev->flags;
	return 0;
}

static struct psync_replay_generator generator(unsigned ports, uint64_t events)
{
	return (struct psync_replay_generator){ .sz = sizeof(struct psync_replay_generator),
						.n_ports = ports, .n_events = events, .seed = 7 };
}

/* The same generator again: every port's flags after its last event. */
static uint32_t *last_flags(unsigned ports, uint64_t events)
{
	struct psync_replay_generator gen = generator(ports, events);
	uint32_t *flags = calloc(ports, sizeof(*flags));
	struct psync_source *src = NULL;
	int r = flags ? psync_replay_source_new_generator(&gen, &src) : -ENOMEM;

	while (r >= 0 && !psync_source_is_finished(src))
		r = psync_source_dispatch(src, 4096, remember_flags, flags);
	psync_source_free(src);
	if (r < 0) {
		free(flags);
		return NULL;
	}
	return flags;
}

static int field_is(struct store *s, const struct row *row, const char *key, const char *field,
		    int up)
{
	char value[16];

	return row->store->get_state(s, key, field, value, sizeof(value)) == 0 &&
	       strcmp(value, up ? "up" : "down") == 0;
}

static const char *check_state(const struct row *row, struct store *s, uint64_t events)
{
	const char *oper = row->policy == MIRROR ? "oper_status" : "netdev_oper_status";
	uint32_t *flags = last_flags(row->ports, events);
	int exact = flags != NULL;
	char name[32], key[48];

	for (unsigned i = 0; exact && i < row->ports; i++) {
		port_name(name, sizeof(name), i);
		snprintf(key, sizeof(key), "PORT_TABLE|%s", name);
		exact = field_is(s, row, key, "admin_status", flags[i] & IFF_UP) &&
			field_is(s, row, key, oper, flags[i] & IFF_RUNNING);
	}
	free(flags);
	return exact ? "exact" : "MISMATCH";
}

/* ---- one run of one row ---- */

static void drop_log(int priority, const char *message, void *userdata)
{
	(void)priority;
	(void)message;
	(void)userdata;
}

static int warnings_only(int priority, void *userdata)
{
	(void)userdata;
	return priority <= LOG_WARNING;
}

static int make_policy(enum policy_kind kind, struct psync_policy **ret)
{
	struct psync_portsync_options o = { .sz = sizeof(o), .log = drop_log,
					    .log_wanted = warnings_only };

	if (kind == MIRROR)
		return psync_policy_new_mirror("STATE_DB", "PORT_TABLE", ret);
	return psync_portsync_policy_new(&o, ret);
}

static int build(const struct row *row, uint64_t events, struct store *s,
		 struct psync_pipeline **ret)
{
	struct psync_replay_generator gen = generator(row->ports, events);
	struct psync_pipeline_options po = { .sz = sizeof(po), .retry_min_ns = 1000 };
	struct psync_source *src = NULL;
	struct psync_policy *pol = NULL;
	int r = row->store->open(s, row->fail_percent);

	if (r == 0 && row->policy == PORTSYNC)
		r = row->store->seed_config(s, row->ports);
	if (r == 0)
		r = make_policy(row->policy, &pol);
	if (r == 0)
		r = psync_replay_source_new_generator(&gen, &src);
	if (r == 0)
		r = psync_pipeline_new(src, pol, s->sink, &po, ret);
	if (r < 0) {
		psync_source_free(src);
		psync_policy_free(pol);
		psync_sink_free(s->sink);
	}
	return r;
}

/* Start-up (portsync: CONFIG_DB into APPL_DB), then orchagent takes the ports. */
static int start(const struct row *row, struct store *s, struct psync_pipeline *p)
{
	int r = psync_pipeline_start(p);

	if (r == 0)
		r = psync_pipeline_flush(p, 10000);
	if (r == 0 && row->policy == PORTSYNC)
		r = row->store->consume(s, row->ports);
	return r < 0 ? r : 0;
}

static int measure(const struct row *row, uint64_t events, struct result *res)
{
	struct psync_metrics m = { .sz = sizeof(m) };
	struct psync_pipeline *p = NULL;
	struct store s = { 0 };
	double t0 = 0, dt = 0;
	int r = build(row, events, &s, &p);

	if (r == 0)
		r = start(row, &s, p);
	if (r == 0) {
		t0 = bench_now_s();
		r = psync_pipeline_run(p, -1);
		dt = bench_now_s() - t0;
	}
	if (r == 0)
		r = psync_pipeline_get_metrics(p, &m);
	if (r == 0)
		*res = (struct result){ (double)m.events_received / dt, m.events_received,
					m.latency_p50_ns, m.latency_p99_ns, m.latency_max_ns,
					m.writes_retried, m.writes_failed,
					check_state(row, &s, events) };
	psync_pipeline_free(p);
	row->store->close(&s);
	return r;
}

/* ---- the table ---- */

static int by_rate(const void *a, const void *b)
{
	double x = ((const struct result *)a)->events_per_sec;
	double y = ((const struct result *)b)->events_per_sec;

	return (x > y) - (x < y);
}

/* The target column and the verdict, counted. */
static const char *judge(const struct row *row, double events_per_sec)
{
	if (!row->targeted)
		return "-              -";
	if (events_per_sec >= TARGET_EVENTS_PER_SEC) {
		targets_met++;
		return ">= 2,000,000   met";
	}
	targets_short++;
	return ">= 2,000,000   SHORT";
}

static int print_row(const struct row *row, uint64_t events, unsigned runs)
{
	struct result res[MAX_RUNS] = { { 0 } }, *med;
	int r = 0;

	for (unsigned i = 0; i < runs && r == 0; i++)
		r = measure(row, events / row->events_divisor, &res[i]);
	if (r < 0)
		return r;
	qsort(res, runs, sizeof(res[0]), by_rate);
	med = &res[runs / 2];
	printf("%-18s %6u %9llu %4u%% %10.0f %8.1f %8.2f %8.2f %9.2f %8llu %6llu  %-8s  %s\n",
	       row->name, row->ports, (unsigned long long)med->events, row->fail_percent,
	       med->events_per_sec, 1e9 / med->events_per_sec, med->p50_ns / 1e3, med->p99_ns / 1e3,
	       med->max_ns / 1e3, (unsigned long long)med->retried, (unsigned long long)med->failed,
	       med->state, judge(row, med->events_per_sec));
	fflush(stdout);
	return 0;
}

static const struct row rows[] = {
	{ "mirror -> memory", MIRROR, &memory_store, 64, 1, 0, true },
	{ "mirror -> memory", MIRROR, &memory_store, 512, 1, 0, true },
	{ "mirror -> memory", MIRROR, &memory_store, 4096, 1, 0, true },
	{ "portsync -> memory", PORTSYNC, &memory_store, 64, 1, 0, true },
	{ "portsync -> memory", PORTSYNC, &memory_store, 512, 1, 0, true },
	{ "portsync -> memory", PORTSYNC, &memory_store, 4096, 1, 0, true },
#ifdef PSYNC_BENCH_HAVE_REDIS
	{ "portsync -> redis", PORTSYNC, &redis_store, 512, 4, 0, false },
#endif
	{ "portsync -> memory", PORTSYNC, &memory_store, 512, 10, 5, false },
};

int main(int argc, char **argv)
{
	unsigned long long events = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	unsigned runs = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1;
	int r = 0;

	if (events < 10 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench-pipeline [EVENTS (>= 10) [RUNS (1..%d)]]\n",
			MAX_RUNS);
		return 1;
	}
#ifdef PSYNC_BENCH_HAVE_REDIS
	r = redis_server_start(&server, NULL);
#endif
	printf("replay -> policy -> sink (%s), median of %u run%s\n", psync_version(), runs,
	       runs > 1 ? "s" : "");
	printf("%-18s %6s %9s %5s %10s %8s %8s %8s %9s %8s %6s  %-8s  %-13s  %s\n", "pipeline",
	       "ports", "events", "fail", "events/s", "ns/event", "p50 us", "p99 us", "max us",
	       "retried", "failed", "state", "target here", "vs target");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && r == 0; i++)
		r = print_row(&rows[i], events, runs);
#ifdef PSYNC_BENCH_HAVE_REDIS
	redis_server_stop(&server);
#endif
	printf("targets: %u met, %u short\n", targets_met, targets_short);
	if (r < 0)
		fprintf(stderr, "bench-pipeline: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
