/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The netlink source against the real kernel, each test in a network namespace
 * of its own; and its parser against made-up, truncated and random bytes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <portsync/netlink.h>

#include "helpers/netns.h"

/* What a consumer knows: the last event of each link, by ifindex. */
struct view {
	struct psync_link_event *links;
	bool *present;
	size_t cap;
	unsigned newlinks, dellinks, dumps_done, overruns;
	uint32_t last_done;
	struct psync_link_event *log;
	size_t nlog, caplog;
};

static void view_grow(struct view *v, uint32_t ifindex)
{
	size_t cap = v->cap ? v->cap : 64;

	while (cap <= ifindex)
		cap *= 2;
	if (cap == v->cap)
		return;
	v->links = realloc(v->links, cap * sizeof(*v->links));
	v->present = realloc(v->present, cap * sizeof(*v->present));
	cr_assert(v->links && v->present);
	memset(v->present + v->cap, 0, (cap - v->cap) * sizeof(*v->present));
	v->cap = cap;
}

static void view_log(struct view *v, const struct psync_link_event *ev)
{
	if (v->nlog == v->caplog) {
		v->caplog = v->caplog ? v->caplog * 2 : 256;
		v->log = realloc(v->log, v->caplog * sizeof(*v->log));
		cr_assert_not_null(v->log);
	}
	v->log[v->nlog++] = *ev;
}

/* A link whose last event is older than the dump that just ended is gone. */
static void view_dump_done(struct view *v, uint32_t generation)
{
	for (size_t i = 0; i < v->cap; i++)
		if (v->present[i] && v->links[i].dump_generation < generation)
			v->present[i] = false;
	v->dumps_done++;
	v->last_done = generation;
}

static int view_apply(const struct psync_link_event *ev, void *userdata)
{
	struct view *v = userdata;

	view_log(v, ev);
	switch (ev->type) {
	case PSYNC_EVENT_NEWLINK:
		view_grow(v, ev->ifindex);
		v->links[ev->ifindex] = *ev;
		v->present[ev->ifindex] = true;
		v->newlinks++;
		break;
	case PSYNC_EVENT_DELLINK:
		view_grow(v, ev->ifindex);
		v->present[ev->ifindex] = false;
		v->dellinks++;
		break;
	case PSYNC_EVENT_DUMP_DONE:
		view_dump_done(v, ev->dump_generation);
		break;
	case PSYNC_EVENT_OVERRUN:
		v->overruns++;
		break;
	}
	return 0;
}

static const struct psync_link_event *view_get(const struct view *v, int ifindex)
{
	if (ifindex <= 0 || (size_t)ifindex >= v->cap || !v->present[ifindex])
		return NULL;
	return &v->links[ifindex];
}

static void view_free(struct view *v)
{
	free(v->links);
	free(v->present);
	free(v->log);
}

static bool readable(struct psync_source *src, int timeout_ms)
{
	struct pollfd pfd = { .fd = psync_source_get_fd(src), .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) > 0;
}

static void dispatch(struct psync_source *src, struct view *v, unsigned budget)
{
	int r = psync_source_dispatch(src, budget, view_apply, v);

	cr_assert_geq(r, 0, "dispatch: %s", strerror(-r));
	cr_assert_leq((unsigned)r, budget ? budget : 256);
}

/* Dispatches until the socket stays quiet for idle_ms. */
static void pump_idle(struct psync_source *src, struct view *v, int idle_ms)
{
	while (readable(src, idle_ms))
		dispatch(src, v, 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Dispatches until cond holds, for at most 5 s. */
#define PUMP_UNTIL(src, v, cond)                                              \
	do {                                                                  \
		int64_t deadline_ = now_ms() + 5000;                          \
		while (!(cond) && now_ms() < deadline_)                       \
			if (readable((src), 100))                             \
				dispatch((src), (v), 0);                      \
		cr_assert(cond, "timed out waiting for: %s", #cond);          \
	} while (0)

static struct psync_source *new_source(uint32_t rcvbuf)
{
	struct psync_netlink_options opts = { .sz = sizeof(opts), .rcvbuf_bytes = rcvbuf };
	struct psync_source *src = NULL;
	int r = psync_netlink_source_new(&opts, &src);

	cr_assert_eq(r, 0, "psync_netlink_source_new: %s", strerror(-r));
	return src;
}

static struct psync_netlink_stats get_stats(struct psync_source *src)
{
	struct psync_netlink_stats st = { .sz = sizeof(st) };

	cr_assert_eq(psync_netlink_source_get_stats(src, &st), 0);
	return st;
}

/* Dumps and reads up to the DUMP_DONE. */
static void initial_dump(struct psync_source *src, struct view *v)
{
	unsigned before = v->dumps_done;

	cr_assert_eq(psync_source_request_dump(src), 0);
	PUMP_UNTIL(src, v, v->dumps_done > before);
}

/* The view must be the kernel's, link for link. */
static void assert_view_is_kernel(const struct view *v)
{
	struct netns_link *k;
	size_t seen = 0;
	int n = netns_snapshot(&k);

	cr_assert_geq(n, 1);
	for (int i = 0; i < n; i++) {
		const struct psync_link_event *ev = view_get(v, k[i].ifindex);

		cr_assert_not_null(ev, "link %s (%d) missing from the view", k[i].name, k[i].ifindex);
		cr_assert_str_eq(ev->ifname, k[i].name);
		cr_assert_eq(ev->flags, k[i].flags, "%s: flags %#x, kernel %#x", k[i].name,
			     ev->flags, k[i].flags);
		cr_assert_eq(ev->mtu, k[i].mtu, "%s: mtu", k[i].name);
		cr_assert_eq((int)ev->master, k[i].master, "%s: master", k[i].name);
		cr_assert_eq(ev->operstate, k[i].operstate, "%s: operstate", k[i].name);
		cr_assert_str_eq(ev->kind, k[i].kind);
	}
	for (size_t i = 0; i < v->cap; i++)
		seen += v->present[i];
	cr_assert_eq(seen, (size_t)n, "the view holds %zu links, the kernel %d", seen, n);
	free(k);
}

static const struct psync_link_event *last_event_of(const struct view *v, const char *name)
{
	for (size_t i = v->nlog; i-- > 0;)
		if (v->log[i].type <= PSYNC_EVENT_DELLINK && !strcmp(v->log[i].ifname, name))
			return &v->log[i];
	return NULL;
}

static void add_links(const char *prefix, int n, int *idx)
{
	for (int i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%s%d", prefix, i);
		idx[i] = netns_link_add(name, "ifb");
		cr_assert_gt(idx[i], 0, "adding %s: %d", name, idx[i]);
	}
}

static void enter(void)
{
	netns_enter();
}

TestSuite(netlink, .init = enter, .timeout = 120);

Test(netlink, dump_of_existing_links)
{
	struct view v = { 0 };
	struct psync_source *src;
	int a = netns_link_add("ifb-a", "ifb");
	int br = netns_link_add("br0", "bridge");
	int va = netns_veth_add("veth-a", "veth-b");

	cr_assert(a > 0 && br > 0 && va > 0);
	src = new_source(0);
	cr_assert_str_eq(psync_source_get_name(src), "netlink");
	initial_dump(src, &v);
	cr_assert_eq(v.last_done, 1);
	cr_assert_str_eq(view_get(&v, a)->kind, "ifb");
	cr_assert_str_eq(view_get(&v, br)->kind, "bridge");
	cr_assert_str_eq(view_get(&v, va)->kind, "veth");
	cr_assert_str_eq(view_get(&v, 1)->ifname, "lo");
	cr_assert_eq(view_get(&v, a)->from_dump, 1);
	cr_assert_eq(view_get(&v, a)->dump_generation, 1);
	cr_assert_eq(view_get(&v, a)->addr_len, 6);
	cr_assert_neq(view_get(&v, a)->recv_ns, 0);
	assert_view_is_kernel(&v);
	cr_assert_eq(get_stats(src).dumps_done, 1);
	cr_assert_eq(get_stats(src).malformed, 0);
	psync_source_free(src);
	view_free(&v);
}

Test(netlink, add_up_down_mtu_rename_delete)
{
	struct view v = { 0 };
	struct psync_source *src = new_source(0);
	const struct psync_link_event *ev;
	int idx;

	initial_dump(src, &v);
	idx = netns_link_add("t0", "ifb");
	cr_assert_gt(idx, 0);
	PUMP_UNTIL(src, &v, view_get(&v, idx));
	ev = view_get(&v, idx);
	cr_assert_str_eq(ev->ifname, "t0");
	cr_assert_str_eq(ev->kind, "ifb");
	cr_assert_eq(ev->from_dump, 0);
	cr_assert_eq(ev->dump_generation, 1);

	cr_assert_eq(netns_link_set_up(idx, true), 0);
	PUMP_UNTIL(src, &v, view_get(&v, idx)->flags & IFF_UP);
	cr_assert_eq(netns_link_set_up(idx, false), 0);
	PUMP_UNTIL(src, &v, !(view_get(&v, idx)->flags & IFF_UP));
	cr_assert_eq(netns_link_set_mtu(idx, 9000), 0);
	PUMP_UNTIL(src, &v, view_get(&v, idx)->mtu == 9000);
	cr_assert_eq(netns_link_rename(idx, "t0-renamed"), 0);
	PUMP_UNTIL(src, &v, !strcmp(view_get(&v, idx)->ifname, "t0-renamed"));

	cr_assert_eq(netns_link_delete(idx), 0);
	PUMP_UNTIL(src, &v, !view_get(&v, idx));
	ev = last_event_of(&v, "t0-renamed");
	cr_assert_eq(ev->type, PSYNC_EVENT_DELLINK);
	cr_assert_eq(ev->ifindex, (uint32_t)idx);
	pump_idle(src, &v, 300);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

Test(netlink, master_set_and_unset)
{
	struct view v = { 0 };
	struct psync_source *src = new_source(0);
	int br = netns_link_add("br0", "bridge");
	int port = netns_link_add("port0", "ifb");

	cr_assert(br > 0 && port > 0);
	initial_dump(src, &v);
	cr_assert_eq(view_get(&v, port)->master, 0);
	cr_assert_eq(netns_link_set_master(port, br), 0);
	PUMP_UNTIL(src, &v, view_get(&v, port)->master == (uint32_t)br);
	pump_idle(src, &v, 200);
	/* The bridge's AF_BRIDGE port messages are not link events. */
	cr_assert_gt(get_stats(src).ignored, 0);
	cr_assert_eq(netns_link_set_master(port, 0), 0);
	PUMP_UNTIL(src, &v, view_get(&v, port) && view_get(&v, port)->master == 0);
	pump_idle(src, &v, 200);
	/* The bridge's AF_BRIDGE DELLINK for its port did not delete the link. */
	cr_assert_not_null(view_get(&v, port));
	cr_assert_eq(v.dellinks, 0);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

Test(netlink, veth_carrier_follows_peer)
{
	struct view v = { 0 };
	struct psync_source *src = new_source(0);
	int a = netns_veth_add("va", "vb");
	int b = netns_ifindex("vb");

	cr_assert(a > 0 && b > 0);
	initial_dump(src, &v);
	cr_assert_eq(netns_link_set_up(a, true), 0);
	PUMP_UNTIL(src, &v, (view_get(&v, a)->flags & IFF_UP) &&
				    view_get(&v, a)->carrier == PSYNC_CARRIER_DOWN);
	cr_assert_neq(view_get(&v, a)->operstate, IF_OPER_UP);
	cr_assert_eq(netns_link_set_up(b, true), 0);
	PUMP_UNTIL(src, &v, view_get(&v, a)->carrier == PSYNC_CARRIER_UP &&
				    view_get(&v, a)->operstate == IF_OPER_UP);
	cr_assert_geq(view_get(&v, a)->carrier_up_count, 1);
	cr_assert_eq(netns_link_set_up(b, false), 0);
	PUMP_UNTIL(src, &v, view_get(&v, a)->carrier == PSYNC_CARRIER_DOWN);
	cr_assert_geq(view_get(&v, a)->carrier_down_count, 1);
	cr_assert_eq(view_get(&v, a)->has_carrier_changes, 1, "IFLA_CARRIER_CHANGES is read");
	cr_assert_eq(view_get(&v, a)->carrier_changes,
		     view_get(&v, a)->carrier_up_count + view_get(&v, a)->carrier_down_count);
	pump_idle(src, &v, 1200);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

Test(netlink, live_events_during_a_dump)
{
	struct view v = { 0 };
	struct psync_source *src = new_source(0);
	const struct psync_link_event *ev = NULL;
	int idx;

	for (int i = 0; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof(name), "pre%d", i);
		cr_assert_gt(netns_link_add(name, "ifb"), 0);
	}
	cr_assert_eq(psync_source_request_dump(src), 0);
	/* The dump's first replies are queued already: this change lands among them. */
	idx = netns_link_add("live0", "ifb");
	PUMP_UNTIL(src, &v, v.dumps_done == 1);
	for (size_t i = 0; i < v.nlog; i++)
		if (v.log[i].type == PSYNC_EVENT_NEWLINK && !strcmp(v.log[i].ifname, "live0") &&
		    !v.log[i].from_dump)
			ev = &v.log[i];
	cr_assert_not_null(ev, "the live NEWLINK was not emitted");
	cr_assert_eq(ev->dump_generation, 1);
	cr_assert_not_null(view_get(&v, idx));
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

/* An event queued before the dump's first reply may predate the dump: it keeps
 * the older generation, so that a link deleted unseen cannot survive the dump. */
Test(netlink, events_queued_before_a_dump_keep_the_older_generation)
{
	struct view v = { 0 };
	struct psync_source *src = new_source(0);
	int idx = netns_link_add("early", "ifb");
	bool live = false, dumped = false;

	cr_assert_gt(idx, 0);
	cr_assert_eq(psync_source_request_dump(src), 0);
	PUMP_UNTIL(src, &v, v.dumps_done == 1);
	for (size_t i = 0; i < v.nlog; i++) {
		if (v.log[i].type != PSYNC_EVENT_NEWLINK || v.log[i].ifindex != (uint32_t)idx)
			continue;
		if (v.log[i].from_dump) {
			cr_assert_eq(v.log[i].dump_generation, 1);
			dumped = true;
		} else {
			cr_assert_not(dumped, "the live event was queued before the dump");
			cr_assert_eq(v.log[i].dump_generation, 0);
			live = true;
		}
	}
	cr_assert(live && dumped);
	psync_source_free(src);
	view_free(&v);
}

/* Links added and deleted between two parts of a dump make the kernel flag it
 * as interrupted; only the clean dump after it may end with DUMP_DONE. */
Test(netlink, interrupted_dump_is_redone)
{
	struct view v = { 0 };
	struct psync_source *src;
	struct psync_netlink_stats st;
	int idx[200];

	add_links("many", 200, idx);
	src = new_source(0);
	cr_assert_eq(psync_source_request_dump(src), 0);
	dispatch(src, &v, 1);
	for (int i = 0; i < 200; i += 2)
		cr_assert_eq(netns_link_delete(idx[i]), 0);
	add_links("more", 20, idx);
	pump_idle(src, &v, 300);
	st = get_stats(src);
	cr_log_info("interrupted %llu, done %llu", (unsigned long long)st.dumps_interrupted,
		    (unsigned long long)st.dumps_done);
	cr_assert_geq(st.dumps_interrupted, 1);
	cr_assert_eq(st.dumps_done, 1);
	cr_assert_eq(v.dumps_done, 1);
	cr_assert_eq(v.last_done, st.generation);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

Test(netlink, dump_requested_while_one_runs_follows_it)
{
	struct view v = { 0 };
	struct psync_source *src = new_source(0);

	cr_assert_eq(psync_source_request_dump(src), 0);
	cr_assert_eq(psync_source_request_dump(src), 0);
	cr_assert_eq(get_stats(src).dump_pending, 1);
	PUMP_UNTIL(src, &v, v.dumps_done == 2);
	cr_assert_eq(v.last_done, 2);
	cr_assert_eq(get_stats(src).dumps_requested, 2);
	cr_assert_eq(get_stats(src).generation, 2);
	psync_source_free(src);
	view_free(&v);
}

/* With a budget of 1 and nothing but poll to say when to come back, every
 * message of a many-link dump datagram still arrives. */
Test(netlink, budget_of_one_and_poll_lose_nothing)
{
	struct view v = { 0 };
	struct psync_source *src;
	int64_t deadline = now_ms() + 10000;

	for (int i = 0; i < 30; i++) {
		char name[16];

		snprintf(name, sizeof(name), "b%d", i);
		cr_assert_gt(netns_link_add(name, "ifb"), 0);
	}
	src = new_source(0);
	cr_assert_eq(psync_source_request_dump(src), 0);
	while (v.dumps_done == 0 && now_ms() < deadline) {
		cr_assert(readable(src, 1000), "the fd went quiet with events still unread");
		dispatch(src, &v, 1);
	}
	cr_assert_eq(v.dumps_done, 1);
	cr_assert_eq(v.newlinks, 31);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

/* What the source's reads cost: receive calls and datagrams since a mark. */
struct reads {
	uint64_t calls, datagrams;
};

static struct reads reads_since(struct psync_source *src, struct reads mark)
{
	struct psync_netlink_stats st = get_stats(src);

	return (struct reads){ st.recv_calls - mark.calls, st.datagrams - mark.datagrams };
}

/* Hundreds of notifications queued while nobody reads come in few calls,
 * and the drain spends none to hear EAGAIN. */
Test(netlink, queued_notifications_are_read_many_per_call)
{
	enum { NLINKS = 200 };
	struct view v = { 0 };
	struct psync_source *src;
	struct reads r;
	int idx[NLINKS];

	add_links("q", NLINKS, idx);
	src = new_source(0);
	initial_dump(src, &v);
	pump_idle(src, &v, 200);
	for (int i = 0; i < NLINKS; i++)
		cr_assert_eq(netns_link_set_mtu(idx[i], 2000), 0);
	r = reads_since(src, (struct reads){ 0 });
	pump_idle(src, &v, 200);
	r = reads_since(src, r);
	cr_log_info("%llu datagrams in %llu receive calls", (unsigned long long)r.datagrams,
		    (unsigned long long)r.calls);
	cr_assert_geq(r.datagrams, NLINKS);
	/* 32 a call: 7 calls for 200 datagrams; one more per extra dispatch. */
	cr_assert_leq(r.calls, r.datagrams / 32 + 3, "%llu calls for %llu datagrams",
		      (unsigned long long)r.calls, (unsigned long long)r.datagrams);
	for (int i = 0; i < NLINKS; i++)
		cr_assert_eq(view_get(&v, idx[i])->mtu, 2000);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

/* A lone change costs one receive call: the short read says the socket is
 * empty, where one recvmsg per datagram needed a second call for EAGAIN. */
Test(netlink, a_lone_datagram_costs_one_call)
{
	enum { CHANGES = 20 };
	struct view v = { 0 };
	struct psync_source *src;
	struct reads r;
	int idx = netns_link_add("lone", "ifb");

	cr_assert_gt(idx, 0);
	src = new_source(0);
	initial_dump(src, &v);
	pump_idle(src, &v, 200);
	r = reads_since(src, (struct reads){ 0 });
	for (int i = 0; i < CHANGES; i++) {
		cr_assert_eq(netns_link_set_mtu(idx, 1300 + (uint32_t)i), 0);
		cr_assert(readable(src, 1000), "no notification for change %d", i);
		dispatch(src, &v, 0);
	}
	r = reads_since(src, r);
	cr_assert_geq(r.datagrams, CHANGES);
	cr_assert_eq(r.calls, CHANGES, "%llu calls for %d dispatches",
		     (unsigned long long)r.calls, CHANGES);
	pump_idle(src, &v, 200);
	cr_assert_eq(view_get(&v, idx)->mtu, 1300 + CHANGES - 1);
	psync_source_free(src);
	view_free(&v);
}

/* The kernel packs dump replies by the size of our reads: a dump of many links
 * fills many slots and never overflows one. */
Test(netlink, dump_of_many_links_fits_the_slots)
{
	enum { NLINKS = 400 };
	struct view v = { 0 };
	struct psync_source *src;
	struct psync_netlink_stats st;
	int idx[NLINKS];

	add_links("d", NLINKS, idx);
	netns_veth_add("dva", "dvb");
	cr_assert_gt(netns_link_add("dbr", "bridge"), 0);
	src = new_source(0);
	initial_dump(src, &v);
	cr_assert_eq(psync_source_request_dump(src), 0);
	PUMP_UNTIL(src, &v, v.dumps_done == 2);
	st = get_stats(src);
	cr_log_info("2 dumps: %llu messages, %llu datagrams, %llu receive calls",
		    (unsigned long long)st.messages, (unsigned long long)st.datagrams,
		    (unsigned long long)st.recv_calls);
	cr_assert_eq(st.truncated, 0);
	cr_assert_eq(st.overruns, 0);
	cr_assert_eq(st.dumps_interrupted, 0);
	cr_assert_geq(v.newlinks, 2 * (NLINKS + 4));
	/* Several links per datagram, several datagrams per call. */
	cr_assert_lt(st.datagrams * 4, st.messages);
	cr_assert_lt(st.recv_calls * 2, st.datagrams);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

/* Adds alternative names to a link until its messages outgrow n * 132 bytes. */
static void add_altnames(int ifindex, int n)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = nlmsg_alloc_size((size_t)n * 136 + 1024);
	struct nlattr *list;
	char name[128];
	int r;

	cr_assert(sk && msg);
	cr_assert_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	cr_assert_not_null(nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, RTM_NEWLINKPROP, 0, 0));
	cr_assert_eq(nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	list = nla_nest_start(msg, IFLA_PROP_LIST);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "alt%03d-%0120d", i, ifindex);
		cr_assert_eq(nla_put_string(msg, IFLA_ALT_IFNAME, name), 0);
	}
	nla_nest_end(msg, list);
	r = nl_send_sync(sk, msg);
	cr_assert_eq(r, 0, "RTM_NEWLINKPROP: %s", nl_geterror(r));
	nl_socket_free(sk);
}

/* A link message larger than a slot (a link with many alternative names)
 * comes truncated: an overrun, then a resync; the slots grow to fit it, so
 * its next messages and dumps come whole. */
Test(netlink, datagram_larger_than_a_slot_is_an_overrun_then_fits)
{
	struct view v = { 0 };
	struct psync_source *src;
	struct psync_netlink_stats st, after;
	int big = netns_link_add("big0", "ifb");
	int small = netns_link_add("small0", "ifb");

	cr_assert(big > 0 && small > 0);
	src = new_source(0);
	initial_dump(src, &v);
	cr_assert_eq(get_stats(src).truncated, 0);
	/* 80 names of 127 bytes: messages of about 12 KiB. Adding them is not
	 * notified; the change after it is. */
	add_altnames(big, 80);
	cr_assert_eq(netns_link_set_mtu(big, 1400), 0);
	cr_assert_eq(netns_link_set_mtu(small, 1234), 0);
	pump_idle(src, &v, 300);
	st = get_stats(src);
	cr_log_info("truncated %llu, overruns %llu, dumps %llu", (unsigned long long)st.truncated,
		    (unsigned long long)st.overruns, (unsigned long long)st.dumps_done);
	cr_assert_geq(st.truncated, 1, "the 12 KiB notification was not truncated");
	cr_assert_geq(st.overruns, st.truncated);
	cr_assert_eq(v.overruns, st.overruns);
	cr_assert_geq(st.dumps_done, 2, "no resync after the truncated datagram");
	cr_assert_eq(st.dump_running, 0);
	cr_assert_eq(st.dump_pending, 0);
	cr_assert_eq(view_get(&v, small)->mtu, 1234);
	cr_assert_eq(view_get(&v, big)->mtu, 1400);
	assert_view_is_kernel(&v);

	/* Grown: the big link's notifications and dump replies now fit. */
	cr_assert_eq(netns_link_set_mtu(big, 4321), 0);
	PUMP_UNTIL(src, &v, view_get(&v, big)->mtu == 4321);
	cr_assert_eq(psync_source_request_dump(src), 0);
	PUMP_UNTIL(src, &v, v.dumps_done == st.dumps_done + 1);
	pump_idle(src, &v, 200);
	after = get_stats(src);
	cr_assert_eq(after.truncated, st.truncated);
	cr_assert_eq(after.overruns, st.overruns);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

/* Thousands of changes while nobody reads a tiny receive buffer. */
static void burst(int *pre, int npre, int *fresh, int nfresh, int br)
{
	add_links("new", nfresh, fresh);
	for (int round = 0; round < 4; round++)
		for (int i = 0; i < nfresh; i++) {
			cr_assert_eq(netns_link_set_up_nowait(fresh[i], round % 2 == 0), 0);
			cr_assert_eq(netns_link_set_mtu_nowait(fresh[i], 1400 + 100 * round), 0);
		}
	for (int i = 0; i < npre; i += 3)
		cr_assert_eq(netns_link_set_master(pre[i], br), 0);
	for (int i = 1; i < npre; i += 4)
		cr_assert_eq(netns_link_delete(pre[i]), 0);
	for (int i = 0; i < nfresh; i += 5)
		cr_assert_eq(netns_link_delete(fresh[i]), 0);
	/* The last round left them down, as a rename needs. */
	for (int i = 2; i < nfresh; i += 5) {
		char name[16];

		snprintf(name, sizeof(name), "ren%d", i);
		cr_assert_eq(netns_link_rename(fresh[i], name), 0);
		cr_assert_eq(netns_link_set_up(fresh[i], true), 0);
	}
	for (int i = 3; i < npre; i += 4)
		cr_assert_eq(netns_link_set_up(pre[i], true), 0);
}

Test(netlink, overrun_then_resync_matches_the_kernel)
{
	enum { NPRE = 60, NFRESH = 300 };
	struct view v = { 0 };
	struct psync_source *src;
	struct psync_netlink_stats st;
	int pre[NPRE], fresh[NFRESH];
	int br;

	add_links("pre", NPRE, pre);
	br = netns_link_add("br0", "bridge");
	src = new_source(4096);
	cr_assert_lt(psync_netlink_source_get_rcvbuf(src), 64 << 10);
	initial_dump(src, &v);

	burst(pre, NPRE, fresh, NFRESH, br);
	/* Linkwatch reports operstate changes up to a second late. */
	pump_idle(src, &v, 1500);

	st = get_stats(src);
	cr_assert_geq(st.overruns, 1, "the burst did not overrun the socket");
	cr_assert_eq(v.overruns, st.overruns);
	cr_assert_geq(st.dumps_done, 2);
	cr_assert_eq(st.dump_running, 0);
	cr_assert_eq(st.dump_pending, 0);
	for (int i = 1; i < NPRE; i += 4)
		cr_assert_null(view_get(&v, pre[i]), "pre%d was deleted during the overrun", i);
	for (int i = 0; i < NFRESH; i += 5)
		cr_assert_null(view_get(&v, fresh[i]), "new%d was deleted during the overrun", i);
	assert_view_is_kernel(&v);
	cr_log_info("overruns %llu, dumps %llu, events %llu", (unsigned long long)st.overruns,
		    (unsigned long long)st.dumps_done, (unsigned long long)st.link_events);
	psync_source_free(src);
	view_free(&v);
}

Test(netlink, set_link_down)
{
	int idx = netns_link_add("down0", "ifb");
	struct netns_link *k;
	int n;

	cr_assert_eq(netns_link_set_up(idx, true), 0);
	cr_assert_eq(psync_netlink_set_link_down(idx), 0);
	n = netns_snapshot(&k);
	for (int i = 0; i < n; i++)
		if (k[i].ifindex == idx)
			cr_assert_eq(k[i].flags & IFF_UP, 0);
	free(k);
	/* Already down is fine too. */
	cr_assert_eq(psync_netlink_set_link_down(idx), 0);
	cr_assert_eq(psync_netlink_set_link_down(idx + 1000), -ENODEV);
	cr_assert_eq(psync_netlink_set_link_down(0), -EINVAL);
	cr_assert_eq(psync_netlink_set_link_down(-3), -EINVAL);
}

Test(netlink, receive_buffer_is_forced_and_reported)
{
	struct psync_source *src = new_source(0);
	struct psync_source *small = new_source(1 << 20);

	/* Root may pass net.core.rmem_max: 8 MiB, doubled by the kernel. */
	cr_assert_geq(psync_netlink_source_get_rcvbuf(src), 8 << 20);
	cr_assert_geq(psync_netlink_source_get_rcvbuf(small), 1 << 20);
	cr_assert_lt(psync_netlink_source_get_rcvbuf(small), 8 << 20);
	cr_assert_geq(psync_source_get_fd(src), 0);
	psync_source_free(src);
	psync_source_free(small);
}

static int fake_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	(void)impl, (void)budget, (void)emit, (void)userdata;
	return 0;
}

static const struct psync_source_ops fake_ops = {
	.sz = sizeof(fake_ops),
	.name = "netlink",
	.dispatch = fake_dispatch,
};

Test(netlink, arguments_are_checked)
{
	struct psync_netlink_options opts = { .sz = 0 };
	struct psync_netlink_stats st = { .sz = sizeof(st) };
	struct psync_netlink_stats old = { .sz = offsetof(struct psync_netlink_stats, overruns) };
	struct psync_source *src = NULL, *fake = NULL;

	cr_assert_eq(psync_netlink_source_new(NULL, NULL), -EINVAL);
	cr_assert_eq(psync_netlink_source_new(&opts, &src), -EINVAL);
	cr_assert_null(src);
	/* A source of another kind, even one that took the same name. */
	cr_assert_eq(psync_source_new(&fake_ops, &st, &fake), 0);
	cr_assert_eq(psync_netlink_source_get_stats(fake, &st), -EINVAL);
	cr_assert_eq(psync_netlink_source_get_rcvbuf(fake), -EINVAL);
	cr_assert_eq(psync_netlink_source_get_rcvbuf(NULL), -EINVAL);
	psync_source_free(fake);

	src = new_source(0);
	st.sz = 1;
	cr_assert_eq(psync_netlink_source_get_stats(src, &st), -EINVAL);
	cr_assert_eq(psync_netlink_source_get_stats(src, NULL), -EINVAL);
	/* A caller built against a shorter struct gets only what it knows. */
	old.overruns = 77;
	cr_assert_eq(psync_netlink_source_get_stats(src, &old), 0);
	cr_assert_eq(old.overruns, 77);
	cr_assert_eq(old.sz, offsetof(struct psync_netlink_stats, overruns));
	psync_source_free(src);
	psync_source_free(NULL);
}

/* The parser: no kernel involved. */

static void put_attr(void *buf, size_t *len, unsigned short type, const void *data, size_t size)
{
	struct rtattr *rta = (struct rtattr *)((char *)buf + NLMSG_ALIGN(*len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(size);
	memcpy(RTA_DATA(rta), data, size);
	*len = NLMSG_ALIGN(*len) + RTA_ALIGN(rta->rta_len);
}

/* Builds an RTM_NEWLINK as the kernel would, into buf; returns its length. */
static size_t make_link_msg(void *buf, size_t cap, uint16_t type, uint8_t family, int ifindex)
{
	struct nlmsghdr *h = buf;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	size_t len = NLMSG_LENGTH(sizeof(*ifi)), info_len = 0;
	uint32_t mtu = 9100, master = 7, ups = 3, downs = 2;
	uint8_t oper = IF_OPER_UP, carrier = 1;
	uint8_t mac[6] = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef };
	uint32_t linkinfo[4] = { 0 };

	cr_assert_geq(cap, 512);
	memset(buf, 0, cap);
	h->nlmsg_type = type;
	ifi->ifi_family = family;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP | IFF_BROADCAST;
	put_attr(buf, &len, IFLA_IFNAME, "Ethernet0", 10);
	put_attr(buf, &len, IFLA_MTU, &mtu, 4);
	put_attr(buf, &len, IFLA_MASTER, &master, 4);
	put_attr(buf, &len, IFLA_OPERSTATE, &oper, 1);
	put_attr(buf, &len, IFLA_CARRIER, &carrier, 1);
	put_attr(buf, &len, IFLA_CARRIER_UP_COUNT, &ups, 4);
	put_attr(buf, &len, IFLA_CARRIER_DOWN_COUNT, &downs, 4);
	put_attr(buf, &len, IFLA_ADDRESS, mac, 6);
	put_attr(linkinfo, &info_len, IFLA_INFO_KIND, "veth", 5);
	put_attr(buf, &len, IFLA_LINKINFO, linkinfo, info_len);
	h->nlmsg_len = (uint32_t)len;
	return len;
}

Test(netlink_parse, reads_every_field)
{
	uint32_t buf[128];
	struct psync_link_event ev;
	size_t len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 42);

	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), 0);
	cr_assert_eq(ev.type, PSYNC_EVENT_NEWLINK);
	cr_assert_eq(ev.ifindex, 42);
	cr_assert_eq(ev.flags, IFF_UP | IFF_BROADCAST);
	cr_assert_str_eq(ev.ifname, "Ethernet0");
	cr_assert_eq(ev.mtu, 9100);
	cr_assert_eq(ev.master, 7);
	cr_assert_eq(ev.operstate, IF_OPER_UP);
	cr_assert_eq(ev.carrier, PSYNC_CARRIER_UP);
	cr_assert_eq(ev.carrier_up_count, 3);
	cr_assert_eq(ev.carrier_down_count, 2);
	cr_assert_eq(ev.has_carrier_changes, 0, "absent from this message: not made up");
	cr_assert_eq(ev.addr_len, 6);
	cr_assert_eq(ev.addr[5], 0xef);
	cr_assert_str_eq(ev.kind, "veth");
	cr_assert_eq(ev.from_dump, 0);
	cr_assert_eq(ev.recv_ns, 0);

	make_link_msg(buf, sizeof(buf), RTM_DELLINK, AF_UNSPEC, 42);
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), 0);
	cr_assert_eq(ev.type, PSYNC_EVENT_DELLINK);
}

Test(netlink_parse, other_messages_are_not_links)
{
	uint32_t buf[128];
	struct psync_link_event ev;
	size_t len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_BRIDGE, 42);

	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -ENOMSG);
	len = make_link_msg(buf, sizeof(buf), RTM_NEWADDR, AF_UNSPEC, 42);
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -ENOMSG);
	cr_assert_eq(psync_netlink_parse_link(NULL, len, &ev), -EINVAL);
	cr_assert_eq(psync_netlink_parse_link(buf, len, NULL), -EINVAL);
}

static struct rtattr *find_attr(void *buf, unsigned short type)
{
	struct nlmsghdr *h = buf;
	struct rtattr *rta = (struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct ifinfomsg)));
	int rem = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct ifinfomsg));

	for (; RTA_OK(rta, rem); rta = RTA_NEXT(rta, rem))
		if (rta->rta_type == type)
			return rta;
	cr_assert_fail("attribute %u not found", type);
	return NULL;
}

Test(netlink_parse, malformed_messages_are_refused_and_ret_untouched)
{
	uint32_t buf[128];
	struct psync_link_event ev, canary;
	size_t len;

	memset(&canary, 0xa5, sizeof(canary));
	ev = canary;
	len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 0);
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -EBADMSG, "ifindex 0");
	len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 1);
	find_attr(buf, IFLA_IFNAME)->rta_type = IFLA_IFALIAS;
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -EBADMSG, "no name");
	len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 1);
	memset(RTA_DATA(find_attr(buf, IFLA_IFNAME)), 'x', 10);
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -EBADMSG, "name without NUL");
	len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 1);
	find_attr(buf, IFLA_MTU)->rta_len = RTA_LENGTH(2);
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -EBADMSG, "short mtu");
	len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 1);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len + 4;
	cr_assert_eq(psync_netlink_parse_link(buf, len, &ev), -EBADMSG, "longer than the buffer");
	cr_assert_eq(memcmp(&ev, &canary, sizeof(ev)), 0);
}

/* Copies into an allocation of exactly len bytes, so ASan sees any over-read. */
static int parse_exact(const void *msg, size_t len, struct psync_link_event *ev)
{
	void *copy = malloc(len ? len : 1);
	int r;

	cr_assert_not_null(copy);
	memcpy(copy, msg, len);
	r = psync_netlink_parse_link(copy, len, ev);
	free(copy);
	cr_assert(r == 0 || r == -EBADMSG || r == -ENOMSG, "unexpected %d", r);
	return r;
}

Test(netlink_parse, every_truncation_is_survived)
{
	uint32_t buf[128];
	struct psync_link_event ev;
	size_t len = make_link_msg(buf, sizeof(buf), RTM_NEWLINK, AF_UNSPEC, 5);

	for (size_t cut = 0; cut < len; cut++) {
		/* As received: the header claims more than there is. */
		cr_assert_eq(parse_exact(buf, cut, &ev), -EBADMSG, "cut at %zu", cut);
		/* As if a sender shortened the header too. */
		if (cut >= sizeof(struct nlmsghdr)) {
			((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)cut;
			parse_exact(buf, cut, &ev);
			((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
		}
	}
	cr_assert_eq(parse_exact(buf, len, &ev), 0);
}

Test(netlink_parse, random_and_mutated_bytes_are_survived)
{
	uint32_t base[128], buf[512];
	struct psync_link_event ev;
	size_t len = make_link_msg(base, sizeof(base), RTM_NEWLINK, AF_UNSPEC, 5);
	unsigned ok = 0;

	srand(12345);
	for (int i = 0; i < 200000; i++) {
		size_t n;

		if (i % 2) {
			/* A plausible header over random attributes. */
			n = NLMSG_LENGTH(sizeof(struct ifinfomsg)) + (size_t)(rand() % 1024);
			for (size_t j = 0; j < n / 4 + 1; j++)
				buf[j] = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
			memcpy(buf, base, NLMSG_LENGTH(sizeof(struct ifinfomsg)));
			((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)n;
		} else {
			/* The good message with a few bytes flipped. */
			n = len;
			memcpy(buf, base, len);
			for (int k = 0; k < 1 + rand() % 4; k++)
				((uint8_t *)buf)[rand() % (int)len] ^= (uint8_t)(1 + rand() % 255);
		}
		ok += parse_exact(buf, n, &ev) == 0;
	}
	cr_log_info("%u of 200000 random messages parsed", ok);
}

/* The child of the churn test: random link changes, some waited for, most not.
 * Returns how many the kernel refused (at most 255); the test does not depend
 * on which changes took, only on the view matching whatever the kernel holds. */
static int churn(int n_ops, int br)
{
	int idx[256] = { 0 }, n = 0, fail = 0;
	char name[16];

	netns_after_fork();
	srand((unsigned)getpid());
	for (int op = 0; op < n_ops; op++) {
		int i = n ? rand() % n : 0;

		switch (n < 8 ? 0 : rand() % 20) {
		case 0:
		case 1:
			if (n == 256)
				break;
			snprintf(name, sizeof(name), "c%d", op);
			idx[n] = netns_link_add(name, "ifb");
			fail += idx[n] <= 0;
			n += idx[n] > 0;
			break;
		case 2:
			fail += netns_link_delete(idx[i]) != 0;
			idx[i] = idx[--n];
			break;
		case 3:
			fail += netns_link_set_master(idx[i], rand() % 2 ? br : 0) != 0;
			break;
		case 4 ... 11:
			fail += netns_link_set_mtu_nowait(idx[i], 1000 + (uint32_t)(rand() % 8000)) != 0;
			break;
		default:
			fail += netns_link_set_up_nowait(idx[i], rand() % 2) != 0;
			break;
		}
	}
	return fail > 255 ? 255 : fail;
}

/* Changes keep coming while the source overruns, resyncs, and overruns again
 * during its resync dumps; once they stop, the view must be the kernel's. */
Test(netlink, overruns_under_concurrent_churn_converge)
{
	struct view v = { 0 };
	struct psync_source *src;
	struct psync_netlink_stats st;
	int br = netns_link_add("br0", "bridge");
	int status;
	pid_t pid;

	cr_assert_gt(br, 0);
	src = new_source(16 << 10);
	initial_dump(src, &v);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The child's copies of what the parent reads with. */
		psync_source_free(src);
		view_free(&v);
		_exit(churn(3000, br));
	}
	/* A reader slower than the writer: small bites, and naps between them. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (readable(src, 20))
			dispatch(src, &v, 16);
		usleep(2000);
	}
	cr_assert(WIFEXITED(status), "the churning child died");
	cr_log_info("churn: %d changes refused", WEXITSTATUS(status));
	pump_idle(src, &v, 1500);
	st = get_stats(src);
	cr_log_info("churn: overruns %llu, dumps %llu (interrupted %llu), events %llu",
		    (unsigned long long)st.overruns, (unsigned long long)st.dumps_done,
		    (unsigned long long)st.dumps_interrupted, (unsigned long long)st.link_events);
	cr_assert_geq(st.overruns, 1);
	cr_assert_eq(st.dump_running, 0);
	cr_assert_eq(st.dump_pending, 0);
	assert_view_is_kernel(&v);
	psync_source_free(src);
	view_free(&v);
}

/* The first message of a real dump reply (the kernel's full attribute set). */
static size_t capture_kernel_message(void *buf, size_t cap)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, &req, sizeof(req), 0), (ssize_t)sizeof(req));
	n = recv(fd, buf, cap, 0);
	close(fd);
	cr_assert_gt(n, (ssize_t)sizeof(struct nlmsghdr));
	cr_assert_eq(((struct nlmsghdr *)buf)->nlmsg_type, RTM_NEWLINK);
	return ((struct nlmsghdr *)buf)->nlmsg_len;
}

Test(netlink, kernel_messages_survive_truncation_and_mutation)
{
	uint32_t real[8192], buf[8192];
	struct psync_link_event ev;
	size_t len;

	cr_assert_gt(netns_link_add("k0", "ifb"), 0);
	len = capture_kernel_message(real, sizeof(real));
	cr_assert_eq(parse_exact(real, len, &ev), 0);
	cr_assert_str_eq(ev.ifname, "lo");
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(buf, real, len);
		cr_assert_eq(parse_exact(buf, cut, &ev), -EBADMSG);
		if (cut >= sizeof(struct nlmsghdr)) {
			((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)cut;
			parse_exact(buf, cut, &ev);
		}
	}
	srand(777);
	for (int i = 0; i < 100000; i++) {
		memcpy(buf, real, len);
		for (int k = 0; k < 1 + rand() % 8; k++)
			((uint8_t *)buf)[rand() % (int)len] = (uint8_t)rand();
		parse_exact(buf, len, &ev);
	}
}
