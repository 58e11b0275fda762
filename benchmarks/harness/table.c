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

enum verdict { NO_TARGET, MET, SHORT, NOT_UNDERSTOOD };

static const char *const verdict_names[] = { "-", "met", "SHORT", "?" };

#define MAX_SHORT 32

static bool header_printed;
static unsigned verdicts[4];
static char short_rows[MAX_SHORT][192];

static void format_number(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

/* A number as a target writes it: "150,000", "4 MB" (1,000 kB: figures of
 * memory are in kB). */
static bool read_number(const char *s, double *ret)
{
	char digits[32], *end;
	size_t n = 0;
	double scale = 1, v;

	for (; *s && *s != ' ' && n + 1 < sizeof(digits); s++)
		if (*s != ',')
			digits[n++] = *s;
	digits[n] = '\0';
	if (!strcmp(s, " MB"))
		scale = 1000;
	else if (*s)
		return false;
	v = strtod(digits, &end);
	if (end == digits || *end)
		return false;
	*ret = v * scale;
	return true;
}

/* "<= Nx floor": a bound on the ratio to the floor; false for other targets. */
static bool read_ratio_bound(const char *target, double *ret)
{
	char *end;

	if (strncmp(target, "<= ", 3) != 0)
		return false;
	*ret = strtod(target + 3, &end);
	return end != target + 3 && !strcmp(end, "x floor");
}

/* A figure against its target here, as printed (so the verdict agrees with
 * what the reader sees): "<= N", ">= N", a bare N (within 1 %), "exact" (a
 * word), "kernel's rate" (within 5 % of the floor, which is that rate),
 * "<= Nx floor" (the ratio to the floor). */
static enum verdict judge(const char *target, const char *ours, const char *ratio)
{
	char *end;
	double v = strtod(ours, &end), bound;
	bool number = end != ours && !*end;

	if (!strcmp(target, "-"))
		return NO_TARGET;
	if (read_ratio_bound(target, &bound)) {
		double q = strtod(ratio, &end);

		return end != ratio && !*end && q <= bound ? MET : SHORT;
	}
	if (!strcmp(target, "exact"))
		return !strcmp(ours, "exact") ? MET : SHORT;
	if (!strcmp(target, "kernel's rate"))
		return strtod(ratio, NULL) >= 0.95 ? MET : SHORT;
	if (!strncmp(target, "<= ", 3) && read_number(target + 3, &bound))
		return number && v <= bound ? MET : SHORT;
	if (!strncmp(target, ">= ", 3) && read_number(target + 3, &bound))
		return number && v >= bound ? MET : SHORT;
	if (read_number(target, &bound))
		return number && fabs(v - bound) <= 0.01 * fabs(bound) ? MET : SHORT;
	return NOT_UNDERSTOOD;
}

static void count_verdict(const struct row *r, enum verdict verdict)
{
	unsigned at = verdicts[SHORT];
	bool floor_known = strcmp(r->floor, "-") != 0;

	if (verdict == SHORT && at < MAX_SHORT)
		snprintf(short_rows[at], sizeof(short_rows[at]), "%s, %s: %s (target %s%s%s)",
			 r->scenario, r->figure, r->ours, r->target, floor_known ? ", floor " : "",
			 floor_known ? r->floor : "");
	verdicts[verdict]++;
}

static void print_row(const struct row *r)
{
	enum verdict verdict = judge(r->target, r->ours, r->ratio);

	count_verdict(r, verdict);
	printf("%-24s %-40s %-14s %-13s %12s %10s %8s  %s\n", r->scenario, r->figure, r->seed,
	       r->target, r->ours, r->floor, r->ratio, verdict_names[verdict]);
	fflush(stdout);
}

static void print_header(void)
{
	printf("%-24s %-40s %-14s %-13s %12s %10s %8s  %s\n", "scenario", "figure", "seed target",
	       "target here", "ours", "floor", "ratio", "vs target");
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

unsigned table_print_targets(void)
{
	unsigned listed = verdicts[SHORT] < MAX_SHORT ? verdicts[SHORT] : MAX_SHORT;

	if (verdicts[SHORT])
		printf("\n");
	for (unsigned i = 0; i < listed; i++)
		printf("short: %s\n", short_rows[i]);
	printf("targets: %u met, %u short", verdicts[MET], verdicts[SHORT]);
	if (verdicts[NOT_UNDERSTOOD])
		printf(", %u not understood", verdicts[NOT_UNDERSTOOD]);
	printf("\n");
	fflush(stdout);
	return verdicts[SHORT];
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
