/* SPDX-License-Identifier: Apache-2.0 */
/* The tunables file, read with inih: every key is known, every value checked. */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/*
 * inih parses what our line reader hands it. The reader counts lines, so every
 * message names the line it is about; it rejects what inih would misread (a
 * line longer than inih's buffer is cut and its rest parsed as a new line, an
 * indented line continues the previous value) and stops the parse at the
 * first error, so the first complaint is the one reported.
 */
struct loader {
	struct daemon_config *cfg;
	FILE *f;
	char *buf;    /* getline's */
	size_t cap;
	int line;     /* of the line inih has now */
	int err_line; /* of the first complaint, 0 when none */
	char what[200];
};

enum kind { NUMBER, SIZE, TEXT };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;       /* TEXT: buffer size */
	uint64_t min, max; /* NUMBER, SIZE */
};

#define NUM(s, n, field, lo, hi) { s, n, NUMBER, offsetof(struct daemon_config, field), 0, lo, hi }
#define TXT(s, n, field) { s, n, TEXT, offsetof(struct daemon_config, field), \
			   sizeof(((struct daemon_config *)0)->field), 0, 0 }

static const struct key keys[] = {
	{ "netlink", "receive_buffer", SIZE, offsetof(struct daemon_config, receive_buffer), 0,
	  64 * 1024, 1024u * 1024 * 1024 },
	NUM("netlink", "dispatch_budget", netlink_budget, 1, 65536),
	NUM("pipeline", "max_attempts", max_attempts, 0, 1000000),
	NUM("pipeline", "retry_min_ms", retry_min_ms, 1, 60000),
	NUM("pipeline", "retry_max_ms", retry_max_ms, 1, 3600000),
	NUM("pipeline", "queue_degraded", queue_degraded, 0, 100000000),
	NUM("pipeline", "batch_hold_us", batch_hold_us, 0, 100000),
	NUM("redis", "max_in_flight", max_in_flight, 1, 10000000),
	NUM("redis", "connect_timeout_ms", connect_timeout_ms, 1, 600000),
	NUM("redis", "reply_timeout_ms", reply_timeout_ms, 1, 600000),
	NUM("redis", "exit_on_reset", exit_on_reset, 0, 1),
	NUM("redis", "backoff_min_ms", backoff_min_ms, 1, 600000),
	NUM("redis", "backoff_max_ms", backoff_max_ms, 1, 3600000),
	TXT("redis", "password_file", password_file),
	TXT("redis", "password_env", password_env),
	NUM("log", "rate_limit", rate_limit, 0, 1000000),
	NUM("log", "rate_burst", rate_burst, 1, 1000000),
	NUM("health", "p99_degraded_us", p99_degraded_us, 0, 60000000),
	NUM("health", "overrun_degraded_s", overrun_degraded_s, 1, 86400),
	NUM("health", "window_s", health_window_s, 2, 86400),
	TXT("metrics", "listen", listen),
	NUM("metrics", "summary_interval_s", summary_interval_s, 0, 86400),
	NUM("metrics", "state_db_stats", state_db_stats, 0, 1),
	NUM("metrics", "legacy_names", legacy_names, 0, 1),
	NUM("daemon", "start_timeout_ms", start_timeout_ms, 1, 3600000),
	NUM("daemon", "flush_timeout_ms", flush_timeout_ms, 0, 600000),
	NUM("extensions", "carrier_changes", carrier_changes, 0, 1),
};

static const struct daemon_config defaults = {
	.netlink_budget = 256,
	.max_attempts = 0,
	.retry_min_ms = 1,
	.retry_max_ms = 1000,
	.queue_degraded = 0,
	.batch_hold_us = 1000,
	.max_in_flight = 1024,
	.connect_timeout_ms = 2000,
	.reply_timeout_ms = 3000,
	.health_window_s = 60,
	.backoff_min_ms = 50,
	.backoff_max_ms = 5000,
	.rate_limit = 1000,
	.rate_burst = 5000,
	.overrun_degraded_s = 60,
	.summary_interval_s = 300,
	.start_timeout_ms = 10000,
	.flush_timeout_ms = 2000,
};

/* Records the first complaint, on the line being parsed. */
__attribute__((format(printf, 2, 3))) static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	if (l->err_line)
		return 0;
	l->err_line = l->line;
	va_start(ap, fmt);
	vsnprintf(l->what, sizeof(l->what), fmt, ap);
	va_end(ap);
	return 0; /* inih: an error at this line */
}

static int is_section(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].section) == len && strncmp(keys[i].section, name, len) == 0)
			return 1;
	return 0;
}

/* What inih would not say, or say of the wrong line. 1: the line may go on. */
static int check_line(struct loader *l, const char *s)
{
	const char *sep;

	if (!*s || *s == ';' || *s == '#')
		return 1;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return fail(l, "no ']' closing the section name");
		while (*++s == ' ' || *s == '\t')
			;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		return is_section(s, (size_t)(end - s)) ? 1
			: fail(l, "unknown section [%.*s]", (int)(end - s > 40 ? 40 : end - s), s);
	}
	sep = strpbrk(s, "=:");
	if (!sep)
		return fail(l, "not a [section] or a key = value line");
	if (sep == s)
		return fail(l, "no key before '%c'", *sep);
	return 1;
}

/* inih's ini_reader: one line of the file into str (num bytes). */
static char *read_line(char *str, int num, void *stream)
{
	struct loader *l = stream;
	const char *s;
	ssize_t n;

	if (l->err_line || (n = getline(&l->buf, &l->cap, l->f)) < 0)
		return NULL;
	l->line++;
	if (n > 0 && l->buf[n - 1] == '\n')
		l->buf[--n] = '\0';
	if (memchr(l->buf, '\0', (size_t)n)) {
		fail(l, "a NUL byte in the line");
		return NULL;
	}
	s = l->buf;
	if (l->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* a UTF-8 byte order mark */
	s += strspn(s, " \t");
	if (*s == ';' || *s == '#')
		s = ""; /* a comment of any length is only a comment */
	if (!check_line(l, s))
		return NULL;
	if (strlen(s) + 2 > (size_t)num) {
		fail(l, "line longer than %d bytes", num - 2);
		return NULL;
	}
	snprintf(str, (size_t)num, "%s\n", s);
	return str;
}

/* Decimal, with an optional K, M or G (powers of 1024) for sizes. */
static int parse_number(const char *text, int allow_suffix, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	if (allow_suffix && *end && !end[1]) {
		const char *units = "KMG";
		const char *u = strchr(units, *end);

		if (!u || v > (UINT64_MAX >> (10 * (u - units + 1))))
			return -EINVAL;
		v <<= 10 * (u - units + 1);
		end++;
	}
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int set_value(struct loader *l, const struct key *k, const char *value)
{
	char *field = (char *)l->cfg + k->offset;
	uint64_t v;

	if (k->kind == TEXT) {
		if (strlen(value) >= k->size)
			return fail(l, "value of '%s' is too long", k->name);
		memcpy(field, value, strlen(value) + 1);
		return 1;
	}
	if (parse_number(value, k->kind == SIZE, &v) < 0 || v < k->min || v > k->max) {
		char range[64];

		snprintf(range, sizeof(range), "%llu..%llu%s", (unsigned long long)k->min,
			 (unsigned long long)k->max, k->kind == SIZE ? " bytes (K, M, G allowed)" : "");
		return fail(l, "bad value '%.40s' for '%s': expected %s", value, k->name, range);
	}
	if (k->kind == SIZE)
		*(uint32_t *)(void *)field = (uint32_t)v;
	else
		*(unsigned *)(void *)field = (unsigned)v;
	return 1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return set_value(l, &keys[i], value);
	if (!*section)
		return fail(l, "key '%.40s' outside a section", name);
	return fail(l, "unknown key '%.40s' in section [%s]", name, section);
}

int load_config(const char *path, struct daemon_config *cfg, char *err, size_t err_len)
{
	struct loader l = { .cfg = cfg };
	int r;

	*cfg = defaults;
	if (!path)
		return 0;
	l.f = fopen(path, "re");
	if (!l.f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = ini_parse_stream(read_line, &l, on_entry, &l);
	if (!l.err_line && ferror(l.f))
		r = -1;
	fclose(l.f);
	free(l.buf);
	if (l.err_line) {
		snprintf(err, err_len, "%s:%d: %s", path, l.err_line, l.what);
		return -1;
	}
	if (r > 0) { /* a line inih refused that check_line let through */
		snprintf(err, err_len, "%s:%d: not a [section] or a key = value line", path, r);
		return -1;
	}
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot be read", path);
		return -1;
	}
	if (cfg->retry_min_ms > cfg->retry_max_ms) {
		snprintf(err, err_len, "%s: retry_min_ms (%u) is above retry_max_ms (%u)", path,
			 cfg->retry_min_ms, cfg->retry_max_ms);
		return -1;
	}
	return 0;
}
