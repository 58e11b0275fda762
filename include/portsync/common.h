/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_COMMON_H
#define PORTSYNC_COMMON_H

/*
 * Error model, once for the whole API: functions returning int return >= 0 on
 * success and a negative errno value on failure. Out-parameters named ret_* come
 * last and are left untouched when the call fails. Every *_new has a *_free that
 * accepts NULL. Nothing in the library prints, exits or installs signal handlers.
 * Objects are not thread-safe: use each from one thread at a time.
 */

#if defined(PSYNC_BUILDING_LIBRARY)
#define PSYNC_API __attribute__((visibility("default")))
#else
#define PSYNC_API
#endif

#ifdef __cplusplus
#define PSYNC_BEGIN_DECLS extern "C" {
#define PSYNC_END_DECLS }
#else
#define PSYNC_BEGIN_DECLS
#define PSYNC_END_DECLS
#endif

#endif
