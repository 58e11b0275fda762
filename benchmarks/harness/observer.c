/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "observer.h"

#define STATE_PREFIX "__keyspace@6__:PORT_TABLE|Ethernet"
#define CONFIG_DONE "__keyspace@0__:_PORT_TABLE:PortConfigDone"
#define INIT_DONE "__keyspace@0__:_PORT_TABLE:PortInitDone"
#define MAX_SAMPLES (1u << 20)

struct observer {
	redisContext *c;
	pthread_t thread;
	int stop_pipe[2];
	unsigned ports;
	_Atomic uint64_t *sent_ns; /* per port: a change waiting for its write */
	_Atomic uint64_t state_writes;
	_Atomic uint64_t last_state_ns;
	_Atomic uint64_t config_done_ns;
	_Atomic uint64_t init_done_ns;
	pthread_mutex_t lock; /* guards samples */
	uint64_t *samples;
	size_t n_samples;
};

static void sample_add(struct observer *o, uint64_t ns)
{
	pthread_mutex_lock(&o->lock);
	if (o->n_samples < MAX_SAMPLES)
		o->samples[o->n_samples++] = ns;
	pthread_mutex_unlock(&o->lock);
}

static void on_state_write(struct observer *o, const char *port_name, uint64_t now)
{
	unsigned long number = strtoul(port_name, NULL, 10);
	unsigned port = (unsigned)(number / 4);
	uint64_t sent;

	atomic_fetch_add(&o->state_writes, 1);
	atomic_store(&o->last_state_ns, now);
	if (port >= o->ports)
		return;
	sent = atomic_exchange(&o->sent_ns[port], 0);
	if (sent && now > sent)
		sample_add(o, now - sent);
}

static void stamp_once(_Atomic uint64_t *stamp, uint64_t now)
{
	uint64_t zero = 0;

	atomic_compare_exchange_strong(stamp, &zero, now);
}

/* A pmessage is [pmessage, pattern, channel, event]. */
static void on_reply(struct observer *o, redisReply *r, uint64_t now)
{
	const char *channel;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 || strcmp(r->element[0]->str, "pmessage"))
		return;
	channel = r->element[2]->str;
	if (!strncmp(channel, STATE_PREFIX, strlen(STATE_PREFIX)))
		on_state_write(o, channel + strlen(STATE_PREFIX), now);
	else if (!strcmp(channel, CONFIG_DONE))
		stamp_once(&o->config_done_ns, now);
	else if (!strcmp(channel, INIT_DONE))
		stamp_once(&o->init_done_ns, now);
}

static void *observe(void *arg)
{
	struct observer *o = arg;
	struct pollfd fds[2] = { { .fd = o->c->fd, .events = POLLIN },
				 { .fd = o->stop_pipe[0], .events = POLLIN } };

	for (;;) {
		void *reply;
		uint64_t now;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		now = bench_now_ns();
		if (redisBufferRead(o->c) != REDIS_OK)
			break;
		while (redisGetReplyFromReader(o->c, &reply) == REDIS_OK && reply) {
			on_reply(o, reply, now);
			freeReplyObject(reply);
		}
	}
	return NULL;
}

static int subscribe(redisContext *c)
{
	redisReply *r = redisCommand(c, "CONFIG SET notify-keyspace-events Kh");
	int ok = r && r->type == REDIS_REPLY_STATUS;

	freeReplyObject(r);
	if (!ok)
		return -EIO;
	r = redisCommand(c, "PSUBSCRIBE __keyspace@6__:PORT_TABLE|* __keyspace@0__:_PORT_TABLE:Port*Done");
	ok = r && r->type == REDIS_REPLY_ARRAY;
	freeReplyObject(r);
	/* The second pattern's confirmation is read by the thread and ignored. */
	return ok ? 0 : -EIO;
}

int observer_start(const char *socket_path, unsigned ports, struct observer **ret)
{
	struct observer *o = calloc(1, sizeof(*o));
	int r = -ENOMEM;

	if (!o)
		return -ENOMEM;
	o->ports = ports;
	o->stop_pipe[0] = o->stop_pipe[1] = -1;
	pthread_mutex_init(&o->lock, NULL);
	o->sent_ns = calloc(ports, sizeof(*o->sent_ns));
	o->samples = malloc(MAX_SAMPLES * sizeof(*o->samples));
	o->c = redisConnectUnix(socket_path);
	if (!o->sent_ns || !o->samples || !o->c)
		goto fail;
	r = o->c->err ? -ECONNREFUSED : subscribe(o->c);
	if (r == 0 && pipe2(o->stop_pipe, O_CLOEXEC) < 0)
		r = -errno;
	if (r == 0)
		r = -pthread_create(&o->thread, NULL, observe, o);
	if (r == 0) {
		*ret = o;
		return 0;
	}
fail:
	if (o->stop_pipe[0] >= 0) {
		close(o->stop_pipe[0]);
		close(o->stop_pipe[1]);
	}
	o->stop_pipe[0] = -1;
	redisFree(o->c);
	free(o->sent_ns);
	free(o->samples);
	free(o);
	return r;
}

void observer_stop(struct observer *o)
{
	if (!o)
		return;
	if (write(o->stop_pipe[1], "x", 1) == 1)
		pthread_join(o->thread, NULL);
	close(o->stop_pipe[0]);
	close(o->stop_pipe[1]);
	redisFree(o->c);
	free(o->sent_ns);
	free(o->samples);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

void observer_mark_sent(struct observer *o, unsigned port, uint64_t sent_ns)
{
	if (port < o->ports)
		atomic_store(&o->sent_ns[port], sent_ns);
}

size_t observer_take_samples(struct observer *o, uint64_t *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&o->lock);
	n = o->n_samples < max ? o->n_samples : max;
	memcpy(out, o->samples, n * sizeof(*out));
	o->n_samples = 0;
	pthread_mutex_unlock(&o->lock);
	return n;
}

void observer_reset(struct observer *o)
{
	for (unsigned i = 0; i < o->ports; i++)
		atomic_store(&o->sent_ns[i], 0);
	atomic_store(&o->state_writes, 0);
	atomic_store(&o->last_state_ns, 0);
	atomic_store(&o->config_done_ns, 0);
	atomic_store(&o->init_done_ns, 0);
	pthread_mutex_lock(&o->lock);
	o->n_samples = 0;
	pthread_mutex_unlock(&o->lock);
}

uint64_t observer_state_writes(struct observer *o)
{
	return atomic_load(&o->state_writes);
}

uint64_t observer_last_state_ns(struct observer *o)
{
	return atomic_load(&o->last_state_ns);
}

uint64_t observer_config_done_ns(struct observer *o)
{
	return atomic_load(&o->config_done_ns);
}

uint64_t observer_init_done_ns(struct observer *o)
{
	return atomic_load(&o->init_done_ns);
}

int observer_wait_quiet(struct observer *o, unsigned quiet_ms, unsigned timeout_ms)
{
	uint64_t start = bench_now_ns(), quiet_ns = (uint64_t)quiet_ms * 1000000u;

	for (;;) {
		uint64_t now = bench_now_ns(), last = observer_last_state_ns(o);

		if (now - (last > start ? last : start) >= quiet_ns)
			return 0;
		if (now - start >= (uint64_t)timeout_ms * 1000000u)
			return -ETIMEDOUT;
		bench_sleep_ms(5);
	}
}

uint64_t observer_wait_for(struct observer *o, uint64_t (*stamp)(struct observer *),
			   unsigned timeout_ms)
{
	uint64_t start = bench_now_ns();

	while (!stamp(o)) {
		if (bench_now_ns() - start >= (uint64_t)timeout_ms * 1000000u)
			return 0;
		bench_sleep_ms(1);
	}
	return stamp(o);
}
