/* SPDX-License-Identifier: Apache-2.0 */
/* The replies a connection waits for, in the order its commands were appended:
 * a ring that grows, so that pipelining costs no allocation per command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redis_internal.h"

#define FIFO_MIN 64

static size_t slot(const struct psync__redis_fifo *f, size_t i)
{
	return (f->head + i) & (f->cap - 1);
}

int psync__redis_fifo_reserve(struct psync__redis_fifo *f, size_t more)
{
	struct psync__redis_expect *buf;
	size_t cap = f->cap ? f->cap : FIFO_MIN;

	while (cap < f->count + more)
		cap *= 2;
	if (cap == f->cap)
		return 0;
	buf = malloc(cap * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < f->count; i++)
		buf[i] = f->buf[slot(f, i)];
	free(f->buf);
	f->buf = buf;
	f->cap = cap;
	f->head = 0;
	return 0;
}

void psync__redis_fifo_push(struct psync__redis_fifo *f, const struct psync__redis_expect *e)
{
	f->buf[slot(f, f->count++)] = *e;
}

struct psync__redis_expect *psync__redis_fifo_at(struct psync__redis_fifo *f, size_t i)
{
	return i < f->count ? &f->buf[slot(f, i)] : NULL;
}

#define FIFO_KEPT_CAP 2048

int psync__redis_fifo_pop(struct psync__redis_fifo *f, struct psync__redis_expect *ret)
{
	if (f->count == 0)
		return -ENOENT;
	*ret = f->buf[f->head];
	f->head = slot(f, 1);
	f->count--;
	/* A start-up's thousands of reads grow it once; drained, it need not
	 * stay that big for the life of the process. */
	if (f->count == 0 && f->cap > FIFO_KEPT_CAP)
		psync__redis_fifo_release(f);
	return 0;
}

void psync__redis_fifo_release(struct psync__redis_fifo *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}
