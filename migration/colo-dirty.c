/*
 * COLO with a lean secondary: the secondary's dirty set on the wire
 * (format in include/migration/colo-dirty.h).
 *
 * Words go out as they are in the bitmaps: one be64 per 64 pages, only
 * the non-zero ones, so a set costs at most 12 bytes per 64 pages and
 * an idle guest's costs a few bytes per block.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "migration/colo-dirty.h"
#include "migration/ram.h"
#include "system/ram.h"
#include "trace/trace.h"
#include "util/bitmap.h"

/* The wire's words are the bitmaps' words. */
G_STATIC_ASSERT(sizeof(unsigned long) == sizeof(uint64_t));

typedef struct ColoDirtyBlock {
    RAMBlock *block;
    unsigned long *bits;
} ColoDirtyBlock;

struct ColoDirtySet {
    ColoDirtyBlock *blocks;
    unsigned nblocks;
};

ColoDirtySet *colo_dirty_set_new(void)
{
    ColoDirtySet *set = g_new0(ColoDirtySet, 1);
    RAMBlock *b;
    unsigned i = 0;

    RAMBLOCK_FOREACH(b) {
        set->nblocks++;
    }
    set->blocks = g_new0(ColoDirtyBlock, set->nblocks);
    RAMBLOCK_FOREACH(b) {
        set->blocks[i].block = b;
        set->blocks[i].bits = bitmap_new(b->npages);
        i++;
    }
    return set;
}

void colo_dirty_set_free(ColoDirtySet *set)
{
    if (!set) {
        return;
    }
    for (unsigned i = 0; i < set->nblocks; i++) {
        bitmap_free(set->blocks[i].bits);
    }
    g_free(set->blocks);
    g_free(set);
}

uint64_t colo_dirty_set_count(const ColoDirtySet *set)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < set->nblocks; i++) {
        n += bitmap_count_one(set->blocks[i].bits,
                              set->blocks[i].block->npages);
    }
    return n;
}

static uint32_t colo_dirty_words(RAMBlock *b)
{
    size_t nwords = BITS_TO_LONGS(b->npages);
    uint32_t n = 0;

    for (size_t w = 0; w < nwords; w++) {
        n += __atomic_load_n(&b->dirty[w], __ATOMIC_RELAXED) != 0;
    }
    return n;
}

void colo_dirty_set_put_ram(QEMUFile *f)
{
    uint32_t nblocks = 0;
    RAMBlock *b;

    RAMBLOCK_FOREACH(b) {
        nblocks++;
    }
    qemu_put_be32(f, nblocks);
    RAMBLOCK_FOREACH(b) {
        size_t nwords = BITS_TO_LONGS(b->npages);
        uint32_t count = colo_dirty_words(b);

        qemu_put_counted_string(f, b->idstr);
        qemu_put_be64(f, b->npages);
        qemu_put_be32(f, count);
        /* The VM is stopped: the words counted are the words sent. */
        for (size_t w = 0; w < nwords && count; w++) {
            unsigned long bits = __atomic_load_n(&b->dirty[w],
                                                 __ATOMIC_RELAXED);

            if (bits) {
                qemu_put_be32(f, w);
                qemu_put_be64(f, bits);
                count--;
            }
        }
        /* Should a word have cleared meanwhile, keep the count honest. */
        while (count--) {
            qemu_put_be32(f, 0);
            qemu_put_be64(f, 0);
        }
    }
}

void colo_dirty_set_put_empty(QEMUFile *f)
{
    qemu_put_be32(f, 0);
}

static ColoDirtyBlock *colo_dirty_set_find(ColoDirtySet *set, const char *id)
{
    for (unsigned i = 0; i < set->nblocks; i++) {
        if (!strcmp(set->blocks[i].block->idstr, id)) {
            return &set->blocks[i];
        }
    }
    return NULL;
}

static bool colo_dirty_stream_ok(QEMUFile *f, Error **errp)
{
    if (qemu_file_get_error_obj(f, errp)) {
        error_prepend(errp, "COLO: the secondary's dirty pages are cut "
                      "short: ");
        return false;
    }
    return true;
}

static bool colo_dirty_block_get(ColoDirtySet *set, QEMUFile *f,
                                 unsigned long *seen, Error **errp)
{
    char id[RAM_IDSTR_MAX + 1];
    ColoDirtyBlock *db;
    uint64_t npages, nwords;
    uint32_t count;
    int64_t last = -1;

    qemu_get_counted_string(f, id);
    npages = qemu_get_be64(f);
    count = qemu_get_be32(f);
    if (!colo_dirty_stream_ok(f, errp)) {
        return false;
    }
    db = colo_dirty_set_find(set, id);
    if (!db) {
        error_setg(errp, "COLO: the secondary reports dirty pages of an "
                   "unknown RAM block '%s'", id);
        return false;
    }
    if (test_and_set_bit(db - set->blocks, seen)) {
        error_setg(errp, "COLO: the secondary reports RAM block '%s' twice",
                   id);
        return false;
    }
    if (npages != db->block->npages) {
        error_setg(errp, "COLO: the secondary's RAM block '%s' has %" PRIu64
                   " pages, here it has %" PRIu64, id, npages,
                   db->block->npages);
        return false;
    }
    nwords = BITS_TO_LONGS(npages);
    if (count > nwords) {
        error_setg(errp, "COLO: %" PRIu32 " dirty words for RAM block '%s' "
                   "of %" PRIu64 " words", count, id, nwords);
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t w = qemu_get_be32(f);
        uint64_t bits = qemu_get_be64(f);
        unsigned tail = npages % BITS_PER_LONG;

        if (!colo_dirty_stream_ok(f, errp)) {
            return false;
        }
        if ((int64_t)w <= last || w >= nwords) {
            error_setg(errp, "COLO: dirty word %" PRIu32 " of RAM block '%s' "
                       "is out of order or past its end", w, id);
            return false;
        }
        if (w == nwords - 1 && tail && (bits >> tail)) {
            error_setg(errp, "COLO: dirty pages past the end of RAM block "
                       "'%s'", id);
            return false;
        }
        db->bits[w] |= bits;
        last = w;
    }
    return true;
}

bool colo_dirty_set_get(ColoDirtySet *set, QEMUFile *f, Error **errp)
{
    g_autofree unsigned long *seen = bitmap_new(set->nblocks);
    uint32_t nblocks = qemu_get_be32(f);

    if (!colo_dirty_stream_ok(f, errp)) {
        return false;
    }
    if (nblocks > set->nblocks) {
        error_setg(errp, "COLO: the secondary reports dirty pages of %" PRIu32
                   " RAM blocks, there are %u", nblocks, set->nblocks);
        return false;
    }
    for (uint32_t i = 0; i < nblocks; i++) {
        if (!colo_dirty_block_get(set, f, seen, errp)) {
            return false;
        }
    }
    trace_colo_dirty_set_get(nblocks, colo_dirty_set_count(set));
    return true;
}

uint64_t colo_dirty_set_merge(ColoDirtySet *set)
{
    uint64_t added = 0;

    for (unsigned i = 0; i < set->nblocks; i++) {
        RAMBlock *b = set->blocks[i].block;
        unsigned long *bits = set->blocks[i].bits;
        size_t nwords = BITS_TO_LONGS(b->npages);

        for (size_t w = 0; w < nwords; w++) {
            unsigned long old;

            if (!bits[w]) {
                continue;
            }
            old = __atomic_fetch_or(&b->dirty[w], bits[w], __ATOMIC_RELAXED);
            added += __builtin_popcountl(bits[w] & ~old);
            bits[w] = 0;
        }
    }
    return added;
}
