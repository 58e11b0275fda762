/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor of portsyncd's start-up: the least a port synchronizer does
 * before PortConfigDone. Connects to Redis's unix socket; in one round selects
 * CONFIG_DB, lists its PORT keys (KEYS) and loads the producer's script; in a
 * second asks every PORT hash (HGETALL, pipelined); then writes them all back
 * into APPL_DB pipelined, one EVALSHA per port through SONiC's
 * ProducerStateTable protocol, then PortConfigDone with the count. No
 * configuration file, no checks, no warm restart, no pruning, no logging, no
 * netlink. With --plain the writes are plain HSETs of the staging hashes
 * instead: what the same would cost without the protocol's script (which is
 * most of redis-server's work). It then waits to be killed, so that its CPU
 * time can still be read. bench-portsyncd (scenario 8) launches it as it
 * launches portsyncd and takes the same figures.
 *
 *   startup-floor SOCKET [--plain]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

/* The producer's set, as SONiC's ProducerStateTable does it: KEYS channel,
 * key set, staging hash; ARGV "G", key, fields and values. */
static const char script[] =
	"local added = redis.call('SADD', KEYS[2], ARGV[2])\n"
	"redis.call('HSET', KEYS[3], unpack(ARGV, 3))\n"
	"if added > 0 then\n"
	"    redis.call('PUBLISH', KEYS[1], ARGV[1])\n"
	"end\n";

#define MAX_ARGS 64

static redisReply *reply_of(redisContext *c)
{
	redisReply *r = NULL;

	if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "startup-floor: %s\n", r ? r->str : c->errstr);
		exit(1);
	}
	return r;
}

static void drop_replies(redisContext *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		freeReplyObject(reply_of(c));
}

/* One port's set: its name and its HGETALL reply's fields and values. */
static void append_set(redisContext *c, const char *sha, const char *name,
		       const redisReply *fields, int plain)
{
	const char *argv[MAX_ARGS];
	char staging[128];
	size_t n = 0, pairs = fields->elements < MAX_ARGS - 8 ? fields->elements : MAX_ARGS - 8;

	snprintf(staging, sizeof(staging), "_PORT_TABLE:%s", name);
	if (plain) {
		argv[n++] = "HSET";
		argv[n++] = staging;
	} else {
		argv[n++] = "EVALSHA";
		argv[n++] = sha;
		argv[n++] = "3";
		argv[n++] = "PORT_TABLE_CHANNEL@0";
		argv[n++] = "PORT_TABLE_KEY_SET";
		argv[n++] = staging;
		argv[n++] = "G";
		argv[n++] = name;
	}
	for (size_t i = 0; i < pairs; i++)
		argv[n++] = fields->element[i]->str;
	redisAppendCommandArgv(c, (int)n, argv, NULL);
}

int main(int argc, char **argv)
{
	int plain = argc > 2 && !strcmp(argv[2], "--plain");
	redisContext *c = argc > 1 ? redisConnectUnix(argv[1]) : NULL;
	redisReply *keys, *sha, **ports;
	const char *prefix = "PORT|";
	redisReply done = { .type = REDIS_REPLY_ARRAY };
	redisReply *done_fields[2], count_name = { .str = "count" }, count_value;
	char count[24];

	if (!c || c->err) {
		fprintf(stderr, "usage: startup-floor SOCKET [--plain]\n");
		return 1;
	}
	redisAppendCommand(c, "SELECT 4");
	redisAppendCommand(c, "KEYS %s*", prefix);
	redisAppendCommand(c, "SCRIPT LOAD %s", script);
	drop_replies(c, 1);
	keys = reply_of(c);
	sha = reply_of(c);
	ports = calloc(keys->elements + 1, sizeof(*ports));
	for (size_t i = 0; i < keys->elements; i++)
		redisAppendCommand(c, "HGETALL %s", keys->element[i]->str);
	for (size_t i = 0; i < keys->elements; i++)
		ports[i] = reply_of(c);
	redisAppendCommand(c, "SELECT 0");
	for (size_t i = 0; i < keys->elements; i++)
		append_set(c, sha->str, keys->element[i]->str + strlen(prefix), ports[i], plain);
	snprintf(count, sizeof(count), "%zu", keys->elements);
	count_value.str = count;
	done_fields[0] = &count_name;
	done_fields[1] = &count_value;
	done.element = done_fields;
	done.elements = 2;
	append_set(c, sha->str, "PortConfigDone", &done, plain);
	drop_replies(c, keys->elements + 2);
	for (size_t i = 0; i < keys->elements; i++)
		freeReplyObject(ports[i]);
	free(ports);
	freeReplyObject(keys);
	freeReplyObject(sha);
	redisFree(c);
	pause();
	return 0;
}
