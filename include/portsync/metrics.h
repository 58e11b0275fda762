/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_METRICS_H
#define PORTSYNC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>

/**
 * @file
 * Metrics: a pipeline's counters, latency and health, copied out to a
 * caller-owned struct, and the latency histogram behind them. The functions
 * here touch only their arguments: thread-safe on distinct histograms, and
 * none blocks or allocates.
 */

PSYNC_BEGIN_DECLS

/**
 * @def PSYNC_HISTOGRAM_SUB_BITS
 * Latency histogram with logarithmic buckets: 16 linear sub-buckets per power of
 * two, so any recorded value is reported within 1/16 (6.25 %) of itself, from
 * 1 ns to 2^40 ns (about 18 minutes; larger values land in the last bucket).
 * Recording is O(1) and never allocates. PSYNC_HISTOGRAM_SUB_BITS is log2 of
 * the sub-buckets per power of two.
 */
#define PSYNC_HISTOGRAM_SUB_BITS 4
/** Number of buckets of a struct psync_histogram. */
#define PSYNC_HISTOGRAM_BUCKETS ((40 - PSYNC_HISTOGRAM_SUB_BITS + 1) << PSYNC_HISTOGRAM_SUB_BITS)

/**
 * A log-linear histogram of values (nanoseconds, for latencies), a plain value
 * the caller owns: a zeroed struct is empty, copying it copies the histogram.
 */
struct psync_histogram {
	uint64_t count; /**< values recorded */
	uint64_t sum;   /**< their sum (wraps after 2^64) */
	uint64_t min;   /**< the smallest, 0 when empty */
	uint64_t max;   /**< the largest, 0 when empty */
	/** values per bucket; bucket i holds psync_histogram_bucket_lower(i) .. _upper(i) */
	uint64_t buckets[PSYNC_HISTOGRAM_BUCKETS];
};

/** Empties h. A zeroed struct is an empty histogram too. NULL is ignored. */
PSYNC_API void psync_histogram_reset(struct psync_histogram *h);
/** Records one value into h, in O(1). NULL is ignored. */
PSYNC_API void psync_histogram_record(struct psync_histogram *h, uint64_t value);
/** Adds every value of src to dst. NULL for either is ignored. */
PSYNC_API void psync_histogram_merge(struct psync_histogram *dst, const struct psync_histogram *src);
/**
 * The value below which a share q (0..1) of the recorded values lie: the upper
 * bound of the bucket holding that rank, clamped to [min, max]. 0 when empty.
 * q <= 0 gives min, q >= 1 gives max; 0 when h is NULL.
 */
PSYNC_API uint64_t psync_histogram_quantile(const struct psync_histogram *h, double q);
/** Bucket i holds values in [lower, upper]; for exporting the histogram.
 * An i past the last bucket is taken as the last. */
PSYNC_API uint64_t psync_histogram_bucket_lower(unsigned i);
/** The upper bound of bucket i, see psync_histogram_bucket_lower(); UINT64_MAX
 * for the last bucket, which also takes every larger value. */
PSYNC_API uint64_t psync_histogram_bucket_upper(unsigned i);

/** Buckets of psync_metrics::batch_sizes: reads that found up to 1, 2, 4, ...,
 * 1024 events, and more than that. */
#define PSYNC_BATCH_BUCKETS 12

/** How well a pipeline is doing, judged at psync_pipeline_get_metrics(). */
enum psync_health {
	PSYNC_HEALTH_HEALTHY = 1, /**< all is well; the values match the Prometheus gauge */
	PSYNC_HEALTH_DEGRADED = 2, /**< working, but a recent overrun, a long queue or a high p99 */
	PSYNC_HEALTH_UNHEALTHY = 3, /**< the sink cannot reach its store */
};

/** The name of a health value: "healthy", "degraded", "unhealthy" (static
 * strings); "unknown" for another value. Thread-safe. */
PSYNC_API const char *psync_health_to_string(enum psync_health health);

/**
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
	size_t sz; /**< set by the caller: sizeof(struct psync_metrics); set to the bytes filled */

	/* events from the source */
	uint64_t events_received;  /**< link events (NEWLINK/DELLINK) */
	uint64_t events_ignored;   /**< link events the policy wrote nothing for */
	uint64_t overruns;         /**< OVERRUN markers: the source lost events */
	uint64_t resyncs;          /**< dumps completed after an overrun */
	uint64_t dumps;            /**< DUMP_DONE markers */

	/* writes to the sink */
	uint64_t writes_submitted; /**< accepted from the policy */
	uint64_t writes_acked;     /**< acknowledged by the sink */
	uint64_t writes_failed;    /**< given up: permanent error, or retries exhausted */
	uint64_t writes_retried;   /**< resubmitted after a transient failure */
	uint64_t writes_coalesced; /**< replaced by a newer write to the same key */
	uint64_t reads;            /**< reads issued */
	uint64_t reconnects;       /**< from the sink */

	/* state now */
	uint64_t queue_depth;      /**< writes waiting in the pipeline for the sink */
	uint64_t in_flight;        /**< writes in the sink, not yet acknowledged */
	uint64_t keys_tracked;     /**< distinct keys the pipeline holds state for */
	double events_per_sec;     /**< link events over the sliding window */
	double acks_per_sec;       /**< acknowledged writes over the sliding window */
	uint64_t uptime_ns;        /**< since psync_pipeline_new() */

	/* latency summary, ns */
	uint64_t latency_count;    /**< latencies recorded: acknowledged writes with an origin_ns */
	uint64_t latency_min_ns;   /**< smallest */
	uint64_t latency_mean_ns;  /**< mean */
	uint64_t latency_p50_ns;   /**< median, within 6.25 % */
	uint64_t latency_p90_ns;   /**< 90th percentile, within 6.25 % */
	uint64_t latency_p99_ns;   /**< 99th percentile, within 6.25 % */
	uint64_t latency_p999_ns;  /**< 99.9th percentile, within 6.25 % */
	uint64_t latency_max_ns;   /**< largest */

	enum psync_health health;  /**< the worst condition now */
	char health_reason[320]; /**< why it is not healthy, "" when healthy; fits a Redis error line */
	int sink_connected;      /**< 1 when the sink reports it can reach its store */
	char last_error[320];    /**< the last failure a write reported, "" when none */

	/** the whole latency histogram, for exporters */
	struct psync_histogram latency;

	/* outages, as health judges them (0 when none); ns */
	uint64_t sink_down_ns;     /**< the sink cannot write: disconnected this long, ns */
	uint64_t sink_stalled_ns;  /**< commands unanswered this long past the sink's deadline, ns */
	uint64_t refusing_ns;      /**< the store has refused writes (error replies) this long, ns */
	uint64_t recent_p99_ns;    /**< p99 latency over the pipeline's health window, ns */
	uint64_t store_resets;     /**< times the store came back without its data (see pipeline.h) */
	uint64_t writes_dropped;   /**< queued writes dropped because their store was reset */

	/* batching: reads of the source, see psync_pipeline_options::batch_hold_ns */
	uint64_t batches;          /**< reads of the source that found events */
	uint64_t batch_events;     /**< the events those reads found */
	uint64_t batch_holds;      /**< times the source was left unpolled so that events gather */
	uint64_t batch_held_ns;    /**< time events gathered that way, in all, ns */
	int batching;              /**< 1 while events are being gathered */
	/** reads by the events they found: bucket i counts reads of up to 2^i
	 * events (and more than 2^(i-1)); the last, any more than that */
	uint64_t batch_sizes[PSYNC_BATCH_BUCKETS];
};

PSYNC_END_DECLS

#endif
