/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the SONiC databases around portsyncd. Port i is named
 * Ethernet<4i>, as on a switch with four lanes per port.
 */
#ifndef PSYNC_BENCH_SONIC_H
#define PSYNC_BENCH_SONIC_H

#include <hiredis/hiredis.h>

#include "genlink.h"

void sonic_port_name(unsigned port, char *buf, size_t len);

/* Empties every database, then writes CONFIG_DB PORT|<name> for ports 0..n-1
 * as SONiC's configuration loads them. */
int sonic_seed(redisContext *c, unsigned n);
/* orchagent's side of the producer protocol: moves every announced
 * _PORT_TABLE:<key> into APPL_DB PORT_TABLE:<key> (or deletes it). */
int sonic_consume(redisContext *c);

/* Ports among 0..n-1 whose STATE_DB PORT_TABLE entry disagrees with the
 * kernel's links: missing, or its admin_status, mtu or netdev_oper_status
 * (IFF_RUNNING) differing, for a port with a netdev; present for a port
 * without one. Negative errno on failure. */
int sonic_state_mismatches(redisContext *c, const struct genlink_state *links, int n_links,
			   unsigned n);

#endif
