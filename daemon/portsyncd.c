/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portsyncd: SONiC's port synchronizer on libportsync. The kernel's links come
 * from the netlink source, SONiC's rules from the portsync policy, Redis is the
 * sink. Everything that needs a test lives in the library; this file wires.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <portsync/netlink.h>
#include <portsync/portsync.h>
#include <portsync/redis.h>

#include "config.h"
#include "log.h"
#include "logger_table.h"
#include "loop.h"
#include "metrics_page.h"
#include "options.h"

static const char *const databases[] = { "CONFIG_DB", "APPL_DB", "STATE_DB" };

/* A start-up failure: one clear line where the operator looks, then exit 1. */
__attribute__((format(printf, 1, 2))) static int start_failed(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_get_output() != LOG_TO_STDERR)
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
		.reply_timeout_ms = c->reply_timeout_ms,
		.backoff_min_ms = c->backoff_min_ms, .backoff_max_ms = c->backoff_max_ms,
	};
	char err[256] = "";

	if (psync_redis_sink_new(&ro, err, sizeof(err), ret) < 0)
		return start_failed("%s", err);
	for (size_t i = 0; i < sizeof(databases) / sizeof(databases[0]); i++) {
		if (psync_redis_sink_connect(*ret, databases[i], (int)c->connect_timeout_ms, err,
					     sizeof(err)) < 0) {
			psync_sink_free(*ret);
			*ret = NULL;
			return start_failed("cannot reach Redis for %s: %s", databases[i], err);
		}
	}
	return 0;
}

static int open_netlink(const struct daemon_config *c,
			struct psync_source **ret)
{
	struct psync_netlink_options no = { .sz = sizeof(no), .rcvbuf_bytes = c->receive_buffer,
					    .dispatch_budget = c->netlink_budget };
	int r = psync_netlink_source_new(&no, ret);

	if (r < 0)
		return start_failed("cannot open the netlink socket: %s", strerror(-r));
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

static int make_policy(const struct daemon_config *c,
		       struct psync_policy **ret)
{
	struct psync_portsync_options po = { .sz = sizeof(po), .set_link_down = link_down,
					     .log = log_from_library,
					     .start_timeout_ms = (int)c->start_timeout_ms,
					     .carrier_changes = (int)c->carrier_changes,
					     .log_wanted = log_wanted_by_library };
	int r;

	po.existing_links = list_links(&po.n_existing_links);
	r = psync_portsync_policy_new(&po, ret);
	free((void *)po.existing_links);
	return r < 0 ? start_failed("cannot create the policy: %s", strerror(-r)) : 0;
}

static int make_pipeline(const struct daemon_options *o, const struct daemon_config *c,
			 struct psync_pipeline **ret)
{
	struct psync_pipeline_options po = {
		.sz = sizeof(po), .max_attempts = c->max_attempts,
		.retry_min_ns = (uint64_t)c->retry_min_ms * 1000000,
		.retry_max_ns = (uint64_t)c->retry_max_ms * 1000000, .queue_degraded = c->queue_degraded,
		.overrun_degraded_ns = (uint64_t)c->overrun_degraded_s * 1000000000,
		.p99_degraded_ns = (uint64_t)c->p99_degraded_us * 1000,
		.health_window_ns = (uint64_t)c->health_window_s * 1000000000,
		.store_reset = c->exit_on_reset ? PSYNC_STORE_RESET_STOP : PSYNC_STORE_RESET_RESTART,
		.batch_hold_ns = c->batch_hold_us ? (uint64_t)c->batch_hold_us * 1000 : PSYNC_BATCH_OFF,
	};
	struct psync_source *source = NULL;
	struct psync_policy *policy = NULL;
	struct psync_sink *sink = NULL;
	int r;

	if (open_redis(o, c, &sink) < 0 || open_netlink(c, &source) < 0 || make_policy(c, &policy) < 0)
		goto fail;
	r = psync_pipeline_new(source, policy, sink, &po, ret);
	if (r == 0)
		return 0;
	start_failed("cannot create the pipeline: %s", strerror(-r));
fail:
	psync_source_free(source);
	psync_policy_free(policy);
	psync_sink_free(sink);
	return -1;
}

static int open_metrics(const struct daemon_config *c,
			struct loop *l)
{
	int r;

	if (!c->listen[0])
		return 0;
	r = metrics_page_serve(c->listen, l);
	if (r < 0)
		return start_failed("cannot serve metrics on %s: %s", c->listen, strerror(-r));
	log_msg(LOG_INFO, "metrics on http://%s/metrics", c->listen);
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon_options opts;
	struct daemon_config cfg;
	struct loop l = { .opts = &opts, .cfg = &cfg };
	char err[512];
	int r = -1;

	switch (parse_options(argc, argv, &opts)) {
	case PARSE_EXIT_OK: return 0;
	case PARSE_EXIT_FAIL: return 1;
	case PARSE_RUN: break;
	}
	if (load_config(opts.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "portsyncd: %s\n", err);
		return 1;
	}
	log_open(opts.log_stderr ? LOG_TO_STDERR : LOG_TO_SYSLOG, opts.log_level, cfg.rate_limit,
		 cfg.rate_burst);
	l.sigfd = loop_open_signals();
	if (l.sigfd >= 0 && make_pipeline(&opts, &cfg, &l.p) == 0 && open_metrics(&cfg, &l) == 0) {
		logger_table_start(l.p, (int)cfg.start_timeout_ms, opts.log_level_given, opts.log_stderr);
		r = psync_pipeline_start(l.p);
		if (r < 0)
			start_failed("start-up failed: %s", strerror(-r));
		else
			r = loop_run(&l);
	}
	metrics_page_stop(&l);
	psync_pipeline_free(l.p);
	if (l.sigfd >= 0)
		close(l.sigfd);
	log_close();
	return r < 0 ? 1 : 0;
}
