/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing your own sink: this one prints each write as the Redis command it
 * stands for and acknowledges it at flush, like a store that answers per batch.
 *
 *   custom-sink        (mirrors a few generated flaps)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <portsync/portsync.h>

struct print_sink {
	struct psync_sink *sink;          /* to complete writes through */
	const struct psync_write *batch[256];
	unsigned n;
};

static int print_submit(void *impl, const struct psync_write *w)
{
	struct print_sink *ps = impl;

	if (ps->n == 256)
		return -EAGAIN; /* the pipeline keeps it and coalesces until we flush */
	ps->batch[ps->n++] = w;
	return 0;
}

static int print_flush(void *impl)
{
	struct print_sink *ps = impl;

	for (unsigned i = 0; i < ps->n; i++) {
		const struct psync_write *w = ps->batch[i];

		printf("%s %s %s|%s", w->op == PSYNC_WRITE_DEL ? "DEL" : "HSET", w->db, w->table, w->key);
		for (size_t f = 0; f < w->n_fields; f++)
			printf(" %s %s", w->fields[f].name, w->fields[f].value);
		printf("\n");
		psync_sink_write_done(ps->sink, w, 0, NULL); /* w is gone after this */
	}
	ps->n = 0;
	return 0;
}

static const struct psync_sink_ops print_ops = {
	.sz = sizeof(struct psync_sink_ops),
	.name = "print",
	.submit = print_submit,
	.flush = print_flush,
	.destroy = free,
};

int main(void)
{
	struct psync_replay_generator gen = { .sz = sizeof(gen), .n_ports = 4, .n_events = 6, .seed = 1 };
	struct print_sink *ps = calloc(1, sizeof(*ps));
	struct psync_metrics m = { .sz = sizeof(m) };
	struct psync_source *src = NULL;
	struct psync_policy *pol = NULL;
	struct psync_pipeline *p = NULL;

	if (!ps || psync_sink_new(&print_ops, ps, &ps->sink) < 0 ||
	    psync_replay_source_new_generator(&gen, &src) < 0 ||
	    psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &pol) < 0 ||
	    psync_pipeline_new(src, pol, ps->sink, NULL, &p) < 0) {
		fprintf(stderr, "custom-sink: setup failed\n");
		return 1;
	}
	psync_pipeline_run(p, 1000);
	psync_pipeline_get_metrics(p, &m);
	printf("%llu writes acknowledged, p99 %.1f us\n", (unsigned long long)m.writes_acked,
	       m.latency_p99_ns / 1e3);
	psync_pipeline_free(p); /* frees the source, the policy and our sink */
	return 0;
}
