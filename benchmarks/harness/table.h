/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the table of figures. Every row names its scenario and
 * figure, the seed's target and this machine's target where there is one,
 * our figure and, where one was measured in the same run, the floor and our
 * ratio to it, and last whether our figure met the target here ("met",
 * "SHORT", "-" without one). Rows print as they are added, under a header
 * printed with the first.
 */
#ifndef PSYNC_BENCH_TABLE_H
#define PSYNC_BENCH_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct row_text {
	const char *scenario;
	const char *figure;
	const char *seed; /* the seed guide's target; NULL: none */
	/* The target on this machine; NULL: none. Judged as written: "<= N",
	 * ">= N", a bare "N" (within 1 %), where N may have thousands commas
	 * and " MB" (1,000 kB, for figures in kB); "exact" for a word;
	 * "kernel's rate": within 5 % of the floor; "<= Nx floor": the ratio
	 * to the floor at most N. */
	const char *target;
};

/* A numeric figure; floor < 0 when no floor was measured. */
void table_add(const struct row_text *t, double ours, double floor);
/* A figure that is a word ("exact", "3 of 512 differ"). */
void table_add_text(const struct row_text *t, const char *ours);

/* After the last row: the rows that fell short, then "targets: N met, M
 * short". Returns M. */
unsigned table_print_targets(void);

/* Percentile q (0..1) of samples, which it sorts; 0 when n is 0. */
uint64_t percentile(uint64_t *samples, size_t n, double q);

#endif
