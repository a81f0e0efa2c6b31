/*
 * Shutdown requests and the exit status.
 *
 * A request may come from the main loop (QMP quit, a signal) or from a
 * vCPU thread (the guest wrote to isa-debug-exit), both with the BQL
 * held.  It only records the cause, sends the event and ends the main
 * loop: stopping and joining the vCPUs is the main thread's job once the
 * loop has returned, so the requesting vCPU never waits for itself.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qapi/qapi-events.h"
#include "system/shutdown.h"
#include "trace/trace.h"
#include "util/main-loop.h"

typedef struct ShutdownState {
    /*
     * Protects: every member below.  A lock of its own rather than the
     * BQL: the queries and the exit status are "any thread" (see
     * shutdown.h), with or without the BQL.  A static GMutex needs no
     * init.
     */
    GMutex lock;
    bool requested;             /* protected by lock */
    ShutdownCause cause;        /* protected by lock */
    bool exit_status_set;       /* protected by lock */
    int exit_status;            /* protected by lock */
} ShutdownState;

static ShutdownState shutdown_state;

bool shutdown_caused_by_guest(ShutdownCause cause)
{
    return cause > SHUTDOWN_CAUSE_HOST_UI &&
           cause != SHUTDOWN_CAUSE_SUBSYSTEM_RESET &&
           cause != SHUTDOWN_CAUSE_SNAPSHOT_LOAD;
}

void system_shutdown_request(ShutdownCause cause)
{
    ShutdownState *s = &shutdown_state;
    bool first;

    trace_system_shutdown_request(ShutdownCause_str(cause));
    g_mutex_lock(&s->lock);
    first = !s->requested;
    if (first) {
        s->requested = true;
        s->cause = cause;
    }
    g_mutex_unlock(&s->lock);
    if (first) {
        /*
         * Sent now rather than when the loop has stopped, so a client
         * sees it before the reply to "quit", as with QEMU.
         */
        qapi_event_send_shutdown(shutdown_caused_by_guest(cause), cause);
    }
    main_loop_quit();
}

bool system_shutdown_requested(ShutdownCause *cause)
{
    ShutdownState *s = &shutdown_state;
    bool requested;

    g_mutex_lock(&s->lock);
    requested = s->requested;
    if (requested && cause) {
        *cause = s->cause;
    }
    g_mutex_unlock(&s->lock);
    return requested;
}

void system_shutdown_set_exit_status(int status)
{
    ShutdownState *s = &shutdown_state;

    g_mutex_lock(&s->lock);
    if (!s->exit_status_set) {
        s->exit_status_set = true;
        s->exit_status = status;
    }
    g_mutex_unlock(&s->lock);
}

void system_shutdown_reset(void)
{
    ShutdownState *s = &shutdown_state;

    g_mutex_lock(&s->lock);
    s->requested = false;
    s->cause = SHUTDOWN_CAUSE_NONE;
    s->exit_status_set = false;
    s->exit_status = 0;
    g_mutex_unlock(&s->lock);
}

int system_shutdown_exit_status(void)
{
    ShutdownState *s = &shutdown_state;
    int status;

    g_mutex_lock(&s->lock);
    status = s->exit_status;
    g_mutex_unlock(&s->lock);
    return status;
}
