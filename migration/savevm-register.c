/*
 * Registration of the sections of the migration stream.
 *
 * Entries are kept in registration order, which is also the order the
 * stream sends them in, and each gets the next section id.  The table
 * changes only during machine creation and teardown (BQL held, no
 * migration running), so the migration threads read it without a lock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "migration/savevm-int.h"
#include "trace/trace.h"

/*
 * Written with the BQL held, while no migration runs; read by the
 * migration threads without a lock (see the head of the file).
 */
typedef struct SaveVMState {
    GQueue entries;             /* SaveStateEntry *, registration order */
    uint32_t next_section_id;
} SaveVMState;

static SaveVMState savevm_state = { G_QUEUE_INIT, 0 };

GList *savevm_entries(void)
{
    return savevm_state.entries.head;
}

SaveStateEntry *savevm_find_entry(const char *idstr, uint32_t instance_id)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (se->instance_id == instance_id && !strcmp(se->idstr, idstr)) {
            return se;
        }
    }
    return NULL;
}

bool savevm_entry_is_active(const SaveStateEntry *se)
{
    return !se->ops || !se->ops->is_active || se->ops->is_active(se->opaque);
}

/* Ids only grow until unregister_savevm_all(): this one is nobody's. */
uint32_t savevm_unused_section_id(void)
{
    return savevm_state.next_section_id;
}

/* The lowest instance id @idstr does not use yet. */
static uint32_t savevm_free_instance_id(const char *idstr)
{
    uint32_t id = 0;

    while (savevm_find_entry(idstr, id)) {
        id++;
    }
    return id;
}

static int savevm_add_entry(const char *idstr, uint32_t instance_id,
                            int version_id, const SaveVMHandlers *ops,
                            const VMStateDescription *vmsd, void *opaque)
{
    SaveStateEntry *se;

    if (!idstr || !*idstr || strlen(idstr) > SAVEVM_IDSTR_MAX ||
        version_id < 0) {
        return -1;
    }
    if (instance_id == VMSTATE_INSTANCE_ID_ANY) {
        instance_id = savevm_free_instance_id(idstr);
    } else if (savevm_find_entry(idstr, instance_id)) {
        return -1;
    }
    /* The stream's instance ids are unsigned, our return value is not. */
    if (instance_id > INT32_MAX) {
        return -1;
    }

    se = g_new0(SaveStateEntry, 1);
    g_strlcpy(se->idstr, idstr, sizeof(se->idstr));
    se->instance_id = instance_id;
    se->version_id = version_id;
    se->section_id = savevm_state.next_section_id++;
    se->ops = ops;
    se->vmsd = vmsd;
    se->opaque = opaque;
    g_queue_push_tail(&savevm_state.entries, se);
    trace_savevm_register(se->idstr, se->instance_id, se->section_id);
    return (int)instance_id;
}

int register_savevm_live(const char *idstr, uint32_t instance_id,
                         int version_id, const SaveVMHandlers *ops,
                         void *opaque)
{
    if (!ops) {
        return -1;
    }
    return savevm_add_entry(idstr, instance_id, version_id, ops, NULL,
                            opaque);
}

int vmstate_register(uint32_t instance_id, const VMStateDescription *vmsd,
                     void *opaque)
{
    if (!vmsd) {
        return -1;
    }
    return savevm_add_entry(vmsd->name, instance_id, vmsd->version_id, NULL,
                            vmsd, opaque);
}

static void savevm_remove_if(bool (*match)(const SaveStateEntry *se,
                                           const void *key, void *opaque),
                             const void *key, void *opaque)
{
    GList *l = savevm_state.entries.head;

    while (l) {
        GList *next = l->next;
        SaveStateEntry *se = l->data;

        if (match(se, key, opaque)) {
            g_queue_delete_link(&savevm_state.entries, l);
            g_free(se);
        }
        l = next;
    }
}

static bool savevm_match_vmsd(const SaveStateEntry *se, const void *key,
                              void *opaque)
{
    return se->vmsd == key && se->opaque == opaque;
}

static bool savevm_match_live(const SaveStateEntry *se, const void *key,
                              void *opaque)
{
    return se->ops && !strcmp(se->idstr, key) && se->opaque == opaque;
}

void vmstate_unregister(const VMStateDescription *vmsd, void *opaque)
{
    savevm_remove_if(savevm_match_vmsd, vmsd, opaque);
}

void unregister_savevm(const char *idstr, void *opaque)
{
    savevm_remove_if(savevm_match_live, idstr, opaque);
}

void unregister_savevm_all(void)
{
    g_queue_clear_full(&savevm_state.entries, g_free);
    savevm_state.next_section_id = 0;
}
