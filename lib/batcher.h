/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load-adaptive batching of source reads, after NIC interrupt moderation and
 * the kernel's NAPI: pure logic, no fds, no clock of its own.
 *
 * While events come one at a time, each read goes through at once: nothing is
 * added to their latency. When reads that found events keep coming closer
 * together than a quarter of the hold, for half a hold and ENGAGE_STREAK reads
 * at least (a short burst that is already over does not count: the kernel's
 * linkwatch sends the operstate changes of many netdevs at once, every
 * second under flaps), the source is no longer polled: events
 * gather in its socket for up to hold_ns, and the next read takes them all,
 * so they cost one wakeup, one receive and one write to the sink together.
 * Holds follow each other while each gathers at least CONTINUE_MIN events; a
 * read that finds fewer goes back to reading each event as it comes. A read
 * that filled its budget leaves more waiting: the next one is due at once.
 *
 * The caller stops polling the source while holding and wakes at the
 * deadline; what it read before calling after_read is the batch. A read the
 * caller makes earlier (its loop woke for something else, or it drains the
 * source before exiting) ends the hold early: holding only means not polling.
 */
#ifndef PSYNC_BATCHER_H
#define PSYNC_BATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include <portsync/metrics.h>

#define PSYNC__BATCH_ENGAGE_STREAK 3
#define PSYNC__BATCH_CONTINUE_MIN 2

/* What the caller does after a read. */
enum psync__batch_step {
	PSYNC__BATCH_AS_IS,   /* nothing changes */
	PSYNC__BATCH_HOLD,    /* stop polling the source (if not already), wake at until_ns */
	PSYNC__BATCH_RELEASE, /* poll the source again, the wake is off */
};

struct psync__batcher {
	uint64_t hold_ns;        /* 0: never hold */
	uint64_t last_read_ns;   /* when the last read that found events was; 0: none */
	unsigned quick_reads;    /* reads in a row that came less than hold_ns / 4 apart */
	uint64_t quick_since_ns; /* the read before the first of them */
	bool holding;
	uint64_t hold_start_ns;  /* since when events gather, while holding */
	uint64_t until_ns;       /* the deadline of the hold */
	/* what the metrics show */
	uint64_t batches, batch_events, holds, held_ns;
	uint64_t per_batch[PSYNC_BATCH_BUCKETS];
};

void psync__batcher_init(struct psync__batcher *b, uint64_t hold_ns);
/* The receipt time of events of the read about to be made: while holding, the
 * hold's start (they came at some time in it: an upper bound on their wait,
 * so the latency the pipeline measures includes the hold); else 0. */
uint64_t psync__batcher_gathered_since(const struct psync__batcher *b);
/* A read at now found events events; full: it stopped at its budget. */
enum psync__batch_step psync__batcher_after_read(struct psync__batcher *b, uint64_t now,
						 unsigned events, bool full);
/* The bucket of events-per-batch a count falls in: 1, 2, 3-4, 5-8, ... */
unsigned psync__batch_bucket(unsigned events);

#endif
