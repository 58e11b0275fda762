/* SPDX-License-Identifier: Apache-2.0 */
/* The tunables file, read with inih: every key is known, every value checked. */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct loader {
	struct daemon_config *cfg;
	char what[200]; /* why the handler stopped; inih tells the line */
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
	NUM("pipeline", "max_attempts", max_attempts, 1, 1000000),
	NUM("pipeline", "retry_min_ms", retry_min_ms, 1, 60000),
	NUM("pipeline", "retry_max_ms", retry_max_ms, 1, 3600000),
	NUM("pipeline", "queue_degraded", queue_degraded, 1, 100000000),
	NUM("redis", "max_in_flight", max_in_flight, 1, 10000000),
	NUM("redis", "connect_timeout_ms", connect_timeout_ms, 1, 600000),
	NUM("redis", "backoff_min_ms", backoff_min_ms, 1, 600000),
	NUM("redis", "backoff_max_ms", backoff_max_ms, 1, 3600000),
	TXT("redis", "password_file", password_file),
	TXT("redis", "password_env", password_env),
	NUM("log", "rate_limit", rate_limit, 0, 1000000),
	NUM("log", "rate_burst", rate_burst, 1, 1000000),
	NUM("health", "p99_degraded_us", p99_degraded_us, 0, 60000000),
	NUM("health", "overrun_degraded_s", overrun_degraded_s, 1, 86400),
	TXT("metrics", "listen", listen),
	NUM("metrics", "summary_interval_s", summary_interval_s, 0, 86400),
	NUM("metrics", "state_db_stats", state_db_stats, 0, 1),
	NUM("metrics", "legacy_names", legacy_names, 0, 1),
	NUM("daemon", "start_timeout_ms", start_timeout_ms, 1, 3600000),
	NUM("daemon", "flush_timeout_ms", flush_timeout_ms, 0, 600000),
};

static const struct daemon_config defaults = {
	.netlink_budget = 256,
	.max_attempts = 16,
	.retry_min_ms = 1,
	.retry_max_ms = 1000,
	.queue_degraded = 10000,
	.max_in_flight = 1024,
	.connect_timeout_ms = 2000,
	.backoff_min_ms = 50,
	.backoff_max_ms = 5000,
	.rate_limit = 1000,
	.rate_burst = 5000,
	.overrun_degraded_s = 60,
	.summary_interval_s = 300,
	.start_timeout_ms = 10000,
	.flush_timeout_ms = 2000,
};

__attribute__((format(printf, 2, 3))) static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->what, sizeof(l->what), fmt, ap);
	va_end(ap);
	return 0; /* inih: stop at this line */
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
		return fail(l, "key '%s' outside a section", name);
	return fail(l, "unknown key '%s' in section [%s]", name, section);
}

int load_config(const char *path, struct daemon_config *cfg, char *err, size_t err_len)
{
	struct loader l = { .cfg = cfg };
	FILE *f;
	int r;

	*cfg = defaults;
	if (!path)
		return 0;
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = ini_parse_file(f, on_entry, &l);
	fclose(f);
	if (r == 0 && cfg->retry_min_ms > cfg->retry_max_ms) {
		snprintf(err, err_len, "%s: retry_min_ms (%u) is above retry_max_ms (%u)", path,
			 cfg->retry_min_ms, cfg->retry_max_ms);
		return -1;
	}
	if (r == 0)
		return 0;
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot be read", path);
		return -1;
	}
	/* No reason from us: inih's own complaint, a line that is neither section nor key. */
	snprintf(err, err_len, "%s:%d: %s", path, r,
		 l.what[0] ? l.what : "not a [section] or a key = value line");
	return -1;
}
