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

/* The outgoing migration (one per process). */
typedef struct MigrationState {
    int state;                  /* MigrationStatus, atomic */
    char *uri;

    /* Guards the members below that the monitor reads or shuts down. */
    Mutex lock;
    Error *error;               /* first error; shown as error-desc */
    QIOChannel *ioc;            /* set once connected */
    QEMUFile *to_dst;
    int64_t start_ms;
    int64_t setup_time;
    int64_t total_time;
    int64_t downtime;
    int64_t expected_downtime;
    double mbps;
    uint64_t transferred;       /* stream bytes, for the final mbps */

    Thread thread;
    bool thread_created;
    BH *cleanup_bh;
    Semaphore wake;             /* cuts a rate-limit sleep short */

    QEMUFile *from_dst;         /* return path */
    Thread rp_thread;
    bool rp_thread_created;
    Semaphore rp_done;          /* the return path ended, or cancel */
    bool rp_shut_ok;            /* the destination sent SHUT(0) */
    int rp_failed;              /* atomic */

    bool setup_done;            /* qemu_savevm_state_setup was called */
    bool vm_was_running;        /* before the switchover stopped it */
    uint64_t threshold;         /* bytes that fit the downtime limit */
    uint64_t last_sync_count;   /* dirty syncs already announced */
} MigrationState;

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
 * Move *@state from @old to @new (atomically; nothing happens when it
 * is not @old any more) and send the MIGRATION event if the events
 * capability is on.  Takes the BQL for the event unless the caller
 * holds it.  True when the change happened.
 */
bool migration_set_state(int *state, MigrationStatus old,
                         MigrationStatus new_state);
/* The MIGRATION event alone (when the events capability is on). */
void migration_send_event(MigrationStatus status);

/* The destination's part of query-migrate. */
void migration_incoming_fill_info(MigrationInfo *info);
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
