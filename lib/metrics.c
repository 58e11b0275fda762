/* SPDX-License-Identifier: Apache-2.0 */
/* Counters, rates and health of a pipeline. */
#include <stdio.h>

#include "metrics_state.h"

void psync__metrics_init(struct psync__metrics *m, uint64_t now, uint64_t window_ns)
{
	memset(m, 0, sizeof(*m));
	m->start_ns = now;
	m->event_rate.slot_ns = window_ns / PSYNC__RATE_SLOTS ? window_ns / PSYNC__RATE_SLOTS : 1;
	m->ack_rate.slot_ns = m->event_rate.slot_ns;
}

void psync__rate_add(struct psync__rate *r, uint64_t now, uint64_t n)
{
	uint64_t epoch = now / r->slot_ns;
	unsigned i = (unsigned)(epoch % PSYNC__RATE_SLOTS);

	if (r->epoch[i] != epoch) {
		r->epoch[i] = epoch;
		r->count[i] = 0;
	}
	r->count[i] += n;
}

double psync__rate_per_sec(const struct psync__rate *r, uint64_t now, uint64_t start_ns)
{
	uint64_t epoch = now / r->slot_ns, total = 0, span;

	for (unsigned i = 0; i < PSYNC__RATE_SLOTS; i++)
		if (r->epoch[i] + PSYNC__RATE_SLOTS > epoch && r->epoch[i] <= epoch)
			total += r->count[i];
	/* The window covers the current partial slot plus the full ones before it,
	 * but never reaches back before the pipeline existed. */
	span = (PSYNC__RATE_SLOTS - 1) * r->slot_ns + now % r->slot_ns;
	if (now - start_ns < span)
		span = now - start_ns;
	return span ? (double)total * (double)PSYNC__NS_PER_SEC / (double)span : 0.0;
}

void psync__metrics_record_ack(struct psync__metrics *m, uint64_t origin_ns, uint64_t now)
{
	m->writes_acked++;
	psync__rate_add(&m->ack_rate, now, 1);
	if (origin_ns)
		psync_histogram_record(&m->latency, now > origin_ns ? now - origin_ns : 0);
}

void psync__metrics_set_error(struct psync__metrics *m, const char *what, int status,
			      const char *reason)
{
	snprintf(m->last_error, sizeof(m->last_error), "%s: %s", what,
		 reason && *reason ? reason : strerror(-status));
}

PSYNC_API const char *psync_health_to_string(enum psync_health health)
{
	switch (health) {
	case PSYNC_HEALTH_HEALTHY:
		return "healthy";
	case PSYNC_HEALTH_DEGRADED:
		return "degraded";
	case PSYNC_HEALTH_UNHEALTHY:
		return "unhealthy";
	}
	return "unknown";
}

/* The worst condition wins; its reason is the one reported. */
static void judge_health(const struct psync__metrics *m, const struct psync__metrics_extra *x,
			 const struct psync__health_limits *lim, uint64_t now, struct psync_metrics *out)
{
	out->health = PSYNC_HEALTH_HEALTHY;
	out->health_reason[0] = '\0';
	if (x->sink && !x->sink->connected) {
		out->health = PSYNC_HEALTH_UNHEALTHY;
		snprintf(out->health_reason, sizeof(out->health_reason), "sink disconnected%s%s",
			 x->sink->reason[0] ? ": " : "", x->sink->reason);
	} else if (m->overrun_pending || (m->last_overrun_ns && lim->overrun_degraded_ns &&
					  now - m->last_overrun_ns < lim->overrun_degraded_ns)) {
		out->health = PSYNC_HEALTH_DEGRADED;
		snprintf(out->health_reason, sizeof(out->health_reason),
			 m->overrun_pending ? "source overrun, resync in progress" : "recent source overrun");
	} else if (lim->queue_degraded && x->queue_depth > lim->queue_degraded) {
		out->health = PSYNC_HEALTH_DEGRADED;
		snprintf(out->health_reason, sizeof(out->health_reason), "backlog of %llu writes",
			 (unsigned long long)x->queue_depth);
	} else if (lim->p99_degraded_ns && out->latency_p99_ns > lim->p99_degraded_ns) {
		out->health = PSYNC_HEALTH_DEGRADED;
		snprintf(out->health_reason, sizeof(out->health_reason), "p99 latency %llu us",
			 (unsigned long long)(out->latency_p99_ns / 1000));
	}
}

static void summarise_latency(const struct psync_histogram *h, struct psync_metrics *out)
{
	out->latency = *h;
	out->latency_count = h->count;
	out->latency_min_ns = h->min;
	out->latency_mean_ns = h->count ? h->sum / h->count : 0;
	out->latency_p50_ns = psync_histogram_quantile(h, 0.50);
	out->latency_p90_ns = psync_histogram_quantile(h, 0.90);
	out->latency_p99_ns = psync_histogram_quantile(h, 0.99);
	out->latency_p999_ns = psync_histogram_quantile(h, 0.999);
	out->latency_max_ns = h->max;
}

void psync__metrics_summarise(const struct psync__metrics *m, const struct psync__metrics_extra *x,
			      const struct psync__health_limits *limits, uint64_t now,
			      struct psync_metrics *out)
{
	memset(out, 0, sizeof(*out));
	out->sz = sizeof(*out);
	out->events_received = m->events_received;
	out->events_ignored = m->events_ignored;
	out->overruns = m->overruns;
	out->resyncs = m->resyncs;
	out->dumps = m->dumps;
	out->writes_submitted = m->writes_submitted;
	out->writes_acked = m->writes_acked;
	out->writes_failed = m->writes_failed;
	out->writes_retried = m->writes_retried;
	out->writes_coalesced = m->writes_coalesced;
	out->reads = m->reads;
	out->queue_depth = x->queue_depth;
	out->in_flight = x->in_flight;
	out->keys_tracked = x->keys_tracked;
	out->events_per_sec = psync__rate_per_sec(&m->event_rate, now, m->start_ns);
	out->acks_per_sec = psync__rate_per_sec(&m->ack_rate, now, m->start_ns);
	out->uptime_ns = now - m->start_ns;
	out->reconnects = x->sink ? x->sink->reconnects : 0;
	out->sink_connected = x->sink ? x->sink->connected : 1;
	psync__strlcpy(out->last_error, m->last_error, sizeof(out->last_error));
	summarise_latency(&m->latency, out);
	judge_health(m, x, limits, now, out);
}
