/*
 * The registry of device classes and the machine's device instances.
 *
 * Classes register from constructors, before main() and before any
 * thread exists, so the class list needs no lock; instances are made
 * and destroyed by the machine under the BQL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <assert.h>
#include <string.h>

#include "migration/register.h"
#include "migration/vmstate.h"
#include "system/device.h"
#include "trace/trace.h"
#include "util/bql.h"

typedef struct DeviceInstance {
    const DeviceClass *dc;
    void *state;
    bool vmsd_registered;
} DeviceInstance;

/* const DeviceClass *, sorted by name. */
static GPtrArray *device_classes;
/* DeviceInstance, realization order.  Protected by the BQL. */
static GArray *device_instances;

static gint device_class_compare(gconstpointer a, gconstpointer b)
{
    const DeviceClass *da = *(const DeviceClass *const *)a;
    const DeviceClass *db = *(const DeviceClass *const *)b;

    return strcmp(da->name, db->name);
}

void device_class_register(const DeviceClass *dc)
{
    if (!device_classes) {
        device_classes = g_ptr_array_new();
    }
    g_ptr_array_add(device_classes, (gpointer)dc);
    g_ptr_array_sort(device_classes, device_class_compare);
}

static bool device_realize(const DeviceClass *dc, MachineState *ms,
                           Error **errp)
{
    DeviceInstance inst = { .dc = dc };

    if (!dc->realize(ms, &inst.state, errp)) {
        return false;
    }
    g_array_append_val(device_instances, inst);
    if (dc->vmsd) {
        if (vmstate_register(0, dc->vmsd, inst.state) < 0) {
            error_setg(errp, "Device state '%s' instance 0 is registered "
                       "twice", dc->vmsd->name);
            return false;
        }
        g_array_index(device_instances, DeviceInstance,
                      device_instances->len - 1).vmsd_registered = true;
    }
    trace_device_realize(dc->name);
    return true;
}

bool devices_realize(MachineState *ms, Error **errp)
{
    assert(bql_locked());
    if (!device_instances) {
        device_instances = g_array_new(false, false, sizeof(DeviceInstance));
    }
    g_assert(device_instances->len == 0);
    for (guint i = 0; device_classes && i < device_classes->len; i++) {
        if (!device_realize(g_ptr_array_index(device_classes, i), ms,
                            errp)) {
            devices_unrealize();
            return false;
        }
    }
    return true;
}

void devices_unrealize(void)
{
    assert(bql_locked());
    while (device_instances && device_instances->len) {
        guint last = device_instances->len - 1;
        DeviceInstance inst = g_array_index(device_instances,
                                            DeviceInstance, last);

        g_array_remove_index(device_instances, last);
        if (inst.vmsd_registered) {
            vmstate_unregister(inst.dc->vmsd, inst.state);
        }
        inst.dc->unrealize(inst.state);
        trace_device_unrealize(inst.dc->name);
    }
    if (device_instances) {
        g_array_free(device_instances, true);
        device_instances = NULL;
    }
}

void devices_fdt_describe(FdtBuilder *b)
{
    for (guint i = 0; device_classes && i < device_classes->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(device_classes, i);

        if (dc->fdt_describe) {
            dc->fdt_describe(b);
        }
    }
}
