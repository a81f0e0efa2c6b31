/*
 * Booting the colo-x86 machine: the guest image, boot tables and device
 * tree in guest RAM, and each vCPU's boot state.
 *
 * The image is read and checked once, when the machine is created, and
 * copied into RAM by a reset handler: the machine's first reset and
 * every later system_reset put the same bytes back, so a guest that is
 * reset starts from its pristine data and bss.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "system/cpus.h"
#include "system/loader.h"
#include "system/machine.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "system/x86-boot.h"
#include "trace/trace.h"
#include "util/error-report.h"

#define X86_BOOT_RAM_BLOCK "pc.ram"

typedef enum X86BootMode {
    X86_BOOT_NONE,      /* no guest: vCPUs stay parked */
    X86_BOOT_ELF,       /* -kernel: long mode at the ELF entry */
    X86_BOOT_SECTOR,    /* -drive: real mode at 0000:7c00 */
} X86BootMode;

/* Protected by the BQL (machine creation, reset handlers). */
typedef struct X86Boot {
    X86BootMode mode;
    GuestImage *image;
    uint8_t *fdt;           /* copy of the machine's FDT, or NULL */
    uint32_t fdt_size;
    bool reset_registered;
} X86Boot;

static X86Boot x86_boot;

static const char *const x86_boot_mode_names[] = {
    [X86_BOOT_NONE] = "none",
    [X86_BOOT_ELF] = "elf",
    [X86_BOOT_SECTOR] = "boot-sector",
};

static RAMBlock *x86_boot_ram(Error **errp)
{
    RAMBlock *block = ram_block_by_name(X86_BOOT_RAM_BLOCK);

    if (!block || block->gpa != 0) {
        error_setg(errp, "no RAM block '%s' at guest address 0",
                   X86_BOOT_RAM_BLOCK);
        return NULL;
    }
    return block;
}

/*
 * Reset handler.  The pages are marked dirty by hand: KVM logs only what
 * the guest writes, and a migration must carry these writes too.
 */
static void x86_boot_reload(void *opaque)
{
    X86Boot *b = opaque;
    Error *err = NULL;
    RAMBlock *block;

    trace_x86_boot_reload();
    block = x86_boot_ram(&err);
    if (!block) {
        goto fail;
    }
    if (b->mode == X86_BOOT_ELF) {
        if (!x86_boot_write_tables(block->host, block->size, &err)) {
            goto fail;
        }
        ram_mark_dirty(0, X86_BOOT_TABLES_END);
        if (b->fdt) {
            memcpy(block->host + X86_BOOT_FDT_ADDR, b->fdt, b->fdt_size);
            ram_mark_dirty(X86_BOOT_FDT_ADDR, b->fdt_size);
        }
    }
    if (!loader_image_copy(b->image, block->host, block->size, &err)) {
        goto fail;
    }
    for (unsigned int i = 0; i < b->image->nsegs; i++) {
        ram_mark_dirty(b->image->segs[i].gpa, b->image->segs[i].memsz);
    }
    return;

fail:
    /* Checked when the machine was created: only a bug gets here. */
    error_prepend(&err, "Cannot reload the guest image: ");
    error_report_err(err);
}

static GuestImage *x86_boot_load(MachineState *ms, RAMBlock *ram,
                                 Error **errp)
{
    if (ms->kernel) {
        x86_boot.mode = X86_BOOT_ELF;
        return loader_load_elf(ms->kernel, ram->size, errp);
    }
    x86_boot.mode = X86_BOOT_SECTOR;
    return loader_load_boot_sector(ms->drive, errp);
}

static void x86_boot_set_cpu_states(uint64_t entry)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        X86VcpuState *s = g_new(X86VcpuState, 1);

        switch (x86_boot.mode) {
        case X86_BOOT_ELF:
            x86_boot_long_mode_state(s, cpu->index, cpu_count, entry,
                                     X86_BOOT_FDT_ADDR);
            break;
        case X86_BOOT_SECTOR:
            x86_boot_real_mode_state(s, cpu->index);
            break;
        case X86_BOOT_NONE:
            x86_boot_reset_state(s, cpu->index);
            s->mp_state.mp_state = KVM_MP_STATE_UNINITIALIZED;
            break;
        }
        cpu->start_halted = s->mp_state.mp_state != KVM_MP_STATE_RUNNABLE;
        g_free(cpu->boot_state);
        cpu->boot_state = s;
    }
}

bool x86_boot_setup(MachineState *ms, Error **errp)
{
    RAMBlock *ram = x86_boot_ram(errp);

    if (!ram) {
        return false;
    }
    if (ram->size < X86_BOOT_RAM_MIN) {
        error_setg(errp, "RAM must be at least %u bytes for the boot layout",
                   X86_BOOT_RAM_MIN);
        return false;
    }
    x86_boot_cleanup();
    if (ms->kernel || ms->drive) {
        x86_boot.image = x86_boot_load(ms, ram, errp);
        if (!x86_boot.image) {
            return false;
        }
    }
    if (x86_boot.mode == X86_BOOT_ELF && ms->fdt) {
        if (ms->fdt_size > X86_BOOT_FDT_MAX_SIZE) {
            error_setg(errp, "the device tree (%u bytes) is larger than the "
                       "%u bytes reserved for it", ms->fdt_size,
                       X86_BOOT_FDT_MAX_SIZE);
            x86_boot_cleanup();
            return false;
        }
        x86_boot.fdt = g_memdup2(ms->fdt, ms->fdt_size);
        x86_boot.fdt_size = ms->fdt_size;
    }
    x86_boot_set_cpu_states(x86_boot.image ? x86_boot.image->entry : 0);
    if (x86_boot.image) {
        system_register_reset(x86_boot_reload, &x86_boot);
        x86_boot.reset_registered = true;
    }
    trace_x86_boot_setup(x86_boot_mode_names[x86_boot.mode],
                         x86_boot.image ? x86_boot.image->entry : 0,
                         cpu_count);
    return true;
}

void x86_boot_cleanup(void)
{
    if (x86_boot.reset_registered) {
        system_unregister_reset(x86_boot_reload, &x86_boot);
    }
    loader_image_free(x86_boot.image);
    g_free(x86_boot.fdt);
    memset(&x86_boot, 0, sizeof(x86_boot));
}
