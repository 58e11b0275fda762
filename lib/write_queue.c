/* SPDX-License-Identifier: Apache-2.0 */
/* Queue, coalescing and retry of a pipeline's writes; see write_queue.h. */
#include <errno.h>
#include <stdlib.h>

#include <uthash.h>

#include "write_queue.h"

/* Records on the free list are off-limits to AddressSanitizer, all but their
 * list link, so that a use after "free" is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define rec_poison(rec) rec_mark(rec, 1)
#define rec_unpoison(rec) rec_mark(rec, 0)
static void rec_mark(struct psync__write_rec *rec, int poison)
{
	char *start = (char *)rec, *link = (char *)&rec->link, *end = start + PSYNC__WQ_REC_SLOT;

	if (poison) {
		ASAN_POISON_MEMORY_REGION(start, (size_t)(link - start));
		ASAN_POISON_MEMORY_REGION(link + sizeof(rec->link), (size_t)(end - link - sizeof(rec->link)));
	} else {
		ASAN_UNPOISON_MEMORY_REGION(start, PSYNC__WQ_REC_SLOT);
	}
}
#else
#define rec_poison(rec) ((void)(rec))
#define rec_unpoison(rec) ((void)(rec))
#endif

/*
 * Per-key state, live while the key has an outstanding write, then idle: kept
 * for the key's next write, holding nothing but its id. newest is the latest
 * write pushed for the key (kept even once acknowledged) so that a failed older
 * write can be compared with what superseded it.
 */
struct psync__key {
	UT_hash_handle hh;
	uint64_t outstanding;
	uint64_t last_del_seq;
	struct psync__write_rec *queued_set; /* latest SET not yet submitted */
	struct psync__write_rec *queued_del; /* latest DEL not yet submitted */
	struct psync__write_rec *newest;
	const char *db, *table, *name;       /* in id: every record of the key uses them */
	size_t id_len;
	char id[];                           /* family, db, table, key; NUL-separated */
};

static int is_del(enum psync_write_op op)
{
	return op == PSYNC_WRITE_DEL || op == PSYNC_WRITE_PRODUCER_DEL;
}

static int is_producer(enum psync_write_op op)
{
	return op == PSYNC_WRITE_PRODUCER_SET || op == PSYNC_WRITE_PRODUCER_DEL;
}

static int find_field(const struct psync_field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Does every field of older also appear in newer? Then newer makes older moot. */
static int covers(const struct psync_write *newer, const struct psync_write *older)
{
	for (size_t i = 0; i < older->n_fields; i++)
		if (find_field(newer->fields, newer->n_fields, older->fields[i].name) < 0)
			return 0;
	return 1;
}

/* A zeroed record of size bytes: from the free list when it is of the usual size. */
static struct psync__write_rec *rec_alloc(struct psync__write_queue *q, size_t size)
{
	int pooled = size <= PSYNC__WQ_REC_SLOT;
	struct psync__write_rec *rec;

	if (pooled && !psync__list_empty(&q->free_recs)) {
		rec = psync__container_of(q->free_recs.next, struct psync__write_rec, link);
		psync__list_remove(&rec->link);
		q->n_free_recs--;
		rec_unpoison(rec);
	} else {
		rec = malloc(pooled ? PSYNC__WQ_REC_SLOT : size);
		if (!rec)
			return NULL;
	}
	memset(rec, 0, sizeof(*rec));
	rec->pooled = pooled;
	psync__list_init(&rec->link);
	return rec;
}

static void rec_free(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	if (!rec->pooled || q->n_free_recs >= PSYNC__WQ_FREE_RECS_MAX) {
		free(rec);
		return;
	}
	rec->key = NULL; /* its key may go before the record is reused */
	psync__list_append(&q->free_recs, &rec->link);
	q->n_free_recs++;
	rec_poison(rec);
}

/* A record of k holding w's op and origin with fields f[0..n), copied. */
static struct psync__write_rec *rec_new(struct psync__write_queue *q, struct psync__key *k,
					const struct psync_write *w, const struct psync_field *f,
					size_t n)
{
	size_t size = sizeof(struct psync__write_rec) + n * sizeof(struct psync_field);
	struct psync__write_rec *rec;
	struct psync_field *fields;
	char *p;

	for (size_t i = 0; i < n; i++)
		size += strlen(f[i].name) + strlen(f[i].value) + 2;
	rec = rec_alloc(q, size);
	if (!rec)
		return NULL;
	fields = (struct psync_field *)(rec + 1);
	p = (char *)(fields + n);
	for (size_t i = 0; i < n; i++) {
		fields[i].name = p;
		p = stpcpy(p, f[i].name) + 1;
		fields[i].value = p;
		p = stpcpy(p, f[i].value) + 1;
	}
	rec->w = (struct psync_write){ .op = w->op, .db = k->db, .table = k->table, .key = k->name,
				       .fields = n ? fields : NULL, .n_fields = n,
				       .origin_ns = w->origin_ns };
	rec->key = k;
	rec->generation = q->generation;
	return rec;
}

/* older's fields in their order with newer's values, then newer's other fields. */
static struct psync__write_rec *rec_merge(struct psync__write_queue *q, struct psync__key *k,
					  const struct psync_write *older,
					  const struct psync_write *newer)
{
	struct psync_field *f = malloc((older->n_fields + newer->n_fields) * sizeof(*f));
	struct psync__write_rec *rec;
	size_t n = 0;

	if (!f)
		return NULL;
	for (size_t i = 0; i < older->n_fields; i++) {
		int j = find_field(newer->fields, newer->n_fields, older->fields[i].name);

		f[n++] = j < 0 ? older->fields[i] : newer->fields[j];
	}
	for (size_t i = 0; i < newer->n_fields; i++)
		if (find_field(older->fields, older->n_fields, newer->fields[i].name) < 0)
			f[n++] = newer->fields[i];
	rec = rec_new(q, k, newer, f, n);
	free(f);
	return rec;
}

/* The fields of older that newer does not set. */
static struct psync__write_rec *rec_minus(struct psync__write_queue *q, struct psync__key *k,
					  const struct psync_write *older,
					  const struct psync_write *newer)
{
	struct psync_field *f = malloc(older->n_fields * sizeof(*f));
	struct psync__write_rec *rec;
	size_t n = 0;

	if (!f)
		return NULL;
	for (size_t i = 0; i < older->n_fields; i++)
		if (find_field(newer->fields, newer->n_fields, older->fields[i].name) < 0)
			f[n++] = older->fields[i];
	rec = rec_new(q, k, older, f, n);
	free(f);
	return rec;
}

static size_t key_id(const struct psync_write *w, char *buf, size_t len)
{
	size_t need = 1 + strlen(w->db) + 1 + strlen(w->table) + 1 + strlen(w->key);
	char *p = buf;

	if (need > len)
		return need;
	/* Producer writes land in other Redis structures than table writes. */
	*p++ = is_producer(w->op) ? 'P' : 'T';
	p = stpcpy(p, w->db) + 1;
	p = stpcpy(p, w->table) + 1;
	memcpy(p, w->key, strlen(w->key));
	return need;
}

/* An idle key for id (which key_id made). */
static struct psync__key *key_new(const char *id, size_t len)
{
	struct psync__key *k = calloc(1, sizeof(*k) + len + 1);

	if (!k)
		return NULL;
	memcpy(k->id, id, len);
	k->id_len = len;
	k->db = k->id + 1;
	k->table = k->db + strlen(k->db) + 1;
	k->name = k->table + strlen(k->table) + 1;
	return k;
}

/* The key of w, live or idle; NULL when out of memory. The id is hashed once. */
static struct psync__key *key_get(struct psync__write_queue *q, const struct psync_write *w)
{
	char small[256];
	size_t len = key_id(w, small, sizeof(small));
	char *id = len <= sizeof(small) ? small : malloc(len);
	struct psync__key *k = NULL;
	unsigned hashv;

	if (!id)
		return NULL;
	if (id != small)
		key_id(w, id, len);
	HASH_VALUE(id, len, hashv);
	HASH_FIND_BYHASHVALUE(hh, q->keys, id, len, hashv, k);
	if (!k && (k = key_new(id, len))) {
		HASH_ADD_KEYPTR_BYHASHVALUE(hh, q->keys, k->id, k->id_len, hashv, k);
		q->n_idle_keys++;
	}
	if (id != small)
		free(id);
	return k;
}

/* One more outstanding write (or push in progress) keeps k live. */
static void key_hold(struct psync__write_queue *q, struct psync__key *k)
{
	if (k->outstanding++ == 0) {
		q->n_idle_keys--;
		q->n_keys++;
	}
}

/* With nothing outstanding left, k turns idle, or goes when enough are idle. */
static void key_release(struct psync__write_queue *q, struct psync__key *k)
{
	if (--k->outstanding)
		return;
	q->n_keys--;
	if (k->newest && !k->newest->outstanding)
		rec_free(q, k->newest);
	k->newest = NULL;
	k->last_del_seq = 0;
	if (q->n_idle_keys >= PSYNC__WQ_IDLE_KEYS_MAX) {
		HASH_DEL(q->keys, k);
		free(k);
		return;
	}
	q->n_idle_keys++;
}

static void set_newest(struct psync__write_queue *q, struct psync__key *k,
		       struct psync__write_rec *rec)
{
	struct psync__write_rec *prev = k->newest;

	k->newest = rec;
	if (prev && prev != rec && !prev->outstanding)
		rec_free(q, prev);
}

/* Takes rec out of whichever list holds it. */
static void unlink_rec(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	psync__list_remove(&rec->link);
	if (rec->in_flight) {
		rec->in_flight = 0;
		q->n_in_flight--;
	} else {
		q->queued--;
	}
	if (rec->key->queued_set == rec)
		rec->key->queued_set = NULL;
	if (rec->key->queued_del == rec)
		rec->key->queued_del = NULL;
}

static void adopt(struct psync__write_queue *q, struct psync__key *k, struct psync__write_rec *rec)
{
	rec->key = k;
	rec->outstanding = 1;
	key_hold(q, k);
}

/* rec leaves the queue for good (acked, failed or superseded). */
static void retire(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	struct psync__key *k = rec->key;

	rec->outstanding = 0;
	if (k->newest != rec)
		rec_free(q, rec);
	key_release(q, k);
}

/* nrec takes old's place (list and position); old is retired as coalesced. */
static void replace(struct psync__write_queue *q, struct psync__write_rec *old,
		    struct psync__write_rec *nrec)
{
	struct psync__key *k = old->key;

	adopt(q, k, nrec);
	nrec->order = old->order;
	nrec->attempts = old->attempts;
	psync__list_insert_before(&old->link, &nrec->link);
	q->queued++;
	if (k->queued_set == old)
		k->queued_set = nrec;
	if (k->queued_del == old)
		k->queued_del = nrec;
	unlink_rec(q, old);
	if (!k->newest || nrec->seq >= k->newest->seq)
		set_newest(q, k, nrec);
	retire(q, old);
	q->coalesced++;
}

static void drop_queued(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	if (!rec)
		return;
	unlink_rec(q, rec);
	retire(q, rec);
	q->coalesced++;
}

static int write_is_valid(const struct psync_write *w)
{
	if (!w->db || !w->table || !w->key || w->op < PSYNC_WRITE_SET ||
	    w->op > PSYNC_WRITE_PRODUCER_DEL)
		return 0;
	if (is_del(w->op))
		return 1;
	if (w->n_fields == 0 || !w->fields)
		return 0;
	for (size_t i = 0; i < w->n_fields; i++)
		if (!w->fields[i].name || !w->fields[i].value)
			return 0;
	return 1;
}

void psync__wq_init(struct psync__write_queue *q)
{
	memset(q, 0, sizeof(*q));
	psync__list_init(&q->ready);
	psync__list_init(&q->retry);
	psync__list_init(&q->in_flight);
	psync__list_init(&q->free_recs);
}

void psync__wq_clear(struct psync__write_queue *q)
{
	struct psync__key *k, *tmp;
	struct psync__list *lists[] = { &q->ready, &q->retry, &q->in_flight, &q->free_recs };

	for (unsigned i = 0; i < 4; i++) {
		while (!psync__list_empty(lists[i])) {
			struct psync__write_rec *rec =
				psync__container_of(lists[i]->next, struct psync__write_rec, link);

			psync__list_remove(&rec->link);
			if (lists[i] == &q->free_recs)
				rec_unpoison(rec);
			if (!rec->key || rec->key->newest != rec)
				free(rec);
		}
	}
	HASH_ITER(hh, q->keys, k, tmp) {
		HASH_DEL(q->keys, k);
		free(k->newest);
		free(k);
	}
	psync__wq_init(q);
}

static void append_ready(struct psync__write_queue *q, struct psync__key *k,
			 struct psync__write_rec *rec)
{
	adopt(q, k, rec);
	rec->order = rec->seq;
	psync__list_append(&q->ready, &rec->link);
	q->queued++;
	if (is_del(rec->w.op))
		k->queued_del = rec;
	else
		k->queued_set = rec;
	set_newest(q, k, rec);
}

static int push_set(struct psync__write_queue *q, struct psync__key *k, const struct psync_write *w,
		    uint64_t seq)
{
	struct psync__write_rec *old = k->queued_set, *rec;

	if (!old) {
		rec = rec_new(q, k, w, w->fields, w->n_fields);
		if (!rec)
			return -ENOMEM;
		rec->seq = seq;
		append_ready(q, k, rec);
		return 0;
	}
	rec = covers(w, &old->w) ? rec_new(q, k, w, w->fields, w->n_fields)
				 : rec_merge(q, k, &old->w, w);
	if (!rec)
		return -ENOMEM;
	rec->seq = seq;
	replace(q, old, rec);
	return 0;
}

int psync__wq_push(struct psync__write_queue *q, const struct psync_write *w)
{
	struct psync__key *k;
	struct psync__write_rec *rec;
	uint64_t seq;
	int r;

	if (!w || !write_is_valid(w))
		return -EINVAL;
	k = key_get(q, w);
	if (!k)
		return -ENOMEM;
	key_hold(q, k); /* dropping its queued writes must not release it */
	seq = ++q->next_seq;
	if (!is_del(w->op)) {
		r = push_set(q, k, w, seq);
	} else if (!(rec = rec_new(q, k, w, NULL, 0))) {
		r = -ENOMEM;
	} else {
		/* A delete makes every queued write to the key moot. */
		drop_queued(q, k->queued_set);
		drop_queued(q, k->queued_del);
		rec->seq = seq;
		k->last_del_seq = seq;
		append_ready(q, k, rec);
		r = 0;
	}
	key_release(q, k);
	return r;
}

struct psync__write_rec *psync__wq_peek(struct psync__write_queue *q)
{
	struct psync__list *head = psync__list_empty(&q->retry) ? &q->ready : &q->retry;

	if (psync__list_empty(head))
		return NULL;
	return psync__container_of(head->next, struct psync__write_rec, link);
}

void psync__wq_mark_in_flight(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	unlink_rec(q, rec);
	rec->in_flight = 1;
	q->n_in_flight++;
	psync__list_append(&q->in_flight, &rec->link);
}

/* Back into the retry list, which stays sorted by order; failures usually come
 * in order, so the walk from the tail is short. */
static void insert_retry(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	struct psync__list *pos = q->retry.prev;

	while (pos != &q->retry &&
	       psync__container_of(pos, struct psync__write_rec, link)->order > rec->order)
		pos = pos->prev;
	psync__list_insert_before(pos->next, &rec->link);
	q->queued++;
	if (is_del(rec->w.op))
		rec->key->queued_del = rec;
	else
		rec->key->queued_set = rec;
}

void psync__wq_unsubmit(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	unlink_rec(q, rec);
	insert_retry(q, rec);
}

/* A failed DEL with newer SETs after it: the DEL goes again, then the newest
 * state, so the SETs are not undone by the late DEL. */
static int requeue_del(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	struct psync__key *k = rec->key;
	struct psync__write_rec *n = k->newest, *again;

	insert_retry(q, rec);
	if (n == rec || k->queued_set)
		return 0; /* nothing newer, or the newer SET is still queued behind */
	again = rec_new(q, k, &n->w, n->w.fields, n->w.n_fields);
	if (!again)
		return -ENOMEM;
	again->seq = ++q->next_seq;
	append_ready(q, k, again);
	return 0;
}

/* A failed SET with newer writes: only what they do not cover is still owed. */
static enum psync__outcome requeue_set(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	struct psync__key *k = rec->key;
	struct psync__write_rec *newer = k->newest, *rest;

	/* A queued SET newer than rec is where rec's leftovers can still be folded. */
	if (k->queued_set && k->queued_set->seq > rec->seq)
		newer = k->queued_set;

	if (covers(&newer->w, &rec->w)) {
		retire(q, rec);
		q->coalesced++;
		return PSYNC__SUPERSEDED;
	}
	if (newer == k->queued_set) {
		rest = rec_merge(q, k, &rec->w, &newer->w);
		if (!rest)
			goto fail;
		rest->seq = newer->seq;
		replace(q, newer, rest);
		q->coalesced--; /* newer was folded, not dropped: only rec counts */
		retire(q, rec);
		q->coalesced++;
		return PSYNC__SUPERSEDED;
	}
	rest = rec_minus(q, k, &rec->w, &newer->w);
	if (!rest)
		goto fail;
	rest->generation = rec->generation; /* only rec's leftovers: as old as rec */
	rest->seq = rec->seq;
	rest->order = rec->order;
	rest->attempts = rec->attempts;
	adopt(q, k, rest);
	insert_retry(q, rest);
	retire(q, rec);
	return PSYNC__REQUEUED;
fail:
	retire(q, rec);
	return PSYNC__FAILED;
}

static enum psync__outcome requeue(struct psync__write_queue *q, struct psync__write_rec *rec)
{
	struct psync__key *k = rec->key;

	if (k->last_del_seq > rec->seq) {
		retire(q, rec);
		q->coalesced++;
		return PSYNC__SUPERSEDED;
	}
	if (!k->newest || k->newest == rec) {
		insert_retry(q, rec);
		return PSYNC__REQUEUED;
	}
	if (is_del(rec->w.op)) {
		/* rec stays queued even when the follow-up SET cannot be made. */
		return requeue_del(q, rec) < 0 ? PSYNC__FAILED : PSYNC__REQUEUED;
	}
	return requeue_set(q, rec);
}

enum psync__outcome psync__wq_complete(struct psync__write_queue *q, const struct psync_write *w,
				       int status, int transient, unsigned max_attempts)
{
	struct psync__write_rec *rec = psync__container_of(w, struct psync__write_rec, w);

	unlink_rec(q, rec);
	if (status == 0) {
		retire(q, rec);
		return PSYNC__ACKED;
	}
	/* A write lost with its connection was not refused: it costs no attempt. */
	if (!psync__status_is_connection_loss(status))
		rec->attempts++;
	if (!transient || (max_attempts && rec->attempts >= max_attempts)) {
		retire(q, rec);
		return PSYNC__FAILED;
	}
	return requeue(q, rec);
}

uint64_t psync__wq_drop_queued(struct psync__write_queue *q)
{
	struct psync__list *lists[] = { &q->retry, &q->ready };
	uint64_t n = 0;

	for (size_t i = 0; i < 2; i++) {
		struct psync__list *at = lists[i]->next;

		while (at != lists[i]) {
			struct psync__write_rec *rec =
				psync__container_of(at, struct psync__write_rec, link);

			at = at->next;
			if (rec->generation >= q->generation)
				continue;
			unlink_rec(q, rec);
			retire(q, rec);
			n++;
		}
	}
	return n;
}
