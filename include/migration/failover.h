/*
 * COLO failover: x-colo-lost-heartbeat moves this state machine
 *   none -> require -> active -> completed
 * (relaunch when the request lands while a secondary applies a
 * checkpoint; the secondary finishes the checkpoint, then takes over).
 * The takeover itself runs in a bottom half of the main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_FAILOVER_H
#define MIGRATION_FAILOVER_H

#include <stdbool.h>

#include "qapi/qapi-types.h"

/* Back to none (entering COLO).  */
void failover_init_state(void);
/*
 * Compare-and-swap: set @new_state only if the status is @old_state.
 * Returns the status found (== @old_state on success).  Any thread.
 */
FailoverStatus failover_set_state(FailoverStatus old_state,
                                  FailoverStatus new_state);
FailoverStatus failover_get_state(void);
/* Queue the takeover (require -> active happens in the bottom half). */
void failover_request_active(Error **errp);
/* A takeover was asked for (require, active or relaunch). */
bool failover_request_is_active(void);

#endif /* MIGRATION_FAILOVER_H */
