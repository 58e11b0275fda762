/* SPDX-License-Identifier: Apache-2.0 */
/* Commands as argument vectors: the builder, the wire format, and the Table
 * writes (HSET, DEL). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_internal.h"

static int grow_args(struct psync__redis_argv *a, size_t n)
{
	const char **argv;
	size_t *len;

	if (n <= a->cap)
		return 0;
	argv = realloc(a->argv, n * sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	a->argv = argv;
	len = realloc(a->len, n * sizeof(*len));
	if (!len)
		return -ENOMEM;
	a->len = len;
	a->cap = n;
	return 0;
}

int psync__redis_argv_begin(struct psync__redis_argv *a, size_t n_args, size_t text)
{
	a->n = 0;
	a->text_used = 0;
	if (grow_args(a, n_args) < 0)
		return -ENOMEM;
	if (text > a->text_cap) {
		char *t = realloc(a->text, text);

		if (!t)
			return -ENOMEM;
		a->text = t;
		a->text_cap = text;
	}
	return 0;
}

void psync__redis_argv_add(struct psync__redis_argv *a, const char *s, size_t len)
{
	assert(a->n < a->cap);
	a->argv[a->n] = s;
	a->len[a->n++] = len;
}

void psync__redis_argv_add_str(struct psync__redis_argv *a, const char *s)
{
	psync__redis_argv_add(a, s, strlen(s));
}

const char *psync__redis_argv_add_join(struct psync__redis_argv *a, const char *const *parts,
				       size_t n)
{
	char *start = a->text + a->text_used;
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);

		assert(a->text_used + len + l < a->text_cap);
		memcpy(start + len, parts[i], l);
		len += l;
	}
	start[len] = '\0';
	a->text_used += len + 1;
	psync__redis_argv_add(a, start, len);
	return start;
}

void psync__redis_argv_add_uint(struct psync__redis_argv *a, unsigned long long v)
{
	char *start = a->text + a->text_used;
	int len;

	assert(a->text_used + PSYNC__REDIS_UINT_TEXT <= a->text_cap);
	len = snprintf(start, PSYNC__REDIS_UINT_TEXT, "%llu", v);
	a->text_used += (size_t)len + 1;
	psync__redis_argv_add(a, start, (size_t)len);
}

void psync__redis_argv_release(struct psync__redis_argv *a)
{
	free(a->argv);
	free(a->len);
	free(a->text);
	memset(a, 0, sizeof(*a));
}

/* ---- the wire format ---- */

/* Decimal digits of v at end (backwards); returns where they start. */
static char *digits_before(char *end, size_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* "<type><v>\r\n" at out; returns the end. */
static char *put_header(char *out, char type, size_t v)
{
	char digits[24], *start = digits_before(digits + sizeof(digits), v);
	size_t n = (size_t)(digits + sizeof(digits) - start);

	*out++ = type;
	memcpy(out, start, n);
	out += n;
	*out++ = '\r';
	*out++ = '\n';
	return out;
}

/* A header is a type byte, at most 20 digits and CRLF. */
#define RESP_HEADER_MAX 23

int psync__redis_resp_encode(struct psync__redis_resp *r, int argc, const char **argv,
			     const size_t *len)
{
	size_t need = RESP_HEADER_MAX;
	char *out;

	for (int i = 0; i < argc; i++)
		need += RESP_HEADER_MAX + len[i] + 2;
	if (need > r->cap) {
		size_t cap = r->cap ? r->cap : 256;
		char *buf;

		while (cap < need)
			cap *= 2;
		buf = realloc(r->buf, cap);
		if (!buf)
			return -ENOMEM;
		r->buf = buf;
		r->cap = cap;
	}
	out = put_header(r->buf, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		out = put_header(out, '$', len[i]);
		memcpy(out, argv[i], len[i]);
		out += len[i];
		*out++ = '\r';
		*out++ = '\n';
	}
	r->len = (size_t)(out - r->buf);
	return 0;
}

void psync__redis_resp_release(struct psync__redis_resp *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* ---- Table writes ---- */

/* HSET TABLE<sep>key f1 v1 f2 v2 ...: one command, so the fields land in order. */
static int hset_argv(struct psync__redis_argv *a, const struct psync__redis_db *db,
		     const struct psync_write *w)
{
	const char *key[] = { w->table, db->separator, w->key };
	size_t text = strlen(w->table) + strlen(db->separator) + strlen(w->key) + 1;

	if (w->n_fields == 0)
		return -EINVAL;
	if (psync__redis_argv_begin(a, 2 + 2 * w->n_fields, text) < 0)
		return -ENOMEM;
	psync__redis_argv_add_str(a, "HSET");
	psync__redis_argv_add_join(a, key, 3);
	for (size_t i = 0; i < w->n_fields; i++) {
		psync__redis_argv_add_str(a, w->fields[i].name);
		psync__redis_argv_add_str(a, w->fields[i].value);
	}
	return 0;
}

static int del_argv(struct psync__redis_argv *a, const struct psync__redis_db *db,
		    const struct psync_write *w)
{
	const char *key[] = { w->table, db->separator, w->key };
	size_t text = strlen(w->table) + strlen(db->separator) + strlen(w->key) + 1;

	if (psync__redis_argv_begin(a, 2, text) < 0)
		return -ENOMEM;
	psync__redis_argv_add_str(a, "DEL");
	psync__redis_argv_add_join(a, key, 3);
	return 0;
}

int psync__redis_write_argv(struct psync__redis_argv *a, const struct psync__redis_db *db,
			    const struct psync_write *w, const char *sha_set, const char *sha_del)
{
	switch (w->op) {
	case PSYNC_WRITE_SET:
		return hset_argv(a, db, w);
	case PSYNC_WRITE_DEL:
		return del_argv(a, db, w);
	case PSYNC_WRITE_PRODUCER_SET:
	case PSYNC_WRITE_PRODUCER_DEL:
		return psync__redis_producer_argv(a, db, w, sha_set, sha_del);
	}
	return -EINVAL;
}
