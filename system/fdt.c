/*
 * The flattened device tree of the colo-x86 machine.
 *
 * The tree is small (about 2 KiB with 32 vCPUs), but the guest finds
 * it in a fixed window of low memory, so its size is checked against
 * that window rather than grown on demand.  Ports are described with the
 * root's two address cells, the port number in the low cell: the guest
 * reaches them with in/out instructions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <libfdt.h>

#include "system/cpus.h"
#include "system/device.h"
#include "system/fdt.h"
#include "system/machine.h"
#include "trace/trace.h"

/*
 * The tree is written sequentially, nodes in the order they appear.
 * libfdt calls return a negative error code; the first one ends the
 * build and later calls are skipped, so each step needs no check.
 */
struct FdtBuilder {
    void *fdt;
    int err;
    const char *stdout_path;    /* for /chosen, set by the console */
};

static void fdt_step(FdtBuilder *b, int ret)
{
    if (!b->err && ret < 0) {
        b->err = ret;
    }
}

void fdt_builder_begin(FdtBuilder *b, const char *name)
{
    if (!b->err) {
        fdt_step(b, fdt_begin_node(b->fdt, name));
    }
}

void fdt_builder_end(FdtBuilder *b)
{
    if (!b->err) {
        fdt_step(b, fdt_end_node(b->fdt));
    }
}

void fdt_builder_string(FdtBuilder *b, const char *name, const char *val)
{
    if (!b->err) {
        fdt_step(b, fdt_property_string(b->fdt, name, val));
    }
}

void fdt_builder_cell(FdtBuilder *b, const char *name, uint32_t val)
{
    if (!b->err) {
        fdt_step(b, fdt_property_cell(b->fdt, name, val));
    }
}

void fdt_builder_reg64(FdtBuilder *b, uint64_t addr, uint64_t size)
{
    fdt64_t reg[2] = { cpu_to_fdt64(addr), cpu_to_fdt64(size) };

    if (!b->err) {
        fdt_step(b, fdt_property(b->fdt, "reg", reg, sizeof(reg)));
    }
}

static void fdt_add_memory(FdtBuilder *b, uint64_t ram_size)
{
    fdt_builder_begin(b, "memory@0");
    fdt_builder_string(b, "device_type", "memory");
    fdt_builder_reg64(b, 0, ram_size);
    fdt_builder_end(b);
}

static void fdt_add_cpus(FdtBuilder *b, unsigned smp)
{
    fdt_builder_begin(b, "cpus");
    fdt_builder_cell(b, "#address-cells", 1);
    fdt_builder_cell(b, "#size-cells", 0);
    for (unsigned i = 0; i < smp; i++) {
        g_autofree char *name = g_strdup_printf("cpu@%u", i);

        fdt_builder_begin(b, name);
        fdt_builder_string(b, "device_type", "cpu");
        fdt_builder_cell(b, "reg", i);
        fdt_builder_end(b);
    }
    fdt_builder_end(b);
}

void fdt_builder_set_stdout(FdtBuilder *b, const char *path)
{
    b->stdout_path = path;
}

static void fdt_add_devices(FdtBuilder *b)
{
    devices_fdt_describe(b);
    if (b->stdout_path) {
        fdt_builder_begin(b, "chosen");
        fdt_builder_string(b, "stdout-path", b->stdout_path);
        fdt_builder_end(b);
    }
}

static void fdt_add_tree(FdtBuilder *b, const MachineState *ms)
{
    fdt_step(b, fdt_finish_reservemap(b->fdt));
    fdt_builder_begin(b, "");
    fdt_builder_string(b, "compatible", "colo-vm,colo-x86");
    fdt_builder_string(b, "model", "colo-vm colo-x86");
    fdt_builder_cell(b, "#address-cells", 2);
    fdt_builder_cell(b, "#size-cells", 2);
    fdt_add_memory(b, ms->ram_size);
    fdt_add_cpus(b, ms->smp);
    fdt_add_devices(b);
    fdt_builder_end(b);
    if (!b->err) {
        fdt_step(b, fdt_finish(b->fdt));
    }
}

bool fdt_build_limited(MachineState *ms, uint32_t max_size, Error **errp)
{
    g_autofree void *fdt = NULL;
    FdtBuilder b;

    if (!ms->ram_size || ms->smp < 1 || ms->smp > MAX_CPUS) {
        error_setg(errp, "cannot describe a machine with %u vCPUs and "
                   "0x%" PRIx64 " bytes of RAM", ms->smp, ms->ram_size);
        return false;
    }
    fdt = g_malloc0(max_size);
    b = (FdtBuilder) { .fdt = fdt };
    fdt_step(&b, fdt_create(fdt, max_size));
    fdt_add_tree(&b, ms);
    if (b.err == -FDT_ERR_NOSPACE) {
        error_setg(errp, "the device tree does not fit in 0x%" PRIx32
                   " bytes (%u vCPUs)", max_size, ms->smp);
        return false;
    }
    if (b.err) {
        error_setg(errp, "cannot build the device tree: %s",
                   fdt_strerror(b.err));
        return false;
    }
    g_free(ms->fdt);
    ms->fdt_size = fdt_totalsize(fdt);
    ms->fdt = g_realloc(g_steal_pointer(&fdt), ms->fdt_size);
    trace_fdt_build(ms->smp, ms->ram_size, ms->fdt_size);
    return true;
}

bool fdt_build(MachineState *ms, Error **errp)
{
    return fdt_build_limited(ms, FDT_MAX_SIZE, errp);
}

bool fdt_dump(const MachineState *ms, const char *path, Error **errp)
{
    g_autoptr(GError) gerr = NULL;

    if (!ms->fdt) {
        error_setg(errp, "there is no device tree to dump");
        return false;
    }
    if (!g_file_set_contents(path, ms->fdt, ms->fdt_size, &gerr)) {
        error_setg(errp, "cannot write the device tree to '%s': %s", path,
                   gerr->message);
        return false;
    }
    return true;
}
