/*
 * Devices of the machine, declared in their own files.
 *
 * A device file describes itself with a DeviceClass and registers it
 * with device_init(), as kvmtool's dev_init() does: the machine creates
 * every registered device at start-up without naming any of them, the
 * device claims its ports and reset handler itself, and its migration
 * state (vmsd) reaches the stream through the registry, so adding a
 * device touches hw/ only.  The executable links hw/ whole
 * (link_whole), since nothing else refers to a device's object file.
 *
 * One instance of each class per machine.  Devices are realized in the
 * order of their names, so two processes built from the same sources
 * number their migration sections alike, and unrealized in reverse.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_DEVICE_H
#define SYSTEM_DEVICE_H

#include <stdbool.h>

#include "qapi/error.h"

typedef struct FdtBuilder FdtBuilder;
typedef struct MachineState MachineState;
typedef struct VMStateDescription VMStateDescription;

typedef struct DeviceClass {
    /* QEMU's device name, e.g. "isa-serial"; unique. */
    const char *name;
    /*
     * Create the device for @ms: claim ports, register the reset
     * handler, attach backends.  *@state is what the vmsd describes
     * and what unrealize gets back.  On failure, nothing is left.
     */
    bool (*realize)(MachineState *ms, void **state, Error **errp);
    /* Undo realize. */
    void (*unrealize)(void *state);
    /* The device's migration state; NULL when it has none. */
    const VMStateDescription *vmsd;
    /*
     * Add the device's node(s) to the machine's device tree; or NULL.
     * Needs no instance: the tree describes where devices are, which
     * the class fixes.
     */
    void (*fdt_describe)(FdtBuilder *b);
} DeviceClass;

/* Make @dc known to every machine created later.  Before main(). */
void device_class_register(const DeviceClass *dc);

#define device_init(dc)                                                 \
    static void __attribute__((constructor)) device_init_##dc(void)    \
    {                                                                   \
        device_class_register(&(dc));                                   \
    }

/*
 * Realize every registered device, then register the migration state
 * of those that have one (instance 0).  On failure everything realized
 * is undone.  Main thread, BQL.
 */
bool devices_realize(MachineState *ms, Error **errp);
/* Undo devices_realize(), in reverse order.  Main thread, BQL. */
void devices_unrealize(void);
/* Let every registered device describe itself in the tree @b builds. */
void devices_fdt_describe(FdtBuilder *b);

#endif /* SYSTEM_DEVICE_H */
