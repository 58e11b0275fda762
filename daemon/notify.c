/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef PORTSYNCD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

#ifdef PORTSYNCD_HAVE_SYSTEMD
static void send_state(const char *state)
{
	/* 0: keep NOTIFY_SOCKET, the loop notifies for as long as it runs. */
	(void) sd_notify(0, state);
}

uint64_t notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
#else
static void send_state(const char *state)
{
	(void) state;
}

uint64_t notify_watchdog_usec(void)
{
	return 0;
}
#endif

void notify_ready(void)
{
	send_state("READY=1");
}

void notify_status(const char *fmt, ...)
{
	static const char prefix[] = "STATUS=";
	char state[sizeof(prefix) + NOTIFY_STATUS_MAX];
	va_list ap;

	memcpy(state, prefix, sizeof(prefix));
	va_start(ap, fmt);
	vsnprintf(state + sizeof(prefix) - 1, NOTIFY_STATUS_MAX + 1, fmt, ap);
	va_end(ap);
	/* The protocol is one assignment per line: a line break in the text
	 * would end STATUS= early and could pass for another variable. */
	for (char *c = state; (c = strpbrk(c, "\r\n")); c++)
		*c = ' ';
	send_state(state);
}

void notify_watchdog(void)
{
	send_state("WATCHDOG=1");
}

void notify_stopping(void)
{
	send_state("STOPPING=1");
}
