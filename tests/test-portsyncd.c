/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SONiC's portsyncd contract (C1-C20), black-box: the netlink source, the
 * portsync policy and the Redis sink in a private network namespace against a
 * throwaway redis-server. What this kernel cannot make (team links, a DELLINK
 * that still names a master) goes through the replay source instead.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <portsync/netlink.h>
#include <portsync/portsync.h>
#include <portsync/redis.h>

#include "helpers/netns.h"
#include "helpers/redis_server.h"

static struct redis_server srv;
static redisContext *appl, *config, *state;
static struct psync_pipeline *pipe_;
static struct psync_policy *policy;
static struct psync_portsync_options popts;
static struct psync_portsync_link existing[64];
static int use_replay;
static struct psync_link_event replay[64];
static size_t n_replay;

static void setup(void)
{
	netns_enter();
	cr_assert_eq(redis_server_start(&srv, NULL), 0);
	appl = redis_server_client(&srv, 0, NULL);
	config = redis_server_client(&srv, 4, NULL);
	state = redis_server_client(&srv, 6, NULL);
	cr_assert(appl && config && state);
	popts = (struct psync_portsync_options){ .sz = sizeof(popts) };
	use_replay = 0;
	n_replay = 0;
}

static void teardown(void)
{
	psync_pipeline_free(pipe_);
	pipe_ = NULL;
	redisFree(appl);
	redisFree(config);
	redisFree(state);
	redis_server_stop(&srv);
}

TestSuite(portsyncd, .init = setup, .fini = teardown, .timeout = 120);

/* ---- Redis helpers ---- */
static void cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	cr_assert_not_null(r, "redis: %s", c->errstr);
	cr_assert_neq(r->type, REDIS_REPLY_ERROR, "redis: %s", r->str);
	freeReplyObject(r);
}

/* The value of a field, "" when absent. */
static const char *hget(redisContext *c, const char *key, const char *field)
{
	static char buf[8][128];
	static unsigned next;
	char *out = buf[next++ % 8];
	redisReply *r = redisCommand(c, "HGET %s %s", key, field);

	cr_assert_not_null(r);
	snprintf(out, 128, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return out;
}

static long long integer(redisContext *c, const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(c, fmt, arg);
	long long v;

	cr_assert(r && r->type == REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static long long exists(redisContext *c, const char *key)
{
	return integer(c, "EXISTS %s", key);
}

static long long hlen(redisContext *c, const char *key)
{
	return integer(c, "HLEN %s", key);
}

static void config_port(const char *name, const char *lanes)
{
	cmd(config, "HSET PORT|%s lanes %s speed 100000 alias etp-%s mtu 9100", name, lanes, name);
}

/* orchagent: what ConsumerStateTable::pops does to APPL_DB PORT_TABLE. */
static void consume(void)
{
	cr_assert_eq(redis_server_consume_port_table(appl), 0);
}

static void appl_port(const char *name)
{
	cmd(appl, "HSET PORT_TABLE:%s lanes 0 speed 100000", name);
}

/* Every command Redis executes from now on, via MONITOR, ended by a sentinel. */
static redisContext *monitor_start(void)
{
	redisContext *m = redis_server_client(&srv, 0, NULL);
	redisReply *r;

	cr_assert_not_null(m);
	r = redisCommand(m, "MONITOR");
	cr_assert(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	return m;
}

/* Collects monitored commands until the sentinel ECHO; returns how many. */
static size_t monitor_collect(redisContext *m, char lines[][256], size_t max)
{
	redisReply *r;
	size_t n = 0;

	cmd(appl, "ECHO psync-monitor-end");
	while (redisGetReply(m, (void **)&r) == REDIS_OK) {
		int end = r->type == REDIS_REPLY_STATUS && strstr(r->str, "psync-monitor-end");

		if (!end && r->type == REDIS_REPLY_STATUS && n < max)
			snprintf(lines[n++], 256, "%s", r->str);
		freeReplyObject(r);
		if (end)
			break;
	}
	redisFree(m);
	return n;
}

static int find_line(char lines[][256], size_t n, const char *a, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], a) && (!b || strstr(lines[i], b)))
			return (int)i;
	return -1;
}

/* ---- the pipeline under test ---- */
static void snapshot_existing(void)
{
	struct if_nameindex *all = if_nameindex();
	size_t n = 0;

	for (struct if_nameindex *i = all; i && i->if_index && n < 64; i++, n++) {
		existing[n].ifindex = i->if_index;
		snprintf(existing[n].ifname, sizeof(existing[n].ifname), "%s", i->if_name);
	}
	if_freenameindex(all);
	popts.existing_links = existing;
	popts.n_existing_links = n;
}

static int set_down(uint32_t ifindex, const char *name, void *ud)
{
	(void)name;
	(void)ud;
	return psync_netlink_set_link_down((int)ifindex);
}

static int start(void)
{
	struct psync_redis_options ro = { .sz = sizeof(ro), .address = srv.address };
	struct psync_netlink_options no = { .sz = sizeof(no) };
	struct psync_source *src;
	struct psync_sink *sink;
	char err[256];

	snapshot_existing();
	popts.set_link_down = set_down;
	cr_assert_eq(psync_redis_sink_new(&ro, err, sizeof(err), &sink), 0, "%s", err);
	if (use_replay)
		cr_assert_eq(psync_replay_source_new(replay, n_replay, &src), 0);
	else
		cr_assert_eq(psync_netlink_source_new(&no, &src), 0);
	cr_assert_eq(psync_portsync_policy_new(&popts, &policy), 0);
	cr_assert_eq(psync_pipeline_new(src, policy, sink, NULL, &pipe_), 0);
	return psync_pipeline_start(pipe_);
}

/* Drives the pipeline for ms milliseconds, then waits for its writes. */
static void run_for(int ms)
{
	struct timespec t0, t;
	struct pollfd pfd = { .fd = psync_pipeline_get_fd(pipe_), .events = POLLIN };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int timeout = psync_pipeline_get_timeout_ms(pipe_), left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		poll(&pfd, 1, timeout < 0 || timeout > left ? left : timeout);
		psync_pipeline_dispatch(pipe_);
	}
	cr_assert_eq(psync_pipeline_flush(pipe_, 5000), 0);
}

static struct psync_portsync_status status(void)
{
	struct psync_portsync_status st = { .sz = sizeof(st) };

	cr_assert_eq(psync_portsync_policy_get_status(policy, &st), 0);
	return st;
}

static void replay_link(enum psync_event_type t, const char *name, uint32_t ifindex, uint32_t flags,
			uint32_t master, const char *kind)
{
	struct psync_link_event *ev = &replay[n_replay++];

	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	ev->ifindex = ifindex;
	ev->flags = flags;
	ev->mtu = 9100;
	ev->master = master;
	snprintf(ev->ifname, sizeof(ev->ifname), "%s", name);
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind ? kind : "");
	use_replay = 1;
}

static const char *st(const char *port, const char *field)
{
	char key[64];

	snprintf(key, sizeof(key), "PORT_TABLE|%s", port);
	return hget(state, key, field);
}

static long long st_fields(const char *port)
{
	char key[64];

	snprintf(key, sizeof(key), "PORT_TABLE|%s", port);
	return hlen(state, key);
}

/* ---- C1-C3: start-up and the producer protocol ---- */
Test(portsyncd, c1_cold_start_copies_config_then_port_config_done)
{
	config_port("Ethernet0", "0,1,2,3");
	config_port("Ethernet4", "4,5,6,7");
	config_port("Ethernet8", "8,9,10,11");
	redisContext *m = monitor_start();
	cr_assert_eq(start(), 0);
	run_for(100);
	char lines[512][256];
	size_t n = monitor_collect(m, lines, 512);
	int done = find_line(lines, n, "EVALSHA", "PortConfigDone");
	cr_assert_geq(done, 0);
	for (int i = 0; i < 3; i++) {
		char name[16], key[32];

		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		snprintf(key, sizeof(key), "_PORT_TABLE:%s", name);
		cr_assert_lt(find_line(lines, n, "EVALSHA", name), done, "%s before PortConfigDone", name);
		cr_assert_eq(hlen(appl, key), 4, "every CONFIG_DB field, no more");
		cr_assert_str_eq(hget(appl, key, "speed"), "100000");
		cr_assert_str_eq(hget(appl, key, "alias"), hget(config, strcat((char[40]){ "PORT|" }, name), "alias"));
	}
	cr_assert_str_eq(hget(appl, "_PORT_TABLE:PortConfigDone", "count"), "3");
	cr_assert_eq(integer(appl, "SCARD %s", "PORT_TABLE_KEY_SET"), 4);
	cr_assert_str_eq(hget(state, "WARM_RESTART_TABLE|portsyncd", "restore_count"), "0");
}

Test(portsyncd, c2_zero_ports_then_port_init_done_after_the_first_batch)
{
	cr_assert_eq(start(), 0);
	cr_assert_str_eq(hget(appl, "_PORT_TABLE:PortConfigDone", "count"), "0");
	run_for(200); /* the dump is the first netlink batch */
	cr_assert_str_eq(hget(appl, "_PORT_TABLE:PortInitDone", "lanes"), "0");
}

Test(portsyncd, c3_publish_only_for_keys_new_to_the_key_set)
{
	redisContext *sub = redis_server_client(&srv, 0, NULL);
	redisReply *r;
	int messages = 0;

	config_port("Ethernet0", "0");
	config_port("Ethernet4", "4");
	cmd(appl, "SADD PORT_TABLE_KEY_SET Ethernet0"); /* pending from before: no new G */
	r = redisCommand(sub, "SUBSCRIBE PORT_TABLE_CHANNEL@0");
	freeReplyObject(r);
	cr_assert_eq(start(), 0);
	run_for(100);
	cmd(appl, "PUBLISH PORT_TABLE_CHANNEL@0 end");
	while (redisGetReply(sub, (void **)&r) == REDIS_OK) {
		int end = r->element[2]->type == REDIS_REPLY_STRING && strcmp(r->element[2]->str, "end") == 0;

		if (!end) {
			cr_assert_str_eq(r->element[2]->str, "G");
			messages++;
		}
		freeReplyObject(r);
		if (end)
			break;
	}
	redisFree(sub);
	cr_assert_eq(messages, 2, "Ethernet4 and PortConfigDone are new, Ethernet0 is not");
}

/* ---- C4-C9: link events into STATE_DB ---- */
Test(portsyncd, c4_newlink_with_an_appl_entry_writes_the_four_fields)
{
	appl_port("Ethernet0");
	cr_assert_eq(start(), 0);
	int idx = netns_link_add("Ethernet0", "ifb");
	cr_assert_gt(idx, 0);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "state"), "ok");
	cr_assert_str_eq(st("Ethernet0", "netdev_oper_status"), "down");
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "down");
	cr_assert_str_eq(st("Ethernet0", "mtu"), "1500");
	cr_assert_eq(st_fields("Ethernet0"), 4,
		     "exactly SONiC's four fields, though this kernel reports carrier changes");
}

/* SONiC's HSET order. A small Redis hash keeps insertion order, which every
 * HGETALL reader of a fresh row sees. */
Test(portsyncd, c4_fields_are_written_in_sonic_order)
{
	static const char *const order[] = { "state", "netdev_oper_status", "admin_status", "mtu" };
	redisReply *r;

	appl_port("Ethernet0");
	cr_assert_eq(start(), 0);
	netns_link_add("Ethernet0", "ifb");
	run_for(150);
	r = redisCommand(state, "HGETALL PORT_TABLE|Ethernet0");
	cr_assert(r && r->type == REDIS_REPLY_ARRAY);
	cr_assert_eq(r->elements, 8);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(r->element[2 * i]->str, order[i], "field %zu", i);
	freeReplyObject(r);
}

Test(portsyncd, c4_carrier_changes_only_when_opted_in)
{
	char *end;

	popts.carrier_changes = 1;
	appl_port("Ethernet0");
	cr_assert_eq(start(), 0);
	netns_link_add("Ethernet0", "ifb");
	run_for(150);
	cr_assert_eq(st_fields("Ethernet0"), 5, "the four fields, and the extension");
	strtoul(st("Ethernet0", "carrier_changes"), &end, 10);
	cr_assert(*st("Ethernet0", "carrier_changes") && !*end, "carrier_changes is a number");
}

Test(portsyncd, c5_no_appl_entry_no_write_until_it_exists)
{
	cr_assert_eq(start(), 0);
	int idx = netns_link_add("Ethernet0", "ifb");
	run_for(150);
	cr_assert_eq(exists(state, "PORT_TABLE|Ethernet0"), 0);
	appl_port("Ethernet0");
	netns_link_set_up(idx, true);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "up");
}

Test(portsyncd, c6_state_follows_admin_carrier_and_mtu_keeping_foreign_fields)
{
	appl_port("Ethernet0");
	appl_port("Ethernet4");
	cmd(state, "HSET PORT_TABLE|Ethernet0 speed 100000 host_tx_ready true");
	cr_assert_eq(start(), 0);
	int e0 = netns_veth_add("Ethernet0", "Ethernet4");
	int e4 = netns_ifindex("Ethernet4");
	netns_link_set_up(e0, true);
	netns_link_set_up(e4, true);
	run_for(200);
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "up");
	cr_assert_str_eq(st("Ethernet0", "netdev_oper_status"), "up", "carrier from the peer");
	netns_link_set_up(e4, false); /* the peer goes down: carrier off */
	run_for(200);
	cr_assert_str_eq(st("Ethernet0", "netdev_oper_status"), "down");
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "up");
	netns_link_set_mtu(e0, 9100);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "mtu"), "9100");
	cr_assert_str_eq(st("Ethernet0", "speed"), "100000", "foreign fields kept");
	cr_assert_str_eq(st("Ethernet0", "host_tx_ready"), "true");
}

Test(portsyncd, c7_dellink_deletes_the_whole_key)
{
	appl_port("Ethernet0");
	cmd(state, "HSET PORT_TABLE|Ethernet0 speed 100000");
	cr_assert_eq(start(), 0);
	int idx = netns_link_add("Ethernet0", "ifb");
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "state"), "ok");
	netns_link_delete(idx);
	run_for(150);
	cr_assert_eq(exists(state, "PORT_TABLE|Ethernet0"), 0, "foreign fields go too");
}

Test(portsyncd, c8_dellink_with_a_master_keeps_the_key)
{
	/* The kernel unlinks a port from its master before its RTM_DELLINK: replay. */
	appl_port("Ethernet0");
	replay_link(PSYNC_EVENT_NEWLINK, "Ethernet0", 10, IFF_UP | IFF_RUNNING, 20, NULL);
	replay_link(PSYNC_EVENT_DELLINK, "Ethernet0", 10, IFF_UP | IFF_RUNNING, 20, NULL);
	cr_assert_eq(start(), 0);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "state"), "ok");
	cr_assert_eq(status().deleted, 0);
}

Test(portsyncd, c9_newlink_with_a_master_is_written)
{
	appl_port("Ethernet0");
	cr_assert_eq(start(), 0);
	int br = netns_link_add("Bridge", "bridge");
	int idx = netns_link_add("Ethernet0", "ifb");
	run_for(100);
	netns_link_set_master(idx, br);
	netns_link_set_up(idx, true);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "up", "a member's change is written");
}

/* ---- C10-C11: which links count ---- */
Test(portsyncd, c10_team_portchannel_ignored_other_portchannel_written)
{
	appl_port("PortChannel1");
	appl_port("PortChannel2");
	replay_link(PSYNC_EVENT_NEWLINK, "PortChannel1", 30, IFF_UP, 0, "team");
	replay_link(PSYNC_EVENT_NEWLINK, "PortChannel2", 31, IFF_UP, 0, "bond");
	cr_assert_eq(start(), 0);
	run_for(150);
	cr_assert_eq(exists(state, "PORT_TABLE|PortChannel1"), 0);
	cr_assert_str_eq(st("PortChannel2", "state"), "ok");
}

Test(portsyncd, c10_real_non_team_portchannel_is_written)
{
	appl_port("PortChannel3");
	cr_assert_eq(start(), 0);
	int idx = netns_link_add("PortChannel3", "bridge");
	netns_link_set_up(idx, true);
	run_for(150);
	cr_assert_str_eq(st("PortChannel3", "admin_status"), "up");
}

Test(portsyncd, c11_other_names_have_no_effect)
{
	/* The last two are one character short of a prefix: the whole prefix counts. */
	const char *names[] = { "eth0", "Vlan100", "Bridge", "ethernet1", "Etherne0", "PortChanne1" };
	const size_t n = sizeof(names) / sizeof(names[0]);

	for (size_t i = 0; i < n; i++)
		appl_port(names[i]);
	cr_assert_eq(start(), 0);
	netns_link_set_up(netns_ifindex("lo"), true);
	for (size_t i = 0; i < n; i++)
		netns_link_set_up(netns_link_add(names[i], i == 1 ? "bridge" : "ifb"), true);
	run_for(150);
	redisReply *r = redisCommand(state, "KEYS PORT_TABLE*");
	cr_assert_eq(r->elements, 0);
	freeReplyObject(r);
}

/* ---- C12-C13: old interfaces ---- */
Test(portsyncd, c12_old_ethernet_links_set_down_ignored_until_recreated)
{
	appl_port("Ethernet0");
	int old = netns_link_add("Ethernet0", "ifb");
	netns_link_set_up(old, true);
	cr_assert_eq(start(), 0);
	run_for(150);
	struct netns_link *links;
	int n = netns_snapshot(&links);
	for (int i = 0; i < n; i++)
		if (links[i].ifindex == old)
			cr_assert_eq(links[i].flags & IFF_UP, 0, "set admin-down at start");
	free(links);
	netns_link_set_up(old, true);
	run_for(150);
	cr_assert_eq(exists(state, "PORT_TABLE|Ethernet0"), 0, "its ifindex is ignored");
	netns_link_delete(old);
	int fresh = netns_link_add("Ethernet0", "ifb");
	cr_assert_neq(fresh, old);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "state"), "ok", "a new ifindex is processed");
}

Test(portsyncd, c13_dpu_keeps_existing_links)
{
	appl_port("Ethernet0");
	cmd(config, "HSET DEVICE_METADATA|localhost switch_type dpu");
	int idx = netns_link_add("Ethernet0", "ifb");
	netns_link_set_up(idx, true);
	cr_assert_eq(start(), 0);
	run_for(150);
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "up", "not set down, and processed");
}

/* ---- C14-C15: PortInitDone ---- */
Test(portsyncd, c14_port_init_done_once_after_the_last_state_write)
{
	config_port("Ethernet0", "0");
	config_port("Ethernet4", "4");
	cr_assert_eq(start(), 0);
	run_for(50);
	consume();
	redisContext *m = monitor_start();
	netns_link_add("Ethernet0", "ifb");
	run_for(150);
	cr_assert_eq(exists(appl, "_PORT_TABLE:PortInitDone"), 0, "Ethernet4 is still awaited");
	netns_link_add("Ethernet4", "ifb");
	run_for(150);
	netns_link_set_up(netns_ifindex("Ethernet4"), true);
	run_for(150);
	char lines[512][256];
	size_t n = monitor_collect(m, lines, 512);
	int last = find_line(lines, n, "HSET", "PORT_TABLE|Ethernet4");
	int done = find_line(lines, n, "EVALSHA", "PortInitDone");
	cr_assert_geq(last, 0);
	cr_assert_gt(done, last, "PortInitDone follows the last port's STATE_DB write");
	int sends = 0;
	for (size_t i = 0; i < n; i++)
		sends += strstr(lines[i], "EVALSHA") && strstr(lines[i], "PortInitDone");
	cr_assert_eq(sends, 1);
}

Test(portsyncd, c15_ports_from_an_earlier_life_are_not_awaited)
{
	config_port("Ethernet0", "0");
	config_port("Ethernet4", "4");
	cmd(appl, "HSET PORT_TABLE:Ethernet0 admin_status up lanes 0");
	cr_assert_eq(start(), 0);
	cr_assert_eq(status().waiting, 1);
	run_for(50);
	consume();
	netns_link_add("Ethernet4", "ifb");
	run_for(150);
	cr_assert_str_eq(hget(appl, "_PORT_TABLE:PortInitDone", "lanes"), "0");
}

/* ---- C16-C17: warm start ---- */
Test(portsyncd, c16_warm_start)
{
	config_port("Ethernet0", "0");
	appl_port("Ethernet0");
	cmd(state, "HSET WARM_RESTART_ENABLE_TABLE|system enable true");
	cmd(state, "HSET WARM_RESTART_TABLE|portsyncd restore_count 5");
	int idx = netns_link_add("Ethernet0", "ifb");
	netns_link_set_up(idx, true);
	cr_assert_eq(start(), 0);
	run_for(200);
	cr_assert_str_eq(hget(state, "WARM_RESTART_TABLE|portsyncd", "restore_count"), "6");
	cr_assert_eq(exists(appl, "_PORT_TABLE:Ethernet0"), 0, "no APPL_DB port writes");
	cr_assert_eq(exists(appl, "_PORT_TABLE:PortConfigDone"), 0);
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "up", "no old-interface handling; the dump rewrites STATE_DB");
	cr_assert_str_eq(hget(appl, "_PORT_TABLE:PortInitDone", "lanes"), "0");
}

Test(portsyncd, c17_warm_enabled_without_restore_count_runs_cold)
{
	config_port("Ethernet0", "0");
	cmd(state, "HSET WARM_RESTART_ENABLE_TABLE|swss enable true");
	cr_assert_eq(start(), 0);
	run_for(50);
	cr_assert_str_eq(hget(state, "WARM_RESTART_TABLE|portsyncd", "restore_count"), "0");
	cr_assert_str_eq(hget(appl, "_PORT_TABLE:PortConfigDone", "count"), "1");
	cr_assert_eq(status().warm, 0);
}

/* ---- C19-C20: every event, and no loss ---- */
Test(portsyncd, c19_every_newlink_is_written_in_order)
{
	appl_port("Ethernet0");
	cr_assert_eq(start(), 0);
	int idx = netns_link_add("Ethernet0", "ifb");
	run_for(100);
	redisContext *m = monitor_start();
	for (int i = 0; i < 20; i++)
		netns_link_set_up(idx, i % 2 == 0);
	run_for(200);
	char lines[512][256];
	size_t n = monitor_collect(m, lines, 512);
	int writes = 0, last_up = -1;
	for (size_t i = 0; i < n; i++) {
		if (!strstr(lines[i], "\"PORT_TABLE|Ethernet0\""))
			continue;
		int up = strstr(lines[i], "\"admin_status\" \"up\"") != NULL;
		cr_assert_neq(up, last_up, "alternating, in order: %s", lines[i]);
		last_up = up;
		writes++;
	}
	cr_assert_eq(writes, 20, "one HSET per RTM_NEWLINK");
	cr_assert_str_eq(st("Ethernet0", "admin_status"), "down");
}

/* The kernel's links against STATE_DB: every Ethernet* with an APPL entry. */
static void assert_state_equals_kernel(void)
{
	struct netns_link *links;
	int n = netns_snapshot(&links), in_kernel = 0;
	redisReply *r;

	for (int i = 0; i < n; i++) {
		if (strncmp(links[i].name, "Ethernet", 8) != 0)
			continue;
		in_kernel++;
		cr_assert_str_eq(st(links[i].name, "admin_status"), links[i].flags & IFF_UP ? "up" : "down",
				 "%s", links[i].name);
		cr_assert_str_eq(st(links[i].name, "netdev_oper_status"),
				 links[i].flags & IFF_RUNNING ? "up" : "down", "%s", links[i].name);
		char mtu[16];
		snprintf(mtu, sizeof(mtu), "%u", links[i].mtu);
		cr_assert_str_eq(st(links[i].name, "mtu"), mtu, "%s", links[i].name);
	}
	free(links);
	r = redisCommand(state, "KEYS PORT_TABLE|*");
	cr_assert_eq((int)r->elements, in_kernel, "no STATE_DB entry for a link that is gone");
	freeReplyObject(r);
}

Test(portsyncd, c20_overrun_resync_reaches_the_kernel_view)
{
	enum { PORTS = 64 };
	struct psync_redis_options ro = { .sz = sizeof(ro), .address = srv.address };
	struct psync_netlink_options no = { .sz = sizeof(no), .rcvbuf_bytes = 4096 };
	struct psync_source *src;
	struct psync_sink *sink;
	struct psync_metrics met = { .sz = sizeof(met) };
	int idx[PORTS];
	char name[16];

	for (int i = 0; i < PORTS; i++) {
		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		appl_port(name);
	}
	cr_assert_eq(psync_redis_sink_new(&ro, NULL, 0, &sink), 0);
	cr_assert_eq(psync_netlink_source_new(&no, &src), 0);
	cr_assert_eq(psync_portsync_policy_new(&popts, &policy), 0);
	cr_assert_eq(psync_pipeline_new(src, policy, sink, NULL, &pipe_), 0);
	cr_assert_eq(psync_pipeline_start(pipe_), 0);
	for (int i = 0; i < PORTS; i++) {
		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		idx[i] = netns_link_add(name, "ifb");
	}
	run_for(300);
	/* A burst nobody reads, with deletions inside it: the socket overflows. */
	for (int round = 0; round < 40; round++)
		for (int i = 0; i < PORTS; i++)
			netns_link_set_up_nowait(idx[i], round % 2 == 0);
	for (int i = 0; i < PORTS; i += 8)
		netns_link_delete(idx[i]);
	for (int i = 1; i < PORTS; i += 8)
		netns_link_set_mtu(idx[i], 9000);
	run_for(1500);
	psync_pipeline_get_metrics(pipe_, &met);
	cr_assert_geq(met.overruns, 1, "the burst must overflow a 4 KiB buffer");
	cr_assert_geq(met.resyncs, 1);
	assert_state_equals_kernel();
	cr_assert_geq(status().reconciled, 1, "deleted ports removed by reconciliation");
}

/* ---- beyond the checklist: Redis restarts, bursts ---- */

/* Dispatches for ms milliseconds without waiting for writes (Redis may be down). */
static void spin(int ms)
{
	struct pollfd pfd = { .fd = psync_pipeline_get_fd(pipe_), .events = POLLIN };
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int timeout = psync_pipeline_get_timeout_ms(pipe_);

		poll(&pfd, 1, timeout < 0 || timeout > 10 ? 10 : timeout);
		psync_pipeline_dispatch(pipe_);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void reconnect_clients(void)
{
	redisFree(appl);
	redisFree(config);
	redisFree(state);
	appl = redis_server_client(&srv, 0, NULL);
	config = redis_server_client(&srv, 4, NULL);
	state = redis_server_client(&srv, 6, NULL);
	cr_assert(appl && config && state);
}

Test(portsyncd, redis_restarted_while_ports_flap_ends_equal_to_the_kernel)
{
	static const char *const durable[] = { "--appendonly", "yes", "--appendfsync", "always", NULL };
	enum { PORTS = 16 };
	int idx[PORTS];
	char name[16];

	redis_server_stop(&srv);
	cr_assert_eq(redis_server_start(&srv, durable), 0);
	reconnect_clients();
	for (int i = 0; i < PORTS; i++) {
		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		appl_port(name);
	}
	cr_assert_eq(start(), 0);
	for (int i = 0; i < PORTS; i++) {
		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		idx[i] = netns_link_add(name, "ifb");
	}
	spin(200);
	for (int round = 0; round < 12; round++) {
		for (int i = 0; i < PORTS; i++)
			netns_link_set_up_nowait(idx[i], (round + i) % 3 != 0);
		if (round == 4)
			redis_server_kill(&srv); /* a crash: in-flight writes are lost */
		if (round == 8)
			cr_assert_eq(redis_server_restart(&srv), 0);
		spin(60);
	}
	netns_link_set_mtu(idx[3], 9000);
	spin(300);
	run_for(3000);
	reconnect_clients();
	struct psync_metrics m = { .sz = sizeof(m) };
	psync_pipeline_get_metrics(pipe_, &m);
	cr_assert_geq(m.reconnects, 1);
	cr_assert_eq(m.writes_failed, 0, "nothing given up");
	assert_state_equals_kernel();
}

/* Counts the monitored commands holding both needles until the sentinel.
 * (MONITOR also shows the commands a script runs, prefixed "lua".) */
static size_t monitor_count(redisContext *m, const char *needle, const char *needle2)
{
	redisReply *r;
	size_t n = 0;

	cmd(appl, "ECHO psync-monitor-end");
	while (redisGetReply(m, (void **)&r) == REDIS_OK) {
		int end = r->type == REDIS_REPLY_STATUS && strstr(r->str, "psync-monitor-end");

		n += !end && r->type == REDIS_REPLY_STATUS && strstr(r->str, needle) &&
		     strstr(r->str, needle2);
		freeReplyObject(r);
		if (end)
			break;
	}
	redisFree(m);
	return n;
}

Test(portsyncd, burst_of_10k_changes_over_512_ports)
{
	enum { PORTS = 512, CHANGES = 10000 };
	static int idx[PORTS];
	char name[16], lanes[16];
	unsigned seed = 7;

	for (int i = 0; i < PORTS; i++) {
		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		snprintf(lanes, sizeof(lanes), "%d", i * 4);
		config_port(name, lanes);
	}
	redisContext *m = monitor_start();
	cr_assert_eq(start(), 0);
	cr_assert_eq(status().waiting, PORTS);
	run_for(100);
	consume();
	for (int i = 0; i < PORTS; i++) {
		snprintf(name, sizeof(name), "Ethernet%d", i * 4);
		idx[i] = netns_link_add(name, "ifb");
	}
	for (int c = 0; c < CHANGES; c++) {
		int port = (int)(rand_r(&seed) % PORTS);

		if (c % 7 == 0)
			netns_link_set_mtu_nowait(idx[port], 1500 + (unsigned)(c % 1000));
		else
			netns_link_set_up_nowait(idx[port], rand_r(&seed) % 2);
		if (c % 1000 == 999)
			spin(5);
	}
	run_for(2000);
	cr_assert_eq(status().waiting, 0);
	cr_assert_eq(monitor_count(m, "\"EVALSHA\"", "PortInitDone"), 1, "PortInitDone sent exactly once");
	assert_state_equals_kernel();
}
