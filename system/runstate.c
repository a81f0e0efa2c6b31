/*
 * The VM run state machine, stop/start and state-change notifiers.
 *
 * The transition table is QEMU's (7.2), so management software sees the
 * same states and the same refusals.  Unlike QEMU, a transition that is
 * not in the table is an error for the caller, never an abort.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdarg.h>

#include "qapi/qapi-events.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/main-loop.h"

typedef struct RunStateTransition {
    RunState from;
    RunState to;
} RunStateTransition;

static const RunStateTransition runstate_transitions[] = {
    { RUN_STATE_PRELAUNCH, RUN_STATE_INMIGRATE },
    { RUN_STATE_PRELAUNCH, RUN_STATE_RUNNING },
    { RUN_STATE_PRELAUNCH, RUN_STATE_FINISH_MIGRATE },

    { RUN_STATE_DEBUG, RUN_STATE_RUNNING },
    { RUN_STATE_DEBUG, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_DEBUG, RUN_STATE_PRELAUNCH },
    { RUN_STATE_DEBUG, RUN_STATE_SUSPENDED },

    { RUN_STATE_INMIGRATE, RUN_STATE_INTERNAL_ERROR },
    { RUN_STATE_INMIGRATE, RUN_STATE_IO_ERROR },
    { RUN_STATE_INMIGRATE, RUN_STATE_PAUSED },
    { RUN_STATE_INMIGRATE, RUN_STATE_RUNNING },
    { RUN_STATE_INMIGRATE, RUN_STATE_SHUTDOWN },
    { RUN_STATE_INMIGRATE, RUN_STATE_SUSPENDED },
    { RUN_STATE_INMIGRATE, RUN_STATE_WATCHDOG },
    { RUN_STATE_INMIGRATE, RUN_STATE_GUEST_PANICKED },
    { RUN_STATE_INMIGRATE, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_INMIGRATE, RUN_STATE_PRELAUNCH },
    { RUN_STATE_INMIGRATE, RUN_STATE_POSTMIGRATE },
    { RUN_STATE_INMIGRATE, RUN_STATE_COLO },

    { RUN_STATE_INTERNAL_ERROR, RUN_STATE_PAUSED },
    { RUN_STATE_INTERNAL_ERROR, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_INTERNAL_ERROR, RUN_STATE_PRELAUNCH },

    { RUN_STATE_IO_ERROR, RUN_STATE_RUNNING },
    { RUN_STATE_IO_ERROR, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_IO_ERROR, RUN_STATE_PRELAUNCH },

    { RUN_STATE_PAUSED, RUN_STATE_RUNNING },
    { RUN_STATE_PAUSED, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_PAUSED, RUN_STATE_POSTMIGRATE },
    { RUN_STATE_PAUSED, RUN_STATE_PRELAUNCH },
    { RUN_STATE_PAUSED, RUN_STATE_COLO },

    { RUN_STATE_POSTMIGRATE, RUN_STATE_RUNNING },
    { RUN_STATE_POSTMIGRATE, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_POSTMIGRATE, RUN_STATE_PRELAUNCH },

    { RUN_STATE_FINISH_MIGRATE, RUN_STATE_RUNNING },
    { RUN_STATE_FINISH_MIGRATE, RUN_STATE_PAUSED },
    { RUN_STATE_FINISH_MIGRATE, RUN_STATE_POSTMIGRATE },
    { RUN_STATE_FINISH_MIGRATE, RUN_STATE_PRELAUNCH },
    { RUN_STATE_FINISH_MIGRATE, RUN_STATE_COLO },

    { RUN_STATE_RESTORE_VM, RUN_STATE_RUNNING },
    { RUN_STATE_RESTORE_VM, RUN_STATE_PRELAUNCH },

    { RUN_STATE_COLO, RUN_STATE_RUNNING },
    { RUN_STATE_COLO, RUN_STATE_PRELAUNCH },
    { RUN_STATE_COLO, RUN_STATE_SHUTDOWN },

    { RUN_STATE_RUNNING, RUN_STATE_DEBUG },
    { RUN_STATE_RUNNING, RUN_STATE_INTERNAL_ERROR },
    { RUN_STATE_RUNNING, RUN_STATE_IO_ERROR },
    { RUN_STATE_RUNNING, RUN_STATE_PAUSED },
    { RUN_STATE_RUNNING, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_RUNNING, RUN_STATE_RESTORE_VM },
    { RUN_STATE_RUNNING, RUN_STATE_SAVE_VM },
    { RUN_STATE_RUNNING, RUN_STATE_SHUTDOWN },
    { RUN_STATE_RUNNING, RUN_STATE_WATCHDOG },
    { RUN_STATE_RUNNING, RUN_STATE_GUEST_PANICKED },
    { RUN_STATE_RUNNING, RUN_STATE_COLO },
    { RUN_STATE_RUNNING, RUN_STATE_SUSPENDED },

    { RUN_STATE_SAVE_VM, RUN_STATE_RUNNING },

    { RUN_STATE_SHUTDOWN, RUN_STATE_PAUSED },
    { RUN_STATE_SHUTDOWN, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_SHUTDOWN, RUN_STATE_PRELAUNCH },
    { RUN_STATE_SHUTDOWN, RUN_STATE_COLO },

    { RUN_STATE_SUSPENDED, RUN_STATE_RUNNING },
    { RUN_STATE_SUSPENDED, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_SUSPENDED, RUN_STATE_PRELAUNCH },
    { RUN_STATE_SUSPENDED, RUN_STATE_COLO },

    { RUN_STATE_WATCHDOG, RUN_STATE_RUNNING },
    { RUN_STATE_WATCHDOG, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_WATCHDOG, RUN_STATE_PRELAUNCH },
    { RUN_STATE_WATCHDOG, RUN_STATE_COLO },

    { RUN_STATE_GUEST_PANICKED, RUN_STATE_RUNNING },
    { RUN_STATE_GUEST_PANICKED, RUN_STATE_FINISH_MIGRATE },
    { RUN_STATE_GUEST_PANICKED, RUN_STATE_PRELAUNCH },
};

struct VMChangeStateEntry {
    VMChangeStateHandler *cb;
    void *opaque;
};

typedef struct RunStateGlobal {
    /*
     * Protected by the BQL.  Stored atomically as well: the RAM section
     * asks runstate_is_running() without the BQL and only needs a whole
     * value, however stale (see ram_account_bytes()).
     */
    RunState state;
    bool autostart;             /* protected by the BQL */
    /* VMChangeStateEntry *, registration order.  Protected by the BQL. */
    GList *notifiers;
    /*
     * Protects: stop_request.  vm_stop_request() is "any thread", with
     * or without the BQL; the bottom half that serves it has the BQL.
     */
    GMutex request_lock;
    RunState stop_request;      /* protected by request_lock;
                                 * RUN_STATE__MAX: none */
} RunStateGlobal;

static RunStateGlobal rs = {
    .state = RUN_STATE_PRELAUNCH,
    .autostart = true,
    .stop_request = RUN_STATE__MAX,
};

RunState runstate_get(void)
{
    return __atomic_load_n(&rs.state, __ATOMIC_RELAXED);
}

bool runstate_check(RunState state)
{
    return runstate_get() == state;
}

bool runstate_is_running(void)
{
    return runstate_get() == RUN_STATE_RUNNING;
}

bool runstate_needs_reset(void)
{
    RunState state = runstate_get();

    return state == RUN_STATE_INTERNAL_ERROR || state == RUN_STATE_SHUTDOWN;
}

bool runstate_transition_valid(RunState from, RunState to)
{
    for (size_t i = 0; i < G_N_ELEMENTS(runstate_transitions); i++) {
        if (runstate_transitions[i].from == from &&
            runstate_transitions[i].to == to) {
            return true;
        }
    }
    return false;
}

bool runstate_set(RunState state, Error **errp)
{
    g_assert(bql_locked());
    if (state < 0 || state >= RUN_STATE__MAX) {
        error_setg(errp, "Invalid run state %d", state);
        return false;
    }
    if (state == rs.state) {
        return true;
    }
    if (!runstate_transition_valid(rs.state, state)) {
        error_setg(errp, "invalid runstate transition: '%s' -> '%s'",
                   RunState_str(rs.state), RunState_str(state));
        return false;
    }
    trace_runstate_set(RunState_str(rs.state), RunState_str(state));
    __atomic_store_n(&rs.state, state, __ATOMIC_RELAXED);
    return true;
}

void vm_set_autostart(bool autostart)
{
    g_assert(bql_locked());
    rs.autostart = autostart;
}

bool vm_get_autostart(void)
{
    g_assert(bql_locked());
    return rs.autostart;
}

VMChangeStateEntry *vm_state_notify_add(VMChangeStateHandler *cb,
                                        void *opaque)
{
    VMChangeStateEntry *e = g_new0(VMChangeStateEntry, 1);

    g_assert(bql_locked());
    e->cb = cb;
    e->opaque = opaque;
    rs.notifiers = g_list_append(rs.notifiers, e);
    return e;
}

void vm_state_notify_del(VMChangeStateEntry *entry)
{
    g_assert(bql_locked());
    rs.notifiers = g_list_remove(rs.notifiers, entry);
    g_free(entry);
}

/*
 * Devices start after the vCPUs' view of memory is ready and stop in the
 * reverse order, so notify forwards on start and backwards on stop.  The
 * next element is fetched first: a handler may remove itself.
 */
static void vm_state_notify(bool running, RunState state)
{
    GList *l = running ? g_list_first(rs.notifiers)
                       : g_list_last(rs.notifiers);

    trace_vm_state_notify(running, RunState_str(state));
    while (l) {
        VMChangeStateEntry *e = l->data;
        GList *next = running ? l->next : l->prev;

        e->cb(e->opaque, running, state);
        l = next;
    }
}

static bool in_vcpu_thread(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (cpu_is_self(cpu)) {
            return true;
        }
    }
    return false;
}

int vm_stop(RunState state)
{
    g_assert(bql_locked());
    if (in_vcpu_thread()) {
        /* The main loop pauses every vCPU, this one included. */
        vm_stop_request(state);
        return 0;
    }
    if (!runstate_is_running()) {
        return 0;
    }
    if (!runstate_transition_valid(RUN_STATE_RUNNING, state)) {
        return -EINVAL;
    }
    pause_all_vcpus();
    runstate_set(state, &error_abort);
    vm_state_notify(false, state);
    qapi_event_send_stop();
    return 0;
}

int vm_stop_force_state(RunState state)
{
    Error *err = NULL;

    g_assert(bql_locked());
    if (runstate_is_running()) {
        return vm_stop(state);
    }
    if (!runstate_set(state, &err)) {
        error_free(err);
        return -EINVAL;
    }
    return 0;
}

bool vm_start(Error **errp)
{
    g_assert(bql_locked());
    if (runstate_is_running()) {
        return true;
    }
    if (!runstate_transition_valid(rs.state, RUN_STATE_RUNNING)) {
        error_setg(errp, "invalid runstate transition: '%s' -> '%s'",
                   RunState_str(rs.state), RunState_str(RUN_STATE_RUNNING));
        return false;
    }
    /* As QEMU: RESUME goes out before the vCPUs actually run. */
    qapi_event_send_resume();
    runstate_set(RUN_STATE_RUNNING, &error_abort);
    vm_state_notify(true, RUN_STATE_RUNNING);
    resume_all_vcpus();
    return true;
}

static void vm_stop_request_bh(void *opaque)
{
    RunState state;

    g_mutex_lock(&rs.request_lock);
    state = rs.stop_request;
    rs.stop_request = RUN_STATE__MAX;
    g_mutex_unlock(&rs.request_lock);
    if (state != RUN_STATE__MAX) {
        vm_stop(state);
    }
}

void vm_stop_request(RunState state)
{
    bool schedule;

    trace_vm_stop_request(RunState_str(state));
    g_mutex_lock(&rs.request_lock);
    /* The first request wins until the main loop has handled it. */
    schedule = rs.stop_request == RUN_STATE__MAX;
    if (schedule) {
        rs.stop_request = state;
    }
    g_mutex_unlock(&rs.request_lock);
    if (schedule) {
        bh_schedule_oneshot(vm_stop_request_bh, NULL);
    }
}

void vm_internal_error(CPUState *cpu, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    /* cpu->stop below, like every CPUState flag, is the BQL's. */
    g_assert(bql_locked());
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (cpu) {
        error_report("vCPU %d: %s", cpu->index, msg);
    } else {
        error_report("%s", msg);
    }
    /*
     * Park the failing vCPU right away so it does not re-enter the guest
     * before the main loop stops the others.
     */
    if (cpu && cpu_is_self(cpu)) {
        cpu->stop = true;
    }
    vm_stop_request(RUN_STATE_INTERNAL_ERROR);
}

void runstate_init(void)
{
    rs.state = RUN_STATE_PRELAUNCH;
    rs.autostart = true;
    rs.stop_request = RUN_STATE__MAX;
}

void runstate_cleanup(void)
{
    g_list_free_full(rs.notifiers, g_free);
    rs.notifiers = NULL;
}
