/*
 * Guest RAM blocks and their dirty bitmaps.
 *
 * Each block is a memfd mapped MAP_SHARED, so the same pages can later
 * be handed to another process or mapped twice without copying.  The
 * dirty bitmap collects software writes (ram_write, devices) and what
 * the accelerator's dirty log reports at each sync.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "system/ram.h"
#include "trace/trace.h"
#include "util/bitmap.h"

/*
 * Changed with the BQL held, during machine creation and at exit only,
 * so any thread may walk the list without a lock while the machine
 * runs (see ram.h).
 */
typedef struct RAMState {
    RAMBlock *blocks;       /* sorted by gpa */
} RAMState;

static RAMState ram_state;

RAMBlock *ram_block_first(void)
{
    return ram_state.blocks;
}

RAMBlock *ram_block_next(RAMBlock *block)
{
    return block->next;
}

RAMBlock *ram_block_by_name(const char *idstr)
{
    RAMBlock *b;

    RAMBLOCK_FOREACH(b) {
        if (strcmp(b->idstr, idstr) == 0) {
            return b;
        }
    }
    return NULL;
}

uint64_t ram_total_size(void)
{
    RAMBlock *b;
    uint64_t total = 0;

    RAMBLOCK_FOREACH(b) {
        total += b->size;
    }
    return total;
}

static bool ram_block_check_new(const char *idstr, uint64_t gpa,
                                uint64_t size, Error **errp)
{
    RAMBlock *b;

    if (!size || (size & ~TARGET_PAGE_MASK) || (gpa & ~TARGET_PAGE_MASK)) {
        error_setg(errp, "RAM block '%s': address 0x%" PRIx64 " and size "
                   "0x%" PRIx64 " must be non-zero multiples of the page "
                   "size", idstr, gpa, size);
        return false;
    }
    if (gpa + size < gpa) {
        error_setg(errp, "RAM block '%s' wraps around the address space",
                   idstr);
        return false;
    }
    if (ram_block_by_name(idstr)) {
        error_setg(errp, "RAM block '%s' already exists", idstr);
        return false;
    }
    RAMBLOCK_FOREACH(b) {
        if (gpa < b->gpa + b->size && b->gpa < gpa + size) {
            error_setg(errp, "RAM block '%s' overlaps '%s'", idstr,
                       b->idstr);
            return false;
        }
    }
    return true;
}

static bool ram_block_map(RAMBlock *block, Error **errp)
{
    void *host;

    block->fd = memfd_create(block->idstr, MFD_CLOEXEC);
    if (block->fd < 0) {
        error_setg_errno(errp, errno, "memfd_create '%s'", block->idstr);
        return false;
    }
    if (ftruncate(block->fd, block->size) < 0) {
        error_setg_errno(errp, errno, "Cannot size RAM block '%s' to "
                         "%" PRIu64 " bytes", block->idstr, block->size);
        return false;
    }
    host = mmap(NULL, block->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                block->fd, 0);
    if (host == MAP_FAILED) {
        error_setg_errno(errp, errno, "Cannot map RAM block '%s'",
                         block->idstr);
        return false;
    }
    block->host = host;
    return true;
}

static void ram_block_free(RAMBlock *block)
{
    if (block->host) {
        munmap(block->host, block->size);
    }
    if (block->fd >= 0) {
        close(block->fd);
    }
    bitmap_free(block->dirty);
    g_free(block->idstr);
    g_free(block);
}

static void ram_block_insert(RAMBlock *block)
{
    RAMBlock **p = &ram_state.blocks;

    while (*p && (*p)->gpa < block->gpa) {
        p = &(*p)->next;
    }
    block->next = *p;
    *p = block;
}

RAMBlock *ram_block_add(const char *idstr, uint64_t gpa, uint64_t size,
                        Error **errp)
{
    RAMBlock *block;

    if (!ram_block_check_new(idstr, gpa, size, errp)) {
        return NULL;
    }
    block = g_new0(RAMBlock, 1);
    block->idstr = g_strdup(idstr);
    block->gpa = gpa;
    block->size = size;
    block->npages = size >> TARGET_PAGE_BITS;
    block->fd = -1;
    block->slot = -1;
    if (!ram_block_map(block, errp)) {
        ram_block_free(block);
        return NULL;
    }
    block->dirty = bitmap_new(block->npages);
    ram_block_insert(block);
    trace_ram_block_add(idstr, gpa, size);
    return block;
}

void ram_block_remove_all(void)
{
    while (ram_state.blocks) {
        RAMBlock *block = ram_state.blocks;

        ram_state.blocks = block->next;
        ram_block_free(block);
    }
}

RAMBlock *ram_block_from_gpa(uint64_t gpa)
{
    RAMBlock *b;

    RAMBLOCK_FOREACH(b) {
        if (gpa >= b->gpa && gpa - b->gpa < b->size) {
            return b;
        }
    }
    return NULL;
}

void *ram_gpa_to_host(uint64_t gpa, uint64_t len)
{
    RAMBlock *b = ram_block_from_gpa(gpa);

    if (!b || len > b->size - (gpa - b->gpa)) {
        return NULL;
    }
    return b->host + (gpa - b->gpa);
}

static void *ram_range_to_host(uint64_t gpa, uint64_t len, Error **errp)
{
    void *host = ram_gpa_to_host(gpa, len);

    if (!host) {
        error_setg(errp, "Guest memory [0x%" PRIx64 ", +0x%" PRIx64 ") is "
                   "not inside one RAM block", gpa, len);
    }
    return host;
}

bool ram_read(uint64_t gpa, void *buf, uint64_t len, Error **errp)
{
    void *host = ram_range_to_host(gpa, len, errp);

    if (!host) {
        return false;
    }
    memcpy(buf, host, len);
    return true;
}

bool ram_write(uint64_t gpa, const void *buf, uint64_t len, Error **errp)
{
    void *host = ram_range_to_host(gpa, len, errp);

    if (!host) {
        return false;
    }
    memcpy(host, buf, len);
    ram_mark_dirty(gpa, len);
    return true;
}

bool ram_memset(uint64_t gpa, int c, uint64_t len, Error **errp)
{
    void *host = ram_range_to_host(gpa, len, errp);

    if (!host) {
        return false;
    }
    memset(host, c, len);
    ram_mark_dirty(gpa, len);
    return true;
}

void ram_mark_dirty(uint64_t gpa, uint64_t len)
{
    RAMBlock *b;
    uint64_t end = gpa + len < gpa ? UINT64_MAX : gpa + len;

    if (!len) {
        return;
    }
    RAMBLOCK_FOREACH(b) {
        uint64_t lo = MAX(gpa, b->gpa);
        uint64_t hi = MIN(end, b->gpa + b->size);

        if (lo < hi) {
            uint64_t first = (lo - b->gpa) >> TARGET_PAGE_BITS;
            uint64_t last = (hi - 1 - b->gpa) >> TARGET_PAGE_BITS;

            bitmap_set_atomic(b->dirty, first, last - first + 1);
        }
    }
}
