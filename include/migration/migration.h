/*
 * Live migration: the state shared by both ends, the entry points the
 * rest of the program uses, and the destination-side hooks that the
 * stream loader calls when it meets a command in the stream.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_MIGRATION_H
#define MIGRATION_MIGRATION_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"
#include "qapi/qapi-types.h"

typedef struct QEMUFile QEMUFile;

/*
 * Messages on the return path (destination to source), each framed as
 * be16 type, be16 length, payload.
 */
typedef enum MigRPMessageType {
    MIG_RP_MSG_INVALID = 0,
    MIG_RP_MSG_SHUT = 1,    /* be32: 0 when the load succeeded */
    MIG_RP_MSG_PONG = 2,    /* be32: the value of the PING */
    MIG_RP_MSG_MAX
} MigRPMessageType;

/* ---- process-wide ---- */

/*
 * Create the migration state (idle, default options) and register the
 * "ram" section.  Main thread, before the machine exists, so that "ram"
 * is the stream's first section.
 */
void migration_init(void);
/*
 * At process exit, BQL held: cancel an outgoing migration, stop an
 * incoming one, join every migration thread and free the state.
 * Safe when nothing was ever started.
 */
void migration_shutdown(void);

/* ---- source ---- */

/* Is an outgoing migration between setup and its end? */
bool migration_is_active(void);
/* Setup, active or cancelling: `migrate` would be refused. */
bool migration_is_running(void);
MigrationStatus migration_status(void);

/* ---- destination ---- */

/*
 * `-incoming URI`: "defer" waits for `migrate-incoming`; anything else
 * starts listening (tcp:, unix:) or reading (exec:, file:) now.  The
 * caller has already put the VM into the inmigrate run state.  Main
 * thread, BQL held, after the machine and the monitors exist.
 */
bool migration_incoming_start(const char *uri, Error **errp);
/* Was the process started with -incoming (deferred or not)? */
bool migration_incoming_expected(void);
/* Is an incoming stream being loaded right now? */
bool migration_incoming_in_progress(void);

/*
 * The stream loader's command hooks (LoadvmCommandOps, savevm.h) of a
 * real destination, called in the load thread.
 */

/* OPEN_RETURN_PATH: start replying on the reverse direction. */
bool migration_incoming_open_return_path(Error **errp);
/* PING: answer with a PONG on the return path (if open). */
void migration_incoming_send_pong(uint32_t value);
/*
 * ENABLE_COLO: the source asks for COLO once precopy completes.  Fails
 * the load unless x-colo is set on this side too; otherwise recorded,
 * and the destination enters COLO when the stream has been loaded.
 */
void migration_incoming_enable_colo(void);
/* Did the stream ask for COLO? */
bool migration_incoming_colo_enabled(void);

/*
 * The file the outgoing migration writes to, or NULL.  Only for code
 * that runs in the migration thread (the file is closed when the
 * migration ends).
 */
QEMUFile *migration_outgoing_file(void);

#endif /* MIGRATION_MIGRATION_H */
