/*
 * COLO failover: the state machine behind x-colo-lost-heartbeat.
 *
 * The request only moves the status from none to require and queues a
 * bottom half; the takeover itself (stop the VM, shut the channels
 * down, leave COLO) runs in the main loop with the BQL, where it can
 * neither race with a QMP command nor block a COLO thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "migration/colo.h"
#include "migration/colo-int.h"
#include "migration/failover.h"
#include "qapi/qapi-commands.h"
#include "trace/trace.h"
#include "util/error-report.h"
#include "util/main-loop.h"

static int failover_state = FAILOVER_STATUS_NONE;   /* atomic */

void failover_init_state(void)
{
    __atomic_store_n(&failover_state, FAILOVER_STATUS_NONE,
                     __ATOMIC_SEQ_CST);
}

FailoverStatus failover_set_state(FailoverStatus old_state,
                                  FailoverStatus new_state)
{
    int found = old_state;

    if (__atomic_compare_exchange_n(&failover_state, &found, new_state,
                                    false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        trace_colo_failover_set_state(FailoverStatus_str(new_state));
    }
    return found;
}

FailoverStatus failover_get_state(void)
{
    return __atomic_load_n(&failover_state, __ATOMIC_SEQ_CST);
}

bool failover_request_is_active(void)
{
    return failover_get_state() != FAILOVER_STATUS_NONE;
}

/* Main loop, BQL held. */
static void failover_bh(void *opaque)
{
    FailoverStatus old = failover_set_state(FAILOVER_STATUS_REQUIRE,
                                            FAILOVER_STATUS_ACTIVE);

    if (old != FAILOVER_STATUS_REQUIRE) {
        /* Someone else moved it on: nothing is left to do here. */
        error_report("Unknown error for failover, old_state = %s",
                     FailoverStatus_str(old));
        return;
    }
    colo_do_failover();
}

void failover_request_active(Error **errp)
{
    if (failover_set_state(FAILOVER_STATUS_NONE, FAILOVER_STATUS_REQUIRE) !=
        FAILOVER_STATUS_NONE) {
        error_setg(errp, "COLO failover is already activated");
        return;
    }
    trace_colo_failover_request();
    bh_schedule_oneshot(failover_bh, NULL);
}

void qmp_x_colo_lost_heartbeat(Error **errp)
{
    if (get_colo_mode() == COLO_MODE_NONE) {
        error_setg(errp, "The feature 'colo' is not enabled");
        return;
    }
    failover_request_active(errp);
}
