/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What systemd (or whoever set the environment) hands portsyncd:
 * NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, as the input's first three
 * NUL-separated parts; a WATCHDOG_PID that starts with '=' has our pid put in
 * front of the rest. The rest of the input is a status text. daemon/notify.c
 * is compiled in for its static address parser; datagrams only ever go to a
 * socket of this target's own.
 */
#include "../../daemon/notify.c"

#include <ctype.h>
#include <stdbool.h>

#include "fuzz.h"

/* The next NUL-separated part of the input, as a string to free. */
static char *next_part(const uint8_t **data, size_t *size)
{
	const uint8_t *nul = memchr(*data, '\0', *size);
	size_t n = nul ? (size_t)(nul - *data) : *size;
	char *s = fuzz_string(*data, n);

	*data += nul ? n + 1 : n;
	*size -= nul ? n + 1 : n;
	return s;
}

extern char **environ;

/* The environment is ours: setenv keeps every value it was ever given, which
 * millions of runs would pile up. An empty value leaves the variable out. */
static void set_env(const char *socket_path, const char *usec, const char *pid)
{
	static char *vars[3], *env[4];
	const char *names[] = { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID" };
	const char *values[] = { socket_path, usec, pid };
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		free(vars[i]);
		vars[i] = NULL;
		if (!*values[i])
			continue;
		vars[i] = malloc(strlen(names[i]) + strlen(values[i]) + 2);
		FUZZ_CHECK(vars[i], "out of memory");
		sprintf(vars[i], "%s=%s", names[i], values[i]);
		env[n++] = vars[i];
	}
	env[n] = NULL;
	environ = env;
}

static void check_address(const char *value)
{
	struct sockaddr_un sa;
	socklen_t len = notify_address(&sa);
	size_t n = strlen(value);

	if (!len)
		return;
	FUZZ_CHECK(value[0] == '/' || value[0] == '@', "address '%s'", value);
	FUZZ_CHECK(len == offsetof(struct sockaddr_un, sun_path) + n && n <= sizeof(sa.sun_path),
		   "length %u for '%s'", (unsigned)len, value);
	FUZZ_CHECK(sa.sun_family == AF_UNIX && sa.sun_path[0] == (value[0] == '@' ? '\0' : '/') &&
			   memcmp(sa.sun_path + 1, value + 1, n - 1) == 0,
		   "address '%s'", value);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void check_watchdog(const char *usec, const char *pid)
{
	uint64_t v = notify_watchdog_usec();
	char me[32];

	if (!v)
		return;
	snprintf(me, sizeof(me), "%d", (int)getpid());
	FUZZ_CHECK(all_digits(usec) && strtoull(usec, NULL, 10) == v, "%s gave %llu", usec,
		   (unsigned long long)v);
	FUZZ_CHECK(!*pid || (all_digits(pid) && strtoull(pid, NULL, 10) == (unsigned long long)getpid()),
		   "WATCHDOG_PID %s is not %s", pid, me);
}

/* A socket of our own, for what notify_status sends. */
static int receiver(char *path, size_t len)
{
	static char dir[] = "/tmp/psync-fuzz-notify-XXXXXX";
	static int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (fd < 0) {
		FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		FUZZ_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind");
	}
	snprintf(path, len, "%s/notify", dir);
	return fd;
}

static void check_status(const char *text)
{
	char path[128], got[512];
	int fd = receiver(path, sizeof(path));
	ssize_t n;

	set_env(path, "", "");
	notify_status("%s", text);
	n = recv(fd, got, sizeof(got) - 1, 0);
	FUZZ_CHECK(n >= 7 && (size_t)n <= 7 + NOTIFY_STATUS_MAX, "status of %zd bytes", n);
	got[n] = '\0';
	FUZZ_CHECK(strncmp(got, "STATUS=", 7) == 0 && !strpbrk(got, "\r\n"), "sent '%s'", got);
	FUZZ_CHECK(strncmp(got + 7, text, strlen(got + 7)) == 0 || strpbrk(text, "\r\n"),
		   "status '%s' for '%s'", got, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *socket_path = next_part(&data, &size);
	char *usec = next_part(&data, &size);
	char *pid = next_part(&data, &size);
	char *text = fuzz_string(data, size);

	if (pid[0] == '=') {
		char *with_pid = malloc(strlen(pid) + 24);

		FUZZ_CHECK(with_pid, "out of memory");
		sprintf(with_pid, "%d%s", (int)getpid(), pid + 1);
		free(pid);
		pid = with_pid;
	}
	set_env(socket_path, usec, pid);
	check_address(socket_path);
	check_watchdog(usec, pid);
	check_status(text);
	free(socket_path);
	free(usec);
	free(pid);
	free(text);
	return 0;
}
