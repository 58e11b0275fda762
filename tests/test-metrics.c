/* SPDX-License-Identifier: Apache-2.0 */
/* Rates over the sliding window, and the health judgement. */
#include <criterion/criterion.h>
#include <errno.h>

#include "metrics_state.h"

#define SEC PSYNC__NS_PER_SEC

static const struct psync__health_limits limits = {
	.overrun_degraded_ns = 60 * SEC,
	.queue_degraded = 100,
	.p99_degraded_ns = 1000000,
};

static struct psync_metrics *summarise(const struct psync__metrics *m,
				       const struct psync__metrics_extra *x, uint64_t now)
{
	static struct psync_metrics out;

	psync__metrics_summarise(m, x, &limits, now, &out);
	return &out;
}

Test(metrics, steady_rate_over_the_window)
{
	struct psync__rate r = { .slot_ns = SEC };
	uint64_t start = 1000 * SEC;

	/* 500 events per second for 30 s: the 10 s window sees 500/s. */
	for (uint64_t t = start; t < start + 30 * SEC; t += SEC / 500)
		psync__rate_add(&r, t, 1);
	double rate = psync__rate_per_sec(&r, start + 30 * SEC, start);
	cr_assert(rate > 450 && rate < 550, "rate %.1f", rate);
}

Test(metrics, young_pipeline_rate_uses_its_age)
{
	struct psync__rate r = { .slot_ns = SEC };
	uint64_t start = 50 * SEC;

	psync__rate_add(&r, start + SEC / 2, 1000);
	double rate = psync__rate_per_sec(&r, start + SEC, start);
	cr_assert(rate > 990 && rate < 1010, "1000 events in its first second: %.1f", rate);
}

Test(metrics, rate_falls_to_zero_when_idle)
{
	struct psync__rate r = { .slot_ns = SEC };

	psync__rate_add(&r, 100 * SEC, 1000);
	cr_assert_eq(psync__rate_per_sec(&r, 200 * SEC, 0), 0.0);
}

Test(metrics, ack_records_latency_from_origin)
{
	struct psync__metrics m;

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	psync__metrics_record_ack(&m, 1000, 51000);
	psync__metrics_record_ack(&m, 0, 99999); /* unmeasured: counted, not timed */
	cr_assert_eq(m.writes_acked, 2);
	cr_assert_eq(m.latency.count, 1);
	cr_assert_eq(m.latency.max, 50000);
}

Test(metrics, healthy_by_default)
{
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 1 };
	struct psync__metrics_extra x = { .sink = &st };

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	struct psync_metrics *out = summarise(&m, &x, SEC);
	cr_assert_eq(out->health, PSYNC_HEALTH_HEALTHY);
	cr_assert_str_eq(out->health_reason, "");
	cr_assert_str_eq(psync_health_to_string(out->health), "healthy");
}

Test(metrics, disconnected_sink_is_unhealthy_and_says_why)
{
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 0 };
	struct psync__metrics_extra x = { .sink = &st, .queue_depth = 5000 };

	strcpy(st.reason, "connection refused");
	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	struct psync_metrics *out = summarise(&m, &x, SEC);
	cr_assert_eq(out->health, PSYNC_HEALTH_UNHEALTHY, "the worst condition wins");
	cr_assert_str_eq(out->health_reason, "sink disconnected: connection refused");
}

Test(metrics, overrun_degrades_until_resync_and_a_while_after)
{
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 1 };
	struct psync__metrics_extra x = { .sink = &st };

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	m.overrun_pending = 1;
	m.last_overrun_ns = 10 * SEC;
	cr_assert_str_eq(summarise(&m, &x, 11 * SEC)->health_reason, "source overrun, resync in progress");
	m.overrun_pending = 0;
	cr_assert_str_eq(summarise(&m, &x, 11 * SEC)->health_reason, "recent source overrun");
	cr_assert_eq(summarise(&m, &x, 71 * SEC)->health, PSYNC_HEALTH_HEALTHY);
}

Test(metrics, backlog_and_slow_acks_degrade)
{
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 1 };
	struct psync__metrics_extra x = { .sink = &st, .queue_depth = 101 };

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	cr_assert_str_eq(summarise(&m, &x, SEC)->health_reason, "backlog of 101 writes");
	x.queue_depth = 0;
	for (int i = 0; i < 100; i++)
		psync__metrics_record_ack(&m, 1, 2000001);
	struct psync_metrics *out = summarise(&m, &x, SEC);
	cr_assert_eq(out->health, PSYNC_HEALTH_DEGRADED);
	cr_assert_str_eq(out->health_reason, "p99 latency 2000 us");
	cr_assert_geq(out->latency_p99_ns, 2000000);
}

Test(metrics, decimal_formatting_of_counters)
{
	static const struct { uint64_t v; const char *s; } cases[] = {
		{ 0, "0" }, { 9, "9" }, { 10, "10" }, { 9100, "9100" },
		{ 4294967295u, "4294967295" }, { UINT64_MAX, "18446744073709551615" },
	};
	char buf[24];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(psync__u64_to_dec(buf, cases[i].v), strlen(cases[i].s));
		cr_assert_str_eq(buf, cases[i].s);
	}
}

/* One bad minute: health degrades while it is in the window, then clears;
 * the lifetime figures keep it. */
Test(metrics, p99_health_is_judged_over_a_recent_window)
{
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 1 };
	struct psync__metrics_extra x = { .sink = &st };

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	psync__metrics_record_ack(&m, 10 * SEC, 16 * SEC); /* a 6 s stall */
	for (int i = 0; i < 50; i++)
		psync__metrics_record_ack(&m, 17 * SEC, 17 * SEC + 100000);
	cr_assert_eq(summarise(&m, &x, 20 * SEC)->health, PSYNC_HEALTH_DEGRADED);
	for (int i = 0; i < 10000; i++)
		psync__metrics_record_ack(&m, 95 * SEC, 95 * SEC + 100000);
	struct psync_metrics *out = summarise(&m, &x, 100 * SEC);
	cr_assert_eq(out->health, PSYNC_HEALTH_HEALTHY, "%s", out->health_reason);
	cr_assert_lt(out->recent_p99_ns, 1000000);
	cr_assert_geq(out->latency_max_ns, 6 * SEC - SEC / 16, "the lifetime histogram keeps the stall");
}

Test(metrics, refused_and_stalled_writes_are_unhealthy_with_the_reason)
{
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 1 };
	struct psync__metrics_extra x = { .sink = &st, .refused_since_ns = 5 * SEC };
	struct psync_metrics *out;

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	psync__metrics_set_error(&m, "redis", -ENOMEM, "OOM command not allowed");
	out = summarise(&m, &x, 17 * SEC);
	cr_assert_eq(out->health, PSYNC_HEALTH_UNHEALTHY);
	cr_assert_str_eq(out->health_reason, "sink refusing writes for 12 s: redis: OOM command not allowed");
	cr_assert_eq(out->refusing_ns, 12 * SEC);
	x.refused_since_ns = 0;
	st.stalled_ns = 4 * SEC;
	out = summarise(&m, &x, 17 * SEC);
	cr_assert_eq(out->health, PSYNC_HEALTH_UNHEALTHY);
	cr_assert_str_eq(out->health_reason, "sink not answering for 4 s");
}

/* The queue holds one write per key: the default threshold follows the keys. */
Test(metrics, default_backlog_threshold_is_half_the_keys)
{
	static const struct psync__health_limits auto_limits = { .overrun_degraded_ns = 60 * SEC };
	struct psync__metrics m;
	struct psync_sink_status st = { .sz = sizeof(st), .connected = 1 };
	struct psync__metrics_extra x = { .sink = &st, .keys_tracked = 512, .queue_depth = 256 };
	static struct psync_metrics out;

	psync__metrics_init(&m, 0, 10 * SEC, 60 * SEC);
	psync__metrics_summarise(&m, &x, &auto_limits, SEC, &out);
	cr_assert_eq(out.health, PSYNC_HEALTH_HEALTHY);
	x.queue_depth = 257;
	psync__metrics_summarise(&m, &x, &auto_limits, SEC, &out);
	cr_assert_str_eq(out.health_reason, "backlog of 257 writes");
	x.keys_tracked = 4;
	x.queue_depth = 64;
	psync__metrics_summarise(&m, &x, &auto_limits, SEC, &out);
	cr_assert_eq(out.health, PSYNC_HEALTH_HEALTHY, "at least 64");
}
