/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a recording: a JSON-lines file of events, into a replay source. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "internal.h"

struct event_array {
	struct psync_link_event *v;
	size_t n, cap;
};

static int array_push(struct event_array *a, const struct psync_link_event *ev)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct psync_link_event *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *ev;
	return 0;
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int is_blank_or_comment(const char *line)
{
	line += strspn(line, " \t\r\n");
	return *line == '\0' || *line == '#';
}

/* Parses every line of f into a; on a bad line says which, in err. */
static int read_lines(FILE *f, const char *path, struct event_array *a, char *err, size_t err_len)
{
	char *line = NULL, why[160];
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t n;
	int r = 0;

	while (r == 0 && (n = getline(&line, &cap, f)) >= 0) {
		struct psync_link_event ev;

		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			/* The rest of the line would be lost without a word. */
			set_err(err, err_len, "%s:%lu: a NUL byte in the line", path, lineno);
			r = -EINVAL;
			break;
		}
		if (is_blank_or_comment(line))
			continue;
		r = psync_event_from_json(line, &ev, why, sizeof(why));
		if (r < 0)
			set_err(err, err_len, "%s:%lu: %s", path, lineno, why);
		else
			r = array_push(a, &ev);
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		set_err(err, err_len, "%s: read error", path);
	}
	free(line);
	return r;
}

PSYNC_API int psync_replay_source_new_from_file(const char *path, char *err, size_t err_len,
						struct psync_source **ret)
{
	struct event_array a = { 0 };
	FILE *f;
	int r;

	if (!path || !ret)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return r;
	}
	r = read_lines(f, path, &a, err, err_len);
	fclose(f);
	if (r == 0)
		r = psync_replay_source_new(a.v, a.n, ret);
	free(a.v);
	return r;
}
