/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics in the Prometheus text exposition format. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define DEFAULT_PREFIX "portsyncd"

/* snprintf semantics across many calls: count everything, store what fits. */
struct out {
	char *buf;
	size_t len;
	size_t need;
};

struct u64_metric {
	const char *name;
	const char *type;
	const char *help;
	size_t offset;
};

#define FIELD(f) offsetof(struct psync_metrics, f)

static const struct u64_metric u64_metrics[] = {
	{ "events_received_total", "counter", "Link events received from the source.",
	  FIELD(events_received) },
	{ "events_ignored_total", "counter", "Link events the policy wrote nothing for.",
	  FIELD(events_ignored) },
	{ "overruns_total", "counter", "Times the source lost events (socket overruns).",
	  FIELD(overruns) },
	{ "resyncs_total", "counter", "Dumps completed to recover from an overrun.",
	  FIELD(resyncs) },
	{ "dumps_total", "counter", "Full dumps completed.", FIELD(dumps) },
	{ "writes_submitted_total", "counter", "Writes accepted from the policy.",
	  FIELD(writes_submitted) },
	{ "writes_acked_total", "counter", "Writes acknowledged (written) by the sink.",
	  FIELD(writes_acked) },
	{ "writes_failed_total", "counter", "Writes given up on.", FIELD(writes_failed) },
	{ "writes_retried_total", "counter", "Writes resubmitted after a transient failure.",
	  FIELD(writes_retried) },
	{ "writes_coalesced_total", "counter", "Writes replaced by a newer write to the same key.",
	  FIELD(writes_coalesced) },
	{ "reconnects_total", "counter", "Reconnections of the sink.", FIELD(reconnects) },
	{ "store_resets_total", "counter",
	  "Times the store came back without its data (Redis restarted empty).",
	  FIELD(store_resets) },
	{ "writes_dropped_total", "counter",
	  "Queued writes dropped because their store was reset and rewritten.",
	  FIELD(writes_dropped) },
	{ "batch_holds_total", "counter",
	  "Times the source was left unpolled for a moment so that a batch of events gathers.",
	  FIELD(batch_holds) },
	{ "queue_depth", "gauge", "Writes waiting in the pipeline for the sink.",
	  FIELD(queue_depth) },
	{ "in_flight", "gauge", "Writes in the sink, not yet acknowledged.", FIELD(in_flight) },
	{ "keys_tracked", "gauge", "Distinct keys the pipeline holds state for.",
	  FIELD(keys_tracked) },
};

/* The le boundaries: Prometheus' usual spread, in ns to compare with buckets. */
static const struct {
	uint64_t ns;
	const char *le;
} le_bounds[] = {
	{ 10000, "1e-05" },	{ 25000, "2.5e-05" },	  { 50000, "5e-05" },
	{ 100000, "0.0001" },	{ 250000, "0.00025" },	  { 500000, "0.0005" },
	{ 1000000, "0.001" },	{ 2500000, "0.0025" },	  { 5000000, "0.005" },
	{ 10000000, "0.01" },	{ 25000000, "0.025" },	  { 50000000, "0.05" },
	{ 100000000, "0.1" },	{ 250000000, "0.25" },	  { 500000000, "0.5" },
	{ 1000000000, "1" },
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	char *at = o->need < o->len ? o->buf + o->need : NULL;
	size_t room = at ? o->len - o->need : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

static void out_head(struct out *o, const char *p, const char *name, const char *type,
		     const char *help)
{
	out_printf(o, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", p, name, help, p, name, type);
}

/* Integer ns as a decimal of a larger unit, exactly: no rounding through double. */
static void out_scaled(struct out *o, uint64_t ns, uint64_t unit, int digits)
{
	out_printf(o, "%llu.%0*llu\n", (unsigned long long)(ns / unit), digits,
		   (unsigned long long)(ns % unit));
}

static void out_double(struct out *o, double v)
{
	if (isnan(v))
		out_printf(o, "NaN\n");
	else if (isinf(v))
		out_printf(o, "%sInf\n", v < 0 ? "-" : "+");
	else
		out_printf(o, "%.17g\n", v);
}

/* Label values escape backslash, double quote and newline, as the format requires. */
static void out_label_value(struct out *o, const char *s, size_t max)
{
	for (const char *end = s + strnlen(s, max); s < end; s++) {
		if (*s == '\\' || *s == '"')
			out_printf(o, "\\%c", *s);
		else if (*s == '\n')
			out_printf(o, "\\n");
		else
			out_printf(o, "%c", *s);
	}
}

/* The latency summary and maximum in one unit. Seconds are the default; the
 * microsecond names predate the lint and stay for dashboards built on them. */
struct latency_unit {
	const char *summary;
	const char *max;
	const char *unit;
	uint64_t ns;
	int digits;
};

static const struct latency_unit latency_seconds = {
	"event_latency_quantiles_seconds", "event_latency_max_seconds", "seconds",
	PSYNC__NS_PER_SEC, 9,
};

static const struct latency_unit latency_legacy_us = {
	"event_latency_us", "event_latency_max_us", "microseconds", 1000, 3,
};

static void format_summary(struct out *o, const char *p, const struct psync_metrics *m,
			   const struct latency_unit *u)
{
	static const char *const q[] = { "0.5", "0.9", "0.99", "0.999" };
	const uint64_t v[] = { m->latency_p50_ns, m->latency_p90_ns, m->latency_p99_ns,
			       m->latency_p999_ns };

	out_printf(o, "# HELP %s_%s Latency from an event's receipt to the sink's "
		   "acknowledgement since start, in %s.\n# TYPE %s_%s summary\n",
		   p, u->summary, u->unit, p, u->summary);
	for (size_t i = 0; i < 4; i++) {
		out_printf(o, "%s_%s{quantile=\"%s\"} ", p, u->summary, q[i]);
		/* No observations: NaN, as Prometheus clients report empty summaries. */
		if (m->latency.count)
			out_scaled(o, v[i], u->ns, u->digits);
		else
			out_printf(o, "NaN\n");
	}
	out_printf(o, "%s_%s_sum ", p, u->summary);
	out_scaled(o, m->latency.sum, u->ns, u->digits);
	out_printf(o, "%s_%s_count %llu\n", p, u->summary,
		   (unsigned long long)m->latency.count);
	out_printf(o, "# HELP %s_%s The largest latency observed, in %s.\n# TYPE %s_%s gauge\n",
		   p, u->max, u->unit, p, u->max);
	out_printf(o, "%s_%s ", p, u->max);
	out_scaled(o, m->latency_max_ns, u->ns, u->digits);
}

static void format_histogram(struct out *o, const char *p, const struct psync_histogram *h)
{
	uint64_t below = 0;
	unsigned i = 0;
	const char *name = "event_latency_seconds";

	out_head(o, p, name, "histogram",
		 "Latency from an event's receipt to the sink's acknowledgement, in seconds.");
	for (size_t b = 0; b < sizeof(le_bounds) / sizeof(le_bounds[0]); b++) {
		uint64_t le = le_bounds[b].ns;

		for (; i < PSYNC_HISTOGRAM_BUCKETS && psync_histogram_bucket_upper(i) <= le; i++)
			below += h->buckets[i];
		out_printf(o, "%s_%s_bucket{le=\"%s\"} %llu\n", p, name, le_bounds[b].le,
			   (unsigned long long)below);
	}
	out_printf(o, "%s_%s_bucket{le=\"+Inf\"} %llu\n", p, name, (unsigned long long)h->count);
	out_printf(o, "%s_%s_sum ", p, name);
	out_scaled(o, h->sum, PSYNC__NS_PER_SEC, 9);
	out_printf(o, "%s_%s_count %llu\n", p, name, (unsigned long long)h->count);
}

/* Events per read of the source: how much batching gathers, and for how long. */
static void format_batches(struct out *o, const char *p, const struct psync_metrics *m)
{
	uint64_t below = 0;

	out_head(o, p, "batch_events", "histogram",
		 "Events per read of the source that found any (a batch).");
	for (unsigned i = 0; i + 1 < PSYNC_BATCH_BUCKETS; i++) {
		below += m->batch_sizes[i];
		out_printf(o, "%s_batch_events_bucket{le=\"%u\"} %llu\n", p, 1U << i,
			   (unsigned long long)below);
	}
	out_printf(o, "%s_batch_events_bucket{le=\"+Inf\"} %llu\n", p,
		   (unsigned long long)m->batches);
	out_printf(o, "%s_batch_events_sum %llu\n", p, (unsigned long long)m->batch_events);
	out_printf(o, "%s_batch_events_count %llu\n", p, (unsigned long long)m->batches);
	out_head(o, p, "batch_held_seconds_total", "counter",
		 "Time events gathered while the source was left unpolled, in seconds.");
	out_printf(o, "%s_batch_held_seconds_total ", p);
	out_scaled(o, m->batch_held_ns, PSYNC__NS_PER_SEC, 9);
	out_head(o, p, "batching", "gauge", "1 while a batch of events is gathering, else 0.");
	out_printf(o, "%s_batching %d\n", p, m->batching ? 1 : 0);
}

static void format_health(struct out *o, const char *p, const struct psync_metrics *m)
{
	out_head(o, p, "health_status", "gauge", "1 healthy, 2 degraded, 3 unhealthy.");
	out_printf(o, "%s_health_status %d\n", p, (int)m->health);
	out_head(o, p, "health_reason", "gauge",
		 "Why the pipeline is not healthy; empty when it is.");
	out_printf(o, "%s_health_reason{reason=\"", p);
	out_label_value(o, m->health_reason, sizeof(m->health_reason));
	out_printf(o, "\"} 1\n");
}

static void format_gauges(struct out *o, const char *p, const struct psync_metrics *m,
			  uint64_t memory_bytes)
{
	out_head(o, p, "events_per_second", "gauge",
		 "Link events per second over the sliding window.");
	out_printf(o, "%s_events_per_second ", p);
	out_double(o, m->events_per_sec);
	if (memory_bytes) {
		out_head(o, p, "memory_bytes", "gauge", "Memory the process uses, in bytes.");
		out_printf(o, "%s_memory_bytes %llu\n", p, (unsigned long long)memory_bytes);
	}
	out_head(o, p, "sink_connected", "gauge", "1 when the sink is connected, else 0.");
	out_printf(o, "%s_sink_connected %d\n", p, m->sink_connected ? 1 : 0);
	out_head(o, p, "uptime_seconds", "gauge", "Seconds since the pipeline was created.");
	out_printf(o, "%s_uptime_seconds ", p);
	out_scaled(o, m->uptime_ns, PSYNC__NS_PER_SEC, 9);
}

static void format_u64s(struct out *o, const char *p, const struct psync_metrics *m)
{
	for (size_t i = 0; i < sizeof(u64_metrics) / sizeof(u64_metrics[0]); i++) {
		const struct u64_metric *d = &u64_metrics[i];
		uint64_t v;

		memcpy(&v, (const char *)m + d->offset, sizeof(v));
		out_head(o, p, d->name, d->type, d->help);
		out_printf(o, "%s_%s %llu\n", p, d->name, (unsigned long long)v);
	}
}

/* The names before the page followed Prometheus' naming rules, on request. */
static void format_legacy(struct out *o, const char *p, const struct psync_metrics *m)
{
	format_summary(o, p, m, &latency_legacy_us);
	out_head(o, p, "throughput_eps", "gauge",
		 "Link events per second over the sliding window (old name).");
	out_printf(o, "%s_throughput_eps ", p);
	out_double(o, m->events_per_sec);
}

static int valid_prefix(const char *p)
{
	if (!*p || (*p >= '0' && *p <= '9'))
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

static int read_options(const struct psync_prometheus_options *opts, const char **prefix,
			uint64_t *memory_bytes, int *legacy_names)
{
	*prefix = DEFAULT_PREFIX;
	*memory_bytes = 0;
	*legacy_names = 0;
	if (!opts)
		return 0;
	if (opts->sz < sizeof(opts->sz))
		return -EINVAL;
	if (psync__has_member(opts->sz, struct psync_prometheus_options, prefix) && opts->prefix)
		*prefix = opts->prefix;
	if (psync__has_member(opts->sz, struct psync_prometheus_options, memory_bytes))
		*memory_bytes = opts->memory_bytes;
	if (psync__has_member(opts->sz, struct psync_prometheus_options, legacy_names))
		*legacy_names = opts->legacy_names;
	return valid_prefix(*prefix) ? 0 : -EINVAL;
}

PSYNC_API int psync_metrics_format_prometheus(const struct psync_metrics *m,
					      const struct psync_prometheus_options *opts,
					      char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	uint64_t memory_bytes;
	int legacy_names;
	const char *p;

	if (!m || m->sz < sizeof(*m) || (!buf && len))
		return -EINVAL;
	if (read_options(opts, &p, &memory_bytes, &legacy_names) < 0)
		return -EINVAL;
	if (len)
		buf[0] = '\0';
	format_histogram(&o, p, &m->latency);
	format_summary(&o, p, m, &latency_seconds);
	format_gauges(&o, p, m, memory_bytes);
	format_health(&o, p, m);
	format_u64s(&o, p, m);
	format_batches(&o, p, m);
	if (legacy_names)
		format_legacy(&o, p, m);
	return o.need > INT_MAX ? -EOVERFLOW : (int)o.need;
}
