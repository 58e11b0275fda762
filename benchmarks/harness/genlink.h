/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the link-change generator. Talks rtnetlink on a raw
 * socket (no libnl) so that its own cost stays out of the figures, and waits
 * for the kernel's acknowledgement of every request, so that a change counts
 * only once the kernel has made (and broadcast) it. Calls return 0 (or a
 * count) on success and a negative errno.
 */
#ifndef PSYNC_BENCH_GENLINK_H
#define PSYNC_BENCH_GENLINK_H

#include <stdbool.h>
#include <stdint.h>

struct genlink {
	int fd;
	uint32_t seq;
};

int genlink_open(struct genlink *g);
void genlink_close(struct genlink *g);

/* Creates an ifb link (the kernel has no dummy driver here); returns its
 * ifindex. */
int genlink_add_ifb(struct genlink *g, const char *name);
int genlink_set_up(struct genlink *g, int ifindex, bool up);
int genlink_set_mtu(struct genlink *g, int ifindex, uint32_t mtu);
int genlink_delete(struct genlink *g, int ifindex);

/* The kernel's view of one link, from an RTM_GETLINK dump. */
struct genlink_state {
	int ifindex;
	char name[16];
	unsigned flags;
	uint32_t mtu;
};

/* Dumps every link into states (at most max); returns the count. */
int genlink_dump(struct genlink *g, struct genlink_state *states, int max);

#endif
