/*
 * isa-debug-exit: a write of V to the port makes colo-vm exit with
 * status (V << 1) | 1, as QEMU's device of that name.  The status is
 * always odd so that a test harness can tell a guest-requested exit from
 * a normal one (status 0).  Reads return all ones like an empty port.
 *
 * The shutdown request is made from the vCPU thread (BQL held); it is
 * the main loop that stops the vCPUs and exits, so the writing vCPU
 * never waits for itself.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/debug-exit.h"
#include "system/device.h"
#include "system/fdt.h"
#include "system/ioport.h"
#include "system/shutdown.h"
#include "trace/trace.h"

static void debug_exit_write(void *opaque, uint16_t off, uint64_t val,
                             unsigned size)
{
    int status = (int)(((uint32_t)val << 1) | 1);

    trace_debug_exit_write(val, status);
    system_shutdown_set_exit_status(status);
    system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static const PortIOOps debug_exit_ops = {
    .write = debug_exit_write,
};

bool debug_exit_init(uint16_t iobase, uint16_t iosize, Error **errp)
{
    return ioport_register("isa-debug-exit", iobase, iosize,
                           &debug_exit_ops, NULL, errp);
}

static bool debug_exit_realize(MachineState *ms, void **state, Error **errp)
{
    *state = NULL;
    return debug_exit_init(DEBUG_EXIT_IOBASE, DEBUG_EXIT_IOSIZE, errp);
}

static void debug_exit_unrealize(void *state)
{
    ioport_unregister(DEBUG_EXIT_IOBASE);
}

static void debug_exit_fdt_describe(FdtBuilder *b)
{
    fdt_builder_begin(b, "isa-debug-exit@501");
    fdt_builder_string(b, "compatible", "qemu,isa-debug-exit");
    fdt_builder_reg64(b, DEBUG_EXIT_IOBASE, DEBUG_EXIT_IOSIZE);
    fdt_builder_end(b);
}

static const DeviceClass debug_exit_device = {
    .name = "isa-debug-exit",
    .realize = debug_exit_realize,
    .unrealize = debug_exit_unrealize,
    .fdt_describe = debug_exit_fdt_describe,
};
device_init(debug_exit_device)
