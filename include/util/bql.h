/*
 * The big lock (BQL): guards VM, device and run state and all monitor
 * activity.
 *
 * The main thread holds it while it dispatches main-loop callbacks and
 * drops it only while it sleeps in poll.  vCPU threads drop it around
 * guest execution and take it to handle exits.  It is not recursive.
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
