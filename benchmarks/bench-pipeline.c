/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's own cost: generated events -> mirror policy -> memory sink,
 * with no kernel and no Redis. Prints events/s and ns per event for several
 * port counts and event counts, plus the receipt->ack latency the pipeline
 * measured.
 *
 *   bench-pipeline [EVENTS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <portsync/portsync.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_once(unsigned ports, unsigned long long events, unsigned fail_percent)
{
	struct psync_replay_generator gen = { .sz = sizeof(gen), .n_ports = ports,
					      .n_events = events, .seed = 7 };
	struct psync_memory_sink_options mopts = { .sz = sizeof(mopts), .fail_percent = fail_percent,
						   .seed = 11 };
	struct psync_pipeline_options popts = { .sz = sizeof(popts), .retry_min_ns = 1000 };
	struct psync_metrics m = { .sz = sizeof(m) };
	struct psync_source *src = NULL;
	struct psync_policy *pol = NULL;
	struct psync_sink *sink = NULL;
	struct psync_pipeline *p = NULL;
	double t0, dt;
	int r;

	r = psync_replay_source_new_generator(&gen, &src);
	if (r == 0)
		r = psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &pol);
	if (r == 0)
		r = psync_memory_sink_new(&mopts, &sink);
	if (r == 0)
		r = psync_pipeline_new(src, pol, sink, &popts, &p);
	if (r < 0) {
		psync_source_free(src);
		psync_policy_free(pol);
		psync_sink_free(sink);
		return r;
	}
	t0 = now_s();
	r = psync_pipeline_start(p);
	if (r == 0)
		r = psync_pipeline_run(p, -1);
	dt = now_s() - t0;
	psync_pipeline_get_metrics(p, &m);
	printf("%7u %10llu %7u%% %12.0f %9.1f %9.2f %9.2f %9.2f %9llu %9llu\n", ports,
	       (unsigned long long)m.events_received, fail_percent, (double)m.events_received / dt,
	       dt * 1e9 / (double)m.events_received, m.latency_p50_ns / 1e3, m.latency_p99_ns / 1e3,
	       m.latency_max_ns / 1e3, (unsigned long long)m.writes_retried,
	       (unsigned long long)m.writes_failed);
	psync_pipeline_free(p);
	return r;
}

int main(int argc, char **argv)
{
	unsigned long long events = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	static const unsigned ports[] = { 64, 512, 4096 };
	int r = 0;

	printf("replay -> mirror policy -> memory sink (%s)\n", psync_version());
	printf("%7s %10s %8s %12s %9s %9s %9s %9s %9s %9s\n", "ports", "events", "failing",
	       "events/s", "ns/event", "p50 us", "p99 us", "max us", "retried", "failed");
	for (unsigned i = 0; i < 3 && r == 0; i++)
		r = run_once(ports[i], events, 0);
	for (unsigned i = 0; i < 3 && r == 0; i++)
		r = run_once(512, events / 100 * (i == 0 ? 1 : i == 1 ? 10 : 100), 0);
	if (r == 0)
		r = run_once(512, events / 10, 5);
	if (r < 0)
		fprintf(stderr, "bench-pipeline: %d\n", r);
	return r < 0 ? 1 : 0;
}
