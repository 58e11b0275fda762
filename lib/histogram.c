/* SPDX-License-Identifier: Apache-2.0 */
/* A log-linear histogram: exact below 2^SUB_BITS, then 2^SUB_BITS equal buckets
 * per power of two. One clz and a shift per record: cheap enough for every event. */
#include <errno.h>

#include "internal.h"

#define SUB_BITS PSYNC_HISTOGRAM_SUB_BITS
#define SUB_COUNT (1u << SUB_BITS)

static unsigned bucket_of(uint64_t v)
{
	unsigned exp, idx;

	if (v < SUB_COUNT)
		return (unsigned)v;
	exp = 63u - (unsigned)__builtin_clzll(v);
	idx = ((exp - SUB_BITS + 1) << SUB_BITS) + (unsigned)((v >> (exp - SUB_BITS)) & (SUB_COUNT - 1));
	return idx < PSYNC_HISTOGRAM_BUCKETS ? idx : PSYNC_HISTOGRAM_BUCKETS - 1;
}

PSYNC_API uint64_t psync_histogram_bucket_lower(unsigned i)
{
	unsigned shift;

	if (i < SUB_COUNT)
		return i;
	if (i >= PSYNC_HISTOGRAM_BUCKETS)
		i = PSYNC_HISTOGRAM_BUCKETS - 1;
	shift = (i >> SUB_BITS) - 1;
	return (uint64_t)(SUB_COUNT + (i & (SUB_COUNT - 1))) << shift;
}

PSYNC_API uint64_t psync_histogram_bucket_upper(unsigned i)
{
	if (i >= PSYNC_HISTOGRAM_BUCKETS - 1)
		return UINT64_MAX; /* the last bucket also takes everything larger */
	return psync_histogram_bucket_lower(i + 1) - 1;
}

PSYNC_API void psync_histogram_reset(struct psync_histogram *h)
{
	if (h)
		memset(h, 0, sizeof(*h));
}

PSYNC_API void psync_histogram_record(struct psync_histogram *h, uint64_t value)
{
	if (!h)
		return;
	if (h->count == 0 || value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	h->count++;
	h->sum += value;
	h->buckets[bucket_of(value)]++;
}

PSYNC_API void psync_histogram_merge(struct psync_histogram *dst, const struct psync_histogram *src)
{
	if (!dst || !src || src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (unsigned i = 0; i < PSYNC_HISTOGRAM_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

PSYNC_API uint64_t psync_histogram_quantile(const struct psync_histogram *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h || h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* The smallest value with at least q of the values at or below it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count || rank == 0)
		rank++;
	for (unsigned i = 0; i < PSYNC_HISTOGRAM_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t v = psync_histogram_bucket_upper(i);

			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}
