/* SPDX-License-Identifier: Apache-2.0 */
/* portsyncd's tunables file (INI). */
#ifndef PORTSYNCD_CONFIG_H
#define PORTSYNCD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct daemon_config {
	/* [netlink] */
	uint32_t receive_buffer;     /* bytes; 0: the library's default (8 MiB) */
	unsigned netlink_budget;     /* messages per dispatch */
	/* [pipeline] */
	unsigned max_attempts;
	unsigned retry_min_ms;
	unsigned retry_max_ms;
	unsigned queue_degraded;
	unsigned batch_hold_us;      /* bound on the wait batching adds; 0: no batching */
	/* [redis] */
	unsigned max_in_flight;
	unsigned connect_timeout_ms;
	unsigned reply_timeout_ms;   /* unanswered this long: unhealthy */
	unsigned exit_on_reset;      /* 1: exit 1 when Redis comes back empty */
	unsigned backoff_min_ms;
	unsigned backoff_max_ms;
	char password_file[256];
	char password_env[64];
	/* [log] */
	unsigned rate_limit;         /* messages per second; 0: unlimited */
	unsigned rate_burst;
	/* [health] */
	unsigned p99_degraded_us;    /* 0: latency never degrades health */
	unsigned overrun_degraded_s; /* degraded this long after an overrun */
	unsigned health_window_s;    /* p99_degraded_us is judged over this */
	/* [metrics] */
	char listen[64];             /* HTTP /metrics and /health; "" = off */
	unsigned summary_interval_s; /* periodic log line; 0 = off */
	unsigned state_db_stats;     /* 1: the summary also into STATE_DB */
	unsigned legacy_names;       /* 1: /metrics also has the earlier names */
	/* [daemon] */
	unsigned start_timeout_ms;
	unsigned flush_timeout_ms;   /* at SIGTERM */
	/* [extensions]: ours, not SONiC's; all off by default */
	unsigned carrier_changes;    /* 1: STATE_DB PORT_TABLE also gets carrier_changes */
};

/* Defaults, then the file (when path is not NULL). On failure returns -1 with
 * "FILE:LINE: what is wrong" in err. */
int load_config(const char *path, struct daemon_config *cfg, char *err, size_t err_len);

#endif
