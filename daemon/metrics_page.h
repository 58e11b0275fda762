/* SPDX-License-Identifier: Apache-2.0 */
/* portsyncd's pages on its metrics endpoint: /metrics (Prometheus text) and
 * /health (200, or 503 when unhealthy, with the reason). */
#ifndef PORTSYNCD_METRICS_PAGE_H
#define PORTSYNCD_METRICS_PAGE_H

#include "loop.h"

/* Listens on address (see http_server_new) and sets l->http. 0 or -errno. */
int metrics_page_serve(const char *address, struct loop *l);
/* Stops serving and releases what the pages hold. */
void metrics_page_stop(struct loop *l);

#endif
