/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "summary.h"

void summary_line(const struct psync_metrics *m, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%" PRIu64 " events (%" PRIu64 " ignored), %" PRIu64 " writes acked, %" PRIu64
		 " failed, %" PRIu64 " retried, %" PRIu64 " coalesced; latency p50 %.1f us, p99 %.1f us,"
		 " max %.1f us; %.0f events/s; %" PRIu64 " overruns; %s%s%s",
		 m->events_received, m->events_ignored, m->writes_acked, m->writes_failed,
		 m->writes_retried, m->writes_coalesced, m->latency_p50_ns / 1e3,
		 m->latency_p99_ns / 1e3, m->latency_max_ns / 1e3, m->events_per_sec, m->overruns,
		 psync_health_to_string(m->health), m->health_reason[0] ? ": " : "", m->health_reason);
}

int summary_write_state_db(struct psync_pipeline *p, const struct psync_metrics *m)
{
	char v[9][32];
	struct psync_field f[9] = {
		{ "events", v[0] },        { "writes_acked", v[1] }, { "writes_failed", v[2] },
		{ "overruns", v[3] },      { "latency_p50_us", v[4] }, { "latency_p99_us", v[5] },
		{ "events_per_sec", v[6] }, { "health", v[7] },       { "uptime_s", v[8] },
	};
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = "STATE_DB", .table = SUMMARY_TABLE,
				 .key = SUMMARY_KEY, .fields = f, .n_fields = 9 };

	snprintf(v[0], sizeof(v[0]), "%" PRIu64, m->events_received);
	snprintf(v[1], sizeof(v[1]), "%" PRIu64, m->writes_acked);
	snprintf(v[2], sizeof(v[2]), "%" PRIu64, m->writes_failed);
	snprintf(v[3], sizeof(v[3]), "%" PRIu64, m->overruns);
	snprintf(v[4], sizeof(v[4]), "%.1f", m->latency_p50_ns / 1e3);
	snprintf(v[5], sizeof(v[5]), "%.1f", m->latency_p99_ns / 1e3);
	snprintf(v[6], sizeof(v[6]), "%.0f", m->events_per_sec);
	snprintf(v[7], sizeof(v[7]), "%s", psync_health_to_string(m->health));
	snprintf(v[8], sizeof(v[8]), "%" PRIu64, m->uptime_ns / 1000000000u);
	return psync_pipeline_write(p, &w);
}
