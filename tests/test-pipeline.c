/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline end to end, through its public API: order per key, latency at
 * acknowledgement, retries, coalescing under backpressure, markers, metrics. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <portsync/portsync.h>

/* ---- a sink that holds writes until the test releases them ---- */
struct held_sink {
	struct psync_sink *sink;
	const struct psync_write *w[4096];
	unsigned n;
	unsigned capacity;      /* submit answers -EAGAIN beyond this */
	int release_status;
	char last_value[4096][16]; /* per key index: last applied "v" field */
};

static int held_submit(void *impl, const struct psync_write *w)
{
	struct held_sink *h = impl;

	if (h->n >= h->capacity)
		return -EAGAIN;
	h->w[h->n++] = w;
	return 0;
}

static const struct psync_sink_ops held_ops = {
	.sz = sizeof(held_ops), .name = "held", .submit = held_submit,
};

static struct held_sink *held_new(unsigned capacity)
{
	struct held_sink *h = calloc(1, sizeof(*h));

	h->capacity = capacity;
	cr_assert_eq(psync_sink_new(&held_ops, h, &h->sink), 0);
	return h;
}

/* Completes everything held, applying successful writes to last_value. */
static void held_release(struct held_sink *h)
{
	unsigned n = h->n;

	h->n = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct psync_write *w = h->w[i];

		if (h->release_status == 0 && w->op == PSYNC_WRITE_SET)
			snprintf(h->last_value[atoi(w->key)], 16, "%s", w->fields[0].value);
		psync_sink_write_done(h->sink, w, h->release_status, "held");
	}
}

/* ---- a policy writing {"v": <mtu>} to key <ifindex>, ignoring odd mtus when asked ---- */
struct key_policy {
	int ignore_odd;
};

static int key_on_event(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev)
{
	struct key_policy *kp = impl;
	char key[16], value[16];
	struct psync_field f = { "v", value };
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = "STATE_DB", .table = "T", .key = key,
				 .fields = &f, .n_fields = 1, .origin_ns = ev->recv_ns };

	if (ev->type != PSYNC_EVENT_NEWLINK || (kp && kp->ignore_odd && ev->mtu % 2))
		return 0;
	snprintf(key, sizeof(key), "%u", ev->ifindex);
	snprintf(value, sizeof(value), "%u", ev->mtu);
	return psync_pipeline_write(p, &w);
}

static const struct psync_policy_ops key_ops = {
	.sz = sizeof(key_ops), .name = "key", .on_event = key_on_event,
};

/* The mtu of the last of n flaps over keys that hit key k. */
static int last_mtu(int n, int keys, int k)
{
	return 1000 + (n - 1) - ((n - 1 - k) % keys);
}

static struct psync_link_event *flaps(unsigned n, unsigned keys)
{
	struct psync_link_event *ev = calloc(n, sizeof(*ev));

	for (unsigned i = 0; i < n; i++) {
		ev[i].type = PSYNC_EVENT_NEWLINK;
		ev[i].ifindex = i % keys;
		ev[i].mtu = 1000 + i;
		snprintf(ev[i].ifname, sizeof(ev[i].ifname), "Ethernet%u", i % keys);
	}
	return ev;
}

static struct psync_pipeline *make_pipeline(const struct psync_link_event *ev, unsigned n,
					    struct psync_policy_ops const *ops, void *impl,
					    struct psync_sink *sink,
					    const struct psync_pipeline_options *opts)
{
	struct psync_source *src;
	struct psync_policy *pol;
	struct psync_pipeline *p;

	cr_assert_eq(psync_replay_source_new(ev, n, &src), 0);
	cr_assert_eq(psync_policy_new(ops, impl, &pol), 0);
	cr_assert_eq(psync_pipeline_new(src, pol, sink, opts, &p), 0);
	cr_assert_eq(psync_pipeline_start(p), 0);
	return p;
}

static struct psync_metrics metrics_of(struct psync_pipeline *p)
{
	struct psync_metrics m = { .sz = sizeof(m) };

	cr_assert_eq(psync_pipeline_get_metrics(p, &m), 0);
	return m;
}

/* ---- order ---- */
struct order_check {
	int last[64];
	unsigned writes;
	int out_of_order;
};

static void check_order(const struct psync_write *w, void *userdata)
{
	struct order_check *c = userdata;
	int key = atoi(w->key), v = atoi(w->fields[0].value);

	if (v <= c->last[key])
		c->out_of_order++;
	c->last[key] = v;
	c->writes++;
}

Test(pipeline, every_write_lands_in_order_per_key)
{
	enum { N = 20000, KEYS = 37 };
	struct psync_link_event *ev = flaps(N, KEYS);
	struct order_check c = { 0 };
	struct psync_sink *sink;
	struct psync_pipeline *p;

	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	psync_memory_sink_set_observer(sink, check_order, &c);
	p = make_pipeline(ev, N, &key_ops, NULL, sink, NULL);
	cr_assert_eq(psync_pipeline_run(p, 10000), 0);
	cr_assert_eq(c.out_of_order, 0);
	cr_assert_eq(c.writes, N, "a healthy sink gets every write: no coalescing");
	for (int k = 0; k < KEYS; k++) {
		char key[16];

		snprintf(key, sizeof(key), "T|%d", k);
		cr_assert_eq(atoi(psync_memory_sink_get(sink, "STATE_DB", key, "v")), last_mtu(N, KEYS, k));
	}
	struct psync_metrics m = metrics_of(p);
	cr_assert_eq(m.events_received, N);
	cr_assert_eq(m.writes_acked, N);
	cr_assert_eq(m.latency_count, N);
	cr_assert_eq(m.queue_depth + m.in_flight, 0);
	psync_pipeline_free(p);
	free(ev);
}

/* ---- latency ---- */
static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

Test(pipeline, latency_is_measured_at_acknowledgement)
{
	struct psync_link_event *ev = flaps(10, 10);
	struct held_sink *h = held_new(100);
	struct psync_pipeline *p = make_pipeline(ev, 10, &key_ops, NULL, h->sink, NULL);

	psync_pipeline_dispatch(p);
	cr_assert_eq(h->n, 10);
	cr_assert_eq(metrics_of(p).latency_count, 0, "nothing is measured before the ack");
	cr_assert_eq(metrics_of(p).in_flight, 10);
	sleep_ms(30);
	held_release(h);
	struct psync_metrics m = metrics_of(p);
	cr_assert_eq(m.latency_count, 10);
	cr_assert_geq(m.latency_min_ns, 30 * 1000000ULL, "receipt -> ack spans the wait");
	cr_assert_lt(m.latency_max_ns, 30 * 1000000ULL * 100);
	cr_assert_eq(m.writes_acked, 10);
	psync_pipeline_free(p);
	free(h);
	free(ev);
}

/* ---- backpressure ---- */
Test(pipeline, backpressure_coalesces_per_key_and_keeps_the_last_state)
{
	enum { N = 5000, KEYS = 16 };
	struct psync_link_event *ev = flaps(N, KEYS);
	struct held_sink *h = held_new(4);
	struct psync_pipeline *p = make_pipeline(ev, N, &key_ops, NULL, h->sink, NULL);
	struct psync_metrics m;

	while (!psync_source_is_finished(psync_pipeline_get_source(p)))
		psync_pipeline_dispatch(p);
	m = metrics_of(p);
	cr_assert_eq(m.in_flight, 4);
	cr_assert_leq(m.queue_depth, KEYS, "memory bounded by keys: %llu queued",
		      (unsigned long long)m.queue_depth);
	cr_assert_gt(m.writes_coalesced, N - 2 * KEYS);
	for (int round = 0; round < 100 && (m.queue_depth || m.in_flight); round++) {
		held_release(h);
		psync_pipeline_dispatch(p);
		m = metrics_of(p);
	}
	cr_assert_eq(m.queue_depth + m.in_flight, 0);
	for (int k = 0; k < KEYS; k++)
		cr_assert_eq(atoi(h->last_value[k]), last_mtu(N, KEYS, k), "key %d", k);
	cr_assert_eq(m.writes_acked + m.writes_coalesced, N);
	psync_pipeline_free(p);
	free(h);
	free(ev);
}

/* ---- failures ---- */
Test(pipeline, transient_failures_are_retried_until_the_state_is_exact)
{
	enum { N = 20000, KEYS = 64 };
	struct psync_link_event *ev = flaps(N, KEYS);
	struct psync_memory_sink_options mo = { .sz = sizeof(mo), .fail_percent = 5, .seed = 9 };
	struct psync_pipeline_options po = { .sz = sizeof(po), .retry_min_ns = 10000, .retry_max_ns = 1000000 };
	struct psync_sink *sink;
	struct psync_pipeline *p;

	cr_assert_eq(psync_memory_sink_new(&mo, &sink), 0);
	p = make_pipeline(ev, N, &key_ops, NULL, sink, &po);
	cr_assert_eq(psync_pipeline_run(p, 20000), 0);
	struct psync_metrics m = metrics_of(p);
	cr_assert_gt(m.writes_retried, 0);
	cr_assert_eq(m.writes_failed, 0);
	cr_assert_gt(psync_memory_sink_get_injected_failures(sink), 0);
	cr_assert_str_eq(m.last_error, "memory: injected failure");
	for (int k = 0; k < KEYS; k++) {
		char key[16];

		snprintf(key, sizeof(key), "T|%d", k);
		cr_assert_eq(atoi(psync_memory_sink_get(sink, "STATE_DB", key, "v")), last_mtu(N, KEYS, k));
	}
	psync_pipeline_free(p);
	free(ev);
}

Test(pipeline, writes_that_always_fail_are_given_up_without_spinning)
{
	struct psync_link_event *ev = flaps(3, 3);
	struct psync_memory_sink_options mo = { .sz = sizeof(mo), .fail_every = 1 };
	struct psync_pipeline_options po = { .sz = sizeof(po), .max_attempts = 4, .retry_min_ns = 1000000 };
	struct psync_sink *sink;
	struct psync_pipeline *p;

	cr_assert_eq(psync_memory_sink_new(&mo, &sink), 0);
	p = make_pipeline(ev, 3, &key_ops, NULL, sink, &po);
	cr_assert_eq(psync_pipeline_run(p, 5000), 0);
	struct psync_metrics m = metrics_of(p);
	cr_assert_eq(m.writes_failed, 3);
	cr_assert_eq(m.writes_retried, 9, "three retries each, then given up");
	cr_assert_eq(psync_memory_sink_get_injected_failures(sink), 12);
	cr_assert_eq(m.keys_tracked, 0);
	psync_pipeline_free(p);
	free(ev);
}

Test(pipeline, connection_loss_replays_unacknowledged_writes_in_order)
{
	enum { N = 40 };
	struct psync_link_event *ev = flaps(N, 40);
	struct held_sink *h = held_new(N);
	struct psync_pipeline *p = make_pipeline(ev, N, &key_ops, NULL, h->sink, NULL);

	psync_pipeline_dispatch(p);
	cr_assert_eq(h->n, N);
	h->release_status = -ECONNRESET;
	held_release(h);
	cr_assert_eq(metrics_of(p).queue_depth, N);
	h->release_status = 0;
	for (int i = 0; i < 1000 && h->n < N; i++) {
		sleep_ms(1);
		psync_pipeline_dispatch(p);
	}
	cr_assert_eq(h->n, N, "resubmitted after the backoff");
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(atoi(h->w[i]->key), (int)i, "same order as before");
	held_release(h);
	cr_assert_eq(metrics_of(p).writes_retried, N);
	psync_pipeline_free(p);
	free(h);
	free(ev);
}

/* ---- events and markers ---- */
Test(pipeline, events_with_no_write_count_as_ignored)
{
	struct psync_link_event *ev = flaps(10, 10);
	struct key_policy kp = { .ignore_odd = 1 };
	struct psync_sink *sink;
	struct psync_pipeline *p;

	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	p = make_pipeline(ev, 10, &key_ops, &kp, sink, NULL);
	cr_assert_eq(psync_pipeline_run(p, 1000), 0);
	struct psync_metrics m = metrics_of(p);
	cr_assert_eq(m.events_received, 10);
	cr_assert_eq(m.events_ignored, 5);
	cr_assert_eq(m.writes_acked, 5);
	psync_pipeline_free(p);
	free(ev);
}

Test(pipeline, overrun_then_dump_counts_a_resync_and_degrades)
{
	struct psync_link_event ev[3] = {
		{ .type = PSYNC_EVENT_OVERRUN },
		{ .type = PSYNC_EVENT_NEWLINK, .ifindex = 1, .mtu = 1500, .from_dump = 1, .dump_generation = 2 },
		{ .type = PSYNC_EVENT_DUMP_DONE, .dump_generation = 2 },
	};
	struct psync_sink *sink;
	struct psync_pipeline *p;

	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	p = make_pipeline(ev, 3, &key_ops, NULL, sink, NULL);
	cr_assert_eq(psync_pipeline_run(p, 1000), 0);
	struct psync_metrics m = metrics_of(p);
	cr_assert_eq(m.overruns, 1);
	cr_assert_eq(m.resyncs, 1);
	cr_assert_eq(m.dumps, 1);
	cr_assert_eq(m.events_received, 1, "markers are not link events");
	cr_assert_eq(m.health, PSYNC_HEALTH_DEGRADED);
	cr_assert_str_eq(m.health_reason, "recent source overrun");
	psync_pipeline_free(p);
}

/* ---- the embedding API ---- */
Test(pipeline, mirror_policy_writes_what_it_promises)
{
	struct psync_link_event ev[2] = {
		{ .type = PSYNC_EVENT_NEWLINK, .ifindex = 5, .mtu = 9100, .flags = IFF_UP, .ifname = "Ethernet8" },
		{ .type = PSYNC_EVENT_DELLINK, .ifindex = 6, .ifname = "Ethernet12" },
	};
	struct psync_field old = { "admin_status", "up" };
	struct psync_source *src;
	struct psync_policy *pol;
	struct psync_sink *sink;
	struct psync_pipeline *p;

	cr_assert_eq(psync_replay_source_new(ev, 2, &src), 0);
	cr_assert_eq(psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &pol), 0);
	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	psync_memory_sink_seed(sink, "STATE_DB", "PORT_TABLE|Ethernet12", &old, 1);
	cr_assert_eq(psync_pipeline_new(src, pol, sink, NULL, &p), 0);
	cr_assert_eq(psync_pipeline_run(p, 1000), 0);
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet8", "admin_status"), "up");
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet8", "oper_status"), "down");
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet8", "mtu"), "9100");
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet8", "ifindex"), "5");
	cr_assert_eq(psync_memory_sink_count_fields(sink, "STATE_DB", "PORT_TABLE|Ethernet12"), -ENOENT);
	psync_pipeline_free(p);
}

Test(pipeline, arguments_and_ownership)
{
	struct psync_source *src;
	struct psync_policy *pol;
	struct psync_sink *sink;
	struct psync_pipeline *p, *p2;
	struct psync_pipeline_options bad = { .sz = 0 };

	cr_assert_eq(psync_replay_source_new(NULL, 0, &src), 0);
	cr_assert_eq(psync_policy_new(&key_ops, NULL, &pol), 0);
	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	cr_assert_eq(psync_pipeline_new(NULL, pol, sink, NULL, &p), -EINVAL);
	cr_assert_eq(psync_pipeline_new(src, pol, sink, &bad, &p), -EINVAL);
	cr_assert_eq(psync_pipeline_new(src, pol, sink, NULL, &p), 0);
	cr_assert_eq(psync_pipeline_new(src, pol, sink, NULL, &p2), -EBUSY, "one writer per sink");
	cr_assert_geq(psync_pipeline_get_fd(p), 0);
	cr_assert_eq(psync_pipeline_get_sink(p), sink);
	cr_assert_eq(psync_pipeline_write(p, &(struct psync_write){ .op = PSYNC_WRITE_SET }), -EINVAL);
	psync_pipeline_free(p); /* frees source, policy and sink too: ASan/valgrind check it */
	psync_pipeline_free(NULL);
	psync_source_free(NULL);
	psync_sink_free(NULL);
	psync_policy_free(NULL);
}

Test(pipeline, metrics_fill_only_what_the_caller_sized)
{
	struct {
		struct psync_metrics m;
		unsigned char canary[64];
	} buf;
	struct psync_source *src;
	struct psync_policy *pol;
	struct psync_sink *sink;
	struct psync_pipeline *p;
	size_t small = offsetof(struct psync_metrics, writes_submitted);

	cr_assert_eq(psync_replay_source_new(NULL, 0, &src), 0);
	cr_assert_eq(psync_policy_new(&key_ops, NULL, &pol), 0);
	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	cr_assert_eq(psync_pipeline_new(src, pol, sink, NULL, &p), 0);
	memset(&buf, 0xa5, sizeof(buf));
	buf.m.sz = small;
	cr_assert_eq(psync_pipeline_get_metrics(p, &buf.m), 0);
	cr_assert_eq(buf.m.sz, small);
	for (size_t i = small; i < sizeof(buf); i++)
		cr_assert_eq(((unsigned char *)&buf)[i], 0xa5, "byte %zu written", i);
	buf.m.sz = 1;
	cr_assert_eq(psync_pipeline_get_metrics(p, &buf.m), -EINVAL);
	psync_pipeline_free(p);
}

Test(pipeline, run_times_out_on_an_endless_source)
{
	struct held_sink *h = held_new(0); /* never takes a write */
	struct psync_link_event *ev = flaps(1, 1);
	struct psync_pipeline *p = make_pipeline(ev, 1, &key_ops, NULL, h->sink, NULL);

	cr_assert_eq(psync_pipeline_run(p, 50), -ETIMEDOUT);
	cr_assert_eq(psync_pipeline_flush(p, 20), -ETIMEDOUT);
	cr_assert_eq(metrics_of(p).queue_depth, 1);
	psync_pipeline_free(p);
	free(h);
	free(ev);
}
