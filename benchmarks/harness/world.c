/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sonic.h"
#include "world.h"

#define HTTP_PORT 9109
#define READY_TIMEOUT_MS 60000
#define SETTLE_TIMEOUT_MS 60000
#define MTU_BASE 1280
#define MTU_SPAN 7000

int world_open(struct world *w, const char *exe)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->exe = exe;
	w->links.fd = -1;
	w->ifindex = calloc(WORLD_MAX_PORTS, sizeof(*w->ifindex));
	w->up = calloc(WORLD_MAX_PORTS, sizeof(*w->up));
	if (!w->ifindex || !w->up)
		return -ENOMEM;
	r = redis_server_start(&w->redis, NULL);
	if (r < 0)
		return r;
	w->client = redis_server_client(&w->redis, 0, NULL);
	if (!w->client)
		return -ECONNREFUSED;
	return observer_start(w->redis.socket, WORLD_MAX_PORTS, &w->observer);
}

void world_close(struct world *w)
{
	if (w->daemon.pid > 0)
		world_stop_daemon(w);
	observer_stop(w->observer);
	if (w->client)
		redisFree(w->client);
	redis_server_stop(&w->redis);
	genlink_close(&w->links);
	free(w->ifindex);
	free(w->up);
}

/* The kernel's IPv6 work for every port that goes up (link-local address,
 * duplicate address detection, routes, solicitations) slows its flaps tenfold
 * at 4,096 ports and runs in softirqs charged to whichever process is on the
 * CPU, portsyncd included. It is none of portsyncd's business: off. */
static void disable_ipv6(void)
{
	static const char *const knobs[] = { "/proc/sys/net/ipv6/conf/all/disable_ipv6",
					     "/proc/sys/net/ipv6/conf/default/disable_ipv6" };

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		FILE *f = fopen(knobs[i], "w");

		if (f) {
			fputs("1\n", f);
			fclose(f);
		}
	}
}

int world_enter_netns(struct genlink *links)
{
	int r;

	genlink_close(links);
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	disable_ipv6();
	r = genlink_open(links);
	return r < 0 ? r : genlink_set_up(links, 1, true);
}

int world_reset(struct world *w, unsigned ports)
{
	int r;

	if (ports > WORLD_MAX_PORTS)
		return -E2BIG;
	if (w->daemon.pid > 0)
		world_stop_daemon(w);
	r = world_enter_netns(&w->links);
	if (r < 0)
		return r;
	w->ports = ports;
	w->created = 0;
	w->changes = 0;
	memset(w->up, 0, WORLD_MAX_PORTS * sizeof(*w->up));
	observer_reset(w->observer);
	return sonic_seed(w->client, ports);
}

int world_create_links(struct world *w, unsigned count)
{
	char name[32];

	for (; w->created < count; w->created++) {
		int ifindex;

		w->created_ns = bench_now_ns();
		sonic_port_name(w->created, name, sizeof(name));
		ifindex = genlink_add_ifb(&w->links, name);
		if (ifindex < 0)
			return ifindex;
		w->ifindex[w->created] = ifindex;
	}
	return 0;
}

int world_start_daemon(struct world *w)
{
	uint64_t redis_cpu = proc_cpu_ns(w->redis.pid);
	int r;

	observer_reset(w->observer);
	w->launch_ns = bench_now_ns();
	r = daemon_start(&w->daemon, w->exe, w->redis.address, w->redis.dir, HTTP_PORT);
	if (r == 0 && !observer_wait_for(w->observer, observer_config_done_ns, READY_TIMEOUT_MS))
		r = -ETIMEDOUT;
	if (r == 0) {
		w->startup_cpu_ns = proc_cpu_ns(w->daemon.pid);
		w->startup_redis_cpu_ns = proc_cpu_ns(w->redis.pid) - redis_cpu;
	}
	/* The ports were announced before PortConfigDone: orchagent's turn. */
	return r < 0 ? r : sonic_consume(w->client);
}

int world_wait_init(struct world *w)
{
	if (!observer_wait_for(w->observer, observer_init_done_ns, READY_TIMEOUT_MS))
		return -ETIMEDOUT;
	return observer_wait_quiet(w->observer, 100, READY_TIMEOUT_MS);
}

int world_stop_daemon(struct world *w)
{
	int r = daemon_stop(&w->daemon);

	return r == 0 ? 0 : r < 0 ? r : -ECHILD;
}

int world_flap_paced(struct world *w, unsigned ports, unsigned rate, unsigned count,
		     struct change_run *run)
{
	uint64_t start = bench_now_ns() + 1000000, period = rate ? 1000000000u / rate : 0;

	run->changes = 0;
	for (unsigned i = 0; i < count; i++) {
		unsigned port = i % ports;
		uint64_t sent;
		int r;

		if (period)
			bench_sleep_until_ns(start + i * period);
		w->up[port] = !w->up[port];
		sent = bench_now_ns();
		observer_mark_sent(w->observer, port, sent);
		r = genlink_set_up(&w->links, w->ifindex[port], w->up[port]);
		if (r < 0)
			return r;
		if (i == 0)
			run->first_sent_ns = sent;
		run->changes++;
	}
	run->last_acked_ns = bench_now_ns();
	return 0;
}

int world_mtu_flood(struct world *w, unsigned ports, unsigned count, struct change_run *run)
{
	run->changes = 0;
	run->first_sent_ns = bench_now_ns();
	for (unsigned i = 0; i < count; i++) {
		unsigned port = i % ports;
		int r = genlink_set_mtu(&w->links, w->ifindex[port], MTU_BASE + w->changes++ % MTU_SPAN);

		if (r < 0)
			return r;
		run->changes++;
	}
	run->last_acked_ns = bench_now_ns();
	return 0;
}

int world_settle_and_check(struct world *w, unsigned quiet_ms)
{
	struct genlink_state *links = malloc((WORLD_MAX_PORTS + 16) * sizeof(*links));
	int r = links ? observer_wait_quiet(w->observer, quiet_ms, SETTLE_TIMEOUT_MS) : -ENOMEM;
	int n = r == 0 ? genlink_dump(&w->links, links, WORLD_MAX_PORTS + 16) : r;

	r = n < 0 ? n : sonic_state_mismatches(w->client, links, n, w->created);
	free(links);
	return r;
}

double world_metric(struct world *w, const char *name)
{
	double value;

	return daemon_metric(&w->daemon, name, &value) == 0 ? value : NAN;
}
