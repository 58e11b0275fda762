/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_EVENT_H
#define PORTSYNC_EVENT_H

/**
 * @file
 * Link events: the fixed-size value every source produces, and its names and
 * JSON-lines form. Every function here touches only its arguments: all are
 * thread-safe and none blocks.
 */

#include <stddef.h>
#include <stdint.h>

#include <portsync/common.h>

PSYNC_BEGIN_DECLS

/** Size of psync_link_event::ifname: IFNAMSIZ, terminating NUL included. */
#define PSYNC_IFNAME_MAX 16
/** Size of psync_link_event::kind: IFLA_INFO_KIND, terminating NUL included. */
#define PSYNC_KIND_MAX 16
/** Size of psync_link_event::addr: MAX_ADDR_LEN. */
#define PSYNC_ADDR_MAX 32

/** What a source reports. Link events carry a link; the others are stream markers. */
enum psync_event_type {
	PSYNC_EVENT_NEWLINK = 1, /**< a link exists with these attributes (RTM_NEWLINK) */
	PSYNC_EVENT_DELLINK,     /**< a link is gone (RTM_DELLINK) */
	PSYNC_EVENT_DUMP_DONE,   /**< a full dump ended: every link was reported since its start */
	PSYNC_EVENT_OVERRUN,     /**< events were lost; the source re-dumps on its own */
};

/** Carrier is tri-state because not every message carries IFLA_CARRIER. */
enum psync_carrier {
	PSYNC_CARRIER_UNKNOWN = 0, /**< the message had no IFLA_CARRIER */
	PSYNC_CARRIER_DOWN,        /**< no carrier */
	PSYNC_CARRIER_UP,          /**< carrier present */
};

/**
 * One event, a fixed-size value: sources fill it without allocating and hand it
 * to their consumer borrowed for the duration of the callback (copy it to keep
 * it; it holds no pointers).
 *
 * dump_generation: sources that can dump number each dump; a NEWLINK carrying
 * generation G came from (or was seen during) dump G, and DUMP_DONE carries the
 * generation that ended. A consumer that saw an OVERRUN drops every link whose
 * last generation is older than the one DUMP_DONE reports: it vanished unseen.
 *
 * Stream markers (DUMP_DONE, OVERRUN) carry only type, dump_generation and
 * recv_ns; their other members are 0.
 */
struct psync_link_event {
	enum psync_event_type type; /**< what happened */
	uint32_t ifindex;  /**< the link's interface index */
	uint32_t flags;    /**< IFF_* of ifi_flags */
	uint32_t mtu;      /**< IFLA_MTU, 0 when absent */
	uint32_t master;   /**< ifindex of the master, 0 when none */
	uint32_t carrier_up_count;   /**< IFLA_CARRIER_UP_COUNT, 0 when absent */
	uint32_t carrier_down_count; /**< IFLA_CARRIER_DOWN_COUNT, 0 when absent */
	uint32_t carrier_changes;    /**< IFLA_CARRIER_CHANGES, valid when has_carrier_changes */
	uint32_t dump_generation; /**< the dump this event belongs to (see above); 0 when none */
	uint8_t operstate; /**< IF_OPER_* (RFC 2863), 0 = unknown */
	uint8_t carrier;   /**< enum psync_carrier */
	uint8_t from_dump; /**< 1 when this is a reply to a dump request */
	uint8_t has_carrier_changes; /**< 1 when carrier_changes was reported */
	uint8_t addr_len;  /**< bytes of addr in use, 0 when the link has no address */
	uint8_t addr[PSYNC_ADDR_MAX]; /**< link-layer address (IFLA_ADDRESS) */
	uint64_t recv_ns;  /**< CLOCK_MONOTONIC time the source received it */
	char ifname[PSYNC_IFNAME_MAX]; /**< the link's name, NUL-terminated */
	char kind[PSYNC_KIND_MAX]; /**< IFLA_INFO_KIND ("veth", "team", ...); "" when absent */
};

/**
 * The name of an event type.
 *
 * @return the name, "newlink", "dellink", "dump_done" or "overrun", a static
 *         string; NULL for an unknown value.
 */
PSYNC_API const char *psync_event_type_to_string(enum psync_event_type type);
/**
 * The reverse of psync_event_type_to_string(): the type named name, into *ret.
 *
 * @retval 0 success.
 * @retval -EINVAL name or ret is NULL, or name is not a type's name (*ret untouched).
 */
PSYNC_API int psync_event_type_from_string(const char *name, enum psync_event_type *ret);

/**
 * The RFC 2863 name of an IF_OPER_* value, as iproute2 prints it.
 *
 * @return the name, "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
 *         "TESTING", "DORMANT" or "UP", a static string; NULL for a value
 *         above 6.
 */
PSYNC_API const char *psync_operstate_to_string(uint8_t operstate);
/**
 * The reverse of psync_operstate_to_string() (names are case-sensitive).
 *
 * @retval 0 success, the IF_OPER_* value in *ret.
 * @retval -EINVAL name or ret is NULL, or an unknown name (*ret untouched).
 */
PSYNC_API int psync_operstate_from_string(const char *name, uint8_t *ret);

/**
 * Writes ev as one line of JSON (no newline) into buf, the format the replay
 * source reads. Like snprintf: buf is NUL-terminated whenever len > 0, and buf
 * may be NULL when len is 0, to ask for the length.
 *
 * Interface names and kinds are bytes, as the kernel takes them, and survive
 * the round trip exactly. Valid UTF-8 ("éth0") is written as it is; '"', '\\',
 * control characters and DEL are escaped as JSON requires; each byte that is
 * not part of valid UTF-8 (0xff, a stray 0x80, an overlong or a surrogate
 * form) is written as "\\udcXX", the lone low surrogate U+DC80..U+DCFF that
 * stands for byte 0xXX, as in Python's "surrogateescape" (PEP 383). So lines are
 * always valid UTF-8, and in Python
 * json.loads(line)["ifname"].encode("utf-8", "surrogateescape") gives the bytes.
 * psync_event_from_json() reads "\\udcXX" (not part of a surrogate pair) back as
 * the byte, and takes raw bytes that are not UTF-8 as they are.
 *
 * @return the length the whole line needs, without the NUL; when that is
 *         >= len, the output was cut.
 * @retval -EINVAL ev is NULL, buf is NULL with len > 0, or ev->type is unknown.
 * @retval -EOVERFLOW the line would exceed INT32_MAX bytes.
 */
PSYNC_API int psync_event_to_json(const struct psync_link_event *ev, char *buf, size_t len);

/**
 * Parses one line of JSON (psync_event_to_json()'s format) into *ret. Unknown
 * members are errors; a link event needs "type", a non-zero "ifindex" and
 * "ifname". recv_ns is left 0.
 *
 * @param line    the line, NUL-terminated; a trailing newline is fine.
 * @param ret     the event, written only on success.
 * @param err     may be NULL; on a malformed line, receives a one-line reason.
 * @param err_len size of err.
 * @retval 0 success.
 * @retval -EINVAL line or ret is NULL, or the line is not a valid event.
 */
PSYNC_API int psync_event_from_json(const char *line, struct psync_link_event *ret,
				    char *err, size_t err_len);

PSYNC_END_DECLS

#endif
