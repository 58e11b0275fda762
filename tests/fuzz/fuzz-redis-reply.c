/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replies from a Redis server, as the sink reads and acts on them: a real
 * Redis sink connects to a fake server on a unix socket of this target's own,
 * which answers with the input. The input is split into segments, one per
 * round of the sink's loop: a '\n' right after a '\n' ends one and is dropped
 * (RESP ends its lines with "\r\n" and never has two '\n' in a row).
 * The first byte picks the set-up: bit 0 a password (AUTH in the handshake),
 * bit 1 a watch (a subscriber connection), bit 2 the segments go to the
 * subscriber instead of the main connection. Reads are asked for at once and
 * writes once the connection is ready, so replies meet every kind of command.
 *
 * Whatever the replies, nothing may crash or allocate what the replies only
 * claim, every write is completed at most once, and once the server has hung
 * up every write in hand has been completed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "redis_internal.h"

#include "fuzz.h"

#define ROUNDS_AFTER 3

struct world {
	int listener;
	char address[160];
};

struct run {
	struct psync_sink *sink;
	int fds[2];     /* server ends: main, subscriber; -1 until accepted */
	int target;     /* which gets the segments */
	unsigned accepted;
	unsigned done[4];
	unsigned submitted[4];
	unsigned reads;
};

static const struct psync_field fields[] = { { "admin_status", "up" }, { "mtu", "9100" } };

static const struct psync_write writes[4] = {
	{ .op = PSYNC_WRITE_SET, .db = "STATE_DB", .table = "PORT_TABLE", .key = "Ethernet0",
	  .fields = fields, .n_fields = 2 },
	{ .op = PSYNC_WRITE_DEL, .db = "STATE_DB", .table = "PORT_TABLE", .key = "Ethernet4" },
	{ .op = PSYNC_WRITE_PRODUCER_SET, .db = "APPL_DB", .table = "PORT_TABLE", .key = "Ethernet8",
	  .fields = fields, .n_fields = 1 },
	{ .op = PSYNC_WRITE_PRODUCER_DEL, .db = "APPL_DB", .table = "PORT_TABLE", .key = "Ethernet12" },
};

static const struct psync_read reads[] = {
	{ .op = PSYNC_READ_HGETALL, .db = "CONFIG_DB", .table = "PORT", .key = "Ethernet0" },
	{ .op = PSYNC_READ_HGET, .db = "CONFIG_DB", .table = "PORT", .key = "Ethernet0",
	  .field = "mtu" },
	{ .op = PSYNC_READ_EXISTS, .db = "APPL_DB", .table = "PORT_TABLE", .key = "PortInitDone" },
	{ .op = PSYNC_READ_SCAN, .db = "CONFIG_DB", .table = "PORT" },
};

static struct world *world(void)
{
	static struct world w = { .listener = -1 };
	static char dir[] = "/tmp/psync-fuzz-redis-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (w.listener >= 0)
		return &w;
	FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/redis.sock", dir);
	snprintf(w.address, sizeof(w.address), "unix:%s", sa.sun_path);
	w.listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(w.listener >= 0 && bind(w.listener, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			   listen(w.listener, 16) == 0,
		   "listen");
	setenv("PSYNC_FUZZ_PASSWORD", "s3cret", 1);
	return &w;
}

static void on_done(const struct psync_write *w, int status, const char *reason, void *userdata)
{
	struct run *run = userdata;
	size_t i = (size_t)(w - writes);

	(void)status;
	FUZZ_CHECK(i < 4, "completion of a write never submitted");
	FUZZ_CHECK(status == 0 || reason, "failed without a reason");
	run->done[i]++;
	FUZZ_CHECK(run->done[i] <= run->submitted[i], "write %zu completed %u times", i,
		   run->done[i]);
}

static void on_read(const struct psync_read *r, const struct psync_read_result *res, void *userdata)
{
	struct run *run = userdata;

	(void)r;
	run->reads++;
	FUZZ_CHECK(run->reads <= sizeof(reads) / sizeof(reads[0]), "a read completed twice");
	for (size_t i = 0; i < res->n_fields; i++)
		FUZZ_CHECK(res->fields[i].name && res->fields[i].value, "field %zu", i);
	for (size_t i = 0; i < res->n_keys; i++)
		FUZZ_CHECK(res->keys[i], "key %zu", i);
}

static void on_watch(const struct psync_redis_watch_update *u, void *userdata)
{
	(void)userdata;
	for (size_t i = 0; i < u->n_fields; i++)
		FUZZ_CHECK(u->fields[i].name && u->fields[i].value, "field %zu", i);
}

/* Takes new connections: the main one, then the subscriber's. */
static void accept_clients(struct world *w, struct run *run)
{
	int fd;

	while ((fd = accept4(w->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (run && run->accepted < 2)
			run->fds[run->accepted++] = fd;
		else
			close(fd);
	}
}

/* What the sink sent is read and dropped; the answers are the input's. */
static void drain(int fd)
{
	char buf[4096];

	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
}

static void submit_writes(struct run *run)
{
	struct psync__redis *r = psync_sink_get_impl(run->sink);

	if (run->submitted[0] || r->conns[0].state != PSYNC__CONN_READY)
		return;
	for (size_t i = 0; i < 4; i++)
		if (psync__sink_submit(run->sink, &writes[i]) == 0)
			run->submitted[i]++;
	psync__sink_flush(run->sink);
}

static void round_trip(struct world *w, struct run *run, const uint8_t *seg, size_t len)
{
	int fd;

	psync_sink_dispatch(run->sink);
	submit_writes(run);
	accept_clients(w, run);
	drain(run->fds[0]);
	drain(run->fds[1]);
	fd = run->fds[run->target];
	if (fd >= 0 && len)
		(void)!send(fd, seg, len, MSG_NOSIGNAL);
	psync_sink_dispatch(run->sink);
	submit_writes(run);
}

static struct psync_sink *new_sink(struct world *w, uint8_t setup, struct run *run)
{
	struct psync_redis_options o = {
		.sz = sizeof(o),
		.address = w->address,
		.password_env = setup & 1 ? "PSYNC_FUZZ_PASSWORD" : NULL,
		.connect_timeout_ms = 600000, /* no timer may fire within one input */
		.backoff_min_ms = 600000,
		.backoff_max_ms = 600000,
		.scan_count = 10,
	};
	struct psync_sink *s;
	char err[256];

	FUZZ_CHECK(psync_redis_sink_new(&o, err, sizeof(err), &s) == 0, "%s", err);
	FUZZ_CHECK(psync__sink_attach(s, on_done, run) == 0, "attach");
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		FUZZ_CHECK(psync_sink_read(s, &reads[i], on_read, run) == 0, "read %zu", i);
	if (setup & 2)
		FUZZ_CHECK(psync_redis_sink_watch(s, "CONFIG_DB", "LOGGER", "portsyncd", on_watch,
						  NULL) == 0,
			   "watch");
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = world();
	struct run run = { .fds = { -1, -1 } };
	uint8_t setup;

	if (size < 1)
		return 0;
	setup = data[0];
	data++;
	size--;
	accept_clients(w, NULL); /* anything left from an earlier input */
	run.target = (setup & 6) == 6;
	run.sink = new_sink(w, setup, &run);
	while (size > 0) {
		const uint8_t *sep = memmem(data, size, "\n\n", 2);
		size_t len = sep ? (size_t)(sep - data) + 1 : size;

		round_trip(w, &run, data, len);
		data += sep ? len + 1 : len;
		size -= sep ? len + 1 : len;
	}
	for (int i = 0; i < ROUNDS_AFTER; i++)
		round_trip(w, &run, NULL, 0);
	/* The server hangs up: whatever was in hand is completed now. */
	for (int i = 0; i < 2; i++)
		if (run.fds[i] >= 0)
			shutdown(run.fds[i], SHUT_RDWR);
	for (int i = 0; i < ROUNDS_AFTER; i++)
		round_trip(w, &run, NULL, 0);
	for (size_t i = 0; i < 4; i++)
		FUZZ_CHECK(run.done[i] == run.submitted[i], "write %zu: %u completions of %u", i,
			   run.done[i], run.submitted[i]);
	psync_sink_free(run.sink);
	for (int i = 0; i < 2; i++)
		if (run.fds[i] >= 0)
			close(run.fds[i]);
	return 0;
}
