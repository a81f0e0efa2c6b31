/*
 * Asking colo-vm to shut down, from QMP or a signal handler's bottom half.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_SHUTDOWN_H
#define SYSTEM_SHUTDOWN_H

#include <stdbool.h>

#include "qapi/qapi-types.h"

/*
 * Record @cause, send the SHUTDOWN event and make the main loop return.
 * Only the first request counts: later ones neither change the cause nor
 * repeat the event.  Main loop thread.
 */
void system_shutdown_request(ShutdownCause cause);
/* True once a shutdown was requested; *cause tells why. */
bool system_shutdown_requested(ShutdownCause *cause);

#endif /* SYSTEM_SHUTDOWN_H */
