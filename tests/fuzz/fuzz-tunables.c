/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portsyncd's tunables file, through load_config as the daemon reads it. A
 * comment of any length is only a comment: a file of comments, blank lines and
 * section headers loads the defaults, and a setting changes only when a line
 * that is not a comment names it. Every error names the file, and a line that
 * exists.
 */
#include <stdbool.h>

#include "config.h"

#include "fuzz.h"

struct lines {
	size_t count;
	bool settings;     /* a line that is not a comment has '=' or ':' */
	bool listen;       /* ... and names "listen" */
	bool password;     /* ... "password_file" or "password_env" */
};

static void scan_line(struct lines *l, const char *s, size_t len)
{
	size_t i = 0;

	if (l->count == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == '#' || s[i] == ';')
		return;
	if (memchr(s + i, '=', len - i) || memchr(s + i, ':', len - i))
		l->settings = true;
	l->listen |= memmem(s + i, len - i, "listen", 6) != NULL;
	l->password |= memmem(s + i, len - i, "password_", 9) != NULL;
}

static struct lines scan(const uint8_t *data, size_t size)
{
	struct lines l = { 0 };

	for (size_t i = 0; i <= size;) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size;

		if (end == size && i == size && size > 0)
			break; /* nothing after the last newline */
		l.count++;
		scan_line(&l, (const char *)data + i, end - i);
		i = end + 1;
	}
	return l;
}

static void check_error(const char *path, const char *err, const struct lines *l)
{
	size_t n = strlen(path);
	char *end;
	long line;

	FUZZ_CHECK(strncmp(err, path, n) == 0 && err[n] == ':', "error without the path: %s", err);
	if (err[n + 1] < '0' || err[n + 1] > '9')
		return; /* about the whole file */
	line = strtol(err + n + 1, &end, 10);
	FUZZ_CHECK(line >= 1 && (size_t)line <= l->count && *end == ':',
		   "line %ld of %zu: %s", line, l->count, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon_config defaults;
	static bool have_defaults;
	const char *path = fuzz_file(data, size);
	struct lines l = scan(data, size);
	struct daemon_config cfg;
	char err[512] = "";

	if (!have_defaults) {
		FUZZ_CHECK(load_config(NULL, &defaults, err, sizeof(err)) == 0, "defaults");
		have_defaults = true;
	}
	if (load_config(path, &cfg, err, sizeof(err)) < 0) {
		check_error(path, err, &l);
		return 0;
	}
	FUZZ_CHECK(l.settings || memcmp(&cfg, &defaults, sizeof(cfg)) == 0,
		   "a file without settings changed one");
	FUZZ_CHECK(l.listen || strcmp(cfg.listen, defaults.listen) == 0,
		   "listen = '%s' without a line naming it", cfg.listen);
	FUZZ_CHECK(l.password || (!cfg.password_file[0] && !cfg.password_env[0]),
		   "a password source without a line naming it");
	FUZZ_CHECK(cfg.retry_min_ms <= cfg.retry_max_ms, "retry range");
	return 0;
}
