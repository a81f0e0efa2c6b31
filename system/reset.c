/*
 * System reset: reset handlers of the devices, vCPUs back to their boot
 * state, and the RESET event.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qapi/qapi-events.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "trace/trace.h"
#include "util/error-report.h"
#include "util/main-loop.h"

typedef struct ResetEntry {
    ResetHandler *fn;
    void *opaque;
} ResetEntry;

typedef struct ResetState {
    /* ResetEntry *, registration order.  Protected by the BQL. */
    GList *handlers;
    /*
     * Protects: request.  Requests come from any thread, with or
     * without the BQL; the bottom half that serves them runs with it.
     */
    GMutex request_lock;
    ShutdownCause request;      /* protected by request_lock;
                                 * SHUTDOWN_CAUSE_NONE: none pending */
} ResetState;

static ResetState reset_state;

void system_register_reset(ResetHandler *fn, void *opaque)
{
    ResetEntry *e = g_new0(ResetEntry, 1);

    e->fn = fn;
    e->opaque = opaque;
    reset_state.handlers = g_list_append(reset_state.handlers, e);
}

void system_unregister_reset(ResetHandler *fn, void *opaque)
{
    for (GList *l = reset_state.handlers; l; l = l->next) {
        ResetEntry *e = l->data;

        if (e->fn == fn && e->opaque == opaque) {
            reset_state.handlers = g_list_delete_link(reset_state.handlers,
                                                      l);
            g_free(e);
            return;
        }
    }
}

void system_run_reset_handlers(void)
{
    for (GList *l = reset_state.handlers; l; l = l->next) {
        ResetEntry *e = l->data;

        e->fn(e->opaque);
    }
}

void system_reset(ShutdownCause cause)
{
    bool running = runstate_is_running();

    trace_system_reset(ShutdownCause_str(cause));
    if (running) {
        pause_all_vcpus();
    }
    system_run_reset_handlers();
    cpu_reset_all();
    if (cause != SHUTDOWN_CAUSE_NONE &&
        cause != SHUTDOWN_CAUSE_SUBSYSTEM_RESET) {
        qapi_event_send_reset(shutdown_caused_by_guest(cause), cause);
    }
    if (running) {
        resume_all_vcpus();
    } else if (!runstate_check(RUN_STATE_INMIGRATE) &&
               !runstate_check(RUN_STATE_FINISH_MIGRATE)) {
        /* As QEMU: a stopped VM that was reset starts over, from -S. */
        vm_stop_force_state(RUN_STATE_PRELAUNCH);
    }
}

static void system_reset_bh(void *opaque)
{
    ShutdownCause cause;

    g_mutex_lock(&reset_state.request_lock);
    cause = reset_state.request;
    reset_state.request = SHUTDOWN_CAUSE_NONE;
    g_mutex_unlock(&reset_state.request_lock);
    if (cause != SHUTDOWN_CAUSE_NONE && !system_shutdown_requested(NULL)) {
        system_reset(cause);
    }
}

void system_reset_request(ShutdownCause cause)
{
    bool schedule;

    trace_system_reset_request(ShutdownCause_str(cause));
    g_mutex_lock(&reset_state.request_lock);
    schedule = reset_state.request == SHUTDOWN_CAUSE_NONE;
    reset_state.request = cause;
    g_mutex_unlock(&reset_state.request_lock);
    if (schedule) {
        bh_schedule_oneshot(system_reset_bh, NULL);
    }
}

void system_reset_cleanup(void)
{
    g_list_free_full(reset_state.handlers, g_free);
    reset_state.handlers = NULL;
}
