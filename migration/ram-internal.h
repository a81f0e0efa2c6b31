/*
 * What the two halves of the "ram" section share: the save side in
 * ram.c registers the load side from ram-load.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_RAM_INTERNAL_H
#define MIGRATION_RAM_INTERNAL_H

#include "migration/qemu-file.h"
#include "migration/ram.h"

/* Flags a record may carry; any other bit below the page size is bad. */
#define RAM_SAVE_FLAGS_KNOWN \
    (RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_MEM_SIZE | RAM_SAVE_FLAG_PAGE | \
     RAM_SAVE_FLAG_EOS | RAM_SAVE_FLAG_CONTINUE)

int ram_load_setup(QEMUFile *f, void *opaque, Error **errp);
int ram_load(QEMUFile *f, void *opaque, int version_id, Error **errp);
int ram_load_cleanup(void *opaque);

#endif /* MIGRATION_RAM_INTERNAL_H */
