/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One connection to one Redis instance: connect without blocking, handshake
 * (AUTH, SCRIPT LOAD, a SELECT of each database it holds), pipelined I/O, and
 * on any failure a drop, a backoff with jitter and a new attempt.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <hiredis/sds.h>

#include "redis_internal.h"

/* hiredis reports errors as c->err plus errno; this is the one place they
 * become -errno. */
static int ctx_errno(const redisContext *c, int saved_errno)
{
	switch (c->err) {
	case REDIS_ERR_IO:
		return saved_errno > 0 ? -saved_errno : -EIO;
	case REDIS_ERR_EOF:
		return -ECONNRESET;
	case REDIS_ERR_PROTOCOL:
		return -EPROTO;
	case REDIS_ERR_OOM:
		return -ENOMEM;
	}
	return -EIO;
}

/* Each dispatch reads at most this many 16 kB chunks from one connection, so
 * that a flood of replies cannot hold the caller's loop. */
#define READ_ROUNDS 1

static void fail_ctx(struct psync__redis_conn *conn, const char *what, int saved_errno)
{
	char detail[sizeof(conn->ctx->errstr)];
	int err = ctx_errno(conn->ctx, saved_errno);

	psync__strlcpy(detail, conn->ctx->errstr[0] ? conn->ctx->errstr : strerror(-err),
		       sizeof(detail));
	psync__redis_conn_fail(conn, NULL, err, what, detail);
}

void psync__redis_conn_init(struct psync__redis_conn *conn, struct psync__redis *owner,
			    const struct psync__redis_instance *instance)
{
	memset(conn, 0, sizeof(*conn));
	conn->owner = owner;
	conn->instance = instance;
	psync__list_init(&conn->held_reads);
}

static void close_ctx(struct psync__redis_conn *conn)
{
	if (!conn->ctx)
		return;
	epoll_ctl(conn->owner->epfd, EPOLL_CTL_DEL, conn->ctx->fd, NULL);
	redisFree(conn->ctx);
	conn->ctx = NULL;
	conn->want_output = 0;
	conn->write_ahead_errno = 0;
}

static void free_held_reads(struct psync__redis_conn *conn)
{
	while (!psync__list_empty(&conn->held_reads)) {
		struct psync__list *n = conn->held_reads.next;

		psync__list_remove(n);
		psync__redis_read_free(psync__container_of(n, struct psync__redis_read, link));
	}
}

void psync__redis_conn_release(struct psync__redis_conn *conn)
{
	struct psync__redis_expect e;

	close_ctx(conn);
	while (psync__redis_fifo_pop(&conn->expects, &e) >= 0)
		if (e.kind == PSYNC__EXPECT_READ && !e.ghost)
			psync__redis_read_free(e.item);
	psync__redis_fifo_release(&conn->expects);
	free_held_reads(conn);
}

void psync__redis_conn_use(struct psync__redis_conn *conn)
{
	if (conn->state != PSYNC__CONN_IDLE)
		return;
	conn->state = PSYNC__CONN_WAITING;
	conn->timer_ns = psync__now_ns();
	conn->down_since_ns = conn->timer_ns;
}

void psync__redis_conn_hurry(struct psync__redis_conn *conn)
{
	if (conn->state != PSYNC__CONN_IDLE && conn->state != PSYNC__CONN_WAITING)
		return;
	conn->state = PSYNC__CONN_WAITING;
	conn->timer_ns = psync__now_ns();
}

size_t psync__redis_conn_pending_output(const struct psync__redis_conn *conn)
{
	return conn->ctx && conn->ctx->obuf ? sdslen(conn->ctx->obuf) : 0;
}

/* ---- failure and backoff ---- */

static uint64_t next_random(struct psync__redis *r)
{
	/* xorshift64*: jitter only needs to differ between processes. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ULL;
}

/* Doubling per failure up to the cap, then a random point in its upper half so
 * that clients of a restarted server do not all come back at once. */
static uint64_t backoff_ns(struct psync__redis_conn *conn)
{
	struct psync__redis *r = conn->owner;
	unsigned shift = conn->failures > 1 ? conn->failures - 1 : 0;
	uint64_t d = r->backoff_min_ns;

	while (shift-- > 0 && d < r->backoff_max_ns)
		d *= 2;
	if (d > r->backoff_max_ns)
		d = r->backoff_max_ns;
	return d / 2 + next_random(r) % (d / 2 + 1);
}

static void keep_reads(struct psync__redis_conn *conn, struct psync__redis_fifo *lost)
{
	for (size_t i = 0; i < lost->count; i++) {
		struct psync__redis_expect *e = psync__redis_fifo_at(lost, i);
		struct psync__redis_read *rd = e->item;

		if (e->kind != PSYNC__EXPECT_READ || e->ghost)
			continue;
		psync__redis_read_restart(rd);
		psync__list_append(&conn->held_reads, &rd->link);
	}
}

static void lose_write(struct psync__redis_conn *conn, const struct psync__redis_expect *e)
{
	if (e->kind == PSYNC__EXPECT_WRITE && !e->ghost)
		psync_sink_write_done(conn->owner->sink, e->item, -ECONNRESET, conn->reason);
}

void psync__redis_conn_fail(struct psync__redis_conn *conn, const struct psync__redis_expect *lead,
			    int err, const char *what, const char *detail)
{
	struct psync__redis *r = conn->owner;
	struct psync__redis_fifo lost = conn->expects;
	char address[128];

	memset(&conn->expects, 0, sizeof(conn->expects));
	close_ctx(conn);
	if (!conn->down_since_ns)
		conn->down_since_ns = psync__now_ns();
	if (conn->subscriber)
		; /* the sink's figures are about writes */
	else if (conn->state == PSYNC__CONN_READY)
		r->stats.disconnects++;
	else
		r->stats.connect_failures++;
	conn->state = PSYNC__CONN_WAITING;
	conn->failures++;
	conn->last_error = err;
	conn->in_flight = 0;
	conn->timer_ns = psync__now_ns() + backoff_ns(conn);
	snprintf(conn->reason, sizeof(conn->reason), "%s: %s: %s",
		 psync__redis_instance_address(conn->instance, address, sizeof(address)), what,
		 detail ? detail : strerror(-err));
	/* Completions call back into the pipeline, which may submit again: by now
	 * this connection says "not ready" and its queue is private. */
	keep_reads(conn, &lost);
	if (lead)
		lose_write(conn, lead);
	for (size_t i = 0; i < lost.count; i++)
		lose_write(conn, psync__redis_fifo_at(&lost, i));
	psync__redis_fifo_release(&lost);
}

/* ---- appending commands ---- */

static int append(struct psync__redis_conn *conn, enum psync__redis_expect_kind kind,
		  const struct psync__redis_db *db, void *item, int argc, const char **argv,
		  const size_t *len)
{
	struct psync__redis_expect e = { .kind = (uint8_t)kind, .db = db, .item = item };
	struct psync__redis_resp *resp = &conn->owner->resp;

	if (psync__redis_resp_encode(resp, argc, argv, len) < 0 ||
	    redisAppendFormattedCommand(conn->ctx, resp->buf, resp->len) != REDIS_OK)
		return -ENOMEM;
	if (conn->expects.count == 0) /* the wait for a reply starts now */
		conn->last_progress_ns = psync__now_ns();
	psync__redis_fifo_push(&conn->expects, &e);
	conn->owner->stats.commands++;
	return 0;
}

static int send_select(struct psync__redis_conn *conn, const struct psync__redis_db *db)
{
	char id[16];
	const char *argv[] = { "SELECT", id };
	size_t len[] = { 6, 0 };
	int ret;

	len[1] = (size_t)snprintf(id, sizeof(id), "%d", db->id);
	ret = append(conn, PSYNC__EXPECT_SELECT, db, NULL, 2, argv, len);
	if (ret >= 0)
		conn->tail_db = db->id;
	return ret;
}

static void write_ahead(struct psync__redis_conn *conn);

int psync__redis_conn_send(struct psync__redis_conn *conn, const struct psync__redis_db *db,
			   enum psync__redis_expect_kind kind, void *item,
			   const struct psync__redis_argv *a)
{
	int ret = psync__redis_fifo_reserve(&conn->expects, 2);

	if (ret >= 0 && db && conn->tail_db != db->id)
		ret = send_select(conn, db);
	if (ret >= 0)
		ret = append(conn, kind, db, item, (int)a->n, a->argv, a->len);
	if (ret >= 0)
		write_ahead(conn);
	return ret;
}

int psync__redis_conn_send_read(struct psync__redis_conn *conn, struct psync__redis_read *rd)
{
	struct psync__redis *r = conn->owner;
	int ret = psync__redis_read_argv(&r->argv, rd, r->scan_count);

	if (ret < 0)
		return ret;
	return psync__redis_conn_send(conn, rd->db, PSYNC__EXPECT_READ, rd, &r->argv);
}

int psync__redis_conn_send_scripts(struct psync__redis_conn *conn)
{
	const char *argv[] = { "SCRIPT", "LOAD", psync__redis_script_set };
	size_t len[] = { 6, 4, strlen(psync__redis_script_set) };
	int ret = psync__redis_fifo_reserve(&conn->expects, 2);

	if (ret >= 0)
		ret = append(conn, PSYNC__EXPECT_SCRIPT_SET, NULL, NULL, 3, argv, len);
	argv[2] = psync__redis_script_del;
	len[2] = strlen(psync__redis_script_del);
	if (ret >= 0)
		ret = append(conn, PSYNC__EXPECT_SCRIPT_DEL, NULL, NULL, 3, argv, len);
	return ret;
}

/* ---- handshake ---- */

static int send_auth(struct psync__redis_conn *conn)
{
	const char *password = conn->owner->password;
	const char *argv[] = { "AUTH", password };
	size_t len[] = { 4, password ? strlen(password) : 0 };
	struct psync__redis_resp *resp = &conn->owner->resp;
	int ret;

	if (!password)
		return 0;
	ret = psync__redis_fifo_reserve(&conn->expects, 1);
	if (ret >= 0)
		ret = append(conn, PSYNC__EXPECT_AUTH, NULL, NULL, 2, argv, len);
	/* The encoded command held the password: not left for a core dump. */
	if (resp->buf)
		explicit_bzero(resp->buf, resp->cap);
	return ret;
}

static int already_selected(const struct psync_redis_db_config *cfg, size_t i)
{
	const struct psync__redis_db *db = &cfg->dbs[i];

	for (size_t j = 0; j < i; j++)
		if (cfg->dbs[j].instance == db->instance && cfg->dbs[j].id == db->id)
			return 1;
	return 0;
}

/* Tried once per connection so that no write can ever follow a failed SELECT. */
static int send_select_checks(struct psync__redis_conn *conn)
{
	const struct psync_redis_db_config *cfg = conn->owner->cfg;
	size_t me = (size_t)(conn - conn->owner->conns);
	int ret = psync__redis_fifo_reserve(&conn->expects, cfg->n_dbs);

	for (size_t i = 0; ret >= 0 && i < cfg->n_dbs; i++)
		if (cfg->dbs[i].instance == me && !already_selected(cfg, i))
			ret = send_select(conn, &cfg->dbs[i]);
	return ret;
}

static int send_info(struct psync__redis_conn *conn)
{
	const char *argv[] = { "INFO", "server" };
	size_t len[] = { 4, 6 };
	int ret = psync__redis_fifo_reserve(&conn->expects, 1);

	return ret < 0 ? ret : append(conn, PSYNC__EXPECT_INFO, NULL, NULL, 2, argv, len);
}

static void start_handshake(struct psync__redis_conn *conn)
{
	int ret;

	conn->state = PSYNC__CONN_HANDSHAKE;
	conn->tail_db = 0;
	ret = send_auth(conn);
	if (ret >= 0 && conn->subscriber)
		ret = psync__redis_watch_send_config(conn);
	else if (ret >= 0)
		ret = psync__redis_conn_send_scripts(conn);
	if (ret >= 0 && !conn->subscriber)
		ret = send_info(conn);
	if (ret >= 0 && !conn->subscriber)
		ret = send_select_checks(conn);
	if (ret < 0) {
		psync__redis_conn_fail(conn, NULL, ret, "handshake", NULL);
		return;
	}
	conn->handshake_left = (unsigned)conn->expects.count;
	psync__redis_conn_flush(conn);
}

static void send_held_reads(struct psync__redis_conn *conn)
{
	while (conn->state == PSYNC__CONN_READY && !psync__list_empty(&conn->held_reads)) {
		struct psync__list *n = conn->held_reads.next;
		struct psync__redis_read *rd;
		int ret;

		rd = psync__container_of(n, struct psync__redis_read, link);
		psync__list_remove(n);
		ret = psync__redis_conn_send_read(conn, rd);
		if (ret < 0) {
			psync__redis_read_fail(rd, ret, conn->owner->sink);
			psync__redis_read_free(rd);
		}
	}
}

static void become_ready(struct psync__redis_conn *conn)
{
	struct psync__redis *r = conn->owner;

	conn->state = PSYNC__CONN_READY;
	conn->timer_ns = 0;
	conn->down_since_ns = 0;
	conn->failures = 0;
	conn->last_error = 0;
	conn->reason[0] = '\0';
	if (conn->subscriber) {
		psync__redis_watch_on_ready(conn);
		return;
	}
	r->stats.connects++;
	if (conn->ever_ready)
		r->stats.reconnects++;
	conn->ever_ready = 1;
	send_held_reads(conn);
}

void psync__redis_conn_handshake_step(struct psync__redis_conn *conn)
{
	if (conn->state != PSYNC__CONN_HANDSHAKE)
		return;
	if (--conn->handshake_left == 0)
		become_ready(conn);
}

/* ---- connecting ---- */

static void start_connect(struct psync__redis_conn *conn)
{
	const struct psync__redis_instance *inst = conn->instance;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = conn };
	redisContext *c;
	int saved;

	conn->attempts++;
	errno = 0;
	c = inst->unix_socket ? redisConnectUnixNonBlock(inst->unix_socket)
			      : redisConnectNonBlock(inst->hostname, inst->port);
	saved = errno;
	if (!c) {
		psync__redis_conn_fail(conn, NULL, -ENOMEM, "connect", NULL);
		return;
	}
	conn->ctx = c;
	if (c->err) {
		fail_ctx(conn, "connect", saved);
		return;
	}
	psync__redis_bound_replies(&conn->bound, c);
	if (!inst->unix_socket)
		redisEnableKeepAlive(c);
	if (epoll_ctl(conn->owner->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		psync__redis_conn_fail(conn, NULL, -errno, "epoll", NULL);
		return;
	}
	conn->want_output = 1;
	conn->state = PSYNC__CONN_CONNECTING;
	conn->timer_ns = psync__now_ns() + conn->owner->connect_timeout_ns;
}

/* A non-blocking connect ends with the socket writable; SO_ERROR tells how. */
static void finish_connect(struct psync__redis_conn *conn)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(conn->ctx->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr) {
		psync__redis_conn_fail(conn, NULL, -soerr, "connect", NULL);
		return;
	}
	start_handshake(conn);
}

/* Past this, a silent server is taken for dead rather than slow. */
#define STALL_DROP_FACTOR 10

static uint64_t stall_drop_ns(const struct psync__redis_conn *conn)
{
	if (conn->state != PSYNC__CONN_READY || !conn->expects.count || !conn->owner->reply_timeout_ns)
		return 0;
	return conn->last_progress_ns + STALL_DROP_FACTOR * conn->owner->reply_timeout_ns;
}

uint64_t psync__redis_conn_next_timer_ns(const struct psync__redis_conn *conn)
{
	uint64_t drop = stall_drop_ns(conn);

	if (!conn->timer_ns || (drop && drop < conn->timer_ns))
		return drop;
	return conn->timer_ns;
}

uint64_t psync__redis_conn_stalled_ns(const struct psync__redis_conn *conn, uint64_t now)
{
	uint64_t waited;

	if (conn->state != PSYNC__CONN_READY || !conn->expects.count)
		return 0;
	waited = now > conn->last_progress_ns ? now - conn->last_progress_ns : 0;
	return waited >= conn->owner->reply_timeout_ns ? waited : 0;
}

void psync__redis_conn_run_timer(struct psync__redis_conn *conn, uint64_t now)
{
	uint64_t drop = stall_drop_ns(conn);

	if (drop && now >= drop) {
		char detail[64];

		snprintf(detail, sizeof(detail), "no reply in %llu s",
			 (unsigned long long)((now - conn->last_progress_ns) / PSYNC__NS_PER_SEC));
		psync__redis_conn_fail(conn, NULL, -ETIMEDOUT, "stalled", detail);
		return;
	}
	if (!conn->timer_ns || now < conn->timer_ns)
		return;
	if (conn->state == PSYNC__CONN_WAITING)
		start_connect(conn);
	else if (conn->state == PSYNC__CONN_CONNECTING || conn->state == PSYNC__CONN_HANDSHAKE)
		psync__redis_conn_fail(conn, NULL, -ETIMEDOUT, "connect", "no answer in time");
}

/* ---- I/O ---- */

static void set_want_output(struct psync__redis_conn *conn, int want)
{
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = conn };

	if (!conn->ctx || want == conn->want_output)
		return;
	if (epoll_ctl(conn->owner->epfd, EPOLL_CTL_MOD, conn->ctx->fd, &ev) < 0) {
		psync__redis_conn_fail(conn, NULL, -errno, "epoll", NULL);
		return;
	}
	conn->want_output = want;
}

/*
 * hiredis writes with write(2), which raises SIGPIPE when the server has gone.
 * The library installs no handler, so it keeps the signal blocked while it
 * writes and takes back one it caused, leaving the caller's disposition alone.
 * A process that ignores SIGPIPE (as daemons do) needs none of that: one
 * query instead of four calls on every write to Redis.
 */
struct sigpipe_guard {
	sigset_t old;
	int was_pending;
	int ignored;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	struct sigaction current;
	sigset_t set, pending;

	g->ignored = sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_IGN;
	if (g->ignored)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_unblock(const struct sigpipe_guard *g)
{
	struct timespec zero = { 0 };
	sigset_t set, pending;
	int saved = errno;

	if (g->ignored)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE))
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

/* Writes until done or the socket is full. 0, or the errno of a write that
 * failed and left the context in error. */
static int write_pending(redisContext *c)
{
	struct sigpipe_guard g;
	int ret = 0;

	sigpipe_block(&g);
	for (;;) {
		size_t before = sdslen(c->obuf);
		int done = 0;

		if (redisBufferWrite(c, &done) != REDIS_OK) {
			ret = errno;
			break;
		}
		if (done || sdslen(c->obuf) == before)
			break;
	}
	sigpipe_unblock(&g);
	return ret;
}

/*
 * A server that refuses a client (maxclients, protected mode) sends one error
 * line and hangs up; our next write then fails with EPIPE before the line is
 * read. The line is the reason worth reporting: take it if it is there.
 */
static int server_refusal(struct psync__redis_conn *conn, char *buf, size_t len)
{
	ssize_t n;

	if (conn->state != PSYNC__CONN_HANDSHAKE || len < 2)
		return 0;
	n = recv(conn->ctx->fd, buf, len - 1, MSG_DONTWAIT);
	if (n < 2 || buf[0] != '-')
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	memmove(buf, buf + 1, strlen(buf));
	return 1;
}

/* write_pending for the flush. -1 when the connection was dropped. */
static int write_out(struct psync__redis_conn *conn)
{
	int saved = write_pending(conn->ctx);
	char said[sizeof(conn->reason)];

	if (!conn->ctx->err)
		return 0;
	if (server_refusal(conn, said, sizeof(said)))
		psync__redis_conn_fail(conn, NULL, psync__redis_error_to_errno(said), "refused", said);
	else
		fail_ctx(conn, "write", saved);
	return -1;
}

/* Output beyond which sending starts before the caller's flush. */
#define WRITE_AHEAD_BYTES (64 * 1024)

/* A long pipeline (start-up's hundreds of producer sets, a backlog's
 * thousands of writes) starts moving while the rest is still being encoded,
 * so Redis executes in parallel with us instead of after us. A failure stays
 * in the context for psync__redis_conn_flush to report: completions must not
 * run inside a submit. */
static void write_ahead(struct psync__redis_conn *conn)
{
	redisContext *c = conn->ctx;
	int saved;

	if (conn->state != PSYNC__CONN_READY || c->err || sdslen(c->obuf) < WRITE_AHEAD_BYTES)
		return;
	saved = write_pending(c);
	if (c->err)
		conn->write_ahead_errno = saved ? saved : EIO;
}

void psync__redis_conn_flush(struct psync__redis_conn *conn)
{
	if (!conn->ctx || conn->state < PSYNC__CONN_HANDSHAKE)
		return;
	if (conn->ctx->err) {
		int saved = conn->write_ahead_errno;

		conn->write_ahead_errno = 0;
		fail_ctx(conn, saved ? "write" : "append", saved);
		return;
	}
	if (sdslen(conn->ctx->obuf) > 0 && write_out(conn) < 0)
		return;
	set_want_output(conn, sdslen(conn->ctx->obuf) > 0);
}

/* Replies already in the reader's buffer; stops when the connection drops. */
static void drain_replies(struct psync__redis_conn *conn)
{
	while (conn->ctx) {
		void *reply = NULL;

		if (redisGetReplyFromReader(conn->ctx, &reply) != REDIS_OK) {
			if (!psync__redis_bound_fail(conn))
				fail_ctx(conn, "reply", 0);
			return;
		}
		if (!reply)
			return;
		conn->last_progress_ns = psync__now_ns();
		psync__redis_conn_on_reply(conn, reply);
		freeReplyObject(reply);
	}
}

static void read_in(struct psync__redis_conn *conn)
{
	for (int i = 0; i < READ_ROUNDS && conn->ctx; i++) {
		uint64_t before = conn->owner->stats.replies;

		if (redisBufferRead(conn->ctx) != REDIS_OK) {
			fail_ctx(conn, "read", errno);
			return;
		}
		drain_replies(conn);
		if (conn->owner->stats.replies == before)
			return;
	}
}

void psync__redis_conn_on_events(struct psync__redis_conn *conn, uint32_t events)
{
	if (!conn->ctx)
		return;
	if (conn->state == PSYNC__CONN_CONNECTING) {
		finish_connect(conn);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		read_in(conn);
	if (conn->ctx && (events & EPOLLOUT))
		psync__redis_conn_flush(conn);
}
