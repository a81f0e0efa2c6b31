/*
 * The migration stream's framing (QEMU's version 3 format): header,
 * configuration, sections for every registered entry, commands, EOF
 * and the JSON description of the device sections.  docs/migration.md
 * ("Stream format") describes the bytes.
 *
 * Functions returning int give 0 (or the documented positive value) on
 * success and a negative errno on failure; the Error says what went
 * wrong and, when a section was being read, which one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_SAVEVM_H
#define MIGRATION_SAVEVM_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

typedef struct QEMUFile QEMUFile;

#define QEMU_VM_FILE_MAGIC          0x5145564d  /* "QEVM" */
#define QEMU_VM_FILE_VERSION_COMPAT 0x00000002
#define QEMU_VM_FILE_VERSION        0x00000003

/* Section types: the first byte of every section. */
#define QEMU_VM_EOF                 0x00
#define QEMU_VM_SECTION_START       0x01
#define QEMU_VM_SECTION_PART        0x02
#define QEMU_VM_SECTION_END         0x03
#define QEMU_VM_SECTION_FULL        0x04
#define QEMU_VM_SUBSECTION          0x05
#define QEMU_VM_VMDESCRIPTION       0x06
#define QEMU_VM_CONFIGURATION       0x07
#define QEMU_VM_COMMAND             0x08
#define QEMU_VM_SECTION_FOOTER      0x7e

/* Commands (QEMU's numbers; those we do not implement are refused). */
typedef enum MigCommand {
    MIG_CMD_INVALID = 0,
    MIG_CMD_OPEN_RETURN_PATH = 1,   /* no payload */
    MIG_CMD_PING = 2,               /* be32 value, echoed as a PONG */
    MIG_CMD_POSTCOPY_ADVISE = 3,
    MIG_CMD_POSTCOPY_LISTEN = 4,
    MIG_CMD_POSTCOPY_RUN = 5,
    MIG_CMD_POSTCOPY_RAM_DISCARD = 6,
    MIG_CMD_PACKAGED = 7,
    MIG_CMD_ENABLE_COLO = 8,        /* no payload */
    MIG_CMD_POSTCOPY_RESUME = 9,
    MIG_CMD_RECV_BITMAP = 10,
    MIG_CMD_MAX
} MigCommand;

/* The section after the configuration that describes our machine. */
#define SAVEVM_MACHINE_SECTION "colo-vm-machine"

/* Largest VMDESCRIPTION the destination accepts. */
#define SAVEVM_VMDESC_MAX (16 * 1024 * 1024)

/* ---- source ---- */

/*
 * Magic, version, the configuration section and the machine section
 * (the current machine's type, RAM size and vCPU count).
 */
void qemu_savevm_state_header(QEMUFile *f);
/*
 * START sections: save_setup of every active live section.  BQL held.
 * Must be followed by qemu_savevm_state_cleanup(), whatever happens.
 */
int qemu_savevm_state_setup(QEMUFile *f, Error **errp);
/*
 * One PART section per active live section that has something to
 * send, stopping early when the rate limit is reached.  1 when every
 * live section says it has nothing left, 0 when more passes are
 * needed.  Migration thread, no BQL.
 */
int qemu_savevm_state_iterate(QEMUFile *f);
/* How many live sections (with iterations) the next iterations visit. */
unsigned qemu_savevm_live_sections(void);
/*
 * VM stopped, BQL held: END sections, a FULL section per device, EOF,
 * then the VMDESCRIPTION.  Flushes the file.
 */
int qemu_savevm_state_complete_precopy(QEMUFile *f, Error **errp);
/*
 * Sum of every active live section's estimate / exact count.  The
 * estimate needs no lock; the exact count needs the BQL (the RAM
 * section syncs the dirty log).
 */
void qemu_savevm_state_pending_estimate(uint64_t *pending);
void qemu_savevm_state_pending_exact(uint64_t *pending);
/* save_cleanup of every live section set up.  Idempotent.  BQL held. */
void qemu_savevm_state_cleanup(void);

void qemu_savevm_send_open_return_path(QEMUFile *f);
void qemu_savevm_send_ping(QEMUFile *f, uint32_t value);
void qemu_savevm_send_colo_enable(QEMUFile *f);

/*
 * A FULL section per device, then EOF; no live section, no header,
 * no description (COLO checkpoints).  VM stopped, BQL held.
 */
int qemu_save_device_state(QEMUFile *f, Error **errp);

/* ---- destination ---- */

/*
 * What the loader does with the commands it finds in a stream.  By
 * default the incoming migration's hooks (migration_incoming_*); a
 * program that loads streams without being a destination (the stream
 * tests, the fuzzer) sets its own, before any load.  NULL restores the
 * default.
 */
typedef struct LoadvmCommandOps {
    bool (*open_return_path)(Error **errp);     /* OPEN_RETURN_PATH */
    void (*send_pong)(uint32_t value);          /* PING */
    void (*enable_colo)(void);                  /* ENABLE_COLO */
} LoadvmCommandOps;
void qemu_loadvm_set_command_ops(const LoadvmCommandOps *ops);

/*
 * Header, configuration (checked against the current machine), then
 * sections until EOF, then the VMDESCRIPTION if the stream has one.
 * load_setup and load_cleanup of the live sections around it.  BQL not
 * held (reading may block on the channel): each device section takes
 * it around its load.
 */
int qemu_loadvm_state(QEMUFile *f, Error **errp);
/* Sections and commands until EOF.  BQL not held, as above. */
int qemu_loadvm_state_main(QEMUFile *f, Error **errp);
/*
 * Device FULL sections until EOF (what qemu_save_device_state wrote),
 * from a buffer.  BQL held, VM stopped.
 */
int qemu_load_device_state(QEMUFile *f, Error **errp);

#endif /* MIGRATION_SAVEVM_H */
