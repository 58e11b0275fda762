/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline's write queue: per-key order, coalescing, retry and cleanup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "write_queue.h"

static struct psync__write_queue q;

static void setup(void)
{
	psync__wq_init(&q);
}

static void teardown(void)
{
	psync__wq_clear(&q);
}

TestSuite(write_queue, .init = setup, .fini = teardown);

static void push_set(const char *key, const char *a, const char *b)
{
	struct psync_field f[2] = { { "a", a }, { "b", b } };
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = "STATE_DB", .table = "T", .key = key,
				 .fields = f, .n_fields = b ? 2 : 1 };

	if (!b && !a) {
		f[0] = (struct psync_field){ "b", "only-b" };
		w.n_fields = 1;
	}
	cr_assert_eq(psync__wq_push(&q, &w), 0);
}

static void push_del(const char *key)
{
	struct psync_write w = { .op = PSYNC_WRITE_DEL, .db = "STATE_DB", .table = "T", .key = key };

	cr_assert_eq(psync__wq_push(&q, &w), 0);
}

/* Submits the next write, returning it (now in flight). */
static struct psync__write_rec *take(void)
{
	struct psync__write_rec *rec = psync__wq_peek(&q);

	cr_assert_not_null(rec);
	psync__wq_mark_in_flight(&q, rec);
	return rec;
}

static const char *field(const struct psync__write_rec *rec, const char *name)
{
	for (size_t i = 0; i < rec->w.n_fields; i++)
		if (strcmp(rec->w.fields[i].name, name) == 0)
			return rec->w.fields[i].value;
	return NULL;
}

Test(write_queue, rejects_malformed_writes)
{
	struct psync_field f = { "a", NULL };
	struct psync_write w = { .op = PSYNC_WRITE_SET, .db = "D", .table = "T", .key = "k" };

	cr_assert_eq(psync__wq_push(&q, &w), -EINVAL, "a SET needs fields");
	w.fields = &f;
	w.n_fields = 1;
	cr_assert_eq(psync__wq_push(&q, &w), -EINVAL, "fields need values");
	w.op = 0;
	cr_assert_eq(psync__wq_push(&q, &w), -EINVAL);
	cr_assert_eq(q.n_keys, 0, "failed pushes leave no key behind");
}

Test(write_queue, fifo_across_keys)
{
	push_set("k1", "1", NULL);
	push_set("k2", "2", NULL);
	push_del("k3");
	cr_assert_str_eq(take()->w.key, "k1");
	cr_assert_str_eq(take()->w.key, "k2");
	cr_assert_str_eq(take()->w.key, "k3");
	cr_assert_null(psync__wq_peek(&q));
	cr_assert_eq(q.n_in_flight, 3);
}

Test(write_queue, newer_set_replaces_queued_set)
{
	push_set("k", "1", "x");
	push_set("other", "o", NULL);
	push_set("k", "2", "y");
	cr_assert_eq(q.queued, 2);
	cr_assert_eq(q.coalesced, 1);
	struct psync__write_rec *rec = take();
	cr_assert_str_eq(rec->w.key, "k", "the merged write keeps the older position");
	cr_assert_str_eq(field(rec, "a"), "2");
	cr_assert_str_eq(field(rec, "b"), "y");
}

Test(write_queue, partial_sets_merge_with_newer_values_winning)
{
	push_set("k", "1", "x");
	push_set("k", NULL, NULL); /* only b */
	struct psync__write_rec *rec = take();
	cr_assert_eq(rec->w.n_fields, 2);
	cr_assert_str_eq(rec->w.fields[0].name, "a", "field order of the older write kept");
	cr_assert_str_eq(field(rec, "a"), "1");
	cr_assert_str_eq(field(rec, "b"), "only-b");
}

Test(write_queue, delete_drops_queued_writes_of_its_key)
{
	push_set("k", "1", NULL);
	push_set("j", "1", NULL);
	push_del("k");
	cr_assert_eq(q.queued, 2);
	cr_assert_str_eq(take()->w.key, "j");
	cr_assert_eq(take()->w.op, PSYNC_WRITE_DEL);
}

Test(write_queue, set_after_delete_stays_behind_it)
{
	push_del("k");
	push_set("k", "1", NULL);
	push_set("k", "2", NULL);
	cr_assert_eq(q.queued, 2);
	cr_assert_eq(take()->w.op, PSYNC_WRITE_DEL);
	cr_assert_str_eq(field(take(), "a"), "2");
}

Test(write_queue, producer_and_table_writes_are_different_keys)
{
	struct psync_field f = { "a", "1" };
	struct psync_write w = { .op = PSYNC_WRITE_PRODUCER_SET, .db = "APPL_DB", .table = "T",
				 .key = "k", .fields = &f, .n_fields = 1 };

	cr_assert_eq(psync__wq_push(&q, &w), 0);
	w.op = PSYNC_WRITE_SET;
	cr_assert_eq(psync__wq_push(&q, &w), 0);
	cr_assert_eq(q.queued, 2);
	cr_assert_eq(q.n_keys, 2);
}

Test(write_queue, ack_frees_everything)
{
	for (int i = 0; i < 100; i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%d", i % 10);
		push_set(key, "v", NULL);
		struct psync__write_rec *rec = take();
		cr_assert_eq(psync__wq_complete(&q, &rec->w, 0, 0, 16), PSYNC__ACKED);
	}
	cr_assert_eq(q.n_keys, 0);
	cr_assert_eq(q.queued + q.n_in_flight, 0);
}

static void push_and_ack(const char *key, const char *value)
{
	push_set(key, value, NULL);
	struct psync__write_rec *rec = take();
	cr_assert_eq(psync__wq_complete(&q, &rec->w, 0, 0, 16), PSYNC__ACKED);
}

Test(write_queue, idle_keys_and_records_are_kept_within_bounds)
{
	char key[16], big[PSYNC__WQ_REC_SLOT];

	for (int i = 0; i < PSYNC__WQ_IDLE_KEYS_MAX + 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		push_and_ack(key, "v");
	}
	cr_assert_eq(q.n_keys, 0, "only keys with outstanding writes count");
	cr_assert_eq(q.n_idle_keys, PSYNC__WQ_IDLE_KEYS_MAX);
	cr_assert_leq(q.n_free_recs, PSYNC__WQ_FREE_RECS_MAX);
	push_set("k1", "again", NULL);
	cr_assert_eq(q.n_keys, 1);
	cr_assert_eq(q.n_idle_keys, PSYNC__WQ_IDLE_KEYS_MAX - 1, "the idle key is live again");
	cr_assert_str_eq(take()->w.key, "k1");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	push_and_ack("k2", big); /* larger than a slot: allocated apart, freed */
}

Test(write_queue, failed_writes_return_in_their_order)
{
	struct psync__write_rec *a, *b, *c;

	push_set("k1", "1", NULL);
	push_set("k2", "2", NULL);
	push_set("k3", "3", NULL);
	push_set("k4", "4", NULL);
	a = take();
	b = take();
	c = take();
	cr_assert_eq(psync__wq_complete(&q, &a->w, -ECONNRESET, 1, 16), PSYNC__REQUEUED);
	cr_assert_eq(psync__wq_complete(&q, &b->w, -ECONNRESET, 1, 16), PSYNC__REQUEUED);
	cr_assert_eq(psync__wq_complete(&q, &c->w, -ECONNRESET, 1, 16), PSYNC__REQUEUED);
	cr_assert_str_eq(take()->w.key, "k1");
	cr_assert_str_eq(take()->w.key, "k2");
	cr_assert_str_eq(take()->w.key, "k3");
	cr_assert_str_eq(take()->w.key, "k4");
}

Test(write_queue, failed_write_folds_into_newer_queued_write)
{
	struct psync__write_rec *old;

	push_set("k", "1", "x");
	old = take();
	push_set("k", NULL, NULL); /* queued: b only */
	cr_assert_eq(psync__wq_complete(&q, &old->w, -EIO, 1, 16), PSYNC__SUPERSEDED);
	struct psync__write_rec *rec = take();
	cr_assert_str_eq(field(rec, "a"), "1", "what the newer write does not set is still owed");
	cr_assert_str_eq(field(rec, "b"), "only-b", "the newer value wins");
	cr_assert_null(psync__wq_peek(&q));
}

Test(write_queue, failed_write_made_stale_by_an_acked_newer_one_is_dropped)
{
	struct psync__write_rec *old, *newer;

	push_set("k", "1", "x");
	old = take();
	push_set("k", "2", "y");
	newer = take();
	cr_assert_eq(psync__wq_complete(&q, &newer->w, 0, 0, 16), PSYNC__ACKED);
	cr_assert_eq(psync__wq_complete(&q, &old->w, -EBUSY, 1, 16), PSYNC__SUPERSEDED);
	cr_assert_null(psync__wq_peek(&q));
	cr_assert_eq(q.n_keys, 0);
}

Test(write_queue, failed_delete_is_redone_before_the_newer_state)
{
	struct psync__write_rec *del, *set;

	push_del("k");
	del = take();
	push_set("k", "2", "y");
	set = take();
	cr_assert_eq(psync__wq_complete(&q, &set->w, 0, 0, 16), PSYNC__ACKED);
	cr_assert_eq(psync__wq_complete(&q, &del->w, -ECONNRESET, 1, 16), PSYNC__REQUEUED);
	cr_assert_eq(take()->w.op, PSYNC_WRITE_DEL);
	struct psync__write_rec *again = take();
	cr_assert_eq(again->w.op, PSYNC_WRITE_SET, "the state after the delete is written again");
	cr_assert_str_eq(field(again, "a"), "2");
}

Test(write_queue, failed_write_behind_a_newer_delete_is_dropped)
{
	struct psync__write_rec *set;

	push_set("k", "1", NULL);
	set = take();
	push_del("k");
	cr_assert_eq(psync__wq_complete(&q, &set->w, -EIO, 1, 16), PSYNC__SUPERSEDED);
	cr_assert_eq(take()->w.op, PSYNC_WRITE_DEL);
}

Test(write_queue, permanent_failures_and_exhausted_attempts_give_up)
{
	struct psync__write_rec *rec;

	push_set("k", "1", NULL);
	rec = take();
	cr_assert_eq(psync__wq_complete(&q, &rec->w, -EPROTO, 0, 16), PSYNC__FAILED);
	push_set("k", "1", NULL);
	for (int i = 1; i < 3; i++) {
		rec = take();
		cr_assert_eq(psync__wq_complete(&q, &rec->w, -EIO, 1, 3), PSYNC__REQUEUED);
	}
	rec = take();
	cr_assert_eq(psync__wq_complete(&q, &rec->w, -EIO, 1, 3), PSYNC__FAILED);
	cr_assert_eq(q.n_keys, 0);
}

Test(write_queue, unsubmit_puts_back_in_front)
{
	struct psync__write_rec *rec;

	push_set("k1", "1", NULL);
	push_set("k2", "2", NULL);
	rec = take();
	psync__wq_unsubmit(&q, rec);
	cr_assert_eq(psync__wq_peek(&q), rec);
	push_set("k1", "3", NULL);
	cr_assert_str_eq(field(take(), "a"), "3", "a write put back still coalesces");
}

Test(write_queue, memory_stays_bounded_by_keys_while_blocked)
{
	for (int i = 0; i < 100000; i++) {
		char key[8], val[12];

		snprintf(key, sizeof(key), "k%d", i % 64);
		snprintf(val, sizeof(val), "%d", i);
		push_set(key, val, NULL);
	}
	cr_assert_eq(q.queued, 64);
	cr_assert_eq(q.n_keys, 64);
	cr_assert_eq(q.coalesced, 100000 - 64);
	for (int i = 0; i < 64; i++) {
		struct psync__write_rec *rec = take();
		int k = atoi(rec->w.key + 1);

		cr_assert_eq(atoi(field(rec, "a")), 99999 - (99999 - k) % 64, "key k%d has its last value", k);
	}
}

Test(write_queue, a_lost_connection_costs_no_attempt)
{
	struct psync__write_rec *rec;

	push_set("k", "1", NULL);
	for (int i = 0; i < 10; i++) {
		rec = take();
		cr_assert_eq(psync__wq_complete(&q, &rec->w, i % 2 ? -ECONNRESET : -ENOTCONN, 1, 2),
			     PSYNC__REQUEUED, "loss %d", i);
	}
	rec = take();
	cr_assert_eq(psync__wq_complete(&q, &rec->w, -EIO, 1, 2), PSYNC__REQUEUED);
	rec = take();
	cr_assert_eq(psync__wq_complete(&q, &rec->w, -EIO, 1, 2), PSYNC__FAILED,
		     "refusals still count");
}

/* A store that lost its data: what was queued for it goes, what was made
 * for the new one stays, and a write merged with a newer one holds newer
 * state, so it stays too. */
Test(write_queue, a_store_reset_drops_only_the_old_stores_writes)
{
	push_set("a", "1", "x");
	push_set("b", "1", "x");
	q.generation = 1;
	push_set("c", "2", "y");
	push_set("b", "2", NULL); /* merged into b's queued write */
	cr_assert_eq(psync__wq_drop_queued(&q), 1, "only a");
	cr_assert_eq(q.queued, 2);
	struct psync__write_rec *rec = take();
	cr_assert_str_eq(rec->w.key, "b");
	cr_assert_str_eq(field(rec, "a"), "2");
	cr_assert_str_eq(take()->w.key, "c");
	cr_assert_null(psync__wq_peek(&q));
}
