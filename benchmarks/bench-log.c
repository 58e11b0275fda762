/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What portsyncd's per-event NOTICE lines ("Publish Ethernet0(ok:up) to state
 * db") cost, through the daemon's own log code (daemon/log.c) and the
 * portsync policy, without a kernel or Redis: the replay generator (512 ports
 * flapping) -> portsync policy -> memory sink. Rows, run side by side in
 * alternation, RUNS times each; the table shows each row's median:
 *
 *   no log hook        the policy has no log callback: the floor
 *   ERROR              LOGLEVEL ERROR: every NOTICE line dropped by the level
 *   NOTICE, limited    LOGLEVEL NOTICE with the default rate limit (1000/s,
 *                      burst 5000): the lines past the burst are counted
 *   NOTICE, unlimited  [log] rate_limit = 0: every line formatted and written
 *                      (to stderr, here /dev/null)
 *
 * ns/event is wall time per link event; "vs ERROR" is the row's ns/event over
 * the ERROR row's, from the same alternation.
 *
 *   bench-log [EVENTS [RUNS]]      (500000 events, 5 runs)
 *
 * Figures only mean something from a release build (-Dbuildtype=release).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <portsync/portsync.h>

#include "harness/clock.h"
#include "log.h"

#define PORTS 512
#define MAX_RUNS 15

struct row {
	const char *name;
	int hook;       /* the daemon's log callbacks given to the policy */
	int level;
	unsigned rate;  /* [log] rate_limit; 0: unlimited */
	double ns[MAX_RUNS];
};

static struct row rows[] = {
	{ "no log hook", 0, LOG_NOTICE, 0, { 0 } },
	{ "ERROR", 1, LOG_ERR, 1000, { 0 } },
	{ "NOTICE, limited", 1, LOG_NOTICE, 1000, { 0 } },
	{ "NOTICE, unlimited", 1, LOG_NOTICE, 0, { 0 } },
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static int seed_ports(struct psync_sink *sink)
{
	struct psync_field f[2] = { { "lanes", "0,1,2,3" }, { "speed", "100000" } };
	char key[48];
	int r = 0;

	for (unsigned i = 0; i < PORTS && r == 0; i++) {
		snprintf(key, sizeof(key), "PORT|Ethernet%u", 4 * i);
		r = psync_memory_sink_seed(sink, "CONFIG_DB", key, f, 2);
	}
	return r;
}

static int build(const struct row *row, uint64_t events, struct psync_pipeline **ret)
{
	struct psync_replay_generator gen = { .sz = sizeof(gen), .n_ports = PORTS,
					      .n_events = events, .seed = 7 };
	struct psync_memory_sink_options mo = { .sz = sizeof(mo) };
	struct psync_portsync_options po = { .sz = sizeof(po) };
	struct psync_source *src = NULL;
	struct psync_policy *pol = NULL;
	struct psync_sink *sink = NULL;
	int r;

	if (row->hook) {
		po.log = log_from_library;
		po.log_wanted = log_wanted_by_library;
	}
	r = psync_memory_sink_new(&mo, &sink);
	if (r == 0)
		r = seed_ports(sink);
	if (r == 0)
		r = psync_portsync_policy_new(&po, &pol);
	if (r == 0)
		r = psync_replay_source_new_generator(&gen, &src);
	if (r == 0)
		r = psync_pipeline_new(src, pol, sink, NULL, ret);
	if (r < 0) {
		psync_source_free(src);
		psync_policy_free(pol);
		psync_sink_free(sink);
	}
	return r;
}

/* Start-up, orchagent's consume step, then the timed run. */
static int measure(struct row *row, uint64_t events, unsigned run)
{
	struct psync_metrics m = { .sz = sizeof(m) };
	struct psync_pipeline *p = NULL;
	double t0, dt;
	int r = build(row, events, &p);

	log_open(LOG_TO_STDERR, row->level, row->rate, 5000);
	log_limit(1); /* as in the daemon's loop */
	if (r == 0)
		r = psync_pipeline_start(p);
	if (r == 0)
		r = psync_pipeline_flush(p, 10000);
	if (r == 0)
		r = psync_memory_sink_consume(psync_pipeline_get_sink(p), "APPL_DB", "PORT_TABLE");
	t0 = bench_now_s();
	if (r >= 0)
		r = psync_pipeline_run(p, -1);
	dt = bench_now_s() - t0;
	if (r == 0)
		r = psync_pipeline_get_metrics(p, &m);
	log_close();
	if (r == 0)
		row->ns[run] = dt * 1e9 / (double)m.events_received;
	psync_pipeline_free(p);
	return r;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
	double s[MAX_RUNS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), by_value);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The lines go nowhere, as fast as a file could take them. */
static int quiet_stderr(void)
{
	int saved = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (saved < 0 || null < 0 || dup2(null, 2) < 0)
		return -1;
	close(null);
	return saved;
}

int main(int argc, char **argv)
{
	uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000;
	unsigned runs = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
	double error_ns;
	int saved;

	if (!events || !runs || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench-log [EVENTS [RUNS <= %d]]\n", MAX_RUNS);
		return 2;
	}
	saved = quiet_stderr();
	if (saved < 0) {
		perror("bench-log: /dev/null");
		return 1;
	}
	for (unsigned run = 0; run < runs; run++)
		for (size_t i = 0; i < N_ROWS; i++)
			if (measure(&rows[i], events, run) < 0) {
				dup2(saved, 2);
				fprintf(stderr, "bench-log: row '%s' failed\n", rows[i].name);
				return 1;
			}
	dup2(saved, 2);
	close(saved);
	error_ns = median(rows[1].ns, runs);
	printf("per-event cost of portsyncd's NOTICE lines: %u ports, %llu events, median of %u "
	       "alternating runs\n\n", PORTS, (unsigned long long)events, runs);
	printf("%-20s %10s %9s\n", "log", "ns/event", "vs ERROR");
	for (size_t i = 0; i < N_ROWS; i++) {
		double ns = median(rows[i].ns, runs);

		printf("%-20s %10.0f %8.2fx\n", rows[i].name, ns, ns / error_ns);
	}
	return 0;
}
