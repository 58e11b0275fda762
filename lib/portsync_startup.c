/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portsyncd's start-up: warm-restart detection, CONFIG_DB ports into APPL_DB,
 * PortConfigDone, pruning and old interfaces. Each step sends its reads a
 * slice of ports at a time, each slice in one go, and waits once per slice
 * for the answers: a handful of round trips in all, not one per port, and
 * memory bounded by the slice, not by the number of ports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "portsync_internal.h"

/* One configured port and what start-up learns about it. */
struct config_port {
	struct startup *s;
	char *name;
	struct psync_field *fields; /* names cut at '@', owned */
	size_t n_fields;
	int fields_in;        /* its HGETALL answered (or failed) */
	int vanished;         /* gone between SCAN and HGETALL */
	int has_admin_status; /* APPL_DB PORT_TABLE entry from an earlier life */
};

/* A single value read with HGET. */
struct hget_slot {
	struct startup *s;
	char *value; /* NULL when absent */
};

struct startup {
	struct psync__portsync *ps;
	struct psync_pipeline *p;
	struct hget_slot enable_system, enable_swss, restore_count, switch_type;
	struct config_port *ports;
	size_t n_ports;
	size_t answers_due; /* reads of ports (HGETALL, HGET) not yet answered */
	size_t slice;       /* the first port of the slice being waited for */
	int error;
	int again;     /* for a store that lost its data, not at process start */
	char what[96]; /* the read that failed */
};

static void read_failed(struct startup *s, const struct psync_read *r, int status)
{
	if (s->error)
		return;
	s->error = status;
	snprintf(s->what, sizeof(s->what), "%s %s%s%s", r->db, r->table, r->key ? " " : "",
		 r->key ? r->key : "");
}

static void on_hget(const struct psync_read *r, const struct psync_read_result *res, void *userdata)
{
	struct hget_slot *slot = userdata;

	if (res->status < 0)
		read_failed(slot->s, r, res->status);
	else if (res->value && !(slot->value = strdup(res->value)))
		read_failed(slot->s, r, -ENOMEM);
}

static int hget(struct startup *s, const char *db, const char *table, const char *key,
		const char *field, struct hget_slot *slot)
{
	struct psync_read r = { PSYNC_READ_HGET, db, table, key, field };

	slot->s = s;
	return psync_pipeline_read(s->p, &r, on_hget, slot);
}

typedef int (*answered_fn)(const struct psync_sink *sink, void *userdata);

/* Sends nothing: waits until answered says so. Answers that span a store
 * reset mix two servers: -ESTALE, and start-up begins anew. Reads still due
 * then are waited out: their callbacks hold this start-up, which is freed. */
static int wait_until(struct startup *s, answered_fn answered)
{
	struct psync_sink *sink = psync_pipeline_get_sink(s->p);
	int r = psync__sink_wait_until(sink, s->ps->opts.start_timeout_ms, answered, s);
	int reset = psync__pipeline_take_store_reset(s->p);

	if ((reset || (r == 0 && s->error)) && s->answers_due) {
		psync_sink_wait(sink, s->ps->opts.start_timeout_ms);
		reset |= psync__pipeline_take_store_reset(s->p);
	}
	if (reset) {
		psync__portsync_log(s->ps, LOG_WARNING, "start-up: Redis came back without its data "
				    "(a new server): start-up begins again");
		return -ESTALE;
	}
	if (r == -ETIMEDOUT)
		psync__portsync_log(s->ps, LOG_ERR, "start-up: no answer from the store within %d ms",
				    s->ps->opts.start_timeout_ms);
	else if (r < 0)
		psync__portsync_log(s->ps, LOG_ERR, "start-up: store unreachable: %s", strerror(-r));
	if (r == 0 && s->error) {
		psync__portsync_log(s->ps, LOG_ERR, "start-up: reading %s failed: %s", s->what,
				    strerror(-s->error));
		r = s->error;
	}
	return r;
}

static int all_answered(const struct psync_sink *sink, void *userdata)
{
	(void)userdata;
	return psync__sink_in_hand(sink) == 0;
}

/* Waits for the answers to everything already asked, writes included. */
static int wait_answers(struct startup *s)
{
	return wait_until(s, all_answered);
}

static int natural_order(const void *a, const void *b)
{
	return strverscmp(((const struct config_port *)a)->name, ((const struct config_port *)b)->name);
}

static void on_port_keys(const struct psync_read *r, const struct psync_read_result *res, void *userdata)
{
	struct startup *s = userdata;

	if (res->status < 0) {
		read_failed(s, r, res->status);
		return;
	}
	s->ports = calloc(res->n_keys ? res->n_keys : 1, sizeof(*s->ports));
	if (!s->ports) {
		read_failed(s, r, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < res->n_keys; i++) {
		s->ports[i].s = s;
		s->ports[i].name = strdup(res->keys[i]);
		if (!s->ports[i].name)
			read_failed(s, r, -ENOMEM);
	}
	s->n_ports = res->n_keys;
	if (!s->error)
		qsort(s->ports, s->n_ports, sizeof(*s->ports), natural_order);
}

/* Step 1: warm-restart flags, switch type and the names of the configured ports. */
static int read_settings(struct startup *s)
{
	struct psync_read scan = { PSYNC_READ_SCAN, PSYNC__CONFIG_DB, "PORT", NULL, NULL };
	int r;

	psync__portsync_log(s->ps, LOG_NOTICE, "Getting port configuration from ConfigDB...");
	r = hget(s, PSYNC__STATE_DB, "WARM_RESTART_ENABLE_TABLE", "system", "enable", &s->enable_system);
	if (r == 0)
		r = hget(s, PSYNC__STATE_DB, "WARM_RESTART_ENABLE_TABLE", "swss", "enable", &s->enable_swss);
	if (r == 0)
		r = hget(s, PSYNC__STATE_DB, "WARM_RESTART_TABLE", "portsyncd", "restore_count",
			 &s->restore_count);
	if (r == 0)
		r = hget(s, PSYNC__CONFIG_DB, "DEVICE_METADATA", "localhost", "switch_type",
			 &s->switch_type);
	if (r == 0)
		r = psync_pipeline_read(s->p, &scan, on_port_keys, s);
	return r < 0 ? r : wait_answers(s);
}

static int write_restore_count(struct startup *s, unsigned long count)
{
	char value[24];
	struct psync_field f = { "restore_count", value };
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = PSYNC__STATE_DB,
				 .table = "WARM_RESTART_TABLE", .key = "portsyncd", .fields = &f,
				 .n_fields = 1 };

	snprintf(value, sizeof(value), "%lu", count);
	return psync_pipeline_write(s->p, &w);
}

static int parse_count(const char *text, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(text, &end, 10);
	return errno || end == text || *end || text[0] == '-' ? -EINVAL : 0;
}

/* SONiC's WarmStart::checkWarmStart for portsyncd in the swss container. */
static int decide_warm(struct startup *s)
{
	int enabled = (s->enable_system.value && strcmp(s->enable_system.value, "true") == 0) ||
		      (s->enable_swss.value && strcmp(s->enable_swss.value, "true") == 0);
	unsigned long count;

	s->ps->st.dpu = s->switch_type.value && strcmp(s->switch_type.value, "dpu") == 0;
	if (!enabled)
		return write_restore_count(s, 0);
	if (!s->restore_count.value || parse_count(s->restore_count.value, &count) < 0) {
		psync__portsync_log(s->ps, LOG_WARNING,
				    "portsyncd doing warm start, but restore_count %s in stateDB "
				    "WARM_RESTART_TABLE table, fall back to cold start",
				    s->restore_count.value ? "is not a number" : "not found");
		return write_restore_count(s, 0);
	}
	s->ps->st.warm = 1;
	psync__portsync_log(s->ps, LOG_NOTICE, "portsyncd doing warm start, restore count %lu", count + 1);
	return write_restore_count(s, count + 1);
}

/* The fields with their names cut at '@' (CONFIG_DB marks list fields
 * "name@": APPL_DB wants the bare name), in one allocation: the array, then
 * the strings. */
static struct psync_field *copy_fields(const struct psync_field *from, size_t n)
{
	size_t size = (n ? n : 1) * sizeof(*from);
	struct psync_field *to;
	char *at;

	for (size_t i = 0; i < n; i++)
		size += strlen(from[i].name) + strlen(from[i].value) + 2;
	to = malloc(size);
	if (!to)
		return NULL;
	at = (char *)(to + (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		size_t name = strcspn(from[i].name, "@"), value = strlen(from[i].value);

		to[i].name = memcpy(at, from[i].name, name);
		at[name] = '\0';
		at += name + 1;
		to[i].value = memcpy(at, from[i].value, value + 1);
		at += value + 1;
	}
	return to;
}

static void on_port_fields(const struct psync_read *r, const struct psync_read_result *res,
			   void *userdata)
{
	struct config_port *cp = userdata;

	cp->s->answers_due--;
	cp->fields_in = 1;
	if (res->status < 0) {
		read_failed(cp->s, r, res->status);
		return;
	}
	cp->vanished = !res->exists || res->n_fields == 0;
	cp->fields = copy_fields(res->fields, res->n_fields);
	if (!cp->fields) {
		read_failed(cp->s, r, -ENOMEM);
		return;
	}
	cp->n_fields = res->n_fields;
}

static int producer_set(struct startup *s, const char *key, const struct psync_field *f, size_t n)
{
	struct psync_write w = { .op = PSYNC_WRITE_PRODUCER_SET, .db = PSYNC__APPL_DB,
				 .table = PSYNC__PORT_TABLE, .key = key, .fields = f, .n_fields = n };

	return psync_pipeline_write(s->p, &w);
}

/*
 * Ports read, announced or pruned at once. Each port in flight holds its
 * fields, its reply, its command and its queued write (about 2 kB): 10,000 at
 * once made start-up's peak 16 MB. Slices overlap (some are read while those
 * before are written), so their number costs little time; a small one gets
 * Redis running the first producer sets early, and 128 keeps 10,000 ports to
 * 79 rounds and the peak within 1 MB of the steady state.
 */
#define SLICE_PORTS 128

static size_t slice_end(const struct startup *s, size_t start)
{
	return start + SLICE_PORTS < s->n_ports ? start + SLICE_PORTS : s->n_ports;
}

static int read_slice(struct startup *s, size_t start)
{
	int r = 0;

	for (size_t i = start; i < slice_end(s, start) && r == 0; i++) {
		struct psync_read rd = { PSYNC_READ_HGETALL, PSYNC__CONFIG_DB, "PORT", s->ports[i].name, NULL };

		r = psync_pipeline_read(s->p, &rd, on_port_fields, &s->ports[i]);
		s->answers_due += r == 0;
	}
	return r;
}

/* Slices whose fields are asked for before the slice before them is
 * announced: Redis then holds the writes of two slices while portsyncd wakes
 * up, takes a slice's answers and encodes it, so that a late wakeup on a busy
 * machine does not leave it idle. */
#define SLICES_AHEAD 2

/* The slice's fields are in, and at most the two slices before it are still
 * being written (in order, Redis has run the ones before those already). */
static int slice_answered(const struct psync_sink *sink, void *userdata)
{
	const struct startup *s = userdata;

	for (size_t i = s->slice; i < slice_end(s, s->slice); i++)
		if (!s->ports[i].fields_in)
			return 0;
	return psync__sink_writes_in_hand(sink) <= SLICES_AHEAD * SLICE_PORTS;
}

static void free_fields(struct config_port *cp)
{
	free(cp->fields);
	cp->fields = NULL;
	cp->n_fields = 0;
}

/* The slice's ports into APPL_DB; their fields are not needed after. */
static int announce_slice(struct startup *s, size_t start, size_t *written)
{
	int r = 0;

	for (size_t i = start; i < slice_end(s, start) && r == 0; i++) {
		if (!s->ports[i].vanished) {
			r = producer_set(s, s->ports[i].name, s->ports[i].fields, s->ports[i].n_fields);
			(*written)++;
		}
		free_fields(&s->ports[i]);
	}
	return r;
}

/* Step 2 (cold): every CONFIG_DB port into APPL_DB, then PortConfigDone. The
 * slices ahead are asked for before this one is announced, so that their
 * answers come back while Redis runs the writes before, and this one is
 * announced without waiting for those writes: Redis, the bottleneck, is not
 * left without work. */
static int copy_config_ports(struct startup *s)
{
	char count[24];
	struct psync_field done = { "count", count };
	size_t written = 0;
	int r = 0;

	for (size_t k = 0; k < SLICES_AHEAD && r == 0; k++)
		r = read_slice(s, k * SLICE_PORTS);
	for (size_t start = 0; start < s->n_ports && r == 0; start += SLICE_PORTS) {
		s->slice = start;
		r = wait_until(s, slice_answered);
		if (r == 0)
			r = read_slice(s, start + SLICES_AHEAD * SLICE_PORTS);
		if (r == 0)
			r = announce_slice(s, start, &written);
	}
	snprintf(count, sizeof(count), "%zu", written);
	return r < 0 ? r : producer_set(s, "PortConfigDone", &done, 1);
}

static void on_admin_status(const struct psync_read *r, const struct psync_read_result *res,
			    void *userdata)
{
	struct config_port *cp = userdata;

	cp->s->answers_due--;
	if (res->status < 0)
		read_failed(cp->s, r, res->status);
	else
		cp->has_admin_status = res->exists;
}

static int ask_admin_status(struct startup *s, size_t start)
{
	int r = 0;

	for (size_t i = start; i < slice_end(s, start) && r == 0; i++) {
		struct psync_read rd = { PSYNC_READ_HGET, PSYNC__APPL_DB, PSYNC__PORT_TABLE,
					 s->ports[i].name, "admin_status" };

		r = psync_pipeline_read(s->p, &rd, on_admin_status, &s->ports[i]);
		s->answers_due += r == 0;
	}
	return r;
}

/* All but the newest slice answered. */
static int slice_before_answered(const struct psync_sink *sink, void *userdata)
{
	(void)sink;
	return ((const struct startup *)userdata)->answers_due <= SLICE_PORTS;
}

/* Step 3 (cold): ports whose APPL_DB entry already has admin_status were made
 * in an earlier life: their netdevs are not waited for. The first slice goes
 * out behind PortConfigDone, in the same round; each next one before the
 * answers to the one before are waited for. */
static int prune_known_ports(struct startup *s)
{
	int r = 0;

	for (size_t start = 0; start < s->n_ports && r == 0; start += SLICE_PORTS) {
		r = ask_admin_status(s, start);
		if (r == 0)
			r = wait_until(s, slice_before_answered);
	}
	return r < 0 ? r : wait_answers(s);
}

static int start_waiting(struct startup *s)
{
	for (size_t i = 0; i < s->n_ports; i++) {
		struct psync__port *port;

		if (s->ports[i].vanished || s->ports[i].has_admin_status)
			continue;
		port = psync__portsync_port(s->ps, s->ports[i].name);
		if (!port)
			return -ENOMEM;
		if (!port->waiting) {
			port->waiting = 1;
			s->ps->st.waiting++;
		}
	}
	return 0;
}

/* Step 4 (cold, not a DPU): Ethernet* netdevs from before are set down, and
 * whatever the kernel says about their ifindexes is ignored from now on. */
static int retire_old_links(struct psync__portsync *ps)
{
	for (size_t i = 0; i < ps->opts.n_existing_links; i++) {
		const struct psync_portsync_link *l = &ps->opts.existing_links[i];
		struct psync__old_link *old;
		int r;

		if (strncmp(l->ifname, "Ethernet", 8) != 0)
			continue;
		HASH_FIND(hh, ps->old_links, &l->ifindex, sizeof(l->ifindex), old);
		if (old)
			continue;
		old = calloc(1, sizeof(*old));
		if (!old)
			return -ENOMEM;
		old->ifindex = l->ifindex;
		HASH_ADD(hh, ps->old_links, ifindex, sizeof(old->ifindex), old);
		psync__portsync_log(ps, LOG_INFO, "Bring down old interface %s(%" PRIu32 ")", l->ifname, l->ifindex);
		r = ps->opts.set_link_down ? ps->opts.set_link_down(l->ifindex, l->ifname, ps->opts.userdata) : 0;
		if (r < 0)
			psync__portsync_log(ps, LOG_WARNING, "Failed to bring down old interface %s(%" PRIu32 "): %s",
					    l->ifname, l->ifindex, strerror(-r));
	}
	return 0;
}

static void startup_free(struct startup *s)
{
	for (size_t i = 0; i < s->n_ports; i++) {
		free_fields(&s->ports[i]);
		free(s->ports[i].name);
	}
	free(s->ports);
	free(s->enable_system.value);
	free(s->enable_swss.value);
	free(s->restore_count.value);
	free(s->switch_type.value);
}

static int run_steps(struct startup *s)
{
	int r = read_settings(s);

	if (r == 0)
		r = decide_warm(s);
	if (r < 0)
		return r;
	s->ps->st.config_ports = s->n_ports;
	if (s->n_ports == 0)
		psync__portsync_log(s->ps, LOG_NOTICE, "ConfigDB does not have port information, "
				    "however ports can be added later on, continuing...");
	if (!s->ps->st.warm) {
		r = copy_config_ports(s);
		if (r == 0)
			r = prune_known_ports(s);
	}
	if (r == 0)
		r = start_waiting(s);
	/* Old interfaces are those of before this process: not the links it has
	 * seen since, when start-up runs again for a store that lost its data. */
	if (r == 0 && !s->again && !s->ps->st.warm && !s->ps->st.dpu)
		r = retire_old_links(s->ps);
	return r;
}

/* A store that restarts during start-up again and again is not waited out. */
#define MAX_STARTS 8

int psync__portsync_start(struct psync__portsync *ps, struct psync_pipeline *p, int again)
{
	int r = -ESTALE;

	for (int i = 0; i < MAX_STARTS && r == -ESTALE; i++) {
		struct startup s = { .ps = ps, .p = p, .again = again };

		r = run_steps(&s);
		startup_free(&s);
		if (r == -ESTALE)
			psync__portsync_forget_store(ps);
	}
	return r;
}
