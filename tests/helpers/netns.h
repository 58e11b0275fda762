/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a private network namespace for the calling process, and the
 * link changes tests make in it, over rtnetlink (libnl) rather than `ip`.
 * Link calls return 0 (or an ifindex) on success and a negative errno.
 */
#ifndef PSYNC_TEST_NETNS_H
#define PSYNC_TEST_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Moves the process into a new network namespace; fails the test when it is
 * not root or unshare fails. Criterion forks each test, so the namespace and
 * everything in it vanish with the test's process. */
void netns_enter(void);

/* In a child made by fork: new sockets of its own, so that parent and child
 * do not read each other's answers. */
void netns_after_fork(void);

/* Creates a link of this kind ("ifb", "bridge"); returns its ifindex. */
int netns_link_add(const char *name, const char *kind);
/* Creates a veth pair; returns the ifindex of name. */
int netns_veth_add(const char *name, const char *peer);
int netns_link_set_up(int ifindex, bool up);
int netns_link_set_mtu(int ifindex, uint32_t mtu);
/* The link must be down. */
int netns_link_rename(int ifindex, const char *name);
/* master 0 releases the link from its master. */
int netns_link_set_master(int ifindex, int master);
int netns_link_delete(int ifindex);
/* 0 when there is no such link. */
int netns_ifindex(const char *name);

/* Fire-and-forget variants for bursts: no wait for the kernel's answer. */
int netns_link_set_up_nowait(int ifindex, bool up);
int netns_link_set_mtu_nowait(int ifindex, uint32_t mtu);

/* The kernel's view of one link, read back through a fresh libnl dump. */
struct netns_link {
	int ifindex;
	char name[16];
	unsigned flags;
	unsigned mtu;
	int master;
	uint8_t operstate;
	uint8_t carrier;
	char kind[16];
};

/* A dump of every link, sorted by ifindex; free *ret with free(). Returns the
 * count or a negative errno. */
int netns_snapshot(struct netns_link **ret);

#endif
