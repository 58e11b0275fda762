/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct row {
	char scenario[32], figure[48], seed[16], target[16];
	char ours[32];
	char floor[16];
	char ratio[16];
};

static bool header_printed;

static void format_number(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

static void print_row(const struct row *r)
{
	printf("%-24s %-40s %-14s %-13s %12s %10s %8s\n", r->scenario, r->figure, r->seed,
	       r->target, r->ours, r->floor, r->ratio);
	fflush(stdout);
}

static void print_header(void)
{
	printf("%-24s %-40s %-14s %-13s %12s %10s %8s\n", "scenario", "figure", "seed target",
	       "target here", "ours", "floor", "ratio");
}

/* Fills r with the names; callers may pass names built on their stack. */
static void row_init(struct row *r, const struct row_text *t)
{
	snprintf(r->scenario, sizeof(r->scenario), "%s", t->scenario);
	snprintf(r->figure, sizeof(r->figure), "%s", t->figure);
	snprintf(r->seed, sizeof(r->seed), "%s", t->seed ? t->seed : "-");
	snprintf(r->target, sizeof(r->target), "%s", t->target ? t->target : "-");
	snprintf(r->floor, sizeof(r->floor), "-");
	snprintf(r->ratio, sizeof(r->ratio), "-");
	if (!header_printed) {
		print_header();
		header_printed = true;
	}
}

void table_add(const struct row_text *t, double ours, double floor_value)
{
	struct row row, *r = &row;

	row_init(r, t);
	format_number(r->ours, sizeof(r->ours), ours);
	if (floor_value >= 0) {
		format_number(r->floor, sizeof(r->floor), floor_value);
		if (floor_value > 0 && !isnan(ours))
			snprintf(r->ratio, sizeof(r->ratio), "%.2f", ours / floor_value);
	}
	print_row(r);
}

void table_add_text(const struct row_text *t, const char *ours)
{
	struct row row, *r = &row;

	row_init(r, t);
	snprintf(r->ours, sizeof(r->ours), "%s", ours);
	print_row(r);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t percentile(uint64_t *samples, size_t n, double q)
{
	size_t at;

	if (n == 0)
		return 0;
	qsort(samples, n, sizeof(*samples), compare_u64);
	at = (size_t)ceil(q * (double)n);
	return samples[at ? at - 1 : 0];
}
