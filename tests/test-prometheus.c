/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus exposition, parsed back line by line and checked against the struct. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <portsync/portsync.h>

#define MAX_SAMPLES 128
#define BUCKET "portsyncd_event_latency_seconds_bucket"
#define OFF(field) offsetof(struct psync_metrics, field)
#define MAX_FAMILIES 64

struct sample {
	char name[96];
	char labels[512]; /* raw text between the braces, escapes kept */
	double value;
};

struct family {
	char name[96];
	char type[16];
	int has_help;
};

struct exposition {
	struct sample samples[MAX_SAMPLES];
	size_t n_samples;
	struct family families[MAX_FAMILIES];
	size_t n_families;
};

static struct family *family_of(struct exposition *e, const char *name)
{
	for (size_t i = 0; i < e->n_families; i++)
		if (!strcmp(e->families[i].name, name))
			return &e->families[i];
	cr_assert_lt(e->n_families, MAX_FAMILIES);
	snprintf(e->families[e->n_families].name, sizeof(e->families[0].name), "%s", name);
	return &e->families[e->n_families++];
}

static void parse_comment(struct exposition *e, const char *line)
{
	char name[96], rest[16];

	if (sscanf(line, "# HELP %95s", name) == 1) {
		cr_assert_eq(family_of(e, name)->type[0], '\0', "HELP before TYPE: %s", name);
		family_of(e, name)->has_help = 1;
	} else if (sscanf(line, "# TYPE %95s %15s", name, rest) == 2) {
		struct family *f = family_of(e, name);

		cr_assert(f->has_help, "TYPE without HELP first: %s", name);
		memcpy(f->type, rest, sizeof(rest));
	} else {
		cr_assert_fail("unexpected comment: %s", line);
	}
}

/* Returns where the label block ends: the closing brace, skipping escaped quotes. */
static const char *labels_end(const char *s)
{
	int quoted = 0;

	for (; *s; s++) {
		if (quoted && *s == '\\' && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == '}')
			return s;
	}
	cr_assert_fail("unterminated labels");
	return NULL;
}

static void parse_sample(struct exposition *e, const char *line)
{
	struct sample *s = &e->samples[e->n_samples++];
	size_t n = strcspn(line, "{ ");
	const char *at = line + n;
	char *end;

	cr_assert_lt(e->n_samples, MAX_SAMPLES);
	cr_assert_lt(n, sizeof(s->name));
	memcpy(s->name, line, n);
	if (*at == '{') {
		const char *close = labels_end(at + 1);

		cr_assert_lt((size_t)(close - at - 1), sizeof(s->labels));
		memcpy(s->labels, at + 1, (size_t)(close - at - 1));
		at = close + 1;
	}
	cr_assert_eq(*at, ' ', "no value separator: %s", line);
	s->value = strtod(at + 1, &end);
	cr_assert_eq(*end, '\0', "trailing text: %s", line);
}

static void parse(struct exposition *e, char *text)
{
	memset(e, 0, sizeof(*e));
	cr_assert_eq(text[strlen(text) - 1], '\n', "output ends with a newline");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			parse_comment(e, line);
		else
			parse_sample(e, line);
	}
}

static const char *const suffixes[] = { "_bucket", "_sum", "_count" };

/* The family a sample belongs to: its name, or without a histogram/summary suffix. */
static struct family *family_of_sample(struct exposition *e, const char *name)
{
	for (size_t i = 0; i < e->n_families; i++)
		if (!strcmp(e->families[i].name, name))
			return &e->families[i];
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(suffixes[i]);

		if (n <= k || strcmp(name + n - k, suffixes[i]))
			continue;
		for (size_t j = 0; j < e->n_families; j++) {
			const char *f = e->families[j].name;

			if (!strncmp(f, name, n - k) && !f[n - k])
				return &e->families[j];
		}
	}
	return NULL;
}

static double value_of(struct exposition *e, const char *name, const char *labels)
{
	for (size_t i = 0; i < e->n_samples; i++)
		if (!strcmp(e->samples[i].name, name) && !strcmp(e->samples[i].labels, labels))
			return e->samples[i].value;
	cr_assert_fail("no sample %s{%s}", name, labels);
	return NAN;
}

static struct psync_histogram latency_fixture(void)
{
	struct psync_histogram h = { 0 };
	static const uint64_t ns[] = { 3000, 5000, 9000, 10000, 40000, 120000, 700000, 1000000,
				       3000000, 60000000, 900000000, 2000000000, 5000000000ULL };

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		psync_histogram_record(&h, ns[i]);
	return h;
}

static struct psync_metrics metrics_fixture(void)
{
	struct psync_metrics m = { .sz = sizeof(m) };

	m.events_received = 1001;
	m.events_ignored = 7;
	m.overruns = 2;
	m.resyncs = 3;
	m.dumps = 4;
	m.writes_submitted = 990;
	m.writes_acked = 980;
	m.writes_failed = 5;
	m.writes_retried = 11;
	m.writes_coalesced = 13;
	m.reconnects = 17;
	m.queue_depth = 19;
	m.in_flight = 23;
	m.keys_tracked = 29;
	m.events_per_sec = 123.25;
	m.uptime_ns = 3600123456789ULL;
	m.latency = latency_fixture();
	m.latency_p50_ns = psync_histogram_quantile(&m.latency, 0.5);
	m.latency_p90_ns = psync_histogram_quantile(&m.latency, 0.9);
	m.latency_p99_ns = psync_histogram_quantile(&m.latency, 0.99);
	m.latency_p999_ns = psync_histogram_quantile(&m.latency, 0.999);
	m.latency_max_ns = m.latency.max;
	m.health = PSYNC_HEALTH_DEGRADED;
	m.sink_connected = 1;
	snprintf(m.health_reason, sizeof(m.health_reason), "queue backlog 19");
	return m;
}

static char *format(const struct psync_metrics *m, const struct psync_prometheus_options *o)
{
	int n = psync_metrics_format_prometheus(m, o, NULL, 0);
	char *buf;

	cr_assert_gt(n, 0);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(psync_metrics_format_prometheus(m, o, buf, (size_t)n + 1), n);
	cr_assert_eq(strlen(buf), (size_t)n);
	return buf;
}

static struct exposition expo;

static void format_and_parse(const struct psync_metrics *m,
			     const struct psync_prometheus_options *o)
{
	char *text = format(m, o);

	parse(&expo, text);
	free(text);
}

Test(prometheus, every_sample_has_help_and_type)
{
	struct psync_metrics m = metrics_fixture();

	format_and_parse(&m, NULL);
	cr_assert_gt(expo.n_samples, 30);
	for (size_t i = 0; i < expo.n_samples; i++) {
		struct family *f = family_of_sample(&expo, expo.samples[i].name);

		cr_assert_not_null(f, "no family for %s", expo.samples[i].name);
		cr_assert(f->has_help && f->type[0], "%s lacks HELP or TYPE", f->name);
		cr_assert_eq(strncmp(f->name, "portsyncd_", 10), 0, "default prefix: %s", f->name);
	}
}

Test(prometheus, counters_and_gauges_match_the_struct)
{
	struct psync_metrics m = metrics_fixture();
	static const struct {
		const char *name;
		size_t offset;
	} u64s[] = {
		{ "portsyncd_events_received_total", OFF(events_received) },
		{ "portsyncd_events_ignored_total", OFF(events_ignored) },
		{ "portsyncd_overruns_total", OFF(overruns) },
		{ "portsyncd_resyncs_total", OFF(resyncs) },
		{ "portsyncd_dumps_total", OFF(dumps) },
		{ "portsyncd_writes_submitted_total", OFF(writes_submitted) },
		{ "portsyncd_writes_acked_total", OFF(writes_acked) },
		{ "portsyncd_writes_failed_total", OFF(writes_failed) },
		{ "portsyncd_writes_retried_total", OFF(writes_retried) },
		{ "portsyncd_writes_coalesced_total", OFF(writes_coalesced) },
		{ "portsyncd_reconnects_total", OFF(reconnects) },
		{ "portsyncd_queue_depth", OFF(queue_depth) },
		{ "portsyncd_in_flight", OFF(in_flight) },
		{ "portsyncd_keys_tracked", OFF(keys_tracked) },
	};

	format_and_parse(&m, NULL);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		uint64_t want;

		memcpy(&want, (const char *)&m + u64s[i].offset, sizeof(want));
		cr_assert_eq(value_of(&expo, u64s[i].name, ""), (double)want, "%s", u64s[i].name);
		cr_assert_str_eq(family_of(&expo, u64s[i].name)->type,
				 strstr(u64s[i].name, "_total") ? "counter" : "gauge");
	}
	cr_assert_eq(value_of(&expo, "portsyncd_events_per_second", ""), 123.25);
	cr_assert_eq(value_of(&expo, "portsyncd_sink_connected", ""), 1);
	cr_assert_eq(value_of(&expo, "portsyncd_uptime_seconds", ""), 3600.123456789);
	cr_assert_eq(value_of(&expo, "portsyncd_health_status", ""), 2);
	cr_assert_eq(value_of(&expo, "portsyncd_health_reason", "reason=\"queue backlog 19\""), 1);
}

/* The summary's quantiles of both names: seconds by default, microseconds as of old. */
static void check_summary(const struct psync_metrics *m, const char *summary, const char *max,
			  double per_ns)
{
	static const char *const q[] = { "0.5", "0.9", "0.99", "0.999" };
	const uint64_t v[] = { m->latency_p50_ns, m->latency_p90_ns, m->latency_p99_ns,
			       m->latency_p999_ns };
	char sum[96], count[96];

	cr_assert_str_eq(family_of(&expo, summary)->type, "summary");
	for (size_t i = 0; i < 4; i++) {
		char labels[512];

		snprintf(labels, sizeof(labels), "quantile=\"%s\"", q[i]);
		cr_assert_float_eq(value_of(&expo, summary, labels), (double)v[i] * per_ns, 1e-12,
				   "%s %s", summary, q[i]);
	}
	snprintf(sum, sizeof(sum), "%s_sum", summary);
	snprintf(count, sizeof(count), "%s_count", summary);
	cr_assert_float_eq(value_of(&expo, sum, ""), (double)m->latency.sum * per_ns, 1e-9);
	cr_assert_eq(value_of(&expo, count, ""), 13);
	cr_assert_str_eq(family_of(&expo, max)->type, "gauge");
	cr_assert_float_eq(value_of(&expo, max, ""), (double)m->latency_max_ns * per_ns, 1e-12);
}

Test(prometheus, summary_is_in_seconds)
{
	struct psync_metrics m = metrics_fixture();

	format_and_parse(&m, NULL);
	check_summary(&m, "portsyncd_event_latency_quantiles_seconds",
		      "portsyncd_event_latency_max_seconds", 1e-9);
	cr_assert_eq(value_of(&expo, "portsyncd_event_latency_max_seconds", ""), 5);
}

/* Base units, _total only on counters, no unit abbreviations: what promtool lints. */
Test(prometheus, default_names_follow_the_naming_rules)
{
	static const char *const abbreviations[] = { "_us", "_ms", "_ns", "_eps", "_sec", "_s" };
	struct psync_metrics m = metrics_fixture();

	format_and_parse(&m, NULL);
	for (size_t i = 0; i < expo.n_families; i++) {
		const struct family *f = &expo.families[i];
		size_t n = strlen(f->name);

		cr_assert_eq(n > 6 && !strcmp(f->name + n - 6, "_total"),
			     !strcmp(f->type, "counter"), "_total if and only if a counter: %s",
			     f->name);
		for (size_t a = 0; a < sizeof(abbreviations) / sizeof(abbreviations[0]); a++) {
			size_t k = strlen(abbreviations[a]);

			cr_assert(n <= k || strcmp(f->name + n - k, abbreviations[a]),
				  "abbreviated unit: %s", f->name);
		}
	}
}

Test(prometheus, legacy_names_on_request)
{
	struct psync_metrics m = metrics_fixture();
	struct psync_prometheus_options o = { .sz = sizeof(o) };

	format_and_parse(&m, &o);
	cr_assert_null(family_of_sample(&expo, "portsyncd_event_latency_us"), "off by default");
	cr_assert_null(family_of_sample(&expo, "portsyncd_throughput_eps"));
	o.legacy_names = 1;
	format_and_parse(&m, &o);
	check_summary(&m, "portsyncd_event_latency_us", "portsyncd_event_latency_max_us", 1e-3);
	cr_assert_eq(value_of(&expo, "portsyncd_event_latency_max_us", ""), 5000000);
	cr_assert_eq(value_of(&expo, "portsyncd_throughput_eps", ""), 123.25);
	check_summary(&m, "portsyncd_event_latency_quantiles_seconds",
		      "portsyncd_event_latency_max_seconds", 1e-9);
}

Test(prometheus, empty_summary_reports_nan)
{
	struct psync_metrics m = { .sz = sizeof(m), .health = PSYNC_HEALTH_HEALTHY };

	format_and_parse(&m, NULL);
	cr_assert(isnan(value_of(&expo, "portsyncd_event_latency_quantiles_seconds",
				 "quantile=\"0.99\"")));
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"+Inf\""), 0);
	cr_assert_eq(value_of(&expo, "portsyncd_health_reason", "reason=\"\""), 1);
	cr_assert_eq(value_of(&expo, "portsyncd_health_status", ""), 1);
}

/* What the exporter promises: the buckets wholly at or below le, summed. */
static uint64_t buckets_at_or_below(const struct psync_histogram *h, uint64_t le_ns)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < PSYNC_HISTOGRAM_BUCKETS; i++)
		if (psync_histogram_bucket_upper(i) <= le_ns)
			n += h->buckets[i];
	return n;
}

Test(prometheus, histogram_is_cumulative_and_exact)
{
	static const struct {
		const char *le;
		uint64_t ns;
	} les[] = { { "1e-05", 10000 },	      { "2.5e-05", 25000 },   { "5e-05", 50000 },
		    { "0.0001", 100000 },     { "0.00025", 250000 },  { "0.0005", 500000 },
		    { "0.001", 1000000 },     { "0.0025", 2500000 },  { "0.005", 5000000 },
		    { "0.01", 10000000 },     { "0.025", 25000000 },  { "0.05", 50000000 },
		    { "0.1", 100000000 },     { "0.25", 250000000 },  { "0.5", 500000000 },
		    { "1", 1000000000 } };
	struct psync_metrics m = metrics_fixture();
	double prev = 0, count;
	size_t buckets = 0;

	format_and_parse(&m, NULL);
	cr_assert_str_eq(family_of(&expo, "portsyncd_event_latency_seconds")->type, "histogram");
	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		char labels[512];
		double v;

		snprintf(labels, sizeof(labels), "le=\"%s\"", les[i].le);
		v = value_of(&expo, BUCKET, labels);
		cr_assert_eq(v, (double)buckets_at_or_below(&m.latency, les[i].ns), "le %s",
			     les[i].le);
		cr_assert_geq(v, prev, "cumulative at le %s", les[i].le);
		prev = v;
	}
	/* 3, 5, 9 us lie wholly below 10 us; 10 us itself sits in a bucket reaching
	 * past it, so it counts from le=25us on. 1 ms likewise counts from 2.5 ms. */
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"1e-05\""), 3);
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"2.5e-05\""), 4);
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"0.001\""), 7);
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"0.0025\""), 8);
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"1\""), 11);
	count = value_of(&expo, "portsyncd_event_latency_seconds_count", "");
	cr_assert_eq(count, 13);
	cr_assert_eq(value_of(&expo, BUCKET, "le=\"+Inf\""), count);
	cr_assert_geq(count, prev);
	cr_assert_eq(value_of(&expo, "portsyncd_event_latency_seconds_sum", ""),
		     (double)m.latency.sum / 1e9);
	for (size_t i = 0; i < expo.n_samples; i++)
		buckets += !strcmp(expo.samples[i].name, BUCKET);
	cr_assert_eq(buckets, 17, "16 boundaries and +Inf, not every histogram bucket");
}

Test(prometheus, label_values_are_escaped)
{
	struct psync_metrics m = metrics_fixture();

	snprintf(m.health_reason, sizeof(m.health_reason), "a\\b\"c\nd} x=\"y\"");
	format_and_parse(&m, NULL);
	cr_assert_eq(value_of(&expo, "portsyncd_health_reason",
			      "reason=\"a\\\\b\\\"c\\nd} x=\\\"y\\\"\""), 1);
}

Test(prometheus, unterminated_reason_stays_in_bounds)
{
	struct psync_metrics m = metrics_fixture();
	char want[sizeof(m.health_reason) + 16];

	memset(m.health_reason, 'r', sizeof(m.health_reason));
	snprintf(want, sizeof(want), "reason=\"%.*s\"", (int)sizeof(m.health_reason),
		 m.health_reason);
	format_and_parse(&m, NULL);
	cr_assert_eq(value_of(&expo, "portsyncd_health_reason", want), 1);
}

Test(prometheus, options_set_prefix_and_memory)
{
	struct psync_metrics m = metrics_fixture();
	struct psync_prometheus_options o = { .sz = sizeof(o), .prefix = "psx",
					      .memory_bytes = 4096 };

	format_and_parse(&m, &o);
	cr_assert_eq(value_of(&expo, "psx_memory_bytes", ""), 4096);
	cr_assert_str_eq(family_of(&expo, "psx_memory_bytes")->type, "gauge");
	cr_assert_eq(value_of(&expo, "psx_events_received_total", ""), 1001);
	for (size_t i = 0; i < expo.n_samples; i++)
		cr_assert_eq(strncmp(expo.samples[i].name, "psx_", 4), 0);

	o.memory_bytes = 0;
	format_and_parse(&m, &o);
	cr_assert_null(family_of_sample(&expo, "psx_memory_bytes"), "0 leaves the gauge out");
}

Test(prometheus, older_options_take_defaults)
{
	struct psync_metrics m = metrics_fixture();
	struct psync_prometheus_options o = { .prefix = "ignored", .memory_bytes = 1 };

	o.sz = offsetof(struct psync_prometheus_options, prefix);

	format_and_parse(&m, &o);
	cr_assert_eq(value_of(&expo, "portsyncd_events_received_total", ""), 1001);
	cr_assert_null(family_of_sample(&expo, "portsyncd_memory_bytes"));
}

Test(prometheus, truncates_like_snprintf)
{
	struct psync_metrics m = metrics_fixture();
	char *full = format(&m, NULL);
	int n = (int)strlen(full);
	char small[64], one[1] = { 'x' };

	memset(small, 'x', sizeof(small));
	cr_assert_eq(psync_metrics_format_prometheus(&m, NULL, small, sizeof(small)), n);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert_eq(strncmp(small, full, sizeof(small) - 1), 0);
	cr_assert_eq(psync_metrics_format_prometheus(&m, NULL, one, 1), n);
	cr_assert_eq(one[0], '\0');
	for (size_t cut = (size_t)n - 3; cut <= (size_t)n + 1; cut++) {
		char *buf = malloc(cut);

		cr_assert_eq(psync_metrics_format_prometheus(&m, NULL, buf, cut), n);
		cr_assert_eq(strlen(buf), cut - 1 < (size_t)n ? cut - 1 : (size_t)n);
		cr_assert_eq(strncmp(buf, full, strlen(buf)), 0);
		free(buf);
	}
	free(full);
}

Test(prometheus, bad_arguments)
{
	struct psync_metrics m = metrics_fixture();
	struct psync_metrics old = { .sz = OFF(latency) };
	struct psync_prometheus_options o = { .sz = sizeof(o), .prefix = "9bad" };
	struct psync_prometheus_options empty = { 0 };
	char buf[16];

	cr_assert_eq(psync_metrics_format_prometheus(NULL, NULL, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(psync_metrics_format_prometheus(&m, NULL, NULL, 10), -EINVAL);
	cr_assert_eq(psync_metrics_format_prometheus(&old, NULL, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(psync_metrics_format_prometheus(&m, &o, buf, sizeof(buf)), -EINVAL);
	o.prefix = "has space";
	cr_assert_eq(psync_metrics_format_prometheus(&m, &o, buf, sizeof(buf)), -EINVAL);
	o.prefix = "";
	cr_assert_eq(psync_metrics_format_prometheus(&m, &o, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(psync_metrics_format_prometheus(&m, &empty, buf, sizeof(buf)), -EINVAL);
}
