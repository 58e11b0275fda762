/* SPDX-License-Identifier: Apache-2.0 */
/*
 * embed-libevent: the pipeline hosted by a libevent loop, the way hiredis'
 * libevent adapter hosts a connection: one persistent read event on
 * psync_pipeline_get_fd and one evtimer, re-armed from
 * psync_pipeline_get_timeout_ms after every dispatch.
 *
 *   embed-libevent                  replay -> mirror policy -> a memory sink
 *                                   that fails every 7th write, so writes are
 *                                   retried with backoff and only the timer can
 *                                   finish the run
 *   embed-libevent --redis ADDRESS  netlink -> mirror policy -> Redis STATE_DB
 *                                   PORT_TABLE, until SIGINT or SIGTERM
 *
 * Ends with one line of key=value figures: events received, writes
 * acknowledged, timer firings (and how many of them ended a backoff delay).
 * Exits 1 when an event is missing or the store does not hold the last state
 * of every port.
 */
#include <errno.h>
#include <linux/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <portsync/portsync.h>

#define PORTS 16
#define ROUNDS 64
#define FAIL_EVERY 7

struct host {
	struct psync_pipeline *p;
	struct event_base *base;
	struct event *io;
	struct event *timer;
	struct event *sigint, *sigterm;
	int replay;        /* 1: the run ends when the replay is written */
	int armed_ms;      /* what the timer was last armed with */
	unsigned long timer_firings;
	unsigned long backoff_firings; /* firings of a timer armed > 0 ms */
};

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
static int make_live(const char *address, struct psync_source **source, struct psync_sink **sink)
{
	struct psync_netlink_options no = { .sz = sizeof(no) };
	struct psync_redis_options ro = { .sz = sizeof(ro), .address = address };
	char err[256] = "";
	int r;

	r = psync_netlink_source_new(&no, source);
	if (r == 0)
		r = psync_redis_sink_new(&ro, err, sizeof(err), sink);
	if (r < 0 && err[0])
		fprintf(stderr, "embed-libevent: %s\n", err);
	return r;
}
#else
static int make_live(const char *address, struct psync_source **source, struct psync_sink **sink)
{
	(void)address, (void)source, (void)sink;
	fprintf(stderr, "embed-libevent: this libportsync has no netlink source or Redis sink\n");
	return -ENOTSUP;
}
#endif

static int replay_done(struct psync_pipeline *p)
{
	struct psync_metrics m = { .sz = sizeof(m) };

	psync_pipeline_get_metrics(p, &m);
	return psync_source_is_finished(psync_pipeline_get_source(p)) == 1 && m.queue_depth == 0 &&
	       m.in_flight == 0;
}

/* After every dispatch: the pipeline's next deadline becomes the timer's. */
static int rearm(struct host *h)
{
	int ms = psync_pipeline_get_timeout_ms(h->p);
	struct timeval tv;

	if (ms < 0)
		return evtimer_del(h->timer);
	h->armed_ms = ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(h->timer, &tv);
}

static void step(struct host *h)
{
	int r = psync_pipeline_dispatch(h->p);

	if (r < 0 && r != -EIO) /* -EIO: an injected failure, retried by the pipeline */
		fprintf(stderr, "embed-libevent: dispatch: %s\n", strerror(-r));
	if ((h->replay && replay_done(h->p)) || rearm(h) < 0)
		event_base_loopbreak(h->base);
}

static void on_io(evutil_socket_t fd, short what, void *userdata)
{
	(void)fd, (void)what;
	step(userdata);
}

static void on_timer(evutil_socket_t fd, short what, void *userdata)
{
	struct host *h = userdata;

	(void)fd, (void)what;
	h->timer_firings++;
	h->backoff_firings += h->armed_ms > 0;
	step(h);
}

static void on_signal(evutil_socket_t sig, short what, void *userdata)
{
	struct host *h = userdata;

	(void)sig, (void)what;
	event_base_loopbreak(h->base);
}

static int add_events(struct host *h)
{
	h->io = event_new(h->base, psync_pipeline_get_fd(h->p), EV_READ | EV_PERSIST, on_io, h);
	h->timer = evtimer_new(h->base, on_timer, h); /* armed later by rearm */
	if (!h->io || !h->timer || event_add(h->io, NULL) < 0)
		return -ENOMEM;
	if (h->replay)
		return 0;
	h->sigint = evsignal_new(h->base, SIGINT, on_signal, h);
	h->sigterm = evsignal_new(h->base, SIGTERM, on_signal, h);
	if (!h->sigint || !h->sigterm || evsignal_add(h->sigint, NULL) < 0 ||
	    evsignal_add(h->sigterm, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static int make_pipeline(const char *redis, struct psync_pipeline **ret)
{
	struct psync_source *source = NULL;
	struct psync_policy *policy = NULL;
	struct psync_sink *sink = NULL;
	int r;

	r = redis ? make_live(redis, &source, &sink) : make_replay(&source, &sink);
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

/* The final line; returns the exit status. */
static int report(struct host *h)
{
	struct psync_metrics m = { .sz = sizeof(m) };
	int bad = 0;

	psync_pipeline_get_metrics(h->p, &m);
	printf("embed-libevent: events_received=%llu", (unsigned long long)m.events_received);
	if (h->replay) {
		bad = count_mismatches(psync_pipeline_get_sink(h->p));
		printf(" events_expected=%d", PORTS * ROUNDS);
	}
	printf(" writes_acked=%llu writes_retried=%llu writes_failed=%llu timer_firings=%lu "
	       "backoff_firings=%lu",
	       (unsigned long long)m.writes_acked, (unsigned long long)m.writes_retried,
	       (unsigned long long)m.writes_failed, h->timer_firings, h->backoff_firings);
	if (h->replay)
		printf(" state=%s", bad ? "wrong" : "exact");
	printf("\n");
	if (h->replay && m.events_received != PORTS * ROUNDS)
		bad = 1;
	return bad || m.writes_failed ? 1 : 0;
}

static void free_events(struct host *h)
{
	struct event *events[] = { h->io, h->timer, h->sigint, h->sigterm };

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i])
			event_free(events[i]);
	if (h->base)
		event_base_free(h->base);
	libevent_global_shutdown(); /* what libevent keeps for the process, for leak checkers */
}

int main(int argc, char **argv)
{
	struct host h = { .replay = 1 };
	const char *redis = NULL;
	int r, status = 1;

	if (argc == 3 && !strcmp(argv[1], "--redis")) {
		redis = argv[2];
		h.replay = 0;
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--redis unix:/path|host:port]\n", argv[0]);
		return 2;
	}
	r = make_pipeline(redis, &h.p);
	if (r == 0) {
		h.base = event_base_new();
		r = h.base ? add_events(&h) : -ENOMEM;
	}
	if (r == 0)
		r = psync_pipeline_start(h.p);
	if (r == 0) {
		step(&h); /* the first dispatch arms the timer */
		r = event_base_dispatch(h.base) < 0 ? -EIO : 0;
	}
	if (r == 0 && !h.replay)
		r = psync_pipeline_flush(h.p, 2000);
	if (r < 0)
		fprintf(stderr, "embed-libevent: %s\n", strerror(-r));
	if (h.p)
		status = report(&h);
	free_events(&h);
	psync_pipeline_free(h.p);
	return r < 0 ? 1 : status;
}
