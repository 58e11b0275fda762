/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link-monitor: prints every link event of this network namespace as one line
 * of JSON, starting with a dump of the links there are.
 *
 *   link-monitor [--no-dump] [--rcvbuf BYTES]
 *
 * The lines are the replay source's format: save them and feed them back with
 * psync_replay_source_new_from_file. Stop it with Ctrl-C.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <portsync/portsync.h>
#include <portsync/netlink.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Events are borrowed for the call: print them, keep nothing. */
static int print_event(const struct psync_link_event *ev, void *userdata)
{
	char line[1024];
	int n = psync_event_to_json(ev, line, sizeof(line));

	(void)userdata;
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(line))
		return -ENOBUFS;
	puts(line);
	return 0;
}

static int parse_args(int argc, char **argv, struct psync_netlink_options *opts, int *dump)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-dump")) {
			*dump = 0;
		} else if (!strcmp(argv[i], "--rcvbuf") && i + 1 < argc) {
			opts->rcvbuf_bytes = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--no-dump] [--rcvbuf BYTES]\n", argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The loop any program would have: poll the source's fd, dispatch when ready. */
static int monitor(struct psync_source *src)
{
	struct pollfd pfd = { .fd = psync_source_get_fd(src), .events = POLLIN };
	int r;

	while (!stop) {
		r = poll(&pfd, 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		r = psync_source_dispatch(src, 0, print_event, NULL);
		if (r < 0)
			return r;
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct psync_netlink_options opts = { .sz = sizeof(opts) };
	struct psync_source *src;
	int dump = 1, r;

	if (parse_args(argc, argv, &opts, &dump) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = psync_netlink_source_new(&opts, &src);
	if (r < 0) {
		fprintf(stderr, "netlink source: %s\n", strerror(-r));
		return 1;
	}
	fprintf(stderr, "receive buffer: %d bytes\n", psync_netlink_source_get_rcvbuf(src));
	if (dump)
		r = psync_source_request_dump(src);
	if (r >= 0)
		r = monitor(src);
	if (r < 0)
		fprintf(stderr, "link-monitor: %s\n", strerror(-r));
	psync_source_free(src);
	return r < 0 ? 1 : 0;
}
