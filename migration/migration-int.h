/*
 * State shared by the files of the migration core (not a public API).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_MIGRATION_INT_H
#define MIGRATION_MIGRATION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "io/channel.h"
#include "migration/qemu-file.h"
#include "qapi/error.h"
#include "qapi/qapi-types.h"
#include "util/main-loop.h"
#include "util/thread.h"

/*
 * The outgoing migration (one per process).  Three kinds of members:
 * those under @lock (the monitor reads them while the thread runs),
 * those the BQL guards, and those only the migration thread touches
 * while it runs (the monitor resets them, BQL held, before it starts
 * the thread, and the thread being created orders the two).
 */
typedef struct MigrationState {
    /*
     * MigrationStatus.  Changed only through migration_set_state(),
     * BQL held; read atomically from any thread.
     */
    int state;
    char *uri;                  /* BQL; set before the thread starts */

    /*
     * Protects: error, ioc, to_dst, start_ms, setup_time, total_time,
     * downtime, expected_downtime, mbps, transferred: what the monitor
     * reads (query-migrate) or shuts down (cancel) while the threads
     * run.  Never held across blocking I/O; taken after the BQL when
     * both are needed, never the other way round.
     */
    Mutex lock;
    Error *error;               /* first error; shown as error-desc */
    QIOChannel *ioc;            /* set once connected */
    /*
     * Written under lock; the migration thread, which set it, also
     * reads it without the lock.
     */
    QEMUFile *to_dst;
    int64_t start_ms;
    int64_t setup_time;
    int64_t total_time;
    int64_t downtime;
    int64_t expected_downtime;
    double mbps;
    uint64_t transferred;       /* stream bytes, for the final mbps */

    /* BQL: the monitor starts the thread, a main-loop BH joins it. */
    Thread thread;
    bool thread_created;
    BH *cleanup_bh;             /* created once; bh_schedule is any thread */
    Semaphore wake;             /* cuts a rate-limit sleep short */

    /*
     * Return path.  from_dst, rp_thread and rp_thread_created belong to
     * the migration thread (from_dst is cleared under lock); the return
     * path thread reads from_dst, which outlives it.
     */
    QEMUFile *from_dst;
    Thread rp_thread;
    bool rp_thread_created;
    Semaphore rp_done;          /* the return path ended, or cancel */
    /*
     * Written by the return path thread before it posts rp_done; read
     * by the migration thread after waiting for rp_done.  close_files()
     * also looks before joining: a stale false there only shuts down a
     * channel that is being closed anyway.
     */
    bool rp_shut_ok;            /* the destination sent SHUT(0) */
    int64_t ping_ms;            /* migration thread: last heartbeat PING */
    uint32_t ping_value;        /* migration thread: its value */
    int rp_failed;              /* atomic */

    /* Migration thread only (reset by the monitor before it starts). */
    bool setup_done;            /* qemu_savevm_state_setup was called */
    bool vm_was_running;        /* before the switchover stopped it */
    uint64_t threshold;         /* bytes that fit the downtime limit */
    /* Migration thread, BQL held (see announce_passes()). */
    uint64_t last_sync_count;   /* dirty syncs already announced */
} MigrationState;

/*
 * Set by migration_init() and cleared by migration_shutdown(), main
 * thread, BQL held, while no migration thread runs; any thread may read
 * it without a lock in between.
 */
extern MigrationState *migration_current;

MigrationStatus migration_state_get(MigrationState *s);
/* Keep @err as error-desc unless an earlier error is recorded. */
void migration_record_error(MigrationState *s, const Error *err);
/* Shut the channel down and post every wake-up: no thread stays blocked. */
void migration_kick_threads(MigrationState *s);
int64_t migration_now_ms(void);
/* Main loop: join a migration thread that has finished. */
void migration_cleanup_bh(void *opaque);
/* The "live_migration" thread (migration-source.c). */
void *migration_thread(void *opaque);

/* options.c tells the running migration about a new max-bandwidth. */
void migration_bandwidth_changed(void);
/*
 * ... and about a new x-heartbeat-timeout: the channels of both sides
 * take it as their I/O timeout.
 */
void migration_timeout_changed(void);
/* Apply x-heartbeat-timeout to a migration channel (either side). */
void migration_channel_set_timeout(QIOChannel *ioc);
/* The destination's channel, for migration_timeout_changed(). */
void migration_incoming_timeout_changed(void);
/*
 * Source, migration thread, between two sections of a precopy stream:
 * send a PING when x-heartbeat-interval has passed since the last one
 * and a return path is open to answer it (the destination's PONG keeps
 * the return path busy, so its reads can be bounded).
 */
void migration_heartbeat(MigrationState *s);

/*
 * Move *@state from @old to @new (atomically; nothing happens when it
 * is not @old any more) and send the MIGRATION event if the events
 * capability is on.  BQL held (the event needs it), so the migration
 * threads take it around the call.  True when the change happened.
 */
bool migration_set_state(int *state, MigrationStatus old,
                         MigrationStatus new_state);
/* The MIGRATION event alone (when the events capability is on).  BQL. */
void migration_send_event(MigrationStatus status);

/* The destination's part of query-migrate. */
void migration_incoming_fill_info(MigrationInfo *info);
/* Create the destination side, idle (migration_init()). */
void migration_incoming_init(void);
/* Stop and free the destination side (process exit). */
void migration_incoming_shutdown(void);

/* A URI's transport, once its prefix has been recognised. */
typedef enum MigrationTransport {
    MIGRATION_TRANSPORT_SOCKET,  /* tcp: or unix: */
    MIGRATION_TRANSPORT_EXEC,
    MIGRATION_TRANSPORT_FILE,
} MigrationTransport;

/*
 * Split @uri into its transport and the text after the prefix.  False
 * (without an error) when the prefix is unknown.
 */
bool migration_uri_split(const char *uri, MigrationTransport *transport,
                         const char **rest);

#endif /* MIGRATION_MIGRATION_INT_H */
