/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writes a pipeline holds for its sink: queued (not yet submitted), in flight
 * (submitted, not yet completed) and failed ones waiting to be retried.
 *
 * Invariant: for every key, older writes reach the sink before newer ones. The
 * queue keeps it by construction: submission is strictly in order (retries
 * first, they are the oldest), a failed write is put back ahead of everything
 * queued, and a newer write to a key that still has a queued write is folded
 * into that one (coalesced) instead of being queued behind it. Memory is thus
 * bounded by the number of distinct keys plus what is in flight.
 *
 * Every write would otherwise allocate and free a record and a key entry: a key
 * left with nothing outstanding stays in the table, empty (up to
 * PSYNC__WQ_IDLE_KEYS_MAX of them), and records of the usual size go back to a
 * free list (up to PSYNC__WQ_FREE_RECS_MAX).
 */
#ifndef PSYNC_WRITE_QUEUE_H
#define PSYNC_WRITE_QUEUE_H

#include "internal.h"

#define PSYNC__WQ_IDLE_KEYS_MAX 1024
#define PSYNC__WQ_FREE_RECS_MAX 256
#define PSYNC__WQ_REC_SLOT 320 /* bytes: a STATE_DB PORT_TABLE write fits; larger ones are not reused */

struct psync__key;

struct psync__write_rec {
	struct psync_write w;      /* db, table, key: the key's; fields: in this allocation */
	uint64_t seq;              /* version: larger is newer, for a key's writes */
	uint64_t order;            /* queue position: smaller is submitted first */
	uint64_t generation;       /* of the store it was made for (see drop_queued) */
	unsigned attempts;         /* failed submissions so far */
	int outstanding;           /* queued, waiting for retry, or in flight */
	int in_flight;
	int pooled;                /* a PSYNC__WQ_REC_SLOT allocation: may be reused */
	struct psync__key *key;
	struct psync__list link;   /* in ready, retry, in_flight or free_recs */
};

struct psync__write_queue {
	struct psync__list ready;     /* pushed, not yet submitted, by order */
	struct psync__list retry;     /* failed, to be resubmitted first, by order */
	struct psync__list in_flight; /* submitted to the sink */
	struct psync__list free_recs; /* records to reuse */
	struct psync__key *keys;      /* uthash by db/table/key/family */
	uint64_t next_seq;
	uint64_t queued;              /* in ready + retry */
	uint64_t n_in_flight;
	uint64_t n_keys;              /* keys with outstanding writes */
	uint64_t n_idle_keys;         /* keys kept without any */
	uint64_t n_free_recs;
	uint64_t coalesced;           /* writes folded into newer ones or made stale */
	uint64_t generation;          /* of the store new writes are made for */
};

/* What became of a completed write. */
enum psync__outcome {
	PSYNC__ACKED,
	PSYNC__REQUEUED,   /* transient failure: back in the queue */
	PSYNC__SUPERSEDED, /* transient failure, but newer writes made it moot */
	PSYNC__FAILED,     /* permanent failure, or out of attempts */
};

void psync__wq_init(struct psync__write_queue *q);
/* Frees every write, in flight or not, and every key. */
void psync__wq_clear(struct psync__write_queue *q);
/* Copies w into the queue, coalescing with the key's queued writes. 0, -EINVAL, -ENOMEM. */
int psync__wq_push(struct psync__write_queue *q, const struct psync_write *w);
/* The next write to submit, or NULL. */
struct psync__write_rec *psync__wq_peek(struct psync__write_queue *q);
/* The peeked write was accepted by the sink. */
void psync__wq_mark_in_flight(struct psync__write_queue *q, struct psync__write_rec *rec);
/* The sink declined the write just marked in flight: it goes back to the front. */
void psync__wq_unsubmit(struct psync__write_queue *q, struct psync__write_rec *rec);
/*
 * A write in flight completed. transient: the failure may go away on retry; the
 * write is requeued when it has attempts left (max_attempts 0: no limit) and is
 * not superseded. A write lost with its connection (-ECONNRESET, -ENOTCONN,
 * -EPIPE) uses no attempt.
 * On -ENOMEM while requeueing the write is given up (PSYNC__FAILED).
 */
/* Retires every write not in flight that was made for a store generation
 * older than q->generation (that store is gone); returns how many. A write
 * holding newer state (one merged with a newer write) stays. */
uint64_t psync__wq_drop_queued(struct psync__write_queue *q);
enum psync__outcome psync__wq_complete(struct psync__write_queue *q, const struct psync_write *w,
				       int status, int transient, unsigned max_attempts);

#endif
