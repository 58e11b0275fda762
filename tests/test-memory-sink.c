/* SPDX-License-Identifier: Apache-2.0 */
/* The memory sink keeps the sink contract: deferred acknowledgement, order,
 * reads, and fault injection. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#include "internal.h"

struct done_log {
	int status[64];
	const char *key[64];
	unsigned n;
};

static void record_done(const struct psync_write *w, int status, const char *reason, void *userdata)
{
	struct done_log *log = userdata;

	(void)reason;
	log->key[log->n] = w->key;
	log->status[log->n++] = status;
}

static struct psync_sink *sink;
static struct done_log done;

static void make_sink(const struct psync_memory_sink_options *opts)
{
	cr_assert_eq(psync_memory_sink_new(opts, &sink), 0);
	cr_assert_eq(psync__sink_attach(sink, record_done, &done), 0);
}

static void teardown(void)
{
	psync_sink_free(sink);
	sink = NULL;
	memset(&done, 0, sizeof(done));
}

TestSuite(memory_sink, .fini = teardown);

static struct psync_field port_fields[] = {
	{ "state", "ok" }, { "netdev_oper_status", "up" }, { "admin_status", "up" }, { "mtu", "9100" },
};

static const struct psync_write state_set = {
	.op = PSYNC_WRITE_SET, .db = "STATE_DB", .table = "PORT_TABLE", .key = "Ethernet0",
	.fields = port_fields, .n_fields = 4,
};

Test(memory_sink, writes_apply_and_ack_at_flush_not_at_submit)
{
	make_sink(NULL);
	cr_assert_eq(psync__sink_submit(sink, &state_set), 0);
	cr_assert_null(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0", "state"));
	cr_assert_eq(done.n, 0, "never completed inside submit");
	cr_assert_eq(psync__sink_in_hand(sink), 1);
	cr_assert_eq(psync__sink_flush(sink), 0);
	cr_assert_eq(done.n, 1);
	cr_assert_eq(done.status[0], 0);
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0", "mtu"), "9100");
	cr_assert_eq(psync__sink_in_hand(sink), 0);
}

Test(memory_sink, set_updates_named_fields_and_keeps_others)
{
	struct psync_field foreign = { "speed", "100000" }, mtu = { "mtu", "1500" };
	struct psync_write w = state_set;

	make_sink(NULL);
	cr_assert_eq(psync_memory_sink_seed(sink, "STATE_DB", "PORT_TABLE|Ethernet0", &foreign, 1), 0);
	psync__sink_submit(sink, &state_set);
	w.fields = &mtu;
	w.n_fields = 1;
	psync__sink_submit(sink, &w);
	psync__sink_flush(sink);
	cr_assert_eq(psync_memory_sink_count_fields(sink, "STATE_DB", "PORT_TABLE|Ethernet0"), 5);
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0", "speed"), "100000");
	cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0", "mtu"), "1500");
}

Test(memory_sink, values_grow_and_shrink_in_place)
{
	static const char *const values[] = { "up", "down", "a value longer than sixteen bytes",
					       "x", "an even longer value than the one before it" };
	struct psync_field f = { "admin_status", NULL };
	struct psync_write w = state_set;

	make_sink(NULL);
	w.fields = &f;
	w.n_fields = 1;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		f.value = values[i];
		psync__sink_submit(sink, &w);
		psync__sink_flush(sink);
		cr_assert_str_eq(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0",
						       "admin_status"), values[i]);
	}
}

Test(memory_sink, delete_and_separators)
{
	struct psync_write del = state_set, prod = state_set;

	make_sink(NULL);
	del.op = PSYNC_WRITE_DEL;
	prod.op = PSYNC_WRITE_PRODUCER_SET;
	prod.db = "APPL_DB";
	psync__sink_submit(sink, &state_set);
	psync__sink_submit(sink, &prod);
	psync__sink_flush(sink);
	cr_assert_eq(psync_memory_sink_count_fields(sink, "APPL_DB", "_PORT_TABLE:Ethernet0"), 4,
		     "producer writes are staged under _TABLE: with APPL_DB's ':'");
	cr_assert_not_null(psync_memory_sink_get(sink, "APPL_DB", "PORT_TABLE_KEY_SET", "Ethernet0"));
	cr_assert_eq(psync_memory_sink_count_fields(sink, "APPL_DB", "PORT_TABLE:Ethernet0"), -ENOENT,
		     "nothing lands before a consumer pops it");
	cr_assert_eq(psync_memory_sink_consume(sink, "APPL_DB", "PORT_TABLE"), 1);
	cr_assert_eq(psync_memory_sink_count_fields(sink, "APPL_DB", "PORT_TABLE:Ethernet0"), 4);
	cr_assert_eq(psync_memory_sink_count_keys(sink, "APPL_DB"), 1, "staging and key set are gone");
	psync__sink_submit(sink, &del);
	prod.op = PSYNC_WRITE_PRODUCER_DEL;
	psync__sink_submit(sink, &prod);
	psync__sink_flush(sink);
	cr_assert_eq(psync_memory_sink_count_fields(sink, "STATE_DB", "PORT_TABLE|Ethernet0"), -ENOENT);
	cr_assert_eq(psync_memory_sink_consume(sink, "APPL_DB", "PORT_TABLE"), 1);
	cr_assert_eq(psync_memory_sink_count_keys(sink, "APPL_DB"), 0, "a consumed delete removes the entry");
	cr_assert_eq(done.n, 4);
}

Test(memory_sink, custom_separator)
{
	make_sink(NULL);
	cr_assert_eq(psync_memory_sink_set_separator(sink, "STATE_DB", "/"), 0);
	psync__sink_submit(sink, &state_set);
	psync__sink_flush(sink);
	cr_assert_not_null(psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE/Ethernet0", "state"));
	cr_assert_eq(psync_memory_sink_set_separator(sink, "STATE_DB", ":"), -EBUSY);
}

Test(memory_sink, acks_come_in_submission_order)
{
	const char *keys[] = { "a", "b", "c", "d" };
	struct psync_write w[4];

	make_sink(NULL);
	for (int i = 0; i < 4; i++) {
		w[i] = state_set;
		w[i].key = keys[i];
		psync__sink_submit(sink, &w[i]);
	}
	psync__sink_flush(sink);
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(done.key[i], keys[i]);
}

Test(memory_sink, fail_every_nth_write)
{
	struct psync_memory_sink_options o = { .sz = sizeof(o), .fail_every = 3 };

	make_sink(&o);
	for (int i = 0; i < 9; i++)
		psync__sink_submit(sink, &state_set);
	psync__sink_flush(sink);
	for (unsigned i = 0; i < 9; i++)
		cr_assert_eq(done.status[i], (i + 1) % 3 == 0 ? -EIO : 0, "write %u", i);
	cr_assert_eq(psync_memory_sink_get_injected_failures(sink), 3);
	cr_assert_eq(psync_memory_sink_get_applied(sink), 6);
}

Test(memory_sink, fail_percent_is_near_its_share)
{
	struct psync_memory_sink_options o = { .sz = sizeof(o), .fail_percent = 20, .seed = 5 };
	uint64_t failed;

	make_sink(&o);
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 50; i++)
			psync__sink_submit(sink, &state_set);
		psync__sink_flush(sink);
		done.n = 0;
	}
	failed = psync_memory_sink_get_injected_failures(sink);
	cr_assert(failed > 800 && failed < 1200, "%llu of 5000 failed", (unsigned long long)failed);
}

Test(memory_sink, bad_options_and_backpressure)
{
	struct psync_memory_sink_options o = { .sz = sizeof(o), .fail_percent = 101 };
	struct psync_sink *s;

	cr_assert_eq(psync_memory_sink_new(&o, &s), -EINVAL);
	o = (struct psync_memory_sink_options){ .sz = sizeof(o), .max_in_flight = 2 };
	make_sink(&o);
	cr_assert_eq(psync__sink_submit(sink, &state_set), 0);
	cr_assert_eq(psync__sink_submit(sink, &state_set), 0);
	cr_assert_eq(psync__sink_submit(sink, &state_set), -EAGAIN);
	psync__sink_flush(sink);
	cr_assert_eq(psync__sink_submit(sink, &state_set), 0);
}

struct read_answer {
	int calls;
	int exists;
	char value[32];
	size_t n;
	char keys[8][32];
};

static void on_read(const struct psync_read *r, const struct psync_read_result *res, void *userdata)
{
	struct read_answer *a = userdata;

	cr_assert_eq(res->status, 0);
	a->calls++;
	a->exists = res->exists;
	if (r->op == PSYNC_READ_HGET && res->value)
		snprintf(a->value, sizeof(a->value), "%s", res->value);
	a->n = r->op == PSYNC_READ_SCAN ? res->n_keys : res->n_fields;
	for (size_t i = 0; r->op == PSYNC_READ_SCAN && i < res->n_keys && i < 8; i++)
		snprintf(a->keys[i], sizeof(a->keys[i]), "%s", res->keys[i]);
}

Test(memory_sink, reads_answer_after_wait)
{
	struct read_answer a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct psync_read hgetall = { PSYNC_READ_HGETALL, "STATE_DB", "PORT_TABLE", "Ethernet0", NULL };
	struct psync_read hget = { PSYNC_READ_HGET, "STATE_DB", "PORT_TABLE", "Ethernet0", "mtu" };
	struct psync_read exists = { PSYNC_READ_EXISTS, "STATE_DB", "PORT_TABLE", "Ethernet8", NULL };
	struct psync_read scan = { PSYNC_READ_SCAN, "STATE_DB", "PORT_TABLE", NULL, NULL };
	struct psync_field other = { "x", "1" };

	make_sink(NULL);
	psync_memory_sink_seed(sink, "STATE_DB", "PORT_TABLE|Ethernet0", port_fields, 4);
	psync_memory_sink_seed(sink, "STATE_DB", "PORT_TABLE|Ethernet4", port_fields, 1);
	psync_memory_sink_seed(sink, "STATE_DB", "PORT_TABLE_X|Ethernet4", &other, 1);
	cr_assert_eq(psync_sink_read(sink, &hgetall, on_read, &a), 0);
	cr_assert_eq(psync_sink_read(sink, &hget, on_read, &b), 0);
	cr_assert_eq(psync_sink_read(sink, &exists, on_read, &c), 0);
	cr_assert_eq(psync_sink_read(sink, &scan, on_read, &d), 0);
	cr_assert_eq(a.calls + b.calls + c.calls + d.calls, 0, "answers come later");
	cr_assert_eq(psync_sink_wait(sink, 1000), 0);
	cr_assert_eq(a.exists, 1);
	cr_assert_eq(a.n, 4);
	cr_assert_str_eq(b.value, "9100");
	cr_assert_eq(c.calls, 1);
	cr_assert_eq(c.exists, 0);
	cr_assert_eq(d.n, 2, "SCAN keeps to its table, not PORT_TABLE_X");
	cr_assert(strcmp(d.keys[0], "Ethernet0") == 0 || strcmp(d.keys[1], "Ethernet0") == 0);
}

Test(memory_sink, invalid_reads_are_refused_without_callback)
{
	struct read_answer a = { 0 };
	struct psync_read hget = { PSYNC_READ_HGET, "STATE_DB", "PORT_TABLE", "Ethernet0", NULL };

	make_sink(NULL);
	cr_assert_eq(psync_sink_read(sink, &hget, on_read, &a), -EINVAL);
	cr_assert_eq(psync_sink_wait(sink, 100), 0);
	cr_assert_eq(a.calls, 0);
}
