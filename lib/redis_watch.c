/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watched keys: a subscriber connection per instance carries the keyspace
 * channels; every notification, and every (re)subscription, becomes one
 * HGETALL on the sink's usual connection, folded while one is in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_internal.h"

static int belongs_to(const struct psync__redis_watch *w, const struct psync__redis_conn *conn)
{
	return &w->owner->cfg->instances[w->db->instance] == conn->instance;
}

static void read_watch(struct psync__redis_watch *w);

static void on_reading(const struct psync_read *rq, const struct psync_read_result *res,
		       void *userdata)
{
	struct psync__redis_watch *w = userdata;
	const struct psync__redis_conn *sub = &w->owner->subs[w->db->instance];
	struct psync_redis_watch_update u = {
		.sz = sizeof(u), .status = res->status, .exists = res->exists,
		.fields = res->fields, .n_fields = res->n_fields, .resubscribed = w->fresh,
		.keyspace_events = sub->keyspace_events,
	};

	(void)rq;
	w->reading = 0;
	if (!res->status)
		w->fresh = 0;
	w->fn(&u, w->userdata);
	if (w->again) {
		w->again = 0;
		read_watch(w);
	}
}

static void read_watch(struct psync__redis_watch *w)
{
	struct psync_read rq = { .op = PSYNC_READ_HGETALL, .db = w->db->name, .table = w->table,
				 .key = w->key };
	int ret;

	if (w->reading) {
		w->again = 1;
		return;
	}
	ret = psync_sink_read(w->owner->sink, &rq, on_reading, w);
	if (ret < 0) {
		struct psync_redis_watch_update u = { .sz = sizeof(u), .status = ret };

		w->fn(&u, w->userdata);
		return;
	}
	w->reading = 1;
}

int psync__redis_watch_send_config(struct psync__redis_conn *conn)
{
	struct psync__redis_argv *a = &conn->owner->argv;
	int ret = psync__redis_argv_begin(a, 3, 0);

	if (ret < 0)
		return ret;
	psync__redis_argv_add_str(a, "CONFIG");
	psync__redis_argv_add_str(a, "GET");
	psync__redis_argv_add_str(a, "notify-keyspace-events");
	return psync__redis_conn_send(conn, NULL, PSYNC__EXPECT_CONFIG, NULL, a);
}

static int send_subscribe(struct psync__redis_conn *conn, struct psync__redis_watch *w)
{
	struct psync__redis_argv *a = &conn->owner->argv;
	int ret = psync__redis_argv_begin(a, 2, 0);

	if (ret < 0)
		return ret;
	psync__redis_argv_add_str(a, "SUBSCRIBE");
	psync__redis_argv_add_str(a, w->channel);
	return psync__redis_conn_send(conn, NULL, PSYNC__EXPECT_SUBSCRIBE, w, a);
}

void psync__redis_watch_on_ready(struct psync__redis_conn *conn)
{
	struct psync__list *n;

	for (n = conn->owner->watches.next; n != &conn->owner->watches; n = n->next) {
		struct psync__redis_watch *w = psync__container_of(n, struct psync__redis_watch, link);
		int ret;

		if (!belongs_to(w, conn))
			continue;
		ret = send_subscribe(conn, w);
		if (ret < 0) {
			psync__redis_conn_fail(conn, NULL, ret, "SUBSCRIBE", NULL);
			return;
		}
	}
	psync__redis_conn_flush(conn);
}

void psync__redis_watch_on_config(struct psync__redis_conn *conn, const redisReply *reply)
{
	conn->keyspace_events = 0;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[1]->type == REDIS_REPLY_STRING) {
		const char *v = reply->element[1]->str;

		conn->keyspace_events = strchr(v, 'K') && (strchr(v, 'A') || strchr(v, 'h')) ? 1 : -1;
	}
	/* CONFIG may be renamed away: not knowing is no reason to give up. */
	psync__redis_conn_handshake_step(conn);
}

void psync__redis_watch_on_subscribed(struct psync__redis_conn *conn,
				      struct psync__redis_watch *w, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(reply->element[0]->str, "subscribe") != 0) {
		psync__redis_conn_fail(conn, NULL, reply->type == REDIS_REPLY_ERROR
					   ? psync__redis_error_to_errno(reply->str) : -EPROTO,
				       "SUBSCRIBE", reply->type == REDIS_REPLY_ERROR ? reply->str
										: "unexpected reply");
		return;
	}
	w->fresh = 1;
	read_watch(w);
}

static int is_message(const redisReply *reply)
{
	return reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
	       reply->element[0]->type == REDIS_REPLY_STRING &&
	       strcmp(reply->element[0]->str, "message") == 0 &&
	       reply->element[1]->type == REDIS_REPLY_STRING;
}

int psync__redis_watch_on_push(struct psync__redis_conn *conn, const redisReply *reply)
{
	struct psync__list *n;

	if (!is_message(reply))
		return 0;
	for (n = conn->owner->watches.next; n != &conn->owner->watches; n = n->next) {
		struct psync__redis_watch *w = psync__container_of(n, struct psync__redis_watch, link);

		if (belongs_to(w, conn) && strcmp(w->channel, reply->element[1]->str) == 0)
			read_watch(w);
	}
	return 1;
}

static void watch_free(struct psync__redis_watch *w)
{
	free(w->table);
	free(w->key);
	free(w->channel);
	free(w);
}

void psync__redis_watch_free_all(struct psync__redis *r)
{
	if (!r->watches.next)
		return;
	while (!psync__list_empty(&r->watches)) {
		struct psync__list *n = r->watches.next;

		psync__list_remove(n);
		watch_free(psync__container_of(n, struct psync__redis_watch, link));
	}
	if (!r->subs)
		return;
	for (size_t i = 0; i < r->cfg->n_instances; i++)
		psync__redis_conn_release(&r->subs[i]);
	free(r->subs);
	r->subs = NULL;
}

static int make_subs(struct psync__redis *r)
{
	if (r->subs)
		return 0;
	r->subs = calloc(r->cfg->n_instances, sizeof(*r->subs));
	if (!r->subs)
		return -ENOMEM;
	for (size_t i = 0; i < r->cfg->n_instances; i++) {
		psync__redis_conn_init(&r->subs[i], r, &r->cfg->instances[i]);
		r->subs[i].subscriber = 1;
	}
	return 0;
}

static struct psync__redis_watch *watch_new(struct psync__redis *r,
					    const struct psync__redis_db *db, const char *table,
					    const char *key)
{
	struct psync__redis_watch *w = calloc(1, sizeof(*w));
	int n;

	if (!w)
		return NULL;
	w->owner = r;
	w->db = db;
	w->table = strdup(table);
	w->key = strdup(key);
	n = snprintf(NULL, 0, "__keyspace@%d__:%s%s%s", db->id, table, db->separator, key);
	w->channel = malloc((size_t)n + 1);
	if (!w->table || !w->key || !w->channel) {
		watch_free(w);
		return NULL;
	}
	snprintf(w->channel, (size_t)n + 1, "__keyspace@%d__:%s%s%s", db->id, table, db->separator,
		 key);
	return w;
}

int psync__redis_watch_add(struct psync__redis *r, const struct psync__redis_db *db,
			   const char *table, const char *key, psync_redis_watch_fn fn,
			   void *userdata)
{
	struct psync__redis_conn *sub;
	struct psync__redis_watch *w;

	if (make_subs(r) < 0)
		return -ENOMEM;
	w = watch_new(r, db, table, key);
	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->userdata = userdata;
	psync__list_append(&r->watches, &w->link);
	sub = &r->subs[db->instance];
	if (sub->state == PSYNC__CONN_READY && send_subscribe(sub, w) < 0)
		psync__redis_conn_fail(sub, NULL, -ENOMEM, "SUBSCRIBE", NULL);
	psync__redis_conn_use(sub);
	return 0;
}
