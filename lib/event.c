/* SPDX-License-Identifier: Apache-2.0 */
/* Names of event types and operational states, both ways. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const char *const type_names[] = {
	[PSYNC_EVENT_NEWLINK] = "newlink",
	[PSYNC_EVENT_DELLINK] = "dellink",
	[PSYNC_EVENT_DUMP_DONE] = "dump_done",
	[PSYNC_EVENT_OVERRUN] = "overrun",
};

/* RFC 2863 ifOperStatus, indexed by IF_OPER_* (linux/if.h). */
static const char *const operstate_names[] = {
	"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP",
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static int index_of(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

PSYNC_API const char *psync_event_type_to_string(enum psync_event_type type)
{
	if ((unsigned)type >= N_ELEMENTS(type_names))
		return NULL;
	return type_names[type];
}

PSYNC_API int psync_event_type_from_string(const char *name, enum psync_event_type *ret)
{
	int i;

	if (!name || !ret)
		return -EINVAL;
	i = index_of(type_names, N_ELEMENTS(type_names), name);
	if (i < 0)
		return i;
	*ret = (enum psync_event_type)i;
	return 0;
}

PSYNC_API const char *psync_operstate_to_string(uint8_t operstate)
{
	if (operstate >= N_ELEMENTS(operstate_names))
		return NULL;
	return operstate_names[operstate];
}

PSYNC_API int psync_operstate_from_string(const char *name, uint8_t *ret)
{
	int i;

	if (!name || !ret)
		return -EINVAL;
	i = index_of(operstate_names, N_ELEMENTS(operstate_names), name);
	if (i < 0)
		return i;
	*ret = (uint8_t)i;
	return 0;
}
