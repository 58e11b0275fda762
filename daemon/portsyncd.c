/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portsyncd: SONiC's port synchronizer on libportsync. The kernel's links come
 * from the netlink source, SONiC's rules from the portsync policy, Redis is the
 * sink. Everything that needs a test lives in the library; this file wires.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <portsync/netlink.h>
#include <portsync/portsync.h>
#include <portsync/redis.h>

#include "config.h"
#include "log.h"
#include "options.h"

static const char *const databases[] = { "CONFIG_DB", "APPL_DB", "STATE_DB" };

/* A start-up failure: one clear line where the operator looks, then exit 1. */
__attribute__((format(printf, 2, 3))) static int start_failed(const struct daemon_options *o,
							      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!o->log_stderr)
		fprintf(stderr, "portsyncd: %s\n", msg);
	log_msg(LOG_ERR, "%s", msg);
	return -1;
}

static int open_redis(const struct daemon_options *o, const struct daemon_config *c,
		      struct psync_sink **ret)
{
	struct psync_redis_options ro = {
		.sz = sizeof(ro), .address = o->redis, .db_config = o->db_config,
		.password_file = c->password_file[0] ? c->password_file : NULL,
		.password_env = c->password_env[0] ? c->password_env : NULL,
		.max_in_flight = c->max_in_flight, .connect_timeout_ms = c->connect_timeout_ms,
		.backoff_min_ms = c->backoff_min_ms, .backoff_max_ms = c->backoff_max_ms,
	};
	char err[256] = "";

	if (psync_redis_sink_new(&ro, err, sizeof(err), ret) < 0)
		return start_failed(o, "%s", err);
	for (size_t i = 0; i < sizeof(databases) / sizeof(databases[0]); i++) {
		if (psync_redis_sink_connect(*ret, databases[i], (int)c->connect_timeout_ms, err,
					     sizeof(err)) < 0) {
			psync_sink_free(*ret);
			*ret = NULL;
			return start_failed(o, "cannot reach Redis for %s: %s", databases[i], err);
		}
	}
	return 0;
}

static int open_netlink(const struct daemon_options *o, const struct daemon_config *c,
			struct psync_source **ret)
{
	struct psync_netlink_options no = { .sz = sizeof(no), .rcvbuf_bytes = c->receive_buffer,
					    .dispatch_budget = c->netlink_budget };
	int r = psync_netlink_source_new(&no, ret);

	if (r < 0)
		return start_failed(o, "cannot open the netlink socket: %s", strerror(-r));
	log_msg(LOG_INFO, "netlink receive buffer: %d bytes", psync_netlink_source_get_rcvbuf(*ret));
	return 0;
}

static int link_down(uint32_t ifindex, const char *ifname, void *userdata)
{
	(void)ifname;
	(void)userdata;
	return psync_netlink_set_link_down((int)ifindex);
}

/* The netdevs present now: the policy turns the Ethernet* ones into old links. */
static struct psync_portsync_link *list_links(size_t *n)
{
	struct if_nameindex *all = if_nameindex(), *i;
	struct psync_portsync_link *links;

	*n = 0;
	if (!all)
		return NULL;
	for (i = all; i->if_index; i++)
		(*n)++;
	links = calloc(*n ? *n : 1, sizeof(*links));
	for (size_t k = 0; links && k < *n; k++) {
		links[k].ifindex = all[k].if_index;
		snprintf(links[k].ifname, sizeof(links[k].ifname), "%s", all[k].if_name);
	}
	if_freenameindex(all);
	return links;
}

static int make_policy(const struct daemon_options *o, const struct daemon_config *c,
		       struct psync_policy **ret)
{
	struct psync_portsync_options po = { .sz = sizeof(po), .set_link_down = link_down,
					     .log = log_from_library,
					     .start_timeout_ms = (int)c->start_timeout_ms };
	int r;

	po.existing_links = list_links(&po.n_existing_links);
	r = psync_portsync_policy_new(&po, ret);
	free((void *)po.existing_links);
	return r < 0 ? start_failed(o, "cannot create the policy: %s", strerror(-r)) : 0;
}

static int make_pipeline(const struct daemon_options *o, const struct daemon_config *c,
			 struct psync_pipeline **ret)
{
	struct psync_pipeline_options po = {
		.sz = sizeof(po), .max_attempts = c->max_attempts,
		.retry_min_ns = (uint64_t)c->retry_min_ms * 1000000,
		.retry_max_ns = (uint64_t)c->retry_max_ms * 1000000, .queue_degraded = c->queue_degraded,
	};
	struct psync_source *source = NULL;
	struct psync_policy *policy = NULL;
	struct psync_sink *sink = NULL;
	int r;

	if (open_redis(o, c, &sink) < 0 || open_netlink(o, c, &source) < 0 || make_policy(o, c, &policy) < 0)
		goto fail;
	r = psync_pipeline_new(source, policy, sink, &po, ret);
	if (r == 0)
		return 0;
	start_failed(o, "cannot create the pipeline: %s", strerror(-r));
fail:
	psync_source_free(source);
	psync_policy_free(policy);
	psync_sink_free(sink);
	return -1;
}

static int open_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Dispatches until SIGTERM or SIGINT. A failing part is logged once per change. */
static void run(struct psync_pipeline *p, int sigfd)
{
	struct pollfd fds[2] = { { psync_pipeline_get_fd(p), POLLIN, 0 }, { sigfd, POLLIN, 0 } };
	struct signalfd_siginfo si;
	int last_error = 0;

	for (;;) {
		int r;

		if (poll(fds, 2, psync_pipeline_get_timeout_ms(p)) < 0 && errno != EINTR)
			log_msg(LOG_ERR, "poll: %s", strerror(errno));
		if (fds[1].revents && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			log_msg(LOG_NOTICE, "%s: flushing and exiting", strsignal((int)si.ssi_signo));
			return;
		}
		r = psync_pipeline_dispatch(p);
		if (r < 0 && r != last_error)
			log_msg(LOG_WARNING, "dispatch: %s", strerror(-r));
		last_error = r < 0 ? r : 0;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Events the kernel queued before the signal are part of the state to leave
 * behind: handle them, then wait for every write, both within the time given. */
static void shut_down(struct psync_pipeline *p, unsigned flush_timeout_ms)
{
	struct psync_metrics m = { .sz = sizeof(m) };
	uint64_t deadline = now_ms() + flush_timeout_ms;

	while (psync_pipeline_dispatch(p) > 0 && now_ms() < deadline)
		;
	if (psync_pipeline_flush(p, (int)(deadline > now_ms() ? deadline - now_ms() : 0)) == -ETIMEDOUT)
		log_msg(LOG_WARNING, "writes still pending after %u ms; giving up on them", flush_timeout_ms);
	psync_pipeline_get_metrics(p, &m);
	log_msg(LOG_NOTICE, "%llu events, %llu writes acknowledged, %llu failed; latency event->ack "
		"p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us",
		(unsigned long long)m.events_received, (unsigned long long)m.writes_acked,
		(unsigned long long)m.writes_failed, m.latency_p50_ns / 1e3, m.latency_p90_ns / 1e3,
		m.latency_p99_ns / 1e3, m.latency_max_ns / 1e3);
}

int main(int argc, char **argv)
{
	struct daemon_options opts;
	struct daemon_config cfg;
	struct psync_pipeline *p = NULL;
	char err[512];
	int sigfd, r;

	switch (parse_options(argc, argv, &opts)) {
	case PARSE_EXIT_OK: return 0;
	case PARSE_EXIT_FAIL: return 1;
	case PARSE_RUN: break;
	}
	if (load_config(opts.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "portsyncd: %s\n", err);
		return 1;
	}
	log_open(opts.log_stderr, opts.log_level, cfg.rate_limit, cfg.rate_burst);
	sigfd = open_signals();
	if (sigfd < 0 || make_pipeline(&opts, &cfg, &p) < 0) {
		log_close();
		return 1;
	}
	r = psync_pipeline_start(p);
	if (r < 0) {
		start_failed(&opts, "start-up failed: %s", strerror(-r));
	} else {
		run(p, sigfd);
		shut_down(p, cfg.flush_timeout_ms);
	}
	psync_pipeline_free(p);
	close(sigfd);
	log_close();
	return r < 0 ? 1 : 0;
}
