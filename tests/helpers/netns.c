/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include <criterion/criterion.h>

#include "helpers/netns.h"

/* Requests that wait for their answer; and bursts, on a socket of their own
 * that asks for no acks, so the first's sequence numbers stay in step. */
static struct nl_sock *sock, *burst_sock;

static struct nl_sock *connect_route(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	cr_assert_not_null(sk);
	cr_assert_eq(nl_connect(sk, NETLINK_ROUTE), 0);
	return sk;
}

void netns_enter(void)
{
	cr_assert_eq(geteuid(), 0, "netlink tests need root (CAP_NET_ADMIN): run them as root");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	sock = connect_route();
	burst_sock = connect_route();
	nl_socket_disable_auto_ack(burst_sock);
}

void netns_after_fork(void)
{
	/* Closes only this process's copies of the parent's sockets. */
	nl_socket_free(sock);
	nl_socket_free(burst_sock);
	sock = connect_route();
	burst_sock = connect_route();
	nl_socket_disable_auto_ack(burst_sock);
}

/* The kernel's errno as a libnl code is good enough to assert on. */
static int finish(struct nl_msg *msg, bool wait)
{
	int r;

	if (wait)
		return nl_send_sync(sock, msg);
	r = nl_send_auto(burst_sock, msg);
	nlmsg_free(msg);
	return r < 0 ? r : 0;
}

static struct nl_msg *link_msg(int type, int flags, int ifindex, unsigned ifflags,
			       unsigned change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = ifflags,
		.ifi_change = change,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	cr_assert_not_null(msg);
	cr_assert_eq(nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	return msg;
}

int netns_ifindex(const char *name)
{
	return (int)if_nametoindex(name);
}

int netns_link_add(const char *name, const char *kind)
{
	struct nl_msg *msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
	struct nlattr *info;
	int r;

	NLA_PUT_STRING(msg, IFLA_IFNAME, name);
	info = nla_nest_start(msg, IFLA_LINKINFO);
	NLA_PUT_STRING(msg, IFLA_INFO_KIND, kind);
	nla_nest_end(msg, info);
	r = finish(msg, true);
	return r < 0 ? r : netns_ifindex(name);
nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

int netns_veth_add(const char *name, const char *peer)
{
	struct nl_msg *msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
	struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
	struct nlattr *info, *data, *p;
	int r;

	NLA_PUT_STRING(msg, IFLA_IFNAME, name);
	info = nla_nest_start(msg, IFLA_LINKINFO);
	NLA_PUT_STRING(msg, IFLA_INFO_KIND, "veth");
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	p = nla_nest_start(msg, VETH_INFO_PEER);
	cr_assert_eq(nlmsg_append(msg, &peer_ifi, sizeof(peer_ifi), NLMSG_ALIGNTO), 0);
	NLA_PUT_STRING(msg, IFLA_IFNAME, peer);
	nla_nest_end(msg, p);
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	r = finish(msg, true);
	return r < 0 ? r : netns_ifindex(name);
nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int set_up(int ifindex, bool up, bool wait)
{
	return finish(link_msg(RTM_NEWLINK, 0, ifindex, up ? IFF_UP : 0, IFF_UP), wait);
}

int netns_link_set_up(int ifindex, bool up)
{
	return set_up(ifindex, up, true);
}

int netns_link_set_up_nowait(int ifindex, bool up)
{
	return set_up(ifindex, up, false);
}

static int set_u32(int ifindex, int attr, uint32_t value, bool wait)
{
	struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);

	cr_assert_eq(nla_put_u32(msg, attr, value), 0);
	return finish(msg, wait);
}

int netns_link_set_mtu(int ifindex, uint32_t mtu)
{
	return set_u32(ifindex, IFLA_MTU, mtu, true);
}

int netns_link_set_mtu_nowait(int ifindex, uint32_t mtu)
{
	return set_u32(ifindex, IFLA_MTU, mtu, false);
}

int netns_link_set_master(int ifindex, int master)
{
	return set_u32(ifindex, IFLA_MASTER, (uint32_t)master, true);
}

int netns_link_rename(int ifindex, const char *name)
{
	struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);

	cr_assert_eq(nla_put_string(msg, IFLA_IFNAME, name), 0);
	return finish(msg, true);
}

int netns_link_delete(int ifindex)
{
	return finish(link_msg(RTM_DELLINK, 0, ifindex, 0, 0), true);
}

static void copy_link(struct rtnl_link *l, struct netns_link *out)
{
	const char *kind = rtnl_link_get_type(l);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	strncpy(out->name, rtnl_link_get_name(l), sizeof(out->name) - 1);
	out->flags = rtnl_link_get_flags(l);
	out->mtu = rtnl_link_get_mtu(l);
	out->master = rtnl_link_get_master(l);
	out->operstate = rtnl_link_get_operstate(l);
	out->carrier = rtnl_link_get_carrier(l);
	if (kind)
		strncpy(out->kind, kind, sizeof(out->kind) - 1);
}

static int by_ifindex(const void *a, const void *b)
{
	return ((const struct netns_link *)a)->ifindex - ((const struct netns_link *)b)->ifindex;
}

int netns_snapshot(struct netns_link **ret)
{
	struct nl_cache *cache;
	struct nl_object *o;
	struct netns_link *links;
	int n = 0, r;

	r = rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache);
	if (r < 0)
		return r;
	links = calloc((size_t)nl_cache_nitems(cache) + 1, sizeof(*links));
	cr_assert_not_null(links);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
		copy_link((struct rtnl_link *)o, &links[n++]);
	nl_cache_free(cache);
	qsort(links, (size_t)n, sizeof(*links), by_ifindex);
	*ret = links;
	return n;
}
