/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline's live metrics: updated in place on the hot path (no allocation),
 * summarised into a struct psync_metrics on request. */
#ifndef PSYNC_METRICS_STATE_H
#define PSYNC_METRICS_STATE_H

#include "internal.h"

#define PSYNC__RATE_SLOTS 10

/* Counts per time slot over a sliding window of PSYNC__RATE_SLOTS slots. */
struct psync__rate {
	uint64_t slot_ns;
	uint64_t epoch[PSYNC__RATE_SLOTS];
	uint64_t count[PSYNC__RATE_SLOTS];
};

struct psync__metrics {
	uint64_t start_ns;
	uint64_t events_received, events_ignored, overruns, resyncs, dumps;
	uint64_t writes_submitted, writes_acked, writes_failed, writes_retried, writes_coalesced;
	uint64_t reads;
	uint64_t store_resets, writes_dropped;
	uint64_t last_overrun_ns; /* 0: never */
	int overrun_pending;      /* an overrun awaits the dump that repairs it */
	struct psync_histogram latency;
	/* the health window: two halves, the older one dropped as time moves on */
	struct psync_histogram recent[2];
	uint64_t recent_epoch[2];
	uint64_t recent_half_ns;
	struct psync__rate event_rate, ack_rate;
	char last_error[320];
};

/* Thresholds the health state is judged by. */
struct psync__health_limits {
	uint64_t overrun_degraded_ns;
	uint64_t queue_degraded;
	uint64_t p99_degraded_ns;
};

/* What the metrics do not hold themselves. */
struct psync__metrics_extra {
	uint64_t queue_depth;
	uint64_t in_flight;
	uint64_t keys_tracked;
	const struct psync_sink_status *sink;
	uint64_t refused_since_ns; /* 0: writes are not being refused */
};

void psync__metrics_init(struct psync__metrics *m, uint64_t now, uint64_t window_ns,
			 uint64_t health_window_ns);
void psync__rate_add(struct psync__rate *r, uint64_t now, uint64_t n);
double psync__rate_per_sec(const struct psync__rate *r, uint64_t now, uint64_t start_ns);
void psync__metrics_record_ack(struct psync__metrics *m, uint64_t origin_ns, uint64_t now);
void psync__metrics_set_error(struct psync__metrics *m, const char *what, int status,
			      const char *reason);
/* Fills out (all of it; the caller copies what its caller sized). */
void psync__metrics_summarise(const struct psync__metrics *m, const struct psync__metrics_extra *x,
			      const struct psync__health_limits *limits, uint64_t now,
			      struct psync_metrics *out);

#endif
