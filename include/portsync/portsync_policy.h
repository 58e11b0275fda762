/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_PORTSYNC_POLICY_H
#define PORTSYNC_PORTSYNC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/event.h>
#include <portsync/policy.h>

PSYNC_BEGIN_DECLS

/**
 * @file
 * SONiC's portsyncd as a policy: what it reads at start-up and writes for each
 * link event, key for key and field for field (see SONIC_SCHEMA in the design
 * notes). Its sink must know the databases CONFIG_DB, APPL_DB and STATE_DB.
 *
 * Start-up (psync_pipeline_start): warm-restart detection, CONFIG_DB PORT ->
 * APPL_DB PORT_TABLE (producer protocol) and PortConfigDone, pruning of ports
 * created in an earlier life, and old Ethernet* netdevs set admin-down. All
 * start-up reads of one kind leave together (pipelined), then the policy waits
 * for their answers (start_timeout_ms).
 *
 * Per link event: the name filter, team kind, master and old-ifindex rules,
 * STATE_DB PORT_TABLE writes and deletes, PortInitDone once every configured
 * port has been seen. After a source overrun, the next completed dump
 * reconciles STATE_DB: ports that vanished unseen are deleted.
 *
 * Difference from the C++ daemon, on purpose: the APPL_DB PORT_TABLE existence
 * check is not a blocking HGETALL per event. A port found there is remembered
 * until its netdev is deleted (DELLINK); unknown ports are checked with reads
 * pipelined per dispatch, and their events wait, in order, for the answer.
 *
 * Blocking: psync_pipeline_start() with this policy blocks on its start-up
 * reads (psync_sink_wait(), up to start_timeout_ms per round) and in the
 * set_link_down calls it makes for old links (psync_netlink_set_link_down()
 * blocks for one netlink round trip each); per event, nothing blocks. Its
 * callbacks run on the thread that drives the pipeline; use it, with its
 * pipeline, from one thread at a time.
 */

/** A link that existed before start, as the daemon listed it. */
struct psync_portsync_link {
	uint32_t ifindex;              /**< its interface index */
	char ifname[PSYNC_IFNAME_MAX]; /**< its name, NUL-terminated */
};

/** Receives a log message (borrowed for the call). Priorities are syslog's
 * (LOG_WARNING, LOG_NOTICE, LOG_INFO, ...). */
typedef void (*psync_log_fn)(int priority, const char *message, void *userdata);

/**
 * Whether a message of this priority would be kept now (level, rate limit).
 * The policy formats a message only when it would: per-event NOTICE lines cost
 * more to format than the rest of an event's handling. Answering 0 drops the
 * message unseen, so count it there if dropped messages are reported.
 */
typedef int (*psync_log_wanted_fn)(int priority, void *userdata);

/** Sets a link admin-down; a failure is logged, never fatal. Return 0 or -errno.
 * psync_netlink_set_link_down() does it for the calling thread's namespace. */
typedef int (*psync_link_down_fn)(uint32_t ifindex, const char *ifname, void *userdata);

/** Options of psync_portsync_policy_new(); a zero member takes the default named beside it. */
struct psync_portsync_options {
	size_t sz; /**< sizeof(struct psync_portsync_options) */
	/** Netdevs present at start: Ethernet* ones become "old" on a cold start. Copied. */
	const struct psync_portsync_link *existing_links;
	size_t n_existing_links; /**< entries of existing_links */
	psync_link_down_fn set_link_down; /**< NULL: old links are only ignored */
	psync_log_fn log;                 /**< NULL: silent */
	void *userdata;                   /**< for set_link_down, log and log_wanted */
	int start_timeout_ms;             /**< start-up reads: 0 means 10000 */
	/** 1: also write STATE_DB carrier_changes (IFLA_CARRIER_CHANGES) when the
	 * kernel reports it. An extension of ours, off by default: SONiC's
	 * portsyncd writes exactly state, netdev_oper_status, admin_status, mtu. */
	int carrier_changes;
	psync_log_wanted_fn log_wanted;   /* NULL: every message goes to log */
};
/** @var psync_portsync_options::log_wanted
 * Asked before each message is formatted; NULL: every message goes to log. */

/**
 * Creates the portsync policy. opts may be NULL (all defaults). Members past
 * opts->sz, as from a program built against an older header, are taken as
 * zero. -EINVAL, -ENOMEM. opts and existing_links are copied. Free the policy
 * with psync_policy_free(), or hand it to psync_pipeline_new().
 *
 * @retval 0 success, the policy in *ret.
 * @retval -EINVAL ret is NULL, opts->sz does not reach log_wanted, or
 *         existing_links is NULL with n_existing_links > 0.
 * @retval -ENOMEM out of memory.
 */
PSYNC_API int psync_portsync_policy_new(const struct psync_portsync_options *opts,
					struct psync_policy **ret);

/** What the policy knows, for status lines and tests. */
struct psync_portsync_status {
	size_t sz;            /**< set by the caller */
	int warm;             /**< started warm */
	int dpu;              /**< DEVICE_METADATA switch_type is dpu */
	int port_init_done;   /**< PortInitDone sent */
	uint64_t config_ports;  /**< CONFIG_DB PORT entries at start */
	uint64_t waiting;       /**< configured ports whose netdev is not seen yet */
	uint64_t old_links;     /**< ifindexes ignored as old */
	uint64_t known_ports;   /**< ports known to exist in APPL_DB PORT_TABLE */
	uint64_t appl_checks;   /**< APPL_DB existence reads issued */
	uint64_t published;     /**< STATE_DB writes */
	uint64_t deleted;       /**< STATE_DB deletes (DELLINK or reconciliation) */
	uint64_t reconciled;    /**< of which by reconciliation after an overrun */
};

/**
 * Copies what the policy knows into st, at most st->sz bytes (set it first);
 * st->sz is set to the bytes filled. Never blocks.
 *
 * @retval 0 success.
 * @retval -EINVAL policy or st is NULL, policy is not a portsync policy, or
 *         st->sz is smaller than its first member.
 */
PSYNC_API int psync_portsync_policy_get_status(struct psync_policy *policy,
					       struct psync_portsync_status *st);

PSYNC_END_DECLS

#endif
