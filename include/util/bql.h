/*
 * The big lock (BQL): guards VM, device and run state and all monitor
 * activity.
 *
 * Protects (each structure says so again at its definition):
 *  - the run state, autostart and state-change notifiers (runstate.c);
 *  - the vCPU table and every CPUState flag (cpus.h);
 *  - device state: registered ports, reset handlers, the UART, device
 *    sections while they are saved or loaded;
 *  - RAM block registration and dirty logging start/stop/sync;
 *  - chardev frontends and input, QMP sessions and listeners; sending
 *    any QMP event (qapi_event_send_*) requires it;
 *  - migration: status changes (migration_set_state()), the thread
 *    handles the monitor starts and joins, COLO's failover step;
 *  - registration of the migration stream's sections.
 * Functions that need it say "BQL" in their comment and assert
 * bql_locked(); "any thread" means it is not needed.
 *
 * The main thread holds it while it dispatches main-loop callbacks and
 * drops it only while it sleeps in poll.  vCPU threads drop it around
 * guest execution and take it to handle exits.  Migration and COLO
 * threads take it for short steps and never hold it while they block on
 * a channel, so a failover bottom half can always run to shut the
 * channel down.  It is not recursive: a function has one calling
 * context, with or without it, never "take it unless held".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_BQL_H
#define UTIL_BQL_H

#include <stdbool.h>

#include "util/thread.h"

void bql_lock(void);
void bql_unlock(void);
/* True when the calling thread holds the BQL. */
bool bql_locked(void);

/*
 * Wait on @cond with the BQL as its mutex; the caller holds the BQL and
 * holds it again on return.  Keeps bql_locked() truthful while asleep.
 */
void bql_cond_wait(Cond *cond);
/* As bql_cond_wait(); false when @ms passed first. */
bool bql_cond_timedwait(Cond *cond, int ms);

#endif /* UTIL_BQL_H */
