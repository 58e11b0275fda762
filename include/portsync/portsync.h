/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_PORTSYNC_H
#define PORTSYNC_PORTSYNC_H

/* The umbrella header: everything libportsync declares. */
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
