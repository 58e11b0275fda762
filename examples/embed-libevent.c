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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <portsync/portsync.h>

#include "embed-pipeline.h"

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
	if ((h->replay && embed_replay_done(h->p)) || rearm(h) < 0)
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
	struct host h = { 0 };
	const char *redis;
	int r, status;

	if (embed_read_args(argc, argv, &redis))
		return 2;
	h.replay = !redis;
	r = embed_make_pipeline("embed-libevent", redis, &h.p);
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
	status = embed_finish("embed-libevent", h.p, h.replay, r, h.timer_firings,
			      h.backoff_firings);
	free_events(&h);
	psync_pipeline_free(h.p);
	return status;
}
