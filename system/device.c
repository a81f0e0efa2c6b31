/*
 * The registry of device classes and the machine's device instances.
 *
 * Both tables are static arrays: classes are added by constructors,
 * before main() and before any thread exists, so the class table needs
 * no lock; instances are made and destroyed by the machine in the main
 * thread with the BQL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "migration/register.h"
#include "migration/vmstate.h"
#include "system/device.h"
#include "trace/trace.h"
#include "util/bql.h"

/* More than the machine will ever have; a new device may raise it. */
#define DEVICE_CLASSES_MAX 16

typedef struct DeviceInstance {
    const DeviceClass *dc;
    void *state;
    bool vmsd_registered;
} DeviceInstance;

/* Sorted by name.  Written by constructors only, before main(). */
static const DeviceClass *device_classes[DEVICE_CLASSES_MAX];
static unsigned device_class_count;

/* Realization order.  Protected by the BQL. */
static DeviceInstance device_instances[DEVICE_CLASSES_MAX];
static unsigned device_instance_count;

static int device_class_compare(const void *a, const void *b)
{
    const DeviceClass *da = *(const DeviceClass *const *)a;
    const DeviceClass *db = *(const DeviceClass *const *)b;

    return strcmp(da->name, db->name);
}

void device_class_register(const DeviceClass *dc)
{
    g_assert(device_class_count < DEVICE_CLASSES_MAX);
    device_classes[device_class_count++] = dc;
    qsort(device_classes, device_class_count, sizeof(device_classes[0]),
          device_class_compare);
}

static bool device_realize(const DeviceClass *dc, MachineState *ms,
                           Error **errp)
{
    DeviceInstance *inst = &device_instances[device_instance_count];

    *inst = (DeviceInstance) { .dc = dc };
    if (!dc->realize(ms, &inst->state, errp)) {
        return false;
    }
    device_instance_count++;
    if (dc->vmsd) {
        if (vmstate_register(0, dc->vmsd, inst->state) < 0) {
            error_setg(errp, "Device state '%s' instance 0 is registered "
                       "twice", dc->vmsd->name);
            return false;
        }
        inst->vmsd_registered = true;
    }
    trace_device_realize(dc->name);
    return true;
}

bool devices_realize(MachineState *ms, Error **errp)
{
    g_assert(bql_locked());
    g_assert(device_instance_count == 0);
    for (unsigned i = 0; i < device_class_count; i++) {
        if (!device_realize(device_classes[i], ms, errp)) {
            devices_unrealize();
            return false;
        }
    }
    return true;
}

void devices_unrealize(void)
{
    g_assert(bql_locked());
    while (device_instance_count) {
        DeviceInstance *inst = &device_instances[--device_instance_count];

        if (inst->vmsd_registered) {
            vmstate_unregister(inst->dc->vmsd, inst->state);
        }
        inst->dc->unrealize(inst->state);
        trace_device_unrealize(inst->dc->name);
    }
}

void devices_fdt_describe(FdtBuilder *b)
{
    for (unsigned i = 0; i < device_class_count; i++) {
        if (device_classes[i]->fdt_describe) {
            device_classes[i]->fdt_describe(b);
        }
    }
}
