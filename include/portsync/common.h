/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTSYNC_COMMON_H
#define PORTSYNC_COMMON_H

/**
 * @file
 * Macros every public header uses, and the error model of the whole API.
 *
 * Error model, once for the whole API (see @ref errors in the guide for more):
 * functions returning int return >= 0 on success and a negative errno value on
 * failure. Out-parameters named ret_* (or ret) come last and are left
 * untouched when the call fails. Every *_new has a *_free that accepts NULL.
 * Nothing in the library prints, exits or installs signal handlers. Objects
 * are not thread-safe: use each from one thread at a time (see @ref threads
 * in the guide).
 */

#if defined(PSYNC_BUILDING_LIBRARY)
#define PSYNC_API __attribute__((visibility("default")))
#else
/**
 * Marks a declaration as part of the library's ABI: default visibility while
 * the library itself is built (PSYNC_BUILDING_LIBRARY), empty for its users.
 */
#define PSYNC_API
#endif

#ifdef __cplusplus
#define PSYNC_BEGIN_DECLS extern "C" {
#define PSYNC_END_DECLS }
#else
/** Opens the declarations of a header: extern "C" { in C++, empty in C. */
#define PSYNC_BEGIN_DECLS
/** Closes what PSYNC_BEGIN_DECLS opened. */
#define PSYNC_END_DECLS
#endif

#endif
