/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_REPLAY_H
#define PORTSYNC_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/event.h>
#include <portsync/source.h>

PSYNC_BEGIN_DECLS

/**
 * @file
 * The replay source feeds recorded or generated events through the same
 * interface as a live source, for tests, benchmarks and what a kernel cannot
 * make. Each event is stamped with the time it is emitted. It polls readable
 * while an event is due (all are, unless paced with
 * psync_replay_source_set_interval()), and is finished when all were emitted.
 * request_dump is accepted and does nothing: a replay already holds its dumps.
 *
 * Its dispatch emits at most budget events (none for a budget of 0) and never
 * blocks. Free a replay source with psync_source_free(), or hand it to
 * psync_pipeline_new(); use it from one thread at a time.
 */

/**
 * Copies n events from events (which may then go). -EINVAL, -ENOMEM.
 *
 * @retval 0 success, the source in *ret.
 * @retval -EINVAL events is NULL with n > 0, or ret is NULL.
 * @retval -ENOMEM out of memory, or no eventfd could be made.
 */
PSYNC_API int psync_replay_source_new(const struct psync_link_event *events, size_t n,
				      struct psync_source **ret);

/**
 * Reads a JSON-lines file, one event per line (psync_event_to_json's format);
 * blank lines and lines starting with '#' are skipped. On a malformed line
 * returns -EINVAL and writes "PATH:LINE: reason" into err (when not NULL);
 * -errno when the file cannot be read. Reads the whole file now (blocking file
 * I/O); recv_ns of the recording is ignored.
 *
 * @retval 0 success, the source in *ret.
 * @retval -EINVAL path or ret is NULL, or a malformed line.
 * @retval -EIO a read error ("PATH: read error" in err).
 * @retval -ENOMEM out of memory.
 * @retval <0 the -errno of opening the file ("PATH: reason" in err).
 */
PSYNC_API int psync_replay_source_new_from_file(const char *path, char *err, size_t err_len,
						struct psync_source **ret);

/**
 * A generator for benchmarks: a dump of n_ports links named "<prefix><4*i>"
 * (Ethernet0, Ethernet4, ...) ending with DUMP_DONE, then n_events NEWLINKs that
 * toggle a pseudo-random port's admin/oper state (seeded: the same seed gives
 * the same sequence). Events are made on the fly: memory does not grow with
 * n_events.
 */
struct psync_replay_generator {
	size_t sz;          /**< sizeof(struct psync_replay_generator) */
	const char *prefix; /**< NULL: "Ethernet" */
	unsigned n_ports;   /**< links in the dump, at least 1; ifindexes 2, 3, ... */
	uint64_t n_events;  /**< NEWLINKs after the dump */
	uint64_t seed;      /**< 0 takes a fixed default seed */
	uint32_t mtu;       /**< 0: 9100 */
};
/**
 * Creates a generating replay source; gen is copied, its prefix too.
 *
 * @retval 0 success, the source in *ret.
 * @retval -EINVAL gen or ret is NULL, gen->sz is not the whole struct,
 *         n_ports is 0, or the longest name would not fit PSYNC_IFNAME_MAX.
 * @retval -ENOMEM out of memory, or no eventfd could be made.
 */
PSYNC_API int psync_replay_source_new_generator(const struct psync_replay_generator *gen,
						struct psync_source **ret);

/**
 * Paces the events not yet emitted: from the next dispatch on, one every
 * interval_ns, the first at once, as a live source would see them come; 0
 * makes them all due at once again (the default). Its fd polls readable when
 * the next one is due. Thread-unsafe like the rest of the source.
 * @retval 0 success.
 * @retval -EINVAL source is not a replay source.
 */
PSYNC_API int psync_replay_source_set_interval(struct psync_source *source, uint64_t interval_ns);

/** How many events a replay source has emitted. -EINVAL if not a replay source. */
PSYNC_API int64_t psync_replay_source_get_emitted(struct psync_source *source);

PSYNC_END_DECLS

#endif
