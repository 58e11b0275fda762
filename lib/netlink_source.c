/* SPDX-License-Identifier: Apache-2.0 */
/* The netlink source: rtnetlink link events, dumps and overrun resyncs. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <portsync/netlink.h>

#include "internal.h"

/* libnl's -NLE_* codes become -errno here, and nowhere else. */
static const int nle_errno[NLE_MAX + 1] = {
	[NLE_SUCCESS] = 0,		[NLE_FAILURE] = EIO,
	[NLE_INTR] = EINTR,		[NLE_BAD_SOCK] = EBADF,
	[NLE_AGAIN] = EAGAIN,		[NLE_NOMEM] = ENOMEM,
	[NLE_EXIST] = EEXIST,		[NLE_INVAL] = EINVAL,
	[NLE_RANGE] = ERANGE,		[NLE_MSGSIZE] = EMSGSIZE,
	[NLE_OPNOTSUPP] = EOPNOTSUPP,	[NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND] = ENOENT,	[NLE_NOATTR] = ENOENT,
	[NLE_MISSING_ATTR] = EINVAL,	[NLE_AF_MISMATCH] = EAFNOSUPPORT,
	[NLE_SEQ_MISMATCH] = EPROTO,	[NLE_MSG_OVERFLOW] = EOVERFLOW,
	[NLE_MSG_TRUNC] = EMSGSIZE,	[NLE_NOADDR] = EADDRNOTAVAIL,
	[NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP, [NLE_MSG_TOOSHORT] = EBADMSG,
	[NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP, [NLE_OBJ_MISMATCH] = EINVAL,
	[NLE_NOCACHE] = ENOENT,		[NLE_BUSY] = EBUSY,
	[NLE_PROTO_MISMATCH] = EPROTONOSUPPORT, [NLE_NOACCESS] = EACCES,
	[NLE_PERM] = EPERM,		[NLE_PKTLOC_FILE] = ENOENT,
	[NLE_PARSE_ERR] = EBADMSG,	[NLE_NODEV] = ENODEV,
	[NLE_IMMUTABLE] = EROFS,	[NLE_DUMP_INTR] = EINTR,
	[NLE_ATTRSIZE] = ERANGE,
};

static int errno_of(int nle)
{
	if (nle >= 0)
		return nle;
	if (-nle > NLE_MAX || nle_errno[-nle] == 0)
		return -EIO;
	return -nle_errno[-nle];
}

#define DEFAULT_RCVBUF (8U << 20)
#define DEFAULT_BUDGET 256U
/*
 * One recvmmsg reads up to MAX_SLOTS datagrams, each into a slot of its own.
 * A notification is one link message (1-3 KiB). A dump reply datagram is never
 * larger than the largest read the socket has seen (the kernel sizes dump
 * datagrams by it, up to 32 KiB) unless one link's message alone is larger:
 * reads of nearly 8 KiB hold both. A bigger datagram still is caught by
 * MSG_TRUNC, counted as an overrun, and the slots grow to fit it, fewer of
 * them within SLOT_ARENA.
 *
 * Each read is READ_SLACK short of its slot: the kernel allocates a dump
 * datagram of n bytes with its skb_shared_info (about 320 bytes) after it, and
 * charges the allocation to the receive buffer; n = 8 KiB would take 16 KiB.
 * Not where pages are larger than 4 KiB: there a dump's first datagram (before
 * any read, NLMSG_GOODSIZE) is itself nearly 8 KiB.
 */
#define SLOT_SIZE (8U << 10)
#define MAX_SLOTS 32U
#define SLOT_ARENA (MAX_SLOTS * SLOT_SIZE)
#define SLOT_ALIGN 4096U
#define READ_SLACK 512U

/* What the next step of a dispatch produced. Negative values are -errno. */
enum step {
	STEP_NONE = 0,  /* a message was used up, nothing to emit */
	STEP_EVENT,     /* *ev is ready to emit */
	STEP_DRAINED,   /* the socket has nothing more to read */
};

struct netlink_source {
	struct nl_sock *sk;
	int fd;
	uint32_t port;
	int rcvbuf;
	unsigned default_budget;

	/* The datagrams of the last recvmmsg: nread of them, the next one to
	 * take up, and whether the call left the socket empty. */
	uint8_t *slots;
	size_t slot_size, read_slack;
	unsigned nslots, nread, next;
	bool drained;
	size_t want_slot_size; /* of a truncated datagram: slots grow before the next read */
	struct mmsghdr msgs[MAX_SLOTS];
	struct iovec iovs[MAX_SLOTS];
	struct sockaddr_nl peers[MAX_SLOTS];
	/* The datagram being read (in a slot), and how far; when they came. */
	const uint8_t *buf;
	size_t len, off;
	uint64_t recv_ns;

	uint32_t dump_seq;
	uint32_t live_generation; /* what live events carry, see netlink.h */
	bool dump_running;
	bool dump_pending;
	bool drain_first;  /* start the pending dump only once the backlog is read */
	bool dump_intr;
	uint32_t wake_seq;
	bool wake_pending;
	/* An overrun found at the end of a dispatch, reported by the next one. */
	bool overrun_noted;
	uint32_t overrun_generation;

	struct psync_netlink_stats stats;
};

/* Our sources are the ones built on this table. */
static const struct psync_source_ops netlink_ops;

static const struct psync_source_ops netlink_ops;

static struct netlink_source *netlink_of(const struct psync_source *source)
{
	if (!source || psync__source_get_ops(source) != &netlink_ops)
		return NULL;
	return psync_source_get_impl(source);
}

/* Socket setup */

static int set_rcvbuf(struct netlink_source *s, uint32_t bytes)
{
	int val = bytes > INT32_MAX / 2 ? INT32_MAX / 2 : (int)bytes;
	socklen_t len = sizeof(s->rcvbuf);

	/* FORCE passes net.core.rmem_max, but needs CAP_NET_ADMIN. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) < 0 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)) < 0)
		return -errno;
	if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &len) < 0)
		return -errno;
	return 0;
}

static int open_socket(struct netlink_source *s, uint32_t rcvbuf)
{
	int r;

	s->sk = nl_socket_alloc();
	if (!s->sk)
		return -ENOMEM;
	/* Sequence numbers are checked here against our own requests; acks are
	 * asked for explicitly where wanted. */
	nl_socket_disable_seq_check(s->sk);
	nl_socket_disable_auto_ack(s->sk);
	r = nl_connect(s->sk, NETLINK_ROUTE);
	if (r < 0)
		return errno_of(r);
	s->fd = nl_socket_get_fd(s->sk);
	s->port = nl_socket_get_local_port(s->sk);
	r = set_rcvbuf(s, rcvbuf);
	if (r < 0)
		return r;
	/* Joined before any dump is requested: no change falls between the two. */
	r = nl_socket_add_membership(s->sk, RTNLGRP_LINK);
	if (r < 0)
		return errno_of(r);
	return errno_of(nl_socket_set_nonblocking(s->sk));
}

static void netlink_destroy(void *impl)
{
	struct netlink_source *s = impl;

	if (!s)
		return;
	nl_socket_free(s->sk);
	free(s->slots);
	free(s);
}

static int check_options(const struct psync_netlink_options *opts, uint32_t *rcvbuf,
			 unsigned *budget)
{
	*rcvbuf = DEFAULT_RCVBUF;
	*budget = DEFAULT_BUDGET;
	if (!opts)
		return 0;
	if (opts->sz < sizeof(opts->sz))
		return -EINVAL;
	if (psync__has_member(opts->sz, struct psync_netlink_options, rcvbuf_bytes) &&
	    opts->rcvbuf_bytes)
		*rcvbuf = opts->rcvbuf_bytes;
	if (psync__has_member(opts->sz, struct psync_netlink_options, dispatch_budget) &&
	    opts->dispatch_budget)
		*budget = opts->dispatch_budget;
	return 0;
}

/* Slots of size bytes (a multiple of SLOT_ALIGN), as many as SLOT_ARENA holds,
 * at least one, replacing the old ones; the old ones stay when memory is short. */
static int alloc_slots(struct netlink_source *s, size_t size)
{
	size_t n = size >= SLOT_ARENA ? 1 : SLOT_ARENA / size;
	uint8_t *slots;

	n = n < MAX_SLOTS ? n : MAX_SLOTS;
	slots = aligned_alloc(SLOT_ALIGN, n * size);
	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->slot_size = size;
	s->nslots = (unsigned)n;
	/* What each recvmmsg call is given stays the same until the slots change. */
	for (unsigned i = 0; i < s->nslots; i++) {
		s->iovs[i] = (struct iovec){ s->slots + i * s->slot_size,
					     s->slot_size - s->read_slack };
		s->msgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &s->peers[i],
			.msg_iov = &s->iovs[i],
			.msg_iovlen = 1,
		} };
	}
	return 0;
}

static int netlink_create(const struct psync_netlink_options *opts, struct netlink_source **ret)
{
	struct netlink_source *s;
	uint32_t rcvbuf;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = check_options(opts, &rcvbuf, &s->default_budget);
	s->read_slack = sysconf(_SC_PAGESIZE) > 4096 ? 0 : READ_SLACK;
	if (r >= 0)
		r = alloc_slots(s, SLOT_SIZE);
	if (r >= 0)
		r = open_socket(s, rcvbuf);
	if (r < 0) {
		netlink_destroy(s);
		return r;
	}
	*ret = s;
	return 0;
}

PSYNC_API int psync_netlink_source_new(const struct psync_netlink_options *opts,
				       struct psync_source **ret)
{
	struct netlink_source *s;
	int r;

	if (!ret)
		return -EINVAL;
	r = netlink_create(opts, &s);
	if (r < 0)
		return r;
	r = psync_source_new(&netlink_ops, s, ret);
	if (r < 0)
		netlink_destroy(s);
	return r;
}

/* Requests to the kernel */

/* Sends a request of ours and returns its sequence number through seq. */
static int send_request(struct netlink_source *s, int type, int flags, uint32_t *seq)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc_simple(type, flags);
	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0) {
		nl_complete_msg(s->sk, msg);
		*seq = nlmsg_hdr(msg)->nlmsg_seq;
		r = nl_send(s->sk, msg);
	}
	nlmsg_free(msg);
	return r < 0 ? errno_of(r) : 0;
}

static int start_dump(struct netlink_source *s)
{
	int r;

	r = send_request(s, RTM_GETLINK, NLM_F_DUMP, &s->dump_seq);
	if (r < 0)
		return r;
	s->dump_running = true;
	s->dump_pending = false;
	s->drain_first = false;
	s->dump_intr = false;
	s->stats.generation++;
	s->stats.dumps_requested++;
	return 0;
}

static int maybe_start_dump(struct netlink_source *s, bool drained)
{
	if (!s->dump_pending || s->dump_running || (s->drain_first && !drained))
		return 0;
	return start_dump(s);
}

static int netlink_request_dump(void *impl)
{
	struct netlink_source *s = impl;

	s->dump_pending = true;
	return maybe_start_dump(s, false);
}

/*
 * A no-op the kernel acknowledges: when a dispatch stops with messages of a
 * datagram still in our buffer, the socket itself may be empty, and the ack
 * makes it poll readable so that the caller dispatches again.
 */
static int send_wake(struct netlink_source *s)
{
	int r;

	if (s->wake_pending)
		return 0;
	r = send_request(s, NLMSG_NOOP, NLM_F_ACK, &s->wake_seq);
	if (r == 0)
		s->wake_pending = true;
	return r;
}

/* Reading */

static void fill_marker(struct netlink_source *s, struct psync_link_event *ev,
			enum psync_event_type type, uint32_t generation)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->dump_generation = generation;
	ev->from_dump = type == PSYNC_EVENT_DUMP_DONE;
	ev->recv_ns = s->recv_ns;
}

static void note_overrun(struct netlink_source *s)
{
	s->stats.overruns++;
	s->dump_pending = true;
	s->drain_first = true;
	/* The lost messages may include our wake-up's ack: allow another. */
	s->wake_pending = false;
	s->overrun_noted = true;
	s->overrun_generation = s->stats.generation + 1;
}

static int report_overrun(struct netlink_source *s, struct psync_link_event *ev)
{
	s->overrun_noted = false;
	fill_marker(s, ev, PSYNC_EVENT_OVERRUN, s->overrun_generation);
	/* Found now, whichever datagram revealed it. */
	ev->recv_ns = psync__now_ns();
	return STEP_EVENT;
}

static int overrun(struct netlink_source *s, struct psync_link_event *ev)
{
	note_overrun(s);
	return report_overrun(s, ev);
}

/* A datagram larger than a slot lost its tail: a loss like ENOBUFS. The slots
 * grow to fit it before the next read; if they cannot, the next such datagram
 * is reported the same way. */
static int truncated(struct netlink_source *s, size_t real_len, struct psync_link_event *ev)
{
	s->stats.truncated++;
	if (real_len > s->want_slot_size)
		s->want_slot_size = real_len;
	return overrun(s, ev);
}

static void grow_slots(struct netlink_source *s)
{
	size_t want = s->want_slot_size;

	s->want_slot_size = 0;
	if (want > s->slot_size - s->read_slack && want <= SIZE_MAX / 2)
		alloc_slots(s, (want + s->read_slack + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN);
}

static int recv_batch(struct netlink_source *s)
{
	int n;

	/* The kernel writes each address' length back: give the room again. */
	for (unsigned i = 0; i < s->nslots; i++)
		s->msgs[i].msg_hdr.msg_namelen = sizeof(s->peers[i]);
	/* MSG_TRUNC makes each msg_len the datagram's real length. */
	do {
		n = recvmmsg(s->fd, s->msgs, s->nslots, MSG_DONTWAIT | MSG_TRUNC, NULL);
		s->stats.recv_calls++;
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * Up to nslots datagrams in one call, into slots we keep: libnl's nl_recv
 * reads one per call into a buffer it allocates, and with peeking off it drops
 * a truncated datagram silently, which we must see to resync. Fewer than
 * asked means the socket is empty, so no call is spent to hear EAGAIN. An
 * error met after some datagrams (ENOBUFS) the kernel keeps for the next
 * call, and the socket polls readable (POLLERR) until then.
 */
static int read_batch(struct netlink_source *s, struct psync_link_event *ev)
{
	int n;

	s->next = s->nread = 0;
	if (s->want_slot_size)
		grow_slots(s);
	n = recv_batch(s);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return STEP_DRAINED;
	if (n == -ENOBUFS)
		return overrun(s, ev);
	if (n < 0)
		return n;
	s->recv_ns = psync__now_ns();
	s->stats.datagrams += (unsigned)n;
	s->nread = (unsigned)n;
	s->drained = s->nread < s->nslots;
	return STEP_NONE;
}

/* Takes up the next datagram read: s->len is 0 when it has nothing to use. */
static int take_datagram(struct netlink_source *s, struct psync_link_event *ev)
{
	const struct mmsghdr *m = &s->msgs[s->next];
	const struct sockaddr_nl *peer = &s->peers[s->next];

	s->buf = s->slots + s->next * s->slot_size;
	s->next++;
	if (m->msg_hdr.msg_flags & MSG_TRUNC)
		return truncated(s, m->msg_len, ev);
	if (m->msg_hdr.msg_namelen < sizeof(*peer) || peer->nl_pid != 0) {
		/* Only the kernel speaks for the kernel. */
		s->stats.ignored++;
		return STEP_NONE;
	}
	s->len = m->msg_len;
	return STEP_NONE;
}

static int next_datagram(struct netlink_source *s, struct psync_link_event *ev)
{
	int r;

	s->len = s->off = 0;
	if (s->next == s->nread) {
		if (s->drained)
			return STEP_DRAINED;
		r = read_batch(s, ev);
		if (r != STEP_NONE || s->nread == 0)
			return r;
	}
	return take_datagram(s, ev);
}

static bool is_dump_reply(const struct netlink_source *s, const struct nlmsghdr *h)
{
	return s->dump_running && h->nlmsg_seq == s->dump_seq && h->nlmsg_pid == s->port;
}

static int on_link(struct netlink_source *s, const struct nlmsghdr *h,
		   struct psync_link_event *ev)
{
	bool dump = is_dump_reply(s, h);
	int r;

	r = psync_netlink_parse_link(h, h->nlmsg_len, ev);
	if (r == -ENOMSG) {
		s->stats.ignored++;
		return STEP_NONE;
	}
	if (r < 0) {
		s->stats.malformed++;
		return STEP_NONE;
	}
	ev->from_dump = dump;
	ev->dump_generation = dump ? s->stats.generation : s->live_generation;
	ev->recv_ns = s->recv_ns;
	s->stats.link_events++;
	return STEP_EVENT;
}

static int dump_done_errno(const struct nlmsghdr *h)
{
	int err = 0;

	if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
		memcpy(&err, NLMSG_DATA(h), sizeof(err));
	return err;
}

static int on_done(struct netlink_source *s, const struct nlmsghdr *h,
		   struct psync_link_event *ev)
{
	int err;

	if (!is_dump_reply(s, h)) {
		s->stats.ignored++;
		return STEP_NONE;
	}
	s->dump_running = false;
	err = dump_done_errno(h);
	if (err < 0) {
		s->stats.dumps_failed++;
		return err;
	}
	if (s->dump_intr) {
		/* Links may have been skipped: only a clean dump may end one. */
		s->stats.dumps_interrupted++;
		s->dump_pending = true;
		return STEP_NONE;
	}
	s->stats.dumps_done++;
	fill_marker(s, ev, PSYNC_EVENT_DUMP_DONE, s->stats.generation);
	return STEP_EVENT;
}

static int on_error(struct netlink_source *s, const struct nlmsghdr *h)
{
	struct nlmsgerr e;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e))) {
		s->stats.malformed++;
		return STEP_NONE;
	}
	memcpy(&e, NLMSG_DATA(h), sizeof(e));
	if (s->wake_pending && h->nlmsg_seq == s->wake_seq && h->nlmsg_pid == s->port) {
		s->wake_pending = false;
		return STEP_NONE;
	}
	/* ENOBUFS: the dump could not start on a full socket; the kernel keeps
	 * it and goes on as we read. */
	if (!is_dump_reply(s, h) || e.error >= 0 || e.error == -ENOBUFS) {
		s->stats.ignored++;
		return STEP_NONE;
	}
	s->dump_running = false;
	s->stats.dumps_failed++;
	return e.error;
}

/* The next message of the datagram in hand: is it whole? */
static const struct nlmsghdr *take_message(struct netlink_source *s)
{
	const struct nlmsghdr *h = (const void *)(s->buf + s->off);
	size_t rem = s->len - s->off;

	if (rem < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > rem) {
		/* Without a sound length nothing after it can be found either. */
		s->stats.malformed++;
		s->off = s->len;
		return NULL;
	}
	s->off += NLMSG_ALIGN(h->nlmsg_len) < rem ? NLMSG_ALIGN(h->nlmsg_len) : rem;
	s->stats.messages++;
	return h;
}

static int handle_message(struct netlink_source *s, struct psync_link_event *ev)
{
	const struct nlmsghdr *h = take_message(s);

	if (!h)
		return STEP_NONE;
	if (is_dump_reply(s, h)) {
		s->live_generation = s->stats.generation;
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			s->dump_intr = true;
	}
	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return on_link(s, h, ev);
	case NLMSG_DONE:
		return on_done(s, h, ev);
	case NLMSG_ERROR:
		return on_error(s, h);
	default:
		s->stats.ignored++;
		return STEP_NONE;
	}
}

static int next_step(struct netlink_source *s, struct psync_link_event *ev)
{
	int r;

	if (s->overrun_noted)
		return report_overrun(s, ev);
	if (s->off >= s->len) {
		r = next_datagram(s, ev);
		if (r != STEP_NONE || s->len == 0)
			return r;
	}
	return handle_message(s, ev);
}

/* 1 when a datagram (or an overrun, noted for the next dispatch) waits in the
 * socket, 0 when it is empty. */
static int socket_has_data(struct netlink_source *s)
{
	ssize_t n;

	do {
		n = recv(s->fd, NULL, 0, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		s->stats.recv_calls++;
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 1;
	if (errno == ENOBUFS) {
		/* The peek took the error: it stays ours to report. */
		note_overrun(s);
		return 1;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

/*
 * The caller dispatches again when the fd polls readable, so stopping with work
 * in hand needs it to. A non-empty socket already is; an empty one is drained,
 * so a waiting dump starts now, or else the kernel acks a no-op for us (into an
 * empty socket, where the ack cannot be dropped and look like an overrun).
 */
static int keep_readable(struct netlink_source *s)
{
	bool dump_waits = s->dump_pending && !s->dump_running;
	bool in_hand = s->off < s->len || s->next < s->nread;
	int r;

	if (!in_hand && !dump_waits)
		return 0;
	r = socket_has_data(s);
	if (r != 0)
		return r < 0 ? r : 0;
	if (dump_waits)
		return start_dump(s);
	return send_wake(s);
}

static int netlink_dispatch(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	struct netlink_source *s = impl;
	struct psync_link_event ev;
	int emitted = 0, r = 0;

	if (budget == 0)
		budget = s->default_budget;
	/* We are called because the socket polls readable: what an earlier
	 * dispatch found empty may not be any more. */
	s->drained = false;
	for (; budget > 0; budget--) {
		r = next_step(s, &ev);
		if (r == STEP_DRAINED) {
			r = maybe_start_dump(s, true);
			return r < 0 ? r : emitted;
		}
		if (r == STEP_EVENT) {
			r = emit(&ev, userdata);
			emitted += r >= 0;
		}
		/* A dump asked for while another ran (or one that was interrupted)
		 * starts as soon as the one before it is done. */
		if (r >= 0)
			r = maybe_start_dump(s, false);
		if (r < 0)
			break;
	}
	/* Stopped early, by the budget or an error. */
	emitted = r < 0 ? r : emitted;
	r = keep_readable(s);
	return emitted < 0 || r >= 0 ? emitted : r;
}

static int netlink_get_fd(void *impl)
{
	struct netlink_source *s = impl;

	return s->fd;
}

static const struct psync_source_ops netlink_ops = {
	.sz = sizeof(struct psync_source_ops),
	.name = "netlink",
	.dispatch = netlink_dispatch,
	.get_fd = netlink_get_fd,
	.request_dump = netlink_request_dump,
	.destroy = netlink_destroy,
};

/* Accessors */

PSYNC_API int psync_netlink_source_get_stats(const struct psync_source *source,
					     struct psync_netlink_stats *ret)
{
	struct netlink_source *s = netlink_of(source);
	struct psync_netlink_stats st;
	size_t n;

	if (!s || !ret || ret->sz < sizeof(ret->sz))
		return -EINVAL;
	st = s->stats;
	st.dump_running = s->dump_running;
	st.dump_pending = s->dump_pending;
	n = ret->sz < sizeof(st) ? ret->sz : sizeof(st);
	st.sz = n;
	memcpy(ret, &st, n);
	return 0;
}

PSYNC_API int psync_netlink_source_get_rcvbuf(const struct psync_source *source)
{
	struct netlink_source *s = netlink_of(source);

	return s ? s->rcvbuf : -EINVAL;
}

/* Setting a link down, on a socket of its own */

static int on_ack(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(int *)arg = 0;
	return NL_STOP;
}

/* Keeps the kernel's own errno: libnl would fold it into a coarser NLE code. */
static int on_nlerr(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = e->error;
	return NL_STOP;
}

static int wait_ack(struct nl_sock *sk)
{
	struct nl_cb *cb;
	int result = 1, r;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &result);
	nl_cb_err(cb, NL_CB_CUSTOM, on_nlerr, &result);
	do
		r = nl_recvmsgs(sk, cb);
	while (r >= 0 && result == 1);
	nl_cb_put(cb);
	if (result <= 0)
		return result;
	return r < 0 ? errno_of(r) : -EIO;
}

static int send_link_down(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = 0,
		.ifi_change = IFF_UP,
	};
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0)
		r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	return r < 0 ? errno_of(r) : 0;
}

PSYNC_API int psync_netlink_set_link_down(int ifindex)
{
	struct nl_sock *sk;
	int r;

	if (ifindex <= 0)
		return -EINVAL;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = errno_of(nl_connect(sk, NETLINK_ROUTE));
	if (r >= 0)
		r = send_link_down(sk, ifindex);
	if (r >= 0)
		r = wait_ack(sk);
	nl_socket_free(sk);
	return r;
}
