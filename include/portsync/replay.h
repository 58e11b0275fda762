/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_REPLAY_H
#define PORTSYNC_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/event.h>
#include <portsync/source.h>

PSYNC_BEGIN_DECLS

/*
 * The replay source feeds recorded or generated events through the same
 * interface as a live source, for tests, benchmarks and what a kernel cannot
 * make. Each event is stamped with the time it is emitted. It polls readable
 * (an eventfd) while events remain, and is finished when all were emitted.
 * request_dump is accepted and does nothing: a replay already holds its dumps.
 */

/* Copies n events from events. -EINVAL, -ENOMEM. */
PSYNC_API int psync_replay_source_new(const struct psync_link_event *events, size_t n,
				      struct psync_source **ret);

/*
 * Reads a JSON-lines file, one event per line (psync_event_to_json's format);
 * blank lines and lines starting with '#' are skipped. On a malformed line
 * returns -EINVAL and writes "PATH:LINE: reason" into err (when not NULL);
 * -errno when the file cannot be read.
 */
PSYNC_API int psync_replay_source_new_from_file(const char *path, char *err, size_t err_len,
						struct psync_source **ret);

/*
 * A generator for benchmarks: a dump of n_ports links named "<prefix><4*i>"
 * (Ethernet0, Ethernet4, ...) ending with DUMP_DONE, then n_events NEWLINKs that
 * toggle a pseudo-random port's admin/oper state (seeded: the same seed gives
 * the same sequence). Events are made on the fly: memory does not grow with
 * n_events.
 */
struct psync_replay_generator {
	size_t sz;          /* sizeof(struct psync_replay_generator) */
	const char *prefix; /* NULL: "Ethernet" */
	unsigned n_ports;
	uint64_t n_events;
	uint64_t seed;
	uint32_t mtu;       /* 0: 9100 */
};
PSYNC_API int psync_replay_source_new_generator(const struct psync_replay_generator *gen,
						struct psync_source **ret);

/* How many events a replay source has emitted. -EINVAL if not a replay source. */
PSYNC_API int64_t psync_replay_source_get_emitted(struct psync_source *source);

PSYNC_END_DECLS

#endif
