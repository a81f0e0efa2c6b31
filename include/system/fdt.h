/*
 * The flattened device tree describing the machine to the guest: RAM,
 * vCPUs, and the devices, each of which adds its own node through the
 * builder below (include/system/device.h).  The guest finds it at
 * the guest-physical address given in RSI (docs/vmm.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_FDT_H
#define SYSTEM_FDT_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

typedef struct MachineState MachineState;

/* The blob must fit below the guest's stack area: 0x9000 + 0x7000. */
#define FDT_MAX_SIZE 0x7000

/*
 * Build the tree for @ms (ram_size, smp) into ms->fdt (g_malloc'ed,
 * replacing and freeing any previous one) and ms->fdt_size.  Fails when
 * the blob would exceed FDT_MAX_SIZE or the machine cannot be described.
 */
bool fdt_build(MachineState *ms, Error **errp);
/* The same with another size limit (tests check the overflow error). */
bool fdt_build_limited(MachineState *ms, uint32_t max_size, Error **errp);

/*
 * For a device's fdt_describe: nodes and properties in the order they
 * appear.  The first libfdt error is kept and ends the build; later
 * calls do nothing, so a device checks nothing.
 */
typedef struct FdtBuilder FdtBuilder;
void fdt_builder_begin(FdtBuilder *b, const char *name);
void fdt_builder_end(FdtBuilder *b);
void fdt_builder_string(FdtBuilder *b, const char *name, const char *val);
void fdt_builder_cell(FdtBuilder *b, const char *name, uint32_t val);
/* A "reg" of one (address, size) pair in the root's 2 + 2 cells. */
void fdt_builder_reg64(FdtBuilder *b, uint64_t addr, uint64_t size);
/* The console: /chosen's stdout-path (@path is not copied). */
void fdt_builder_set_stdout(FdtBuilder *b, const char *path);

/* Write ms->fdt to @path (for -machine dumpdtb=PATH). */
bool fdt_dump(const MachineState *ms, const char *path, Error **errp);

#endif /* SYSTEM_FDT_H */
