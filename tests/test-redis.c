/* SPDX-License-Identifier: Apache-2.0 */
/* The Redis sink against a real redis-server: what lands, byte for byte; the
 * producer protocol; database configuration; NOSCRIPT; a server killed or
 * stopped under load; reads; errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <portsync/portsync.h>
#include <portsync/redis.h>

#include "internal.h"
#include "redis_internal.h"
#include "helpers/redis_server.h"

static struct redis_server srv;

static void start_server(void)
{
	cr_assert_eq(redis_server_start(&srv, NULL), 0, "redis-server did not start");
}

static void stop_server(void)
{
	redis_server_stop(&srv);
}

TestSuite(redis, .init = start_server, .fini = stop_server, .timeout = 120);

/* ---- completions ---- */

struct done_log {
	unsigned n, failed;
	int last_status;
	char last_reason[256];
	const struct psync_write *order[2048];
	int status[2048];
};

static void on_done(const struct psync_write *w, int status, const char *reason, void *userdata)
{
	struct done_log *log = userdata;

	if (log->n < 2048) {
		log->order[log->n] = w;
		log->status[log->n] = status;
	}
	log->n++;
	log->failed += status != 0;
	log->last_status = status;
	snprintf(log->last_reason, sizeof(log->last_reason), "%s", reason ? reason : "");
}

/* ---- writes the test owns until they complete ---- */

struct box {
	struct psync_write w;
	struct psync_field f[8];
	char db[32], table[32], key[64];
	char names[8][32], values[8][64];
};

/* kv: name, value, name, value, ... */
static void box_set(struct box *b, enum psync_write_op op, const char *db, const char *table,
		    const char *key, const char *const *kv, size_t n_fields)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->db, sizeof(b->db), "%s", db);
	snprintf(b->table, sizeof(b->table), "%s", table);
	snprintf(b->key, sizeof(b->key), "%s", key);
	for (size_t i = 0; i < n_fields; i++) {
		snprintf(b->names[i], sizeof(b->names[i]), "%s", kv[2 * i]);
		snprintf(b->values[i], sizeof(b->values[i]), "%s", kv[2 * i + 1]);
		b->f[i].name = b->names[i];
		b->f[i].value = b->values[i];
	}
	b->w = (struct psync_write){ .op = op, .db = b->db, .table = b->table, .key = b->key,
				     .fields = b->f, .n_fields = n_fields };
}

static void submit(struct psync_sink *s, struct box *b)
{
	int r = psync__sink_submit(s, &b->w);

	cr_assert_eq(r, 0, "submit: %s", strerror(-r));
}

/* ---- sinks ---- */

static struct psync_sink *sink_with(const struct psync_redis_options *o, struct done_log *log)
{
	struct psync_sink *s = NULL;
	char err[256] = "";
	int r = psync_redis_sink_new(o, err, sizeof(err), &s);

	cr_assert_eq(r, 0, "psync_redis_sink_new: %s (%s)", err, strerror(-r));
	if (log)
		cr_assert_eq(psync__sink_attach(s, on_done, log), 0);
	return s;
}

static struct psync_sink *sink_at(const char *address, struct done_log *log)
{
	struct psync_redis_options o = { .sz = sizeof(o), .address = address };

	return sink_with(&o, log);
}

static void connect_db(struct psync_sink *s, const char *db)
{
	char err[256] = "";
	int r = psync_redis_sink_connect(s, db, 5000, err, sizeof(err));

	cr_assert_eq(r, 0, "connect %s: %s (%s)", db, err, strerror(-r));
}

static void wait_done(struct psync_sink *s)
{
	int r = psync_sink_wait(s, 20000);

	cr_assert_eq(r, 0, "psync_sink_wait: %s", strerror(-r));
}

static struct psync_redis_stats stats_of(struct psync_sink *s)
{
	struct psync_redis_stats st = { .sz = sizeof(st) };

	cr_assert_eq(psync_redis_sink_get_stats(s, &st), 0);
	return st;
}

/* ---- a blocking client for assertions ---- */

static redisContext *client(const struct redis_server *server, int db)
{
	redisContext *c = redis_server_client(server, db, NULL);

	cr_assert_not_null(c, "client on %s", server->socket);
	return c;
}

__attribute__((format(printf, 2, 3)))
static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	cr_assert_not_null(r, "%s: %s", fmt, c->errstr);
	return r;
}

/* HGET as a string to compare; "(nil)" when absent. */
static const char *hget(redisContext *c, const char *key, const char *field)
{
	static char value[256];
	redisReply *r = cmd(c, "HGET %s %s", key, field);

	snprintf(value, sizeof(value), "%s", r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	freeReplyObject(r);
	return value;
}

static long long exists(redisContext *c, const char *key)
{
	redisReply *r = cmd(c, "EXISTS %s", key);
	long long v;

	cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "EXISTS %s: type %d", key, r->type);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static void expect_hash(redisContext *c, const char *key, const char *const *kv, size_t n)
{
	redisReply *r = cmd(c, "HGETALL %s", key);

	cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
	cr_assert_eq(r->elements, 2 * n, "%s has %zu elements, expected %zu", key, r->elements,
		     2 * n);
	for (size_t i = 0; i < 2 * n; i++)
		cr_expect_str_eq(r->element[i]->str, kv[i], "%s element %zu", key, i);
	freeReplyObject(r);
}

static redisContext *monitor_start(void)
{
	redisContext *c = client(&srv, 0);
	redisReply *r = cmd(c, "MONITOR");

	cr_assert_eq(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	return c;
}

/* The next command the server ran that contains needle, copied into line. */
static void monitor_find(redisContext *mon, const char *needle, char *line, size_t len)
{
	for (;;) {
		redisReply *r = NULL;
		int found;

		cr_assert_eq(redisGetReply(mon, (void **)&r), REDIS_OK, "MONITOR: no %s seen",
			     needle);
		found = r->type == REDIS_REPLY_STATUS && strstr(r->str, needle);
		if (found)
			snprintf(line, len, "%s", r->str);
		freeReplyObject(r);
		if (found)
			return;
	}
}

/* ---- what lands ---- */

Test(redis, hset_lands_whole_and_in_field_order)
{
	static const char *const fv[] = { "state", "ok", "netdev_oper_status", "up",
					  "admin_status", "up", "mtu", "9100" };
	static const char *const with_speed[] = { "speed", "100000", "state", "ok",
						  "netdev_oper_status", "up", "admin_status", "up",
						  "mtu", "9100" };
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	redisContext *c = client(&srv, 6), *mon = monitor_start();
	struct box b[2];
	char line[1024];

	connect_db(s, "STATE_DB");
	freeReplyObject(cmd(c, "HSET PORT_TABLE|Ethernet4 speed 100000"));
	box_set(&b[0], PSYNC_WRITE_SET, "STATE_DB", "PORT_TABLE", "Ethernet0", fv, 4);
	box_set(&b[1], PSYNC_WRITE_SET, "STATE_DB", "PORT_TABLE", "Ethernet4", fv, 4);
	submit(s, &b[0]);
	submit(s, &b[1]);
	wait_done(s);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	expect_hash(c, "PORT_TABLE|Ethernet0", fv, 4);
	expect_hash(c, "PORT_TABLE|Ethernet4", with_speed, 5); /* foreign field kept */
	monitor_find(mon, "\"HSET\" \"PORT_TABLE|Ethernet0\"", line, sizeof(line));
	cr_expect(strstr(line, "[6 "), "not on db 6: %s", line);
	cr_expect(strstr(line, "\"HSET\" \"PORT_TABLE|Ethernet0\" \"state\" \"ok\" "
			       "\"netdev_oper_status\" \"up\" \"admin_status\" \"up\" "
			       "\"mtu\" \"9100\""), "%s", line);
	psync_sink_free(s);
	redisFree(c);
	redisFree(mon);
}

Test(redis, del_removes_the_whole_key)
{
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	redisContext *c = client(&srv, 6);
	struct box b[2];

	connect_db(s, "STATE_DB");
	freeReplyObject(cmd(c, "HSET PORT_TABLE|Ethernet0 state ok mtu 9100"));
	box_set(&b[0], PSYNC_WRITE_DEL, "STATE_DB", "PORT_TABLE", "Ethernet0", NULL, 0);
	box_set(&b[1], PSYNC_WRITE_DEL, "STATE_DB", "PORT_TABLE", "Ethernet404", NULL, 0);
	submit(s, &b[0]);
	submit(s, &b[1]);
	wait_done(s);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.failed, 0);
	cr_assert_eq(exists(c, "PORT_TABLE|Ethernet0"), 0);
	psync_sink_free(s);
	redisFree(c);
}

Test(redis, set_without_fields_is_refused)
{
	struct psync_sink *s = sink_at(srv.address, NULL);
	struct box b;

	connect_db(s, "STATE_DB");
	box_set(&b, PSYNC_WRITE_SET, "STATE_DB", "PORT_TABLE", "Ethernet0", NULL, 0);
	cr_assert_eq(psync__sink_submit(s, &b.w), -EINVAL);
	box_set(&b, PSYNC_WRITE_SET, "NO_SUCH_DB", "PORT_TABLE", "Ethernet0",
		(const char *const[]){ "a", "b" }, 1);
	cr_assert_eq(psync__sink_submit(s, &b.w), -ENOENT);
	psync_sink_free(s);
}

/* Long pipelines start leaving before the flush; when that early write finds
 * the server gone, the loss must surface at the flush, as any write error
 * does, and never as completions inside a submit. */
Test(redis, failed_early_write_is_reported_by_the_flush_not_inside_submit)
{
	enum { N = 200 };
	static const char *const names[] = { "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7" };
	struct done_log *log = calloc(1, sizeof(*log));
	struct psync_sink *s = sink_at(srv.address, log);
	struct box *b = calloc(N, sizeof(*b)), again;
	const char *kv[16];
	char value[64], key[16];

	cr_assert_not_null(b);
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (size_t i = 0; i < 8; i++) {
		kv[2 * i] = names[i];
		kv[2 * i + 1] = value;
	}
	connect_db(s, "STATE_DB");
	redis_server_kill(&srv);
	/* ~700 bytes each: 140 KB, past the write-ahead threshold twice. */
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "K%u", i);
		box_set(&b[i], PSYNC_WRITE_SET, "STATE_DB", "BIG", key, kv, 8);
		submit(s, &b[i]);
	}
	cr_assert_eq(log->n, 0, "%u completions ran inside submit", log->n);
	cr_assert_eq(psync__sink_flush(s), 0);
	cr_assert_eq(log->n, N, "%u of %u writes completed", log->n, N);
	for (unsigned i = 0; i < N; i++) {
		cr_assert_eq(log->order[i], &b[i].w, "completion %u out of order", i);
		cr_assert_eq(log->status[i], -ECONNRESET);
	}
	cr_assert_not_null(strstr(log->last_reason, ": write: "), "reason: %s", log->last_reason);
	/* The sink reconnects to the restarted server and writes again. */
	cr_assert_eq(redis_server_restart(&srv), 0);
	connect_db(s, "STATE_DB");
	box_set(&again, PSYNC_WRITE_SET, "STATE_DB", "BIG", "K0", kv, 1);
	submit(s, &again);
	wait_done(s);
	cr_assert_eq(log->n, N + 1);
	cr_assert_eq(log->last_status, 0, "%s", log->last_reason);
	psync_sink_free(s);
	free(b);
	free(log);
}

/* ---- ProducerStateTable ---- */

static redisContext *subscribe(const char *channel)
{
	redisContext *sub = client(&srv, 0);
	redisReply *r = cmd(sub, "SUBSCRIBE %s", channel);

	freeReplyObject(r);
	return sub;
}

/* Counts "G" on channel up to an END the test publishes after its writes. */
static unsigned count_notifications(redisContext *c, redisContext *sub, const char *channel)
{
	unsigned g = 0;

	freeReplyObject(cmd(c, "PUBLISH %s END", channel));
	for (;;) {
		redisReply *r = NULL;
		int end;

		cr_assert_eq(redisGetReply(sub, (void **)&r), REDIS_OK, "no END on %s", channel);
		cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
		cr_assert_eq(r->elements, 3);
		end = strcmp(r->element[2]->str, "END") == 0;
		if (!end) {
			cr_expect_str_eq(r->element[2]->str, "G");
			g++;
		}
		freeReplyObject(r);
		if (end)
			return g;
	}
}

static int set_has(redisContext *c, const char *set, const char *member)
{
	redisReply *r = cmd(c, "SISMEMBER %s %s", set, member);
	int yes = r->integer == 1;

	freeReplyObject(r);
	return yes;
}

static const char *const lanes_speed[] = { "lanes", "0,1", "speed", "100000" };

/* Five writes: a new key, the same key again, another new key, a delete of a
 * new key, a delete of a key in the key set. */
static void producer_round_one(struct psync_sink *s, struct box *b)
{
	static const char *const speed[] = { "speed", "40000" };

	box_set(&b[0], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "PORT_TABLE", "Ethernet0", lanes_speed,
		2);
	box_set(&b[1], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "PORT_TABLE", "Ethernet0", speed, 1);
	box_set(&b[2], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "PORT_TABLE", "Ethernet4", lanes_speed,
		2);
	box_set(&b[3], PSYNC_WRITE_PRODUCER_DEL, "APPL_DB", "PORT_TABLE", "Ethernet8", NULL, 0);
	box_set(&b[4], PSYNC_WRITE_PRODUCER_DEL, "APPL_DB", "PORT_TABLE", "Ethernet0", NULL, 0);
	for (int i = 0; i < 5; i++)
		submit(s, &b[i]);
	wait_done(s);
}

static void expect_round_one_state(redisContext *c)
{
	cr_expect(set_has(c, "PORT_TABLE_KEY_SET", "Ethernet0"));
	cr_expect(set_has(c, "PORT_TABLE_KEY_SET", "Ethernet4"));
	cr_expect(set_has(c, "PORT_TABLE_KEY_SET", "Ethernet8"));
	cr_expect(set_has(c, "PORT_TABLE_DEL_SET", "Ethernet8"));
	cr_expect(set_has(c, "PORT_TABLE_DEL_SET", "Ethernet0"));
	cr_expect(!set_has(c, "PORT_TABLE_DEL_SET", "Ethernet4"));
	cr_expect_eq(exists(c, "_PORT_TABLE:Ethernet0"), 0);
	expect_hash(c, "_PORT_TABLE:Ethernet4", lanes_speed, 2);
	cr_expect_eq(exists(c, "PORT_TABLE:Ethernet4"), 0, "only a consumer writes it");
}

/* The same arguments as sonic-swss-common's producer. */
static void expect_round_one_commands(redisContext *mon)
{
	char line[1024];

	monitor_find(mon, "\"_PORT_TABLE:Ethernet4\"", line, sizeof(line));
	cr_expect(strstr(line, "\"EVALSHA\""), "%s", line);
	cr_expect(strstr(line, "\"4\" \"PORT_TABLE_CHANNEL@0\" \"PORT_TABLE_KEY_SET\" "
			       "\"_PORT_TABLE:Ethernet4\" \"_PORT_TABLE:Ethernet4\" "
			       "\"G\" \"Ethernet4\" \"lanes\" \"0,1\" \"speed\" \"100000\""),
		  "%s", line);
	monitor_find(mon, "\"_PORT_TABLE:Ethernet8\"", line, sizeof(line));
	cr_expect(strstr(line, "\"4\" \"PORT_TABLE_CHANNEL@0\" \"PORT_TABLE_KEY_SET\" "
			       "\"_PORT_TABLE:Ethernet8\" \"PORT_TABLE_DEL_SET\" "
			       "\"G\" \"Ethernet8\" \"''\" \"''\""), "%s", line);
}

Test(redis, producer_protocol_and_notifications_for_new_keys_only)
{
	static const char *const up[] = { "admin_status", "up" };
	static const char *const done[] = { "count", "2" };
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	redisContext *c = client(&srv, 0), *mon = monitor_start();
	redisContext *sub = subscribe("PORT_TABLE_CHANNEL@0");
	struct box b[7];

	connect_db(s, "APPL_DB");
	producer_round_one(s, b);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	expect_round_one_state(c);
	expect_round_one_commands(mon);

	/* A consumer took everything: the keys are new again. */
	freeReplyObject(cmd(c, "DEL PORT_TABLE_KEY_SET PORT_TABLE_DEL_SET"));
	box_set(&b[5], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "PORT_TABLE", "Ethernet0", up, 1);
	box_set(&b[6], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "PORT_TABLE", "PortConfigDone", done,
		1);
	submit(s, &b[5]);
	submit(s, &b[6]);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	expect_hash(c, "_PORT_TABLE:PortConfigDone", done, 1);
	/* Ethernet0, Ethernet4, Ethernet8, then Ethernet0 and PortConfigDone again. */
	cr_expect_eq(count_notifications(c, sub, "PORT_TABLE_CHANNEL@0"), 5);
	psync_sink_free(s);
	redisFree(c);
	redisFree(mon);
	redisFree(sub);
}

Test(redis, producer_channel_names_the_database_id)
{
	static const char *const fv[] = { "f", "v" };
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	redisContext *c = client(&srv, 0), *sub = subscribe("T_CHANNEL@6");
	redisContext *c6 = client(&srv, 6);
	struct box b;

	connect_db(s, "STATE_DB");
	box_set(&b, PSYNC_WRITE_PRODUCER_SET, "STATE_DB", "T", "k", fv, 1);
	submit(s, &b);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	expect_hash(c6, "_T|k", fv, 1);
	cr_expect_eq(count_notifications(c, sub, "T_CHANNEL@6"), 1);
	psync_sink_free(s);
	redisFree(c);
	redisFree(c6);
	redisFree(sub);
}

/* Every third write is a Table write to STATE_DB SEQ|last, the others are
 * producer writes to APPL_DB T:k0..k9; each carries its index as "v". */
enum { MIXED = 600 };

static void mixed_write(struct box *b, int i)
{
	char value[16], key[16];

	snprintf(value, sizeof(value), "%d", i);
	snprintf(key, sizeof(key), "k%d", i % 10);
	if (i % 3 == 2)
		box_set(b, PSYNC_WRITE_SET, "STATE_DB", "SEQ", "last",
			(const char *const[]){ "v", value }, 1);
	else
		box_set(b, PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "T", key,
			(const char *const[]){ "v", value }, 1);
}

static void expect_mixed_last_values(redisContext *c0, redisContext *c6)
{
	char key[16], value[16];
	int last[11];

	for (int i = 0; i < MIXED; i++)
		last[i % 3 == 2 ? 10 : i % 10] = i;
	for (int k = 0; k < 10; k++) {
		snprintf(key, sizeof(key), "_T:k%d", k);
		snprintf(value, sizeof(value), "%d", last[k]);
		cr_expect_str_eq(hget(c0, key, "v"), value, "%s", key);
	}
	snprintf(value, sizeof(value), "%d", last[10]);
	cr_expect_str_eq(hget(c6, "SEQ|last", "v"), value);
}

Test(redis, noscript_after_script_flush_loads_again_and_keeps_order)
{
	static const char *const first[] = { "v", "first" };
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	redisContext *c = client(&srv, 0), *c6 = client(&srv, 6);
	struct box *b = calloc(MIXED + 1, sizeof(*b));

	connect_db(s, "APPL_DB");
	box_set(&b[MIXED], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "T", "k0", first, 1);
	submit(s, &b[MIXED]);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	freeReplyObject(cmd(c, "SCRIPT FLUSH"));
	for (int i = 0; i < MIXED; i++) {
		mixed_write(&b[i], i);
		submit(s, &b[i]);
	}
	wait_done(s);
	cr_assert_eq(log.n, MIXED + 1);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	cr_expect_eq(stats_of(s).script_reloads, 1, "one reload for the whole batch");
	expect_mixed_last_values(c, c6);
	psync_sink_free(s);
	free(b);
	redisFree(c);
	redisFree(c6);
}

/* ---- database_config.json ---- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

Test(redis, db_config_with_one_instance)
{
	static const char *const fv[] = { "where", "here" };
	struct done_log log = { 0 };
	char path[256], err[256] = "";
	struct psync_redis_db_config *cfg = NULL;
	struct psync_redis_db_location loc = { .sz = sizeof(loc) };
	struct psync_redis_options o = { .sz = sizeof(o), .db_config = path };
	redisContext *c0 = client(&srv, 0), *c4 = client(&srv, 4), *c6 = client(&srv, 6);
	struct psync_sink *s;
	struct box b[3];

	cr_assert_eq(redis_server_write_db_config(&srv, path, sizeof(path)), 0);
	cr_assert_eq(psync_redis_db_config_load(path, err, sizeof(err), &cfg), 0, "%s", err);
	cr_assert_eq(psync_redis_db_config_resolve(cfg, "CONFIG_DB", &loc), 0);
	cr_expect_str_eq(loc.instance, "redis");
	cr_expect_str_eq(loc.unix_socket, srv.socket);
	cr_expect_eq(loc.id, 4);
	cr_expect_str_eq(loc.separator, "|");
	cr_expect_eq(psync_redis_db_config_resolve(cfg, "NOPE_DB", &loc), -ENOENT);
	psync_redis_db_config_free(cfg);

	s = sink_with(&o, &log);
	connect_db(s, "APPL_DB");
	box_set(&b[0], PSYNC_WRITE_SET, "APPL_DB", "T", "k", fv, 1);
	box_set(&b[1], PSYNC_WRITE_SET, "CONFIG_DB", "T", "k", fv, 1);
	box_set(&b[2], PSYNC_WRITE_SET, "STATE_DB", "T", "k", fv, 1);
	for (int i = 0; i < 3; i++)
		submit(s, &b[i]);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	cr_expect_str_eq(hget(c0, "T:k", "where"), "here");
	cr_expect_str_eq(hget(c4, "T|k", "where"), "here");
	cr_expect_str_eq(hget(c6, "T|k", "where"), "here");
	cr_expect_str_eq(hget(c0, "T|k", "where"), "(nil)");
	cr_expect_eq(stats_of(s).connects, 1, "one instance, one connection");
	psync_sink_free(s);
	redisFree(c0);
	redisFree(c4);
	redisFree(c6);
}

static struct psync_sink_status status_of(struct psync_sink *s)
{
	struct psync_sink_status st = { .sz = sizeof(st) };

	cr_assert_eq(psync_sink_get_status(s, &st), 0);
	return st;
}

/* Writes a config with APPL_DB on srv (id 0) and STATE_DB on other (id 3). */
static void write_two_instances(const struct redis_server *other, char *path, size_t len)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{ \"INSTANCES\": { \"redis\": { \"unix_socket_path\": \"%s\" },\n"
		 "                 \"other\": { \"unix_socket_path\": \"%s\" } },\n"
		 "  \"DATABASES\": {\n"
		 "    \"APPL_DB\": { \"id\": 0, \"separator\": \":\", \"instance\": \"redis\" },\n"
		 "    \"STATE_DB\": { \"id\": 3, \"separator\": \"|\",\n"
		 "                  \"instance\": \"other\" } },\n"
		 "  \"VERSION\": \"1.0\" }\n", srv.socket, other->socket);
	snprintf(path, len, "%s/database_config.json", srv.dir);
	write_file(path, text);
}

static void expect_two_instances(const struct redis_server *other)
{
	redisContext *a0 = client(&srv, 0), *b3 = client(other, 3);

	cr_expect_str_eq(hget(a0, "T:k", "f"), "v");
	cr_expect_str_eq(hget(a0, "_P:k", "f"), "v");
	cr_expect_eq(exists(a0, "T|k"), 0);
	cr_expect_str_eq(hget(b3, "T|k", "f"), "v");
	cr_expect_eq(exists(b3, "_P:k"), 0);
	redisFree(a0);
	redisFree(b3);
}

/* Losing one instance shows in the status, naming it. */
static void expect_loss_named(struct psync_sink *s, struct redis_server *other)
{
	struct psync_sink_status st;

	redis_server_kill(other);
	for (int i = 0; i < 200 && status_of(s).connected; i++) {
		psync_sink_dispatch(s);
		usleep(5000);
	}
	st = status_of(s);
	cr_expect_eq(st.connected, 0);
	cr_expect(strstr(st.reason, other->socket), "reason: %s", st.reason);
}

Test(redis, db_config_with_two_instances)
{
	static const char *const fv[] = { "f", "v" };
	struct redis_server other;
	struct done_log log = { 0 };
	char path[256];
	struct psync_redis_options o = { .sz = sizeof(o), .db_config = path };
	struct psync_sink *s;
	struct box b[3];

	cr_assert_eq(redis_server_start(&other, NULL), 0);
	write_two_instances(&other, path, sizeof(path));
	s = sink_with(&o, &log);
	cr_expect_eq(status_of(s).connected, 0, "nothing used yet");
	connect_db(s, "APPL_DB");
	connect_db(s, "STATE_DB");
	box_set(&b[0], PSYNC_WRITE_SET, "APPL_DB", "T", "k", fv, 1);
	box_set(&b[1], PSYNC_WRITE_SET, "STATE_DB", "T", "k", fv, 1);
	box_set(&b[2], PSYNC_WRITE_PRODUCER_SET, "APPL_DB", "P", "k", fv, 1);
	for (int i = 0; i < 3; i++)
		submit(s, &b[i]);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	expect_two_instances(&other);
	cr_expect_eq(stats_of(s).connects, 2);
	cr_expect_eq(status_of(s).connected, 1);
	expect_loss_named(s, &other);
	psync_sink_free(s);
	redis_server_stop(&other);
}

static int free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

Test(redis, tcp_address)
{
	static const char *const fv[] = { "f", "v" };
	char port[16], address[64];
	const char *args[] = { "--port", port, "--bind", "127.0.0.1", NULL };
	struct done_log log = { 0 };
	struct psync_sink *s;
	redisContext *c;
	struct box b;

	snprintf(port, sizeof(port), "%d", free_tcp_port());
	redis_server_stop(&srv);
	cr_assert_eq(redis_server_start(&srv, args), 0);
	snprintf(address, sizeof(address), "127.0.0.1:%s", port);
	s = sink_at(address, &log);
	connect_db(s, "STATE_DB");
	box_set(&b, PSYNC_WRITE_SET, "STATE_DB", "T", "k", fv, 1);
	submit(s, &b);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	c = client(&srv, 6);
	cr_expect_str_eq(hget(c, "T|k", "f"), "v");
	psync_sink_free(s);
	redisFree(c);
}

/* ---- bad configurations ---- */

/* JSON written with ' for " so that the cases below stay readable. */
static int load_text(const char *text, char *err, size_t len)
{
	char path[256], json[1024];
	struct psync_redis_db_config *cfg = NULL;
	int r;

	snprintf(json, sizeof(json), "%s", text);
	for (char *c = json; *c; c++)
		*c = *c == '\'' ? '"' : *c;
	snprintf(path, sizeof(path), "%s/bad.json", srv.dir);
	write_file(path, json);
	r = psync_redis_db_config_load(path, err, len, &cfg);
	cr_expect((r == 0) == (cfg != NULL));
	psync_redis_db_config_free(cfg);
	cr_expect(r == 0 || strstr(err, path), "the message names the file: %s", err);
	return r;
}

#define UNIX_REDIS "'INSTANCES': { 'redis': { 'unix_socket_path': '/x.sock' } }"
#define DB_A(members) "'DATABASES': { 'A': { " members " } }"

static const struct {
	const char *json;
	int ret;
	const char *message; /* a part of it */
} configs[] = {
	{ "", -EINVAL, "unexpected end" },
	{ "{ 'INSTANCES': {\n\n  'redis': [1,, 2] } }", -EINVAL, "line 3" },
	{ "{ " UNIX_REDIS " } trailing", -EINVAL, "text after" },
	{ "[]", -EINVAL, "top level" },
	{ "{ " UNIX_REDIS " }", -EINVAL, "DATABASES" },
	{ "{ " DB_A("'id': 0, 'separator': ':', 'instance': 'redis'") " }", -EINVAL, "INSTANCES" },
	{ "{ " UNIX_REDIS ", " DB_A("'id': 0, 'separator': ':', 'instance': 'nope'") " }", -EINVAL,
	  "DATABASES.A: unknown instance \"nope\"" },
	{ "{ " UNIX_REDIS ", " DB_A("'id': '0', 'separator': ':', 'instance': 'redis'") " }",
	  -EINVAL, "DATABASES.A: \"id\"" },
	{ "{ " UNIX_REDIS ", " DB_A("'id': -1, 'separator': ':', 'instance': 'redis'") " }",
	  -EINVAL, "\"id\"" },
	{ "{ " UNIX_REDIS ", " DB_A("'id': 1, 'instance': 'redis'") " }", -EINVAL, "separator" },
	{ "{ 'INSTANCES': { 'r': { 'hostname': 'h' } }, "
	  DB_A("'id': 1, 'separator': ':', 'instance': 'r'") " }", -EINVAL, "INSTANCES.r" },
	{ "{ 'INSTANCES': { 'r': { 'hostname': 'h', 'port': 70000 } }, "
	  DB_A("'id': 1, 'separator': ':', 'instance': 'r'") " }", -EINVAL, "\"port\"" },
	{ "{ 'INSTANCES': { 'r': { 'hostname': 'h', 'port': 6379 } }, "
	  DB_A("'id': 1, 'separator': ':', 'instance': 'r'") ", 'VERSION': '1.0' }", 0, "" },
};

Test(redis, bad_configs_are_clear_errors)
{
	struct psync_redis_options o = { .sz = sizeof(o), .db_config = "/nonexistent/db.json" };
	struct psync_sink *s = NULL;
	char err[256] = "";

	cr_assert_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -ENOENT);
	cr_expect_null(s);
	cr_expect(strstr(err, "/nonexistent/db.json") && strstr(err, "No such file"), "%s", err);
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(load_text(configs[i].json, err, sizeof(err)), configs[i].ret, "%s: %s",
			     configs[i].json, err);
		cr_expect(strstr(err, configs[i].message), "%s: %s", configs[i].json, err);
	}
}

Test(redis, unknown_database)
{
	char path[256], err[256] = "";
	struct psync_redis_options o = { .sz = sizeof(o), .db_config = path };
	struct psync_sink *s;
	struct box b;

	cr_assert_eq(redis_server_write_db_config(&srv, path, sizeof(path)), 0);
	s = sink_with(&o, NULL);
	cr_expect_eq(psync_redis_sink_connect(s, "NOPE_DB", 1000, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "NOPE_DB"), "%s", err);
	box_set(&b, PSYNC_WRITE_SET, "NOPE_DB", "T", "k", (const char *const[]){ "f", "v" }, 1);
	cr_expect_eq(psync__sink_submit(s, &b.w), -ENOENT);
	psync_sink_free(s);
}

Test(redis, bad_options)
{
	static const char *const bad[] = { "", "unix:", "localhost", "host:", ":6379", "host:0",
					   "host:99999", "host:12ab", "[::1]" };
	struct psync_redis_options o = { .sz = sizeof(o) };
	struct psync_sink *s = NULL;
	char err[256], pwfile[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.address = bad[i];
		err[0] = '\0';
		cr_expect_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -EINVAL, "%s", bad[i]);
		cr_expect(err[0], "no message for %s", bad[i]);
	}
	cr_expect_null(s);
	o.address = srv.address;
	o.password_env = "PSYNC_TEST_NO_SUCH_VARIABLE";
	cr_expect_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -EINVAL);
	cr_expect(strstr(err, "PSYNC_TEST_NO_SUCH_VARIABLE"), "%s", err);
	snprintf(pwfile, sizeof(pwfile), "%s/pw", srv.dir);
	write_file(pwfile, "\n");
	o.password_file = pwfile;
	cr_expect_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -EINVAL, "both");
	o.password_env = NULL;
	cr_expect_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -EINVAL, "empty");
	o.password_file = "/nonexistent/pw";
	cr_expect_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -ENOENT);
	o.sz = 0;
	cr_expect_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -EINVAL);
	cr_expect_null(s);
	cr_expect_eq(psync_redis_sink_new(NULL, err, sizeof(err), NULL), -EINVAL);
	cr_expect_eq(psync_redis_sink_connect(NULL, "APPL_DB", 0, NULL, 0), -EINVAL);
}

Test(redis, select_of_a_missing_database_fails_the_connection)
{
	char path[256], text[512], err[256] = "";
	struct psync_redis_options o = { .sz = sizeof(o), .db_config = path };
	struct psync_sink *s;

	snprintf(text, sizeof(text),
		 "{ \"INSTANCES\": { \"redis\": { \"unix_socket_path\": \"%s\" } },\n"
		 "  \"DATABASES\": {\n"
		 "    \"APPL_DB\": { \"id\": 0, \"separator\": \":\", \"instance\": \"redis\" },\n"
		 "    \"BIG_DB\": { \"id\": 99, \"separator\": \"|\",\n"
		 "                \"instance\": \"redis\" } } }\n",
		 srv.socket);
	snprintf(path, sizeof(path), "%s/database_config.json", srv.dir);
	write_file(path, text);
	s = sink_with(&o, NULL);
	cr_expect_eq(psync_redis_sink_connect(s, "APPL_DB", 5000, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "SELECT 99 (BIG_DB)"), "%s", err);
	psync_sink_free(s);
}

/* ---- connections ---- */

Test(redis, unreachable_server_is_a_clear_error)
{
	struct psync_sink *s = sink_at("unix:/nonexistent/redis.sock", NULL);
	struct psync_sink_status st;
	char err[256] = "";

	cr_expect_eq(psync_redis_sink_connect(s, "STATE_DB", 2000, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "/nonexistent/redis.sock"), "%s", err);
	st = status_of(s);
	cr_expect_eq(st.connected, 0);
	cr_expect(strstr(st.reason, "/nonexistent/redis.sock"), "%s", st.reason);
	psync_sink_free(s);

	redis_server_kill(&srv); /* the socket file stays, nobody listens */
	s = sink_at(srv.address, NULL);
	cr_expect_eq(psync_redis_sink_connect(s, "STATE_DB", 2000, err, sizeof(err)), -ECONNREFUSED,
		     "%s", err);
	cr_expect_geq(stats_of(s).connect_failures, 1);
	psync_sink_free(s);
}

Test(redis, auth_from_the_environment_or_a_file)
{
	static const char *const args[] = { "--requirepass", "s3cret", NULL };
	static const char *const fv[] = { "f", "v" };
	struct psync_redis_options o = { .sz = sizeof(o), .password_env = "PSYNC_TEST_PASSWORD" };
	struct done_log log = { 0 };
	char err[256] = "", pwfile[256];
	struct psync_sink *s;
	redisContext *c;
	struct box b;

	redis_server_stop(&srv);
	cr_assert_eq(redis_server_start(&srv, args), 0);
	o.address = srv.address;
	setenv("PSYNC_TEST_PASSWORD", "s3cret", 1);
	s = sink_with(&o, &log);
	connect_db(s, "STATE_DB");
	box_set(&b, PSYNC_WRITE_SET, "STATE_DB", "T", "k", fv, 1);
	submit(s, &b);
	wait_done(s);
	cr_assert_eq(log.failed, 0, "%s", log.last_reason);
	psync_sink_free(s);
	c = redis_server_client(&srv, 6, "s3cret");
	cr_assert_not_null(c);
	cr_expect_str_eq(hget(c, "T|k", "f"), "v");
	redisFree(c);

	snprintf(pwfile, sizeof(pwfile), "%s/pw", srv.dir);
	write_file(pwfile, "wrong\n");
	o.password_env = NULL;
	o.password_file = pwfile;
	s = sink_with(&o, NULL);
	cr_expect_eq(psync_redis_sink_connect(s, "STATE_DB", 2000, err, sizeof(err)), -EACCES);
	cr_expect(strstr(err, "AUTH"), "%s", err);
	psync_sink_free(s);

	o.password_file = NULL;
	s = sink_with(&o, NULL);
	cr_expect_eq(psync_redis_sink_connect(s, "STATE_DB", 2000, err, sizeof(err)), -EACCES,
		     "no password: %s", err);
	psync_sink_free(s);
}

/* Found by fuzzing: a NUL cut the password short, and AUTH failed for good. */
Test(redis, password_file_with_a_nul_byte_is_refused_naming_the_file)
{
	static const char bytes[] = "s3c\0ret\n";
	struct psync_redis_options o = { .sz = sizeof(o), .address = srv.address };
	struct psync_sink *s = NULL;
	char err[256] = "", pwfile[256], want[300];
	FILE *f;

	snprintf(pwfile, sizeof(pwfile), "%s/pw-nul", srv.dir);
	f = fopen(pwfile, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(bytes, 1, sizeof(bytes) - 1, f), sizeof(bytes) - 1);
	fclose(f);
	o.password_file = pwfile;
	cr_assert_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), -EINVAL);
	cr_assert_null(s);
	snprintf(want, sizeof(want), "%s: a NUL byte in the password", pwfile);
	cr_assert_str_eq(err, want);
	/* After the first line a NUL is no concern of the password's. */
	f = fopen(pwfile, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite("s3cret\r\n\0", 1, 9, f), 9);
	fclose(f);
	cr_assert_eq(psync_redis_sink_new(&o, err, sizeof(err), &s), 0, "%s", err);
	cr_assert_str_eq(((struct psync__redis *)psync_sink_get_impl(s))->password, "s3cret");
	psync_sink_free(s);
}

Test(redis, lost_connection_fails_in_flight_writes_in_order_then_reconnects)
{
	enum { N = 1000 };
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	struct box *b = calloc(N, sizeof(*b));
	char value[16];
	redisContext *c;

	connect_db(s, "STATE_DB");
	cr_assert_eq(redis_server_pause(&srv), 0);
	for (int i = 0; i < N; i++) {
		snprintf(value, sizeof(value), "%d", i);
		box_set(&b[i], PSYNC_WRITE_SET, "STATE_DB", "T", "k",
			(const char *const[]){ "v", value }, 1);
		submit(s, &b[i]);
	}
	cr_assert_eq(psync__sink_flush(s), 0);
	redis_server_kill(&srv);
	cr_assert_eq(psync_sink_wait(s, 5000), 0);
	cr_assert_eq(log.n, N);
	for (int i = 0; i < N; i++) {
		cr_expect_eq(log.order[i], &b[i].w, "completion %d out of order", i);
		cr_expect_eq(log.status[i], -ECONNRESET);
	}
	cr_expect_eq(status_of(s).connected, 0);
	cr_expect_eq(stats_of(s).disconnects, 1);

	cr_assert_eq(redis_server_restart(&srv), 0);
	connect_db(s, "STATE_DB");
	cr_expect_eq(status_of(s).reconnects, 1);
	cr_expect_eq(stats_of(s).reconnects, 1);
	submit(s, &b[N - 1]);
	wait_done(s);
	cr_expect_eq(log.status[N], 0);
	c = client(&srv, 6);
	cr_expect_str_eq(hget(c, "T|k", "v"), "999");
	redisFree(c);
	psync_sink_free(s);
	free(b);
}

/* A server that answers the first connection's first bytes with reply (NULL:
 * never answers); for what no real server does. Returns the child's pid. */
static pid_t fake_server(const char *path, const char *reply)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char buf[4096];
		int c = accept(fd, NULL, NULL);

		if (c >= 0 && read(c, buf, sizeof(buf)) > 0 && reply)
			(void)!write(c, reply, strlen(reply));
		pause();
		_exit(0);
	}
	close(fd);
	return pid;
}

static int connect_to_fake(const char *reply, char *err, size_t len)
{
	char path[128], address[140];
	struct psync_redis_options o = { .sz = sizeof(o), .address = address,
					 .connect_timeout_ms = 300 };
	struct psync_sink *s;
	pid_t pid;
	int r;

	snprintf(path, sizeof(path), "%s/fake.sock", srv.dir);
	snprintf(address, sizeof(address), "unix:%s", path);
	unlink(path);
	pid = fake_server(path, reply);
	s = sink_with(&o, NULL);
	r = psync_redis_sink_connect(s, "APPL_DB", 5000, err, len);
	psync_sink_free(s);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

Test(redis, servers_that_misbehave_are_errors_not_crashes)
{
	char err[256] = "";

	cr_expect_eq(connect_to_fake("garbage\r\n", err, sizeof(err)), -EPROTO, "%s", err);
	cr_expect_eq(connect_to_fake("+OK\r\n+OK\r\n", err, sizeof(err)), -EPROTO, "%s", err);
	cr_expect(strstr(err, "SCRIPT LOAD"), "%s", err);
	cr_expect_eq(connect_to_fake("$-1\r\n$-1\r\n", err, sizeof(err)), -EPROTO, "%s", err);
	cr_expect_eq(connect_to_fake("-LOADING Redis is loading\r\n", err, sizeof(err)), -EBUSY);
	cr_expect(strstr(err, "LOADING"), "%s", err);
	cr_expect_eq(connect_to_fake(NULL, err, sizeof(err)), -ETIMEDOUT, "%s", err);
	cr_expect(strstr(err, "no answer"), "%s", err);
}

/* A header alone once made hiredis calloc 2.4 GB for the element pointers. */
Test(redis, reply_header_with_a_huge_element_count_fails_the_connection)
{
	char err[256] = "";

	cr_expect_eq(connect_to_fake("*300000000\r\n", err, sizeof(err)), -EMSGSIZE, "%s", err);
	cr_expect(strstr(err, "reply: reply with 300000000 elements refused"), "%s", err);
	cr_expect_eq(connect_to_fake("*1\r\n*2147483647\r\n", err, sizeof(err)), -EMSGSIZE,
		     "%s", err);
	cr_expect(strstr(err, "2147483647 elements refused"), "%s", err);
	/* At the limit it is only a reply SCRIPT LOAD did not expect. */
	cr_expect_eq(connect_to_fake("*-1\r\n*0\r\n", err, sizeof(err)), -EPROTO, "%s", err);
}

/* ---- reads ---- */

struct read_log {
	int status, exists;
	char fields[8][2][32];
	size_t n_fields;
	char value[64];
	char **keys;
	size_t n_keys;
	unsigned calls;
};

static void on_read(const struct psync_read *r, const struct psync_read_result *res, void *userdata)
{
	struct read_log *log = userdata;

	(void)r;
	log->calls++;
	log->status = res->status;
	log->exists = res->exists;
	log->n_fields = res->n_fields;
	for (size_t i = 0; i < res->n_fields && i < 8; i++) {
		snprintf(log->fields[i][0], 32, "%s", res->fields[i].name);
		snprintf(log->fields[i][1], 32, "%s", res->fields[i].value);
	}
	snprintf(log->value, sizeof(log->value), "%s", res->value ? res->value : "(null)");
	log->n_keys = res->n_keys;
	log->keys = calloc(res->n_keys + 1, sizeof(char *));
	for (size_t i = 0; i < res->n_keys; i++)
		log->keys[i] = strdup(res->keys[i]);
}

static void read_log_clear(struct read_log *log)
{
	for (size_t i = 0; log->keys && i < log->n_keys; i++)
		free(log->keys[i]);
	free(log->keys);
	memset(log, 0, sizeof(*log));
}

static struct read_log do_read(struct psync_sink *s, enum psync_read_op op, const char *table,
			       const char *key, const char *field)
{
	struct psync_read r = { .op = op, .db = "STATE_DB", .table = table, .key = key,
				.field = field };
	struct read_log log = { 0 };

	cr_assert_eq(psync_sink_read(s, &r, on_read, &log), 0);
	wait_done(s);
	cr_assert_eq(log.calls, 1);
	return log;
}

Test(redis, reads)
{
	struct psync_sink *s = sink_at(srv.address, NULL);
	redisContext *c = client(&srv, 6);
	struct read_log log;

	/* Sent before the connection is up: held, then sent. */
	freeReplyObject(cmd(c, "HSET PORT|Ethernet0 admin_status up mtu 9100"));
	log = do_read(s, PSYNC_READ_HGETALL, "PORT", "Ethernet0", NULL);
	cr_expect_eq(log.status, 0);
	cr_expect_eq(log.exists, 1);
	cr_assert_eq(log.n_fields, 2);
	cr_expect_str_eq(log.fields[0][0], "admin_status");
	cr_expect_str_eq(log.fields[0][1], "up");
	cr_expect_str_eq(log.fields[1][0], "mtu");
	cr_expect_str_eq(log.fields[1][1], "9100");
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_HGETALL, "PORT", "Ethernet4", NULL);
	cr_expect_eq(log.exists, 0);
	cr_expect_eq(log.n_fields, 0);
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_HGET, "PORT", "Ethernet0", "mtu");
	cr_expect(log.exists && strcmp(log.value, "9100") == 0);
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_HGET, "PORT", "Ethernet0", "speed");
	cr_expect(!log.exists && strcmp(log.value, "(null)") == 0);
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_EXISTS, "PORT", "Ethernet0", NULL);
	cr_expect_eq(log.exists, 1);
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_EXISTS, "PORT", "Ethernet4", NULL);
	cr_expect_eq(log.exists, 0);
	read_log_clear(&log);
	freeReplyObject(cmd(c, "SET PORT|str x"));
	log = do_read(s, PSYNC_READ_HGETALL, "PORT", "str", NULL);
	cr_expect_eq(log.status, -EPROTO, "WRONGTYPE");
	read_log_clear(&log);
	psync_sink_free(s);
	redisFree(c);
}

Test(redis, scan_finds_every_key_of_a_table_and_no_other)
{
	enum { N = 2500 };
	struct psync_redis_options o = { .sz = sizeof(o), .address = srv.address,
					 .scan_count = 100 };
	struct psync_sink *s = sink_with(&o, NULL);
	redisContext *c = client(&srv, 6);
	struct read_log log;
	char key[64];

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "PORT|Ethernet%d", i);
		redisAppendCommand(c, "HSET %s f v", key);
	}
	redisAppendCommand(c, "HSET PORTX|Ethernet0 f v");
	redisAppendCommand(c, "HSET PORT_Ethernet0 f v");
	redisAppendCommand(c, "HSET _PORT|Ethernet0 f v");
	redisAppendCommand(c, "HSET P*RT|a f v");
	redisAppendCommand(c, "HSET PXRT|b f v");
	for (int i = 0; i < N + 5; i++) {
		redisReply *r;

		cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	log = do_read(s, PSYNC_READ_SCAN, "PORT", NULL, NULL);
	cr_expect_eq(log.status, 0);
	cr_assert_eq(log.n_keys, N);
	for (size_t i = 0; i < log.n_keys; i++)
		cr_expect(strncmp(log.keys[i], "Ethernet", 8) == 0, "%s", log.keys[i]);
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_SCAN, "P*RT", NULL, NULL);
	cr_assert_eq(log.n_keys, 1, "a glob character in a table name is literal");
	cr_expect_str_eq(log.keys[0], "a");
	read_log_clear(&log);
	log = do_read(s, PSYNC_READ_SCAN, "NONE", NULL, NULL);
	cr_expect_eq(log.status, 0);
	cr_expect_eq(log.n_keys, 0);
	read_log_clear(&log);
	psync_sink_free(s);
	redisFree(c);
}

Test(redis, errors_are_counted_and_surfaced)
{
	static const char *const fv[] = { "f", "v" };
	struct done_log log = { 0 };
	struct psync_sink *s = sink_at(srv.address, &log);
	redisContext *c = client(&srv, 6);
	struct box b;

	connect_db(s, "STATE_DB");
	freeReplyObject(cmd(c, "SET T|k a-string"));
	box_set(&b, PSYNC_WRITE_SET, "STATE_DB", "T", "k", fv, 1);
	submit(s, &b);
	wait_done(s);
	cr_assert_eq(log.n, 1);
	cr_expect_eq(log.last_status, -EPROTO);
	cr_expect(strstr(log.last_reason, "WRONGTYPE"), "%s", log.last_reason);
	cr_expect_eq(stats_of(s).error_replies, 1);
	psync_sink_free(s);
	redisFree(c);
}

/* ---- through the pipeline, with a server that dies or hangs ---- */

/* Emits NEWLINKs with ifindex 1..n_keys in turn and mtu = sequence number, up
 * to limit events or until a time. */
struct seq_source {
	uint64_t emitted, limit, until_ns;
	unsigned n_keys;
};

static int seq_finished(void *impl)
{
	struct seq_source *q = impl;

	return q->limit ? q->emitted >= q->limit : psync__now_ns() >= q->until_ns;
}

static int seq_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	struct seq_source *q = impl;
	unsigned n = 0;

	for (; n < budget && !seq_finished(q); n++, q->emitted++) {
		struct psync_link_event ev = { .type = PSYNC_EVENT_NEWLINK,
					       .ifindex = (uint32_t)(q->emitted % q->n_keys) + 1,
					       .mtu = (uint32_t)q->emitted,
					       .recv_ns = psync__now_ns() };
		int r = emit(&ev, userdata);

		if (r < 0)
			return r;
	}
	return (int)n;
}

static const struct psync_source_ops seq_ops = {
	.sz = sizeof(seq_ops), .name = "seq", .dispatch = seq_dispatch, .is_finished = seq_finished,
};

/* Writes STATE_DB SEQ|K<ifindex> v=<mtu>, remembering the last value per key. */
struct seq_policy {
	uint64_t written;
	uint32_t last[1024];
};

static int seq_on_event(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev)
{
	struct seq_policy *sp = impl;
	char key[16], value[16];
	struct psync_field f = { "v", value };
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = "STATE_DB", .table = "SEQ",
				 .key = key, .fields = &f, .n_fields = 1,
				 .origin_ns = ev->recv_ns };

	if (ev->type != PSYNC_EVENT_NEWLINK)
		return 0;
	snprintf(key, sizeof(key), "K%u", ev->ifindex);
	snprintf(value, sizeof(value), "%u", ev->mtu);
	sp->last[ev->ifindex] = ev->mtu;
	sp->written++;
	return psync_pipeline_write(p, &w);
}

static const struct psync_policy_ops seq_policy_ops = {
	.sz = sizeof(seq_policy_ops), .name = "seq", .on_event = seq_on_event,
};

static struct psync_pipeline *seq_pipeline(struct seq_source *q, struct seq_policy *sp,
					   struct psync_sink *s)
{
	struct psync_source *source;
	struct psync_policy *policy;
	struct psync_pipeline *p;

	cr_assert_eq(psync_source_new(&seq_ops, q, &source), 0);
	cr_assert_eq(psync_policy_new(&seq_policy_ops, sp, &policy), 0);
	cr_assert_eq(psync_pipeline_new(source, policy, s, NULL, &p), 0);
	cr_assert_eq(psync_pipeline_start(p), 0);
	return p;
}

static void expect_last_values(const struct seq_policy *sp, unsigned n_keys)
{
	redisContext *c = client(&srv, 6);
	char key[32], value[16];
	unsigned wrong = 0;

	for (unsigned k = 1; k <= n_keys; k++) {
		snprintf(key, sizeof(key), "SEQ|K%u", k);
		snprintf(value, sizeof(value), "%u", sp->last[k]);
		wrong += strcmp(hget(c, key, "v"), value) != 0;
	}
	cr_expect_eq(wrong, 0, "%u of %u keys do not hold their last value", wrong, n_keys);
	redisFree(c);
}

static struct psync_metrics metrics_of(struct psync_pipeline *p)
{
	static struct psync_metrics m;

	m.sz = sizeof(m);
	cr_assert_eq(psync_pipeline_get_metrics(p, &m), 0);
	return m;
}

static uint64_t rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0, rss = 0;

	if (f) {
		if (fscanf(f, "%lu %lu", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

Test(redis, killed_and_restarted_mid_stream_every_key_ends_with_its_last_value, .timeout = 240)
{
	enum { KEYS = 512, EVENTS = 50000 };
	struct seq_source q = { .limit = EVENTS, .n_keys = KEYS };
	struct seq_policy *sp = calloc(1, sizeof(*sp));
	struct psync_sink *s = sink_at(srv.address, NULL);
	struct psync_pipeline *p;
	struct psync_metrics m;
	uint64_t killed_at = 0;
	int restarted = 0, r;

	connect_db(s, "STATE_DB");
	p = seq_pipeline(&q, sp, s);
	while (!psync_source_is_finished(psync_pipeline_get_source(p))) {
		r = psync_pipeline_dispatch(p);
		cr_assert_geq(r, 0, "dispatch: %s", strerror(-r));
		if (!killed_at && sp->written >= EVENTS / 2) {
			redis_server_kill(&srv);
			killed_at = psync__now_ns();
		}
		if (killed_at && !restarted &&
		    psync__now_ns() - killed_at > 300 * PSYNC__NS_PER_MS) {
			cr_assert_eq(redis_server_restart(&srv), 0);
			restarted = 1;
		}
	}
	if (!restarted)
		cr_assert_eq(redis_server_restart(&srv), 0);
	r = psync_pipeline_flush(p, 60000);
	cr_assert_eq(r, 0, "flush: %s", strerror(-r));
	m = metrics_of(p);
	cr_expect_eq(m.writes_failed, 0, "%s", m.last_error);
	cr_expect_geq(m.reconnects, 1);
	cr_expect_leq(m.keys_tracked, KEYS);
	expect_last_values(sp, KEYS);
	cr_log_info("restart: %llu writes, %llu acked, %llu retried, %llu coalesced",
		    (unsigned long long)sp->written, (unsigned long long)m.writes_acked,
		    (unsigned long long)m.writes_retried, (unsigned long long)m.writes_coalesced);
	psync_pipeline_free(p);
	free(sp);
}

/* What the loop saw around a 2 s SIGSTOP of the server. */
struct stop_watch {
	uint64_t start, paused_at, longest_ns;
	uint64_t rss_before_kb, rss_paused_kb;
	uint64_t max_queue, max_pending, max_in_flight, acked_at_resume;
	int resumed;
};

static void stop_watch_sample(struct stop_watch *w, struct psync_pipeline *p, struct psync_sink *s)
{
	struct psync_metrics m = metrics_of(p);
	struct psync_redis_stats st = stats_of(s);

	w->max_queue = m.queue_depth > w->max_queue ? m.queue_depth : w->max_queue;
	w->max_pending = st.pending_output > w->max_pending ? st.pending_output : w->max_pending;
	w->max_in_flight = st.in_flight > w->max_in_flight ? st.in_flight : w->max_in_flight;
}

/* Pauses the server 0.5 s in, resumes it 2 s later, samples while it is stopped. */
static void stop_watch_step(struct stop_watch *w, struct psync_pipeline *p, struct psync_sink *s)
{
	uint64_t now = psync__now_ns();

	if (!w->paused_at && now - w->start > 500 * PSYNC__NS_PER_MS) {
		w->rss_before_kb = rss_kb();
		cr_assert_eq(redis_server_pause(&srv), 0);
		w->paused_at = now;
	}
	if (!w->paused_at || w->resumed)
		return;
	stop_watch_sample(w, p, s);
	if (now - w->paused_at > 2000 * PSYNC__NS_PER_MS) {
		w->rss_paused_kb = rss_kb();
		w->acked_at_resume = metrics_of(p).writes_acked;
		cr_assert_eq(redis_server_resume(&srv), 0);
		w->resumed = 1;
	}
}

static void stop_watch_check(const struct stop_watch *w, const struct psync_metrics *m,
			     unsigned keys)
{
	cr_assert(w->resumed);
	cr_expect_eq(m->writes_failed, 0, "%s", m->last_error);
	cr_expect_gt(m->writes_acked, w->acked_at_resume, "progress after the resume");
	cr_expect_lt(w->longest_ns, 50 * PSYNC__NS_PER_MS, "longest dispatch %llu us",
		     (unsigned long long)(w->longest_ns / 1000));
	cr_expect_leq(w->max_queue, keys, "queue depth %llu", (unsigned long long)w->max_queue);
	cr_expect_leq(w->max_in_flight, 1024);
	cr_expect_lt(w->max_pending, 8u << 20, "pending output %llu bytes",
		     (unsigned long long)w->max_pending);
#ifndef __SANITIZE_ADDRESS__ /* its quarantine keeps freed memory resident on purpose */
	cr_expect_lt(w->rss_paused_kb, w->rss_before_kb + 64 * 1024,
		     "RSS grew from %llu to %llu kB", (unsigned long long)w->rss_before_kb,
		     (unsigned long long)w->rss_paused_kb);
#endif
}

Test(redis, stopped_server_never_blocks_the_loop_and_memory_stays_bounded, .timeout = 240)
{
	enum { KEYS = 512 };
	struct seq_source q = { .n_keys = KEYS };
	struct seq_policy *sp = calloc(1, sizeof(*sp));
	struct psync_sink *s = sink_at(srv.address, NULL);
	struct stop_watch w = { .start = psync__now_ns() };
	struct psync_pipeline *p;
	struct psync_metrics m;

	connect_db(s, "STATE_DB");
	q.until_ns = w.start + 3500 * PSYNC__NS_PER_MS;
	p = seq_pipeline(&q, sp, s);
	while (!psync_source_is_finished(psync_pipeline_get_source(p))) {
		uint64_t t0 = psync__now_ns(), dt;
		int r = psync_pipeline_dispatch(p);

		dt = psync__now_ns() - t0;
		cr_assert_geq(r, 0, "dispatch: %s", strerror(-r));
		w.longest_ns = dt > w.longest_ns ? dt : w.longest_ns;
		stop_watch_step(&w, p, s);
	}
	cr_assert_eq(psync_pipeline_flush(p, 60000), 0);
	m = metrics_of(p);
	stop_watch_check(&w, &m, KEYS);
	expect_last_values(sp, KEYS);
	cr_log_info("SIGSTOP: %llu writes, longest dispatch %llu us, max queue %llu, max in flight "
		    "%llu, max pending %llu B, RSS %llu -> %llu kB",
		    (unsigned long long)sp->written, (unsigned long long)(w.longest_ns / 1000),
		    (unsigned long long)w.max_queue, (unsigned long long)w.max_in_flight,
		    (unsigned long long)w.max_pending, (unsigned long long)w.rss_before_kb,
		    (unsigned long long)w.rss_paused_kb);
	psync_pipeline_free(p);
	free(sp);
}

/* ---- the wire format, against hiredis' own encoder ---- */

static void assert_encodes_as_hiredis(struct psync__redis_resp *resp, int argc,
				      const char **argv, const size_t *len)
{
	char *want = NULL;
	long long want_len = redisFormatCommandArgv(&want, argc, argv, len);

	cr_assert_gt(want_len, 0);
	cr_assert_eq(psync__redis_resp_encode(resp, argc, argv, len), 0);
	cr_assert_eq(resp->len, (size_t)want_len, "%zu bytes, hiredis %lld", resp->len, want_len);
	cr_assert_eq(memcmp(resp->buf, want, resp->len), 0);
	free(want);
}

Test(resp, encodes_as_hiredis_does)
{
	static char big[100000];
	struct psync__redis_resp resp = { 0 };
	const char *hset[] = { "HSET", "PORT_TABLE|Ethernet0", "state", "ok", "mtu", "9100" };
	size_t hset_len[] = { 4, 20, 5, 2, 3, 4 };
	const char *odd[] = { "SET", "", "a\0b\r\nc", big };
	size_t odd_len[] = { 3, 0, 6, sizeof(big) };
	const char *one[] = { "PING" };
	size_t one_len[] = { 4 };

	memset(big, 'x', sizeof(big));
	assert_encodes_as_hiredis(&resp, 6, hset, hset_len);
	/* Empty and binary arguments; a buffer that must grow past 64 KiB. */
	assert_encodes_as_hiredis(&resp, 4, odd, odd_len);
	/* The grown buffer is reused for a short command. */
	assert_encodes_as_hiredis(&resp, 1, one, one_len);
	cr_assert_geq(resp.cap, sizeof(big));
	psync__redis_resp_release(&resp);
	cr_assert_null(resp.buf);
}

/* ---- watching a key ---- */

static const char *const keyspace_on[] = { "--notify-keyspace-events", "AKE", NULL };

struct watch_log {
	unsigned calls, resubscribed, failed;
	int keyspace_events, exists;
	char level[32]; /* LOGLEVEL last seen, "" when absent */
};

static void on_watch(const struct psync_redis_watch_update *u, void *userdata)
{
	struct watch_log *l = userdata;

	l->calls++;
	if (u->status < 0) {
		l->failed++;
		return;
	}
	l->resubscribed += (unsigned)u->resubscribed;
	l->keyspace_events = u->keyspace_events;
	l->exists = u->exists;
	l->level[0] = '\0';
	for (size_t i = 0; i < u->n_fields; i++)
		if (strcmp(u->fields[i].name, "LOGLEVEL") == 0)
			snprintf(l->level, sizeof(l->level), "%s", u->fields[i].value);
}

/* Dispatches the sink until the watch has seen level (NULL: any call), or ms. */
static int watch_until(struct psync_sink *s, struct watch_log *l, const char *level, int ms)
{
	uint64_t deadline = psync__now_ns() + (uint64_t)ms * PSYNC__NS_PER_MS;
	unsigned calls = l->calls;

	while (psync__now_ns() < deadline) {
		struct pollfd pfd = { .fd = psync_sink_get_fd(s), .events = POLLIN };

		if (level ? strcmp(l->level, level) == 0 : l->calls > calls)
			return 1;
		poll(&pfd, 1, 10);
		cr_assert_geq(psync_sink_dispatch(s), 0);
	}
	return 0;
}

static struct psync_sink *watched_logger(struct watch_log *l)
{
	struct psync_redis_options o = { .sz = sizeof(o), .address = srv.address,
					 .backoff_max_ms = 200 };
	struct psync_sink *s = sink_with(&o, NULL);

	memset(l, 0, sizeof(*l));
	cr_assert_eq(psync_redis_sink_watch(s, "CONFIG_DB", "LOGGER", "portsyncd", on_watch, l), 0);
	return s;
}

static void restart_with_keyspace_events(void)
{
	redis_server_stop(&srv);
	cr_assert_eq(redis_server_start(&srv, keyspace_on), 0);
}

Test(redis, watch_reads_the_hash_then_every_change)
{
	struct watch_log l;
	struct psync_sink *s;
	redisContext *c;

	restart_with_keyspace_events();
	c = client(&srv, 4);
	freeReplyObject(cmd(c, "HSET LOGGER|portsyncd LOGLEVEL NOTICE LOGOUTPUT SYSLOG"));
	s = watched_logger(&l);
	cr_assert_eq(l.calls, 0, "never called from inside the watch call");
	cr_assert(watch_until(s, &l, "NOTICE", 3000), "the first reading");
	cr_assert_eq(l.resubscribed, 1);
	cr_assert_eq(l.keyspace_events, 1);
	freeReplyObject(cmd(c, "HSET LOGGER|portsyncd LOGLEVEL DEBUG"));
	cr_assert(watch_until(s, &l, "DEBUG", 1000), "a change seen within a second");
	cr_assert_eq(l.resubscribed, 1, "a change is not a resubscription");
	freeReplyObject(cmd(c, "HSET LOGGER|portsyncd LOGOUTPUT STDERR"));
	cr_assert(watch_until(s, &l, NULL, 1000), "any field of the hash");
	freeReplyObject(cmd(c, "HSET LOGGER|other LOGLEVEL ERROR"));
	freeReplyObject(cmd(c, "DEL LOGGER|portsyncd"));
	cr_assert(watch_until(s, &l, "", 1000));
	cr_assert_eq(l.exists, 0, "a deleted key reads as absent");
	cr_assert_eq(l.failed, 0);
	psync_sink_free(s);
	redisFree(c);
}

Test(redis, watch_folds_a_burst_into_few_readings)
{
	struct watch_log l;
	struct psync_sink *s;
	redisContext *c;
	redisReply *r;

	restart_with_keyspace_events();
	c = client(&srv, 4);
	s = watched_logger(&l);
	cr_assert(watch_until(s, &l, NULL, 3000));
	for (int i = 0; i < 2000; i++)
		redisAppendCommand(c, "HSET LOGGER|portsyncd LOGLEVEL %s", i == 1999 ? "LAST" : i % 2 ? "INFO" : "DEBUG");
	for (int i = 0; i < 2000; i++) {
		cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	cr_assert(watch_until(s, &l, "LAST", 3000), "the last value is the one seen last");
	cr_assert_lt(l.calls, 50, "2000 changes folded into %u readings", l.calls);
	/* nothing after the last reading */
	unsigned calls = l.calls;
	cr_assert_not(watch_until(s, &l, NULL, 200) && l.calls > calls + 1);
	cr_assert_str_eq(l.level, "LAST");
	psync_sink_free(s);
	redisFree(c);
}

Test(redis, watch_comes_back_after_a_restart)
{
	struct watch_log l;
	struct psync_sink *s;
	redisContext *c;

	restart_with_keyspace_events();
	s = watched_logger(&l);
	cr_assert(watch_until(s, &l, NULL, 3000));
	cr_assert_eq(redis_server_restart(&srv), 0);
	c = client(&srv, 4);
	freeReplyObject(cmd(c, "HSET LOGGER|portsyncd LOGLEVEL INFO"));
	cr_assert(watch_until(s, &l, "INFO", 5000), "seen on the new server");
	cr_assert_geq(l.resubscribed, 2, "subscribed again after the restart");
	freeReplyObject(cmd(c, "HSET LOGGER|portsyncd LOGLEVEL WARN"));
	cr_assert(watch_until(s, &l, "WARN", 1000), "and changes are seen again");
	psync_sink_free(s);
	redisFree(c);
}

Test(redis, watch_tells_when_the_server_sends_no_keyspace_events)
{
	struct watch_log l;
	struct psync_sink *s = watched_logger(&l);

	cr_assert(watch_until(s, &l, NULL, 3000));
	cr_assert_eq(l.keyspace_events, -1, "notify-keyspace-events is off by default");
	cr_assert_eq(psync_redis_sink_watch(s, "NO_SUCH_DB", "T", "k", on_watch, &l), -ENOENT);
	cr_assert_eq(psync_redis_sink_watch(s, "CONFIG_DB", "T", NULL, on_watch, &l), -EINVAL);
	psync_sink_free(s);
}

/* A Redis error line is kept whole in the reason, not cut at a buffer. */
Test(redis, a_long_server_error_is_reported_whole)
{
	struct psync_redis_options o = { .sz = sizeof(o), .address = srv.address,
					 .password_env = "PSYNC_TEST_PASSWORD" };
	struct psync_sink_status st = { .sz = sizeof(st) };
	char err[512] = "";
	struct psync_sink *s;

	setenv("PSYNC_TEST_PASSWORD", "s3cret", 1);
	s = sink_with(&o, NULL);
	cr_assert_eq(psync_redis_sink_connect(s, "STATE_DB", 2000, err, sizeof(err)), -EACCES);
	cr_assert_not_null(strstr(err, "called without any password configured"), "%s", err);
	cr_assert_not_null(strstr(err, "configuration is correct?"), "the whole line: %s", err);
	cr_assert_eq(psync_sink_get_status(s, &st), 0);
	cr_assert_not_null(strstr(st.reason, "configuration is correct?"), "%s", st.reason);
	psync_sink_free(s);
	unsetenv("PSYNC_TEST_PASSWORD");
}

/* A server at maxclients answers an error and hangs up: that answer is the
 * reason, every time, not the broken pipe of the next write. */
Test(redis, maxclients_reached_is_reported_as_the_server_says)
{
	static const char *const one_client[] = { "--maxclients", "1", NULL };
	redisContext *holder;
	char err[512];

	redis_server_stop(&srv);
	cr_assert_eq(redis_server_start(&srv, one_client), 0);
	holder = client(&srv, 0);
	for (int i = 0; i < 10; i++) {
		struct psync_sink *s = sink_at(srv.address, NULL);

		err[0] = '\0';
		cr_assert_lt(psync_redis_sink_connect(s, "STATE_DB", 2000, err, sizeof(err)), 0);
		cr_assert_not_null(strstr(err, "max number of clients reached"), "try %d: %s", i, err);
		psync_sink_free(s);
	}
	redisFree(holder);
}
