/*
 * The x86 port I/O address space: devices claim ranges of the 64 KiB
 * port space and vCPU exits (or qtest) dispatch accesses to them.
 *
 * All functions run with the BQL held (vCPU threads, qtest, machine
 * setup).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_IOPORT_H
#define SYSTEM_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

/*
 * A device's accessors.  @off is relative to the registered base and
 * @size is 1, 2 or 4.  An access of size 2 or 4 that fits entirely in
 * one region is passed through whole: devices whose registers are one
 * byte wide handle wider accesses themselves (the usual PC behaviour is
 * that only the addressed register sees the access).  An access that
 * crosses a region's end is split into single bytes, each dispatched on
 * its own, so every byte reaches the region that owns it.
 * Either accessor may be NULL: reads then return all ones and writes
 * are ignored.
 */
typedef struct PortIOOps {
    uint64_t (*read)(void *opaque, uint16_t off, unsigned size);
    void (*write)(void *opaque, uint16_t off, uint64_t val, unsigned size);
} PortIOOps;

/*
 * Claim [base, base + len).  Fails when len is 0, the range runs past
 * port 0xffff or overlaps a region already registered (the error names
 * both).  @name is copied.
 */
bool ioport_register(const char *name, uint16_t base, uint16_t len,
                     const PortIOOps *ops, void *opaque, Error **errp);

/* Release the region starting at @base; false when there is none. */
bool ioport_unregister(uint16_t base);

/* Unassigned ports read as all ones (0xff, 0xffff, 0xffffffff). */
uint64_t ioport_read(uint16_t port, unsigned size);
/* Writes to unassigned ports are ignored (and traced). */
void ioport_write(uint16_t port, uint64_t val, unsigned size);

/* Name of the region holding @port, or NULL. */
const char *ioport_region_name(uint16_t port);

void ioport_unregister_all(void);

#endif /* SYSTEM_IOPORT_H */
