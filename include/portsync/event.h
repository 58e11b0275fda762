/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_EVENT_H
#define PORTSYNC_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>

PSYNC_BEGIN_DECLS

#define PSYNC_IFNAME_MAX 16 /* IFNAMSIZ, terminating NUL included */
#define PSYNC_KIND_MAX 16   /* IFLA_INFO_KIND, terminating NUL included */
#define PSYNC_ADDR_MAX 32   /* MAX_ADDR_LEN */

/* What a source reports. Link events carry a link; the others are stream markers. */
enum psync_event_type {
	PSYNC_EVENT_NEWLINK = 1, /* a link exists with these attributes (RTM_NEWLINK) */
	PSYNC_EVENT_DELLINK,     /* a link is gone (RTM_DELLINK) */
	PSYNC_EVENT_DUMP_DONE,   /* a full dump ended: every link was reported since its start */
	PSYNC_EVENT_OVERRUN,     /* events were lost; the source re-dumps on its own */
};

/* Carrier is tri-state because not every message carries IFLA_CARRIER. */
enum psync_carrier {
	PSYNC_CARRIER_UNKNOWN = 0,
	PSYNC_CARRIER_DOWN,
	PSYNC_CARRIER_UP,
};

/*
 * One event, a fixed-size value: sources fill it without allocating and hand it
 * to their consumer borrowed for the duration of the callback.
 *
 * dump_generation: sources that can dump number each dump; a NEWLINK carrying
 * generation G came from (or was seen during) dump G, and DUMP_DONE carries the
 * generation that ended. A consumer that saw an OVERRUN drops every link whose
 * last generation is older than the one DUMP_DONE reports: it vanished unseen.
 */
struct psync_link_event {
	enum psync_event_type type;
	uint32_t ifindex;
	uint32_t flags;    /* IFF_* of ifi_flags */
	uint32_t mtu;
	uint32_t master;   /* ifindex of the master, 0 when none */
	uint32_t carrier_up_count;   /* IFLA_CARRIER_UP_COUNT, 0 when absent */
	uint32_t carrier_down_count; /* IFLA_CARRIER_DOWN_COUNT, 0 when absent */
	uint32_t carrier_changes;    /* IFLA_CARRIER_CHANGES, valid when has_carrier_changes */
	uint32_t dump_generation;
	uint8_t operstate; /* IF_OPER_* (RFC 2863), 0 = unknown */
	uint8_t carrier;   /* enum psync_carrier */
	uint8_t from_dump; /* 1 when this is a reply to a dump request */
	uint8_t has_carrier_changes;
	uint8_t addr_len;
	uint8_t addr[PSYNC_ADDR_MAX];
	uint64_t recv_ns;  /* CLOCK_MONOTONIC time the source received it */
	char ifname[PSYNC_IFNAME_MAX];
	char kind[PSYNC_KIND_MAX]; /* "" when the link has no IFLA_INFO_KIND */
};

/* "newlink", "dellink", "dump_done", "overrun"; NULL for an unknown value. */
PSYNC_API const char *psync_event_type_to_string(enum psync_event_type type);
/* The reverse; -EINVAL for an unknown name. */
PSYNC_API int psync_event_type_from_string(const char *name, enum psync_event_type *ret);

/* RFC 2863 names as iproute2 prints them ("UP", "DOWN", "LOWERLAYERDOWN", ...). */
PSYNC_API const char *psync_operstate_to_string(uint8_t operstate);
PSYNC_API int psync_operstate_from_string(const char *name, uint8_t *ret);

/*
 * Writes ev as one line of JSON (no newline) into buf, the format the replay
 * source reads.
 *
 * Interface names and kinds are bytes, as the kernel takes them, and survive
 * the round trip exactly. Valid UTF-8 ("éth0") is written as it is; '"', '\\',
 * control characters and DEL are escaped as JSON requires; each byte that is
 * not part of valid UTF-8 (0xff, a stray 0x80, an overlong or a surrogate
 * form) is written as "\udcXX", the lone low surrogate U+DC80..U+DCFF that
 * stands for byte 0xXX, as in Python's "surrogateescape" (PEP 383). So lines are
 * always valid UTF-8, and in Python
 * json.loads(line)["ifname"].encode("utf-8", "surrogateescape") gives the bytes.
 * psync_event_from_json reads "\udcXX" (not part of a surrogate pair) back as
 * the byte, and takes raw bytes that are not UTF-8 as they are.
 *
 * Returns the length it needed (like snprintf); when that is >= len
 * the output was cut. -EINVAL for a NULL argument or an unknown event type.
 */
PSYNC_API int psync_event_to_json(const struct psync_link_event *ev, char *buf, size_t len);

/*
 * Parses one line of JSON into *ret (recv_ns is left 0). On failure returns
 * -EINVAL and, when err is not NULL, writes a one-line reason into err.
 */
PSYNC_API int psync_event_from_json(const char *line, struct psync_link_event *ret,
				    char *err, size_t err_len);

PSYNC_END_DECLS

#endif
