/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_MEMORY_SINK_H
#define PORTSYNC_MEMORY_SINK_H

/**
 * @file
 * The memory sink: an in-process store behind the sink contract, for tests,
 * benchmarks and examples. It has no fd; no call blocks. Like every sink it is
 * used from one thread at a time, its pipeline's when it has one.
 *
 * The accessors here (psync_memory_sink_get() and the rest) take any sink and
 * answer -EINVAL, NULL or 0, as each says, for one that is not a memory sink.
 */

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/sink.h>

PSYNC_BEGIN_DECLS

/**
 * An in-process sink with the same contract as a store: writes are applied and
 * acknowledged from the next flush (not inside submit), reads answered from the
 * next flush or dispatch. Keys are "TABLE<sep>key" with SONiC's separators
 * (':' for APPL_DB, '|' for the others unless set with
 * psync_memory_sink_set_separator). Producer writes follow SONiC's
 * ProducerStateTable layout: PRODUCER_SET adds key to the set TABLE_KEY_SET and
 * its fields to the staging hash _TABLE<sep>key; PRODUCER_DEL adds key to
 * TABLE_KEY_SET and TABLE_DEL_SET and drops the staging hash. Sets are stored as
 * hashes whose fields are the members. psync_memory_sink_consume plays the
 * consumer (orchagent) that moves them into TABLE<sep>key.
 */
struct psync_memory_sink_options {
	size_t sz;             /**< sizeof(struct psync_memory_sink_options) */
	unsigned fail_percent; /**< fail this share of writes (-EIO), pseudo-randomly; 0..100 */
	unsigned fail_every;   /**< fail every Nth write (-EIO); 0 = never */
	uint64_t seed;         /**< for fail_percent */
	unsigned max_in_flight; /**< submit answers -EAGAIN beyond this; 0 = no limit */
};

/**
 * Creates a memory sink. opts may be NULL (no faults, no limit) and is copied.
 * Free the sink with psync_sink_free(), or hand it to psync_pipeline_new().
 *
 * @retval 0 success, the sink in *ret.
 * @retval -EINVAL ret is NULL, opts->sz is not the whole struct, or
 *         fail_percent is above 100.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_memory_sink_new(const struct psync_memory_sink_options *opts,
				    struct psync_sink **ret);

/**
 * Separator of db's keys. db and sep are copied.
 *
 * @retval 0 success.
 * @retval -EINVAL not a memory sink, db or sep is NULL, or sep is empty or
 *         longer than 7 bytes.
 * @retval -EBUSY db has keys already: they would no longer be found.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_memory_sink_set_separator(struct psync_sink *sink, const char *db,
					      const char *sep);

/** Value of field in db's key (the full "TABLE<sep>key"), or NULL. Valid until the
 * next write to that key. The string belongs to the sink. NULL also for a
 * sink that is not a memory sink. */
PSYNC_API const char *psync_memory_sink_get(struct psync_sink *sink, const char *db,
					    const char *key, const char *field);
/**
 * Pops every pending producer key of db's table as SONiC's ConsumerStateTable
 * does: a key in the delete set loses TABLE<sep>key, then the staging hash's
 * fields are merged into TABLE<sep>key and the staging hash is dropped. Returns
 * how many keys it popped.
 *
 * @return the number of keys popped (0 for a db without keys).
 * @retval -EINVAL not a memory sink, db or table is NULL, or table is longer
 *         than 100 bytes.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_memory_sink_consume(struct psync_sink *sink, const char *db, const char *table);

/** Number of fields of key, -ENOENT when it does not exist (or the sink is not
 * a memory sink, or an argument is NULL). */
PSYNC_API int psync_memory_sink_count_fields(struct psync_sink *sink, const char *db,
					     const char *key);
/** Number of keys in db; 0 for an unknown db or a sink that is not a memory sink. */
PSYNC_API size_t psync_memory_sink_count_keys(struct psync_sink *sink, const char *db);
/**
 * Sets fields directly, without a write: for seeding a test's start state.
 * key is the full "TABLE<sep>key"; the strings are copied; the observer is
 * not called.
 *
 * @retval 0 success.
 * @retval -EINVAL not a memory sink, db or key is NULL, fields is NULL with
 *         n > 0, or a field's name or value is NULL.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_memory_sink_seed(struct psync_sink *sink, const char *db, const char *key,
				     const struct psync_field *fields, size_t n);

/** Called for every write the sink applies (not for failed ones), in order.
 * w is borrowed for the call; it runs from the sink's flush or dispatch. */
typedef void (*psync_memory_observer_fn)(const struct psync_write *w, void *userdata);
/** Sets the observer (fn NULL: none); userdata is passed to it. -EINVAL when
 * the sink is not a memory sink. */
PSYNC_API int psync_memory_sink_set_observer(struct psync_sink *sink,
					     psync_memory_observer_fn fn, void *userdata);

/** Writes applied so far; 0 for a sink that is not a memory sink. */
PSYNC_API uint64_t psync_memory_sink_get_applied(struct psync_sink *sink);
/** Writes failed by injection so far; 0 for a sink that is not a memory sink. */
PSYNC_API uint64_t psync_memory_sink_get_injected_failures(struct psync_sink *sink);

PSYNC_END_DECLS

#endif
