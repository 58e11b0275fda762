/* SPDX-License-Identifier: Apache-2.0 */
/* What the library's files share; nothing here is part of the API. */
#ifndef PSYNC_INTERNAL_H
#define PSYNC_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include <portsync/portsync.h>

#define PSYNC__NS_PER_SEC 1000000000ULL
#define PSYNC__NS_PER_MS 1000000ULL

#define psync__container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Does a caller-sized struct of size sz include member? */
#define psync__has_member(sz, type, member) \
	((sz) >= offsetof(type, member) + sizeof(((type *)0)->member))

static inline uint64_t psync__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PSYNC__NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Arms a CLOCK_MONOTONIC timerfd at when_ns, absolute (a time already past
 * fires at once); 0 disarms it. 0 or -errno. */
static inline int psync__timerfd_arm_at(int fd, uint64_t when_ns)
{
	struct itimerspec t = { .it_value = { .tv_sec = (time_t)(when_ns / PSYNC__NS_PER_SEC),
					      .tv_nsec = (long)(when_ns % PSYNC__NS_PER_SEC) } };

	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL) < 0 ? -errno : 0;
}

/* Copies src into dst of size n, always NUL-terminated, cut if too long. */
static inline void psync__strlcpy(char *dst, const char *src, size_t n)
{
	size_t len;

	if (n == 0)
		return;
	len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Writes v in decimal into buf (at least 21 bytes) and returns its length.
 * Per-event writes format integers: printf's machinery is a tenth of the cost. */
static inline size_t psync__u64_to_dec(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, len;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (len = 0; len < n; len++)
		buf[len] = tmp[n - 1 - len];
	buf[len] = '\0';
	return len;
}

/* An intrusive circular doubly-linked list; a head is a node pointing at itself. */
struct psync__list {
	struct psync__list *prev, *next;
};

static inline void psync__list_init(struct psync__list *head)
{
	head->prev = head->next = head;
}

static inline int psync__list_empty(const struct psync__list *head)
{
	return head->next == head;
}

static inline void psync__list_insert_before(struct psync__list *pos, struct psync__list *node)
{
	node->next = pos;
	node->prev = pos->prev;
	pos->prev->next = node;
	pos->prev = node;
}

static inline void psync__list_append(struct psync__list *head, struct psync__list *node)
{
	psync__list_insert_before(head, node);
}

static inline void psync__list_remove(struct psync__list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->prev = node->next = node;
}

/* Lets a backend recognise its own sources and sinks. */
const struct psync_source_ops *psync__source_get_ops(const struct psync_source *source);
const struct psync_sink_ops *psync__sink_get_ops(const struct psync_sink *sink);
const struct psync_policy_ops *psync__policy_get_ops(const struct psync_policy *policy);

/* Called by psync_sink_write_done for the sink's owner (the pipeline). */
typedef void (*psync__write_done_fn)(const struct psync_write *w, int status,
				     const char *reason, void *userdata);

int psync__sink_attach(struct psync_sink *sink, psync__write_done_fn fn, void *userdata);
int psync__sink_submit(struct psync_sink *sink, const struct psync_write *w);
int psync__sink_flush(struct psync_sink *sink);
uint64_t psync__sink_next_timer_ns(struct psync_sink *sink);
uint64_t psync__sink_in_hand(const struct psync_sink *sink);
uint64_t psync__sink_writes_in_hand(const struct psync_sink *sink);
/* psync_sink_wait, but until done(sink, userdata) is true rather than until
 * nothing is in hand: 0 then, or as psync_sink_wait. */
int psync__sink_wait_until(struct psync_sink *sink, int timeout_ms,
			   int (*done)(const struct psync_sink *sink, void *userdata), void *userdata);

/* Is a write failing with this status worth trying again? */
int psync__status_is_transient(int status);
/* The write was lost with its connection, not refused. */
int psync__status_is_connection_loss(int status);

/* The built-in policy ops for the event-marker bookkeeping of psync_pipeline. */
int psync__policy_start(struct psync_policy *policy, struct psync_pipeline *p);
int psync__policy_on_event(struct psync_policy *policy, struct psync_pipeline *p,
			   const struct psync_link_event *ev);
int psync__policy_on_batch_end(struct psync_policy *policy, struct psync_pipeline *p);
int psync__policy_on_store_reset(struct psync_policy *policy, struct psync_pipeline *p);
int psync__policy_rewrites_on_store_reset(const struct psync_policy *policy);
/* For policies that read and write during start-up: the store was reset (its
 * generation is no longer the pipeline's); takes the new generation and, when
 * the policy rewrites on a reset, drops the writes still queued. 1 when it
 * was reset, 0 when not. */
int psync__pipeline_take_store_reset(struct psync_pipeline *p);

/* SONiC's standard databases (sonic_databases.c). */
struct psync__sonic_db {
	const char *name;
	int id;
	const char *separator;
};
/* The i-th standard database, NULL past the last. */
const struct psync__sonic_db *psync__sonic_db(size_t i);
/* SONiC's separator for a database name: ':' for APPL_DB and the like, '|' for
 * CONFIG_DB, STATE_DB and any database it does not know. */
const char *psync__default_separator(const char *db);

#endif
