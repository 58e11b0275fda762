/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_METRICS_H
#define PORTSYNC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>

PSYNC_BEGIN_DECLS

/*
 * Latency histogram with logarithmic buckets: 16 linear sub-buckets per power of
 * two, so any recorded value is reported within 1/16 (6.25 %) of itself, from
 * 1 ns to 2^40 ns (about 18 minutes; larger values land in the last bucket).
 * Recording is O(1) and never allocates.
 */
#define PSYNC_HISTOGRAM_SUB_BITS 4
#define PSYNC_HISTOGRAM_BUCKETS ((40 - PSYNC_HISTOGRAM_SUB_BITS + 1) << PSYNC_HISTOGRAM_SUB_BITS)

struct psync_histogram {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t buckets[PSYNC_HISTOGRAM_BUCKETS];
};

/* Empties h. A zeroed struct is an empty histogram too. */
PSYNC_API void psync_histogram_reset(struct psync_histogram *h);
PSYNC_API void psync_histogram_record(struct psync_histogram *h, uint64_t value);
/* Adds every value of src to dst. */
PSYNC_API void psync_histogram_merge(struct psync_histogram *dst, const struct psync_histogram *src);
/*
 * The value below which a share q (0..1) of the recorded values lie: the upper
 * bound of the bucket holding that rank, clamped to [min, max]. 0 when empty.
 */
PSYNC_API uint64_t psync_histogram_quantile(const struct psync_histogram *h, double q);
/* Bucket i holds values in [lower, upper]; for exporting the histogram. */
PSYNC_API uint64_t psync_histogram_bucket_lower(unsigned i);
PSYNC_API uint64_t psync_histogram_bucket_upper(unsigned i);

enum psync_health {
	PSYNC_HEALTH_HEALTHY = 1, /* the values match the Prometheus gauge */
	PSYNC_HEALTH_DEGRADED = 2,
	PSYNC_HEALTH_UNHEALTHY = 3,
};

/* "healthy", "degraded", "unhealthy". */
PSYNC_API const char *psync_health_to_string(enum psync_health health);

/*
 * A copy of a pipeline's metrics. The caller sets sz to the size of the struct
 * it was compiled with; the library fills at most that much, so programs built
 * against older headers keep working. Latencies are from an event's receipt to
 * the sink's acknowledgement of a write it caused, in nanoseconds.
 *
 * Health: unhealthy while the sink is disconnected, not answering past its
 * deadline, or refusing writes; degraded after a source overrun, with a
 * backlog above queue_degraded, or a p99 over the health window above
 * p99_degraded_ns; healthy otherwise. The reason names the worst.
 */
struct psync_metrics {
	size_t sz;

	/* events from the source */
	uint64_t events_received;  /* link events (NEWLINK/DELLINK) */
	uint64_t events_ignored;   /* link events the policy wrote nothing for */
	uint64_t overruns;         /* OVERRUN markers: the source lost events */
	uint64_t resyncs;          /* dumps completed after an overrun */
	uint64_t dumps;            /* DUMP_DONE markers */

	/* writes to the sink */
	uint64_t writes_submitted; /* accepted from the policy */
	uint64_t writes_acked;     /* acknowledged by the sink */
	uint64_t writes_failed;    /* given up: permanent error, or retries exhausted */
	uint64_t writes_retried;   /* resubmitted after a transient failure */
	uint64_t writes_coalesced; /* replaced by a newer write to the same key */
	uint64_t reads;            /* reads issued */
	uint64_t reconnects;       /* from the sink */

	/* state now */
	uint64_t queue_depth;      /* writes waiting in the pipeline for the sink */
	uint64_t in_flight;        /* writes in the sink, not yet acknowledged */
	uint64_t keys_tracked;     /* distinct keys the pipeline holds state for */
	double events_per_sec;     /* link events over the sliding window */
	double acks_per_sec;       /* acknowledged writes over the sliding window */
	uint64_t uptime_ns;

	/* latency summary, ns */
	uint64_t latency_count;
	uint64_t latency_min_ns;
	uint64_t latency_mean_ns;
	uint64_t latency_p50_ns;
	uint64_t latency_p90_ns;
	uint64_t latency_p99_ns;
	uint64_t latency_p999_ns;
	uint64_t latency_max_ns;

	enum psync_health health;
	char health_reason[320]; /* "" when healthy; fits a Redis error line */
	int sink_connected;
	char last_error[320];    /* the last failure a write reported, "" when none */

	/* the whole latency histogram, for exporters */
	struct psync_histogram latency;

	/* outages, as health judges them (0 when none); ns */
	uint64_t sink_down_ns;     /* the sink cannot write: disconnected this long */
	uint64_t sink_stalled_ns;  /* commands unanswered this long, past the sink's deadline */
	uint64_t refusing_ns;      /* the store has refused writes (error replies) this long */
	uint64_t recent_p99_ns;    /* p99 latency over the health window */
};

PSYNC_END_DECLS

#endif
