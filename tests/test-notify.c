/* SPDX-License-Identifier: Apache-2.0 */
/* systemd notifications: what portsyncd sends arrives on a NOTIFY_SOCKET the
 * test binds, as a path and in the abstract namespace. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

static struct {
	int fd;
	char dir[64];
	char address[sizeof(((struct sockaddr_un *) 0)->sun_path)];
} listener = {.fd = -1};

/* Binds a datagram socket at address ('@' first: abstract) and points
 * NOTIFY_SOCKET at it, as systemd does for a Type=notify service. */
static void listen_at(const char *address)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(address);

	cr_assert_lt(strlen(address), sizeof(sa.sun_path));
	memcpy(sa.sun_path, address, strlen(address));
	if (address[0] == '@')
		sa.sun_path[0] = '\0';
	listener.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(listener.fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(listener.fd, (struct sockaddr *) &sa, len), 0, "bind %s: %s", address,
		     strerror(errno));
	snprintf(listener.address, sizeof(listener.address), "%s", address);
	cr_assert_eq(setenv("NOTIFY_SOCKET", address, 1), 0);
}

static void listen_at_path(void)
{
	char path[sizeof(listener.address)];

	snprintf(listener.dir, sizeof(listener.dir), "/tmp/psync-notify-XXXXXX");
	cr_assert_not_null(mkdtemp(listener.dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/notify", listener.dir);
	listen_at(path);
}

static void listen_abstract(void)
{
	char name[64];

	snprintf(name, sizeof(name), "@psync-notify-%ld", (long) getpid());
	listen_at(name);
}

static void stop_listening(void)
{
	if (listener.fd >= 0)
		close(listener.fd);
	if (listener.dir[0]) {
		unlink(listener.address);
		rmdir(listener.dir);
	}
	unsetenv("NOTIFY_SOCKET");
}

/* The next datagram as a string, "" when none arrives within timeout_ms. */
static const char *receive(int timeout_ms)
{
	static char buf[1024];
	struct pollfd pfd = {.fd = listener.fd, .events = POLLIN};
	ssize_t n;

	buf[0] = '\0';
	if (poll(&pfd, 1, timeout_ms) != 1)
		return buf;
	n = recv(listener.fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	cr_assert_geq(n, 0, "recv: %s", strerror(errno));
	buf[n] = '\0';
	return buf;
}

/* The datagram is queued before sendto returns, so a short wait is enough to
 * tell "sent" from "not sent". */
static void assert_sent(const char *want)
{
	cr_assert_str_eq(receive(1000), want);
}

static void assert_nothing_sent(void)
{
	cr_assert_str_empty(receive(50));
}

static void send_all_four(void)
{
	notify_ready();
	assert_sent("READY=1");
	notify_status("%u links, %s", 3u, "healthy");
	assert_sent("STATUS=3 links, healthy");
	notify_watchdog();
	assert_sent("WATCHDOG=1");
	notify_stopping();
	assert_sent("STOPPING=1");
	assert_nothing_sent();
}

TestSuite(notify, .fini = stop_listening);

Test(notify, path_socket, .init = listen_at_path)
{
	send_all_four();
}

Test(notify, abstract_socket, .init = listen_abstract)
{
	send_all_four();
}

Test(notify, socket_stays_set_for_later_calls, .init = listen_at_path)
{
	notify_watchdog();
	assert_sent("WATCHDOG=1");
	cr_assert_str_eq(getenv("NOTIFY_SOCKET"), listener.address);
	notify_watchdog();
	assert_sent("WATCHDOG=1");
}

Test(notify, status_is_one_line, .init = listen_at_path)
{
	notify_status("degraded:\r\nREADY=1");
	assert_sent("STATUS=degraded:  READY=1");
}

Test(notify, long_status_is_cut, .init = listen_at_path)
{
	char text[NOTIFY_STATUS_MAX * 2 + 1], want[sizeof("STATUS=") + NOTIFY_STATUS_MAX];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	snprintf(want, sizeof(want), "STATUS=%.*s", NOTIFY_STATUS_MAX, text);
	notify_status("%s", text);
	assert_sent(want);
}

Test(notify, no_socket_sends_nothing, .init = listen_at_path)
{
	unsetenv("NOTIFY_SOCKET");
	notify_ready();
	notify_status("%s", "idle");
	notify_watchdog();
	notify_stopping();
	assert_nothing_sent();
}

Test(notify, watchdog_interval)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%ld", (long) getpid());
	setenv("WATCHDOG_USEC", "500000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	cr_assert_eq(notify_watchdog_usec(), 500000);
	cr_assert_str_eq(getenv("WATCHDOG_USEC"), "500000");
}

Test(notify, watchdog_for_another_process)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%ld", (long) getppid());
	setenv("WATCHDOG_USEC", "500000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	cr_assert_eq(notify_watchdog_usec(), 0);
}

Test(notify, watchdog_off)
{
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	cr_assert_eq(notify_watchdog_usec(), 0);
}

Test(notify, watchdog_without_pid_is_ours)
{
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "2000000", 1);
	cr_assert_eq(notify_watchdog_usec(), 2000000);
	unsetenv("WATCHDOG_USEC");
}

Test(notify, watchdog_malformed_is_off)
{
	static const char *const bad[] = { "", "0", "-5", "12x", " 7", "abc",
					   "99999999999999999999999" };

	unsetenv("WATCHDOG_PID");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		cr_assert_eq(notify_watchdog_usec(), 0, "WATCHDOG_USEC=\"%s\"", bad[i]);
	}
	setenv("WATCHDOG_USEC", "500000", 1);
	setenv("WATCHDOG_PID", "not-a-pid", 1);
	cr_assert_eq(notify_watchdog_usec(), 0, "a malformed WATCHDOG_PID is not ours");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

Test(notify, unusable_socket_addresses_send_nothing, .init = listen_at_path)
{
	char too_long[sizeof(((struct sockaddr_un *) 0)->sun_path) + 8];
	const char *const unusable[] = { "", "@", "relative/notify", "vsock:2:1", too_long };

	memset(too_long, 'x', sizeof(too_long) - 1);
	too_long[0] = '/';
	too_long[sizeof(too_long) - 1] = '\0';
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		setenv("NOTIFY_SOCKET", unusable[i], 1);
		notify_ready();
		notify_watchdog();
	}
	assert_nothing_sent();
	setenv("NOTIFY_SOCKET", listener.address, 1);
	notify_ready();
	assert_sent("READY=1");
}
