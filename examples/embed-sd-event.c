/* SPDX-License-Identifier: Apache-2.0 */
/*
 * embed-sd-event: the pipeline hosted by an sd-event loop, as a systemd-style
 * daemon would host it: one I/O source on psync_pipeline_get_fd and one timer
 * source, re-armed from psync_pipeline_get_timeout_ms after every dispatch.
 *
 *   embed-sd-event                  replay -> mirror policy -> a memory sink
 *                                   that fails every 7th write, so writes are
 *                                   retried with backoff and only the timer can
 *                                   finish the run
 *   embed-sd-event --redis ADDRESS  netlink -> mirror policy -> Redis STATE_DB
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

#include <systemd/sd-event.h>

#include <portsync/portsync.h>

#include "embed-pipeline.h"

struct host {
	struct psync_pipeline *p;
	sd_event *loop;
	sd_event_source *io;
	sd_event_source *timer;
	int replay;        /* 1: the run ends when the replay is written */
	int armed_ms;      /* what the timer was last armed with */
	unsigned long timer_firings;
	unsigned long backoff_firings; /* firings of a timer armed > 0 ms */
};

/* After every dispatch: the pipeline's next deadline becomes the timer's. */
static int rearm(struct host *h)
{
	int ms = psync_pipeline_get_timeout_ms(h->p);
	int r;

	if (ms < 0)
		return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	h->armed_ms = ms;
	r = sd_event_source_set_time_relative(h->timer, (uint64_t)ms * 1000);
	if (r >= 0)
		r = sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
	return r;
}

static int step(struct host *h)
{
	int r = psync_pipeline_dispatch(h->p);

	if (r < 0 && r != -EIO) /* -EIO: an injected failure, retried by the pipeline */
		fprintf(stderr, "embed-sd-event: dispatch: %s\n", strerror(-r));
	if (h->replay && embed_replay_done(h->p))
		return sd_event_exit(h->loop, 0);
	r = rearm(h);
	return r < 0 ? sd_event_exit(h->loop, r) : 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s, (void)fd, (void)revents;
	return step(userdata);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct host *h = userdata;

	(void)s, (void)usec;
	h->timer_firings++;
	h->backoff_firings += h->armed_ms > 0;
	return step(h);
}

static int add_sources(struct host *h)
{
	sigset_t mask;
	int r;

	r = sd_event_add_io(h->loop, &h->io, psync_pipeline_get_fd(h->p), EPOLLIN, on_io, h);
	/* Armed later by rearm. Accuracy 1 us: sd-event's default of 250 ms would
	 * stretch every 1 ms retry backoff a hundredfold. */
	if (r >= 0)
		r = sd_event_add_time_relative(h->loop, &h->timer, CLOCK_MONOTONIC, 0, 1, on_timer,
					       h);
	if (r >= 0)
		r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	if (r < 0 || h->replay)
		return r;
	/* A NULL handler ends the loop: sd-event wants the signals blocked first. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_add_signal(h->loop, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(h->loop, NULL, SIGTERM, NULL, NULL);
	return r;
}

int main(int argc, char **argv)
{
	struct host h = { 0 };
	const char *redis;
	int r, status;

	if (embed_read_args(argc, argv, &redis))
		return 2;
	h.replay = !redis;
	r = embed_make_pipeline("embed-sd-event", redis, &h.p);
	if (r == 0)
		r = sd_event_default(&h.loop);
	if (r >= 0)
		r = add_sources(&h);
	if (r >= 0)
		r = psync_pipeline_start(h.p);
	if (r >= 0)
		r = step(&h); /* the first dispatch arms the timer */
	if (r >= 0)
		r = sd_event_loop(h.loop);
	status = embed_finish("embed-sd-event", h.p, h.replay, r, h.timer_firings,
			      h.backoff_firings);
	sd_event_source_unref(h.io);
	sd_event_source_unref(h.timer);
	sd_event_unref(h.loop);
	psync_pipeline_free(h.p);
	return status;
}
