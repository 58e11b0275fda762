/* SPDX-License-Identifier: Apache-2.0 */
/* source -> policy -> sink, driven from the caller's loop through one epoll fd. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "batcher.h"
#include "metrics_state.h"
#include "write_queue.h"

struct psync_pipeline {
	struct psync_source *source;
	struct psync_policy *policy;
	struct psync_sink *sink;
	struct psync_pipeline_options opts;
	struct psync__write_queue queue;
	struct psync__metrics metrics;
	int epfd;
	int sink_fd;             /* as registered in epfd, -1 when none */
	uint32_t sink_epoll_events;
	int source_fd;            /* as registered in epfd, -1 when the source has none */
	int source_held;          /* taken out of epfd's interest while a batch gathers */
	int hold_timer_fd;        /* in epfd: readable at a hold's deadline; -1 without holds */
	struct psync__batcher batch;
	uint64_t gathered_since;  /* receipt time of the events being read after a hold, 0: now */
	uint64_t paused_until_ns; /* no submission before this, after a transient failure */
	uint64_t refused_since_ns; /* writes refused (error replies) since then, 0: not now */
	unsigned failure_streak;  /* dispatches in a row that saw a transient failure */
	int failed_this_dispatch; /* the streak grows once per dispatch, not per write */
	unsigned event_writes;    /* writes and reads the current event caused */
	int first_error;          /* of the current dispatch */
	uint64_t store_generation; /* of the sink's store, as last seen */
	int stale;                /* the store was reset and opts.store_reset says stop */
	volatile sig_atomic_t stop;
};

static const struct psync_pipeline_options default_options = {
	.sz = sizeof(struct psync_pipeline_options),
	.dispatch_budget = 256,
	.max_attempts = 0,
	.retry_min_ns = 1 * PSYNC__NS_PER_MS,
	.retry_max_ns = 1 * PSYNC__NS_PER_SEC,
	.rate_window_ns = 10 * PSYNC__NS_PER_SEC,
	.overrun_degraded_ns = 60 * PSYNC__NS_PER_SEC,
	.queue_degraded = 0,
	.p99_degraded_ns = 0,
	.health_window_ns = 60 * PSYNC__NS_PER_SEC,
	.batch_hold_ns = 1 * PSYNC__NS_PER_MS,
};

/* A field the caller left zero (or did not have) keeps its default. */
#define TAKE_OPTION(dst, src, m) \
	do { \
		if (psync__has_member((src)->sz, struct psync_pipeline_options, m) && (src)->m) \
			(dst)->m = (src)->m; \
	} while (0)

static void resolve_options(struct psync_pipeline_options *dst, const struct psync_pipeline_options *src)
{
	*dst = default_options;
	if (!src)
		return;
	TAKE_OPTION(dst, src, dispatch_budget);
	TAKE_OPTION(dst, src, max_attempts);
	TAKE_OPTION(dst, src, retry_min_ns);
	TAKE_OPTION(dst, src, retry_max_ns);
	TAKE_OPTION(dst, src, rate_window_ns);
	TAKE_OPTION(dst, src, overrun_degraded_ns);
	TAKE_OPTION(dst, src, queue_degraded);
	TAKE_OPTION(dst, src, p99_degraded_ns);
	TAKE_OPTION(dst, src, health_window_ns);
	TAKE_OPTION(dst, src, store_reset);
	TAKE_OPTION(dst, src, batch_hold_ns);
}

static void note_error(struct psync_pipeline *p, int r)
{
	if (r < 0 && p->first_error == 0)
		p->first_error = r;
}

static uint64_t backoff_ns(const struct psync_pipeline *p)
{
	unsigned shift = p->failure_streak > 1 ? p->failure_streak - 1 : 0;
	uint64_t d = p->opts.retry_min_ns;

	if (shift >= 40 || (d << shift) >> shift != d)
		return p->opts.retry_max_ns;
	d <<= shift;
	return d < p->opts.retry_max_ns ? d : p->opts.retry_max_ns;
}

static void on_write_done(const struct psync_write *w, int status, const char *reason, void *userdata)
{
	struct psync_pipeline *p = userdata;
	uint64_t origin = w->origin_ns, now = psync__now_ns();
	int transient = psync__status_is_transient(status);

	switch (psync__wq_complete(&p->queue, w, status, transient, p->opts.max_attempts)) {
	case PSYNC__ACKED:
		p->failure_streak = 0;
		p->refused_since_ns = 0;
		psync__metrics_record_ack(&p->metrics, origin, now);
		return;
	case PSYNC__REQUEUED:
		p->metrics.writes_retried++;
		break;
	case PSYNC__SUPERSEDED:
		break;
	case PSYNC__FAILED:
		p->metrics.writes_failed++;
		break;
	}
	psync__metrics_set_error(&p->metrics, psync_sink_get_name(p->sink), status, reason);
	/* The store answered, and said no (-OOM, -LOADING, ...): an episode of
	 * refusals, which lasts until a write is acknowledged again. */
	if (transient && !psync__status_is_connection_loss(status) && !p->refused_since_ns)
		p->refused_since_ns = now;
	/* A lost connection fails everything in flight at once: that is one
	 * failure, and the sink's own reconnect backoff paces what follows. */
	if (transient && !p->failed_this_dispatch) {
		p->failed_this_dispatch = 1;
		p->failure_streak++;
		p->paused_until_ns = now + backoff_ns(p);
	}
}

static int register_source(struct psync_pipeline *p)
{
	int fd = psync_source_get_fd(p->source);
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd == -EOPNOTSUPP || fd < 0)
		return fd == -EOPNOTSUPP || fd == -1 ? 0 : fd;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	p->source_fd = fd;
	return 0;
}

/* Holding needs an fd to leave unpolled and a timer to end the hold with. */
static int set_up_batching(struct psync_pipeline *p)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t hold = p->opts.batch_hold_ns;

	if (p->source_fd < 0 || hold == PSYNC_BATCH_OFF) {
		psync__batcher_init(&p->batch, 0);
		return 0;
	}
	psync__batcher_init(&p->batch, hold);
	p->hold_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->hold_timer_fd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->hold_timer_fd, &ev) < 0)
		return -errno;
	return 0;
}

static int watch_source(struct psync_pipeline *p, int watch)
{
	struct epoll_event ev = { .events = watch ? EPOLLIN : 0 };

	if (p->source_held == !watch)
		return 0;
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, p->source_fd, &ev) < 0)
		return -errno;
	p->source_held = !watch;
	return 0;
}

static int follow_batch_step(struct psync_pipeline *p, enum psync__batch_step step)
{
	int r = 0;

	if (step == PSYNC__BATCH_HOLD) {
		r = watch_source(p, 0);
		if (r == 0)
			r = psync__timerfd_arm_at(p->hold_timer_fd, p->batch.until_ns);
	} else if (step == PSYNC__BATCH_RELEASE) {
		r = psync__timerfd_arm_at(p->hold_timer_fd, 0);
		if (r == 0)
			r = watch_source(p, 1);
	}
	if (r < 0) {
		/* Without its timer or its mask a hold could stall the source:
		 * batching is off from now on, every read goes through at once. */
		psync__batcher_init(&p->batch, 0);
		watch_source(p, 1);
	}
	return r;
}

PSYNC_API int psync_pipeline_new(struct psync_source *source, struct psync_policy *policy,
				 struct psync_sink *sink, const struct psync_pipeline_options *opts,
				 struct psync_pipeline **ret)
{
	struct psync_pipeline *p;
	int r;

	if (!source || !policy || !sink || !ret || (opts && opts->sz < sizeof(opts->sz)))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->source = source;
	p->policy = policy;
	p->sink = sink;
	p->sink_fd = -1;
	p->source_fd = -1;
	p->hold_timer_fd = -1;
	p->store_generation = psync_sink_get_store_generation(sink);
	resolve_options(&p->opts, opts);
	psync__wq_init(&p->queue);
	p->queue.generation = p->store_generation;
	psync__metrics_init(&p->metrics, psync__now_ns(), p->opts.rate_window_ns,
			    p->opts.health_window_ns);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	r = p->epfd < 0 ? -errno : register_source(p);
	if (r == 0)
		r = set_up_batching(p);
	if (r == 0)
		r = psync__sink_attach(sink, on_write_done, p);
	if (r < 0) {
		if (p->epfd >= 0)
			close(p->epfd);
		if (p->hold_timer_fd >= 0)
			close(p->hold_timer_fd);
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

PSYNC_API void psync_pipeline_free(struct psync_pipeline *p)
{
	if (!p)
		return;
	/* The sink goes first: it may point at the queue's writes until then. */
	psync_source_free(p->source);
	psync_sink_free(p->sink);
	psync__wq_clear(&p->queue);
	psync_policy_free(p->policy);
	close(p->epfd);
	if (p->hold_timer_fd >= 0)
		close(p->hold_timer_fd);
	free(p);
}

/* Hands queued writes to the sink, oldest first, until it says "not now".
 * generation: the sink's store generation, as the caller just read it. */
static void submit_queued(struct psync_pipeline *p, uint64_t generation)
{
	struct psync__write_rec *rec;

	if (p->paused_until_ns && psync__now_ns() < p->paused_until_ns)
		return;
	/* A new store: nothing goes to it before check_store has dropped what
	 * was queued for the old one (a completion can write before that). */
	if (generation != p->store_generation)
		return;
	p->paused_until_ns = 0;
	while ((rec = psync__wq_peek(&p->queue))) {
		/* In flight before submit, so a completion can never find it queued. */
		psync__wq_mark_in_flight(&p->queue, rec);
		int r = psync__sink_submit(p->sink, &rec->w);

		if (r == -EAGAIN) {
			psync__wq_unsubmit(&p->queue, rec);
			break;
		}
		if (r < 0) {
			psync__wq_complete(&p->queue, &rec->w, r, 0, 0);
			p->metrics.writes_failed++;
			psync__metrics_set_error(&p->metrics, "submit refused", r, NULL);
		}
	}
}

static uint32_t to_epoll_events(short e)
{
	return ((e & POLLIN) ? EPOLLIN : 0) | ((e & POLLOUT) ? EPOLLOUT : 0);
}

/* The sink's fd and wanted events change (reconnects, pending output): follow
 * them. While a batch gathers, its replies wait for the hold's end too, as a
 * NIC's transmit completions wait for the NAPI poll: one wakeup per batch. */
static int update_sink_interest(struct psync_pipeline *p)
{
	int fd = psync_sink_get_fd(p->sink);
	struct epoll_event ev = { .events = fd >= 0 ? to_epoll_events(psync_sink_get_events(p->sink)) : 0 };

	if (p->batch.holding)
		ev.events &= ~(uint32_t)EPOLLIN;

	if (fd == p->sink_fd && ev.events == p->sink_epoll_events)
		return 0;
	/* A closed fd has left the epoll set already; ignore the error then. */
	if (p->sink_fd >= 0 && fd != p->sink_fd)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->sink_fd, NULL);
	p->sink_fd = -1;
	if (fd < 0)
		return 0;
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0))
		return -errno;
	p->sink_fd = fd;
	p->sink_epoll_events = ev.events;
	return 0;
}

static void count_event(struct psync_pipeline *p, const struct psync_link_event *ev)
{
	/* The source stamped it a moment ago: no second clock read per event. */
	uint64_t now = ev->recv_ns ? ev->recv_ns : psync__now_ns();

	switch (ev->type) {
	case PSYNC_EVENT_NEWLINK:
	case PSYNC_EVENT_DELLINK:
		p->metrics.events_received++;
		psync__rate_add(&p->metrics.event_rate, now, 1);
		break;
	case PSYNC_EVENT_OVERRUN:
		p->metrics.overruns++;
		p->metrics.last_overrun_ns = now;
		p->metrics.overrun_pending = 1;
		break;
	case PSYNC_EVENT_DUMP_DONE:
		p->metrics.dumps++;
		if (p->metrics.overrun_pending)
			p->metrics.resyncs++;
		p->metrics.overrun_pending = 0;
		break;
	}
}

static int on_source_event(const struct psync_link_event *ev, void *userdata)
{
	struct psync_pipeline *p = userdata;
	struct psync_link_event gathered;
	int r;

	/* It came at some time during the hold: its wait counts from the start. */
	if (p->gathered_since && ev->recv_ns > p->gathered_since) {
		gathered = *ev;
		gathered.recv_ns = p->gathered_since;
		ev = &gathered;
	}

	count_event(p, ev);
	p->event_writes = 0;
	r = psync__policy_on_event(p->policy, p, ev);
	note_error(p, r);
	if (p->event_writes == 0 && r != PSYNC_POLICY_DEFERRED &&
	    (ev->type == PSYNC_EVENT_NEWLINK || ev->type == PSYNC_EVENT_DELLINK))
		p->metrics.events_ignored++;
	return 0; /* a policy error is reported, not a reason to stop reading */
}

/* While a batch gathers, the source is not polled: the hold's timer wakes
 * the loop. A dispatch that comes earlier all the same (the host's loop woke
 * for something else, or drains the pipeline before it exits) reads it: a
 * hold may end early, never late, and a drain never stops at one. */
static int read_source(struct psync_pipeline *p)
{
	uint64_t now = psync__now_ns();
	unsigned budget = p->opts.dispatch_budget;
	int n;

	p->gathered_since = psync__batcher_gathered_since(&p->batch);
	n = psync_source_dispatch(p->source, budget, on_source_event, p);
	p->gathered_since = 0;
	/* A failed read counts as an empty one: a hold must not outlive its source. */
	note_error(p, follow_batch_step(p, psync__batcher_after_read(&p->batch, now,
								     n > 0 ? (unsigned)n : 0,
								     n > 0 && (unsigned)n >= budget)));
	return n;
}

/* The write side of a dispatch: new submissions, then send. */
static void send_writes(struct psync_pipeline *p)
{
	submit_queued(p, psync_sink_get_store_generation(p->sink));
	note_error(p, psync__sink_flush(p->sink));
	note_error(p, update_sink_interest(p));
}

int psync__pipeline_take_store_reset(struct psync_pipeline *p)
{
	uint64_t gen = psync_sink_get_store_generation(p->sink);

	if (gen == p->store_generation)
		return 0;
	p->store_generation = gen;
	p->queue.generation = gen;
	p->metrics.store_resets++;
	if (psync__policy_rewrites_on_store_reset(p->policy))
		p->metrics.writes_dropped += psync__wq_drop_queued(&p->queue);
	p->paused_until_ns = 0;
	p->failure_streak = 0;
	p->refused_since_ns = 0;
	return 1;
}

/* Right after the sink's dispatch, before anything is sent to the new store:
 * what the old one acknowledged is gone, and a policy that rewrites it all
 * makes what is still queued for the old one stale too. A policy that cannot
 * rewrite keeps today's replay of the queue: the best it can have. */
static void check_store(struct psync_pipeline *p)
{
	if (!psync__pipeline_take_store_reset(p))
		return;
	if (p->opts.store_reset == PSYNC_STORE_RESET_STOP)
		p->stale = 1;
	else
		note_error(p, psync__policy_on_store_reset(p->policy, p));
}

/* Completions first: they make room and decide retries. */
static void pump_writes(struct psync_pipeline *p)
{
	note_error(p, psync_sink_dispatch(p->sink));
	check_store(p);
	send_writes(p);
}

PSYNC_API int psync_pipeline_dispatch(struct psync_pipeline *p)
{
	int n;

	if (!p)
		return -EINVAL;
	if (p->stale)
		return -ESTALE;
	p->first_error = 0;
	p->failed_this_dispatch = 0;
	note_error(p, psync_sink_dispatch(p->sink));
	check_store(p);
	if (p->stale)
		return -ESTALE;
	n = read_source(p);
	note_error(p, n);
	if (n > 0)
		note_error(p, psync__policy_on_batch_end(p->policy, p));
	/* The sink's completions were taken at the start; what came since waits
	 * for the next dispatch (its fd stays readable), saving a call per wakeup. */
	send_writes(p);
	return p->first_error < 0 ? p->first_error : (n > 0 ? n : 0);
}

PSYNC_API int psync_pipeline_start(struct psync_pipeline *p)
{
	int r;

	if (!p)
		return -EINVAL;
	r = psync__policy_start(p->policy, p);
	if (r < 0)
		return r;
	p->first_error = 0;
	pump_writes(p);
	r = psync_source_request_dump(p->source);
	return r == -EOPNOTSUPP ? 0 : r;
}

PSYNC_API int psync_pipeline_get_fd(struct psync_pipeline *p)
{
	return p ? p->epfd : -EINVAL;
}

static int idle(struct psync_pipeline *p)
{
	return p->queue.queued == 0 && psync__sink_in_hand(p->sink) == 0;
}

static int ms_until(uint64_t when, uint64_t now)
{
	uint64_t ms;

	if (when <= now)
		return 0;
	ms = (when - now + PSYNC__NS_PER_MS - 1) / PSYNC__NS_PER_MS;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

PSYNC_API int psync_pipeline_get_timeout_ms(struct psync_pipeline *p)
{
	uint64_t now = psync__now_ns(), next = UINT64_MAX, timer;

	if (!p)
		return -1;
	if (p->source_fd < 0 && !psync_source_is_finished(p->source))
		return 0;
	if (p->queue.queued) {
		if (p->paused_until_ns)
			next = p->paused_until_ns;
		else if (p->sink_fd < 0)
			return 0; /* nothing to wait on: the sink takes more on the next dispatch */
	}
	if (psync__sink_in_hand(p->sink) && p->sink_fd < 0)
		return 0;
	timer = psync__sink_next_timer_ns(p->sink);
	if (timer && timer < next)
		next = timer;
	return next == UINT64_MAX ? -1 : ms_until(next, now);
}

/* Sleeps on the epoll fd until work, a timer, or the deadline. */
static int wait_for_work(struct psync_pipeline *p, uint64_t deadline)
{
	struct epoll_event events[4];
	int timeout = psync_pipeline_get_timeout_ms(p);
	int budget = deadline == UINT64_MAX ? -1 : ms_until(deadline, psync__now_ns());

	if (budget >= 0 && (timeout < 0 || budget < timeout))
		timeout = budget;
	if (epoll_wait(p->epfd, events, 4, timeout) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static uint64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX : psync__now_ns() + (uint64_t)timeout_ms * PSYNC__NS_PER_MS;
}

PSYNC_API int psync_pipeline_run(struct psync_pipeline *p, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	int r;

	if (!p)
		return -EINVAL;
	p->stop = 0;
	for (;;) {
		psync_pipeline_dispatch(p);
		if (p->stop || (psync_source_is_finished(p->source) == 1 && idle(p)))
			return 0;
		if (psync__now_ns() >= deadline)
			return -ETIMEDOUT;
		r = wait_for_work(p, deadline);
		if (r < 0)
			return r;
	}
}

PSYNC_API void psync_pipeline_stop(struct psync_pipeline *p)
{
	if (p)
		p->stop = 1;
}

PSYNC_API int psync_pipeline_flush(struct psync_pipeline *p, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	int r;

	if (!p)
		return -EINVAL;
	/* No events are read from here on: a hold would only delay the replies.
	 * To the batcher that is a read that found nothing: it lets go. */
	note_error(p, follow_batch_step(p, psync__batcher_after_read(&p->batch, psync__now_ns(),
								     0, false)));
	for (;;) {
		p->failed_this_dispatch = 0;
		pump_writes(p);
		if (idle(p))
			return 0;
		if (psync__now_ns() >= deadline)
			return -ETIMEDOUT;
		r = wait_for_work(p, deadline);
		if (r < 0)
			return r;
	}
}

PSYNC_API int psync_pipeline_write(struct psync_pipeline *p, const struct psync_write *w)
{
	uint64_t generation;
	int r;

	if (!p || !w)
		return -EINVAL;
	/* Made now, it is for the store there is now, even before check_store. */
	generation = psync_sink_get_store_generation(p->sink);
	p->queue.generation = generation;
	r = psync__wq_push(&p->queue, w);
	if (r < 0)
		return r;
	p->metrics.writes_submitted++;
	p->event_writes++;
	/* Straight on to the sink while it takes writes (it sends them as one batch
	 * at the end of the dispatch): only what it pushes back waits and coalesces. */
	submit_queued(p, generation);
	return 0;
}

PSYNC_API int psync_pipeline_read(struct psync_pipeline *p, const struct psync_read *r,
				  psync_read_fn cb, void *userdata)
{
	int ret;

	if (!p)
		return -EINVAL;
	ret = psync_sink_read(p->sink, r, cb, userdata);
	if (ret >= 0) {
		p->metrics.reads++;
		p->event_writes++;
	}
	return ret;
}

PSYNC_API int psync_pipeline_request_dump(struct psync_pipeline *p)
{
	return p ? psync_source_request_dump(p->source) : -EINVAL;
}

PSYNC_API struct psync_sink *psync_pipeline_get_sink(struct psync_pipeline *p)
{
	return p ? p->sink : NULL;
}

PSYNC_API struct psync_source *psync_pipeline_get_source(struct psync_pipeline *p)
{
	return p ? p->source : NULL;
}

/* The wait batching adds by design is not a reason to be degraded: an event
 * waits up to a hold to be read, and its acknowledgement up to one more. */
static uint64_t p99_limit(const struct psync_pipeline *p)
{
	uint64_t limit = p->opts.p99_degraded_ns, hold = p->batch.hold_ns;

	if (!limit || hold > (UINT64_MAX - limit) / 2)
		return limit;
	return limit + 2 * hold;
}

static void copy_batch_metrics(const struct psync__batcher *b, struct psync_metrics *m)
{
	m->batches = b->batches;
	m->batch_events = b->batch_events;
	m->batch_holds = b->holds;
	m->batch_held_ns = b->held_ns;
	m->batching = b->holding;
	memcpy(m->batch_sizes, b->per_batch, sizeof(m->batch_sizes));
}

PSYNC_API int psync_pipeline_get_metrics(struct psync_pipeline *p, struct psync_metrics *m)
{
	struct psync_sink_status st = { .sz = sizeof(st) };
	struct psync__health_limits limits;
	struct psync__metrics_extra x;
	struct psync_metrics *full;
	size_t sz;

	if (!p || !m || m->sz < sizeof(m->sz))
		return -EINVAL;
	full = malloc(sizeof(*full)); /* the histogram makes it too big for the stack */
	if (!full)
		return -ENOMEM;
	psync_sink_get_status(p->sink, &st);
	limits = (struct psync__health_limits){ p->opts.overrun_degraded_ns, p->opts.queue_degraded,
						p99_limit(p) };
	x = (struct psync__metrics_extra){ p->queue.queued, p->queue.n_in_flight, p->queue.n_keys, &st,
					   p->refused_since_ns };
	psync__metrics_summarise(&p->metrics, &x, &limits, psync__now_ns(), full);
	full->writes_coalesced = p->queue.coalesced;
	copy_batch_metrics(&p->batch, full);
	sz = m->sz < sizeof(*full) ? m->sz : sizeof(*full);
	memcpy(m, full, sz);
	m->sz = sz;
	free(full);
	return 0;
}
