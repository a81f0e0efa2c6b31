/*
 * The log backend's output file (internal to trace/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRACE_LOG_H
#define TRACE_LOG_H

#include "qapi/error.h"

/* Remember the file for trace_log_open(); NULL forgets it. */
void trace_log_set_file(const char *path);
const char *trace_log_get_file(void);
/* Send lines to the remembered file (truncated), or stderr if none. */
bool trace_log_open(Error **errp);
/* Back to stderr. */
void trace_log_close(void);

#endif /* TRACE_LOG_H */
