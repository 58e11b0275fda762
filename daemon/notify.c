/* SPDX-License-Identifier: Apache-2.0 */
/* systemd's notification protocol, spoken directly: one datagram of
 * "VARIABLE=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET, and
 * the watchdog interval from $WATCHDOG_USEC / $WATCHDOG_PID. systemd documents
 * both as a stable interface meant to be reimplemented (sd_notify(3)). Linking
 * libsystemd for these two calls cost portsyncd seven more shared libraries
 * (libgcrypt, libzstd, liblzma, liblz4, libcap, ...): about 1.1 MB of resident
 * memory and 0.4 ms of start-up, a quarter of its footprint with 512 ports. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* $NOTIFY_SOCKET as a socket address: a path ("/run/systemd/notify") or an
 * abstract name ("@name"). Other forms (vsock:, a relative path) are not for
 * a service on a switch: treated as no socket. Returns the address length,
 * 0 when there is nothing to notify. */
static socklen_t notify_address(struct sockaddr_un *sa)
{
	const char *address = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!address || (address[0] != '/' && address[0] != '@'))
		return 0;
	len = strlen(address);
	if (len < 2 || len > sizeof(sa->sun_path))
		return 0;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, address, len);
	if (address[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: the name is exactly its bytes */
	return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);
}

/* A socket per message, as sd_notify does: messages are rare (readiness, a
 * status every few seconds, the watchdog), and nothing is left open for a
 * child or a failure to inherit. */
static void send_state(const char *state)
{
	struct sockaddr_un sa;
	socklen_t len = notify_address(&sa);
	int fd;

	if (!len)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void) sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa, len);
	close(fd);
}

/* A positive decimal number filling the whole string, or 0. */
static uint64_t parse_positive(const char *text)
{
	char *end;
	uintmax_t v;

	if (!text || text[0] < '0' || text[0] > '9')
		return 0;
	errno = 0;
	v = strtoumax(text, &end, 10);
	if (errno || *end || v > UINT64_MAX)
		return 0;
	return (uint64_t) v;
}

uint64_t notify_watchdog_usec(void)
{
	const char *pid = getenv("WATCHDOG_PID");

	/* WATCHDOG_PID names the one process the interval is meant for; a
	 * child started by a watched service must not send keep-alives. */
	if (pid && parse_positive(pid) != (uint64_t) getpid())
		return 0;
	return parse_positive(getenv("WATCHDOG_USEC"));
}

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
