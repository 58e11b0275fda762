/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink bytes as the kernel (or anyone who got a message past it) sends
 * them: one message through psync_netlink_parse_link, and a whole datagram
 * through the netlink source's own walk, whose functions are static: the
 * source file is compiled into this target for them. The first input byte
 * sets the source's state (a dump running, a wake-up pending, a dump seen
 * interrupted); every event that comes out must survive the JSON-lines format.
 */
#include "../../lib/netlink_source.c"

#include "fuzz.h"

#define DUMP_SEQ 7
#define WAKE_SEQ 9
#define PORT 4242

static void check_event(const struct psync_link_event *ev)
{
	FUZZ_CHECK(ev->type == PSYNC_EVENT_NEWLINK || ev->type == PSYNC_EVENT_DELLINK ||
			   ev->type == PSYNC_EVENT_DUMP_DONE,
		   "type %d", ev->type);
	if (ev->type == PSYNC_EVENT_DUMP_DONE)
		return;
	FUZZ_CHECK(ev->ifindex > 0, "ifindex 0");
	FUZZ_CHECK(ev->ifname[0] && memchr(ev->ifname, '\0', sizeof(ev->ifname)), "ifname");
	FUZZ_CHECK(memchr(ev->kind, '\0', sizeof(ev->kind)), "kind");
	FUZZ_CHECK(ev->addr_len <= PSYNC_ADDR_MAX, "addr_len %u", ev->addr_len);
	FUZZ_CHECK(ev->carrier <= PSYNC_CARRIER_UP, "carrier %u", ev->carrier);
	fuzz_check_json_round_trip(ev);
}

static void walk_datagram(uint8_t state, uint8_t *buf, size_t len)
{
	struct netlink_source s = {
		.port = PORT,
		.buf = buf,
		.len = len,
		.dump_seq = DUMP_SEQ,
		.dump_running = state & 1,
		.wake_pending = (state & 2) != 0,
		.wake_seq = WAKE_SEQ,
		.dump_intr = (state & 4) != 0,
	};
	struct psync_link_event ev;
	uint64_t messages = 0;

	while (s.off < s.len) {
		int r = handle_message(&s, &ev);

		if (r == STEP_EVENT)
			check_event(&ev);
		FUZZ_CHECK(r == STEP_NONE || r == STEP_EVENT || r < 0, "step %d", r);
		FUZZ_CHECK(s.off <= s.len, "walked past the datagram");
		FUZZ_CHECK(++messages <= len / NLMSG_HDRLEN + 1, "no progress");
	}
	FUZZ_CHECK(s.stats.messages + s.stats.malformed >= 1 || len == 0, "nothing counted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psync_link_event ev;
	uint8_t *buf;

	if (size < 1)
		return 0;
	/* Netlink buffers are aligned; the input after its first byte is not. */
	buf = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(buf, "out of memory");
	memcpy(buf, data + 1, size - 1);
	if (psync_netlink_parse_link(buf, size - 1, &ev) == 0)
		check_event(&ev);
	walk_datagram(data[0], buf, size - 1);
	free(buf);
	return 0;
}
