/*
 * The table of registered sections, shared by the saving and the
 * loading half of the stream framing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_SAVEVM_INT_H
#define MIGRATION_SAVEVM_INT_H

#include <glib.h>

#include "migration/register.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

/*
 * Identity members are written at registration (BQL held, no migration
 * running).  The per-migration flags belong to the one thread that
 * saves or loads a stream: a process runs at most one save and one
 * load, and they use disjoint flags.
 */
typedef struct SaveStateEntry {
    char idstr[SAVEVM_IDSTR_MAX + 1];
    uint32_t instance_id;
    int version_id;
    uint32_t section_id;        /* ours: what the sections we send carry */
    const SaveVMHandlers *ops;  /* live section, or NULL */
    const VMStateDescription *vmsd; /* device state, or NULL */
    void *opaque;

    /* Source: save_setup was called, save_cleanup is owed. */
    bool save_setup_done;

    /* Destination, for the load in progress. */
    bool load_setup_done;       /* load_cleanup is owed */
    bool load_id_known;         /* a START or FULL named this entry */
    bool load_started;          /* a START was loaded: PART/END allowed */
    uint32_t load_section_id;   /* the source's id for this entry */
    uint32_t load_version_id;
} SaveStateEntry;

/* Every entry, in registration order (SaveStateEntry *). */
GList *savevm_entries(void);

SaveStateEntry *savevm_find_entry(const char *idstr, uint32_t instance_id);

static inline bool savevm_entry_is_live(const SaveStateEntry *se)
{
    return se->ops != NULL;
}

/* is_active says yes (or there is none). */
bool savevm_entry_is_active(const SaveStateEntry *se);

/* A section id that no registered entry has. */
uint32_t savevm_unused_section_id(void);

/*
 * The footer of section @idstr, which must carry @section_id: 0, or a
 * negative errno with QEMU's messages (savevm-load.c).
 */
int savevm_load_section_footer(QEMUFile *f, const char *idstr,
                               uint32_t section_id, Error **errp);

/*
 * The configuration and machine sections (configuration.c), written
 * after the header and checked against the current machine before
 * anything else is loaded.
 */
void savevm_configuration_save(QEMUFile *f);
int savevm_configuration_load(QEMUFile *f, Error **errp);
/*
 * Their VMDESCRIPTION entries: "configuration" in @vmdesc, the machine
 * section appended to @devices.
 */
void savevm_configuration_describe(json_t *vmdesc, json_t *devices);

/*
 * Tools that read QEMU streams (QEMU's analyze-migration.py) find the
 * VMDESCRIPTION's JSON as the first '{' after the last zero byte of the
 * stream: true when the bytes of be32 @len after its last zero hold a
 * '{', which would send them to the wrong place (savevm.c pads the JSON
 * with spaces until this is false).
 */
bool savevm_vmdesc_len_misleads(uint32_t len);

#endif /* MIGRATION_SAVEVM_INT_H */
