/*
 * Dirty page tracking of guest RAM.
 *
 * Two sources feed each block's bitmap: software writes mark pages
 * directly (ram_mark_dirty), and the accelerator's dirty log, which only
 * reaches the bitmap when ram_dirty_log_sync() asks for it.  Consumers
 * (migration) test-and-clear bits atomically, so a page written while
 * it is being sent is either seen by this pass or left for the next.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "system/accel.h"
#include "system/ram.h"
#include "trace/trace.h"
#include "util/bitmap.h"

/* Protected by the BQL, as are start, stop and sync (see ram.h). */
static bool dirty_log_active;

bool ram_dirty_log_start(Error **errp)
{
    const AccelOps *ops = current_accel();

    if (dirty_log_active) {
        return true;
    }
    if (!ops) {
        error_setg(errp, "Dirty logging needs an accelerator");
        return false;
    }
    /* Without a hook only software writes are tracked (nothing else
     * writes guest memory). */
    if (ops->dirty_log_start && !ops->dirty_log_start(errp)) {
        return false;
    }
    dirty_log_active = true;
    trace_ram_dirty_log_start(ops->name);
    return true;
}

void ram_dirty_log_stop(void)
{
    const AccelOps *ops = current_accel();

    if (!dirty_log_active) {
        return;
    }
    if (ops && ops->dirty_log_stop) {
        ops->dirty_log_stop();
    }
    dirty_log_active = false;
    trace_ram_dirty_log_stop();
}

bool ram_dirty_log_active(void)
{
    return dirty_log_active;
}

void ram_dirty_log_sync(void)
{
    const AccelOps *ops = current_accel();
    RAMBlock *b;

    if (!dirty_log_active || !ops || !ops->dirty_log_sync) {
        return;
    }
    RAMBLOCK_FOREACH(b) {
        ops->dirty_log_sync(b);
    }
    trace_ram_dirty_log_sync(ram_dirty_count());
}

void ram_block_merge_dirty(RAMBlock *block, const unsigned long *bitmap)
{
    size_t nwords = BITS_TO_LONGS(block->npages);
    unsigned long tail = block->npages % BITS_PER_LONG;

    for (size_t i = 0; i < nwords; i++) {
        unsigned long bits = bitmap[i];

        /* Bits past the end of the block must stay clear. */
        if (i == nwords - 1 && tail) {
            bits &= (1UL << tail) - 1;
        }
        if (bits) {
            __atomic_fetch_or(&block->dirty[i], bits, __ATOMIC_RELAXED);
        }
    }
}

bool ram_block_test_dirty(RAMBlock *block, uint64_t page)
{
    if (page >= block->npages) {
        return false;
    }
    return test_bit(page, block->dirty);
}

bool ram_block_test_and_clear_dirty(RAMBlock *block, uint64_t page)
{
    if (page >= block->npages) {
        return false;
    }
    return test_and_clear_bit_atomic(page, block->dirty);
}

uint64_t ram_block_next_dirty(RAMBlock *block, uint64_t start_page)
{
    if (start_page >= block->npages) {
        return block->npages;
    }
    return find_next_bit(block->dirty, block->npages, start_page);
}

uint64_t ram_block_dirty_count(RAMBlock *block)
{
    return bitmap_count_one(block->dirty, block->npages);
}

uint64_t ram_dirty_count(void)
{
    RAMBlock *b;
    uint64_t count = 0;

    RAMBLOCK_FOREACH(b) {
        count += ram_block_dirty_count(b);
    }
    return count;
}

void ram_block_set_dirty_all(RAMBlock *block)
{
    bitmap_set_atomic(block->dirty, 0, block->npages);
}

void ram_block_clear_dirty_all(RAMBlock *block)
{
    bitmap_test_and_clear_atomic(block->dirty, 0, block->npages);
}
