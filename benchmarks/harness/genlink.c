/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "genlink.h"

#define REQUEST_SIZE 256
#define RECV_SIZE 65536

struct request {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[REQUEST_SIZE];
};

int genlink_open(struct genlink *g)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };

	g->seq = 1;
	g->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (g->fd < 0)
		return -errno;
	if (bind(g->fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		int r = -errno;

		genlink_close(g);
		return r;
	}
	return 0;
}

void genlink_close(struct genlink *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static void request_init(struct request *req, uint16_t type, uint16_t flags, int ifindex)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(req->ifi));
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	req->ifi.ifi_family = AF_UNSPEC;
	req->ifi.ifi_index = ifindex;
}

static struct rtattr *attr_put(struct request *req, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void attr_nest_end(struct request *req, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)req + req->nh.nlmsg_len - (char *)nest);
}

static void state_parse(struct nlmsghdr *nh, struct genlink_state *st);

/* Reads the answers to request seq until its acknowledgement or the end of
 * its dump, putting links into states (at most max, counted in *count) when
 * states is given. Returns the kernel's error code (0: success). */
static int read_answers(struct genlink *g, uint32_t seq, struct genlink_state *states, int max,
			int *count)
{
	static char buf[RECV_SIZE];

	for (;;) {
		ssize_t n = recv(g->fd, buf, sizeof(buf), 0);
		int left = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
			if (nh->nlmsg_type == RTM_NEWLINK && states && *count < max)
				state_parse(nh, &states[(*count)++]);
		}
	}
}

static int send_request(struct genlink *g, struct request *req)
{
	req->nh.nlmsg_seq = g->seq++;
	return send(g->fd, req, req->nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

/* Sends the request and waits for its acknowledgement. */
static int transact(struct genlink *g, struct request *req)
{
	int r = send_request(g, req);

	return r < 0 ? r : read_answers(g, req->nh.nlmsg_seq, NULL, 0, NULL);
}

int genlink_add_ifb(struct genlink *g, const char *name)
{
	struct request req;
	struct rtattr *info;
	int r;

	request_init(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	attr_put(&req, IFLA_IFNAME, name, strlen(name) + 1);
	info = attr_put(&req, IFLA_LINKINFO, NULL, 0);
	attr_put(&req, IFLA_INFO_KIND, "ifb", 4);
	attr_nest_end(&req, info);
	r = transact(g, &req);
	if (r < 0)
		return r;
	r = (int)if_nametoindex(name);
	return r > 0 ? r : -ENODEV;
}

int genlink_set_up(struct genlink *g, int ifindex, bool up)
{
	struct request req;

	request_init(&req, RTM_NEWLINK, 0, ifindex);
	req.ifi.ifi_change = IFF_UP;
	req.ifi.ifi_flags = up ? IFF_UP : 0;
	return transact(g, &req);
}

int genlink_set_mtu(struct genlink *g, int ifindex, uint32_t mtu)
{
	struct request req;

	request_init(&req, RTM_NEWLINK, 0, ifindex);
	attr_put(&req, IFLA_MTU, &mtu, sizeof(mtu));
	return transact(g, &req);
}

int genlink_delete(struct genlink *g, int ifindex)
{
	struct request req;

	request_init(&req, RTM_DELLINK, 0, ifindex);
	return transact(g, &req);
}

static void state_parse(struct nlmsghdr *nh, struct genlink_state *st)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)IFLA_PAYLOAD(nh);

	memset(st, 0, sizeof(*st));
	st->ifindex = ifi->ifi_index;
	st->flags = ifi->ifi_flags;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			strncpy(st->name, RTA_DATA(a), sizeof(st->name) - 1);
		else if (a->rta_type == IFLA_MTU)
			memcpy(&st->mtu, RTA_DATA(a), sizeof(st->mtu));
	}
}

int genlink_dump(struct genlink *g, struct genlink_state *states, int max)
{
	struct request req;
	int count = 0, r;

	request_init(&req, RTM_GETLINK, NLM_F_DUMP, 0);
	req.nh.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	r = send_request(g, &req);
	if (r == 0)
		r = read_answers(g, req.nh.nlmsg_seq, states, max, &count);
	return r < 0 ? r : count;
}
