/*
 * The big lock.
 *
 * A plain mutex plus a per-thread flag, so that bql_locked() can answer
 * for the calling thread without asking the mutex who owns it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <assert.h>

#include "util/bql.h"

static Mutex bql_mutex = { PTHREAD_MUTEX_INITIALIZER };
/* Per thread, so it needs no lock: true while this thread owns bql_mutex. */
static __thread bool bql_held;

void bql_lock(void)
{
    assert(!bql_held);
    mutex_lock(&bql_mutex);
    bql_held = true;
}

void bql_unlock(void)
{
    assert(bql_held);
    bql_held = false;
    mutex_unlock(&bql_mutex);
}

bool bql_locked(void)
{
    return bql_held;
}

void bql_cond_wait(Cond *cond)
{
    assert(bql_held);
    bql_held = false;
    cond_wait(cond, &bql_mutex);
    bql_held = true;
}

bool bql_cond_timedwait(Cond *cond, int ms)
{
    bool signalled;

    assert(bql_held);
    bql_held = false;
    signalled = cond_timedwait(cond, &bql_mutex, ms);
    bql_held = true;
    return signalled;
}
