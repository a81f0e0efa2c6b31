/*
 * Messages for the user on stderr, optionally timestamped.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "util/error-report.h"

bool error_with_timestamp;
static const char *progname;

void error_set_progname(const char *name)
{
    const char *slash = strrchr(name, '/');

    progname = slash ? slash + 1 : name;
}

typedef enum ReportType {
    REPORT_TYPE_ERROR,
    REPORT_TYPE_WARNING,
    REPORT_TYPE_INFO,
} ReportType;

static void vreport(ReportType type, const char *fmt, va_list ap)
{
    static const char *const prefixes[] = {
        [REPORT_TYPE_ERROR] = "",
        [REPORT_TYPE_WARNING] = "warning: ",
        [REPORT_TYPE_INFO] = "info: ",
    };
    g_autoptr(GString) line = g_string_new(NULL);

    if (error_with_timestamp) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp =
            g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ ");

        g_string_append(line, stamp);
    }
    if (progname) {
        g_string_append_printf(line, "%s: ", progname);
    }
    g_string_append(line, prefixes[type]);
    g_string_append_vprintf(line, fmt, ap);
    g_string_append_c(line, '\n');
    /* One write per message so lines from several threads do not mix. */
    fputs(line->str, stderr);
    fflush(stderr);
}

void error_vreport(const char *fmt, va_list ap)
{
    vreport(REPORT_TYPE_ERROR, fmt, ap);
}

void warn_vreport(const char *fmt, va_list ap)
{
    vreport(REPORT_TYPE_WARNING, fmt, ap);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(REPORT_TYPE_ERROR, fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(REPORT_TYPE_WARNING, fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(REPORT_TYPE_INFO, fmt, ap);
    va_end(ap);
}
