/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The netlink source against the real kernel, in a private network namespace
 * (needs root). Prints two tables:
 *   1. messages/s the source reads, parses and emits from a backlog: live
 *      notifications queued while nobody read, and the reply to a dump; with
 *      the datagrams and receive system calls (recv_calls) that took;
 *   2. loss in a burst of link changes at a fixed rate, with a consumer that
 *      spends a set time per event, for the default 8 MiB buffer and smaller;
 *      with the receive calls per message read.
 *
 *   bench-netlink [LINKS [RATE [SECONDS]]]     defaults: 1000 10000 2
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <portsync/portsync.h>
#include <portsync/netlink.h>

#include "harness/clock.h"

#define FIRST_IFINDEX 2 /* lo is 1 in a fresh namespace */

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-netlink: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Link changes: fire and forget, the kernel applies them as they are sent. */
static struct nl_sock *changer(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0)
		die("netlink socket", EIO);
	nl_socket_disable_auto_ack(sk);
	return sk;
}

static void send_link(struct nl_sock *sk, int flags, int ifindex, unsigned up, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex,
				 .ifi_flags = up ? IFF_UP : 0, .ifi_change = name ? 0 : IFF_UP };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, flags);
	struct nlattr *info;

	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		die("message", ENOMEM);
	if (name) {
		nla_put_string(msg, IFLA_IFNAME, name);
		info = nla_nest_start(msg, IFLA_LINKINFO);
		nla_put_string(msg, IFLA_INFO_KIND, "ifb");
		nla_nest_end(msg, info);
	}
	if (nl_send_auto(sk, msg) < 0)
		die("send", EIO);
	nlmsg_free(msg);
}

static void add_links(struct nl_sock *sk, int n)
{
	char name[16];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bench%d", i);
		send_link(sk, NLM_F_CREATE | NLM_F_EXCL, 0, 0, name);
	}
}

static void set_up(struct nl_sock *sk, int link, unsigned up)
{
	send_link(sk, 0, FIRST_IFINDEX + link, up, NULL);
}

static struct psync_source *open_source(uint32_t rcvbuf)
{
	struct psync_netlink_options opts = { .sz = sizeof(opts), .rcvbuf_bytes = rcvbuf,
					      .dispatch_budget = 1024 };
	struct psync_source *src;
	int r = psync_netlink_source_new(&opts, &src);

	if (r < 0)
		die("netlink source", r);
	return src;
}

struct counter {
	uint64_t events, newlinks, overruns, done;
	double spin_s; /* what the consumer spends per event */
};

static void spin(double s)
{
	double end = bench_now_s() + s;

	while (s > 0 && bench_now_s() < end)
		;
}

static int count(const struct psync_link_event *ev, void *userdata)
{
	struct counter *c = userdata;

	c->events++;
	c->newlinks += ev->type == PSYNC_EVENT_NEWLINK && !ev->from_dump;
	c->overruns += ev->type == PSYNC_EVENT_OVERRUN;
	c->done += ev->type == PSYNC_EVENT_DUMP_DONE;
	spin(c->spin_s);
	return 0;
}

static bool readable(struct psync_source *src, int timeout_ms)
{
	struct pollfd pfd = { .fd = psync_source_get_fd(src), .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) > 0;
}

/* Reads until the socket is empty; returns the seconds it took. */
static double drain(struct psync_source *src, struct counter *c)
{
	double t0 = bench_now_s();
	int r;

	while (readable(src, 0)) {
		r = psync_source_dispatch(src, 0, count, c);
		if (r < 0)
			die("dispatch", r);
	}
	return bench_now_s() - t0;
}

/* What the source read: messages, datagrams and receive system calls. */
struct reads {
	uint64_t messages, datagrams, calls;
};

static struct reads reads_of(struct psync_source *src)
{
	struct psync_netlink_stats st = { .sz = sizeof(st) };

	psync_netlink_source_get_stats(src, &st);
	return (struct reads){ st.messages, st.datagrams, st.recv_calls };
}

static struct reads reads_since(struct psync_source *src, struct reads mark)
{
	struct reads now = reads_of(src);

	return (struct reads){ now.messages - mark.messages, now.datagrams - mark.datagrams,
			       now.calls - mark.calls };
}

static void row(const char *what, struct reads r, uint64_t events, double dt)
{
	printf("%-34s %10llu %10llu %10.1f %12.0f %8.0f %10llu %8llu %8.3f\n", what,
	       (unsigned long long)r.messages, (unsigned long long)events, dt * 1e3,
	       (double)r.messages / dt, dt * 1e9 / (double)r.messages,
	       (unsigned long long)r.datagrams, (unsigned long long)r.calls,
	       (double)r.calls / (double)r.messages);
}

/* Live notifications queued in a large buffer, then read in one go. */
static void bench_backlog(int links, int rounds)
{
	struct psync_source *src = open_source(512U << 20);
	struct nl_sock *sk = changer();
	struct counter c = { 0 };
	struct reads m0;
	double dt;

	add_links(sk, links);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < links; i++)
			set_up(sk, i, r % 2 == 0);
	usleep(1200 * 1000); /* let linkwatch add what it reports late */
	m0 = reads_of(src);
	dt = drain(src, &c);
	row("live backlog (1 message/datagram)", reads_since(src, m0), c.events, dt);
	if (c.overruns)
		printf("  (the backlog overran the buffer %llu times)\n", (unsigned long long)c.overruns);

	memset(&c, 0, sizeof(c));
	m0 = reads_of(src);
	if (psync_source_request_dump(src) < 0)
		die("dump", EIO);
	dt = drain(src, &c);
	row("dump reply (many messages/datagram)", reads_since(src, m0), c.events, dt);
	nl_socket_free(sk);
	psync_source_free(src);
}

/* The parser alone, on the messages of one real dump datagram, many times over. */
static void bench_parse(void)
{
	static uint32_t buf[16384];
	struct { struct nlmsghdr h; struct ifinfomsg ifi; } req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
	};
	struct psync_link_event ev;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n = -1;
	uint64_t msgs = 0;
	double t0;

	if (fd >= 0 && send(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req))
		n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n <= 0)
		die("dump for the parser", EIO);
	t0 = bench_now_s();
	for (int rep = 0; rep < 20000; rep++) {
		int left = (int)n;

		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
			msgs += psync_netlink_parse_link(h, h->nlmsg_len, &ev) == 0;
	}
	row("parser alone (no syscalls)", (struct reads){ msgs, 0, 0 }, msgs, bench_now_s() - t0);
}

/* The child: RATE admin changes per second for SECONDS, in steps of 1 ms. */
static void make_burst(int links, int rate, double seconds)
{
	struct nl_sock *sk = changer();
	long total = (long)(rate * seconds), sent = 0;
	double t0 = bench_now_s();

	while (sent < total) {
		long due = (long)((bench_now_s() - t0) * rate) + 1;

		for (; sent < due && sent < total; sent++)
			set_up(sk, (int)(sent % links), (unsigned)((sent / links) % 2 == 0));
		usleep(1000);
	}
	nl_socket_free(sk);
	_exit(0);
}

static void bench_burst(int links, int rate, double seconds, uint32_t rcvbuf, double spin_us)
{
	struct psync_source *src = open_source(rcvbuf);
	struct counter c = { .spin_s = spin_us / 1e6 };
	long total = (long)(rate * seconds);
	struct reads r;
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0)
		make_burst(links, rate, seconds);
	while (waitpid(pid, &status, WNOHANG) == 0)
		if (readable(src, 10) && psync_source_dispatch(src, 0, count, &c) < 0)
			die("dispatch", EIO);
	while (readable(src, 1500))
		if (psync_source_dispatch(src, 0, count, &c) < 0)
			die("dispatch", EIO);
	r = reads_of(src);
	printf("%10d %9.1f %7.0f %10ld %10llu %9llu %10ld %9.3f\n",
	       psync_netlink_source_get_rcvbuf(src), spin_us, (double)rate, total,
	       (unsigned long long)c.newlinks, (unsigned long long)c.overruns,
	       c.overruns ? total - (long)c.newlinks : 0L,
	       r.messages ? (double)r.calls / (double)r.messages : 0.0);
	psync_source_free(src);
}

static void settle(int links)
{
	struct nl_sock *sk = changer();

	for (int i = 0; i < links; i++)
		set_up(sk, i, 0);
	nl_socket_free(sk);
	usleep(300 * 1000);
}

int main(int argc, char **argv)
{
	int links = argc > 1 ? atoi(argv[1]) : 1000;
	int rate = argc > 2 ? atoi(argv[2]) : 10000;
	double seconds = argc > 3 ? atof(argv[3]) : 2.0;

	if (links <= 0 || rate <= 0 || seconds <= 0) {
		fprintf(stderr, "usage: %s [LINKS [RATE [SECONDS]]]\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0)
		die("needs root for a private network namespace", EPERM);
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET)", errno);

	printf("# backlog: %d ifb links, %d admin changes each\n", links, 20);
	printf("%-34s %10s %10s %10s %12s %8s %10s %8s %8s\n", "backlog", "messages", "events",
	       "ms", "messages/s", "ns/msg", "datagrams", "calls", "calls/msg");
	bench_backlog(links, 20);
	bench_parse();

	settle(links);
	printf("\n# burst: %d changes/s for %.1f s over %d links\n", rate, seconds, links);
	printf("%10s %9s %7s %10s %10s %9s %10s %9s\n", "rcvbuf", "us/event", "rate", "changes",
	       "newlinks", "overruns", "lost", "calls/msg");
	bench_burst(links, rate, seconds, 0, 0);
	bench_burst(links, rate, seconds, 0, 50);
	bench_burst(links, rate, seconds, 0, 150);
	bench_burst(links, rate, seconds, 212992 / 2, 0);
	bench_burst(links, rate, seconds, 212992 / 2, 150);
	return 0;
}
