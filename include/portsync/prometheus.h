/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_PROMETHEUS_H
#define PORTSYNC_PROMETHEUS_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/metrics.h>

/**
 * @file
 * Metrics in the Prometheus text exposition format, for any daemon that
 * embeds the library: take a struct psync_metrics with
 * psync_pipeline_get_metrics(), format it with
 * psync_metrics_format_prometheus(), serve the text.
 */

PSYNC_BEGIN_DECLS

/**
 * How to format metrics. The caller sets sz to sizeof(struct
 * psync_prometheus_options); members beyond sz, and zero members, take their
 * defaults, so programs built against older headers keep working.
 */
struct psync_prometheus_options {
	size_t sz;             /**< sizeof(struct psync_prometheus_options) */
	const char *prefix;    /**< metric name prefix; NULL: "portsyncd" */
	uint64_t memory_bytes; /**< the `<prefix>_memory_bytes` gauge; 0: not emitted */
	int legacy_names;      /**< nonzero: also the earlier names (see psync_metrics_format_prometheus()) */
};

/**
 * Writes m in the Prometheus text exposition format (version 0.0.4) to buf,
 * like snprintf: returns the length the whole output needs, without the NUL;
 * the output is cut when that is >= len, and buf is NUL-terminated whenever
 * len > 0. buf may be NULL when len is 0, to ask for the length.
 *
 * Emitted, each with # HELP and # TYPE, named by Prometheus' rules (base
 * units, _total only on counters), so `promtool check metrics` finds nothing:
 * @verbatim
   <prefix>_event_latency_seconds            histogram: le 10us .. 1s and +Inf, _sum, _count
   <prefix>_event_latency_quantiles_seconds  summary: quantiles 0.5 0.9 0.99 0.999 since
                                             start, _sum, _count
   <prefix>_event_latency_max_seconds        gauge
   <prefix>_events_per_second, _memory_bytes, _health_status (1 healthy, 2
   degraded, 3 unhealthy), _health_reason{reason="..."} 1, _queue_depth,
   _in_flight, _sink_connected, _uptime_seconds, _keys_tracked   gauges
   <prefix>_events_received_total and the other counters of struct psync_metrics
   @endverbatim
 * With legacy_names, also the earlier names, with the same values:
 * `<prefix>_event_latency_us` (summary) and `_event_latency_max_us` in
 * microseconds, and `_throughput_eps`; promtool's lint rejects the first two.
 *
 * Histogram buckets: a value counts toward le="x" only when the whole
 * psync_histogram bucket holding it lies at or below x (its upper bound <=
 * x). A bucket that straddles x counts toward the next le instead, so every
 * le count is exact as a lower bound: it never includes a value above x, and
 * it misses at most the values of one bucket (within 6.25 % below x).
 *
 * m->sz must cover the whole struct psync_metrics of this header. opts may be
 * NULL for the defaults. Errors: -EINVAL when m is NULL or too small, buf is
 * NULL with len > 0, opts->sz is too small to hold sz, or the prefix is not a
 * valid metric name; -EOVERFLOW when the output would exceed INT_MAX.
 * Thread-safe: reads only its arguments. Never blocks or allocates.
 *
 * @return the length the whole output needs, without the NUL.
 * @retval -EINVAL see above.
 * @retval -EOVERFLOW the output would exceed INT_MAX bytes.
 */
PSYNC_API int psync_metrics_format_prometheus(const struct psync_metrics *m,
					      const struct psync_prometheus_options *opts,
					      char *buf, size_t len);

PSYNC_END_DECLS

#endif
