/* SPDX-License-Identifier: Apache-2.0 */
/* The Redis sink: the sink ops over one connection per instance, the epoll fd
 * the caller polls, and the public constructor and helpers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "redis_internal.h"


#define DEFAULT_MAX_IN_FLIGHT 1024
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_BACKOFF_MIN_MS 50
#define DEFAULT_BACKOFF_MAX_MS 5000
#define DEFAULT_SCAN_COUNT 1000
#define DEFAULT_REPLY_TIMEOUT_MS 3000
#define MAX_PASSWORD 1024
#define EPOLL_BATCH 16

__attribute__((format(printf, 4, 5)))
static int set_err(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static struct psync__redis_conn *conn_of(struct psync__redis *r, const struct psync__redis_db *db)
{
	return &r->conns[db->instance];
}

/* ---- writes ---- */

static int fields_are_valid(const struct psync_write *w)
{
	if (w->n_fields && !w->fields)
		return 0;
	for (size_t i = 0; i < w->n_fields; i++)
		if (!w->fields[i].name || !w->fields[i].value)
			return 0;
	return 1;
}

static int write_is_valid(const struct psync_write *w)
{
	if (!w || !w->db || !w->table || !w->key)
		return 0;
	switch (w->op) {
	case PSYNC_WRITE_SET:
		return w->n_fields > 0 && fields_are_valid(w);
	case PSYNC_WRITE_PRODUCER_SET:
		return fields_are_valid(w);
	case PSYNC_WRITE_DEL:
	case PSYNC_WRITE_PRODUCER_DEL:
		return 1;
	}
	return 0;
}

static int redis_submit(void *impl, const struct psync_write *w)
{
	struct psync__redis *r = impl;
	const struct psync__redis_db *db;
	struct psync__redis_conn *conn;
	int ret;

	if (!write_is_valid(w))
		return -EINVAL;
	db = psync__redis_db_config_find(r->cfg, w->db);
	if (!db)
		return -ENOENT;
	conn = conn_of(r, db);
	psync__redis_conn_use(conn);
	if (conn->state != PSYNC__CONN_READY || conn->in_flight >= r->max_in_flight)
		return -EAGAIN;
	ret = psync__redis_write_argv(&r->argv, db, w, conn->sha_set, conn->sha_del);
	if (ret >= 0)
		ret = psync__redis_conn_send(conn, db, PSYNC__EXPECT_WRITE, (void *)w, &r->argv);
	if (ret < 0)
		return ret;
	conn->in_flight++;
	return 0;
}

static int redis_flush(void *impl)
{
	struct psync__redis *r = impl;

	for (size_t i = 0; i < r->cfg->n_instances; i++) {
		psync__redis_conn_flush(&r->conns[i]);
		if (r->subs)
			psync__redis_conn_flush(&r->subs[i]);
	}
	return 0;
}

/* ---- reads ---- */

static int redis_read(void *impl, const struct psync_read *rq)
{
	struct psync__redis *r = impl;
	const struct psync__redis_db *db = psync__redis_db_config_find(r->cfg, rq->db);
	struct psync__redis_conn *conn;
	struct psync__redis_read *rd;
	int ret;

	if (!db)
		return -ENOENT;
	rd = psync__redis_read_new(rq, db);
	if (!rd)
		return -ENOMEM;
	conn = conn_of(r, db);
	psync__redis_conn_use(conn);
	if (conn->state != PSYNC__CONN_READY) {
		psync__list_append(&conn->held_reads, &rd->link);
		return 0;
	}
	ret = psync__redis_conn_send_read(conn, rd);
	if (ret < 0)
		psync__redis_read_free(rd);
	return ret;
}

/* ---- the loop ---- */

static int redis_get_fd(void *impl)
{
	return ((struct psync__redis *)impl)->epfd;
}

static short redis_get_events(void *impl)
{
	(void)impl;
	return POLLIN;
}

static int redis_dispatch(void *impl)
{
	struct psync__redis *r = impl;
	struct epoll_event ev[EPOLL_BATCH];
	uint64_t now;
	int n = epoll_wait(r->epfd, ev, EPOLL_BATCH, 0);

	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++)
		psync__redis_conn_on_events(ev[i].data.ptr, ev[i].events);
	now = psync__now_ns();
	for (size_t i = 0; i < r->cfg->n_instances; i++) {
		psync__redis_conn_run_timer(&r->conns[i], now);
		if (r->subs)
			psync__redis_conn_run_timer(&r->subs[i], now);
	}
	/* Replies may have caused commands (a SCAN step, a replay, the pipeline's
	 * next writes): send them now rather than wait for the next flush. */
	return redis_flush(r);
}

static uint64_t redis_next_timer_ns(void *impl)
{
	struct psync__redis *r = impl;
	uint64_t next = 0;

	for (size_t i = 0; i < 2 * r->cfg->n_instances; i++) {
		const struct psync__redis_conn *conn = i < r->cfg->n_instances ? &r->conns[i]
			: r->subs ? &r->subs[i - r->cfg->n_instances] : NULL;
		uint64_t t = conn ? psync__redis_conn_next_timer_ns(conn) : 0;

		if (t && (!next || t < next))
			next = t;
	}
	return next;
}

/* The first connection in use that is not ready, if any; *used counts those in use. */
static const struct psync__redis_conn *first_not_ready(const struct psync__redis *r, size_t *used)
{
	const struct psync__redis_conn *bad = NULL;

	*used = 0;
	for (size_t i = 0; i < r->cfg->n_instances; i++) {
		const struct psync__redis_conn *conn = &r->conns[i];

		if (conn->state == PSYNC__CONN_IDLE)
			continue;
		(*used)++;
		if (conn->state != PSYNC__CONN_READY && !bad)
			bad = conn;
	}
	return bad;
}

static void describe(const struct psync__redis_conn *conn, char *buf, size_t len)
{
	char address[128];

	if (conn->reason[0])
		psync__strlcpy(buf, conn->reason, len);
	else
		snprintf(buf, len, "%s: connecting",
			 psync__redis_instance_address(conn->instance, address, sizeof(address)));
}

/* The longest a connection in use has been down, and stalled. */
static void outage_of(const struct psync__redis *r, uint64_t *down, uint64_t *stalled)
{
	uint64_t now = psync__now_ns();

	*down = *stalled = 0;
	for (size_t i = 0; i < r->cfg->n_instances; i++) {
		const struct psync__redis_conn *conn = &r->conns[i];
		uint64_t d = conn->down_since_ns && conn->state != PSYNC__CONN_IDLE
				     ? now - conn->down_since_ns : 0;
		uint64_t s = psync__redis_conn_stalled_ns(conn, now);

		*down = d > *down ? d : *down;
		*stalled = s > *stalled ? s : *stalled;
	}
}

static void redis_get_status(void *impl, struct psync_sink_status *st)
{
	struct psync__redis *r = impl;
	size_t used;
	const struct psync__redis_conn *bad = first_not_ready(r, &used);
	uint64_t down, stalled;

	outage_of(r, &down, &stalled);
	if (psync__has_member(st->sz, struct psync_sink_status, down_ns))
		st->down_ns = down;
	if (psync__has_member(st->sz, struct psync_sink_status, stalled_ns))
		st->stalled_ns = stalled;

	if (psync__has_member(st->sz, struct psync_sink_status, connected))
		st->connected = used > 0 && !bad;
	if (psync__has_member(st->sz, struct psync_sink_status, reconnects))
		st->reconnects = r->stats.reconnects;
	if (!psync__has_member(st->sz, struct psync_sink_status, reason))
		return;
	if (bad)
		describe(bad, st->reason, sizeof(st->reason));
	else
		snprintf(st->reason, sizeof(st->reason), "%s", used ? "" : "no database used yet");
}

static void redis_destroy(void *impl)
{
	struct psync__redis *r = impl;

	if (!r)
		return;
	psync__redis_watch_free_all(r);
	for (size_t i = 0; r->conns && i < r->cfg->n_instances; i++)
		psync__redis_conn_release(&r->conns[i]);
	free(r->conns);
	psync__redis_argv_release(&r->argv);
	psync__redis_resp_release(&r->resp);
	if (r->password) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	psync_redis_db_config_free(r->cfg);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r);
}

static uint64_t redis_get_store_generation(void *impl)
{
	return ((struct psync__redis *)impl)->store_generation;
}

static const struct psync_sink_ops redis_ops = {
	.sz = sizeof(struct psync_sink_ops),
	.name = "redis",
	.submit = redis_submit,
	.flush = redis_flush,
	.read = redis_read,
	.get_fd = redis_get_fd,
	.get_events = redis_get_events,
	.dispatch = redis_dispatch,
	.next_timer_ns = redis_next_timer_ns,
	.get_status = redis_get_status,
	.destroy = redis_destroy,
	.get_store_generation = redis_get_store_generation,
};

/* ---- construction ---- */

static int read_password_file(const char *path, char **ret, char *err, size_t err_len)
{
	char buf[MAX_PASSWORD + 2];
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return set_err(err, err_len, -errno, "%s: %s", path, strerror(errno));
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return set_err(err, err_len, (int)n, "%s: %s", path, strerror((int)-n));
	buf[n] = '\0';
	while (len < (size_t)n && buf[len] != '\r' && buf[len] != '\n')
		len++;
	/* A NUL would cut the password short without a word, and AUTH would fail. */
	if (memchr(buf, '\0', len))
		return set_err(err, err_len, -EINVAL, "%s: a NUL byte in the password", path);
	buf[len] = '\0';
	if (!buf[0] || strlen(buf) > MAX_PASSWORD)
		return set_err(err, err_len, -EINVAL, "%s: no password on the first line", path);
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : -ENOMEM;
}

static int load_password(struct psync__redis *r, const struct psync_redis_options *o, char *err,
			 size_t err_len)
{
	const char *value;

	if (o->password_file && o->password_env)
		return set_err(err, err_len, -EINVAL,
			       "give password_file or password_env, not both");
	if (o->password_file)
		return read_password_file(o->password_file, &r->password, err, err_len);
	if (!o->password_env)
		return 0;
	value = getenv(o->password_env);
	if (!value || !*value)
		return set_err(err, err_len, -EINVAL, "environment variable %s is not set",
			       o->password_env);
	r->password = strdup(value);
	return r->password ? 0 : -ENOMEM;
}

static void apply_options(struct psync__redis *r, const struct psync_redis_options *o)
{
	unsigned backoff_min = o->backoff_min_ms ? o->backoff_min_ms : DEFAULT_BACKOFF_MIN_MS;
	unsigned backoff_max = o->backoff_max_ms ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
	unsigned timeout = o->connect_timeout_ms ? o->connect_timeout_ms
						 : DEFAULT_CONNECT_TIMEOUT_MS;

	if (backoff_max < backoff_min)
		backoff_max = backoff_min;
	r->max_in_flight = o->max_in_flight ? o->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
	r->scan_count = o->scan_count ? o->scan_count : DEFAULT_SCAN_COUNT;
	r->connect_timeout_ns = timeout * PSYNC__NS_PER_MS;
	r->reply_timeout_ns = (uint64_t)(o->reply_timeout_ms ? o->reply_timeout_ms
							    : DEFAULT_REPLY_TIMEOUT_MS) * PSYNC__NS_PER_MS;
	r->backoff_min_ns = backoff_min * PSYNC__NS_PER_MS;
	r->backoff_max_ns = backoff_max * PSYNC__NS_PER_MS;
	r->rng = psync__now_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)r;
	if (!r->rng)
		r->rng = 1;
}

static int copy_options(const struct psync_redis_options *opts, struct psync_redis_options *o)
{
	memset(o, 0, sizeof(*o));
	if (!opts)
		return 0;
	if (opts->sz < sizeof(opts->sz))
		return -EINVAL;
	memcpy(o, opts, opts->sz < sizeof(*o) ? opts->sz : sizeof(*o));
	return 0;
}

static int setup(struct psync__redis *r, const struct psync_redis_options *o, char *err,
		 size_t err_len)
{
	const char *path = o->db_config ? o->db_config : PSYNC_REDIS_DEFAULT_DB_CONFIG;
	int ret = o->address ? psync_redis_db_config_new_address(o->address, err, err_len, &r->cfg)
			     : psync_redis_db_config_load(path, err, err_len, &r->cfg);

	if (ret >= 0)
		ret = load_password(r, o, err, err_len);
	if (ret < 0)
		return ret;
	apply_options(r, o);
	psync__list_init(&r->watches);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return set_err(err, err_len, -errno, "epoll_create1: %s", strerror(errno));
	r->conns = calloc(r->cfg->n_instances, sizeof(*r->conns));
	if (!r->conns)
		return set_err(err, err_len, -ENOMEM, "out of memory");
	for (size_t i = 0; i < r->cfg->n_instances; i++)
		psync__redis_conn_init(&r->conns[i], r, &r->cfg->instances[i]);
	ret = psync_sink_new(&redis_ops, r, &r->sink);
	return ret < 0 ? set_err(err, err_len, ret, "%s", strerror(-ret)) : 0;
}

PSYNC_API int psync_redis_sink_new(const struct psync_redis_options *opts, char *err,
				   size_t err_len, struct psync_sink **ret)
{
	struct psync_redis_options o;
	struct psync__redis *r;
	int res;

	if (!ret || copy_options(opts, &o) < 0)
		return set_err(err, err_len, -EINVAL, "invalid arguments");
	r = calloc(1, sizeof(*r));
	if (!r)
		return set_err(err, err_len, -ENOMEM, "out of memory");
	r->epfd = -1;
	res = setup(r, &o, err, err_len);
	if (res < 0) {
		redis_destroy(r);
		return res;
	}
	/* A plain address is there to be used: start connecting at once. */
	if (o.address)
		psync__redis_conn_use(&r->conns[0]);
	*ret = r->sink;
	return 0;
}

/* ---- helpers on a Redis sink ---- */

static struct psync__redis *redis_of(struct psync_sink *sink)
{
	if (!sink || psync__sink_get_ops(sink) != &redis_ops)
		return NULL;
	return psync_sink_get_impl(sink);
}

static int wait_slice_ms(const struct psync__redis_conn *conn, uint64_t deadline, uint64_t now)
{
	uint64_t until = deadline;

	if (conn->timer_ns && conn->timer_ns < until)
		until = conn->timer_ns;
	if (until <= now)
		return 0;
	return (int)((until - now + PSYNC__NS_PER_MS - 1) / PSYNC__NS_PER_MS);
}

static int connect_wait(struct psync__redis *r, struct psync__redis_conn *conn,
			uint64_t deadline, char *err, size_t err_len)
{
	uint64_t attempts = conn->attempts;

	psync__redis_conn_hurry(conn);
	for (;;) {
		struct pollfd pfd = { .fd = r->epfd, .events = POLLIN };
		uint64_t now;
		int ret = redis_dispatch(r);

		if (ret < 0)
			return set_err(err, err_len, ret, "%s", strerror(-ret));
		if (conn->state == PSYNC__CONN_READY)
			return 0;
		if (conn->attempts > attempts && conn->state == PSYNC__CONN_WAITING)
			return set_err(err, err_len, conn->last_error, "%s", conn->reason);
		now = psync__now_ns();
		if (now >= deadline) {
			if (err && err_len)
				describe(conn, err, err_len);
			return -ETIMEDOUT;
		}
		if (poll(&pfd, 1, wait_slice_ms(conn, deadline, now)) < 0 && errno != EINTR)
			return set_err(err, err_len, -errno, "poll: %s", strerror(errno));
	}
}

PSYNC_API int psync_redis_sink_connect(struct psync_sink *sink, const char *db, int timeout_ms,
				       char *err, size_t err_len)
{
	struct psync__redis *r = redis_of(sink);
	const struct psync__redis_db *d;
	uint64_t deadline;

	if (!r || !db)
		return set_err(err, err_len, -EINVAL, "not a Redis sink");
	d = psync__redis_db_config_find(r->cfg, db);
	if (!d)
		return set_err(err, err_len, -ENOENT, "unknown database %s", db);
	if (conn_of(r, d)->state == PSYNC__CONN_READY)
		return 0;
	deadline = timeout_ms < 0 ? UINT64_MAX
				  : psync__now_ns() + (uint64_t)timeout_ms * PSYNC__NS_PER_MS;
	return connect_wait(r, conn_of(r, d), deadline, err, err_len);
}

PSYNC_API int psync_redis_sink_get_stats(struct psync_sink *sink, struct psync_redis_stats *st)
{
	struct psync__redis *r = redis_of(sink);
	struct psync_redis_stats s;
	size_t sz;

	if (!r || !st || st->sz < sizeof(st->sz))
		return -EINVAL;
	s = r->stats;
	s.pending_output = 0;
	s.in_flight = 0;
	for (size_t i = 0; i < r->cfg->n_instances; i++) {
		s.pending_output += psync__redis_conn_pending_output(&r->conns[i]);
		s.in_flight += r->conns[i].in_flight;
	}
	sz = st->sz < sizeof(s) ? st->sz : sizeof(s);
	s.sz = st->sz;
	memcpy(st, &s, sz);
	return 0;
}

PSYNC_API int psync_redis_sink_watch(struct psync_sink *sink, const char *db, const char *table,
				     const char *key, psync_redis_watch_fn fn, void *userdata)
{
	struct psync__redis *r = redis_of(sink);
	const struct psync__redis_db *d;

	if (!r || !db || !table || !key || !fn)
		return -EINVAL;
	d = psync__redis_db_config_find(r->cfg, db);
	if (!d)
		return -ENOENT;
	return psync__redis_watch_add(r, d, table, key, fn, userdata);
}
