/*
 * Asking colo-vm to shut down: from QMP, a signal's bottom half or the
 * guest (a vCPU thread holding the BQL).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_SHUTDOWN_H
#define SYSTEM_SHUTDOWN_H

#include <stdbool.h>

#include "qapi/qapi-types.h"

/*
 * Record @cause, send the SHUTDOWN event and make the main loop return;
 * the main thread then stops and joins the vCPUs before the process
 * exits.  Only the first request counts: later ones neither change the
 * cause nor repeat the event.  Any thread holding the BQL (the event is
 * sent from the caller's thread).
 */
void system_shutdown_request(ShutdownCause cause);
/* True once a shutdown was requested; *cause tells why.  Any thread. */
bool system_shutdown_requested(ShutdownCause *cause);
/* Was @cause the guest's doing (SHUTDOWN's "guest" member)? */
bool shutdown_caused_by_guest(ShutdownCause cause);

/*
 * The status the process exits with (isa-debug-exit); 0 unless set.
 * The first value set wins.  Any thread.
 */
void system_shutdown_set_exit_status(int status);
int system_shutdown_exit_status(void);
/*
 * Forget the request and the exit status, for a program that handles a
 * request and goes on (a test running one case after another).
 */
void system_shutdown_reset(void);

#endif /* SYSTEM_SHUTDOWN_H */
