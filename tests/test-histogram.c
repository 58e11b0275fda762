/* SPDX-License-Identifier: Apache-2.0 */
/* Percentiles of the log-linear histogram against distributions with known quantiles. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include <portsync/portsync.h>

/* Every reported quantile is the upper end of a bucket at most 1/16 wide. */
#define REL_ERROR (1.0 / 16)

static void assert_close(uint64_t got, double want)
{
	cr_assert(fabs((double)got - want) <= want * REL_ERROR + 1, "got %llu, want %.0f",
		  (unsigned long long)got, want);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	return sorted[rank ? rank - 1 : 0];
}

Test(histogram, empty_reports_zero)
{
	struct psync_histogram h = { 0 };

	cr_assert_eq(psync_histogram_quantile(&h, 0.5), 0);
	cr_assert_eq(psync_histogram_quantile(&h, 0.99), 0);
}

Test(histogram, single_value_is_exact)
{
	struct psync_histogram h = { 0 };

	psync_histogram_record(&h, 123456);
	cr_assert_eq(psync_histogram_quantile(&h, 0.5), 123456, "clamped to min/max");
	cr_assert_eq(h.min, 123456);
	cr_assert_eq(h.max, 123456);
}

Test(histogram, small_values_are_exact)
{
	struct psync_histogram h = { 0 };

	for (uint64_t v = 0; v < 16; v++)
		psync_histogram_record(&h, v);
	cr_assert_eq(psync_histogram_quantile(&h, 0.5), 7);
	cr_assert_eq(psync_histogram_quantile(&h, 1.0 / 16), 0);
}

Test(histogram, uniform_distribution)
{
	struct psync_histogram h = { 0 };
	const double qs[] = { 0.5, 0.9, 0.99, 0.999 };

	for (uint64_t v = 1; v <= 1000000; v++)
		psync_histogram_record(&h, v);
	for (size_t i = 0; i < 4; i++)
		assert_close(psync_histogram_quantile(&h, qs[i]), qs[i] * 1e6);
	cr_assert_eq(psync_histogram_quantile(&h, 1.0), 1000000);
	cr_assert_eq(h.sum / h.count, 500000);
}

Test(histogram, exponential_distribution_matches_exact_quantiles)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct psync_histogram h = { 0 };
	const double qs[] = { 0.5, 0.9, 0.99, 0.999 };

	srand48(1);
	for (size_t i = 0; i < N; i++) {
		v[i] = (uint64_t)(-log(1.0 - drand48()) * 50000.0); /* mean 50 us in ns */
		psync_histogram_record(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < 4; i++)
		assert_close(psync_histogram_quantile(&h, qs[i]), (double)exact_quantile(v, N, qs[i]));
	/* Against the distribution's own median, sampling error adds to the bucket's. */
	cr_assert(fabs((double)psync_histogram_quantile(&h, 0.5) - 50000.0 * log(2.0)) < 50000.0 * log(2.0) * 0.08);
	free(v);
}

Test(histogram, bimodal_distribution)
{
	struct psync_histogram h = { 0 };

	/* 98 % fast (10 us), 2 % slow (5 ms): p50 and p90 fast, p99 slow. */
	for (int i = 0; i < 9800; i++)
		psync_histogram_record(&h, 10000);
	for (int i = 0; i < 200; i++)
		psync_histogram_record(&h, 5000000);
	assert_close(psync_histogram_quantile(&h, 0.5), 10000);
	assert_close(psync_histogram_quantile(&h, 0.9), 10000);
	assert_close(psync_histogram_quantile(&h, 0.98), 10000);
	assert_close(psync_histogram_quantile(&h, 0.99), 5000000);
}

Test(histogram, buckets_tile_the_range)
{
	for (unsigned i = 0; i + 1 < PSYNC_HISTOGRAM_BUCKETS; i++) {
		uint64_t lo = psync_histogram_bucket_lower(i), hi = psync_histogram_bucket_upper(i);

		cr_assert_leq(lo, hi, "bucket %u", i);
		cr_assert_eq(hi + 1, psync_histogram_bucket_lower(i + 1), "gap after bucket %u", i);
		cr_assert_leq(hi - lo, lo / 16 + 1, "bucket %u too wide", i);
	}
}

Test(histogram, each_value_lands_in_its_bucket)
{
	for (uint64_t v = 1; v < (1ULL << 39); v = v * 3 + 1) {
		struct psync_histogram h = { 0 };
		unsigned i = 0;

		psync_histogram_record(&h, v);
		while (h.buckets[i] == 0)
			i++;
		cr_assert(psync_histogram_bucket_lower(i) <= v && v <= psync_histogram_bucket_upper(i),
			  "%llu in bucket %u", (unsigned long long)v, i);
	}
}

Test(histogram, huge_values_keep_exact_max)
{
	struct psync_histogram h = { 0 };

	psync_histogram_record(&h, UINT64_MAX / 2);
	cr_assert_eq(h.buckets[PSYNC_HISTOGRAM_BUCKETS - 1], 1);
	cr_assert_eq(psync_histogram_quantile(&h, 0.99), UINT64_MAX / 2);
}

Test(histogram, merge_equals_recording_everything)
{
	struct psync_histogram a = { 0 }, b = { 0 }, all = { 0 };

	for (uint64_t v = 1; v < 5000; v += 7) {
		psync_histogram_record(v % 2 ? &a : &b, v * 13);
		psync_histogram_record(&all, v * 13);
	}
	psync_histogram_merge(&a, &b);
	cr_assert_eq(memcmp(&a, &all, sizeof(a)), 0);
	psync_histogram_reset(&a);
	cr_assert_eq(a.count, 0);
}
