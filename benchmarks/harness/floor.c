/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <hiredis/hiredis.h>

#include "floor.h"

#define RECV_SIZE 65536
/* Four times portsyncd's: the floor has no resync, and in a 10,000-change
 * flood it falls ~7,000 messages (2.3 KB each in the buffer) behind. */
#define RCVBUF (32 << 20)

static void write_link(redisContext *c, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)IFLA_PAYLOAD(nh);
	const char *name = NULL;
	uint32_t mtu = 0;

	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			name = RTA_DATA(a);
		else if (a->rta_type == IFLA_MTU)
			memcpy(&mtu, RTA_DATA(a), sizeof(mtu));
	}
	if (name)
		freeReplyObject(redisCommand(c,
					     "HSET PORT_TABLE|%s admin_status %s mtu %u "
					     "netdev_oper_status %s",
					     name, ifi->ifi_flags & IFF_UP ? "up" : "down", mtu,
					     ifi->ifi_flags & IFF_RUNNING ? "up" : "down"));
}

static void listen_links(int nl, redisContext *c)
{
	static char buf[RECV_SIZE];

	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		int left = (int)n;

		if (n < 0 && errno != EINTR && errno != ENOBUFS)
			return;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left))
			if (nh->nlmsg_type == RTM_NEWLINK)
				write_link(c, nh);
	}
}

static int open_netlink(void)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), size = RCVBUF;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 ||
	    bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static redisContext *connect_state_db(const char *socket_path)
{
	redisContext *c = redisConnectUnix(socket_path);
	redisReply *r = c && !c->err ? redisCommand(c, "SELECT 6") : NULL;
	int ok = r && r->type == REDIS_REPLY_STATUS;

	freeReplyObject(r);
	if (ok)
		return c;
	redisFree(c);
	return NULL;
}

pid_t floor_start(const char *redis_socket)
{
	int ready[2], nl;
	char byte = 0;
	pid_t pid;

	if (pipe(ready) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		redisContext *c = connect_state_db(redis_socket);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		nl = open_netlink();
		close(ready[0]);
		if (!c || nl < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		listen_links(nl, c);
		_exit(0);
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &byte, 1) != 1) {
		floor_stop(pid);
		pid = -ECHILD;
	}
	close(ready[0]);
	return pid < 0 && pid != -ECHILD ? -errno : pid;
}

void floor_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
