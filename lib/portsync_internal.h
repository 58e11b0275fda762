/* SPDX-License-Identifier: Apache-2.0 */
/* What the portsync policy's files share: its state. */
#ifndef PSYNC_PORTSYNC_INTERNAL_H
#define PSYNC_PORTSYNC_INTERNAL_H

#include <portsync/portsync_policy.h>
#include <uthash.h>

#include "internal.h"

#define PSYNC__APPL_DB "APPL_DB"
#define PSYNC__CONFIG_DB "CONFIG_DB"
#define PSYNC__STATE_DB "STATE_DB"
#define PSYNC__PORT_TABLE "PORT_TABLE"

/* An event that waits for the answer about its port's APPL_DB entry. */
struct psync__pending_event {
	struct psync__list link;
	struct psync_link_event ev;
};

/* Everything known about one port name. */
struct psync__port {
	UT_hash_handle hh;
	int known;       /* APPL_DB PORT_TABLE has it: STATE_DB may be written */
	int checking;    /* an APPL_DB read is in flight */
	int waiting;     /* configured; PortInitDone waits for its netdev */
	int published;   /* we wrote its STATE_DB entry */
	uint32_t generation; /* dump generation of its last NEWLINK (see event.h) */
	struct psync__list pending; /* events held while checking */
	char name[PSYNC_IFNAME_MAX];
};

struct psync__old_link {
	UT_hash_handle hh;
	uint32_t ifindex;
};

struct psync__portsync {
	struct psync_portsync_options opts;
	struct psync_portsync_link *existing; /* copy of opts.existing_links */
	struct psync__port *ports;
	struct psync__old_link *old_links;
	struct psync_portsync_status st;
	int first_batch_seen;
	int recheck_needed;         /* an APPL_DB check failed: events wait for a retry */
	int resync_pending;
	uint32_t resync_generation; /* DUMP_DONE of this generation repairs an overrun */
};

__attribute__((format(printf, 3, 4))) void psync__portsync_log(struct psync__portsync *ps,
							       int priority, const char *fmt, ...);
struct psync__port *psync__portsync_port(struct psync__portsync *ps, const char *name);
/* Runs the start-up sequence; see portsync_startup.c. again: for a store that
 * lost its data, so the links of this process are not old ones. */
int psync__portsync_start(struct psync__portsync *ps, struct psync_pipeline *p, int again);
/* The store lost everything: nothing is known to be in it any more. */
void psync__portsync_forget_store(struct psync__portsync *ps);

#endif
