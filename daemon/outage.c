/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <syslog.h>

#include "log.h"
#include "outage.h"

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	return m > c ? m : c;
}

void outage_check(struct outage *o, const struct psync_metrics *m, uint64_t now_ns)
{
	/* How long the store has not been taking writes, 0 when it does. */
	uint64_t lasting = max3(m->sink_connected ? 0 : m->sink_down_ns ? m->sink_down_ns : 1,
				m->sink_stalled_ns, m->refusing_ns);

	if (m->writes_failed > o->failed_seen) {
		log_msg(LOG_WARNING, "%" PRIu64 " writes given up (a permanent error): %s",
			m->writes_failed - o->failed_seen, m->last_error);
		o->failed_seen = m->writes_failed;
	}
	if (lasting && !o->on) {
		o->on = 1;
		o->began_ns = now_ns - lasting;
		o->retried_at_start = m->writes_retried;
		log_msg(LOG_WARNING, "Redis outage: %s", m->health_reason);
	} else if (!lasting && o->on) {
		o->on = 0;
		log_msg(LOG_NOTICE, "Redis outage over after %.1f s; %" PRIu64 " writes sent again",
			(double)(now_ns - o->began_ns) / 1e9, m->writes_retried - o->retried_at_start);
	}
}
