/* SPDX-License-Identifier: Apache-2.0 */
/* One rtnetlink link message into one link event: a pure function of its bytes. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <portsync/netlink.h>

#include "internal.h"

/* libnl checks each attribute's length against these before we read it. */
static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[IFLA_MTU] = { .type = NLA_U32 },
	[IFLA_MASTER] = { .type = NLA_U32 },
	[IFLA_OPERSTATE] = { .type = NLA_U8 },
	[IFLA_CARRIER] = { .type = NLA_U8 },
	[IFLA_CARRIER_UP_COUNT] = { .type = NLA_U32 },
	[IFLA_CARRIER_DOWN_COUNT] = { .type = NLA_U32 },
	[IFLA_CARRIER_CHANGES] = { .type = NLA_U32 },
	[IFLA_ADDRESS] = { .type = NLA_UNSPEC, .maxlen = PSYNC_ADDR_MAX },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
};

static const struct nla_policy info_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { .type = NLA_STRING },
};

static uint32_t get_u32(struct nlattr *tb[], int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

static int parse_kind(struct nlattr *linkinfo, struct psync_link_event *ev)
{
	struct nlattr *info[IFLA_INFO_MAX + 1];

	if (nla_parse_nested(info, IFLA_INFO_MAX, linkinfo, info_policy) < 0)
		return -EBADMSG;
	if (info[IFLA_INFO_KIND])
		psync__strlcpy(ev->kind, nla_get_string(info[IFLA_INFO_KIND]), sizeof(ev->kind));
	return 0;
}

static uint8_t carrier_of(struct nlattr *attr)
{
	if (!attr)
		return PSYNC_CARRIER_UNKNOWN;
	return nla_get_u8(attr) ? PSYNC_CARRIER_UP : PSYNC_CARRIER_DOWN;
}

static int parse_attrs(struct nlmsghdr *h, struct psync_link_event *ev)
{
	struct nlattr *tb[IFLA_MAX + 1];
	const char *name;

	if (nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, link_policy) < 0)
		return -EBADMSG;
	if (!tb[IFLA_IFNAME])
		return -EBADMSG;
	name = nla_get_string(tb[IFLA_IFNAME]);
	if (name[0] == '\0')
		return -EBADMSG;
	psync__strlcpy(ev->ifname, name, sizeof(ev->ifname));
	ev->mtu = get_u32(tb, IFLA_MTU);
	ev->master = get_u32(tb, IFLA_MASTER);
	ev->carrier_up_count = get_u32(tb, IFLA_CARRIER_UP_COUNT);
	ev->carrier_down_count = get_u32(tb, IFLA_CARRIER_DOWN_COUNT);
	/* SONiC's portsyncd publishes it when present, so presence matters. */
	ev->has_carrier_changes = tb[IFLA_CARRIER_CHANGES] != NULL;
	ev->carrier_changes = get_u32(tb, IFLA_CARRIER_CHANGES);
	ev->operstate = tb[IFLA_OPERSTATE] ? nla_get_u8(tb[IFLA_OPERSTATE]) : 0;
	ev->carrier = carrier_of(tb[IFLA_CARRIER]);
	if (tb[IFLA_ADDRESS]) {
		ev->addr_len = (uint8_t)nla_len(tb[IFLA_ADDRESS]);
		memcpy(ev->addr, nla_data(tb[IFLA_ADDRESS]), ev->addr_len);
	}
	return tb[IFLA_LINKINFO] ? parse_kind(tb[IFLA_LINKINFO], ev) : 0;
}

/* Checks the header against the bytes there are, before anything reads past it. */
static int check_header(const struct nlmsghdr *h, size_t len)
{
	if (len < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
		return -EBADMSG;
	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return -ENOMSG;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EBADMSG;
	return 0;
}

PSYNC_API int psync_netlink_parse_link(const void *msg, size_t len, struct psync_link_event *ret)
{
	/* libnl's parsers take non-const pointers but only read through them. */
	struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)msg;
	const struct ifinfomsg *ifi;
	struct psync_link_event ev = { 0 };
	int r;

	if (!msg || !ret)
		return -EINVAL;
	r = check_header(h, len);
	if (r < 0)
		return r;
	ifi = NLMSG_DATA(h);
	/* AF_BRIDGE messages describe bridge ports, not links: a DELLINK of
	 * theirs means "left the bridge". */
	if (ifi->ifi_family != AF_UNSPEC)
		return -ENOMSG;
	if (ifi->ifi_index <= 0)
		return -EBADMSG;
	ev.type = h->nlmsg_type == RTM_NEWLINK ? PSYNC_EVENT_NEWLINK : PSYNC_EVENT_DELLINK;
	ev.ifindex = (uint32_t)ifi->ifi_index;
	ev.flags = ifi->ifi_flags;
	r = parse_attrs(h, &ev);
	if (r < 0)
		return r;
	*ret = ev;
	return 0;
}
