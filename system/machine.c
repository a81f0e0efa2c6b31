/*
 * The colo-x86 machine: guest RAM at 0, an accelerator, the devices of
 * hw/ (a 16550A UART at 0x3f8, isa-debug-exit at 0x501), a device tree
 * describing them, a guest image and its vCPUs.
 *
 * Creation follows QEMU's order: RAM, accelerator, devices, vCPUs, then
 * one system reset that puts the guest image, boot tables and vCPU
 * registers in place, so that booting and resetting are the same path.
 * The machine names no device: it realizes those hw/ registered
 * (system/device.h).  Migration sections follow creation: "ram"
 * (registered by migration_init(), before the machine), the devices,
 * then the vCPUs by index.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "chardev/char.h"
#include "system/accel.h"
#include "system/cpu-vmstate.h"
#include "system/cpus.h"
#include "system/device.h"
#include "system/fdt.h"
#include "system/ioport.h"
#include "system/machine.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "system/x86-boot.h"
#include "trace/trace.h"

/* What the machine created, for machine_cleanup(). */
typedef struct MachineDevices {
    bool accel_initialized;
    bool boot_setup;
} MachineDevices;

static MachineState *machine;
static MachineDevices machine_devices;

MachineState *current_machine(void)
{
    return machine;
}

MachineState *machine_new(void)
{
    g_assert(!machine);
    machine = g_new0(MachineState, 1);
    machine->type = g_strdup(MACHINE_TYPE_DEFAULT);
    machine->ram_size = MACHINE_RAM_SIZE_DEFAULT;
    machine->smp = 1;
    return machine;
}

bool machine_type_valid(const char *type)
{
    return strcmp(type, MACHINE_TYPE_DEFAULT) == 0;
}

void machine_print_types(void)
{
    printf("Supported machines are:\n");
    printf("%-20s x86-64 machine for COLO (default)\n",
           MACHINE_TYPE_DEFAULT);
}

static bool machine_check(MachineState *ms, Error **errp)
{
    if (!machine_type_valid(ms->type)) {
        error_setg(errp, "unsupported machine type '%s'", ms->type);
        error_append_hint(errp, "Use -machine help to list supported "
                          "machines\n");
        return false;
    }
    if (ms->ram_size < MACHINE_RAM_SIZE_MIN ||
        ms->ram_size > MACHINE_RAM_SIZE_MAX ||
        ms->ram_size % TARGET_PAGE_SIZE) {
        error_setg(errp, "invalid RAM size %" PRIu64 ": it must be a "
                   "multiple of 4 KiB between 2 MiB and 3 GiB",
                   ms->ram_size);
        return false;
    }
    if (ms->smp < 1 || ms->smp > MAX_CPUS) {
        error_setg(errp, "invalid number of vCPUs %u: it must be between "
                   "1 and %d", ms->smp, MAX_CPUS);
        return false;
    }
    if (ms->kernel && ms->drive) {
        error_setg(errp, "-kernel and -drive cannot be used together");
        return false;
    }
    return true;
}

/* The UART's backend, then every device of hw/ (system/device.h). */
static bool machine_init_devices(MachineState *ms, Error **errp)
{
    ERRP_GUARD();

    ms->serial_chr = chardev_new_legacy("serial0",
                                        ms->serial ? ms->serial : "null",
                                        errp);
    if (!ms->serial_chr) {
        error_prepend(errp, "-serial %s: ", ms->serial ? ms->serial
                                                       : "null");
        return false;
    }
    return devices_realize(ms, errp);
}

static bool machine_init_cpus(MachineState *ms)
{
    for (unsigned i = 0; i < ms->smp; i++) {
        if (!cpu_create()) {
            return false;
        }
    }
    return true;
}

/* Guest loading errors name the option that gave the guest. */
static void machine_prepend_guest_option(MachineState *ms, Error **errp)
{
    if (ms->kernel) {
        error_prepend(errp, "-kernel %s: ", ms->kernel);
    } else if (ms->drive) {
        error_prepend(errp, "-drive file=%s: ", ms->drive);
    }
}

bool machine_init(MachineState *ms, Error **errp)
{
    ERRP_GUARD();
    const AccelOps *ops;

    ms->has_guest = ms->kernel || ms->drive;
    /*
     * The default is kvm even without a guest: a migration destination
     * has none until the stream brings it, and must not silently become
     * a machine that cannot run it.
     */
    if (!machine_check(ms, errp) || !accel_select(ms->accel, errp)) {
        return false;
    }
    ops = current_accel();
    if (!ram_block_add("pc.ram", 0, ms->ram_size, errp)) {
        return false;
    }
    if (ops->init && !ops->init(ms, errp)) {
        return false;
    }
    machine_devices.accel_initialized = true;
    if (!machine_init_devices(ms, errp) || !machine_init_cpus(ms) ||
        !fdt_build(ms, errp)) {
        return false;
    }
    if (!x86_boot_setup(ms, errp)) {
        machine_prepend_guest_option(ms, errp);
        return false;
    }
    machine_devices.boot_setup = true;
    if (!cpu_init_all(errp) || !cpu_vmstate_register_all(errp)) {
        return false;
    }
    trace_machine_init(ms->type, ops->name, ms->ram_size, ms->smp);
    machine_reset();
    return true;
}

void machine_reset(void)
{
    system_run_reset_handlers();
    cpu_reset_all();
}

/*
 * Undo whatever machine_init() got to, in reverse order.  The vCPU
 * threads are joined first: nothing may run guest code once devices
 * and RAM go away.  Main thread, BQL.
 */
void machine_cleanup(void)
{
    const AccelOps *ops = current_accel();

    cpu_exit_all();
    if (machine_devices.boot_setup) {
        x86_boot_cleanup();
    }
    cpu_vmstate_unregister_all();
    devices_unrealize();
    ioport_unregister_all();
    system_reset_cleanup();
    ram_dirty_log_stop();
    if (machine_devices.accel_initialized && ops && ops->cleanup) {
        ops->cleanup();
    }
    ram_block_remove_all();
    memset(&machine_devices, 0, sizeof(machine_devices));
    machine_free();
}

void machine_free(void)
{
    MachineState *ms = machine;

    if (!ms) {
        return;
    }
    g_free(ms->type);
    g_free(ms->kernel);
    g_free(ms->drive);
    g_free(ms->dumpdtb);
    g_free(ms->accel);
    g_free(ms->serial);
    g_free(ms->qtest);
    g_free(ms->fdt);
    g_free(ms);
    machine = NULL;
}
