/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define MAX_ROWS 128

struct row {
	char scenario[32], figure[48], seed[16], target[16];
	char ours[32];
	char floor[16];
	char ratio[16];
};

static struct row rows[MAX_ROWS];
static size_t n_rows;

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
	printf("%-24s %-36s %-14s %-13s %12s %10s %8s\n", r->scenario, r->figure, r->seed,
	       r->target, r->ours, r->floor, r->ratio);
	fflush(stdout);
}

static void print_header(void)
{
	printf("%-24s %-36s %-14s %-13s %12s %10s %8s\n", "scenario", "figure", "seed target",
	       "target here", "ours", "floor", "ratio");
}

static struct row *row_new(const struct row_text *t)
{
	struct row *r = &rows[n_rows < MAX_ROWS ? n_rows++ : MAX_ROWS - 1];

	/* Copies: callers may pass names built on their stack. */
	snprintf(r->scenario, sizeof(r->scenario), "%s", t->scenario);
	snprintf(r->figure, sizeof(r->figure), "%s", t->figure);
	snprintf(r->seed, sizeof(r->seed), "%s", t->seed ? t->seed : "-");
	snprintf(r->target, sizeof(r->target), "%s", t->target ? t->target : "-");
	snprintf(r->floor, sizeof(r->floor), "-");
	snprintf(r->ratio, sizeof(r->ratio), "-");
	if (n_rows == 1)
		print_header();
	return r;
}

void table_add(const struct row_text *t, double ours, double floor_value)
{
	struct row *r = row_new(t);

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
	struct row *r = row_new(t);

	snprintf(r->ours, sizeof(r->ours), "%s", ours);
	print_row(r);
}

void table_print(void)
{
	printf("\n");
	print_header();
	for (size_t i = 0; i < n_rows; i++)
		print_row(&rows[i]);
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
