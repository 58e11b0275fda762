/* SPDX-License-Identifier: Apache-2.0 */
/* Replies no larger than the sink can use: the server's word on a reply's size
 * is not taken before the reply is there to back it. */
#include <errno.h>
#include <stdio.h>

#include "redis_internal.h"

static void *bounded_array(const redisReadTask *task, int elements)
{
	struct psync__redis_bound *b = task->privdata;

	if (elements > PSYNC__REDIS_MAX_ELEMENTS) {
		b->refused = elements;
		return NULL; /* the reader fails with "Out of memory" */
	}
	return b->create_array(task, elements);
}

void psync__redis_bound_replies(struct psync__redis_bound *b, redisContext *c)
{
	b->fn = *c->reader->fn;
	b->create_array = b->fn.createArray;
	b->fn.createArray = bounded_array;
	b->refused = 0;
	c->reader->fn = &b->fn;
	c->reader->privdata = b;
}

int psync__redis_bound_fail(struct psync__redis_conn *conn)
{
	char detail[80];

	if (!conn->bound.refused)
		return 0;
	snprintf(detail, sizeof(detail), "reply with %lld elements refused (at most %d)",
		 conn->bound.refused, PSYNC__REDIS_MAX_ELEMENTS);
	psync__redis_conn_fail(conn, NULL, -EMSGSIZE, "reply", detail);
	return 1;
}
