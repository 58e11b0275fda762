/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_MEMORY_SINK_H
#define PORTSYNC_MEMORY_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/sink.h>

PSYNC_BEGIN_DECLS

/*
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
	size_t sz;             /* sizeof(struct psync_memory_sink_options) */
	unsigned fail_percent; /* fail this share of writes (-EIO), pseudo-randomly */
	unsigned fail_every;   /* fail every Nth write (-EIO); 0 = never */
	uint64_t seed;         /* for fail_percent */
	unsigned max_in_flight; /* submit answers -EAGAIN beyond this; 0 = no limit */
};

PSYNC_API int psync_memory_sink_new(const struct psync_memory_sink_options *opts,
				    struct psync_sink **ret);

/* Separator of db's keys. db and sep are copied. */
PSYNC_API int psync_memory_sink_set_separator(struct psync_sink *sink, const char *db,
					      const char *sep);

/* Value of field in db's key (the full "TABLE<sep>key"), or NULL. Valid until the
 * next write to that key. */
PSYNC_API const char *psync_memory_sink_get(struct psync_sink *sink, const char *db,
					    const char *key, const char *field);
/*
 * Pops every pending producer key of db's table as SONiC's ConsumerStateTable
 * does: a key in the delete set loses TABLE<sep>key, then the staging hash's
 * fields are merged into TABLE<sep>key and the staging hash is dropped. Returns
 * how many keys it popped.
 */
PSYNC_API int psync_memory_sink_consume(struct psync_sink *sink, const char *db, const char *table);

/* Number of fields of key, -ENOENT when it does not exist. */
PSYNC_API int psync_memory_sink_count_fields(struct psync_sink *sink, const char *db,
					     const char *key);
/* Number of keys in db. */
PSYNC_API size_t psync_memory_sink_count_keys(struct psync_sink *sink, const char *db);
/* Sets fields directly, without a write: for seeding a test's start state. */
PSYNC_API int psync_memory_sink_seed(struct psync_sink *sink, const char *db, const char *key,
				     const struct psync_field *fields, size_t n);

/* Called for every write the sink applies (not for failed ones), in order. */
typedef void (*psync_memory_observer_fn)(const struct psync_write *w, void *userdata);
PSYNC_API int psync_memory_sink_set_observer(struct psync_sink *sink,
					     psync_memory_observer_fn fn, void *userdata);

/* Writes applied and writes failed by injection so far. */
PSYNC_API uint64_t psync_memory_sink_get_applied(struct psync_sink *sink);
PSYNC_API uint64_t psync_memory_sink_get_injected_failures(struct psync_sink *sink);

PSYNC_END_DECLS

#endif
