/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <portsync/portsync.h>
#include <portsync/redis.h>

#include "options.h"

static const char usage[] =
	"Usage: portsyncd [OPTION]...\n"
	"Synchronizes the kernel's Ethernet* and PortChannel* links into SONiC's\n"
	"STATE_DB PORT_TABLE, and CONFIG_DB ports into APPL_DB, like SONiC's portsyncd.\n"
	"\n"
	"  -d, --db-config FILE   SONiC database configuration\n"
	"                         (default " PSYNC_REDIS_DEFAULT_DB_CONFIG ")\n"
	"  -r, --redis ADDRESS    use this Redis instead: unix:/path or host:port\n"
	"                         (APPL_DB 0, CONFIG_DB 4, STATE_DB 6)\n"
	"  -c, --config FILE      tunables (see portsyncd(8) and portsyncd.conf)\n"
	"  -l, --log-level LEVEL  err, warning, notice (default), info or debug\n"
	"  -s, --log-stderr       log to standard error instead of syslog\n"
	"  -V, --version          print the version and exit\n"
	"  -h, --help             print this help and exit (status 1, as SONiC's portsyncd)\n";

static const struct option long_options[] = {
	{ "db-config", required_argument, NULL, 'd' },
	{ "redis", required_argument, NULL, 'r' },
	{ "config", required_argument, NULL, 'c' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "log-stderr", no_argument, NULL, 's' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_level(const char *name)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

enum parse_result parse_options(int argc, char **argv, struct daemon_options *opts)
{
	int c;

	*opts = (struct daemon_options){ .db_config = PSYNC_REDIS_DEFAULT_DB_CONFIG, .log_level = LOG_NOTICE };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:r:c:l:sVh", long_options, NULL)) != -1) {
		switch (c) {
		case 'd': opts->db_config = optarg; break;
		case 'r': opts->redis = optarg; break;
		case 'c': opts->config = optarg; break;
		case 's': opts->log_stderr = 1; break;
		case 'l':
			opts->log_level_given = 1;
			opts->log_level = parse_level(optarg);
			if (opts->log_level < 0) {
				fprintf(stderr, "portsyncd: unknown log level '%s'\n%s", optarg, usage);
				return PARSE_EXIT_FAIL;
			}
			break;
		case 'V':
			printf("portsyncd (libportsync) %s\n", psync_version());
			return PARSE_EXIT_OK;
		case 'h':
			/* SONiC's portsyncd exits 1 after its usage: scripts may rely on it. */
			fputs(usage, stdout);
			return PARSE_EXIT_FAIL;
		case ':':
			fprintf(stderr, "portsyncd: option '%s' needs a value\n%s", argv[optind - 1], usage);
			return PARSE_EXIT_FAIL;
		default:
			fprintf(stderr, "portsyncd: unknown option '%s'\n%s", argv[optind - 1], usage);
			return PARSE_EXIT_FAIL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portsyncd: unexpected argument '%s'\n%s", argv[optind], usage);
		return PARSE_EXIT_FAIL;
	}
	return PARSE_RUN;
}
