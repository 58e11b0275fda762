/* SPDX-License-Identifier: Apache-2.0 */
/* SONiC's standard databases, as sonic-buildimage's database_config.json lays
 * them out on one instance: the one table the sinks consult for ids and
 * separators when no configuration file says otherwise. */
#include "internal.h"

static const struct psync__sonic_db sonic_dbs[] = {
	{ "APPL_DB", 0, ":" },             { "ASIC_DB", 1, ":" },
	{ "COUNTERS_DB", 2, ":" },         { "LOGLEVEL_DB", 3, ":" },
	{ "CONFIG_DB", 4, "|" },           { "PFC_WD_DB", 5, ":" },
	{ "FLEX_COUNTER_DB", 5, ":" },     { "STATE_DB", 6, "|" },
	{ "SNMP_OVERLAY_DB", 7, "|" },     { "RESTAPI_DB", 8, "|" },
	{ "GB_ASIC_DB", 9, ":" },          { "GB_COUNTERS_DB", 10, ":" },
	{ "GB_FLEX_COUNTER_DB", 11, ":" }, { "CHASSIS_APP_DB", 12, "|" },
	{ "CHASSIS_STATE_DB", 13, "|" },   { "APPL_STATE_DB", 14, ":" },
	{ "PROFILE_DB", 15, "|" },
};

const struct psync__sonic_db *psync__sonic_db(size_t i)
{
	return i < sizeof(sonic_dbs) / sizeof(sonic_dbs[0]) ? &sonic_dbs[i] : NULL;
}

const char *psync__default_separator(const char *db)
{
	const struct psync__sonic_db *d;

	for (size_t i = 0; (d = psync__sonic_db(i)); i++)
		if (strcmp(d->name, db) == 0)
			return d->separator;
	return "|"; /* what SONiC uses for every table it added later */
}
