/*
 * What the files of the QMP server share.
 *
 * Layers: qmp-server.c owns the listeners and accepts connections;
 * qmp.c owns the sessions (input splitting, dispatch, buffered output,
 * events); qmp-cmds-control.c holds the handlers of the protocol's own
 * commands.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_MONITOR_INTERNAL_H
#define MONITOR_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "qapi/qmp-dispatch.h"

/*
 * A client sending requests no faster than it reads replies never gets
 * near this; one that stops reading is disconnected here.
 */
#define QMP_OUTPUT_MAX (8 * 1024 * 1024)

typedef struct MonitorQMP MonitorQMP;

/* qmp.c */

/* Take over the connected socket @fd and send the greeting. */
MonitorQMP *monitor_qmp_session_new(int fd, const char *peer);
/* The session whose request is being dispatched, or NULL. */
MonitorQMP *monitor_qmp_cur(void);
bool monitor_qmp_is_negotiated(const MonitorQMP *mon);
/* Leave capabilities negotiation mode, optionally with OOB enabled. */
void monitor_qmp_enter_command_mode(MonitorQMP *mon, bool oob);
/* The command list of negotiated sessions. */
const QmpCommandList *monitor_qmp_commands(void);
/* Write out pending output, giving up after @timeout_ms. */
void monitor_qmp_flush_sessions(int timeout_ms);
void monitor_qmp_close_sessions(void);

/* qmp-server.c */
void monitor_qmp_close_listeners(void);

#endif /* MONITOR_MONITOR_INTERNAL_H */
