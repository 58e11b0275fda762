/* SPDX-License-Identifier: Apache-2.0 */
/* The reads a policy needs: HGETALL, HGET, EXISTS, and a table's keys by SCAN
 * (never KEYS, which stalls a live server for as long as it walks them all). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redis_internal.h"

/* "TABLE<sep>" with glob characters escaped, then '*'. */
static char *scan_pattern(const char *prefix)
{
	char *pattern = malloc(2 * strlen(prefix) + 2), *p = pattern;

	if (!pattern)
		return NULL;
	for (const char *s = prefix; *s; s++) {
		if (strchr("*?[]\\", *s))
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '*';
	*p = '\0';
	return pattern;
}

static char *join_prefix(const char *table, const char *separator)
{
	size_t t = strlen(table), s = strlen(separator);
	char *prefix = malloc(t + s + 1);

	if (prefix) {
		memcpy(prefix, table, t);
		memcpy(prefix + t, separator, s + 1);
	}
	return prefix;
}

struct psync__redis_read *psync__redis_read_new(const struct psync_read *r,
						const struct psync__redis_db *db)
{
	struct psync__redis_read *rd = calloc(1, sizeof(*rd));

	if (!rd)
		return NULL;
	rd->read = r;
	rd->db = db;
	psync__list_init(&rd->link);
	strcpy(rd->cursor, "0");
	rd->prefix = join_prefix(r->table, db->separator);
	if (rd->prefix && r->op == PSYNC_READ_SCAN)
		rd->pattern = scan_pattern(rd->prefix);
	if (!rd->prefix || (r->op == PSYNC_READ_SCAN && !rd->pattern)) {
		psync__redis_read_free(rd);
		return NULL;
	}
	return rd;
}

void psync__redis_read_restart(struct psync__redis_read *rd)
{
	for (size_t i = 0; i < rd->n_keys; i++)
		free(rd->keys[i]);
	rd->n_keys = 0;
	strcpy(rd->cursor, "0");
}

void psync__redis_read_free(struct psync__redis_read *rd)
{
	if (!rd)
		return;
	psync__redis_read_restart(rd);
	free(rd->keys);
	free(rd->prefix);
	free(rd->pattern);
	free(rd);
}

static const char *const read_commands[] = {
	[PSYNC_READ_HGETALL] = "HGETALL",
	[PSYNC_READ_HGET] = "HGET",
	[PSYNC_READ_EXISTS] = "EXISTS",
};

int psync__redis_read_argv(struct psync__redis_argv *a, struct psync__redis_read *rd,
			   unsigned scan_count)
{
	const struct psync_read *r = rd->read;
	const char *key[] = { rd->prefix, r->key };

	if (r->op == PSYNC_READ_SCAN) {
		if (psync__redis_argv_begin(a, 6, PSYNC__REDIS_UINT_TEXT) < 0)
			return -ENOMEM;
		psync__redis_argv_add_str(a, "SCAN");
		psync__redis_argv_add_str(a, rd->cursor);
		psync__redis_argv_add_str(a, "MATCH");
		psync__redis_argv_add_str(a, rd->pattern);
		psync__redis_argv_add_str(a, "COUNT");
		psync__redis_argv_add_uint(a, scan_count);
		return 0;
	}
	if (psync__redis_argv_begin(a, 3, strlen(rd->prefix) + strlen(r->key) + 1) < 0)
		return -ENOMEM;
	psync__redis_argv_add_str(a, read_commands[r->op]);
	psync__redis_argv_add_join(a, key, 2);
	if (r->op == PSYNC_READ_HGET)
		psync__redis_argv_add_str(a, r->field);
	return 0;
}

static void complete(struct psync__redis_read *rd, const struct psync_read_result *res,
		     struct psync_sink *sink)
{
	psync_sink_read_done(sink, rd->read, res);
}

void psync__redis_read_fail(struct psync__redis_read *rd, int status, struct psync_sink *sink)
{
	struct psync_read_result res = { .status = status };

	complete(rd, &res, sink);
}

static int is_string(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING;
}

static void on_hgetall(struct psync__redis_read *rd, const redisReply *reply,
		       struct psync_sink *sink)
{
	struct psync_read_result res = { 0 };
	struct psync_field *fields = NULL;
	size_t n = reply->type == REDIS_REPLY_ARRAY ? reply->elements / 2 : 0;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2)
		res.status = -EPROTO;
	else if (n && !(fields = calloc(n, sizeof(*fields))))
		res.status = -ENOMEM;
	for (size_t i = 0; fields && i < n; i++) {
		const redisReply *f = reply->element[2 * i], *v = reply->element[2 * i + 1];

		if (!is_string(f) || !is_string(v)) {
			res.status = -EPROTO;
			break;
		}
		fields[i].name = f->str;
		fields[i].value = v->str;
	}
	if (res.status == 0) {
		res.exists = n > 0;
		res.fields = fields;
		res.n_fields = n;
	}
	complete(rd, &res, sink);
	free(fields);
}

static void on_hget(struct psync__redis_read *rd, const redisReply *reply,
		    struct psync_sink *sink)
{
	struct psync_read_result res = { 0 };

	if (is_string(reply)) {
		res.exists = 1;
		res.value = reply->str;
	} else if (reply->type != REDIS_REPLY_NIL) {
		res.status = -EPROTO;
	}
	complete(rd, &res, sink);
}

static void on_exists(struct psync__redis_read *rd, const redisReply *reply,
		      struct psync_sink *sink)
{
	struct psync_read_result res = { 0 };

	if (reply->type == REDIS_REPLY_INTEGER)
		res.exists = reply->integer > 0;
	else
		res.status = -EPROTO;
	complete(rd, &res, sink);
}

static int add_key(struct psync__redis_read *rd, const char *key, size_t len)
{
	if (rd->n_keys == rd->cap_keys) {
		size_t cap = rd->cap_keys ? 2 * rd->cap_keys : 64;
		char **keys = realloc(rd->keys, cap * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		rd->keys = keys;
		rd->cap_keys = cap;
	}
	rd->keys[rd->n_keys] = strndup(key, len);
	if (!rd->keys[rd->n_keys])
		return -ENOMEM;
	rd->n_keys++;
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SCAN may return a key twice (the table can rehash between steps). */
static void unique_keys(struct psync__redis_read *rd)
{
	size_t n = 0;

	if (rd->n_keys == 0)
		return;
	qsort(rd->keys, rd->n_keys, sizeof(*rd->keys), compare_keys);
	for (size_t i = 1; i < rd->n_keys; i++) {
		if (strcmp(rd->keys[n], rd->keys[i]) == 0)
			free(rd->keys[i]);
		else
			rd->keys[++n] = rd->keys[i];
	}
	rd->n_keys = n + 1;
}

static int scan_page(struct psync__redis_read *rd, const redisReply *page)
{
	size_t prefix = strlen(rd->prefix);

	for (size_t i = 0; i < page->elements; i++) {
		const redisReply *k = page->element[i];

		if (!is_string(k) || k->len < prefix || memcmp(k->str, rd->prefix, prefix) != 0)
			continue;
		if (add_key(rd, k->str + prefix, k->len - prefix) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int valid_scan_reply(const redisReply *reply, size_t cursor_room)
{
	return reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	       is_string(reply->element[0]) && reply->element[0]->len < cursor_room &&
	       reply->element[1]->type == REDIS_REPLY_ARRAY;
}

/* 1 when the scan is complete (or failed), 0 when another step is due. */
static int on_scan(struct psync__redis_read *rd, const redisReply *reply, struct psync_sink *sink)
{
	struct psync_read_result res = { 0 };

	if (!valid_scan_reply(reply, sizeof(rd->cursor))) {
		psync__redis_read_fail(rd, -EPROTO, sink);
		return 1;
	}
	if (scan_page(rd, reply->element[1]) < 0) {
		psync__redis_read_fail(rd, -ENOMEM, sink);
		return 1;
	}
	memcpy(rd->cursor, reply->element[0]->str, reply->element[0]->len + 1);
	if (strcmp(rd->cursor, "0") != 0)
		return 0;
	unique_keys(rd);
	res.exists = rd->n_keys > 0;
	res.keys = (const char *const *)rd->keys;
	res.n_keys = rd->n_keys;
	complete(rd, &res, sink);
	return 1;
}

int psync__redis_read_on_reply(struct psync__redis_read *rd, const redisReply *reply,
			       struct psync_sink *sink)
{
	if (reply->type == REDIS_REPLY_ERROR) {
		psync__redis_read_fail(rd, psync__redis_error_to_errno(reply->str), sink);
		return 1;
	}
	switch (rd->read->op) {
	case PSYNC_READ_HGETALL:
		on_hgetall(rd, reply, sink);
		return 1;
	case PSYNC_READ_HGET:
		on_hget(rd, reply, sink);
		return 1;
	case PSYNC_READ_EXISTS:
		on_exists(rd, reply, sink);
		return 1;
	case PSYNC_READ_SCAN:
		return on_scan(rd, reply, sink);
	}
	psync__redis_read_fail(rd, -EINVAL, sink);
	return 1;
}
