/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <portsync/prometheus.h>

#include "http.h"
#include "metrics_page.h"

#define MAX_CONNECTIONS 8

/* The answer outlives the handler's frame: the server copies it afterwards. */
static struct {
	struct loop *l;
	char *buf;
	size_t cap;
} page;

static uint64_t resident_bytes(void)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int reserve(size_t len)
{
	char *buf;

	if (len <= page.cap)
		return 0;
	buf = realloc(page.buf, len);
	if (!buf)
		return -ENOMEM;
	page.buf = buf;
	page.cap = len;
	return 0;
}

static int metrics(const struct psync_metrics *m, struct http_response *resp)
{
	struct psync_prometheus_options o = { .sz = sizeof(o), .memory_bytes = resident_bytes(),
					      .legacy_names = (int)page.l->cfg->legacy_names };
	int need = psync_metrics_format_prometheus(m, &o, NULL, 0);

	if (need < 0 || reserve((size_t)need + 1) < 0)
		return need < 0 ? need : -ENOMEM;
	psync_metrics_format_prometheus(m, &o, page.buf, page.cap);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = page.buf;
	resp->body_len = (size_t)need;
	return 0;
}

static int health(const struct psync_metrics *m, struct http_response *resp)
{
	int n;

	if (reserve(256) < 0)
		return -ENOMEM;
	n = snprintf(page.buf, page.cap, "%s%s%s\n", psync_health_to_string(m->health),
		     m->health_reason[0] ? ": " : "", m->health_reason);
	resp->status = m->health == PSYNC_HEALTH_UNHEALTHY ? 503 : 200;
	resp->body = page.buf;
	resp->body_len = n > 0 && (size_t)n < page.cap ? (size_t)n : page.cap - 1;
	return 0;
}

static int handle(const char *path, struct http_response *resp, void *userdata)
{
	struct psync_metrics *m;
	int r;

	(void)userdata;
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/health") != 0)
		return -ENOENT;
	m = malloc(sizeof(*m)); /* the histogram makes it large for a stack */
	if (!m)
		return -ENOMEM;
	m->sz = sizeof(*m);
	r = psync_pipeline_get_metrics(page.l->p, m);
	if (r == 0)
		r = path[1] == 'm' ? metrics(m, resp) : health(m, resp);
	free(m);
	return r;
}

int metrics_page_serve(const char *address, struct loop *l)
{
	page.l = l;
	return http_server_new(address, MAX_CONNECTIONS, handle, NULL, &l->http);
}

void metrics_page_stop(struct loop *l)
{
	http_server_free(l->http);
	l->http = NULL;
	free(page.buf);
	page.buf = NULL;
	page.cap = 0;
}
