/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "refusals.h"

struct refusals {
	redisContext *c;
	pthread_t thread;
	atomic_bool stop;
	unsigned on_ms, period_ms;
};

static int set_maxmemory(redisContext *c, const char *bytes)
{
	redisReply *reply = redisCommand(c, "CONFIG SET maxmemory %s", bytes);
	int ok = reply && reply->type == REDIS_REPLY_STATUS;

	freeReplyObject(reply);
	return ok ? 0 : -EIO;
}

static void *refuse(void *arg)
{
	struct refusals *r = arg;

	while (!atomic_load(&r->stop)) {
		set_maxmemory(r->c, "1");
		bench_sleep_ms(r->on_ms);
		set_maxmemory(r->c, "0");
		bench_sleep_ms(r->period_ms - r->on_ms);
	}
	return NULL;
}

int refusals_start(const char *redis_socket, unsigned on_ms, unsigned period_ms,
		   struct refusals **ret)
{
	struct refusals *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->on_ms = on_ms;
	r->period_ms = period_ms > on_ms ? period_ms : on_ms + 1;
	r->c = redisConnectUnix(redis_socket);
	err = !r->c || r->c->err ? -ECONNREFUSED : set_maxmemory(r->c, "0");
	if (err == 0)
		err = -pthread_create(&r->thread, NULL, refuse, r);
	if (err == 0) {
		*ret = r;
		return 0;
	}
	redisFree(r->c);
	free(r);
	return err;
}

void refusals_stop(struct refusals *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	set_maxmemory(r->c, "0");
	redisFree(r->c);
	free(r);
}
