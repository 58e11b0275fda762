/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "metrics_page.h"
#include "notify.h"
#include "outage.h"
#include "summary.h"

#define TICK_MS 1000
#define STATUS_EVERY_MS 10000
#define TRIM_EVERY_MS 2000
#define MAX_POLLFDS 80

/* What the once-a-second tick keeps track of. */
struct tick_state {
	uint64_t next_tick, next_summary, next_status, next_watchdog;
	uint64_t watchdog_ms; /* 0: no watchdog */
	int ready_sent;
	enum psync_health last_health; /* as STATUS= last said */
	struct outage outage;
	uint64_t next_trim, events_at_trim;
};

int loop_open_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	/* A Redis or HTTP peer that goes away is an error return, not a death;
	 * it also spares the Redis sink its SIGPIPE guard on every write. */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int read_metrics(struct loop *l, struct psync_metrics *m)
{
	m->sz = sizeof(*m);
	return psync_pipeline_get_metrics(l->p, m);
}

static void log_summary(struct loop *l)
{
	struct psync_metrics m;
	char line[512];

	if (read_metrics(l, &m) < 0)
		return;
	summary_line(&m, line, sizeof(line));
	log_msg(LOG_NOTICE, "%s", line);
	if (l->cfg->state_db_stats)
		summary_write_state_db(l->p, &m);
}

/* SIGHUP: what can change without a restart is taken from the file again. */
static void reload(struct loop *l)
{
	struct daemon_config fresh;
	char err[512];

	if (!l->opts->config) {
		log_msg(LOG_NOTICE, "SIGHUP: no --config file to read again");
		return;
	}
	if (load_config(l->opts->config, &fresh, err, sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "SIGHUP: keeping the current settings: %s", err);
		return;
	}
	l->cfg->rate_limit = fresh.rate_limit;
	l->cfg->rate_burst = fresh.rate_burst;
	l->cfg->summary_interval_s = fresh.summary_interval_s;
	l->cfg->state_db_stats = fresh.state_db_stats;
	log_set_rate(fresh.rate_limit, fresh.rate_burst);
	log_msg(LOG_NOTICE, "SIGHUP: reloaded [log] and [metrics] summary settings from %s; "
		"other keys take effect at the next start", l->opts->config);
}

/* Returns 1 when the loop must stop. */
static int handle_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	switch (si.ssi_signo) {
	case SIGHUP:
		reload(l);
		return 0;
	case SIGUSR1:
		log_summary(l);
		return 0;
	}
	log_msg(LOG_NOTICE, "%s: flushing and exiting", strsignal((int)si.ssi_signo));
	return 1;
}

/* READY=1 once the first dump is applied: every write of it acknowledged. */
static void check_ready(struct tick_state *t, const struct psync_metrics *m)
{
	char line[512];

	if (t->ready_sent || m->dumps == 0 || m->queue_depth + m->in_flight)
		return;
	t->ready_sent = 1;
	summary_line(m, line, sizeof(line));
	notify_status("%s", line);
	notify_ready();
	log_msg(LOG_INFO, "ready: first dump applied");
}

/*
 * Start-up (the port list read, every port announced at once) and bursts are
 * the heap's high-water marks; freed, that memory stays resident in glibc's
 * arenas unless handed back: 19 MB instead of 5.4 with 10,000 ports. So once
 * ready, and then at most every TRIM_EVERY_MS after work, while nothing is
 * queued or in flight. A trim of a few MB of heap takes tens of microseconds.
 */
static void release_heap(struct tick_state *t, const struct psync_metrics *m, uint64_t now)
{
#ifdef __GLIBC__
	if (!t->ready_sent || m->queue_depth + m->in_flight || now < t->next_trim ||
	    m->events_received == t->events_at_trim)
		return;
	malloc_trim(0);
	t->events_at_trim = m->events_received;
	t->next_trim = now + TRIM_EVERY_MS;
#else
	(void)t, (void)m, (void)now;
#endif
}

static void tick(struct loop *l, struct tick_state *t, uint64_t now)
{
	struct psync_metrics m;
	char line[512];

	t->next_tick = now + TICK_MS;
	if (read_metrics(l, &m) < 0)
		return;
	check_ready(t, &m);
	outage_check(&t->outage, &m, now * 1000000);
	release_heap(t, &m, now);
	/* The watchdog watches this loop, not Redis: a Redis outage is ridden out
	 * (and told in STATUS= and /health), a restart would not end it. */
	if (t->watchdog_ms && now >= t->next_watchdog) {
		notify_watchdog();
		t->next_watchdog = now + t->watchdog_ms / 2;
	}
	if (t->ready_sent && (now >= t->next_status || m.health != t->last_health)) {
		summary_line(&m, line, sizeof(line));
		notify_status("%s", line);
		t->next_status = now + STATUS_EVERY_MS;
		t->last_health = m.health;
	}
	if (l->cfg->summary_interval_s && now >= t->next_summary) {
		if (t->next_summary)
			log_summary(l);
		t->next_summary = now + (uint64_t)l->cfg->summary_interval_s * 1000;
	}
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static size_t fill_pollfds(struct loop *l, struct pollfd *fds)
{
	size_t n = 0;

	fds[n++] = (struct pollfd){ .fd = psync_pipeline_get_fd(l->p), .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
	if (l->http) {
		int k = http_server_pollfds(l->http, fds + n, MAX_POLLFDS - n);

		n += k > 0 ? (size_t)k : 0;
	}
	return n;
}

/* The HTTP server's descriptors follow the pipeline's and the signalfd; an
 * idle server is left alone unless one of its deadlines passed. */
static int http_due(struct loop *l, const struct pollfd *fds, size_t n)
{
	if (!l->http)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (fds[i].revents)
			return 1;
	return http_server_timeout_ms(l->http) == 0;
}

/* 0 after SIGTERM or SIGINT; -ESTALE when the store was reset and the
 * pipeline was told to stop rather than start again. */
static int serve(struct loop *l)
{
	struct tick_state t = { .watchdog_ms = notify_watchdog_usec() / 1000 };
	struct pollfd fds[MAX_POLLFDS];
	int last_error = 0, http_warned = 0;

	for (;;) {
		size_t n = fill_pollfds(l, fds);
		uint64_t now = now_ms();
		int timeout = min_timeout(psync_pipeline_get_timeout_ms(l->p),
					  (int)(t.next_tick > now ? t.next_tick - now : 0));
		int r;

		if (l->http)
			timeout = min_timeout(timeout, http_server_timeout_ms(l->http));
		log_flush(); /* what the last round said, before sleeping */
		if (poll(fds, n, timeout) < 0 && errno != EINTR)
			log_msg(LOG_ERR, "poll: %s", strerror(errno));
		if (fds[1].revents && handle_signal(l))
			return 0;
		r = psync_pipeline_dispatch(l->p);
		if (r == -ESTALE) {
			log_msg(LOG_ERR, "Redis came back without its data (a new server); exiting "
				"for the supervisor to restart portsyncd ([redis] exit_on_reset = 1)");
			return r;
		}
		if (r < 0 && r != last_error)
			log_msg(LOG_WARNING, "dispatch: %s", strerror(-r));
		last_error = r < 0 ? r : 0;
		/* An accept that fails (EMFILE) leaves the listener readable: say
		 * so once, rather than spin silently. */
		r = http_due(l, fds, n) ? http_server_dispatch(l->http) : 0;
		if (r < 0 && !http_warned++)
			log_msg(LOG_WARNING, "metrics endpoint: cannot accept: %s", strerror(-r));
		if (now_ms() >= t.next_tick)
			tick(l, &t, now_ms());
	}
}

/* Events the kernel queued before the signal are part of the state to leave
 * behind: handle them, then wait for every write, both within the time given. */
static void shut_down(struct loop *l)
{
	struct psync_metrics m;
	char line[512];
	uint64_t deadline = now_ms() + l->cfg->flush_timeout_ms;

	notify_stopping();
	log_limit(0); /* what is said from here on is what an operator reads last */
	while (psync_pipeline_dispatch(l->p) > 0 && now_ms() < deadline)
		;
	if (psync_pipeline_flush(l->p, (int)(deadline > now_ms() ? deadline - now_ms() : 0)) == -ETIMEDOUT)
		log_msg(LOG_WARNING, "writes still pending after %u ms; giving up on them",
			l->cfg->flush_timeout_ms);
	if (read_metrics(l, &m) == 0) {
		summary_line(&m, line, sizeof(line));
		log_msg(LOG_NOTICE, "%s", line);
	}
}

int loop_run(struct loop *l)
{
	int r;

	log_limit(1); /* start-up is over: floods are limited from here */
	log_gather(1);
	r = serve(l);
	log_gather(0);
	if (r < 0)
		return r;
	shut_down(l);
	return 0;
}
