/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SONiC's run-time log settings, as swss-common's Logger::linkToDbNative keeps
 * them: CONFIG_DB LOGGER|portsyncd LOGLEVEL and LOGOUTPUT, read at start
 * (written with the defaults when one is missing, never over an operator's
 * value), then watched. Without options the table rules, as in SONiC. An
 * explicit --log-level or --log-stderr wins over the value the table holds at
 * start (often only the default an earlier run wrote), and any change written
 * while portsyncd runs wins over the option: swssloglevel always works, and
 * whoever asked for stderr on the command line gets it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <portsync/redis.h>

#include "log.h"
#include "logger_table.h"

#define TABLE "LOGGER"
#define KEY "portsyncd"

/* swss-common's names; the values are syslog's, as SWSS_* are. */
static const char *const level_names[] = {
	[LOG_EMERG] = "EMERG", [LOG_ALERT] = "ALERT", [LOG_CRIT] = "CRIT",
	[LOG_ERR] = "ERROR",   [LOG_WARNING] = "WARN", [LOG_NOTICE] = "NOTICE",
	[LOG_INFO] = "INFO",   [LOG_DEBUG] = "DEBUG",
};
static const char *const output_names[] = {
	[LOG_TO_SYSLOG] = "SYSLOG", [LOG_TO_STDOUT] = "STDOUT", [LOG_TO_STDERR] = "STDERR",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int lookup(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

static int get_output(void)
{
	return (int)log_get_output();
}

/* One field of the table, and what it said last: as SONiC's Logger compares a
 * notification with that, an unchanged value is not applied (or warned about)
 * again. */
struct setting {
	const char *field;
	const char *const *names;
	size_t n_names;
	int (*get)(void);
	char seen[32];
};

static struct setting level_setting = { "LOGLEVEL", level_names, COUNT(level_names), log_get_level };
static struct setting output_setting = { "LOGOUTPUT", output_names, COUNT(output_names), get_output };

/* The value to change to, or -1 when there is nothing to change. */
static int changed_value(struct setting *s, const char *value)
{
	int old = s->get(), v;

	if (strcmp(value, s->seen) == 0)
		return -1;
	snprintf(s->seen, sizeof(s->seen), "%s", value);
	v = lookup(s->names, s->n_names, value);
	if (v < 0)
		log_msg(LOG_WARNING, "CONFIG_DB %s|%s: unknown %s '%.32s', keeping %s", TABLE, KEY,
			s->field, value, s->names[old]);
	return v == old ? -1 : v;
}

static void apply_level(const char *value)
{
	int old = log_get_level(), v = changed_value(&level_setting, value);

	if (v < 0)
		return;
	/* Said at whichever of the two levels shows more, so that it is seen. */
	if (v > old)
		log_set_level(v);
	log_msg(LOG_NOTICE, "log level %s -> %s (CONFIG_DB %s|%s)", level_names[old],
		level_names[v], TABLE, KEY);
	log_set_level(v);
}

static void apply_output(const char *value)
{
	int old = get_output(), v = changed_value(&output_setting, value);

	if (v < 0)
		return;
	/* On both outputs: where the lines went, and where they came from. */
	log_msg(LOG_NOTICE, "log output %s -> %s (CONFIG_DB %s|%s)", output_names[old],
		output_names[v], TABLE, KEY);
	log_set_output((enum log_output)v);
	log_msg(LOG_NOTICE, "log output %s -> %s (CONFIG_DB %s|%s)", output_names[old],
		output_names[v], TABLE, KEY);
}

static const char *field(const struct psync_field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

static void apply(const struct psync_field *f, size_t n)
{
	const char *level = field(f, n, "LOGLEVEL"), *output = field(f, n, "LOGOUTPUT");

	if (output)
		apply_output(output);
	if (level)
		apply_level(level);
}

static int warned_no_events;

struct reading {
	int status;
	char level[32], output[32];
	int has_level, has_output;
};

/* The table's two fields, with SONiC's defaults for the missing ones. */
static void read_fields(struct reading *f, const struct psync_field *fields, size_t n)
{
	const char *level = field(fields, n, "LOGLEVEL"), *output = field(fields, n, "LOGOUTPUT");

	f->has_level = level != NULL;
	f->has_output = output != NULL;
	snprintf(f->level, sizeof(f->level), "%s", level ? level : "NOTICE");
	snprintf(f->output, sizeof(f->output), "%s", output ? output : "SYSLOG");
}

static void on_first_reading(const struct psync_read *r, const struct psync_read_result *res,
			     void *userdata)
{
	struct reading *f = userdata;

	(void)r;
	f->status = res->status;
	read_fields(f, res->fields, res->n_fields);
}

/* SONiC writes both fields when either is missing, keeping the one present. */
static void write_defaults(struct psync_pipeline *p, const struct reading *f)
{
	struct psync_field fields[] = { { "LOGLEVEL", f->level }, { "LOGOUTPUT", f->output } };
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = "CONFIG_DB", .table = TABLE,
				 .key = KEY, .fields = fields, .n_fields = 2 };
	int r = psync_pipeline_write(p, &w);

	if (r < 0)
		log_msg(LOG_WARNING, "cannot write CONFIG_DB %s|%s: %s", TABLE, KEY, strerror(-r));
}

/* The table's value at start, when an option overrides it: only a later
 * change is applied. */
static void override(struct setting *s, const char *value, const char *option)
{
	snprintf(s->seen, sizeof(s->seen), "%s", value);
	if (strcmp(value, s->names[s->get()]) != 0)
		log_msg(LOG_NOTICE, "%s overrides CONFIG_DB %s|%s %s %.32s until it changes",
			option, TABLE, KEY, s->field, value);
}

static void apply_first(const struct reading *f, int keep_level, int keep_output)
{
	if (keep_output)
		override(&output_setting, f->output, "--log-stderr");
	else
		apply_output(f->output);
	if (keep_level)
		override(&level_setting, f->level, "--log-level");
	else
		apply_level(f->level);
}

static void on_update(const struct psync_redis_watch_update *u, void *userdata)
{
	struct reading f;

	if (u->status < 0) {
		log_msg(LOG_WARNING, "cannot read CONFIG_DB %s|%s: %s", TABLE, KEY,
			strerror(-u->status));
		return;
	}
	if (u->keyspace_events < 0 && !warned_no_events) {
		warned_no_events = 1;
		log_msg(LOG_WARNING, "Redis sends no keyspace events (notify-keyspace-events): "
			"changes of CONFIG_DB %s|%s are seen only after a reconnection", TABLE, KEY);
	}
	/* After a reconnection the key may be gone with the data of a Redis that
	 * restarted empty: the defaults go back, as a fresh start would write. */
	read_fields(&f, u->fields, u->n_fields);
	if (u->resubscribed && (!f.has_level || !f.has_output))
		write_defaults(userdata, &f);
	/* A deleted key changes nothing, as in SONiC (only SET is applied). */
	apply(u->fields, u->n_fields);
}

int logger_table_start(struct psync_pipeline *p, int timeout_ms, int keep_level, int keep_output)
{
	struct psync_sink *sink = psync_pipeline_get_sink(p);
	struct psync_read rq = { .op = PSYNC_READ_HGETALL, .db = "CONFIG_DB", .table = TABLE,
				 .key = KEY };
	struct reading f = { .status = -ETIMEDOUT };
	int r = psync_sink_read(sink, &rq, on_first_reading, &f);

	if (r >= 0)
		r = psync_sink_wait(sink, timeout_ms);
	if (r >= 0)
		r = f.status;
	if (r < 0) {
		log_msg(LOG_WARNING, "cannot read CONFIG_DB %s|%s: %s; keeping the log options",
			TABLE, KEY, strerror(-r));
	} else {
		if (!f.has_level || !f.has_output)
			write_defaults(p, &f);
		apply_first(&f, keep_level, keep_output);
	}
	r = psync_redis_sink_watch(sink, "CONFIG_DB", TABLE, KEY, on_update, p);
	if (r < 0)
		log_msg(LOG_WARNING, "cannot watch CONFIG_DB %s|%s: %s", TABLE, KEY, strerror(-r));
	return r;
}
