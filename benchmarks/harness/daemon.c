/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define PAGE_MAX (256 * 1024)

static int write_config(const char *path, int http_port)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "[metrics]\nlisten = 127.0.0.1:%d\nsummary_interval_s = 0\n", http_port);
	return fclose(f) == 0 ? 0 : -EIO;
}

static void exec_child(const char *exe, const char *redis_address, const char *config,
		       const char *log_path)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd >= 0)
		dup2(fd, STDERR_FILENO);
	/* As under a supervisor: no descriptor of the benchmark's own, so that
	 * counting portsyncd's open files counts its own. */
	close_range(3, ~0u, 0);
	execl(exe, exe, "--redis", redis_address, "--config", config, "--log-stderr", (char *)NULL);
	_exit(127);
}

int daemon_start(struct daemon_proc *d, const char *exe, const char *redis_address,
		 const char *workdir, int http_port)
{
	char config[160];
	int r;

	snprintf(config, sizeof(config), "%s/portsyncd.conf", workdir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/portsyncd.log", workdir);
	d->http_port = http_port;
	r = write_config(config, http_port);
	if (r < 0)
		return r;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0)
		exec_child(exe, redis_address, config, d->log_path);
	return 0;
}

int daemon_signal(struct daemon_proc *d, int sig)
{
	return d->pid > 0 && kill(d->pid, sig) == 0 ? 0 : -ESRCH;
}

int daemon_stop(struct daemon_proc *d)
{
	int status;

	if (d->pid <= 0)
		return -ESRCH;
	kill(d->pid, SIGCONT);
	kill(d->pid, SIGTERM);
	if (waitpid(d->pid, &status, 0) < 0)
		return -errno;
	d->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int http_get(int port, const char *path, char *buf, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    dprintf(fd, "GET %s HTTP/1.0\r\n\r\n", path) < 0)
		r = -errno;
	while (r == 0 && len + 1 < cap && (n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return r;
}

int daemon_metric(const struct daemon_proc *d, const char *name, double *value)
{
	char *page = malloc(PAGE_MAX), *at;
	size_t len = strlen(name);
	int r;

	if (!page)
		return -ENOMEM;
	r = http_get(d->http_port, "/metrics", page, PAGE_MAX);
	for (at = page; r == 0 && (at = strstr(at, name)); at += len) {
		if ((at == page || at[-1] == '\n') && at[len] == ' ') {
			*value = strtod(at + len + 1, NULL);
			free(page);
			return 0;
		}
	}
	free(page);
	return r < 0 ? r : -ENOENT;
}

uint64_t proc_cpu_ns(pid_t pid)
{
	struct timespec ts;
	clockid_t clock;

	if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long kb = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

int proc_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		count += e->d_name[0] != '.';
	closedir(d);
	return count;
}
