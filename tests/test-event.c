/* SPDX-License-Identifier: Apache-2.0 */
/* Event names and the JSON-lines form used by recordings and the link monitor. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
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

static void assert_name_round_trips(const char *name, const char *want_in_line)
{
	struct psync_link_event ev = full_event(), back;
	char line[1024], err[160] = "";

	memset(ev.ifname, 0, sizeof(ev.ifname));
	memcpy(ev.ifname, name, strlen(name));
	cr_assert_gt(psync_event_to_json(&ev, line, sizeof(line)), 0);
	cr_assert_not_null(strstr(line, want_in_line), "want %s in %s", want_in_line, line);
	cr_assert_eq(psync_event_from_json(line, &back, err, sizeof(err)), 0, "%s: %s", line, err);
	cr_assert_str_eq(back.ifname, ev.ifname, "%s", line);
}

/* Names are bytes: UTF-8 goes through as is, other bytes as "\udcXX". */
Test(event, json_keeps_non_ascii_interface_names_byte_for_byte)
{
	assert_name_round_trips("\xc3\xa9th0", "\"ifname\":\"\xc3\xa9th0\"");
	assert_name_round_trips("\xff" "eth", "\"ifname\":\"\\udcffeth\"");
	assert_name_round_trips("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x",
				"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x");
	assert_name_round_trips("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x80\x81\xc3",
				"\\udcff\\udcfe\\udcfd\\udcfc\\udcfb\\udcfa\\udcf9\\udcf8"
				"\\udc80\\udc81\\udcc3\"");
	/* overlong '/', a UTF-16 surrogate in UTF-8, past U+10FFFF, a cut sequence */
	assert_name_round_trips("\xc0\xaf" "a", "\\udcc0\\udcafa");
	assert_name_round_trips("\xed\xa0\x80", "\\udced\\udca0\\udc80");
	assert_name_round_trips("\xf4\x90\x80\x80", "\\udcf4\\udc90\\udc80\\udc80");
	assert_name_round_trips("ab\xe2\x82", "ab\\udce2\\udc82\"");
	assert_name_round_trips("\xf0\x9f\x90\xa7" "0", "\xf0\x9f\x90\xa7" "0");
	assert_name_round_trips("\x7f", "\\u007f");
}

Test(event, json_reads_byte_escapes_but_leaves_surrogate_pairs_to_json)
{
	struct psync_link_event ev;

	cr_assert_eq(psync_event_from_json("{\"type\":\"newlink\",\"ifindex\":1,"
					   "\"ifname\":\"\\uDCFFx\\ud83d\\udc27\\\\udcff\"}",
					   &ev, NULL, 0),
		     0);
	cr_assert_str_eq(ev.ifname, "\xffx\xf0\x9f\x90\xa7\\udcff");
	/* Raw bytes that are not UTF-8 are taken as they are. */
	cr_assert_eq(psync_event_from_json("{\"type\":\"newlink\",\"ifindex\":1,\"ifname\":\"\xff\"}",
					   &ev, NULL, 0),
		     0);
	cr_assert_str_eq(ev.ifname, "\xff");
}

Test(event, json_address_is_exactly_two_hex_digits_per_byte)
{
	static const char *const bad[] = { " 1", "+f", "-1", "0x", "1", "1:2", "aa: b",
					   "aa:+b", "aa:", ":aa", "aa::bb", "aaa", "aa\\u0000bb" };
	struct psync_link_event ev;
	char line[256], err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"address\":\"%s\"}",
			 bad[i]);
		err[0] = '\0';
		cr_expect_eq(psync_event_from_json(line, &ev, err, sizeof(err)), -EINVAL,
			     "accepted %s", bad[i]);
		cr_expect_not_null(strstr(err, "'address'"), "%s: %s", bad[i], err);
	}
	cr_assert_eq(psync_event_from_json("{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,"
					   "\"address\":\"0A:fF:00\"}",
					   &ev, NULL, 0),
		     0);
	cr_assert_eq(ev.addr_len, 3);
	cr_assert_eq(ev.addr[0], 0x0a);
	cr_assert_eq(ev.addr[1], 0xff);
	cr_assert_eq(ev.addr[2], 0x00);
}

Test(event, json_flags_that_are_not_names_are_an_error)
{
	static const char *const lists[] = { "[null]", "[1]", "[\"UP\",null]", "[[]]", "[{}]" };
	struct psync_link_event ev;
	char line[256], err[160];

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"type\":\"newlink\",\"ifname\":\"x\",\"ifindex\":1,\"flags\":%s}", lists[i]);
		err[0] = '\0';
		cr_expect_eq(psync_event_from_json(line, &ev, err, sizeof(err)), -EINVAL, "%s", lists[i]);
		cr_expect_str_eq(err, "field 'flags' must list flag names, as strings", "%s", lists[i]);
	}
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
