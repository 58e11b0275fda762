/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_NETLINK_H
#define PORTSYNC_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>
#include <portsync/event.h>
#include <portsync/source.h>

PSYNC_BEGIN_DECLS

/**
 * @file
 * The netlink source: link events of the kernel (rtnetlink, RTNLGRP_LINK) in the
 * network namespace the calling thread is in when the source is created.
 *
 * The socket joins RTNLGRP_LINK when the source is created, so nothing that
 * happens afterwards is missed; psync_source_request_dump asks for a full
 * RTM_GETLINK dump. Dump replies are emitted with from_dump = 1 and the dump's
 * generation (1 for the first dump, then counting up); live events that arrive
 * while a dump runs are emitted too (from_dump = 0). A dump ends with
 * PSYNC_EVENT_DUMP_DONE carrying its generation. A dump the kernel flags as
 * interrupted (NLM_F_DUMP_INTR) is followed by a new one instead of DUMP_DONE.
 * A dump requested while one runs follows it; requests while one waits merge.
 *
 * A NEWLINK carries the generation of the newest dump whose replies had begun
 * to arrive when the event was read: at DUMP_DONE of generation G, a link whose
 * last event carries a generation older than G is gone, so a consumer may drop
 * it (always safe, needed after an overrun).
 *
 * The socket is read with recvmmsg, up to 32 datagrams a call, each into a
 * slot of 8 KiB (256 KiB in all): the kernel sizes dump reply datagrams by the
 * reads it has seen, so they fit too. A call that returns fewer than asked
 * left the socket empty: a drain spends no call to hear EAGAIN.
 *
 * Overrun (the kernel dropped messages: ENOBUFS, or a datagram larger than a
 * slot, after which the slots grow to fit it, fewer of them): the source
 * counts it, emits PSYNC_EVENT_OVERRUN whose dump_generation is that of the
 * dump that will resync, and re-dumps on its own once the socket's backlog is
 * read (after the running dump, if one runs).
 * Messages it cannot parse are counted and skipped; AF_BRIDGE link messages
 * (bridge port state, also sent to RTNLGRP_LINK) are counted as ignored. A
 * dump the kernel ends with an error makes that dispatch return the -errno
 * (counted in dumps_failed); request another dump when wanted.
 *
 * Dispatch never blocks and handles at most budget netlink messages, so it
 * emits at most budget events. The fd is the netlink socket; when a dispatch
 * stops with work in hand while the socket is empty (datagrams read but not
 * yet handled, a dump waiting), it makes the socket poll readable again: it
 * starts the waiting dump, or has the kernel acknowledge a no-op.
 *
 * Free the source with psync_source_free(), or hand it to
 * psync_pipeline_new(); use it from one thread at a time. Distinct sources
 * (in distinct threads, even distinct namespaces) are independent.
 */

/**
 * Tunables. Set sz to sizeof(struct psync_netlink_options); a zero field takes
 * the default named beside it. Pass NULL for all defaults.
 */
struct psync_netlink_options {
	size_t sz; /**< sizeof(struct psync_netlink_options) */
	/** Receive buffer asked of the kernel: 8 MiB. SO_RCVBUFFORCE where the
	 * process may (CAP_NET_ADMIN), else SO_RCVBUF, which net.core.rmem_max caps. */
	uint32_t rcvbuf_bytes;
	/** Messages one dispatch handles when it is called with a budget of 0: 256. */
	unsigned dispatch_budget;
};

/**
 * Opens the socket, sets its receive buffer, joins RTNLGRP_LINK and wraps it all
 * into a source (name "netlink"); no dump is requested yet. opts may be NULL.
 * -EINVAL (opts->sz too small), -ENOMEM, or the -errno of the socket calls.
 * Never blocks. The socket lives in the calling thread's network namespace.
 *
 * @retval 0 success, the source in *ret.
 * @retval -EINVAL ret is NULL, or opts->sz is smaller than its first member.
 * @retval -ENOMEM out of memory.
 * @retval <0 the -errno of creating, connecting or configuring the socket.
 */
PSYNC_API int psync_netlink_source_new(const struct psync_netlink_options *opts,
				       struct psync_source **ret);

/** Counters of a netlink source, copied out by psync_netlink_source_get_stats. */
struct psync_netlink_stats {
	size_t sz;                  /**< set by the caller: sizeof(struct psync_netlink_stats) */
	uint64_t datagrams;         /**< datagrams read (one recvmmsg call reads up to 32) */
	uint64_t messages;          /**< netlink messages read */
	uint64_t link_events;       /**< NEWLINK and DELLINK events emitted */
	uint64_t overruns;          /**< losses reported: ENOBUFS or truncated datagrams */
	uint64_t truncated;         /**< datagrams larger than a read slot (also overruns) */
	uint64_t malformed;         /**< messages skipped because they could not be parsed */
	uint64_t ignored;           /**< well-formed messages with nothing to report */
	uint64_t dumps_requested;   /**< dump requests sent to the kernel, redone ones included */
	uint64_t dumps_done;        /**< DUMP_DONE emitted */
	uint64_t dumps_interrupted; /**< dumps flagged NLM_F_DUMP_INTR, then redone */
	uint64_t dumps_failed;      /**< dumps the kernel ended with an error */
	uint32_t generation;        /**< of the newest dump requested, 0 before the first */
	uint8_t dump_running;       /**< 1 while a dump's DONE has not been read */
	uint8_t dump_pending;       /**< 1 while a dump waits to be requested */
	/** Receive system calls made on the socket: each recvmmsg (those that
	 * found it empty or failed included) and each peek of a dispatch that
	 * stopped with work in hand. Draining k datagrams into 32 slots costs
	 * k / 32 + 1 calls at most; a lone datagram, one. */
	uint64_t recv_calls;
};

/**
 * Copies the counters of a netlink source into *ret, at most ret->sz bytes.
 * -EINVAL when source is not a netlink source or ret->sz is smaller than sz.
 * ret->sz is set to the bytes filled. Never blocks.
 */
PSYNC_API int psync_netlink_source_get_stats(const struct psync_source *source,
					     struct psync_netlink_stats *ret);

/**
 * The receive buffer the kernel uses for the socket, in bytes, as getsockopt
 * reports it (the kernel doubles what is asked for, for its bookkeeping).
 * -EINVAL when source is not a netlink source.
 */
PSYNC_API int psync_netlink_source_get_rcvbuf(const struct psync_source *source);

/**
 * Turns one rtnetlink message (msg, len bytes available) into *ret: type,
 * ifindex, flags, name, mtu, master, kind, address, operstate, carrier and the
 * carrier counts. from_dump, dump_generation and recv_ns are left 0. Pure: it
 * reads only the len bytes at msg, aligned to 4 bytes as netlink messages are.
 * Returns 0; -ENOMSG for a well-formed message with no link to report (another
 * type, or a family other than AF_UNSPEC); -EBADMSG when it is truncated or
 * malformed (including a missing name or ifindex); -EINVAL for NULL arguments.
 * Thread-safe; never blocks.
 */
PSYNC_API int psync_netlink_parse_link(const void *msg, size_t len,
				       struct psync_link_event *ret);

/**
 * Sets the link with this ifindex administratively down (RTM_SETLINK clearing
 * IFF_UP), in the calling thread's network namespace, and waits for the
 * kernel's answer, on a socket of its own (so it is thread-safe). Blocks for
 * that round trip only.
 * -EINVAL (ifindex <= 0), -ENODEV, -EPERM, or another -errno of the kernel.
 */
PSYNC_API int psync_netlink_set_link_down(int ifindex);

PSYNC_END_DECLS

#endif
