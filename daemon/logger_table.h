/* SPDX-License-Identifier: Apache-2.0 */
/* SONiC's CONFIG_DB LOGGER|portsyncd: the log level and output, set at run time. */
#ifndef PORTSYNCD_LOGGER_TABLE_H
#define PORTSYNCD_LOGGER_TABLE_H

#include <portsync/portsync.h>

/* Reads LOGGER|portsyncd (blocking, up to timeout_ms), applies it, writes the
 * defaults for what is missing, then watches it through the pipeline's Redis
 * sink. keep_level / keep_output: an option set the level / output, which the
 * value found now does not replace (a later change does). A failure is logged
 * and leaves the options in force; returns it as -errno. */
int logger_table_start(struct psync_pipeline *p, int timeout_ms, int keep_level, int keep_output);

#endif
