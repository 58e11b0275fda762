/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: the table of figures. Every row names its scenario and
 * figure, the seed's target and this machine's target where there is one,
 * our figure and, where one was measured in the same run, the floor and our
 * ratio to it, and last whether our figure met the target here ("met",
 * "SHORT", "-" without one). Rows print as they are added, under a header
 * printed with the first. A program that measures a second build beside its
 * own (the build before a change) asks for two more columns before the first
 * row: that build's figure ("before") and our ratio to it ("vs before").
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
	 * "kernel's rate": within 5 % of the floor; "<= Rx before", ">= Rx
	 * before", "<= Rx floor", ">= Rx floor": our ratio to that figure, as
	 * printed, at most or at least R (short when it was not measured). */
	const char *target;
};

/* Before the first row: every row gets the columns "before" and "vs
 * before" ("-" where a row has no such figure). Without it the table has
 * neither. */
void table_show_before(void);

/* A numeric figure; floor < 0 when no floor was measured. */
void table_add(const struct row_text *t, double ours, double floor);
/* The same beside the build before's figure; before < 0 (or NAN) when it
 * was not measured. */
void table_add_vs(const struct row_text *t, double ours, double before, double floor);
/* A figure that is a word ("exact", "3 of 512 differ"). */
void table_add_text(const struct row_text *t, const char *ours);
/* The same beside the build before's word and the floor's; NULL: not
 * measured. Judged on ours. */
void table_add_text_vs(const struct row_text *t, const char *ours, const char *before,
		       const char *floor);

/* After the last row: the rows that fell short, then "targets: N met, M
 * short". Returns M. */
unsigned table_print_targets(void);

/* Percentile q (0..1) of samples, which it sorts; 0 when n is 0. */
uint64_t percentile(uint64_t *samples, size_t n, double q);

#endif
