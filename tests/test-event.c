/* SPDX-License-Identifier: Apache-2.0 */
/* Event names and the JSON-lines form used by recordings and the link monitor. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if.h>
#include <string.h>

#include <portsync/portsync.h>

static struct psync_link_event full_event(void)
{
	struct psync_link_event ev = {
		.type = PSYNC_EVENT_NEWLINK,
		.ifindex = 42,
		.flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP,
		.mtu = 9100,
		.master = 7,
		.carrier_up_count = 3,
		.carrier_down_count = 2,
		.carrier_changes = 5,
		.has_carrier_changes = 1,
		.dump_generation = 5,
		.operstate = 6,
		.carrier = PSYNC_CARRIER_UP,
		.from_dump = 1,
		.addr_len = 6,
		.addr = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef },
		.recv_ns = 123456789,
	};

	strcpy(ev.ifname, "Ethernet0");
	strcpy(ev.kind, "veth");
	return ev;
}

static void assert_same_event(const struct psync_link_event *a, const struct psync_link_event *b)
{
	cr_assert_eq(a->type, b->type);
	cr_assert_eq(a->ifindex, b->ifindex);
	cr_assert_eq(a->flags, b->flags);
	cr_assert_eq(a->mtu, b->mtu);
	cr_assert_eq(a->master, b->master);
	cr_assert_eq(a->carrier_up_count, b->carrier_up_count);
	cr_assert_eq(a->carrier_down_count, b->carrier_down_count);
	cr_assert_eq(a->carrier_changes, b->carrier_changes);
	cr_assert_eq(a->has_carrier_changes, b->has_carrier_changes);
	cr_assert_eq(a->dump_generation, b->dump_generation);
	cr_assert_eq(a->operstate, b->operstate);
	cr_assert_eq(a->carrier, b->carrier);
	cr_assert_eq(a->from_dump, b->from_dump);
	cr_assert_eq(a->addr_len, b->addr_len);
	cr_assert_arr_eq(a->addr, b->addr, a->addr_len);
	cr_assert_str_eq(a->ifname, b->ifname);
	cr_assert_str_eq(a->kind, b->kind);
}

Test(event, type_names_round_trip)
{
	for (int t = PSYNC_EVENT_NEWLINK; t <= PSYNC_EVENT_OVERRUN; t++) {
		enum psync_event_type back;
		const char *name = psync_event_type_to_string((enum psync_event_type)t);

		cr_assert_not_null(name);
		cr_assert_eq(psync_event_type_from_string(name, &back), 0);
		cr_assert_eq((int)back, t);
	}
	cr_assert_null(psync_event_type_to_string((enum psync_event_type)99));
	cr_assert_eq(psync_event_type_from_string("bogus", &(enum psync_event_type){ 0 }), -EINVAL);
}

Test(event, operstate_names)
{
	uint8_t s;

	cr_assert_str_eq(psync_operstate_to_string(6), "UP");
	cr_assert_str_eq(psync_operstate_to_string(3), "LOWERLAYERDOWN");
	cr_assert_null(psync_operstate_to_string(7));
	cr_assert_eq(psync_operstate_from_string("DORMANT", &s), 0);
	cr_assert_eq(s, 5);
	cr_assert_eq(psync_operstate_from_string("up", &s), -EINVAL);
}

Test(event, json_round_trip_keeps_every_field)
{
	struct psync_link_event ev = full_event(), back;
	char line[1024], err[128];
	int n = psync_event_to_json(&ev, line, sizeof(line));

	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(line));
	cr_assert_eq(psync_event_from_json(line, &back, err, sizeof(err)), 0, "%s", err);
	assert_same_event(&ev, &back);
	cr_assert_eq(back.recv_ns, 0, "a replay stamps its own receive time");
}

Test(event, json_escapes_odd_interface_names)
{
	struct psync_link_event ev = full_event(), back;
	char line[1024];

	strcpy(ev.ifname, "a\"b\\c\x01");
	psync_event_to_json(&ev, line, sizeof(line));
	cr_assert_not_null(strstr(line, "\"a\\\"b\\\\c\\u0001\""), "%s", line);
	cr_assert_eq(psync_event_from_json(line, &back, NULL, 0), 0);
	cr_assert_str_eq(back.ifname, ev.ifname);
}

Test(event, json_markers_carry_generation)
{
	struct psync_link_event ev = { .type = PSYNC_EVENT_DUMP_DONE, .dump_generation = 9 }, back;
	char line[256];

	psync_event_to_json(&ev, line, sizeof(line));
	cr_assert_null(strstr(line, "ifname"), "markers have no link fields: %s", line);
	cr_assert_eq(psync_event_from_json(line, &back, NULL, 0), 0);
	cr_assert_eq(back.type, PSYNC_EVENT_DUMP_DONE);
	cr_assert_eq(back.dump_generation, 9);
}

Test(event, json_output_is_cut_like_snprintf)
{
	struct psync_link_event ev = full_event();
	char full[1024], small[20];
	int need = psync_event_to_json(&ev, full, sizeof(full));

	cr_assert_eq(psync_event_to_json(&ev, small, sizeof(small)), need);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert_eq(strncmp(small, full, sizeof(small) - 1), 0);
	cr_assert_eq(psync_event_to_json(&ev, NULL, 0), need);
}

Test(event, json_flags_by_name)
{
	struct psync_link_event ev;

	cr_assert_eq(psync_event_from_json("{\"type\":\"newlink\",\"ifname\":\"Ethernet4\","
					   "\"ifindex\":3,\"flags\":[\"UP\",\"LOWER_UP\"],"
					   "\"carrier\":false}",
					   &ev, NULL, 0),
		     0);
	cr_assert_eq(ev.flags, IFF_UP | IFF_LOWER_UP);
	cr_assert_eq(ev.carrier, PSYNC_CARRIER_DOWN);
}

struct bad_line {
	const char *json;
	const char *says;
};

Test(event, json_errors_say_what_is_wrong)
{
	static const struct bad_line cases[] = {
		{ "{\"type\":\"newlink\"", "not valid JSON" },
		{ "[1,2]", "must be a JSON object" },
		{ "{\"ifname\":\"x\",\"ifindex\":1}", "missing field 'type'" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\"}", "'ifindex'" },
		{ "{\"type\":\"dellink\",\"ifindex\":2}", "'ifname'" },
		{ "{\"type\":\"teleport\"}", "unknown event type 'teleport'" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"colour\":1}", "unknown field 'colour'" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"mtu\":-1}", "'mtu' is out of range" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"mtu\":\"9100\"}", "'mtu' must be an integer" },
		{ "{\"type\":\"newlink\",\"ifname\":\"abcdefghijklmnopq\",\"ifindex\":1}", "'ifname' must be shorter" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"flags\":[\"FAST\"]}", "unknown flag 'FAST'" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"address\":\"zz:00\"}", "'address'" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"operstate\":\"SIDEWAYS\"}", "unknown state" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"carrier\":3}", "'carrier'" },
		{ "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1} trailing", "trailing" },
		{ "", "not valid JSON" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct psync_link_event ev = full_event(), before = ev;
		char err[160] = "";

		cr_assert_eq(psync_event_from_json(cases[i].json, &ev, err, sizeof(err)), -EINVAL,
			     "accepted: %s", cases[i].json);
		cr_assert_not_null(strstr(err, cases[i].says), "for %s: got '%s', want '%s'",
				   cases[i].json, err, cases[i].says);
		cr_assert_eq(memcmp(&ev, &before, sizeof(ev)), 0, "failed parse must not touch *ret");
	}
}
