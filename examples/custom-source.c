/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing your own source: this one reads events as JSON lines from a file
 * descriptor (standard input), without blocking, and ends at end of file.
 *
 *   some-recorder | custom-source
 *   custom-source < recording.jsonl
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <portsync/portsync.h>

struct line_source {
	int fd;
	int eof;
	char buf[65536];
	size_t len;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Emits every complete line in the buffer, up to budget. */
static int emit_lines(struct line_source *ls, unsigned budget, psync_emit_fn emit, void *ud)
{
	char *start = ls->buf, *nl;
	int n = 0;

	while ((unsigned)n < budget && (nl = memchr(start, '\n', ls->len - (size_t)(start - ls->buf)))) {
		struct psync_link_event ev;
		char err[160];

		*nl = '\0';
		if (psync_event_from_json(start, &ev, err, sizeof(err)) == 0) {
			ev.recv_ns = now_ns(); /* latency is measured from here */
			if (emit(&ev, ud) < 0)
				break;
			n++;
		} else if (*start) {
			fprintf(stderr, "custom-source: skipped a line: %s\n", err);
		}
		start = nl + 1;
	}
	ls->len -= (size_t)(start - ls->buf);
	memmove(ls->buf, start, ls->len);
	return n;
}

static int line_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	struct line_source *ls = impl;
	ssize_t got = read(ls->fd, ls->buf + ls->len, sizeof(ls->buf) - 1 - ls->len);

	if (got == 0 || (got < 0 && errno != EAGAIN) || (got < 0 && ls->len == sizeof(ls->buf) - 1))
		ls->eof = 1;
	if (got > 0)
		ls->len += (size_t)got;
	if (ls->eof && ls->len && ls->buf[ls->len - 1] != '\n')
		ls->buf[ls->len++] = '\n'; /* a last line without newline still counts */
	return emit_lines(ls, budget, emit, userdata);
}

static int line_get_fd(void *impl)
{
	return ((struct line_source *)impl)->fd;
}

static int line_is_finished(void *impl)
{
	struct line_source *ls = impl;

	return ls->eof && ls->len == 0;
}

static const struct psync_source_ops line_ops = {
	.sz = sizeof(struct psync_source_ops),
	.name = "lines",
	.dispatch = line_dispatch,
	.get_fd = line_get_fd,
	.is_finished = line_is_finished,
	.destroy = free,
};

int main(void)
{
	struct line_source *ls = calloc(1, sizeof(*ls));
	struct psync_metrics m = { .sz = sizeof(m) };
	struct psync_source *src = NULL;
	struct psync_policy *pol = NULL;
	struct psync_sink *sink = NULL;
	struct psync_pipeline *p = NULL;

	if (!ls || fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK) < 0 ||
	    psync_source_new(&line_ops, ls, &src) < 0 ||
	    psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &pol) < 0 ||
	    psync_memory_sink_new(NULL, &sink) < 0 || psync_pipeline_new(src, pol, sink, NULL, &p) < 0) {
		fprintf(stderr, "custom-source: setup failed\n");
		return 1;
	}
	psync_pipeline_run(p, -1);
	psync_pipeline_get_metrics(p, &m);
	printf("%llu events, %llu writes, %zu ports in STATE_DB\n",
	       (unsigned long long)m.events_received, (unsigned long long)m.writes_acked,
	       psync_memory_sink_count_keys(sink, "STATE_DB"));
	psync_pipeline_free(p);
	return 0;
}
