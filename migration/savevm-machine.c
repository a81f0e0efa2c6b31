/*
 * The colo-x86 machine's sections in the migration stream.
 *
 * Registered once the devices and vCPUs exist, in a fixed order (RAM,
 * UART, then the vCPUs by index), so that two processes started with
 * the same options number their sections alike, RAM first as in QEMU.
 * They are removed again before the machine frees the devices: an
 * entry must never outlive its state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/serial.h"
#include "migration/ram.h"
#include "migration/savevm-int.h"
#include "system/cpu-vmstate.h"
#include "system/machine.h"

typedef struct MachineEntry {
    const VMStateDescription *vmsd;
    void *opaque;
} MachineEntry;

/* What we registered, for migration_unregister_machine_devices(). */
static GArray *machine_entries;

static bool machine_register(uint32_t instance_id,
                             const VMStateDescription *vmsd, void *opaque,
                             Error **errp)
{
    MachineEntry entry = { vmsd, opaque };

    if (vmstate_register(instance_id, vmsd, opaque) < 0) {
        error_setg(errp, "Device state '%s' instance %u is registered "
                   "twice", vmsd->name, instance_id);
        return false;
    }
    g_array_append_val(machine_entries, entry);
    return true;
}

bool migration_register_machine_devices(MachineState *ms,
                                        SerialState *serial, Error **errp)
{
    if (!machine_entries) {
        machine_entries = g_array_new(false, false, sizeof(MachineEntry));
    }
    /* A second machine in one process finds it registered already. */
    if (!savevm_find_entry(RAM_SECTION_NAME, 0)) {
        ram_mig_init();
    }
    if (serial && !machine_register(0, &vmstate_serial, serial, errp)) {
        return false;
    }
    return cpu_vmstate_register_all(errp);
}

void migration_unregister_machine_devices(void)
{
    ram_mig_cleanup();
    cpu_vmstate_unregister_all();
    if (!machine_entries) {
        return;
    }
    for (guint i = 0; i < machine_entries->len; i++) {
        MachineEntry *entry = &g_array_index(machine_entries, MachineEntry,
                                             i);

        vmstate_unregister(entry->vmsd, entry->opaque);
    }
    g_array_free(machine_entries, true);
    machine_entries = NULL;
}
