/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A password file, as psync_redis_sink_new reads it (password_file). The
 * password is the first line, without its line break, exactly: when the sink
 * is made, it holds those bytes; when that line is empty, too long or not
 * text, making the sink fails with the file named.
 */
#include "redis_internal.h"

#include "fuzz.h"

#define MAX_PASSWORD 1024 /* as lib/redis_sink.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct psync_redis_options o = {
		.sz = sizeof(o),
		.address = "unix:/nonexistent/psync-fuzz.sock", /* never dispatched: never used */
		.password_file = path,
	};
	size_t head = size < MAX_PASSWORD + 1 ? size : MAX_PASSWORD + 1, len = 0;
	struct psync_sink *s = NULL;
	char err[256] = "";
	int r, valid;

	while (len < head && data[len] != '\r' && data[len] != '\n')
		len++;
	valid = len > 0 && len <= MAX_PASSWORD && !memchr(data, '\0', len);
	r = psync_redis_sink_new(&o, err, sizeof(err), &s);
	if (!valid) {
		FUZZ_CHECK(r < 0 && !s, "a password of %zu bytes was taken", len);
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0, "error without the path: %s", err);
		return 0;
	}
	FUZZ_CHECK(r == 0, "%s", err);
	{
		const struct psync__redis *rd = psync_sink_get_impl(s);

		FUZZ_CHECK(rd->password && strlen(rd->password) == len &&
				   memcmp(rd->password, data, len) == 0,
			   "password is not the first line");
	}
	psync_sink_free(s);
	return 0;
}
