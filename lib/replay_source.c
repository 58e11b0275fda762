/* SPDX-License-Identifier: Apache-2.0 */
/* The replay source: recorded or generated events behind the live-source interface. */
#include <errno.h>
#include <linux/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "internal.h"

struct replay {
	struct psync_link_event *events; /* recorded: all of them; generated: NULL */
	uint64_t n_events;
	uint64_t next;
	/* fd: an epoll of efd, readable while an event is due now (synchronous:
	 * no wakeup to wait for), and tfd, readable when a paced one falls due. */
	int fd, efd, tfd;
	uint64_t interval_ns; /* between paced events; 0: all are due at once */
	uint64_t paced_from;  /* the first paced event */
	uint64_t start_ns;    /* when it was due; 0: at the next dispatch */
	struct psync_replay_generator gen;
	char prefix[PSYNC_IFNAME_MAX];
	uint64_t rng;
	uint32_t *port_flags; /* generator: each port's current flags */
};

/* xorshift64*: small, seedable, and the same everywhere. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void generated_link(struct replay *rp, unsigned port, struct psync_link_event *ev)
{
	ev->type = PSYNC_EVENT_NEWLINK;
	ev->ifindex = port + 2; /* 1 is lo */
	ev->flags = rp->port_flags[port];
	ev->mtu = rp->gen.mtu;
	ev->operstate = (ev->flags & IFF_RUNNING) ? 6 : 2; /* IF_OPER_UP : IF_OPER_DOWN */
	ev->carrier = (ev->flags & IFF_RUNNING) ? PSYNC_CARRIER_UP : PSYNC_CARRIER_DOWN;
	ev->addr_len = 6;
	ev->addr[0] = 0x02;
	ev->addr[4] = (uint8_t)(port >> 8);
	ev->addr[5] = (uint8_t)port;
	char name[PSYNC_IFNAME_MAX + 16];

	/* The constructor made sure prefix and number fit. */
	snprintf(name, sizeof(name), "%s%u", rp->prefix, port * 4);
	psync__strlcpy(ev->ifname, name, sizeof(ev->ifname));
}

/* The generator's i-th event: the dump, its end, then random flaps. */
static void generate(struct replay *rp, uint64_t i, struct psync_link_event *ev)
{
	unsigned n_ports = rp->gen.n_ports;

	memset(ev, 0, sizeof(*ev));
	if (i < n_ports) {
		generated_link(rp, (unsigned)i, ev);
		ev->from_dump = 1;
		ev->dump_generation = 1;
	} else if (i == n_ports) {
		ev->type = PSYNC_EVENT_DUMP_DONE;
		ev->dump_generation = 1;
	} else {
		unsigned port = (unsigned)(next_random(&rp->rng) % n_ports);

		rp->port_flags[port] ^= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
		generated_link(rp, port, ev);
	}
}

static uint64_t due_ns(const struct replay *rp, uint64_t i)
{
	if (!rp->interval_ns || i < rp->paced_from)
		return 0;
	return rp->start_ns + (i - rp->paced_from) * rp->interval_ns;
}

static void signal_due(struct replay *rp, bool due)
{
	uint64_t v = 1;

	/* Neither can fail for an eventfd this small: a full counter is not. */
	if (due)
		(void)!write(rp->efd, &v, sizeof(v));
	else
		(void)!read(rp->efd, &v, sizeof(v));
}

static void set_readable(struct replay *rp)
{
	uint64_t due = rp->next < rp->n_events ? due_ns(rp, rp->next) : UINT64_MAX;
	bool now = due == 0 || (due != UINT64_MAX && due <= psync__now_ns());

	signal_due(rp, now);
	if (rp->interval_ns)
		(void)psync__timerfd_arm_at(rp->tfd, now || due == UINT64_MAX ? 0 : due); /* cannot fail */
}

static int replay_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	struct replay *rp = impl;
	struct psync_link_event gen;
	uint64_t now = psync__now_ns();
	int n = 0, r = 0;

	if (rp->interval_ns && !rp->start_ns)
		rp->start_ns = now;
	while (rp->next < rp->n_events && (unsigned)n < budget && r >= 0 &&
	       due_ns(rp, rp->next) <= now) {
		struct psync_link_event *ev = rp->events ? &rp->events[rp->next] : &gen;

		if (!rp->events)
			generate(rp, rp->next, ev);
		ev->recv_ns = psync__now_ns();
		rp->next++;
		n++;
		r = emit(ev, userdata);
	}
	set_readable(rp);
	return r < 0 ? r : n;
}

static int replay_get_fd(void *impl)
{
	return ((struct replay *)impl)->fd;
}

static int replay_request_dump(void *impl)
{
	(void)impl;
	return 0;
}

static int replay_is_finished(void *impl)
{
	struct replay *rp = impl;

	return rp->next >= rp->n_events;
}

static void replay_destroy(void *impl)
{
	struct replay *rp = impl;

	if (!rp)
		return;
	if (rp->fd >= 0)
		close(rp->fd);
	if (rp->efd >= 0)
		close(rp->efd);
	if (rp->tfd >= 0)
		close(rp->tfd);
	free(rp->events);
	free(rp->port_flags);
	free(rp);
}

static const struct psync_source_ops replay_ops = {
	.sz = sizeof(struct psync_source_ops),
	.name = "replay",
	.dispatch = replay_dispatch,
	.get_fd = replay_get_fd,
	.request_dump = replay_request_dump,
	.is_finished = replay_is_finished,
	.destroy = replay_destroy,
};

static size_t digits(uint64_t n)
{
	size_t d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

static int watch(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static struct replay *replay_alloc(void)
{
	struct replay *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->fd = rp->efd = rp->tfd = -1;
	rp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rp->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	rp->fd = epoll_create1(EPOLL_CLOEXEC);
	if (rp->efd < 0 || rp->tfd < 0 || rp->fd < 0 || watch(rp->fd, rp->efd) < 0 ||
	    watch(rp->fd, rp->tfd) < 0) {
		replay_destroy(rp);
		return NULL;
	}
	return rp;
}

/* Wraps rp into a source; rp is freed on failure. */
static int replay_finish(struct replay *rp, struct psync_source **ret)
{
	int r;

	set_readable(rp);
	r = psync_source_new(&replay_ops, rp, ret);
	if (r < 0)
		replay_destroy(rp);
	return r;
}

PSYNC_API int psync_replay_source_new(const struct psync_link_event *events, size_t n,
				      struct psync_source **ret)
{
	struct replay *rp;

	if ((!events && n) || !ret)
		return -EINVAL;
	rp = replay_alloc();
	if (!rp)
		return -ENOMEM;
	rp->events = malloc(n ? n * sizeof(*events) : 1);
	if (!rp->events) {
		replay_destroy(rp);
		return -ENOMEM;
	}
	if (n)
		memcpy(rp->events, events, n * sizeof(*events));
	rp->n_events = n;
	return replay_finish(rp, ret);
}

PSYNC_API int psync_replay_source_new_generator(const struct psync_replay_generator *gen,
						struct psync_source **ret)
{
	struct replay *rp;
	const char *prefix;

	if (!gen || !ret || gen->sz < sizeof(struct psync_replay_generator) || gen->n_ports == 0)
		return -EINVAL;
	prefix = gen->prefix ? gen->prefix : "Ethernet";
	if (strlen(prefix) + digits((uint64_t)(gen->n_ports - 1) * 4) >= PSYNC_IFNAME_MAX)
		return -EINVAL;
	rp = replay_alloc();
	if (!rp)
		return -ENOMEM;
	rp->gen = *gen;
	rp->gen.mtu = gen->mtu ? gen->mtu : 9100;
	psync__strlcpy(rp->prefix, prefix, sizeof(rp->prefix));
	rp->rng = gen->seed ? gen->seed : 0x9E3779B97F4A7C15ULL;
	rp->n_events = (uint64_t)gen->n_ports + 1 + gen->n_events;
	rp->port_flags = calloc(gen->n_ports, sizeof(*rp->port_flags));
	if (!rp->port_flags) {
		replay_destroy(rp);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < gen->n_ports; i++)
		rp->port_flags[i] = IFF_UP | IFF_RUNNING | IFF_LOWER_UP | IFF_BROADCAST | IFF_MULTICAST;
	return replay_finish(rp, ret);
}

PSYNC_API int psync_replay_source_set_interval(struct psync_source *source, uint64_t interval_ns)
{
	struct replay *rp = psync_source_get_impl(source);

	if (!source || psync__source_get_ops(source) != &replay_ops)
		return -EINVAL;
	rp->interval_ns = interval_ns;
	rp->paced_from = rp->next;
	rp->start_ns = 0;
	set_readable(rp);
	return 0;
}

PSYNC_API int64_t psync_replay_source_get_emitted(struct psync_source *source)
{
	struct replay *rp = psync_source_get_impl(source);

	if (!source || psync__source_get_ops(source) != &replay_ops)
		return -EINVAL;
	return (int64_t)rp->next;
}
