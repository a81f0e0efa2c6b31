/*
 * COLO secondary: the RAM cache that holds the last checkpoint.
 *
 * Each RAM block gets a cache of the same size in private anonymous
 * memory, and a "received" bitmap.  A private mapping allocates a page
 * only when it is first written, and the cache keeps small pages (RAM
 * asks for huge ones): a 2 MiB page would be allocated whole for one
 * page of data in it.  Pages that are zero in RAM are not copied at all, so
 * the cache costs only what the guest really uses, while the address
 * space reserved is a full copy of guest RAM, as in QEMU.
 *
 * Two sets of pages differ between RAM and the cache at commit time:
 * the pages the checkpoint carried (received: the cache is newer) and
 * the pages the secondary's guest wrote since the last commit (the
 * block's dirty bitmap after a sync: RAM holds writes the primary's
 * state does not have).  Copying both sets from the cache makes RAM
 * equal to the checkpoint again; every other page already is.
 *
 * Lean mode (x-colo-lean) keeps no cache.  The primary sends the pages
 * of both sets (colo-dirty.h), and they are staged in arrival order in
 * a staging area: one page slot each, with the block and page it goes
 * to.  The commit copies the slots into RAM, in order (a page sent
 * twice takes its last content), but only once it has checked that
 * every page the secondary's guest dirtied is among them: otherwise RAM
 * would keep a write the primary's state does not have, and nothing is
 * applied.  The staging area reserves address space for every page of
 * RAM (no checkpoint can carry more: a stream that tries is refused),
 * and after each commit only the first COLO_LEAN_RETAIN_DIV-th of it
 * stays resident, so between checkpoints the secondary holds its
 * guest's RAM and little more, instead of a second copy of RAM.  The
 * area asks for transparent huge pages: where the host grants them,
 * faulting it in again costs a fault per 2 MiB rather than per page
 * (128 MiB: about 8 ms against 340 ms on a host with shadow paging).
 *
 * Ownership of the dirty log: while the cache is active, block->dirty
 * means "written by the secondary's guest since the last commit" and
 * only the commit clears it.  The secondary sends no RAM during COLO,
 * so the outgoing "ram" section, the other user of that bitmap, is not
 * running; dirty logging is started here only if nobody had started it,
 * and stopped again at free only in that case.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "migration/colo-ram.h"
#include "system/ram.h"
#include "trace/trace.h"
#include "util/bitmap.h"
#include "util/buffer-is-zero.h"

/*
 * Lean mode: after a commit the staging area keeps at most this share
 * of guest RAM resident (1/64), the rest is given back.
 */
#define COLO_LEAN_RETAIN_DIV 64
/* The staging area is trimmed in whole huge pages. */
#define COLO_HUGE_PAGE_PAGES (RAM_HUGE_PAGE_SIZE / TARGET_PAGE_SIZE)

typedef struct ColoRAMCache {
    RAMBlock *block;
    uint8_t *host;              /* block->size bytes, private anonymous;
                                   NULL in lean mode */
    unsigned long *received;    /* pages loaded since the last commit */
} ColoRAMCache;

/* Lean mode: where the page in staging slot i goes. */
typedef struct ColoStagedPage {
    uint32_t cache;             /* index into caches */
    uint64_t page;
} ColoStagedPage;

/*
 * caches, ncaches and started_dirty_log are written by init and free
 * (BQL held, no checkpoint loading); between the two they are read by
 * the thread that loads checkpoints (colo_ram_cache_host(), without the
 * BQL) and by the commit (BQL), which that same thread runs after the
 * load.  No lock is needed: nothing else touches them.
 */
typedef struct ColoRAMState {
    ColoRAMCache *caches;
    unsigned ncaches;
    unsigned last;              /* loading thread only: last lookup's hit */
    bool active;                /* atomic: read from any thread */
    bool started_dirty_log;     /* ours to stop */

    /*
     * Lean mode.  Written by the loading thread (colo_ram_cache_host())
     * and by the commit, which runs after the load on that same thread.
     */
    bool lean;
    uint8_t *staging;           /* staging_pages slots, private anonymous */
    uint64_t staging_pages;     /* every page of RAM */
    uint64_t staging_touched;   /* slots that may be resident */
    uint64_t nstaged;           /* slots used by the checkpoint loading */
    ColoStagedPage *staged;     /* nstaged entries */
    uint64_t staged_cap;
} ColoRAMState;

static ColoRAMState colo_ram;
/*
 * A cache detached from use, whose memory is yet to be unmapped: only
 * the thread that detached it touches it.
 */
static ColoRAMState colo_ram_detached;

bool colo_ram_cache_active(void)
{
    return __atomic_load_n(&colo_ram.active, __ATOMIC_ACQUIRE);
}

static void colo_ram_cache_release(ColoRAMCache *c)
{
    ram_anon_unmap(c->host, c->block->size);
    bitmap_free(c->received);
}

/* Copy one page unless it is zero: the cache's pages start zero. */
static void colo_ram_copy_page_in(ColoRAMCache *c, uint64_t offset)
{
    const uint8_t *src = c->block->host + offset;

    if (!buffer_is_zero(src, TARGET_PAGE_SIZE)) {
        memcpy(c->host + offset, src, TARGET_PAGE_SIZE);
    }
}

/*
 * Fill the cache from RAM.  Runs of pages never written are skipped
 * without being read: reading would map them, and they are zero, which
 * the cache already is.
 */
static void colo_ram_cache_fill(ColoRAMCache *c)
{
    RAMBlock *block = c->block;
    uint64_t pos = 0;

    while (pos < block->size) {
        bool hole;
        uint64_t run = ram_block_run_pages(block, pos, UINT64_MAX, &hole);

        if (!run) {
            run = (block->size - pos) >> TARGET_PAGE_BITS;  /* cannot tell */
        }
        for (uint64_t i = 0; !hole && i < run; i++) {
            colo_ram_copy_page_in(c, pos + (i << TARGET_PAGE_BITS));
        }
        pos += run << TARGET_PAGE_BITS;
    }
}

static bool colo_ram_cache_create(ColoRAMCache *c, RAMBlock *block,
                                  bool lean, Error **errp)
{
    c->block = block;
    c->received = bitmap_new(block->npages);
    if (lean) {
        return true;
    }
    c->host = ram_anon_map(block->size, false);
    if (!c->host) {
        error_setg_errno(errp, errno, "COLO: cannot allocate the RAM cache "
                         "of block '%s' (%" PRIu64 " bytes)", block->idstr,
                         block->size);
        return false;
    }
    colo_ram_cache_fill(c);
    return true;
}

/* Lean mode: address space for a checkpoint of every page there is. */
static bool colo_ram_staging_create(Error **errp)
{
    uint64_t pages = 0;

    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        pages += colo_ram.caches[i].block->npages;
    }
    colo_ram.staging = ram_anon_map(pages * TARGET_PAGE_SIZE, true);
    if (!colo_ram.staging) {
        error_setg_errno(errp, errno, "COLO: cannot reserve the staging "
                         "area (%" PRIu64 " bytes)",
                         pages * TARGET_PAGE_SIZE);
        return false;
    }
    colo_ram.staging_pages = pages;
    return true;
}

static unsigned colo_ram_block_count(void)
{
    RAMBlock *b;
    unsigned n = 0;

    RAMBLOCK_FOREACH(b) {
        n++;
    }
    return n;
}

/*
 * Start tracking the guest's writes from a clean slate: whatever the
 * bitmaps held before (boot, precopy) is in the cache already.
 */
static bool colo_ram_dirty_log_begin(Error **errp)
{
    RAMBlock *b;

    if (!ram_dirty_log_active()) {
        if (!ram_dirty_log_start(errp)) {
            error_prepend(errp, "COLO: cannot track the secondary's RAM: ");
            return false;
        }
        colo_ram.started_dirty_log = true;
    }
    ram_dirty_log_sync();
    RAMBLOCK_FOREACH(b) {
        ram_block_clear_dirty_all(b);
    }
    return true;
}

bool colo_ram_cache_init(bool lean, Error **errp)
{
    unsigned n = colo_ram_block_count();
    RAMBlock *b;
    unsigned i = 0;

    if (colo_ram.caches) {
        error_setg(errp, "COLO: the RAM cache already exists");
        return false;
    }
    if (!n) {
        error_setg(errp, "COLO: the machine has no RAM to cache");
        return false;
    }
    colo_ram.caches = g_new0(ColoRAMCache, n);
    colo_ram.ncaches = n;
    colo_ram.last = 0;
    /* The VM is stopped: no write can fall between sync and copy. */
    if (!colo_ram_dirty_log_begin(errp)) {
        colo_ram_cache_free();
        return false;
    }
    colo_ram.lean = lean;
    RAMBLOCK_FOREACH(b) {
        if (!colo_ram_cache_create(&colo_ram.caches[i++], b, lean, errp)) {
            colo_ram_cache_free();
            return false;
        }
    }
    if (lean && !colo_ram_staging_create(errp)) {
        colo_ram_cache_free();
        return false;
    }
    __atomic_store_n(&colo_ram.active, true, __ATOMIC_RELEASE);
    trace_colo_ram_cache_init(n, lean, colo_ram_cache_bytes());
    return true;
}

void colo_ram_cache_detach(void)
{
    if (!colo_ram.caches) {
        return;
    }
    /* Release a previous one first: at most one waits. */
    colo_ram_cache_release_detached();
    __atomic_store_n(&colo_ram.active, false, __ATOMIC_RELEASE);
    if (colo_ram.started_dirty_log) {
        ram_dirty_log_stop();
    }
    colo_ram_detached = colo_ram;
    colo_ram = (ColoRAMState) { 0 };
    trace_colo_ram_cache_detach(colo_ram_detached.ncaches);
}

void colo_ram_cache_release_detached(void)
{
    ColoRAMState *d = &colo_ram_detached;

    if (!d->caches) {
        return;
    }
    for (unsigned i = 0; i < d->ncaches; i++) {
        colo_ram_cache_release(&d->caches[i]);
    }
    ram_anon_unmap(d->staging, d->staging_pages * TARGET_PAGE_SIZE);
    g_free(d->staged);
    g_free(d->caches);
    colo_ram_detached = (ColoRAMState) { 0 };
    trace_colo_ram_cache_free();
}

void colo_ram_cache_free(void)
{
    colo_ram_cache_detach();
    colo_ram_cache_release_detached();
}

static ColoRAMCache *colo_ram_cache_find(RAMBlock *block)
{
    if (!block || !colo_ram.caches) {
        return NULL;
    }
    if (colo_ram.caches[colo_ram.last].block == block) {
        return &colo_ram.caches[colo_ram.last];
    }
    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        if (colo_ram.caches[i].block == block) {
            colo_ram.last = i;
            return &colo_ram.caches[i];
        }
    }
    return NULL;
}

bool colo_ram_cache_lean(void)
{
    return colo_ram_cache_active() && colo_ram.lean;
}

/* Lean mode: the next free slot of the staging area, for @page of @c. */
static void *colo_ram_stage(ColoRAMCache *c, uint64_t page)
{
    ColoRAMState *r = &colo_ram;
    uint64_t slot = r->nstaged;

    if (slot == r->staging_pages) {
        /* Only a stream that repeats pages gets here. */
        trace_colo_ram_staging_full(r->staging_pages);
        return NULL;
    }
    if (slot == r->staged_cap) {
        r->staged_cap = MIN(MAX(r->staged_cap * 2, 1024), r->staging_pages);
        r->staged = g_renew(ColoStagedPage, r->staged, r->staged_cap);
    }
    r->staged[slot] = (ColoStagedPage) { c - r->caches, page };
    r->nstaged++;
    r->staging_touched = MAX(r->staging_touched, r->nstaged);
    return r->staging + slot * TARGET_PAGE_SIZE;
}

void *colo_ram_cache_host(RAMBlock *block, uint64_t offset)
{
    ColoRAMCache *c = colo_ram_cache_active() ? colo_ram_cache_find(block)
                                              : NULL;
    uint64_t page = offset >> TARGET_PAGE_BITS;
    void *host;

    if (!c || offset >= block->size) {
        trace_colo_ram_cache_bad_page(block ? block->idstr : "(none)",
                                      offset);
        return NULL;
    }
    host = colo_ram.lean ? colo_ram_stage(c, page)
                         : c->host + (page << TARGET_PAGE_BITS);
    if (host) {
        set_bit(page, c->received);
    }
    return host;
}

/*
 * Copy back every page set in the block's dirty bitmap or in
 * @received, clearing both.  The dirty words are taken atomically:
 * the bitmap's other writers use atomics, even if none should run now.
 */
static void colo_ram_cache_commit_block(ColoRAMCache *c, uint64_t *dirty,
                                        uint64_t *received, uint64_t *copied)
{
    RAMBlock *block = c->block;
    size_t nwords = BITS_TO_LONGS(block->npages);

    for (size_t w = 0; w < nwords; w++) {
        unsigned long d = __atomic_exchange_n(&block->dirty[w], 0,
                                              __ATOMIC_RELAXED);
        unsigned long r = c->received[w];
        unsigned long bits = d | r;

        c->received[w] = 0;
        *dirty += __builtin_popcountl(d);
        *received += __builtin_popcountl(r);
        *copied += __builtin_popcountl(bits);
        while (bits) {
            uint64_t page = w * BITS_PER_LONG + __builtin_ctzl(bits);
            uint64_t offset = page << TARGET_PAGE_BITS;

            bits &= bits - 1;
            /* Bits past the block's end are never set; stay safe. */
            if (page < block->npages) {
                memcpy(block->host + offset, c->host + offset,
                       TARGET_PAGE_SIZE);
            }
        }
    }
}

/*
 * Lean mode: is every page the secondary's guest dirtied (the bitmaps
 * after a sync) in the checkpoint?  The dirty set sent to the primary
 * was taken with the VM stopped, so only a primary that left some out
 * (or a write after the report) makes this fail.
 */
static bool colo_ram_lean_check(Error **errp)
{
    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        ColoRAMCache *c = &colo_ram.caches[i];
        size_t nwords = BITS_TO_LONGS(c->block->npages);

        for (size_t w = 0; w < nwords; w++) {
            unsigned long missing =
                __atomic_load_n(&c->block->dirty[w], __ATOMIC_RELAXED) &
                ~c->received[w];

            if (missing) {
                error_setg(errp, "COLO: page %" PRIu64 " of RAM block '%s' "
                           "was written by this guest but is not in the "
                           "checkpoint",
                           (uint64_t)w * BITS_PER_LONG +
                           __builtin_ctzl(missing), c->block->idstr);
                return false;
            }
        }
    }
    return true;
}

/*
 * Lean mode: keep at most a share of RAM resident in the staging area,
 * in whole huge pages once the share is one or more.
 */
static void colo_ram_staging_trim(void)
{
    ColoRAMState *r = &colo_ram;
    uint64_t keep = r->staging_pages / COLO_LEAN_RETAIN_DIV;

    if (keep >= COLO_HUGE_PAGE_PAGES) {
        keep -= keep % COLO_HUGE_PAGE_PAGES;
    }

    if (r->staging_touched > keep) {
        madvise(r->staging + keep * TARGET_PAGE_SIZE,
                (r->staging_touched - keep) * TARGET_PAGE_SIZE,
                MADV_DONTNEED);
        r->staging_touched = keep;
    }
}

/* Lean mode: the staged pages into RAM, in the order they came. */
static void colo_ram_lean_apply(uint64_t *dirty, uint64_t *received)
{
    ColoRAMState *r = &colo_ram;

    for (uint64_t i = 0; i < r->nstaged; i++) {
        ColoRAMCache *c = &r->caches[r->staged[i].cache];

        memcpy(c->block->host + (r->staged[i].page << TARGET_PAGE_BITS),
               r->staging + i * TARGET_PAGE_SIZE, TARGET_PAGE_SIZE);
    }
    for (unsigned i = 0; i < r->ncaches; i++) {
        ColoRAMCache *c = &r->caches[i];
        size_t nwords = BITS_TO_LONGS(c->block->npages);

        for (size_t w = 0; w < nwords; w++) {
            *dirty += __builtin_popcountl(
                __atomic_exchange_n(&c->block->dirty[w], 0,
                                    __ATOMIC_RELAXED));
            *received += __builtin_popcountl(c->received[w]);
            c->received[w] = 0;
        }
    }
}

/* Lean mode: forget the checkpoint loading (or loaded but refused). */
static void colo_ram_lean_drop(void)
{
    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        bitmap_zero(colo_ram.caches[i].received,
                    colo_ram.caches[i].block->npages);
    }
    colo_ram.nstaged = 0;
    colo_ram_staging_trim();
}

bool colo_ram_cache_commit(Error **errp)
{
    uint64_t dirty = 0, received = 0, copied = 0;

    if (!colo_ram_cache_active()) {
        return true;
    }
    ram_dirty_log_sync();
    if (colo_ram.lean) {
        if (!colo_ram_lean_check(errp)) {
            colo_ram_lean_drop();
            return false;
        }
        copied = colo_ram.nstaged;
        colo_ram_lean_apply(&dirty, &received);
        colo_ram.nstaged = 0;
        colo_ram_staging_trim();
    } else {
        for (unsigned i = 0; i < colo_ram.ncaches; i++) {
            colo_ram_cache_commit_block(&colo_ram.caches[i], &dirty,
                                        &received, &copied);
        }
    }
    trace_colo_ram_cache_commit(dirty, received, copied);
    return true;
}

uint64_t colo_ram_cache_bytes(void)
{
    uint64_t bytes = 0;

    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        RAMBlock *block = colo_ram.caches[i].block;

        if (!block) {
            continue;
        }
        if (colo_ram.caches[i].host) {
            bytes += block->size;
        }
        bytes += BITS_TO_LONGS(block->npages) * sizeof(unsigned long);
    }
    bytes += colo_ram.staging_touched * TARGET_PAGE_SIZE;
    bytes += colo_ram.staged_cap * sizeof(ColoStagedPage);
    return bytes;
}
