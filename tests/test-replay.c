/* SPDX-License-Identifier: Apache-2.0 */
/* The replay source: arrays, recordings (JSON lines) and the generator. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <portsync/portsync.h>

struct collected {
	struct psync_link_event ev[64];
	unsigned n;
};

static int collect(const struct psync_link_event *ev, void *userdata)
{
	struct collected *c = userdata;

	if (c->n < 64)
		c->ev[c->n] = *ev;
	c->n++;
	return 0;
}

static int readable(struct psync_source *s)
{
	struct pollfd p = { .fd = psync_source_get_fd(s), .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static struct psync_link_event link_event(const char *name, uint32_t ifindex, uint32_t mtu)
{
	struct psync_link_event ev = { .type = PSYNC_EVENT_NEWLINK, .ifindex = ifindex, .mtu = mtu };

	snprintf(ev.ifname, sizeof(ev.ifname), "%s", name);
	return ev;
}

Test(replay, array_emits_in_order_within_budget)
{
	struct psync_link_event in[5];
	struct collected c = { 0 };
	struct psync_source *s;

	for (unsigned i = 0; i < 5; i++)
		in[i] = link_event("Ethernet0", 2, 1000 + i);
	cr_assert_eq(psync_replay_source_new(in, 5, &s), 0);
	cr_assert(readable(s), "readable while events remain");
	cr_assert_eq(psync_source_dispatch(s, 3, collect, &c), 3);
	cr_assert_eq(psync_source_is_finished(s), 0);
	cr_assert_eq(psync_source_dispatch(s, 3, collect, &c), 2);
	cr_assert_eq(psync_source_is_finished(s), 1);
	cr_assert(!readable(s), "not readable once finished");
	cr_assert_eq(psync_source_dispatch(s, 3, collect, &c), 0);
	for (unsigned i = 0; i < 5; i++) {
		cr_assert_eq(c.ev[i].mtu, 1000 + i);
		cr_assert_gt(c.ev[i].recv_ns, 0, "stamped at emission");
		if (i)
			cr_assert_geq(c.ev[i].recv_ns, c.ev[i - 1].recv_ns);
	}
	cr_assert_eq(psync_replay_source_get_emitted(s), 5);
	psync_source_free(s);
}

static int stop_at_second(const struct psync_link_event *ev, void *userdata)
{
	(void)ev;
	return ++*(int *)userdata == 2 ? -ECANCELED : 0;
}

Test(replay, emit_error_stops_dispatch)
{
	struct psync_link_event in[3] = { link_event("a", 1, 1), link_event("b", 2, 1),
					  link_event("c", 3, 1) };
	struct psync_source *s;
	int calls = 0;

	cr_assert_eq(psync_replay_source_new(in, 3, &s), 0);
	cr_assert_eq(psync_source_dispatch(s, 10, stop_at_second, &calls), -ECANCELED);
	cr_assert_eq(calls, 2);
	cr_assert_eq(psync_replay_source_get_emitted(s), 2);
	psync_source_free(s);
}

Test(replay, generator_is_a_dump_then_seeded_flaps)
{
	struct psync_replay_generator g = { .sz = sizeof(g), .n_ports = 4, .n_events = 20, .seed = 3 };
	struct collected a = { 0 }, b = { 0 };
	struct psync_source *s1, *s2;

	cr_assert_eq(psync_replay_source_new_generator(&g, &s1), 0);
	cr_assert_eq(psync_replay_source_new_generator(&g, &s2), 0);
	cr_assert_eq(psync_source_dispatch(s1, 100, collect, &a), 25);
	psync_source_dispatch(s2, 100, collect, &b);
	cr_assert_str_eq(a.ev[0].ifname, "Ethernet0");
	cr_assert_str_eq(a.ev[3].ifname, "Ethernet12");
	cr_assert(a.ev[0].from_dump && a.ev[3].from_dump);
	cr_assert_eq(a.ev[4].type, PSYNC_EVENT_DUMP_DONE);
	cr_assert_eq(a.ev[4].dump_generation, 1);
	for (unsigned i = 5; i < 25; i++) {
		cr_assert_eq(a.ev[i].type, PSYNC_EVENT_NEWLINK);
		cr_assert_eq(a.ev[i].from_dump, 0);
		cr_assert_str_eq(a.ev[i].ifname, b.ev[i].ifname, "same seed, same sequence");
		cr_assert_eq(a.ev[i].flags, b.ev[i].flags);
	}
	psync_source_free(s1);
	psync_source_free(s2);
}

Test(replay, generator_rejects_names_that_do_not_fit)
{
	struct psync_replay_generator g = { .sz = sizeof(g), .prefix = "VeryLongPrefix", .n_ports = 100 };
	struct psync_source *s = NULL;

	cr_assert_eq(psync_replay_source_new_generator(&g, &s), -EINVAL);
	cr_assert_null(s);
	g.prefix = NULL;
	g.n_ports = 0;
	cr_assert_eq(psync_replay_source_new_generator(&g, &s), -EINVAL);
}

static char *write_temp_bytes(const char *text, size_t len)
{
	char *path = strdup("/tmp/psync-replay-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static char *write_temp(const char *text)
{
	return write_temp_bytes(text, strlen(text));
}

Test(replay, file_with_comments_and_blank_lines)
{
	char *path = write_temp("# recorded on a test box\n"
				"{\"type\":\"newlink\",\"ifname\":\"Ethernet0\",\"ifindex\":5,\"flags\":[\"UP\"],\"mtu\":9100}\n"
				"\n"
				"   \n"
				"{\"type\":\"overrun\"}\n"
				"{\"type\":\"dellink\",\"ifname\":\"Ethernet0\",\"ifindex\":5}");
	struct collected c = { 0 };
	struct psync_source *s;
	char err[256] = "";

	cr_assert_eq(psync_replay_source_new_from_file(path, err, sizeof(err), &s), 0, "%s", err);
	cr_assert_eq(psync_source_dispatch(s, 100, collect, &c), 3);
	cr_assert_eq(c.ev[0].mtu, 9100);
	cr_assert_eq(c.ev[1].type, PSYNC_EVENT_OVERRUN);
	cr_assert_eq(c.ev[2].type, PSYNC_EVENT_DELLINK);
	psync_source_free(s);
	unlink(path);
	free(path);
}

Test(replay, malformed_line_is_named)
{
	char *path = write_temp("{\"type\":\"dump_done\"}\n"
				"\n"
				"{\"type\":\"newlink\",\"ifname\":\"Ethernet0\",\"ifindex\":5,\"mtu\":\"big\"}\n");
	struct psync_source *s = NULL;
	char err[256] = "", want[300];

	cr_assert_eq(psync_replay_source_new_from_file(path, err, sizeof(err), &s), -EINVAL);
	cr_assert_null(s);
	snprintf(want, sizeof(want), "%s:3: field 'mtu' must be an integer", path);
	cr_assert_str_eq(err, want);
	unlink(path);
	free(path);
}

Test(replay, truncated_and_binary_lines_fail_cleanly)
{
	char *path = write_temp("{\"type\":\"newlink\",\"ifna\n\x01\x02\xff\xfe\n");
	struct psync_source *s = NULL;
	char err[256] = "";

	cr_assert_eq(psync_replay_source_new_from_file(path, err, sizeof(err), &s), -EINVAL);
	cr_assert_not_null(strstr(err, ":1: not valid JSON"), "%s", err);
	unlink(path);
	free(path);
}

/* A NUL used to end the line silently: what followed it was never read. */
Test(replay, nul_byte_in_a_line_is_an_error_naming_the_line)
{
	static const char text[] = "{\"type\":\"dump_done\"}\n"
				   "{\"type\":\"dump_done\"}\0{\"type\":\"overrun\"}\n";
	char *path = write_temp_bytes(text, sizeof(text) - 1);
	struct psync_source *s = NULL;
	char err[256] = "", want[300];

	cr_assert_eq(psync_replay_source_new_from_file(path, err, sizeof(err), &s), -EINVAL);
	cr_assert_null(s);
	snprintf(want, sizeof(want), "%s:2: a NUL byte in the line", path);
	cr_assert_str_eq(err, want);
	unlink(path);
	free(path);
}

/* Eight bytes of UTF-8 came back as sixteen, too long for a name: the file was refused. */
Test(replay, recording_with_non_ascii_names_loads_them_exactly)
{
	struct psync_link_event ev[2] = { link_event("x", 5, 9100), link_event("y", 6, 1500) };
	struct collected c = { 0 };
	struct psync_source *s = NULL;
	char line[2][512], text[1100], err[256] = "", *path;

	strcpy(ev[0].ifname, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "eth0");
	strcpy(ev[1].ifname, "\xff\xfe" "eth0");
	for (int i = 0; i < 2; i++)
		cr_assert_gt(psync_event_to_json(&ev[i], line[i], sizeof(line[i])), 0);
	snprintf(text, sizeof(text), "%s\n%s\n", line[0], line[1]);
	path = write_temp(text);
	cr_assert_eq(psync_replay_source_new_from_file(path, err, sizeof(err), &s), 0, "%s", err);
	cr_assert_eq(psync_source_dispatch(s, 10, collect, &c), 2);
	cr_assert_str_eq(c.ev[0].ifname, ev[0].ifname);
	cr_assert_str_eq(c.ev[1].ifname, ev[1].ifname);
	psync_source_free(s);
	unlink(path);
	free(path);
}

Test(replay, missing_file_names_the_path)
{
	struct psync_source *s = NULL;
	char err[256] = "";

	cr_assert_eq(psync_replay_source_new_from_file("/nonexistent/rec.jsonl", err, sizeof(err), &s),
		     -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/rec.jsonl: No such file or directory");
}

Test(replay, empty_file_is_finished_at_once)
{
	char *path = write_temp("");
	struct psync_source *s;

	cr_assert_eq(psync_replay_source_new_from_file(path, NULL, 0, &s), 0);
	cr_assert_eq(psync_source_is_finished(s), 1);
	psync_source_free(s);
	unlink(path);
	free(path);
}

static int no_events(void *impl, unsigned budget, psync_emit_fn emit, void *userdata)
{
	(void)impl;
	(void)budget;
	(void)emit;
	(void)userdata;
	return 0;
}

Test(replay, emitted_count_only_for_replay_sources)
{
	static const struct psync_source_ops impostor = {
		.sz = sizeof(impostor), .name = "replay", .dispatch = no_events,
	};
	static const struct psync_source_ops incomplete = { .sz = sizeof(incomplete) };
	struct psync_source *s;

	cr_assert_eq(psync_source_new(&incomplete, NULL, &s), -EINVAL, "dispatch is required");
	cr_assert_eq(psync_source_new(&impostor, NULL, &s), 0);
	cr_assert_eq(psync_replay_source_get_emitted(s), -EINVAL, "recognised by its ops, not its name");
	cr_assert_eq(psync_source_get_fd(s), -EOPNOTSUPP);
	cr_assert_eq(psync_source_request_dump(s), -EOPNOTSUPP);
	cr_assert_eq(psync_source_is_finished(s), 0, "a source without is_finished never ends");
	psync_source_free(s);
	cr_assert_eq(psync_replay_source_get_emitted(NULL), -EINVAL);
}
