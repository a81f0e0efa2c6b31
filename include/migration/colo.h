/*
 * COLO (coarse-grained lock-stepping): after one precopy migration both
 * VMs keep running; the primary (the former source) periodically stops,
 * sends a checkpoint (dirty memory plus device state) and resumes, and
 * the secondary (the former destination) stops, applies it and resumes.
 * When one side dies the other is told so with x-colo-lost-heartbeat and
 * carries on alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_COLO_H
#define MIGRATION_COLO_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"
#include "qapi/qapi-types.h"

typedef struct QEMUFile QEMUFile;
typedef struct MigrationState MigrationState;

/*
 * The largest device state a secondary accepts in one checkpoint.  The
 * size comes from the peer, so it is bounded before anything is
 * allocated.
 */
#define COLO_VMSTATE_MAX_SIZE (256ULL << 20)

/* ---- both sides ---- */

/* The part this process plays in COLO right now (none once it left). */
COLOMode get_colo_mode(void);
/* Is this process in COLO (as primary or secondary)? */
bool migration_in_colo_state(void);
bool migration_incoming_in_colo_state(void);

/*
 * Ask the primary for a checkpoint now rather than when x-checkpoint-
 * delay runs out (what output comparison would call on a mismatch).
 *
 * Any thread, with or without the BQL: it takes no lock and never
 * blocks.  It returns at once; the checkpoint is taken later by the
 * migration thread, and nothing reports when it is done or whether it
 * succeeded.
 *
 * A no-op unless this process is the primary and its migration status
 * is colo: on the secondary, before COLO is entered and after it was
 * left (takeover, cancel, error) the request is dropped, not kept for
 * later.
 *
 * When the checkpoint happens: if the migration thread is waiting out
 * the delay, the wait ends and the checkpoint starts at once.  If a
 * checkpoint is under way (or COLO has just been entered and the
 * secondary has not said checkpoint-ready yet), the request is kept
 * and the next checkpoint starts as soon as that one ends, without
 * waiting for the delay.  Requests merge: all those made before a
 * checkpoint starts are served by that one checkpoint.
 *
 * The delay: a requested checkpoint is an ordinary one, so the next
 * periodic checkpoint comes x-checkpoint-delay after it ends (the
 * request restarts the period; it does not add a checkpoint to the
 * old schedule).  A checkpoint cannot start while a takeover is
 * requested or the process is ending: the request is then not served
 * in this COLO session.  (It stays pending, as does the wake-up a
 * takeover posts, and makes the first checkpoint of a later COLO
 * session in the same process start without waiting for the delay.)
 */
void colo_checkpoint_request(void);

/*
 * migrate-set-parameters changed x-checkpoint-delay.  The running
 * primary only reads the delay after each checkpoint, so this requests
 * one (colo_checkpoint_request()): it starts at once, or right after
 * the one under way, and the new delay counts from its end.  No-op
 * outside COLO and on the secondary.  Main thread, BQL held.
 */
void colo_checkpoint_delay_set(void);

/* The 'colo' member of query-migrate, or NULL before COLO was entered. */
COLOCheckpointStats *colo_checkpoint_stats(void);

/*
 * Process exit (BQL held, main thread): wake and join the COLO threads
 * so that quit during COLO neither hangs nor leaks.  Safe when COLO was
 * never entered.
 */
void colo_shutdown(void);

/*
 * What the COLO proxy (output comparison, docs/colo.md) is told.  Every
 * event comes with the BQL held and the local VM stopped.
 */
typedef enum ColoEvent {
    /* This side entered COLO; both VMs now start from the same state. */
    COLO_EVENT_START,
    /* Primary: stopped for a checkpoint, before its state is saved. */
    COLO_EVENT_CHECKPOINT,
    /*
     * The checkpoint is in place on the secondary: on the primary when
     * vmstate-loaded arrived, on the secondary once it was applied.
     */
    COLO_EVENT_COMMITTED,
    /*
     * This side runs alone from now on: a takeover completed (or, on
     * the primary, COLO was cancelled).
     */
    COLO_EVENT_ALONE,
} ColoEvent;

typedef void ColoEventFn(void *opaque, COLOMode mode, ColoEvent event);

/* Handlers run in the order added.  BQL held. */
void colo_add_event_handler(ColoEventFn *fn, void *opaque);
void colo_remove_event_handler(ColoEventFn *fn, void *opaque);
/*
 * Call every handler.  The COLO threads do at the points above; unit
 * tests drive the proxy with it without a peer.  BQL held.
 */
void colo_notify_event(COLOMode mode, ColoEvent event);

/* ---- primary (migration thread) ---- */

/*
 * Called by the migration thread instead of completing when x-colo is
 * on and precopy has finished: moves the state to colo and runs the
 * checkpoint loop until failover or an error.  Returns with the BQL not
 * held; the migration state is then completed (failover) or failed.
 */
void migrate_start_colo_process(MigrationState *s);

/* ---- secondary ---- */

/*
 * The stream carried ENABLE_COLO.  False, with an error, when this
 * process does not have the x-colo capability itself.  Load thread.
 */
bool migration_incoming_enable_colo_check(Error **errp);

/*
 * After the first full load, instead of finishing the incoming
 * migration: set up the RAM cache, run the "COLO incoming" thread that
 * receives checkpoints on @from_src and answers on @to_src (the return
 * path), and wait for it.  *@state is the incoming MigrationStatus
 * (active -> colo -> completed).  The files stay the caller's.  Load
 * thread, BQL not held.  True when the secondary took over
 * (x-colo-lost-heartbeat): the caller then starts the VM whatever -S
 * said; false (with @errp set only if COLO could not even start) when
 * the process is ending.  Either way colo_incoming_release() follows.
 */
bool colo_incoming_start(int *state, QEMUFile *from_src, QEMUFile *to_src,
                         Error **errp);

/*
 * After colo_incoming_start(), once the VM runs again (or will not):
 * give back the memory the secondary's RAM cache held.  Unmapping it
 * takes milliseconds per hundred MiB, which a takeover should not wait
 * for.  Same thread, BQL not held.
 */
void colo_incoming_release(void);

#endif /* MIGRATION_COLO_H */
