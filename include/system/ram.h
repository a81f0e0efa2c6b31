/*
 * Guest RAM: blocks of private anonymous memory (huge pages where the
 * host grants them) mapped at a guest-physical address, each with a
 * dirty bitmap of one bit per 4 KiB page.
 *
 * Blocks are added during machine creation (BQL) and removed only at
 * exit, so the list may be walked from any thread once the machine runs.
 * Dirty bits are set and cleared atomically: vCPU threads, the monitor
 * and the migration thread may touch the same bitmap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_RAM_H
#define SYSTEM_RAM_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

#define TARGET_PAGE_BITS 12
#define TARGET_PAGE_SIZE (1 << TARGET_PAGE_BITS)
#define TARGET_PAGE_MASK (~(uint64_t)(TARGET_PAGE_SIZE - 1))

typedef struct RAMBlock {
    char *idstr;
    uint64_t gpa;           /* guest-physical start, page aligned */
    uint64_t size;          /* bytes, page aligned */
    uint64_t npages;        /* size >> TARGET_PAGE_BITS */
    uint8_t *host;          /* private anonymous, 2 MiB aligned */
    unsigned long *dirty;   /* 1 bit per page, set atomically */
    int slot;               /* accelerator's slot number, -1 when none */
    void *accel;            /* accelerator's per-block data */
    struct RAMBlock *next;
} RAMBlock;

/*
 * Create a block of @size bytes (a non-zero multiple of the page size) at
 * guest-physical @gpa (page aligned), not overlapping another block.
 * Its memory is zero and its pages are clean.  BQL.
 */
RAMBlock *ram_block_add(const char *idstr, uint64_t gpa, uint64_t size,
                        Error **errp);
/*
 * How many pages from @offset (page aligned) of @block, up to
 * @max_pages, are known to be zero because they were never written
 * (nor read: a read maps the zero page, which counts as written here)
 * or were given back: 0 when the page at @offset may hold data, or
 * when the process cannot tell.  Knowing it costs no access to the
 * pages themselves, which would map them, but a look at 8 bytes of
 * /proc/self/pagemap per page: bound it by what the caller can use.
 * Any thread; the answer is stale as soon as a vCPU writes.
 */
uint64_t ram_block_hole_pages(RAMBlock *block, uint64_t offset,
                              uint64_t max_pages);
/*
 * The same for either kind: the length of the run of pages from @offset
 * (up to @max_pages) that are all holes (*@hole set) or all possibly
 * data; 0 when the process cannot tell (then *@hole is false).
 */
uint64_t ram_block_run_pages(RAMBlock *block, uint64_t offset,
                             uint64_t max_pages, bool *hole);

/* The size of a transparent huge page on x86-64. */
#define RAM_HUGE_PAGE_SIZE ((uint64_t)2 * 1024 * 1024)

/*
 * @size bytes of private anonymous memory, allocated as first written
 * (MAP_NORESERVE); with @huge, starting on a huge page boundary and
 * asking for transparent huge pages, as guest RAM does.  NULL, with
 * errno set, when it cannot be mapped.  ram_anon_unmap() gives it back
 * (NULL is allowed).
 */
void *ram_anon_map(uint64_t size, bool huge);
void ram_anon_unmap(void *host, uint64_t size);

/* Unmap and free every block.  Nothing may use guest memory any more. */
void ram_block_remove_all(void);
RAMBlock *ram_block_by_name(const char *idstr);
/* Blocks in order of increasing gpa. */
RAMBlock *ram_block_first(void);
RAMBlock *ram_block_next(RAMBlock *block);
#define RAMBLOCK_FOREACH(b) \
    for (b = ram_block_first(); b; b = ram_block_next(b))

uint64_t ram_total_size(void);

/* The block holding @gpa, or NULL. */
RAMBlock *ram_block_from_gpa(uint64_t gpa);
/* Host address of [gpa, gpa+len); NULL unless all of it is in one block. */
void *ram_gpa_to_host(uint64_t gpa, uint64_t len);

/*
 * Copy guest memory out or in.  The range must lie inside one block:
 * otherwise nothing is copied and the error names the range.
 * ram_write() and ram_memset() mark the written pages dirty.
 */
bool ram_read(uint64_t gpa, void *buf, uint64_t len, Error **errp);
bool ram_write(uint64_t gpa, const void *buf, uint64_t len, Error **errp);
bool ram_memset(uint64_t gpa, int c, uint64_t len, Error **errp);

/* Mark the pages touching [gpa, gpa+len) dirty; outside RAM is ignored.
 * Any thread. */
void ram_mark_dirty(uint64_t gpa, uint64_t len);

/*
 * Dirty logging by the accelerator, for writes made by the guest itself.
 * Start asks the accelerator to track writes (ops->dirty_log_start);
 * sync asks it to OR what it saw since the last sync into each block's
 * bitmap (ops->dirty_log_sync, which uses ram_block_merge_dirty()) and to
 * clear its own log.  BQL.
 */
bool ram_dirty_log_start(Error **errp);
void ram_dirty_log_stop(void);
bool ram_dirty_log_active(void);
void ram_dirty_log_sync(void);

/*
 * OR @bitmap (block->npages bits, in unsigned long words as KVM reports
 * them on a 64-bit host) into block->dirty, atomically.  Any thread.
 */
void ram_block_merge_dirty(RAMBlock *block, const unsigned long *bitmap);
/* @page is an index inside the block. */
bool ram_block_test_dirty(RAMBlock *block, uint64_t page);
bool ram_block_test_and_clear_dirty(RAMBlock *block, uint64_t page);
/* First dirty page at or after @start_page; >= block->npages when none. */
uint64_t ram_block_next_dirty(RAMBlock *block, uint64_t start_page);
uint64_t ram_block_dirty_count(RAMBlock *block);
/* Dirty pages of every block. */
uint64_t ram_dirty_count(void);
void ram_block_set_dirty_all(RAMBlock *block);
void ram_block_clear_dirty_all(RAMBlock *block);

#endif /* SYSTEM_RAM_H */
