/*
 * The port I/O address space.
 *
 * Regions are kept sorted by base in a small array; a PC has a handful
 * of them, so a binary search beats a 64 Ki-entry table in cache and in
 * memory.  Callers hold the BQL, which is all the locking needed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "system/ioport.h"
#include "trace/trace.h"

#define IOPORT_SPACE_SIZE 0x10000u

typedef struct IOPortRegion {
    char *name;
    uint32_t base;
    uint32_t len;
    const PortIOOps *ops;
    void *opaque;
} IOPortRegion;

/*
 * Sorted by base, never overlapping.  Protected by the BQL.  NULL until
 * the first region is registered; from then on it lives as long as the
 * process (ioport_unregister_all() empties it).
 */
static GPtrArray *ioport_regions;

static void ioport_region_free(gpointer data)
{
    IOPortRegion *r = data;

    g_free(r->name);
    g_free(r);
}

static void ioport_init_once(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        ioport_regions = g_ptr_array_new_with_free_func(ioport_region_free);
        g_once_init_leave(&done, 1);
    }
}

/* Index of the first region whose end lies above @port. */
static guint ioport_lower_bound(uint32_t port)
{
    guint lo = 0, hi = ioport_regions ? ioport_regions->len : 0;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        IOPortRegion *r = g_ptr_array_index(ioport_regions, mid);

        if (r->base + r->len <= port) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static IOPortRegion *ioport_find(uint16_t port)
{
    guint i = ioport_lower_bound(port);
    IOPortRegion *r;

    if (!ioport_regions || i >= ioport_regions->len) {
        return NULL;
    }
    r = g_ptr_array_index(ioport_regions, i);
    return r->base <= port ? r : NULL;
}

bool ioport_register(const char *name, uint16_t base, uint16_t len,
                     const PortIOOps *ops, void *opaque, Error **errp)
{
    uint32_t end = (uint32_t)base + len;
    IOPortRegion *r;
    guint i;

    if (!ops) {
        error_setg(errp, "I/O port region '%s' has no accessors", name);
        return false;
    }
    if (len == 0) {
        error_setg(errp, "I/O port region '%s' at 0x%x is empty", name,
                   base);
        return false;
    }
    if (end > IOPORT_SPACE_SIZE) {
        error_setg(errp, "I/O port region '%s' (0x%x-0x%x) runs past port "
                   "0xffff", name, base, end - 1);
        return false;
    }
    ioport_init_once();
    i = ioport_lower_bound(base);
    if (i < ioport_regions->len) {
        IOPortRegion *o = g_ptr_array_index(ioport_regions, i);

        if (o->base < end) {
            error_setg(errp, "I/O port region '%s' (0x%x-0x%x) overlaps "
                       "'%s' (0x%x-0x%x)", name, base, end - 1, o->name,
                       o->base, o->base + o->len - 1);
            return false;
        }
    }
    r = g_new0(IOPortRegion, 1);
    r->name = g_strdup(name);
    r->base = base;
    r->len = len;
    r->ops = ops;
    r->opaque = opaque;
    g_ptr_array_insert(ioport_regions, i, r);
    trace_ioport_register(name, base, len);
    return true;
}

bool ioport_unregister(uint16_t base)
{
    guint i = ioport_lower_bound(base);
    IOPortRegion *r;

    if (!ioport_regions || i >= ioport_regions->len) {
        return false;
    }
    r = g_ptr_array_index(ioport_regions, i);
    if (r->base != base) {
        return false;
    }
    trace_ioport_unregister(r->name, r->base, r->len);
    g_ptr_array_remove_index(ioport_regions, i);
    return true;
}

void ioport_unregister_all(void)
{
    if (ioport_regions) {
        g_ptr_array_set_size(ioport_regions, 0);
    }
}

const char *ioport_region_name(uint16_t port)
{
    IOPortRegion *r = ioport_find(port);

    return r ? r->name : NULL;
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

static bool ioport_size_valid(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

/*
 * The region holding all of [port, port + size), or NULL; *partial
 * tells whether some region holds only part of it.
 */
static IOPortRegion *ioport_find_whole(uint16_t port, unsigned size,
                                       bool *partial)
{
    IOPortRegion *first = ioport_find(port);

    *partial = false;
    for (unsigned i = 1; i < size; i++) {
        if (ioport_find((uint16_t)(port + i)) != first) {
            *partial = true;
            return NULL;
        }
    }
    return first;
}

static uint64_t ioport_read_byte_split(uint16_t port, unsigned size)
{
    uint64_t val = 0;

    for (unsigned i = 0; i < size; i++) {
        val |= ioport_read((uint16_t)(port + i), 1) << (i * 8);
    }
    return val;
}

uint64_t ioport_read(uint16_t port, unsigned size)
{
    IOPortRegion *r;
    bool partial;
    uint64_t val;

    if (!ioport_size_valid(size)) {
        trace_ioport_bad_size(port, size);
        return UINT64_MAX;
    }
    r = ioport_find_whole(port, size, &partial);
    if (partial) {
        return ioport_read_byte_split(port, size);
    }
    if (!r || !r->ops->read) {
        trace_ioport_unassigned_read(port, size);
        return size_mask(size);
    }
    val = r->ops->read(r->opaque, port - r->base, size) & size_mask(size);
    trace_ioport_read(r->name, port, size, val);
    return val;
}

void ioport_write(uint16_t port, uint64_t val, unsigned size)
{
    IOPortRegion *r;
    bool partial;

    if (!ioport_size_valid(size)) {
        trace_ioport_bad_size(port, size);
        return;
    }
    val &= size_mask(size);
    r = ioport_find_whole(port, size, &partial);
    if (partial) {
        for (unsigned i = 0; i < size; i++) {
            ioport_write((uint16_t)(port + i), (val >> (i * 8)) & 0xff, 1);
        }
        return;
    }
    if (!r || !r->ops->write) {
        trace_ioport_unassigned_write(port, size, val);
        return;
    }
    trace_ioport_write(r->name, port, size, val);
    r->ops->write(r->opaque, port - r->base, val, size);
}
