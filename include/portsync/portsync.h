/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_PORTSYNC_H
#define PORTSYNC_PORTSYNC_H

/**
 * @file
 * The umbrella header: everything libportsync declares. netlink.h and redis.h
 * are included when this build of the library has them (features.h).
 */

/**
 * @mainpage libportsync API reference
 *
 * libportsync turns link events into keyed state writes and measures the
 * latency of every one of them: a source (netlink, replay, your own) feeds a
 * policy (portsync, mirror, your own) that writes through a sink (Redis,
 * memory, your own), all driven from the caller's event loop by a pipeline.
 *
 * Start with the @ref libportsync-guide "guide": embedding in an event loop,
 * writing a sink, the error model, threads and blocking. Then one header per
 * concept, all included by <portsync/portsync.h>: event.h, source.h, sink.h,
 * policy.h, pipeline.h, metrics.h, replay.h, memory_sink.h, netlink.h,
 * redis.h, portsync_policy.h, prometheus.h, with common.h, version.h and
 * features.h. The same text is in the man pages: `man psync_pipeline_new`,
 * `man libportsync-pipeline.h`, `man libportsync-guide`.
 */
#include <portsync/common.h>
#include <portsync/version.h>
#include <portsync/features.h>
#include <portsync/event.h>
#include <portsync/source.h>
#include <portsync/sink.h>
#include <portsync/metrics.h>
#include <portsync/policy.h>
#include <portsync/pipeline.h>
#include <portsync/replay.h>
#include <portsync/memory_sink.h>
#include <portsync/portsync_policy.h>
#include <portsync/prometheus.h>
#if PSYNC_HAVE_NETLINK
#include <portsync/netlink.h>
#endif
#if PSYNC_HAVE_REDIS
#include <portsync/redis.h>
#endif

#endif
