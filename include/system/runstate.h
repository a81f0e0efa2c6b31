/*
 * VM run state (QEMU's state machine and transition table), stop and
 * start, state-change notifiers, and requests that other threads make
 * of the main loop.
 *
 * Everything runs with the BQL held unless marked "any thread".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include <stdbool.h>
#include <glib.h>

#include "qapi/error.h"
#include "qapi/qapi-types.h"

typedef struct CPUState CPUState;

/*
 * The current state.  With the BQL it is exact; without it (any thread)
 * it may already be stale, which only a hint can tolerate.
 */
RunState runstate_get(void);
bool runstate_check(RunState state);
bool runstate_is_running(void);
/* Is @from -> @to in the transition table? */
bool runstate_transition_valid(RunState from, RunState to);
/*
 * Enter @state.  Staying in the current state is allowed; any other
 * transition missing from the table fails and leaves the state alone.
 */
bool runstate_set(RunState state, Error **errp);
/* The states from which the guest can only continue after a reset. */
bool runstate_needs_reset(void);

typedef void VMChangeStateHandler(void *opaque, bool running,
                                  RunState state);
typedef struct VMChangeStateEntry VMChangeStateEntry;
/* Handlers run in order of registration on start, reverse on stop. */
VMChangeStateEntry *vm_state_notify_add(VMChangeStateHandler *cb,
                                        void *opaque);
void vm_state_notify_del(VMChangeStateEntry *entry);

/*
 * When running: pause the vCPUs, enter @state, send STOP and notify.
 * Otherwise nothing happens (as QEMU).  From a vCPU thread this becomes
 * vm_stop_request().  0 on success, -EINVAL when the transition is not
 * allowed.
 */
int vm_stop(RunState state);
/* vm_stop() when running, else just runstate_set(@state). */
int vm_stop_force_state(RunState state);
/*
 * Enter running: RESUME event, running, notifiers, vCPUs resumed.  When
 * already running nothing happens.  Fails when the transition is not
 * allowed.
 */
bool vm_start(Error **errp);
/*
 * Whether the guest starts by itself once ready: false with -S; `cont`
 * during an incoming migration sets it, `stop` clears it.
 */
void vm_set_autostart(bool autostart);
bool vm_get_autostart(void);
/* vm_stop(@state) from the main loop, soon.  Any thread. */
void vm_stop_request(RunState state);
/*
 * A vCPU (or device) hit an error the guest cannot recover from:
 * report it and stop the VM in internal-error.  Any thread holding the
 * BQL (a vCPU thread handling an exit, the main loop); @cpu may be
 * NULL.  The stop itself happens later, in the main loop.
 */
void vm_internal_error(CPUState *cpu, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/*
 * Reset the machine from the main loop, soon (see system_reset()).  Any
 * thread.
 */
void system_reset_request(ShutdownCause cause);
/*
 * The reset itself, main thread: reset handlers, vCPUs back to their
 * boot state, RESET event (guest = shutdown_caused_by_guest(@cause); none
 * for subsystem-reset).  The run state stays, except that a stopped VM
 * goes back to prelaunch as in QEMU.
 */
void system_reset(ShutdownCause cause);
typedef void ResetHandler(void *opaque);
/* Run on every system reset, in order of registration. */
void system_register_reset(ResetHandler *fn, void *opaque);
void system_unregister_reset(ResetHandler *fn, void *opaque);
/* Run the reset handlers (part of system_reset()). */
void system_run_reset_handlers(void);
/* Forget every reset handler. */
void system_reset_cleanup(void);

/* Initial state for the process: prelaunch.  Forget notifiers. */
void runstate_init(void);
void runstate_cleanup(void);

#endif /* SYSTEM_RUNSTATE_H */
