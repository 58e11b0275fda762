/* SPDX-License-Identifier: Apache-2.0 */
/* What each reply means for the command that asked for it: completions, error
 * replies as -errno, and the answer to NOSCRIPT. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "redis_internal.h"

static const struct {
	const char *code;
	int err;
} error_codes[] = {
	/* the server is not able to take the write now: try again later */
	{ "LOADING", -EBUSY },
	{ "BUSY", -EBUSY },
	{ "READONLY", -EBUSY },
	{ "MASTERDOWN", -EBUSY },
	{ "MISCONF", -EBUSY }, /* snapshots failing: writes resume once they work */
	{ "TRYAGAIN", -EAGAIN },
	{ "OOM", -ENOMEM },
	/* the server wants another password: retried until an operator fixes it */
	{ "NOAUTH", -EACCES },
	{ "WRONGPASS", -EACCES },
	/* permanent: the same command fails the same way until the server's
	 * configuration (ACL) or the key's type changes, or it is our bug */
	{ "NOPERM", -EPERM },
	{ "WRONGTYPE", -EPROTO },
	{ "ERR", -EINVAL },
};

int psync__redis_error_is(const char *text, const char *code)
{
	size_t n = strlen(code);

	return text && strncmp(text, code, n) == 0 && (text[n] == ' ' || text[n] == '\0');
}

int psync__redis_error_to_errno(const char *text)
{
	for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (psync__redis_error_is(text, error_codes[i].code))
			return error_codes[i].err;
	return -EPROTO;
}

static int is_error(const redisReply *reply)
{
	return reply->type == REDIS_REPLY_ERROR;
}

static void on_auth(struct psync__redis_conn *conn, const redisReply *reply)
{
	if (is_error(reply)) {
		int err = psync__redis_error_to_errno(reply->str);

		/* "ERR ... no password is set" is as much a refusal as a wrong one. */
		if (err == -EINVAL)
			err = -EACCES;
		psync__redis_conn_fail(conn, NULL, err, "AUTH", reply->str);
		return;
	}
	psync__redis_conn_handshake_step(conn);
}

static void on_script(struct psync__redis_conn *conn, const struct psync__redis_expect *e,
		      const redisReply *reply)
{
	char *sha = e->kind == PSYNC__EXPECT_SCRIPT_SET ? conn->sha_set : conn->sha_del;

	if (is_error(reply)) {
		psync__redis_conn_fail(conn, NULL, psync__redis_error_to_errno(reply->str),
				       "SCRIPT LOAD", reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_STRING || reply->len >= sizeof(conn->sha_set)) {
		psync__redis_conn_fail(conn, NULL, -EPROTO, "SCRIPT LOAD", "unexpected reply");
		return;
	}
	memcpy(sha, reply->str, reply->len + 1);
	psync__redis_conn_handshake_step(conn);
}

/* A failed SELECT would send what follows to the wrong database: drop the
 * connection rather than go on. The handshake tries every database first. */
static void on_select(struct psync__redis_conn *conn, const struct psync__redis_expect *e,
		      const redisReply *reply)
{
	char what[80];
	int err;

	if (!is_error(reply)) {
		psync__redis_conn_handshake_step(conn);
		return;
	}
	snprintf(what, sizeof(what), "SELECT %d (%s)", e->db->id, e->db->name);
	err = psync__redis_error_to_errno(reply->str);
	psync__redis_conn_fail(conn, NULL, err, what, reply->str);
}

static int resend(struct psync__redis_conn *conn, const struct psync__redis_expect *e)
{
	struct psync__redis *r = conn->owner;
	int ret;

	if (e->kind == PSYNC__EXPECT_READ)
		return psync__redis_conn_send_read(conn, e->item);
	ret = psync__redis_write_argv(&r->argv, e->db, e->item, conn->sha_set, conn->sha_del);
	if (ret >= 0)
		ret = psync__redis_conn_send(conn, e->db, PSYNC__EXPECT_WRITE, e->item, &r->argv);
	return ret;
}

/*
 * The server lost the scripts (SCRIPT FLUSH, or a failover to a server that
 * never saw them). Every EVALSHA already sent after this one fails the same
 * way, and resending only those would let a later write overtake them. So
 * load the scripts again, then send everything still unanswered again, in
 * order; the replies to the first sending are ignored. Repeating a write that
 * did land is harmless: each one sets the final state of what it names.
 */
static void replay_after_noscript(struct psync__redis_conn *conn,
				  const struct psync__redis_expect *failed)
{
	size_t n = conn->expects.count;
	int ret;

	conn->owner->stats.script_reloads++;
	ret = psync__redis_fifo_reserve(&conn->expects, 2 * n + 6);
	if (ret >= 0)
		ret = psync__redis_conn_send_scripts(conn);
	if (ret >= 0)
		ret = resend(conn, failed);
	if (ret < 0) {
		psync__redis_conn_fail(conn, failed, ret, "NOSCRIPT", "cannot send again");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct psync__redis_expect *e = psync__redis_fifo_at(&conn->expects, i), copy;

		if (e->ghost || (e->kind != PSYNC__EXPECT_WRITE && e->kind != PSYNC__EXPECT_READ))
			continue;
		copy = *e;
		ret = resend(conn, &copy);
		if (ret < 0) {
			psync__redis_conn_fail(conn, NULL, ret, "NOSCRIPT", "cannot send again");
			return;
		}
		e->ghost = 1; /* room was reserved: e has not moved */
	}
}

static void on_write(struct psync__redis_conn *conn, const struct psync__redis_expect *e,
		     const redisReply *reply)
{
	int status = 0;

	if (e->ghost)
		return;
	if (is_error(reply) && psync__redis_error_is(reply->str, "NOSCRIPT")) {
		replay_after_noscript(conn, e);
		return;
	}
	if (is_error(reply))
		status = psync__redis_error_to_errno(reply->str);
	conn->in_flight--;
	psync_sink_write_done(conn->owner->sink, e->item, status, status ? reply->str : NULL);
}

static void on_read(struct psync__redis_conn *conn, const struct psync__redis_expect *e,
		    const redisReply *reply)
{
	struct psync__redis_read *rd = e->item;
	struct psync_sink *sink = conn->owner->sink;
	int ret;

	if (e->ghost)
		return;
	if (psync__redis_read_on_reply(rd, reply, sink)) {
		psync__redis_read_free(rd);
		return;
	}
	ret = psync__redis_conn_send_read(conn, rd);
	if (ret < 0) {
		psync__redis_read_fail(rd, ret, sink);
		psync__redis_read_free(rd);
	}
}

void psync__redis_conn_on_info(struct psync__redis_conn *conn, const redisReply *reply)
{
	const char *at = reply->type == REDIS_REPLY_STRING ? strstr(reply->str, "run_id:") : NULL;
	char run_id[sizeof(conn->run_id)] = "";

	/* INFO may be renamed away: then a restart cannot be told from a drop. */
	if (at)
		snprintf(run_id, sizeof(run_id), "%.*s", (int)strcspn(at + 7, "\r\n"), at + 7);
	if (run_id[0] && conn->run_id[0] && strcmp(run_id, conn->run_id) != 0)
		conn->owner->store_generation++;
	if (run_id[0])
		memcpy(conn->run_id, run_id, sizeof(run_id));
	psync__redis_conn_handshake_step(conn);
}

void psync__redis_conn_on_reply(struct psync__redis_conn *conn, const redisReply *reply)
{
	struct psync__redis_expect e;

	conn->owner->stats.replies++;
	if (is_error(reply))
		conn->owner->stats.error_replies++;
	if (conn->subscriber && psync__redis_watch_on_push(conn, reply))
		return;
	if (psync__redis_fifo_pop(&conn->expects, &e) < 0) {
		psync__redis_conn_fail(conn, NULL, -EPROTO, "reply", "no command waits for it");
		return;
	}
	switch ((enum psync__redis_expect_kind)e.kind) {
	case PSYNC__EXPECT_AUTH:
		on_auth(conn, reply);
		break;
	case PSYNC__EXPECT_SCRIPT_SET:
	case PSYNC__EXPECT_SCRIPT_DEL:
		on_script(conn, &e, reply);
		break;
	case PSYNC__EXPECT_SELECT:
		on_select(conn, &e, reply);
		break;
	case PSYNC__EXPECT_WRITE:
		on_write(conn, &e, reply);
		break;
	case PSYNC__EXPECT_READ:
		on_read(conn, &e, reply);
		break;
	case PSYNC__EXPECT_CONFIG:
		psync__redis_watch_on_config(conn, reply);
		break;
	case PSYNC__EXPECT_SUBSCRIBE:
		psync__redis_watch_on_subscribed(conn, e.item, reply);
		break;
	case PSYNC__EXPECT_INFO:
		psync__redis_conn_on_info(conn, reply);
		break;
	}
}
