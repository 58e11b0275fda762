/* SPDX-License-Identifier: Apache-2.0 */
/* SONiC portsyncd's link handling: what each netlink event writes to STATE_DB. */
#include <errno.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "portsync_internal.h"

static const struct psync_policy_ops portsync_ops;

void psync__portsync_log(struct psync__portsync *ps, int priority, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	/* Formatting per event costs: skip it when nobody would keep the line. */
	if (!ps->opts.log || (ps->opts.log_wanted && !ps->opts.log_wanted(priority, ps->opts.userdata)))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps->opts.log(priority, msg, ps->opts.userdata);
}

struct psync__port *psync__portsync_port(struct psync__portsync *ps, const char *name)
{
	struct psync__port *port;

	HASH_FIND_STR(ps->ports, name, port);
	if (port)
		return port;
	port = calloc(1, sizeof(*port));
	if (!port)
		return NULL;
	psync__strlcpy(port->name, name, sizeof(port->name));
	psync__list_init(&port->pending);
	HASH_ADD_STR(ps->ports, name, port);
	return port;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_old_link(const struct psync__portsync *ps, uint32_t ifindex)
{
	struct psync__old_link *old;

	HASH_FIND(hh, ps->old_links, &ifindex, sizeof(ifindex), old);
	return old != NULL;
}

static int nlmsg_type(const struct psync_link_event *ev)
{
	return ev->type == PSYNC_EVENT_DELLINK ? RTM_DELLINK : RTM_NEWLINK;
}

static int log_wanted(const struct psync__portsync *ps, int priority)
{
	return ps->opts.log && (!ps->opts.log_wanted || ps->opts.log_wanted(priority, ps->opts.userdata));
}

/* SONiC's per-message line, as libnl's nl_addr2str prints the address. It is
 * SONiC's NOTICE and our DEBUG: the Publish line already says what was
 * written, and one line per event is enough at NOTICE. */
static void log_nlmsg(struct psync__portsync *ps, const struct psync_link_event *ev)
{
	char addr[3 * PSYNC_ADDR_MAX + 1] = "none";
	size_t at = 0;

	if (!log_wanted(ps, LOG_DEBUG))
		return;
	for (unsigned i = 0; i < ev->addr_len && i < PSYNC_ADDR_MAX; i++)
		at += (size_t)snprintf(addr + at, sizeof(addr) - at, "%s%02x", i ? ":" : "", ev->addr[i]);
	psync__portsync_log(ps, LOG_DEBUG,
			    "nlmsg type:%d key:%s admin:%d oper:%d addr:%s ifindex:%" PRIu32
			    " master:%" PRIu32 "%s%s flags:%" PRIu32,
			    nlmsg_type(ev), ev->ifname, !!(ev->flags & IFF_UP),
			    !!(ev->flags & IFF_RUNNING), addr, ev->ifindex, ev->master,
			    ev->kind[0] ? " type:" : "", ev->kind, ev->flags);
}

/* SONiC's rules for which link events portsyncd acts on, in its order. */
static int is_relevant(struct psync__portsync *ps, const struct psync_link_event *ev)
{
	if (!has_prefix(ev->ifname, "Ethernet") && !has_prefix(ev->ifname, "PortChannel"))
		return 0;
	log_nlmsg(ps, ev);
	if (strcmp(ev->kind, "team") == 0)
		return 0; /* teamsyncd's */
	if (ev->type == PSYNC_EVENT_DELLINK && ev->master)
		return 0; /* leaving a bridge or LAG, not going away */
	if (!is_old_link(ps, ev->ifindex))
		return 1;
	psync__portsync_log(ps, LOG_INFO, "nlmsg type:%d Ignoring message for old interface %s(%" PRIu32 ")",
			    nlmsg_type(ev), ev->ifname, ev->ifindex);
	return 0;
}

static void maybe_port_init_done(struct psync__portsync *ps, struct psync_pipeline *p)
{
	struct psync_field lanes = { "lanes", "0" };
	struct psync_write w = { .op = PSYNC_WRITE_PRODUCER_SET, .db = PSYNC__APPL_DB,
				 .table = PSYNC__PORT_TABLE, .key = "PortInitDone",
				 .fields = &lanes, .n_fields = 1 };

	if (ps->st.port_init_done || !ps->first_batch_seen || ps->st.waiting)
		return;
	if (psync_pipeline_write(p, &w) < 0)
		return; /* out of memory: the next batch tries again */
	ps->st.port_init_done = 1;
	psync__portsync_log(ps, LOG_NOTICE, "PortInitDone");
}

static int publish(struct psync__portsync *ps, struct psync_pipeline *p, struct psync__port *port,
		   const struct psync_link_event *ev)
{
	const char *oper = (ev->flags & IFF_RUNNING) ? "up" : "down";
	char mtu[24], changes[24];
	struct psync_field f[5] = {
		{ "state", "ok" },
		{ "netdev_oper_status", oper },
		{ "admin_status", (ev->flags & IFF_UP) ? "up" : "down" },
		{ "mtu", mtu },
		{ "carrier_changes", changes },
	};
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = PSYNC__STATE_DB,
				 .table = PSYNC__PORT_TABLE, .key = port->name, .fields = f,
				 .n_fields = 4, .origin_ns = ev->recv_ns };
	int r;

	psync__u64_to_dec(mtu, ev->mtu);
	if (ev->has_carrier_changes && ps->opts.carrier_changes) {
		psync__u64_to_dec(changes, ev->carrier_changes);
		w.n_fields = 5;
	}
	r = psync_pipeline_write(p, &w);
	if (r < 0)
		return r;
	ps->st.published++;
	port->published = 1;
	if (port->waiting) {
		port->waiting = 0;
		ps->st.waiting--;
	}
	psync__portsync_log(ps, LOG_NOTICE, "Publish %s(ok:%s) to state db", port->name, oper);
	return 0;
}

static int unpublish(struct psync__portsync *ps, struct psync_pipeline *p, struct psync__port *port,
		     uint64_t origin_ns)
{
	struct psync_write w = { .op = PSYNC_WRITE_DEL, .db = PSYNC__STATE_DB,
				 .table = PSYNC__PORT_TABLE, .key = port->name, .origin_ns = origin_ns };
	int r = psync_pipeline_write(p, &w);

	if (r < 0)
		return r;
	ps->st.deleted++;
	port->published = 0;
	psync__portsync_log(ps, LOG_NOTICE, "Delete %s(ok) from state db", port->name);
	return 0;
}

/* Applies one event to a port whose APPL_DB state is known (or irrelevant). */
static int apply(struct psync__portsync *ps, struct psync_pipeline *p, struct psync__port *port,
		 const struct psync_link_event *ev)
{
	if (ev->type == PSYNC_EVENT_DELLINK) {
		/* The entry may go with the netdev (port breakout): ask again next time. */
		port->known = 0;
		return unpublish(ps, p, port, ev->recv_ns);
	}
	if (port->known)
		return publish(ps, p, port, ev);
	psync__portsync_log(ps, LOG_NOTICE, "Cannot find %s in port table", port->name);
	return 0;
}

static int check_appl_db(struct psync__portsync *ps, struct psync_pipeline *p, struct psync__port *port);

/* Applies the held events with the answer just received. A DELLINK makes that
 * answer stale for what follows it: the rest wait for a fresh check. */
static void drain_pending(struct psync__portsync *ps, struct psync_pipeline *p,
			  struct psync__port *port)
{
	while (!psync__list_empty(&port->pending)) {
		struct psync__pending_event *pe =
			psync__container_of(port->pending.next, struct psync__pending_event, link);
		int was_del = pe->ev.type == PSYNC_EVENT_DELLINK;

		psync__list_remove(&pe->link);
		apply(ps, p, port, &pe->ev);
		free(pe);
		if (was_del && !psync__list_empty(&port->pending)) {
			if (check_appl_db(ps, p, port) < 0)
				ps->recheck_needed = 1; /* the batch end retries */
			return;
		}
	}
}

struct appl_check {
	struct psync__portsync *ps;
	struct psync_pipeline *p;
	struct psync__port *port;
};

static void on_appl_answer(const struct psync_read *r, const struct psync_read_result *res,
			   void *userdata)
{
	struct appl_check *c = userdata;
	struct psync__port *port = c->port;

	(void)r;
	port->checking = 0;
	if (res->status < 0) {
		/* Events stay held; the next batch end asks again. */
		c->ps->recheck_needed = 1;
		psync__portsync_log(c->ps, LOG_WARNING, "Cannot read APPL_DB PORT_TABLE %s: %s",
				    port->name, strerror(-res->status));
	} else {
		port->known = res->exists;
		drain_pending(c->ps, c->p, port);
		maybe_port_init_done(c->ps, c->p);
	}
	free(c);
}

static int check_appl_db(struct psync__portsync *ps, struct psync_pipeline *p, struct psync__port *port)
{
	struct psync_read r = { .op = PSYNC_READ_EXISTS, .db = PSYNC__APPL_DB,
				.table = PSYNC__PORT_TABLE, .key = port->name };
	struct appl_check *c = malloc(sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	*c = (struct appl_check){ ps, p, port };
	ret = psync_pipeline_read(p, &r, on_appl_answer, c);
	if (ret < 0) {
		free(c);
		return ret;
	}
	port->checking = 1;
	ps->st.appl_checks++;
	return 0;
}

static int hold(struct psync__port *port, const struct psync_link_event *ev)
{
	struct psync__pending_event *pe = malloc(sizeof(*pe));

	if (!pe)
		return -ENOMEM;
	pe->ev = *ev;
	psync__list_append(&port->pending, &pe->link);
	return PSYNC_POLICY_DEFERRED;
}

static int on_link(struct psync__portsync *ps, struct psync_pipeline *p, const struct psync_link_event *ev)
{
	struct psync__port *port;
	int r;

	if (!is_relevant(ps, ev))
		return 0;
	port = psync__portsync_port(ps, ev->ifname);
	if (!port)
		return -ENOMEM;
	if (ev->type == PSYNC_EVENT_NEWLINK)
		port->generation = ev->dump_generation;
	if (!psync__list_empty(&port->pending) || port->checking)
		return hold(port, ev); /* behind the events already waiting */
	if (port->known || ev->type == PSYNC_EVENT_DELLINK)
		return apply(ps, p, port, ev);
	r = check_appl_db(ps, p, port);
	if (r < 0)
		ps->recheck_needed = 1; /* held anyway: the batch end asks again */
	return hold(port, ev);
}

/* After an overrun, at the end of dump G: a port whose last NEWLINK is older
 * than G was not in the dump, so it vanished while events were being lost.
 * (Backlog read after the overrun carries older generations: it cannot vouch.) */
static void reconcile(struct psync__portsync *ps, struct psync_pipeline *p, uint32_t generation)
{
	struct psync__port *port, *tmp;

	HASH_ITER(hh, ps->ports, port, tmp) {
		if (port->published && port->generation < generation &&
		    psync__list_empty(&port->pending) && unpublish(ps, p, port, 0) == 0)
			ps->st.reconciled++;
	}
	ps->resync_pending = 0;
}

static void on_overrun(struct psync__portsync *ps, const struct psync_link_event *ev)
{
	psync__portsync_log(ps, LOG_WARNING, "netlink overrun: events were lost, resynchronizing");
	ps->resync_pending = 1;
	ps->resync_generation = ev->dump_generation;
}

static int portsync_on_event(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev)
{
	struct psync__portsync *ps = impl;

	switch (ev->type) {
	case PSYNC_EVENT_NEWLINK:
	case PSYNC_EVENT_DELLINK:
		return on_link(ps, p, ev);
	case PSYNC_EVENT_OVERRUN:
		on_overrun(ps, ev);
		return 0;
	case PSYNC_EVENT_DUMP_DONE:
		if (ps->resync_pending && ev->dump_generation >= ps->resync_generation)
			reconcile(ps, p, ev->dump_generation);
		return 0;
	}
	return 0;
}

/* Ports whose check failed get asked again, once per batch. The scan only
 * runs after a failure: it is O(ports), too much for every batch. */
static void recheck_held(struct psync__portsync *ps, struct psync_pipeline *p)
{
	struct psync__port *port, *tmp;

	if (!ps->recheck_needed)
		return;
	ps->recheck_needed = 0;
	HASH_ITER(hh, ps->ports, port, tmp) {
		if (!port->checking && !psync__list_empty(&port->pending) &&
		    check_appl_db(ps, p, port) < 0)
			ps->recheck_needed = 1;
	}
}

static int portsync_on_batch_end(void *impl, struct psync_pipeline *p)
{
	struct psync__portsync *ps = impl;

	ps->first_batch_seen = 1;
	recheck_held(ps, p);
	maybe_port_init_done(ps, p);
	return 0;
}

static int portsync_start(void *impl, struct psync_pipeline *p)
{
	return psync__portsync_start(impl, p, 0);
}

static void free_pending(struct psync__port *port)
{
	while (!psync__list_empty(&port->pending)) {
		struct psync__list *n = port->pending.next;

		psync__list_remove(n);
		free(psync__container_of(n, struct psync__pending_event, link));
	}
}

/* Ports stay (an APPL_DB check in flight points at its port), their state
 * goes: the fresh dump that follows says again what each link is. */
void psync__portsync_forget_store(struct psync__portsync *ps)
{
	for (struct psync__port *port = ps->ports; port; port = port->hh.next) {
		free_pending(port);
		port->known = 0;
		port->waiting = 0;
		port->published = 0;
	}
	ps->st.waiting = 0;
	ps->st.warm = 0;
	ps->st.port_init_done = 0;
	ps->first_batch_seen = 0;
	ps->recheck_needed = 0;
	ps->resync_pending = 0;
}

/* Redis came back empty: start-up as a fresh process would run it against
 * this Redis, then a fresh dump for STATE_DB, then PortInitDone again. */
static int portsync_on_store_reset(void *impl, struct psync_pipeline *p)
{
	struct psync__portsync *ps = impl;
	int r;

	psync__portsync_log(ps, LOG_WARNING, "Redis came back without its data (a new server): "
			    "running start-up again");
	psync__portsync_forget_store(ps);
	r = psync__portsync_start(ps, p, 1);
	if (r == 0)
		r = psync_pipeline_request_dump(p);
	return r == -EOPNOTSUPP ? 0 : r;
}

static void portsync_destroy(void *impl)
{
	struct psync__portsync *ps = impl;
	struct psync__port *port, *ptmp;
	struct psync__old_link *old, *otmp;

	HASH_ITER(hh, ps->ports, port, ptmp) {
		free_pending(port);
		HASH_DEL(ps->ports, port);
		free(port);
	}
	HASH_ITER(hh, ps->old_links, old, otmp) {
		HASH_DEL(ps->old_links, old);
		free(old);
	}
	free(ps->existing);
	free(ps);
}

static const struct psync_policy_ops portsync_ops = {
	.sz = sizeof(struct psync_policy_ops),
	.name = "portsync",
	.start = portsync_start,
	.on_event = portsync_on_event,
	.on_batch_end = portsync_on_batch_end,
	.destroy = portsync_destroy,
	.on_store_reset = portsync_on_store_reset,
};

/* log_wanted is the first member a caller may lack. */
static int options_valid(const struct psync_portsync_options *o)
{
	return o->sz >= offsetof(struct psync_portsync_options, log_wanted) &&
	       (!o->n_existing_links || o->existing_links);
}

PSYNC_API int psync_portsync_policy_new(const struct psync_portsync_options *opts,
					struct psync_policy **ret)
{
	struct psync__portsync *ps;
	int r;

	if (!ret || (opts && !options_valid(opts)))
		return -EINVAL;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	if (opts) /* from an older header: what it lacks stays zero */
		memcpy(&ps->opts, opts, opts->sz < sizeof(ps->opts) ? opts->sz : sizeof(ps->opts));
	if (ps->opts.start_timeout_ms <= 0)
		ps->opts.start_timeout_ms = 10000;
	if (ps->opts.n_existing_links) {
		ps->existing = calloc(ps->opts.n_existing_links, sizeof(*ps->existing));
		if (!ps->existing) {
			free(ps);
			return -ENOMEM;
		}
		memcpy(ps->existing, opts->existing_links, opts->n_existing_links * sizeof(*ps->existing));
	}
	ps->opts.existing_links = ps->existing;
	r = psync_policy_new(&portsync_ops, ps, ret);
	if (r < 0)
		portsync_destroy(ps);
	return r;
}

PSYNC_API int psync_portsync_policy_get_status(struct psync_policy *policy,
					       struct psync_portsync_status *st)
{
	struct psync__portsync *ps;
	size_t sz;

	if (!policy || !st || psync__policy_get_ops(policy) != &portsync_ops || st->sz < sizeof(st->sz))
		return -EINVAL;
	ps = psync_policy_get_impl(policy);
	ps->st.known_ports = 0;
	for (struct psync__port *port = ps->ports; port; port = port->hh.next)
		ps->st.known_ports += port->known;
	ps->st.old_links = HASH_COUNT(ps->old_links);
	sz = st->sz < sizeof(ps->st) ? st->sz : sizeof(ps->st);
	memcpy(st, &ps->st, sz);
	st->sz = sz;
	return 0;
}
