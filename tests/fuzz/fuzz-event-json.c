/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One line of a recording, and the way back. The input is read as a line:
 * what parses must come back the same through psync_event_to_json. Then the
 * input's bytes are made into an event (names of any bytes, every field): the
 * JSON-lines format must give it back exactly.
 */
#include <errno.h>

#include "fuzz.h"

static void parse_line(const uint8_t *data, size_t size)
{
	char *line = fuzz_string(data, size), err[160];
	struct psync_link_event ev;
	int r;

	memset(err, 'x', sizeof(err));
	r = psync_event_from_json(line, &ev, err, sizeof(err));
	if (r == 0)
		fuzz_check_json_round_trip(&ev);
	else
		FUZZ_CHECK(r == -EINVAL && memchr(err, '\0', sizeof(err)) && err[0], "r %d", r);
	free(line);
}

/* Takes n bytes from the input, zeros once it is used up. */
static void take(const uint8_t **data, size_t *size, void *dst, size_t n)
{
	size_t k = n < *size ? n : *size;

	memset(dst, 0, n);
	memcpy(dst, *data, k);
	*data += k;
	*size -= k;
}

static void event_from_bytes(const uint8_t *data, size_t size)
{
	struct psync_link_event ev = { 0 };
	uint32_t v[8];
	uint8_t b[8];

	take(&data, &size, ev.ifname, sizeof(ev.ifname));
	take(&data, &size, ev.kind, sizeof(ev.kind));
	take(&data, &size, b, sizeof(b));
	take(&data, &size, v, sizeof(v));
	ev.ifindex = v[0];
	ev.flags = v[1];
	ev.mtu = v[2];
	ev.master = v[3];
	ev.carrier_up_count = v[4];
	ev.carrier_down_count = v[5];
	ev.carrier_changes = v[6];
	ev.dump_generation = v[7];
	ev.ifname[sizeof(ev.ifname) - 1] = '\0';
	ev.kind[sizeof(ev.kind) - 1] = '\0';
	if (!ev.ifname[0])
		ev.ifname[0] = 'x';
	if (!ev.ifindex)
		ev.ifindex = 1;
	ev.type = (enum psync_event_type)(1 + b[0] % 4);
	ev.operstate = b[1];
	ev.carrier = b[2] % 3;
	ev.from_dump = b[3] & 1;
	ev.has_carrier_changes = (b[3] & 2) != 0;
	ev.addr_len = b[4] % (PSYNC_ADDR_MAX + 1);
	for (unsigned i = 0; i < ev.addr_len; i++)
		ev.addr[i] = (uint8_t)(b[5] + 37 * i);
	fuzz_check_json_round_trip(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_line(data, size);
	event_from_bytes(data, size);
	return 0;
}
