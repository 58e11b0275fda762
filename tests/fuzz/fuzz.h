/* SPDX-License-Identifier: Apache-2.0 */
/* What the fuzz targets share: a finding is an abort with a reason, and bytes
 * to be read from a file are put in one (a memfd, named by its /proc path). */
#ifndef PSYNC_FUZZ_H
#define PSYNC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <portsync/event.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* The path of a file that holds exactly data; the same file every call. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		FUZZ_CHECK(fd >= 0, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate");
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size, "pwrite");
	return path;
}

/* data as a C string (cut at its first NUL), to free. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An event the JSON-lines format must give back as it was (recv_ns aside). */
static inline int fuzz_same_event(const struct psync_link_event *a,
				  const struct psync_link_event *b)
{
	if (a->type != b->type || a->dump_generation != b->dump_generation ||
	    a->from_dump != b->from_dump)
		return 0;
	if (a->type != PSYNC_EVENT_NEWLINK && a->type != PSYNC_EVENT_DELLINK)
		return 1;
	return a->ifindex == b->ifindex && a->flags == b->flags && a->mtu == b->mtu &&
	       a->master == b->master && a->carrier_up_count == b->carrier_up_count &&
	       a->carrier_down_count == b->carrier_down_count &&
	       a->has_carrier_changes == b->has_carrier_changes &&
	       (!a->has_carrier_changes || a->carrier_changes == b->carrier_changes) &&
	       a->operstate == b->operstate && a->carrier == b->carrier &&
	       a->addr_len == b->addr_len && memcmp(a->addr, b->addr, a->addr_len) == 0 &&
	       strncmp(a->ifname, b->ifname, sizeof(a->ifname)) == 0 &&
	       strncmp(a->kind, b->kind, sizeof(a->kind)) == 0;
}

/* ev through the JSON-lines format and back: the same event, or a finding. */
static inline void fuzz_check_json_round_trip(const struct psync_link_event *ev)
{
	struct psync_link_event back;
	char line[1024], err[160] = "";
	int n = psync_event_to_json(ev, line, sizeof(line));

	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line), "to_json gave %d", n);
	FUZZ_CHECK(psync_event_from_json(line, &back, err, sizeof(err)) == 0, "%s: %s", line, err);
	FUZZ_CHECK(fuzz_same_event(ev, &back), "changed on the way: %s", line);
}

#endif
