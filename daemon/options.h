/* SPDX-License-Identifier: Apache-2.0 */
/* portsyncd's command line. */
#ifndef PORTSYNCD_OPTIONS_H
#define PORTSYNCD_OPTIONS_H

struct daemon_options {
	const char *db_config;   /* database_config.json */
	const char *redis;       /* a direct address instead of db_config, or NULL */
	const char *config;      /* tunables file, or NULL */
	int log_level;           /* syslog priority: messages above it are dropped */
	int log_level_given;     /* --log-level was on the command line */
	int log_stderr;          /* log to stderr instead of syslog */
};

/* What parse_options found: go on, stop successfully (--help, --version), or fail. */
enum parse_result { PARSE_RUN, PARSE_EXIT_OK, PARSE_EXIT_FAIL };

enum parse_result parse_options(int argc, char **argv, struct daemon_options *opts);

#endif
