/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/redis_server.h"
#include "sonic.h"

#define CONFIG_DB 4
#define APPL_DB 0
#define STATE_DB 6

void sonic_port_name(unsigned port, char *buf, size_t len)
{
	snprintf(buf, len, "Ethernet%u", port * 4);
}

/* Reads count pipelined replies; fails when any is missing or an error. */
static int replies_ok(redisContext *c, unsigned count)
{
	int r = 0;

	for (unsigned i = 0; i < count; i++) {
		redisReply *reply;

		if (redisGetReply(c, (void **)&reply) != REDIS_OK)
			return -EIO;
		if (reply->type == REDIS_REPLY_ERROR)
			r = -EIO;
		freeReplyObject(reply);
	}
	return r;
}

static void append_port(redisContext *c, unsigned port)
{
	char name[32], lanes[64], alias[16], index[16];
	unsigned lane = port * 4;

	sonic_port_name(port, name, sizeof(name));
	snprintf(lanes, sizeof(lanes), "%u,%u,%u,%u", lane, lane + 1, lane + 2, lane + 3);
	snprintf(alias, sizeof(alias), "etp%u", port + 1);
	snprintf(index, sizeof(index), "%u", port);
	redisAppendCommand(c, "SELECT %d", CONFIG_DB);
	redisAppendCommand(c, "HSET PORT|%s alias %s lanes %s speed 100000 mtu 9100 admin_status up index %s",
			   name, alias, lanes, index);
}

int sonic_seed(redisContext *c, unsigned n)
{
	unsigned done = 0;
	int r;

	redisAppendCommand(c, "FLUSHALL");
	r = replies_ok(c, 1);
	while (r == 0 && done < n) {
		unsigned batch = n - done < 256 ? n - done : 256;

		for (unsigned i = 0; i < batch; i++)
			append_port(c, done + i);
		r = replies_ok(c, batch * 2);
		done += batch;
	}
	return r;
}

int sonic_consume(redisContext *c)
{
	return redis_server_consume_port_table(c);
}

/* The kernel's links indexed by port number; NULL where none. */
static const struct genlink_state **links_by_port(const struct genlink_state *links, int n_links,
						  unsigned n)
{
	const struct genlink_state **by_port = calloc(n, sizeof(*by_port));
	unsigned number;

	for (int i = 0; by_port && i < n_links; i++)
		if (sscanf(links[i].name, "Ethernet%u", &number) == 1 && number / 4 < n)
			by_port[number / 4] = &links[i];
	return by_port;
}

static int field_is(const redisReply *field, const char *want)
{
	return field->type == REDIS_REPLY_STRING && !strcmp(field->str, want);
}

/* One port's STATE_DB answer to HMGET admin_status mtu netdev_oper_status
 * against the kernel: equal fields where the port has a netdev, no row at all
 * where it has none. */
static int port_matches(const redisReply *reply, const struct genlink_state *link)
{
	char mtu[16];

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
		return 0;
	if (!link)
		return reply->element[0]->type == REDIS_REPLY_NIL &&
		       reply->element[1]->type == REDIS_REPLY_NIL &&
		       reply->element[2]->type == REDIS_REPLY_NIL;
	snprintf(mtu, sizeof(mtu), "%u", link->mtu);
	return field_is(reply->element[0], link->flags & IFF_UP ? "up" : "down") &&
	       field_is(reply->element[1], mtu) &&
	       field_is(reply->element[2], link->flags & IFF_RUNNING ? "up" : "down");
}

int sonic_state_mismatches(redisContext *c, const struct genlink_state *links, int n_links,
			   unsigned n)
{
	const struct genlink_state **by_port = links_by_port(links, n_links, n);
	int mismatches = 0;
	char name[32];

	if (!by_port)
		return -ENOMEM;
	redisAppendCommand(c, "SELECT %d", STATE_DB);
	for (unsigned i = 0; i < n; i++) {
		sonic_port_name(i, name, sizeof(name));
		redisAppendCommand(c, "HMGET PORT_TABLE|%s admin_status mtu netdev_oper_status", name);
	}
	if (replies_ok(c, 1) < 0)
		mismatches = -EIO;
	for (unsigned i = 0; i < n; i++) {
		redisReply *reply;

		if (redisGetReply(c, (void **)&reply) != REDIS_OK) {
			mismatches = -EIO;
			break;
		}
		if (mismatches >= 0)
			mismatches += !port_matches(reply, by_port[i]);
		freeReplyObject(reply);
	}
	free(by_port);
	return mismatches;
}
