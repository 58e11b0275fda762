/* SPDX-License-Identifier: Apache-2.0 */
#include "internal.h"

PSYNC_API const char *psync_version(void)
{
	return PSYNC_VERSION;
}
