/*
 * Shutdown requests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qapi/qapi-events.h"
#include "system/shutdown.h"
#include "trace/trace.h"
#include "util/main-loop.h"

typedef struct ShutdownState {
    bool requested;
    ShutdownCause cause;
} ShutdownState;

static ShutdownState shutdown_state;

void system_shutdown_request(ShutdownCause cause)
{
    trace_system_shutdown_request(ShutdownCause_str(cause));
    if (!shutdown_state.requested) {
        shutdown_state.requested = true;
        shutdown_state.cause = cause;
        /*
         * Sent now rather than when the loop has stopped, so a client
         * sees it before the reply to "quit", as with QEMU.
         */
        qapi_event_send_shutdown(false, cause);
    }
    main_loop_quit();
}

bool system_shutdown_requested(ShutdownCause *cause)
{
    if (shutdown_state.requested && cause) {
        *cause = shutdown_state.cause;
    }
    return shutdown_state.requested;
}
