/* SPDX-License-Identifier: Apache-2.0 */
/* portsyncd's log: syslog (ident "portsyncd") or stderr, with a rate limit so
 * that per-event lines cannot dominate the cost of a flood. */
#ifndef PORTSYNCD_LOG_H
#define PORTSYNCD_LOG_H

enum log_output { LOG_TO_SYSLOG, LOG_TO_STDOUT, LOG_TO_STDERR };

/* rate: messages per second kept (0: all), burst: how many may come at once.
 * Warnings and worse are never held back. What was held back is reported in
 * one "suppressed N messages" line at most every 10 s. */
void log_open(enum log_output output, int level, unsigned rate, unsigned burst);
/* Run-time changes (CONFIG_DB LOGGER|portsyncd). Levels are syslog's. */
void log_set_level(int level);
int log_get_level(void);
void log_set_output(enum log_output output);
enum log_output log_get_output(void);
/* The rate limit applies only while on (the sync loop runs), so start-up and
 * shut-down lines are never held back. Off reports what was held back. */
void log_limit(int on);
/* While on (the sync loop), lines to stdout or stderr wait for log_flush, which
 * the loop calls after each dispatch: a flood's lines cost one write(2) per
 * batch. Warnings and worse are written at once all the same. */
void log_gather(int on);
void log_flush(void);
/* Changes the limit (SIGHUP). */
void log_set_rate(unsigned rate, unsigned burst);
__attribute__((format(printf, 2, 3))) void log_msg(int priority, const char *fmt, ...);
/* The library's log hook (psync_log_fn). */
void log_from_library(int priority, const char *message, void *userdata);
/* Whether log_from_library would keep a message now (psync_log_wanted_fn): the
 * library then formats only those. One the rate limit holds back is counted. */
int log_wanted_by_library(int priority, void *userdata);
/* Reports what the limit held back, then closes. */
void log_close(void);

#endif
