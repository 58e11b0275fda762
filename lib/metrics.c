/* SPDX-License-Identifier: Apache-2.0 */
/* Counters, rates and health of a pipeline. */
#include <stdio.h>
#include <stdlib.h>

#include "metrics_state.h"

void psync__metrics_init(struct psync__metrics *m, uint64_t now, uint64_t window_ns,
			 uint64_t health_window_ns)
{
	memset(m, 0, sizeof(*m));
	m->start_ns = now;
	m->recent_half_ns = health_window_ns / 2 ? health_window_ns / 2 : 1;
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
	uint64_t epoch = now / m->recent_half_ns, v = now > origin_ns ? now - origin_ns : 0;
	unsigned half = (unsigned)(epoch % 2);

	m->writes_acked++;
	psync__rate_add(&m->ack_rate, now, 1);
	if (!origin_ns)
		return;
	psync_histogram_record(&m->latency, v);
	if (m->recent_epoch[half] != epoch) {
		psync_histogram_reset(&m->recent[half]);
		m->recent_epoch[half] = epoch;
	}
	psync_histogram_record(&m->recent[half], v);
}

/* p99 of what was acknowledged in the health window (the current half and the
 * one before it): one bad minute does not degrade health for good. */
static uint64_t recent_p99(const struct psync__metrics *m, uint64_t now)
{
	uint64_t epoch = now / m->recent_half_ns;
	struct psync_histogram *h = calloc(1, sizeof(*h));
	uint64_t p99;

	if (!h)
		return 0;
	for (unsigned i = 0; i < 2; i++)
		if (m->recent_epoch[i] + 1 >= epoch && m->recent_epoch[i] <= epoch)
			psync_histogram_merge(h, &m->recent[i]);
	p99 = psync_histogram_quantile(h, 0.99);
	free(h);
	return p99;
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

#define REASON(out, ...) snprintf((out)->health_reason, sizeof((out)->health_reason), __VA_ARGS__)

/* Unhealthy: the store does not take writes now. */
static int judge_store(const struct psync__metrics_extra *x, uint64_t now, struct psync_metrics *out)
{
	const struct psync_sink_status *st = x->sink;

	if (st && !st->connected) {
		REASON(out, "sink disconnected%s%s", st->reason[0] ? ": " : "", st->reason);
		return 1;
	}
	if (out->sink_stalled_ns) {
		REASON(out, "sink not answering for %llu s",
		       (unsigned long long)(out->sink_stalled_ns / PSYNC__NS_PER_SEC));
		return 1;
	}
	if (x->refused_since_ns) {
		REASON(out, "sink refusing writes for %llu s: %.256s",
		       (unsigned long long)((now - x->refused_since_ns) / PSYNC__NS_PER_SEC),
		       out->last_error);
		return 1;
	}
	return 0;
}

/* The queue holds at most one write per key: half of them waiting is a lot. */
static uint64_t queue_limit(const struct psync__health_limits *lim, const struct psync__metrics_extra *x)
{
	uint64_t half = x->keys_tracked / 2;

	if (lim->queue_degraded)
		return lim->queue_degraded;
	return half > 64 ? half : 64;
}

/* The worst condition wins; its reason is the one reported. */
static void judge_health(const struct psync__metrics *m, const struct psync__metrics_extra *x,
			 const struct psync__health_limits *lim, uint64_t now, struct psync_metrics *out)
{
	out->health = PSYNC_HEALTH_HEALTHY;
	out->health_reason[0] = '\0';
	if (judge_store(x, now, out)) {
		out->health = PSYNC_HEALTH_UNHEALTHY;
		return;
	}
	out->health = PSYNC_HEALTH_DEGRADED;
	if (m->overrun_pending || (m->last_overrun_ns && lim->overrun_degraded_ns &&
				   now - m->last_overrun_ns < lim->overrun_degraded_ns))
		REASON(out, m->overrun_pending ? "source overrun, resync in progress"
					       : "recent source overrun");
	else if (x->queue_depth > queue_limit(lim, x))
		REASON(out, "backlog of %llu writes", (unsigned long long)x->queue_depth);
	else if (lim->p99_degraded_ns && out->recent_p99_ns > lim->p99_degraded_ns)
		REASON(out, "p99 latency %llu us", (unsigned long long)(out->recent_p99_ns / 1000));
	else
		out->health = PSYNC_HEALTH_HEALTHY;
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
	out->store_resets = m->store_resets;
	out->writes_dropped = m->writes_dropped;
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
	out->recent_p99_ns = recent_p99(m, now);
	out->sink_down_ns = x->sink ? x->sink->down_ns : 0;
	out->sink_stalled_ns = x->sink ? x->sink->stalled_ns : 0;
	out->refusing_ns = x->refused_since_ns ? now - x->refused_since_ns : 0;
	judge_health(m, x, limits, now, out);
}
