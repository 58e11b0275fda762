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
	char floor[32];
	char ratio[16];
	char before[32];    /* the build before's figure; "-": not measured */
	char vs_before[16]; /* ours / before */
};

enum verdict { NO_TARGET, MET, SHORT, NOT_UNDERSTOOD };

static const char *const verdict_names[] = { "-", "met", "SHORT", "?" };

#define MAX_SHORT 32

static bool header_printed, show_before;
static unsigned verdicts[4];
static char short_rows[MAX_SHORT][256];

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

/* "Rx before", "Rx floor": R, and which of the row's printed ratios it
 * bounds (ours / before, ours / floor). */
static bool read_relative(const char *s, const struct row *r, double *bound, const char **ratio)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return false;
	if (!strcmp(end, "x before"))
		*ratio = r->vs_before;
	else if (!strcmp(end, "x floor"))
		*ratio = r->ratio;
	else
		return false;
	*bound = v;
	return true;
}

/* A printed figure against a bound; a figure that is no number ("-": not
 * measured) falls short. */
static enum verdict bounded(const char *figure, double bound, bool at_most)
{
	char *end;
	double v = strtod(figure, &end);

	if (end == figure || *end)
		return SHORT;
	return (at_most ? v <= bound : v >= bound) ? MET : SHORT;
}

/* A figure against its target here, as printed (so the verdict agrees with
 * what the reader sees): "<= N", ">= N", a bare N (within 1 %), "exact" (a
 * word), "kernel's rate" (within 5 % of the floor, which is that rate), and
 * the bounds on a ratio, "<= Rx before", ">= Rx floor" and so on. */
static enum verdict judge(const char *target, const struct row *r)
{
	const char *ratio;
	double bound;

	if (!strcmp(target, "-"))
		return NO_TARGET;
	if (!strcmp(target, "exact"))
		return !strcmp(r->ours, "exact") ? MET : SHORT;
	if (!strcmp(target, "kernel's rate"))
		return strtod(r->ratio, NULL) >= 0.95 ? MET : SHORT;
	if (!strncmp(target, "<= ", 3) && read_relative(target + 3, r, &bound, &ratio))
		return bounded(ratio, bound, true);
	if (!strncmp(target, ">= ", 3) && read_relative(target + 3, r, &bound, &ratio))
		return bounded(ratio, bound, false);
	if (!strncmp(target, "<= ", 3) && read_number(target + 3, &bound))
		return bounded(r->ours, bound, true);
	if (!strncmp(target, ">= ", 3) && read_number(target + 3, &bound))
		return bounded(r->ours, bound, false);
	if (read_number(target, &bound)) {
		char *end;
		double v = strtod(r->ours, &end);

		return end != r->ours && !*end && fabs(v - bound) <= 0.01 * fabs(bound) ? MET : SHORT;
	}
	return NOT_UNDERSTOOD;
}

static void count_verdict(const struct row *r, enum verdict verdict)
{
	unsigned at = verdicts[SHORT];
	bool floor_known = strcmp(r->floor, "-") != 0;
	bool before_known = strcmp(r->before, "-") != 0;

	if (verdict == SHORT && at < MAX_SHORT)
		snprintf(short_rows[at], sizeof(short_rows[at]), "%s, %s: %s (target %s%s%s%s%s)",
			 r->scenario, r->figure, r->ours, r->target, before_known ? ", before " : "",
			 before_known ? r->before : "", floor_known ? ", floor " : "",
			 floor_known ? r->floor : "");
	verdicts[verdict]++;
}

static void print_row(const struct row *r)
{
	enum verdict verdict = judge(r->target, r);

	count_verdict(r, verdict);
	if (show_before)
		printf("%-24s %-40s %-14s %-15s %12s %10s %9s %10s %8s  %s\n", r->scenario,
		       r->figure, r->seed, r->target, r->ours, r->before, r->vs_before, r->floor,
		       r->ratio, verdict_names[verdict]);
	else
		printf("%-24s %-40s %-14s %-13s %12s %10s %8s  %s\n", r->scenario, r->figure,
		       r->seed, r->target, r->ours, r->floor, r->ratio, verdict_names[verdict]);
	fflush(stdout);
}

static void print_header(void)
{
	if (show_before)
		printf("%-24s %-40s %-14s %-15s %12s %10s %9s %10s %8s  %s\n", "scenario", "figure",
		       "seed target", "target here", "ours", "before", "vs before", "floor", "ratio",
		       "vs target");
	else
		printf("%-24s %-40s %-14s %-13s %12s %10s %8s  %s\n", "scenario", "figure",
		       "seed target", "target here", "ours", "floor", "ratio", "vs target");
}

void table_show_before(void)
{
	show_before = true;
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
	snprintf(r->before, sizeof(r->before), "-");
	snprintf(r->vs_before, sizeof(r->vs_before), "-");
	if (!header_printed) {
		print_header();
		header_printed = true;
	}
}

/* A measured reference figure and our ratio to it; nothing when it was not
 * measured (negative or NAN). */
static void reference_put(char *figure, size_t figure_len, char *ratio, size_t ratio_len,
			  double ours, double value)
{
	if (!(value >= 0))
		return;
	format_number(figure, figure_len, value);
	if (value > 0 && !isnan(ours))
		snprintf(ratio, ratio_len, "%.2f", ours / value);
}

void table_add_vs(const struct row_text *t, double ours, double before, double floor_value)
{
	struct row row, *r = &row;

	row_init(r, t);
	format_number(r->ours, sizeof(r->ours), ours);
	reference_put(r->before, sizeof(r->before), r->vs_before, sizeof(r->vs_before), ours,
		      before);
	reference_put(r->floor, sizeof(r->floor), r->ratio, sizeof(r->ratio), ours, floor_value);
	print_row(r);
}

void table_add(const struct row_text *t, double ours, double floor_value)
{
	table_add_vs(t, ours, -1, floor_value);
}

void table_add_text_vs(const struct row_text *t, const char *ours, const char *before,
		       const char *floor_text)
{
	struct row row, *r = &row;

	row_init(r, t);
	snprintf(r->ours, sizeof(r->ours), "%s", ours);
	if (before)
		snprintf(r->before, sizeof(r->before), "%s", before);
	if (floor_text)
		snprintf(r->floor, sizeof(r->floor), "%s", floor_text);
	print_row(r);
}

void table_add_text(const struct row_text *t, const char *ours)
{
	table_add_text_vs(t, ours, NULL, NULL);
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
