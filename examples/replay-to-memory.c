/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest complete pipeline: generated link events -> the ready-made
 * mirror policy -> the in-process memory sink, then the metrics.
 *
 *   replay-to-memory [PORTS [EVENTS]]
 *   replay-to-memory --file RECORDING.jsonl
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <portsync/portsync.h>

static int make_source(int argc, char **argv, struct psync_source **ret)
{
	struct psync_replay_generator gen = {
		.sz = sizeof(gen),
		.n_ports = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 32,
		.n_events = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000,
		.seed = 42,
	};
	char err[256] = "";
	int r;

	if (argc > 2 && strcmp(argv[1], "--file") == 0) {
		r = psync_replay_source_new_from_file(argv[2], err, sizeof(err), ret);
		if (r < 0)
			fprintf(stderr, "replay-to-memory: %s\n", err[0] ? err : strerror(-r));
		return r;
	}
	r = psync_replay_source_new_generator(&gen, ret);
	if (r < 0)
		fprintf(stderr, "replay-to-memory: bad generator settings: %s\n", strerror(-r));
	return r;
}

static void print_metrics(struct psync_pipeline *p, struct psync_sink *sink)
{
	struct psync_metrics m = { .sz = sizeof(m) };

	psync_pipeline_get_metrics(p, &m);
	printf("events received   %llu (ignored %llu)\n", (unsigned long long)m.events_received,
	       (unsigned long long)m.events_ignored);
	printf("writes            %llu submitted, %llu acked, %llu failed, %llu coalesced\n",
	       (unsigned long long)m.writes_submitted, (unsigned long long)m.writes_acked,
	       (unsigned long long)m.writes_failed, (unsigned long long)m.writes_coalesced);
	printf("keys in STATE_DB  %zu\n", psync_memory_sink_count_keys(sink, "STATE_DB"));
	printf("latency (us)      p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
	       m.latency_p50_ns / 1e3, m.latency_p90_ns / 1e3, m.latency_p99_ns / 1e3,
	       m.latency_p999_ns / 1e3, m.latency_max_ns / 1e3);
	printf("throughput        %.0f events/s over the last window\n", m.events_per_sec);
	printf("health            %s%s%s\n", psync_health_to_string(m.health),
	       m.health_reason[0] ? ": " : "", m.health_reason);
}

int main(int argc, char **argv)
{
	struct psync_source *source = NULL;
	struct psync_policy *policy = NULL;
	struct psync_sink *sink = NULL;
	struct psync_pipeline *p = NULL;
	int r;

	r = make_source(argc, argv, &source);
	if (r == 0)
		r = psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &policy);
	if (r == 0)
		r = psync_memory_sink_new(NULL, &sink);
	if (r == 0)
		r = psync_pipeline_new(source, policy, sink, NULL, &p);
	if (r < 0) {
		fprintf(stderr, "replay-to-memory: setting up: %s\n", strerror(-r));
		psync_source_free(source);
		psync_policy_free(policy);
		psync_sink_free(sink);
		return 1;
	}
	printf("libportsync %s: replay -> mirror policy -> memory sink\n", psync_version());
	r = psync_pipeline_start(p);
	if (r == 0)
		r = psync_pipeline_run(p, 60000);
	if (r < 0)
		fprintf(stderr, "replay-to-memory: %s\n", strerror(-r));
	print_metrics(p, sink);
	psync_pipeline_free(p);
	return r < 0 ? 1 : 0;
}
