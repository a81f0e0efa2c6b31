/*
 * The flattened device tree describing the machine to the guest: RAM,
 * vCPUs, the serial port and the debug-exit port.  The guest finds it at
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

/* Write ms->fdt to @path (for -machine dumpdtb=PATH). */
bool fdt_dump(const MachineState *ms, const char *path, Error **errp);

#endif /* SYSTEM_FDT_H */
