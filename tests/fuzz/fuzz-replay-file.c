/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A recording file, as psync_replay_source_new_from_file reads it. A file that
 * loads must give one event per line that is not blank or a comment, each of
 * which survives the JSON-lines format; one that does not must name the file.
 */
#include <portsync/replay.h>

#include "fuzz.h"

struct count {
	size_t events;
};

static int on_event(const struct psync_link_event *ev, void *userdata)
{
	struct count *c = userdata;

	c->events++;
	fuzz_check_json_round_trip(ev);
	return 0;
}

/* Lines that hold an event, as the reader's rule has it. */
static size_t event_lines(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size;) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size, j = i;

		while (j < end && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r'))
			j++;
		n += j < end && data[j] != '#';
		i = end + 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct psync_source *s = NULL;
	struct count c = { 0 };
	char err[256] = "";
	int r = psync_replay_source_new_from_file(path, err, sizeof(err), &s);

	if (r < 0) {
		FUZZ_CHECK(!s, "a failed load left a source");
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0, "error without the path: %s", err);
		return 0;
	}
	while (psync_source_dispatch(s, 64, on_event, &c) > 0)
		;
	FUZZ_CHECK(psync_source_is_finished(s) == 1, "not finished after %zu events", c.events);
	FUZZ_CHECK(c.events == event_lines(data, size), "%zu events from %zu lines", c.events,
		   event_lines(data, size));
	psync_source_free(s);
	return 0;
}
