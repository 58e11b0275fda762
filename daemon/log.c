/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* At most one "suppressed N messages" line this often. */
#define REPORT_EVERY_S 10.0

/* Room for a dispatch's lines: a flood's lines go out in one write(2) per
 * batch (see log_gather), not one each. */
#define STREAM_BUFFER (64 * 1024)

static char out_buffer[STREAM_BUFFER], err_buffer[STREAM_BUFFER];

static struct {
	enum log_output output;
	int level;
	int limiting;
	int gathering;
	double rate, burst, tokens;
	double last; /* seconds, CLOCK_MONOTONIC */
	double last_report;
	unsigned long suppressed;
} lg = { .output = LOG_TO_STDERR, .level = LOG_NOTICE };

static double now_s(void)
{
	return (double)now_ms() / 1e3;
}

static void emit(int priority, const char *msg)
{
	FILE *stream = lg.output == LOG_TO_STDOUT ? stdout : stderr;

	if (lg.output == LOG_TO_SYSLOG) {
		syslog(priority, "%s", msg);
		return;
	}
	fprintf(stream, "portsyncd: %s\n", msg);
	/* A warning may be the last line before trouble: it never waits. */
	if (!lg.gathering || priority <= LOG_WARNING)
		fflush(stream);
}

void log_open(enum log_output output, int level, unsigned rate, unsigned burst)
{
	/* Buffered, and flushed after each line or, while gathering, each dispatch. */
	setvbuf(stdout, out_buffer, _IOFBF, sizeof(out_buffer));
	setvbuf(stderr, err_buffer, _IOFBF, sizeof(err_buffer));
	lg.output = output;
	lg.level = level;
	log_set_rate(rate, burst);
	lg.tokens = lg.burst;
	lg.last = now_s();
	openlog("portsyncd", LOG_PID, LOG_DAEMON);
}

void log_set_level(int level)
{
	lg.level = level;
}

int log_get_level(void)
{
	return lg.level;
}

void log_set_output(enum log_output output)
{
	lg.output = output;
}

enum log_output log_get_output(void)
{
	return lg.output;
}

void log_set_rate(unsigned rate, unsigned burst)
{
	lg.rate = rate;
	lg.burst = burst ? burst : 1;
	if (lg.tokens > lg.burst)
		lg.tokens = lg.burst;
}

/* Token bucket: refilled at lg.rate per second up to lg.burst. A message held
 * back is counted; one let through takes a token when take is set. */
static int allowed(int priority, int take)
{
	double t;

	if (!lg.rate || !lg.limiting || priority <= LOG_WARNING)
		return 1;
	t = now_s();
	lg.tokens += (t - lg.last) * lg.rate;
	lg.last = t;
	if (lg.tokens > lg.burst)
		lg.tokens = lg.burst;
	if (lg.tokens < 1) {
		lg.suppressed++;
		return 0;
	}
	lg.tokens -= take;
	return 1;
}

static void report_suppressed(int now)
{
	char msg[64];
	double t;

	if (!lg.suppressed)
		return;
	t = now_s();
	if (!now && t - lg.last_report < REPORT_EVERY_S)
		return;
	lg.last_report = t;
	snprintf(msg, sizeof(msg), "suppressed %lu messages", lg.suppressed);
	lg.suppressed = 0;
	emit(LOG_NOTICE, msg);
}

static void log_text(int priority, const char *msg)
{
	if (priority > lg.level || !allowed(priority, 1))
		return;
	report_suppressed(0);
	emit(priority, msg);
}

void log_gather(int on)
{
	lg.gathering = on;
	log_flush();
}

void log_flush(void)
{
	fflush(stdout);
	fflush(stderr);
}

void log_limit(int on)
{
	lg.limiting = on;
	if (!on)
		report_suppressed(1);
}

void log_msg(int priority, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (priority > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_text(priority, msg);
}

void log_from_library(int priority, const char *message, void *userdata)
{
	(void)userdata;
	log_text(priority, message);
}

int log_wanted_by_library(int priority, void *userdata)
{
	(void)userdata;
	return priority <= lg.level && allowed(priority, 0);
}

void log_close(void)
{
	report_suppressed(1);
	log_gather(0);
	closelog();
}
