/* SPDX-License-Identifier: Apache-2.0 */
/* An in-process store behind the sink contract, with fault injection for tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <uthash.h>

#include "internal.h"

struct mem_key {
	UT_hash_handle hh;
	struct psync_field *fields; /* owned strings, in first-set order */
	size_t n_fields, cap;
	char name[];
};

struct mem_db {
	UT_hash_handle hh;
	struct mem_key *keys;
	char sep[8];
	char name[];
};

/* Requests taken by submit/read, answered in order at the next flush. */
struct request_list {
	const void **v;
	size_t n, cap;
};

struct memory_sink {
	struct psync_sink *sink;
	struct psync_memory_sink_options opts;
	struct mem_db *dbs;
	struct request_list writes, reads;
	uint64_t applied, injected, seen, rng;
	psync_memory_observer_fn observer;
	void *observer_userdata;
};

static const struct psync_sink_ops memory_ops;

static struct memory_sink *memory_of(struct psync_sink *sink)
{
	if (!sink || psync__sink_get_ops(sink) != &memory_ops)
		return NULL;
	return psync_sink_get_impl(sink);
}

static int request_push(struct request_list *l, const void *req)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		const void **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = req;
	return 0;
}

static struct mem_db *db_get(struct memory_sink *m, const char *name, int create)
{
	struct mem_db *db;

	HASH_FIND_STR(m->dbs, name, db);
	if (db || !create)
		return db;
	db = calloc(1, sizeof(*db) + strlen(name) + 1);
	if (!db)
		return NULL;
	strcpy(db->name, name);
	psync__strlcpy(db->sep, psync__default_separator(name), sizeof(db->sep));
	HASH_ADD_STR(m->dbs, name, db);
	return db;
}

static void key_free(struct mem_db *db, struct mem_key *k)
{
	HASH_DEL(db->keys, k);
	for (size_t i = 0; i < k->n_fields; i++) {
		free((char *)k->fields[i].name);
		free((char *)k->fields[i].value);
	}
	free(k->fields);
	free(k);
}

static struct mem_key *key_get(struct mem_db *db, const char *name, int create)
{
	struct mem_key *k;

	HASH_FIND_STR(db->keys, name, k);
	if (k || !create)
		return k;
	k = calloc(1, sizeof(*k) + strlen(name) + 1);
	if (!k)
		return NULL;
	strcpy(k->name, name);
	HASH_ADD_STR(db->keys, name, k);
	return k;
}

/* Index of the field called name, trying hint first: writes to a key tend to
 * name their fields in the same order. -1 when absent. */
static int field_find(const struct mem_key *k, const char *name, size_t hint)
{
	if (hint < k->n_fields && strcmp(k->fields[hint].name, name) == 0)
		return (int)hint;
	for (size_t i = 0; i < k->n_fields; i++)
		if (strcmp(k->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Value buffers hold at least this much (malloc's smallest chunk holds more),
 * so that short values replace each other in place. */
#define VALUE_MIN 16

static char *value_new(const char *value)
{
	size_t len = strlen(value) + 1;
	char *v = malloc(len > VALUE_MIN ? len : VALUE_MIN);

	return v ? memcpy(v, value, len) : NULL;
}

/* A new value overwrites the old one when it fits: no allocation per write. */
static int value_replace(struct psync_field *f, const char *value)
{
	size_t len = strlen(value) + 1;
	char *v = (char *)f->value;

	if (len > VALUE_MIN && len > strlen(v) + 1) {
		v = realloc(v, len);
		if (!v)
			return -ENOMEM;
		f->value = v;
	}
	memcpy(v, value, len);
	return 0;
}

static int field_set(struct mem_key *k, const char *name, const char *value, size_t hint)
{
	int i = field_find(k, name, hint);
	char *n, *v;

	if (i >= 0)
		return value_replace(&k->fields[i], value);
	if (k->n_fields == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 4;
		struct psync_field *f = realloc(k->fields, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		k->fields = f;
		k->cap = cap;
	}
	n = strdup(name);
	v = value_new(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	k->fields[k->n_fields++] = (struct psync_field){ n, v };
	return 0;
}

/* "TABLE<sep>key" into buf when it fits, else into memory the caller frees
 * (the result is not buf). (Once per write: no printf, no malloc.) */
static char *full_key(const struct mem_db *db, const char *table, const char *key, char *buf,
		      size_t buf_len)
{
	size_t lt = strlen(table), ls = strlen(db->sep), lk = strlen(key);
	char *s = lt + ls + lk + 1 <= buf_len ? buf : malloc(lt + ls + lk + 1);

	if (!s)
		return NULL;
	memcpy(s, table, lt);
	memcpy(s + lt, db->sep, ls);
	memcpy(s + lt + ls, key, lk + 1);
	return s;
}

static int set_fields(struct mem_db *db, const char *name, const struct psync_field *f, size_t n)
{
	struct mem_key *k = key_get(db, name, 1);
	int r = 0;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		r = field_set(k, f[i].name, f[i].value, i);
	return r;
}

static void delete_key(struct mem_db *db, const char *name)
{
	struct mem_key *k = key_get(db, name, 0);

	if (k)
		key_free(db, k);
}

/* Adds member to the set stored under "<table>_<suffix>" (a hash of members). */
static int set_add(struct mem_db *db, const char *table, const char *suffix, const char *member)
{
	struct psync_field f = { member, "" };
	char *name;
	int r;

	if (asprintf(&name, "%s_%s", table, suffix) < 0)
		return -ENOMEM;
	r = set_fields(db, name, &f, 1);
	free(name);
	return r;
}

/* ProducerStateTable's layout: key set, delete set, staging hash "_TABLE<sep>key". */
static int apply_producer(struct mem_db *db, const struct psync_write *w)
{
	char *staging;
	int r = set_add(db, w->table, "KEY_SET", w->key);

	if (r < 0 || asprintf(&staging, "_%s%s%s", w->table, db->sep, w->key) < 0)
		return r < 0 ? r : -ENOMEM;
	if (w->op == PSYNC_WRITE_PRODUCER_SET) {
		r = set_fields(db, staging, w->fields, w->n_fields);
	} else {
		r = set_add(db, w->table, "DEL_SET", w->key);
		delete_key(db, staging);
	}
	free(staging);
	return r;
}

static int apply(struct memory_sink *m, const struct psync_write *w)
{
	struct mem_db *db = db_get(m, w->db, 1);
	char buf[128], *name;
	int r = 0;

	if (!db)
		return -ENOMEM;
	if (w->op == PSYNC_WRITE_PRODUCER_SET || w->op == PSYNC_WRITE_PRODUCER_DEL)
		return apply_producer(db, w);
	if (!(name = full_key(db, w->table, w->key, buf, sizeof(buf))))
		return -ENOMEM;
	if (w->op == PSYNC_WRITE_DEL)
		delete_key(db, name);
	else
		r = set_fields(db, name, w->fields, w->n_fields);
	if (name != buf)
		free(name);
	return r;
}

static int should_fail(struct memory_sink *m)
{
	uint64_t x;

	m->seen++;
	if (m->opts.fail_every && m->seen % m->opts.fail_every == 0)
		return 1;
	if (!m->opts.fail_percent)
		return 0;
	/* xorshift64: reproducible for a given seed */
	x = m->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	m->rng = x;
	return x % 100 < m->opts.fail_percent;
}

static void complete_write(struct memory_sink *m, const struct psync_write *w)
{
	int r;

	if (should_fail(m)) {
		m->injected++;
		psync_sink_write_done(m->sink, w, -EIO, "injected failure");
		return;
	}
	r = apply(m, w);
	if (r == 0) {
		m->applied++;
		if (m->observer)
			m->observer(w, m->observer_userdata);
	}
	psync_sink_write_done(m->sink, w, r, NULL);
}

static void answer_scan(struct memory_sink *m, const struct psync_read *r, struct psync_read_result *res)
{
	struct mem_db *db = db_get(m, r->db, 0);
	size_t prefix = strlen(r->table) + (db ? strlen(db->sep) : 0), n = 0;
	const char **keys = NULL;
	struct mem_key *k, *tmp;

	if (db && HASH_COUNT(db->keys)) {
		keys = malloc(HASH_COUNT(db->keys) * sizeof(*keys));
		if (!keys) {
			res->status = -ENOMEM;
			return;
		}
		HASH_ITER(hh, db->keys, k, tmp) {
			if (strncmp(k->name, r->table, strlen(r->table)) == 0 &&
			    strncmp(k->name + strlen(r->table), db->sep, strlen(db->sep)) == 0)
				keys[n++] = k->name + prefix;
		}
	}
	res->keys = keys;
	res->n_keys = n;
	psync_sink_read_done(m->sink, r, res);
	free(keys);
}

static void answer_read(struct memory_sink *m, const struct psync_read *r)
{
	struct psync_read_result res = { 0 };
	struct mem_db *db = db_get(m, r->db, 0);
	struct mem_key *k = NULL;
	char buf[128], *name;

	if (r->op == PSYNC_READ_SCAN) {
		answer_scan(m, r, &res);
		if (res.status == 0)
			return;
	} else if (db) {
		name = full_key(db, r->table, r->key, buf, sizeof(buf));
		if (!name)
			res.status = -ENOMEM;
		else
			k = key_get(db, name, 0);
		if (name != buf)
			free(name);
	}
	if (k && r->op == PSYNC_READ_HGET) {
		int i = -1;

		for (size_t j = 0; j < k->n_fields && i < 0; j++)
			if (strcmp(k->fields[j].name, r->field) == 0)
				i = (int)j;
		res.exists = i >= 0;
		res.value = i >= 0 ? k->fields[i].value : NULL;
	} else if (k) {
		res.exists = 1;
		res.fields = k->fields;
		res.n_fields = k->n_fields;
	}
	psync_sink_read_done(m->sink, r, &res);
}

static int memory_submit(void *impl, const struct psync_write *w)
{
	struct memory_sink *m = impl;

	if (m->opts.max_in_flight && m->writes.n >= m->opts.max_in_flight)
		return -EAGAIN;
	return request_push(&m->writes, w);
}

static int memory_read(void *impl, const struct psync_read *r)
{
	return request_push(&((struct memory_sink *)impl)->reads, r);
}

/* Callbacks may queue more requests: work on a detached list. */
static int memory_flush(void *impl)
{
	struct memory_sink *m = impl;

	while (m->writes.n || m->reads.n) {
		struct request_list writes = m->writes, reads = m->reads;

		m->writes = (struct request_list){ 0 };
		m->reads = (struct request_list){ 0 };
		for (size_t i = 0; i < writes.n; i++)
			complete_write(m, writes.v[i]);
		for (size_t i = 0; i < reads.n; i++)
			answer_read(m, reads.v[i]);
		free(writes.v);
		free(reads.v);
	}
	return 0;
}

static void memory_destroy(void *impl)
{
	struct memory_sink *m = impl;
	struct mem_db *db, *dtmp;
	struct mem_key *k, *ktmp;

	HASH_ITER(hh, m->dbs, db, dtmp) {
		HASH_ITER(hh, db->keys, k, ktmp)
			key_free(db, k);
		HASH_DEL(m->dbs, db);
		free(db);
	}
	free(m->writes.v);
	free(m->reads.v);
	free(m);
}

static const struct psync_sink_ops memory_ops = {
	.sz = sizeof(struct psync_sink_ops),
	.name = "memory",
	.submit = memory_submit,
	.flush = memory_flush,
	.read = memory_read,
	.dispatch = memory_flush,
	.destroy = memory_destroy,
};

PSYNC_API int psync_memory_sink_new(const struct psync_memory_sink_options *opts,
				    struct psync_sink **ret)
{
	struct memory_sink *m;
	int r;

	if (!ret || (opts && (opts->sz < sizeof(*opts) || opts->fail_percent > 100)))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (opts)
		m->opts = *opts;
	m->rng = m->opts.seed ? m->opts.seed : 0x2545F4914F6CDD1DULL;
	r = psync_sink_new(&memory_ops, m, &m->sink);
	if (r < 0) {
		free(m);
		return r;
	}
	*ret = m->sink;
	return 0;
}

PSYNC_API int psync_memory_sink_set_separator(struct psync_sink *sink, const char *db,
					      const char *sep)
{
	struct memory_sink *m = memory_of(sink);
	struct mem_db *d;

	if (!m || !db || !sep || !*sep || strlen(sep) >= sizeof(d->sep))
		return -EINVAL;
	d = db_get(m, db, 1);
	if (!d)
		return -ENOMEM;
	if (HASH_COUNT(d->keys))
		return -EBUSY; /* existing keys would no longer be found */
	psync__strlcpy(d->sep, sep, sizeof(d->sep));
	return 0;
}

static struct mem_key *find_key(struct psync_sink *sink, const char *db, const char *key)
{
	struct memory_sink *m = memory_of(sink);
	struct mem_db *d;

	if (!m || !db || !key || !(d = db_get(m, db, 0)))
		return NULL;
	return key_get(d, key, 0);
}

PSYNC_API const char *psync_memory_sink_get(struct psync_sink *sink, const char *db,
					    const char *key, const char *field)
{
	struct mem_key *k = find_key(sink, db, key);

	for (size_t i = 0; k && field && i < k->n_fields; i++)
		if (strcmp(k->fields[i].name, field) == 0)
			return k->fields[i].value;
	return NULL;
}

/* Moves one popped key: ConsumerStateTable's pop for a single key. */
static int consume_key(struct mem_db *db, const char *table, const char *key, struct mem_key *del_set)
{
	char *target, *staging;
	struct mem_key *k;
	int r = 0;

	if (asprintf(&target, "%s%s%s", table, db->sep, key) < 0)
		return -ENOMEM;
	if (asprintf(&staging, "_%s", target) < 0) {
		free(target);
		return -ENOMEM;
	}
	for (size_t i = 0; del_set && i < del_set->n_fields; i++)
		if (strcmp(del_set->fields[i].name, key) == 0)
			delete_key(db, target);
	k = key_get(db, staging, 0);
	if (k) {
		r = set_fields(db, target, k->fields, k->n_fields);
		key_free(db, k);
	}
	free(staging);
	free(target);
	return r;
}

PSYNC_API int psync_memory_sink_consume(struct psync_sink *sink, const char *db, const char *table)
{
	struct memory_sink *m = memory_of(sink);
	struct mem_db *d = m && db ? db_get(m, db, 0) : NULL;
	char key_set[128], del_set[128];
	struct mem_key *keys, *dels;
	int n = 0, r = 0;

	if (!m || !db || !table || strlen(table) > 100)
		return -EINVAL;
	if (!d)
		return 0;
	snprintf(key_set, sizeof(key_set), "%s_KEY_SET", table);
	snprintf(del_set, sizeof(del_set), "%s_DEL_SET", table);
	keys = key_get(d, key_set, 0);
	dels = key_get(d, del_set, 0);
	for (size_t i = 0; keys && i < keys->n_fields && r == 0; i++, n++)
		r = consume_key(d, table, keys->fields[i].name, dels);
	if (keys)
		key_free(d, keys);
	if (dels)
		key_free(d, dels);
	return r < 0 ? r : n;
}

PSYNC_API int psync_memory_sink_count_fields(struct psync_sink *sink, const char *db,
					     const char *key)
{
	struct mem_key *k = find_key(sink, db, key);

	return k ? (int)k->n_fields : -ENOENT;
}

PSYNC_API size_t psync_memory_sink_count_keys(struct psync_sink *sink, const char *db)
{
	struct memory_sink *m = memory_of(sink);
	struct mem_db *d = m && db ? db_get(m, db, 0) : NULL;

	return d ? HASH_COUNT(d->keys) : 0;
}

PSYNC_API int psync_memory_sink_seed(struct psync_sink *sink, const char *db, const char *key,
				     const struct psync_field *fields, size_t n)
{
	struct memory_sink *m = memory_of(sink);
	struct mem_db *d;

	if (!m || !db || !key || (!fields && n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!fields[i].name || !fields[i].value)
			return -EINVAL;
	d = db_get(m, db, 1);
	if (!d)
		return -ENOMEM;
	return set_fields(d, key, fields, n);
}

PSYNC_API int psync_memory_sink_set_observer(struct psync_sink *sink, psync_memory_observer_fn fn,
					     void *userdata)
{
	struct memory_sink *m = memory_of(sink);

	if (!m)
		return -EINVAL;
	m->observer = fn;
	m->observer_userdata = userdata;
	return 0;
}

PSYNC_API uint64_t psync_memory_sink_get_applied(struct psync_sink *sink)
{
	struct memory_sink *m = memory_of(sink);

	return m ? m->applied : 0;
}

PSYNC_API uint64_t psync_memory_sink_get_injected_failures(struct psync_sink *sink)
{
	struct memory_sink *m = memory_of(sink);

	return m ? m->injected : 0;
}
