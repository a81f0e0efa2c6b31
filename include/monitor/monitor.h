/*
 * The QMP server: -qmp listeners and the sessions of their clients.
 *
 * All of it runs in the main loop thread; sockets are non-blocking and
 * every client has its own bounded output buffer, so a slow, stuck or
 * vanished client never delays the others.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include <stdbool.h>

#include "qapi/error.h"
#include "qapi/qmp-dispatch.h"

/*
 * Take the program's QMP commands (@init_marshal registers them: the
 * generated qmp_init_marshal(), which only the executable links) and
 * become the receiver of QAPI events.  Once, before monitor_qmp_add().
 */
void monitor_init_qmp(void (*init_marshal)(QmpCommandList *cmds));

/*
 * Listen as the -qmp option @optarg says:
 *   unix:PATH,server=on[,wait=on|off]
 *   tcp:HOST:PORT,server=on[,wait=on|off]
 * Only server mode exists.  With wait=on (the default, as for QEMU)
 * monitor_qmp_wait_for_clients() must see a client on this address
 * before the main loop starts.
 */
bool monitor_qmp_add(const char *optarg, Error **errp);

/*
 * Block until every wait=on listener has accepted one client, or until
 * @abort_fd (if >= 0) becomes readable.  Returns false in the latter
 * case or on error.
 */
bool monitor_qmp_wait_for_clients(int abort_fd, Error **errp);

/*
 * Shutdown: give clients a bounded time to receive pending replies and
 * events, then close every connection and listener and remove the unix
 * socket files we created.
 */
void monitor_cleanup(void);

#endif /* MONITOR_MONITOR_H */
