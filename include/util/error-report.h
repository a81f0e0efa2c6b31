/*
 * Printing errors and warnings for the user, on stderr.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_ERROR_REPORT_H
#define UTIL_ERROR_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <glib.h>

/* Prefix messages with an ISO 8601 UTC timestamp (-msg timestamp=on). */
extern bool error_with_timestamp;
/* Program name printed before every message ("colo-vm: ..."). */
void error_set_progname(const char *name);

void error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void warn_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void info_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void error_vreport(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);
void warn_vreport(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);

#endif /* UTIL_ERROR_REPORT_H */
