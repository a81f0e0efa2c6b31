/*
 * Guest RAM blocks and their dirty bitmaps.
 *
 * Each block is private anonymous memory that starts on a 2 MiB
 * boundary and asks for transparent huge pages, as QEMU's default
 * memory backend does.  Where the host grants them (its
 * transparent_hugepage setting is "madvise" or "always"), memory is
 * faulted in, cleared and mapped once per 2 MiB instead of once per
 * 4 KiB: on a host with shadow paging, writing 1 GiB of fresh memory
 * takes about 0.1 s that way against 3 s with small pages, and every
 * pass over guest RAM (a migration, a checkpoint) misses the TLB 512
 * times less.  The dirty bitmap collects software writes (ram_write,
 * devices) and what the accelerator's dirty log reports at each sync;
 * it stays one bit per 4 KiB page whatever the host maps.
 *
 * Which pages were never written is read from /proc/self/pagemap (see
 * ram_block_hole_pages()): migration skips them without reading them,
 * which would map them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
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

void *ram_anon_map(uint64_t size, bool huge)
{
    uint8_t *raw, *host;
    uint64_t head;

    if (!huge) {
        raw = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        return raw == MAP_FAILED ? NULL : raw;
    }
    /* Reserve a huge page more, to start on a huge page boundary. */
    raw = mmap(NULL, size + RAM_HUGE_PAGE_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        return NULL;
    }
    host = (uint8_t *)(((uintptr_t)raw + RAM_HUGE_PAGE_SIZE - 1) &
                       ~(uintptr_t)(RAM_HUGE_PAGE_SIZE - 1));
    head = host - raw;
    if (head) {
        munmap(raw, head);
    }
    munmap(host + size, RAM_HUGE_PAGE_SIZE - head);
    /* A hint: without huge pages everything works the same, slower. */
    madvise(host, size, MADV_HUGEPAGE);
    return host;
}

void ram_anon_unmap(void *host, uint64_t size)
{
    if (host) {
        /*
         * Drop the pages first: madvise() holds the address space's
         * lock shared, where munmap() of populated memory would hold it
         * exclusively for milliseconds and stall the page faults of
         * threads still running.
         */
        madvise(host, size, MADV_DONTNEED);
        munmap(host, size);
    }
}

static bool ram_block_map(RAMBlock *block, Error **errp)
{
    block->host = ram_anon_map(block->size, true);
    if (!block->host) {
        error_setg_errno(errp, errno, "Cannot map RAM block '%s' "
                         "(%" PRIu64 " bytes)", block->idstr, block->size);
        return false;
    }
    return true;
}

static void ram_block_free(RAMBlock *block)
{
    ram_anon_unmap(block->host, block->size);
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

/* ---- pages never written ---- */

/* /proc/self/pagemap: one le64 per virtual page. */
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)
/* Entries read at once. */
#define PAGEMAP_BATCH 4096

/* Opened once for the process; -1 when it cannot be read. */
static int ram_pagemap_fd(void)
{
    static gsize once;
    static int fd = -1;

    if (g_once_init_enter(&once)) {
        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        g_once_init_leave(&once, 1);
    }
    return fd;
}

uint64_t ram_block_run_pages(RAMBlock *block, uint64_t offset,
                             uint64_t max_pages, bool *hole)
{
    uint64_t entries[PAGEMAP_BATCH];
    uint64_t page = offset >> TARGET_PAGE_BITS;
    uint64_t vpage = ((uintptr_t)block->host >> TARGET_PAGE_BITS) + page;
    uint64_t run = 0, limit;
    size_t batch = 64;          /* grows: most runs are short */
    int fd = ram_pagemap_fd();

    *hole = false;
    if (fd < 0 || offset >= block->size || !max_pages) {
        return 0;
    }
    limit = MIN(max_pages, block->npages - page);
    while (run < limit) {
        size_t want = MIN(batch, limit - run);
        ssize_t got = pread(fd, entries, want * sizeof(entries[0]),
                            (vpage + run) * sizeof(entries[0]));

        if (got < (ssize_t)sizeof(entries[0])) {
            break;      /* cannot tell: what is known so far stands */
        }
        for (size_t i = 0; i < (size_t)got / sizeof(entries[0]); i++) {
            bool h = !(entries[i] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED));

            if (run == 0) {
                *hole = h;
            } else if (h != *hole) {
                return run;
            }
            run++;
        }
        batch = MIN(batch * 4, PAGEMAP_BATCH);
    }
    return run;
}

uint64_t ram_block_hole_pages(RAMBlock *block, uint64_t offset,
                              uint64_t max_pages)
{
    bool hole;
    uint64_t run = ram_block_run_pages(block, offset, max_pages, &hole);

    return hole ? run : 0;
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
