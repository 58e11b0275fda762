/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the two embedding examples share, so that each of them shows only its
 * own loop: the pipeline they host (a replay into a memory sink that fails
 * every FAIL_EVERY-th write, or netlink into Redis) and how a run is judged.
 */
#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed-pipeline.h"

#define PORTS 16
#define ROUNDS 64
#define FAIL_EVERY 7

/* Every port flaps ROUNDS times, its mtu growing, so the last state is known. */
static struct psync_link_event *make_events(size_t *n)
{
	struct psync_link_event *ev = calloc(PORTS * ROUNDS, sizeof(*ev));

	for (unsigned r = 0; ev && r < ROUNDS; r++) {
		for (unsigned i = 0; i < PORTS; i++) {
			struct psync_link_event *e = &ev[r * PORTS + i];

			e->type = PSYNC_EVENT_NEWLINK;
			e->ifindex = 10 + i;
			e->flags = (r + i) % 2 ? IFF_UP | IFF_RUNNING : 0;
			e->mtu = 1500 + r;
			snprintf(e->ifname, sizeof(e->ifname), "Ethernet%u", 4 * i);
		}
	}
	*n = PORTS * ROUNDS;
	return ev;
}

static int make_replay(struct psync_source **source, struct psync_sink **sink)
{
	struct psync_memory_sink_options mo = { .sz = sizeof(mo), .fail_every = FAIL_EVERY };
	struct psync_link_event *ev;
	size_t n;
	int r;

	ev = make_events(&n);
	if (!ev)
		return -ENOMEM;
	r = psync_replay_source_new(ev, n, source); /* copies the events */
	free(ev);
	if (r == 0)
		r = psync_memory_sink_new(&mo, sink);
	return r;
}

/* Ports whose stored state differs from their last event. */
static int count_mismatches(struct psync_sink *sink)
{
	struct psync_link_event *ev;
	int bad = 0;
	size_t n;

	ev = make_events(&n);
	if (!ev)
		return -ENOMEM;
	for (unsigned i = 0; i < PORTS; i++) {
		const struct psync_link_event *last = &ev[(ROUNDS - 1) * PORTS + i];
		const char *up = last->flags & IFF_UP ? "up" : "down";
		char key[64], mtu[16];
		const char *got_mtu, *got_admin;

		snprintf(key, sizeof(key), "PORT_TABLE|%s", last->ifname);
		snprintf(mtu, sizeof(mtu), "%u", last->mtu);
		got_mtu = psync_memory_sink_get(sink, "STATE_DB", key, "mtu");
		got_admin = psync_memory_sink_get(sink, "STATE_DB", key, "admin_status");
		bad += !got_mtu || strcmp(got_mtu, mtu) || !got_admin || strcmp(got_admin, up);
	}
	free(ev);
	return bad;
}

#if PSYNC_HAVE_NETLINK && PSYNC_HAVE_REDIS
static int make_live(const char *name, const char *address, struct psync_source **source,
		     struct psync_sink **sink)
{
	struct psync_netlink_options no = { .sz = sizeof(no) };
	struct psync_redis_options ro = { .sz = sizeof(ro), .address = address };
	char err[256] = "";
	int r;

	r = psync_netlink_source_new(&no, source);
	if (r == 0)
		r = psync_redis_sink_new(&ro, err, sizeof(err), sink);
	if (r < 0 && err[0])
		fprintf(stderr, "%s: %s\n", name, err);
	return r;
}
#else
static int make_live(const char *name, const char *address, struct psync_source **source,
		     struct psync_sink **sink)
{
	(void)address, (void)source, (void)sink;
	fprintf(stderr, "%s: this libportsync has no netlink source or Redis sink\n", name);
	return -ENOTSUP;
}
#endif

int embed_replay_done(struct psync_pipeline *p)
{
	struct psync_metrics m = { .sz = sizeof(m) };

	psync_pipeline_get_metrics(p, &m);
	return psync_source_is_finished(psync_pipeline_get_source(p)) == 1 && m.queue_depth == 0 &&
	       m.in_flight == 0;
}

int embed_read_args(int argc, char **argv, const char **redis)
{
	*redis = NULL;
	if (argc == 3 && !strcmp(argv[1], "--redis")) {
		*redis = argv[2];
		return 0;
	}
	if (argc == 1)
		return 0;
	fprintf(stderr, "usage: %s [--redis unix:/path|host:port]\n", argv[0]);
	return 2;
}

int embed_make_pipeline(const char *name, const char *redis, struct psync_pipeline **ret)
{
	struct psync_source *source = NULL;
	struct psync_policy *policy = NULL;
	struct psync_sink *sink = NULL;
	int r;

	r = redis ? make_live(name, redis, &source, &sink) : make_replay(&source, &sink);
	if (r == 0)
		r = psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &policy);
	if (r == 0)
		r = psync_pipeline_new(source, policy, sink, NULL, ret);
	if (r < 0) {
		psync_source_free(source);
		psync_policy_free(policy);
		psync_sink_free(sink);
	}
	return r;
}

static int report(const char *name, struct psync_pipeline *p, int replay,
		  unsigned long timer_firings, unsigned long backoff_firings)
{
	struct psync_metrics m = { .sz = sizeof(m) };
	int bad = 0;

	psync_pipeline_get_metrics(p, &m);
	printf("%s: events_received=%llu", name, (unsigned long long)m.events_received);
	if (replay) {
		bad = count_mismatches(psync_pipeline_get_sink(p));
		printf(" events_expected=%d", PORTS * ROUNDS);
	}
	printf(" writes_acked=%llu writes_retried=%llu writes_failed=%llu timer_firings=%lu "
	       "backoff_firings=%lu",
	       (unsigned long long)m.writes_acked, (unsigned long long)m.writes_retried,
	       (unsigned long long)m.writes_failed, timer_firings, backoff_firings);
	if (replay)
		printf(" state=%s", bad ? "wrong" : "exact");
	printf("\n");
	if (replay && m.events_received != PORTS * ROUNDS)
		bad = 1;
	return bad || m.writes_failed ? 1 : 0;
}

int embed_finish(const char *name, struct psync_pipeline *p, int replay, int r,
		 unsigned long timer_firings, unsigned long backoff_firings)
{
	int status = 1;

	if (r >= 0 && !replay)
		r = psync_pipeline_flush(p, 2000);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", name, strerror(-r));
	if (p)
		status = report(name, p, replay, timer_firings, backoff_firings);
	return r < 0 ? 1 : status;
}
