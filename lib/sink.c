/* SPDX-License-Identifier: Apache-2.0 */
/* The generic sink: an ops table behind one handle, plus the bookkeeping every
 * sink shares (who to tell when a write completes, reads waiting for answers). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "internal.h"

struct pending_read {
	struct psync_read read; /* what the implementation sees; strings point into text */
	psync_read_fn cb;
	void *userdata;
	struct psync__list link;
	char text[];
};

struct psync_sink {
	const struct psync_sink_ops *ops;
	void *impl;
	psync__write_done_fn write_done;
	void *write_done_userdata;
	uint64_t writes_in_hand;
	struct psync__list reads;
};

#define HAS_OP(ops, m) (psync__has_member((ops)->sz, struct psync_sink_ops, m) && (ops)->m)

PSYNC_API int psync_sink_new(const struct psync_sink_ops *ops, void *impl, struct psync_sink **ret)
{
	struct psync_sink *s;

	if (!ops || !ret || !HAS_OP(ops, submit))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->impl = impl;
	psync__list_init(&s->reads);
	*ret = s;
	return 0;
}

PSYNC_API void psync_sink_free(struct psync_sink *sink)
{
	if (!sink)
		return;
	if (HAS_OP(sink->ops, destroy))
		sink->ops->destroy(sink->impl);
	/* The implementation is gone, so these can no longer complete. */
	while (!psync__list_empty(&sink->reads)) {
		struct psync__list *n = sink->reads.next;

		psync__list_remove(n);
		free(psync__container_of(n, struct pending_read, link));
	}
	free(sink);
}

int psync__sink_attach(struct psync_sink *sink, psync__write_done_fn fn, void *userdata)
{
	if (sink->write_done)
		return -EBUSY;
	sink->write_done = fn;
	sink->write_done_userdata = userdata;
	return 0;
}

int psync__sink_submit(struct psync_sink *sink, const struct psync_write *w)
{
	int r = sink->ops->submit(sink->impl, w);

	if (r >= 0)
		sink->writes_in_hand++;
	return r;
}

int psync__sink_flush(struct psync_sink *sink)
{
	return HAS_OP(sink->ops, flush) ? sink->ops->flush(sink->impl) : 0;
}

uint64_t psync__sink_next_timer_ns(struct psync_sink *sink)
{
	return HAS_OP(sink->ops, next_timer_ns) ? sink->ops->next_timer_ns(sink->impl) : 0;
}

uint64_t psync__sink_in_hand(const struct psync_sink *sink)
{
	return sink->writes_in_hand + !psync__list_empty(&sink->reads);
}

uint64_t psync__sink_writes_in_hand(const struct psync_sink *sink)
{
	return sink->writes_in_hand;
}

PSYNC_API void psync_sink_write_done(struct psync_sink *sink, const struct psync_write *w,
				     int status, const char *reason)
{
	if (!sink || !w)
		return;
	if (sink->writes_in_hand > 0)
		sink->writes_in_hand--;
	if (sink->write_done)
		sink->write_done(w, status, reason, sink->write_done_userdata);
}

PSYNC_API void psync_sink_read_done(struct psync_sink *sink, const struct psync_read *r,
				    const struct psync_read_result *result)
{
	struct pending_read *pr;

	if (!sink || !r || !result)
		return;
	pr = psync__container_of(r, struct pending_read, read);
	psync__list_remove(&pr->link);
	pr->cb(&pr->read, result, pr->userdata);
	free(pr);
}

/* Copies s into *cursor and advances it; NULL stays NULL. */
static const char *copy_string(char **cursor, const char *s)
{
	char *dst = *cursor;
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	memcpy(dst, s, len);
	*cursor += len;
	return dst;
}

static size_t string_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static struct pending_read *pending_read_new(const struct psync_read *r)
{
	size_t text = string_size(r->db) + string_size(r->table) + string_size(r->key) +
		      string_size(r->field);
	struct pending_read *pr = calloc(1, sizeof(*pr) + text);
	char *cursor;

	if (!pr)
		return NULL;
	cursor = pr->text;
	pr->read.op = r->op;
	pr->read.db = copy_string(&cursor, r->db);
	pr->read.table = copy_string(&cursor, r->table);
	pr->read.key = copy_string(&cursor, r->key);
	pr->read.field = copy_string(&cursor, r->field);
	psync__list_init(&pr->link);
	return pr;
}

static int read_is_valid(const struct psync_read *r)
{
	if (!r->db || !r->table)
		return 0;
	switch (r->op) {
	case PSYNC_READ_HGETALL:
	case PSYNC_READ_EXISTS:
		return r->key != NULL;
	case PSYNC_READ_HGET:
		return r->key && r->field;
	case PSYNC_READ_SCAN:
		return 1;
	}
	return 0;
}

PSYNC_API int psync_sink_read(struct psync_sink *sink, const struct psync_read *r,
			      psync_read_fn cb, void *userdata)
{
	struct pending_read *pr;
	int ret;

	if (!sink || !r || !cb || !read_is_valid(r))
		return -EINVAL;
	if (!HAS_OP(sink->ops, read))
		return -EOPNOTSUPP;
	pr = pending_read_new(r);
	if (!pr)
		return -ENOMEM;
	pr->cb = cb;
	pr->userdata = userdata;
	psync__list_append(&sink->reads, &pr->link);
	ret = sink->ops->read(sink->impl, &pr->read);
	if (ret < 0) {
		psync__list_remove(&pr->link);
		free(pr);
	}
	return ret < 0 ? ret : 0;
}

PSYNC_API int psync_sink_get_fd(struct psync_sink *sink)
{
	if (!sink)
		return -EINVAL;
	return HAS_OP(sink->ops, get_fd) ? sink->ops->get_fd(sink->impl) : -1;
}

PSYNC_API short psync_sink_get_events(struct psync_sink *sink)
{
	if (!sink)
		return 0;
	return HAS_OP(sink->ops, get_events) ? sink->ops->get_events(sink->impl) : POLLIN;
}

PSYNC_API int psync_sink_dispatch(struct psync_sink *sink)
{
	if (!sink)
		return -EINVAL;
	return HAS_OP(sink->ops, dispatch) ? sink->ops->dispatch(sink->impl) : 0;
}

PSYNC_API uint64_t psync_sink_get_store_generation(struct psync_sink *sink)
{
	if (!sink || !HAS_OP(sink->ops, get_store_generation))
		return 0;
	return sink->ops->get_store_generation(sink->impl);
}

PSYNC_API int psync_sink_get_status(struct psync_sink *sink, struct psync_sink_status *st)
{
	size_t sz;

	if (!sink || !st || st->sz < sizeof(st->sz))
		return -EINVAL;
	sz = st->sz;
	memset(st, 0, sz);
	st->sz = sz;
	if (HAS_OP(sink->ops, get_status)) {
		sink->ops->get_status(sink->impl, st);
		st->sz = sz;
	} else if (psync__has_member(sz, struct psync_sink_status, connected)) {
		st->connected = 1;
	}
	if (psync__has_member(sz, struct psync_sink_status, in_flight))
		st->in_flight = sink->writes_in_hand;
	return 0;
}

PSYNC_API const char *psync_sink_get_name(const struct psync_sink *sink)
{
	if (!sink || !HAS_OP(sink->ops, name))
		return "sink";
	return sink->ops->name;
}

PSYNC_API void *psync_sink_get_impl(const struct psync_sink *sink)
{
	return sink ? sink->impl : NULL;
}

/* Milliseconds poll may sleep before the sink's next timer, capped by the deadline. */
static int wait_slice_ms(struct psync_sink *sink, uint64_t deadline)
{
	uint64_t now = psync__now_ns(), until = deadline, timer = psync__sink_next_timer_ns(sink);

	if (timer && timer < until)
		until = timer;
	if (until <= now)
		return 0;
	return (int)((until - now + PSYNC__NS_PER_MS - 1) / PSYNC__NS_PER_MS);
}

static int nothing_in_hand(const struct psync_sink *sink, void *userdata)
{
	(void)userdata;
	return psync__sink_in_hand(sink) == 0;
}

PSYNC_API int psync_sink_wait(struct psync_sink *sink, int timeout_ms)
{
	return psync__sink_wait_until(sink, timeout_ms, nothing_in_hand, NULL);
}

int psync__sink_wait_until(struct psync_sink *sink, int timeout_ms,
			   int (*done)(const struct psync_sink *sink, void *userdata), void *userdata)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
					   : psync__now_ns() + (uint64_t)timeout_ms * PSYNC__NS_PER_MS;
	int r;

	if (!sink)
		return -EINVAL;
	for (;;) {
		struct pollfd pfd = { .fd = psync_sink_get_fd(sink), .events = psync_sink_get_events(sink) };

		r = psync__sink_flush(sink);
		if (r >= 0)
			r = psync_sink_dispatch(sink);
		if (r < 0)
			return r;
		if (done(sink, userdata))
			return 0;
		if (psync__now_ns() >= deadline)
			return -ETIMEDOUT;
		/* A sink without an fd completes from flush/dispatch: just pace the loop. */
		if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, pfd.fd >= 0 ? wait_slice_ms(sink, deadline) : 1) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}

const struct psync_sink_ops *psync__sink_get_ops(const struct psync_sink *sink)
{
	return sink->ops;
}

PSYNC_API const char *psync_write_op_to_string(enum psync_write_op op)
{
	switch (op) {
	case PSYNC_WRITE_SET:
		return "set";
	case PSYNC_WRITE_DEL:
		return "del";
	case PSYNC_WRITE_PRODUCER_SET:
		return "producer_set";
	case PSYNC_WRITE_PRODUCER_DEL:
		return "producer_del";
	}
	return NULL;
}

int psync__status_is_transient(int status)
{
	switch (-status) {
	case ENOTCONN:
	case ECONNRESET:
	case EPIPE:
	case EAGAIN:
	case ETIMEDOUT:
	case EBUSY:
	case ENOMEM:
	case EIO:
	case EACCES: /* NOAUTH: a password was set or changed; an operator will fix it */
		return 1;
	}
	return 0;
}

int psync__status_is_connection_loss(int status)
{
	return status == -ECONNRESET || status == -ENOTCONN || status == -EPIPE;
}
