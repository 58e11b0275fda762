/* SPDX-License-Identifier: Apache-2.0 */
/* The portsync policy's rules on the memory sink (the SONiC contract's logic;
 * the same items run against real Redis and netlink in test-portsyncd). */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <portsync/portsync.h>

/* ---- a source the test feeds by hand ---- */
struct feed {
	struct psync_link_event ev[256];
	unsigned n, next;
};

static int feed_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	struct feed *f = impl;
	int n = 0;

	while (f->next < f->n && (unsigned)n < budget) {
		f->ev[f->next].recv_ns = 1;
		emit(&f->ev[f->next++], userdata);
		n++;
	}
	return n;
}

static const struct psync_source_ops feed_ops = { .sz = sizeof(feed_ops), .dispatch = feed_dispatch };

/* ---- the world of one test ---- */
static struct feed feed;
static struct psync_sink *sink;
static struct psync_policy *policy;
static struct psync_pipeline *pipe_;
static char logs[64][160];
static unsigned n_logs;
static psync_log_wanted_fn log_wanted; /* start_with's; NULL unless a test sets it */
static uint32_t downed[8];
static unsigned n_downed;
static char applied[256][96]; /* "db key" of every applied write, in order */
static unsigned n_applied;

static void on_log(int prio, const char *msg, void *ud)
{
	(void)prio;
	(void)ud;
	if (n_logs < 64)
		snprintf(logs[n_logs++], sizeof(logs[0]), "%s", msg);
}

static int on_link_down(uint32_t ifindex, const char *name, void *ud)
{
	(void)name;
	(void)ud;
	downed[n_downed++] = ifindex;
	return 0;
}

static void on_applied(const struct psync_write *w, void *ud)
{
	(void)ud;
	if (n_applied < 256)
		snprintf(applied[n_applied++], sizeof(applied[0]), "%s %s %s|%s",
			 psync_write_op_to_string(w->op), w->db, w->table, w->key);
}

static void setup(void)
{
	memset(&feed, 0, sizeof(feed));
	n_logs = n_downed = n_applied = 0;
	log_wanted = NULL;
	cr_assert_eq(psync_memory_sink_new(NULL, &sink), 0);
	psync_memory_sink_set_observer(sink, on_applied, NULL);
}

static void teardown(void)
{
	psync_pipeline_free(pipe_);
	pipe_ = NULL;
}

TestSuite(portsync, .init = setup, .fini = teardown);

static void seed(const char *db, const char *key, const char *field, const char *value)
{
	struct psync_field f = { field, value };

	cr_assert_eq(psync_memory_sink_seed(sink, db, key, &f, 1), 0);
}

static void config_port(const char *name)
{
	char key[64];
	struct psync_field f[3] = { { "lanes", "0,1,2,3" }, { "speed", "100000" }, { "alias@", "x" } };

	snprintf(key, sizeof(key), "PORT|%s", name);
	cr_assert_eq(psync_memory_sink_seed(sink, "CONFIG_DB", key, f, 3), 0);
}

static int start_with_options(const struct psync_portsync_options *o)
{
	struct psync_source *src;

	cr_assert_eq(psync_source_new(&feed_ops, &feed, &src), 0);
	cr_assert_eq(psync_portsync_policy_new(o, &policy), 0);
	cr_assert_eq(psync_pipeline_new(src, policy, sink, NULL, &pipe_), 0);
	return psync_pipeline_start(pipe_);
}

static int start_with(const struct psync_portsync_link *links, size_t n)
{
	struct psync_portsync_options o = { .sz = sizeof(o), .existing_links = links,
					    .n_existing_links = n, .set_link_down = on_link_down,
					    .log = on_log, .log_wanted = log_wanted };

	return start_with_options(&o);
}

static void link_event(enum psync_event_type t, const char *name, uint32_t ifindex, uint32_t flags)
{
	struct psync_link_event *ev = &feed.ev[feed.n++];

	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	ev->ifindex = ifindex;
	ev->flags = flags;
	ev->mtu = 9100;
	snprintf(ev->ifname, sizeof(ev->ifname), "%s", name);
}

static void marker(enum psync_event_type t, uint32_t generation)
{
	struct psync_link_event *ev = &feed.ev[feed.n++];

	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	ev->dump_generation = generation;
}

static void dispatch(void)
{
	psync_pipeline_dispatch(pipe_);
	cr_assert_eq(psync_pipeline_flush(pipe_, 1000), 0);
}

static const char *state(const char *port, const char *field)
{
	char key[64];

	snprintf(key, sizeof(key), "PORT_TABLE|%s", port);
	return psync_memory_sink_get(sink, "STATE_DB", key, field);
}

static int state_fields(const char *port)
{
	char key[64];

	snprintf(key, sizeof(key), "PORT_TABLE|%s", port);
	return psync_memory_sink_count_fields(sink, "STATE_DB", key);
}

static struct psync_portsync_status status(void)
{
	struct psync_portsync_status st = { .sz = sizeof(st) };

	cr_assert_eq(psync_portsync_policy_get_status(policy, &st), 0);
	return st;
}

static int applied_index(const char *what)
{
	for (unsigned i = 0; i < n_applied; i++)
		if (strcmp(applied[i], what) == 0)
			return (int)i;
	return -1;
}

static int logged(const char *what)
{
	for (unsigned i = 0; i < n_logs; i++)
		if (strstr(logs[i], what))
			return 1;
	return 0;
}

Test(portsync, cold_start_copies_config_ports_then_port_config_done)
{
	config_port("Ethernet8");
	config_port("Ethernet0");
	config_port("Ethernet4");
	cr_assert_eq(start_with(NULL, 0), 0);
	cr_assert_eq(psync_pipeline_flush(pipe_, 1000), 0);
	cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:Ethernet0", "lanes"), "0,1,2,3");
	cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:Ethernet4", "alias"), "x",
			 "field names are cut at '@'");
	cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:PortConfigDone", "count"), "3");
	cr_assert_lt(applied_index("producer_set APPL_DB PORT_TABLE|Ethernet8"),
		     applied_index("producer_set APPL_DB PORT_TABLE|PortConfigDone"));
	cr_assert_eq(applied_index("producer_set APPL_DB PORT_TABLE|Ethernet0"), 1,
		     "ports in natural order, after restore_count");
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "WARM_RESTART_TABLE|portsyncd", "restore_count"), "0");
	cr_assert_eq(status().waiting, 3);
	cr_assert_eq(status().config_ports, 3);
	cr_assert(logged("Getting port configuration from ConfigDB..."));
}

/* Start-up reads and announces the ports a slice at a time: more ports than
 * a few slices hold come out whole, in natural order, counted and pruned. */
Test(portsync, cold_start_over_many_slices_announces_every_port_once_in_order)
{
	unsigned n = 300, pruned = 0;
	char name[32], key[64];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "Ethernet%u", 4 * (n - 1 - i));
		config_port(name);
	}
	for (unsigned i = 0; i < n; i += 7, pruned++) {
		snprintf(key, sizeof(key), "PORT_TABLE:Ethernet%u", 4 * i);
		seed("APPL_DB", key, "admin_status", "up");
	}
	cr_assert_eq(start_with(NULL, 0), 0);
	cr_assert_eq(psync_pipeline_flush(pipe_, 1000), 0);
	for (unsigned i = 0; i < n; i++) {
		char want[96];

		snprintf(key, sizeof(key), "_PORT_TABLE:Ethernet%u", 4 * i);
		cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", key, "lanes"), "0,1,2,3", "%s", key);
		cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", key, "alias"), "x", "%s", key);
		snprintf(want, sizeof(want), "producer_set APPL_DB PORT_TABLE|Ethernet%u", 4 * i);
		if (i + 1 < 256)
			cr_assert_eq(applied_index(want), (int)i + 1, "%s in natural order", want);
	}
	cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:PortConfigDone", "count"), "300");
	cr_assert_eq(status().config_ports, n);
	cr_assert_eq(status().waiting, n - pruned, "ports with admin_status in APPL_DB are not awaited");
}

Test(portsync, newlink_writes_state_only_once_appl_db_has_the_port)
{
	config_port("Ethernet0");
	cr_assert_eq(start_with(NULL, 0), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	dispatch();
	cr_assert_eq(state_fields("Ethernet0"), -ENOENT, "no APPL_DB entry yet: nothing written");
	cr_assert(logged("Cannot find Ethernet0 in port table"));
	cr_assert_eq(status().port_init_done, 0);
	psync_memory_sink_consume(sink, "APPL_DB", "PORT_TABLE"); /* orchagent */
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP | IFF_RUNNING);
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "state"), "ok");
	cr_assert_str_eq(state("Ethernet0", "netdev_oper_status"), "up");
	cr_assert_str_eq(state("Ethernet0", "admin_status"), "up");
	cr_assert_str_eq(state("Ethernet0", "mtu"), "9100");
	cr_assert_eq(state_fields("Ethernet0"), 4, "no carrier_changes from this source");
	cr_assert(logged("Publish Ethernet0(ok:up) to state db"));
	cr_assert_eq(status().waiting, 0);
	cr_assert_eq(status().port_init_done, 1);
	cr_assert_lt(applied_index("set STATE_DB PORT_TABLE|Ethernet0"),
		     applied_index("producer_set APPL_DB PORT_TABLE|PortInitDone"),
		     "PortInitDone only after the last port's STATE_DB write");
}

Test(portsync, state_follows_flags_and_keeps_foreign_fields)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	seed("STATE_DB", "PORT_TABLE|Ethernet0", "speed", "100000");
	cr_assert_eq(start_with(NULL, 0), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP | IFF_RUNNING);
	feed.ev[feed.n - 1].has_carrier_changes = 1;
	feed.ev[feed.n - 1].carrier_changes = 7;
	dispatch();
	cr_assert_null(state("Ethernet0", "carrier_changes"), "SONiC's four fields only");
	cr_assert_str_eq(state("Ethernet0", "speed"), "100000", "foreign fields untouched");
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, 0);
	feed.ev[feed.n - 1].mtu = 1500;
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "netdev_oper_status"), "down");
	cr_assert_str_eq(state("Ethernet0", "admin_status"), "down");
	cr_assert_str_eq(state("Ethernet0", "mtu"), "1500");
	cr_assert_str_eq(state("Ethernet0", "speed"), "100000", "foreign fields untouched");
}

Test(portsync, carrier_changes_is_an_opt_in_extension)
{
	struct psync_portsync_options o = { .sz = sizeof(o), .carrier_changes = 1 };

	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	cr_assert_eq(start_with_options(&o), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP | IFF_RUNNING);
	feed.ev[feed.n - 1].has_carrier_changes = 1;
	feed.ev[feed.n - 1].carrier_changes = 7;
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "carrier_changes"), "7");
	cr_assert_eq(state_fields("Ethernet0"), 5);
}

Test(portsync, every_newlink_is_written_in_order)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	cr_assert_eq(start_with(NULL, 0), 0);
	unsigned before = n_applied;
	for (int i = 0; i < 10; i++)
		link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, i % 2 ? IFF_UP : 0);
	dispatch();
	unsigned writes = 0;
	for (unsigned i = before; i < n_applied; i++)
		writes += strcmp(applied[i], "set STATE_DB PORT_TABLE|Ethernet0") == 0;
	cr_assert_eq(writes, 10, "no dedup");
	cr_assert_str_eq(state("Ethernet0", "admin_status"), "up", "the last one wins");
}

Test(portsync, events_of_a_port_being_checked_keep_their_order)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	cr_assert_eq(start_with(NULL, 0), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	link_event(PSYNC_EVENT_DELLINK, "Ethernet0", 5, 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 6, IFF_UP | IFF_RUNNING);
	unsigned before = n_applied, n = 0;
	const char *seen[8];
	dispatch();
	for (unsigned i = before; i < n_applied && n < 8; i++)
		if (strstr(applied[i], "STATE_DB PORT_TABLE|"))
			seen[n++] = applied[i];
	cr_assert_eq(n, 3);
	cr_assert_str_eq(seen[0], "set STATE_DB PORT_TABLE|Ethernet0");
	cr_assert_str_eq(seen[1], "del STATE_DB PORT_TABLE|Ethernet0");
	cr_assert_str_eq(seen[2], "set STATE_DB PORT_TABLE|Ethernet0");
	cr_assert_eq(status().appl_checks, 2, "the DELLINK made the next NEWLINK ask again");
}

Test(portsync, known_ports_are_not_asked_again)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	cr_assert_eq(start_with(NULL, 0), 0);
	for (int i = 0; i < 50; i++)
		link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	dispatch();
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	dispatch();
	cr_assert_eq(status().appl_checks, 1);
	cr_assert_eq(status().published, 51);
}

Test(portsync, dellink_deletes_unless_the_link_has_a_master)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	seed("APPL_DB", "PORT_TABLE:Ethernet4", "admin_status", "up");
	cr_assert_eq(start_with(NULL, 0), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet4", 6, IFF_UP);
	feed.ev[feed.n - 1].master = 9; /* a NEWLINK with a master is written */
	dispatch();
	cr_assert_str_eq(state("Ethernet4", "state"), "ok");
	link_event(PSYNC_EVENT_DELLINK, "Ethernet0", 5, 0);
	link_event(PSYNC_EVENT_DELLINK, "Ethernet4", 6, 0);
	feed.ev[feed.n - 1].master = 9;
	dispatch();
	cr_assert_eq(state_fields("Ethernet0"), -ENOENT);
	cr_assert(logged("Delete Ethernet0(ok) from state db"));
	cr_assert_eq(state_fields("Ethernet4"), 4, "leaving a master is not a deletion");
}

Test(portsync, only_ethernet_and_non_team_portchannel_count)
{
	const char *others[] = { "eth0", "lo", "Vlan100", "Bridge", "ethernet0", "Ether" };
	struct psync_metrics m = { .sz = sizeof(m) };

	seed("APPL_DB", "PORT_TABLE:PortChannel1", "admin_status", "up");
	seed("APPL_DB", "PORT_TABLE:PortChannel2", "admin_status", "up");
	seed("APPL_DB", "PORT_TABLE:Ethernet0.10", "admin_status", "up");
	cr_assert_eq(start_with(NULL, 0), 0);
	for (int i = 0; i < 6; i++)
		link_event(PSYNC_EVENT_NEWLINK, others[i], 20 + i, IFF_UP);
	link_event(PSYNC_EVENT_NEWLINK, "PortChannel1", 30, IFF_UP);
	strcpy(feed.ev[feed.n - 1].kind, "team");
	link_event(PSYNC_EVENT_NEWLINK, "PortChannel2", 31, IFF_UP);
	strcpy(feed.ev[feed.n - 1].kind, "bond");
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0.10", 32, IFF_UP);
	dispatch();
	cr_assert_eq(state_fields("PortChannel1"), -ENOENT, "team links are teamsyncd's");
	cr_assert_str_eq(state("PortChannel2", "state"), "ok");
	cr_assert_str_eq(state("Ethernet0.10", "state"), "ok");
	cr_assert_eq(psync_memory_sink_count_keys(sink, "STATE_DB"), 3, "2 ports + restore_count");
	psync_pipeline_get_metrics(pipe_, &m);
	cr_assert_eq(m.events_ignored, 7);
}

Test(portsync, old_ethernet_links_go_down_and_stay_ignored)
{
	struct psync_portsync_link links[] = { { 5, "Ethernet0" }, { 1, "eth0" }, { 6, "Ethernet4" } };

	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	cr_assert_eq(start_with(links, 3), 0);
	cr_assert_eq(n_downed, 2);
	cr_assert_eq(downed[0], 5);
	cr_assert_eq(downed[1], 6);
	cr_assert_eq(status().old_links, 2);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	link_event(PSYNC_EVENT_DELLINK, "Ethernet0", 5, 0);
	dispatch();
	cr_assert_eq(state_fields("Ethernet0"), -ENOENT, "the old ifindex is ignored");
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 77, IFF_UP);
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "state"), "ok", "re-created with a new ifindex: processed");
}

Test(portsync, dpu_has_no_old_links)
{
	struct psync_portsync_link links[] = { { 5, "Ethernet0" } };

	seed("CONFIG_DB", "DEVICE_METADATA|localhost", "switch_type", "dpu");
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	cr_assert_eq(start_with(links, 1), 0);
	cr_assert_eq(n_downed, 0);
	cr_assert_eq(status().dpu, 1);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "state"), "ok");
}

Test(portsync, prune_ports_from_an_earlier_life)
{
	config_port("Ethernet0");
	config_port("Ethernet4");
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	seed("APPL_DB", "PORT_TABLE:Ethernet4", "speed", "100000");
	cr_assert_eq(start_with(NULL, 0), 0);
	cr_assert_eq(status().waiting, 1, "only Ethernet4 (no admin_status) is waited for");
}

Test(portsync, zero_ports_port_init_done_after_the_first_batch)
{
	cr_assert_eq(start_with(NULL, 0), 0);
	psync_pipeline_flush(pipe_, 1000);
	cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:PortConfigDone", "count"), "0");
	cr_assert_eq(status().port_init_done, 0, "not before any netlink batch");
	link_event(PSYNC_EVENT_NEWLINK, "lo", 1, IFF_UP);
	dispatch();
	cr_assert_str_eq(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:PortInitDone", "lanes"), "0");
	link_event(PSYNC_EVENT_NEWLINK, "lo", 1, IFF_UP);
	dispatch();
	unsigned sent = 0;
	for (unsigned i = 0; i < n_applied; i++)
		sent += strcmp(applied[i], "producer_set APPL_DB PORT_TABLE|PortInitDone") == 0;
	cr_assert_eq(sent, 1, "sent once, never again");
}

Test(portsync, warm_start_writes_no_appl_db_and_counts_the_restore)
{
	config_port("Ethernet0");
	seed("STATE_DB", "WARM_RESTART_ENABLE_TABLE|swss", "enable", "true");
	seed("STATE_DB", "WARM_RESTART_TABLE|portsyncd", "restore_count", "3");
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	struct psync_portsync_link links[] = { { 5, "Ethernet0" } };
	cr_assert_eq(start_with(links, 1), 0);
	psync_pipeline_flush(pipe_, 1000);
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "WARM_RESTART_TABLE|portsyncd", "restore_count"), "4");
	cr_assert_eq(psync_memory_sink_count_keys(sink, "APPL_DB"), 1, "no producer writes");
	cr_assert_eq(n_downed, 0, "no old-interface handling");
	cr_assert_eq(status().warm, 1);
	cr_assert_eq(status().waiting, 1, "no pruning: Ethernet0 is still awaited");
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "state"), "ok");
	cr_assert_eq(status().port_init_done, 1);
}

Test(portsync, warm_enabled_without_restore_count_runs_cold)
{
	config_port("Ethernet0");
	seed("STATE_DB", "WARM_RESTART_ENABLE_TABLE|system", "enable", "true");
	cr_assert_eq(start_with(NULL, 0), 0);
	psync_pipeline_flush(pipe_, 1000);
	cr_assert_eq(status().warm, 0);
	cr_assert(logged("restore_count not found"));
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "WARM_RESTART_TABLE|portsyncd", "restore_count"), "0");
	cr_assert_not_null(psync_memory_sink_get(sink, "APPL_DB", "_PORT_TABLE:PortConfigDone", "count"));
}

Test(portsync, garbage_restore_count_runs_cold_without_crashing)
{
	seed("STATE_DB", "WARM_RESTART_ENABLE_TABLE|system", "enable", "true");
	seed("STATE_DB", "WARM_RESTART_TABLE|portsyncd", "restore_count", "many");
	cr_assert_eq(start_with(NULL, 0), 0);
	cr_assert_eq(status().warm, 0);
	cr_assert(logged("restore_count is not a number"));
}

Test(portsync, overrun_then_dump_deletes_ports_that_vanished_unseen)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	seed("APPL_DB", "PORT_TABLE:Ethernet4", "admin_status", "up");
	cr_assert_eq(start_with(NULL, 0), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet4", 6, IFF_UP);
	dispatch();
	marker(PSYNC_EVENT_OVERRUN, 2);
	marker(PSYNC_EVENT_DUMP_DONE, 1); /* the end of an older dump does not repair it */
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP | IFF_RUNNING);
	feed.ev[feed.n - 1].from_dump = 1;
	feed.ev[feed.n - 1].dump_generation = 2;
	dispatch();
	cr_assert_str_eq(state("Ethernet4", "state"), "ok");
	marker(PSYNC_EVENT_DUMP_DONE, 2);
	dispatch();
	cr_assert_eq(state_fields("Ethernet4"), -ENOENT, "gone during the overrun: deleted");
	cr_assert_str_eq(state("Ethernet0", "netdev_oper_status"), "up");
	cr_assert_eq(status().reconciled, 1);
}

static unsigned notices_asked;

static int warnings_only(int prio, void *ud)
{
	(void)ud;
	notices_asked += prio == LOG_NOTICE;
	return prio <= LOG_WARNING;
}

Test(portsync, log_wanted_decides_which_messages_are_made)
{
	seed("APPL_DB", "PORT_TABLE:Ethernet0", "admin_status", "up");
	log_wanted = warnings_only;
	notices_asked = 0;
	cr_assert_eq(start_with(NULL, 0), 0);
	link_event(PSYNC_EVENT_NEWLINK, "Ethernet0", 5, IFF_UP | IFF_RUNNING);
	dispatch();
	cr_assert_str_eq(state("Ethernet0", "netdev_oper_status"), "up");
	cr_assert_gt(notices_asked, 1, "asked at start-up and for the publish line");
	cr_assert_eq(n_logs, 0, "no NOTICE line reaches the log callback");
}

static int must_not_be_asked(int prio, void *ud)
{
	(void)prio;
	(void)ud;
	cr_assert_fail("a member past sz was read");
	return 0;
}

Test(portsync, options_of_an_older_header_are_accepted)
{
	struct psync_portsync_options o = { .sz = offsetof(struct psync_portsync_options, log_wanted),
					    .log = on_log, .log_wanted = must_not_be_asked };

	cr_assert_eq(start_with_options(&o), 0);
	cr_assert(logged("Getting port configuration from ConfigDB..."));
}

Test(portsync, bad_options)
{
	struct psync_portsync_options o = { .sz = 4 };
	struct psync_portsync_status st = { .sz = sizeof(st) };
	struct psync_policy *pol;

	cr_assert_eq(psync_portsync_policy_new(&o, &pol), -EINVAL);
	o.sz = offsetof(struct psync_portsync_options, log_wanted) - 1;
	cr_assert_eq(psync_portsync_policy_new(&o, &pol), -EINVAL);
	o = (struct psync_portsync_options){ .sz = sizeof(o), .n_existing_links = 3 };
	cr_assert_eq(psync_portsync_policy_new(&o, &pol), -EINVAL);
	cr_assert_eq(psync_policy_new_mirror("STATE_DB", "T", &pol), 0);
	cr_assert_eq(psync_portsync_policy_get_status(pol, &st), -EINVAL, "not a portsync policy");
	psync_policy_free(pol);
}
