/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SONiC's database_config.json, as psync_redis_db_config_load reads it, and
 * the input's first line as an address (psync_redis_db_config_new_address).
 * Whatever loads must hold together: every database resolves to an instance
 * that can be reached, under the limits the loader promises.
 */
#include <errno.h>
#include <sys/un.h>

#include "redis_internal.h"

#include "fuzz.h"

static void check_config(const struct psync_redis_db_config *cfg)
{
	char address[160];

	FUZZ_CHECK(cfg->n_instances > 0 || cfg->n_dbs == 0, "databases without instances");
	for (size_t i = 0; i < cfg->n_instances; i++) {
		const struct psync__redis_instance *inst = &cfg->instances[i];

		FUZZ_CHECK(inst->name, "instance without a name");
		if (inst->unix_socket)
			FUZZ_CHECK(*inst->unix_socket &&
					   strlen(inst->unix_socket) < sizeof(((struct sockaddr_un *)0)->sun_path),
				   "socket path '%s'", inst->unix_socket);
		else
			FUZZ_CHECK(inst->hostname && *inst->hostname && inst->port >= 1 &&
					   inst->port <= 65535,
				   "TCP instance %s", inst->name);
		psync__redis_instance_address(inst, address, sizeof(address));
		FUZZ_CHECK(memchr(address, '\0', sizeof(address)), "address not terminated");
	}
	for (size_t i = 0; i < cfg->n_dbs; i++) {
		const struct psync__redis_db *db = &cfg->dbs[i];
		struct psync_redis_db_location loc = { .sz = sizeof(loc) };

		FUZZ_CHECK(db->instance < cfg->n_instances, "instance %zu", db->instance);
		FUZZ_CHECK(db->separator && *db->separator, "separator of %s", db->name);
		FUZZ_CHECK(db->id >= 0, "id %d", db->id);
		FUZZ_CHECK(psync_redis_db_config_resolve(cfg, db->name, &loc) == 0, "%s", db->name);
		FUZZ_CHECK(loc.separator && (loc.unix_socket || loc.hostname), "%s", db->name);
	}
}

static void load_file(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct psync_redis_db_config *cfg = NULL;
	char err[256];
	int r = psync_redis_db_config_load(path, err, sizeof(err), &cfg);

	if (r < 0) {
		FUZZ_CHECK(!cfg, "a failed load left a configuration");
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0], "no reason given");
		return;
	}
	check_config(cfg);
	psync_redis_db_config_free(cfg);
}

static void load_address(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *address = fuzz_string(data, nl ? (size_t)(nl - data) : size);
	struct psync_redis_db_config *cfg = NULL;
	struct psync_redis_db_location loc = { .sz = sizeof(loc) };
	char err[256];

	if (psync_redis_db_config_new_address(address, err, sizeof(err), &cfg) == 0) {
		check_config(cfg);
		FUZZ_CHECK(psync_redis_db_config_resolve(cfg, "APPL_DB", &loc) == 0, "no APPL_DB");
		psync_redis_db_config_free(cfg);
	}
	free(address);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_file(data, size);
	load_address(data, size);
	return 0;
}
