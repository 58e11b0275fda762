/* SPDX-License-Identifier: Apache-2.0 */
/* systemd's notification protocol (Type=notify): readiness, a status line,
 * watchdog keep-alives and shutdown. When systemd did not start the daemon
 * (no NOTIFY_SOCKET), every call does nothing.
 * Failures are ignored: the daemon syncs the same whether or not anyone listens.
 * The environment is left as systemd set it. Safe from any thread. */
#ifndef PORTSYNCD_NOTIFY_H
#define PORTSYNCD_NOTIFY_H

#include <stdint.h>

/* Sends READY=1; call once the first dump is applied. */
void notify_ready(void);
/* Sends STATUS= with the formatted text as one line: line breaks become spaces
 * and text beyond NOTIFY_STATUS_MAX bytes is cut. */
__attribute__((format(printf, 1, 2))) void notify_status(const char *fmt, ...);
/* The watchdog interval systemd expects WATCHDOG=1 within, in microseconds;
 * 0 when the watchdog is off or meant for another process. */
uint64_t notify_watchdog_usec(void);
/* Sends WATCHDOG=1; call from the loop while healthy, about every half interval. */
void notify_watchdog(void);
/* Sends STOPPING=1; call when shutdown begins. */
void notify_stopping(void);

/* The longest status text sent, in bytes. */
#define NOTIFY_STATUS_MAX 255

#endif
