/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis sink against a local redis-server it starts (unix socket, no
 * persistence). Events from a synthetic source go through a policy writing one
 * write per event, the pipeline and the Redis sink, as in portsyncd:
 *
 *   - blocking: one redisCommand round trip per HSET, the C++ daemon's way,
 *     back to back and paced at 1000/s: what the machine itself allows;
 *   - pipelined: as fast as the source can go, distinct keys so nothing is
 *     coalesced; throughput is acknowledged writes per second;
 *   - paced: 1000 writes/s from a timerfd; latency from the event's receipt to
 *     the write's acknowledgement, from the pipeline's psync_histogram.
 *
 * Writes the pipeline replaced with newer ones to the same key before they
 * were sent are counted as coalesced, not as written.
 *
 *   bench-redis [PIPELINED_WRITES [PACED_SECONDS [pin]]]
 *
 * pin: client on cpu 0, server on cpu 1 (steadier throughput on an idle
 * machine; worse latency on a busy one, where the scheduler would move them).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <portsync/portsync.h>
#include <portsync/redis.h>

#include "harness/clock.h"
#include "helpers/redis_server.h"

#define KEYS 100000

static int pinned;

/* Throughput swings by a factor of five with where the scheduler puts the two
 * processes; pinning keeps them on two cores. */
static void pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	if (!pinned || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(pid, sizeof(set), &set);
}

/* ---- a source: NEWLINKs for ifindex 1..KEYS in turn, free-running or paced ---- */

struct bench_source {
	uint64_t emitted, limit;
	int timer_fd; /* -1: emit as fast as dispatched */
};

static unsigned ready_ticks(struct bench_source *b, unsigned budget)
{
	uint64_t ticks = 0;

	if (b->timer_fd < 0)
		return budget;
	if (read(b->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return 0;
	return ticks < budget ? (unsigned)ticks : budget;
}

static int bench_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	struct bench_source *b = impl;
	unsigned n = ready_ticks(b, budget), i;

	for (i = 0; i < n && b->emitted < b->limit; i++, b->emitted++) {
		struct psync_link_event ev = { .type = PSYNC_EVENT_NEWLINK,
					       .ifindex = (uint32_t)(b->emitted % KEYS) + 1,
					       .flags = 0x41, .mtu = 9100, .recv_ns = bench_now_ns() };
		int r = emit(&ev, userdata);

		if (r < 0)
			return r;
	}
	return (int)i;
}

static int bench_get_fd(void *impl)
{
	struct bench_source *b = impl;

	return b->timer_fd >= 0 ? b->timer_fd : -1;
}

static int bench_finished(void *impl)
{
	struct bench_source *b = impl;

	return b->emitted >= b->limit;
}

static const struct psync_source_ops bench_source_ops = {
	.sz = sizeof(bench_source_ops), .name = "bench", .dispatch = bench_dispatch,
	.get_fd = bench_get_fd, .is_finished = bench_finished,
};

/* ---- a policy: portsyncd's STATE_DB write, or a ProducerStateTable set ---- */

static int bench_on_event(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev)
{
	const int *producer = impl;
	char key[16];
	struct psync_field f[] = { { "state", "ok" }, { "netdev_oper_status", "up" },
				   { "admin_status", "up" }, { "mtu", "9100" } };
	struct psync_write w = { .op = *producer ? PSYNC_WRITE_PRODUCER_SET : PSYNC_WRITE_SET,
				 .db = *producer ? "APPL_DB" : "STATE_DB", .table = "PORT_TABLE",
				 .key = key, .fields = f, .n_fields = 4, .origin_ns = ev->recv_ns };

	snprintf(key, sizeof(key), "Ethernet%u", ev->ifindex);
	return psync_pipeline_write(p, &w);
}

static const struct psync_policy_ops bench_policy_ops = {
	.sz = sizeof(bench_policy_ops), .name = "bench", .on_event = bench_on_event,
};

/* ---- one run ---- */

struct run {
	const char *name;
	int producer;
	uint64_t writes;
	unsigned rate; /* 0: free-running */
};

static int make_pipeline(const struct redis_server *srv, struct bench_source *src, int *producer,
			 struct psync_pipeline **ret)
{
	struct psync_redis_options ro = { .sz = sizeof(ro), .address = srv->address };
	struct psync_source *source = NULL;
	struct psync_policy *policy = NULL;
	struct psync_sink *sink = NULL;
	char err[256] = "";
	int r = psync_redis_sink_new(&ro, err, sizeof(err), &sink);

	if (r == 0)
		r = psync_redis_sink_connect(sink, *producer ? "APPL_DB" : "STATE_DB", 5000, err,
					     sizeof(err));
	if (r == 0)
		r = psync_source_new(&bench_source_ops, src, &source);
	if (r == 0)
		r = psync_policy_new(&bench_policy_ops, producer, &policy);
	if (r == 0)
		r = psync_pipeline_new(source, policy, sink, NULL, ret);
	if (r < 0) {
		fprintf(stderr, "bench-redis: %s (%s)\n", err, strerror(-r));
		psync_source_free(source);
		psync_policy_free(policy);
		psync_sink_free(sink);
	}
	return r;
}

static int start_timer(struct bench_source *src, unsigned rate)
{
	struct itimerspec its = { 0 };

	src->timer_fd = -1;
	if (!rate)
		return 0;
	src->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (src->timer_fd < 0)
		return -errno;
	its.it_interval.tv_nsec = 1000000000L / rate;
	its.it_value = its.it_interval;
	return timerfd_settime(src->timer_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void print_row(const struct run *run, const struct psync_metrics *m, double seconds)
{
	const struct psync_histogram *h = &m->latency;

	printf("%-34s %9llu %9llu %7.2f %10.0f %8.1f %8.1f %8.1f %9.1f %6llu\n", run->name,
	       (unsigned long long)m->writes_acked, (unsigned long long)m->writes_coalesced,
	       seconds, (double)m->writes_acked / seconds, psync_histogram_quantile(h, 0.50) / 1e3,
	       psync_histogram_quantile(h, 0.99) / 1e3, psync_histogram_quantile(h, 0.999) / 1e3,
	       (double)h->max / 1e3, (unsigned long long)m->writes_failed);
}

static int run_pipeline(const struct redis_server *srv, const struct run *run)
{
	struct bench_source src = { .limit = run->writes };
	struct psync_metrics m = { .sz = sizeof(m) };
	struct psync_pipeline *p = NULL;
	int producer = run->producer;
	uint64_t t0;
	int r = start_timer(&src, run->rate);

	if (r == 0)
		r = make_pipeline(srv, &src, &producer, &p);
	if (r < 0)
		return r;
	t0 = bench_now_ns();
	r = psync_pipeline_start(p);
	if (r == 0)
		r = psync_pipeline_run(p, -1);
	psync_pipeline_get_metrics(p, &m);
	print_row(run, &m, (double)(bench_now_ns() - t0) / 1e9);
	psync_pipeline_free(p);
	if (src.timer_fd >= 0)
		close(src.timer_fd);
	return r;
}

/* Sleeps until the next multiple of period after *next. */
static void pace(uint64_t *next, uint64_t period)
{
	if (!period)
		return;
	*next += period;
	bench_sleep_until_ns(*next);
}

/* The baseline without the library: one blocking round trip per command,
 * back to back or paced. */
static int run_blocking(const struct redis_server *srv, const struct run *run)
{
	redisContext *c = redis_server_client(srv, 6, NULL);
	struct psync_metrics m = { .sz = sizeof(m) };
	uint64_t t0 = bench_now_ns(), next = t0, period = run->rate ? 1000000000ULL / run->rate : 0;

	if (!c)
		return -ECONNREFUSED;
	for (uint64_t i = 0; i < run->writes; i++) {
		uint64_t s;
		redisReply *reply;

		pace(&next, period);
		s = bench_now_ns();
		reply = redisCommand(c, "HSET PORT_TABLE|Ethernet%llu state ok "
				     "netdev_oper_status up admin_status up mtu 9100",
				     (unsigned long long)(i % KEYS));
		if (!reply)
			break;
		freeReplyObject(reply);
		psync_histogram_record(&m.latency, bench_now_ns() - s);
		m.writes_acked++;
	}
	print_row(run, &m, (double)(bench_now_ns() - t0) / 1e9);
	redisFree(c);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t writes = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	unsigned seconds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10;
	const struct run runs[] = {
		{ "pipelined HSET (STATE_DB)", 0, writes, 0 },
		{ "pipelined producer set (APPL_DB)", 1, writes / 2, 0 },
		{ "paced 1k/s HSET (STATE_DB)", 0, 1000ULL * seconds, 1000 },
		{ "paced 1k/s producer set (APPL_DB)", 1, 1000ULL * seconds, 1000 },
	};
	const struct run blocking[] = {
		{ "no library: blocking HSET", 0, writes / 20, 0 },
		{ "no library: paced 1k/s blocking HSET", 0, 1000ULL * seconds, 1000 },
	};
	struct redis_server srv;
	int r;

	pinned = argc > 3 && strcmp(argv[3], "pin") == 0;
	r = redis_server_start(&srv, NULL);

	if (r < 0) {
		fprintf(stderr, "bench-redis: cannot start redis-server: %s\n", strerror(-r));
		return 1;
	}
	pin(0, 0);
	pin(srv.pid, 1);
	printf("event -> policy -> pipeline -> Redis sink -> redis-server (unix socket), %s\n",
	       psync_version());
	printf("latency: event receipt to acknowledgement, microseconds%s\n",
	       pinned ? "; client on cpu 0, server on cpu 1" : "");
	printf("%-34s %9s %9s %7s %10s %8s %8s %8s %9s %6s\n", "case", "written", "coalesced",
	       "seconds", "writes/s", "p50", "p99", "p99.9", "max", "failed");
	r = run_blocking(&srv, &blocking[0]);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]) && r == 0; i++) {
		if (i % 2 == 0) {
			redis_server_restart(&srv); /* each case starts from an empty server */
			pin(srv.pid, 1);
		}
		r = run_pipeline(&srv, &runs[i]);
	}
	if (r == 0)
		r = run_blocking(&srv, &blocking[1]);
	redis_server_stop(&srv);
	if (r < 0)
		fprintf(stderr, "bench-redis: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
