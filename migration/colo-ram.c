/*
 * COLO secondary: the RAM cache that holds the last checkpoint.
 *
 * Each RAM block gets a cache of the same size in private anonymous
 * memory, and a "received" bitmap.  Anonymous memory rather than a
 * second memfd: nothing but this file ever maps the cache, so it needs
 * no file, and a private mapping allocates a page only when it is
 * first written.  Pages that are zero in RAM are not copied at all, so
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

typedef struct ColoRAMCache {
    RAMBlock *block;
    uint8_t *host;              /* block->size bytes, private anonymous */
    unsigned long *received;    /* pages loaded since the last commit */
} ColoRAMCache;

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
    if (c->host) {
        /*
         * Drop the pages first: madvise() holds the address space's
         * lock shared, where munmap() of populated memory would hold it
         * exclusively for milliseconds and stall the page faults of a
         * guest that runs again.
         */
        madvise(c->host, c->block->size, MADV_DONTNEED);
        munmap(c->host, c->block->size);
    }
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

static void colo_ram_copy_range_in(ColoRAMCache *c, uint64_t start,
                                   uint64_t end)
{
    for (uint64_t pos = start; pos < end; pos += TARGET_PAGE_SIZE) {
        colo_ram_copy_page_in(c, pos);
    }
}

/*
 * Fill the cache from RAM.  Only the data regions of the block's file
 * are looked at: reading a hole of a memfd would allocate it, and a
 * hole is zero, which the cache already is.
 */
static void colo_ram_cache_fill(ColoRAMCache *c)
{
    RAMBlock *block = c->block;
    uint64_t pos = 0;

    if (block->fd < 0) {
        colo_ram_copy_range_in(c, 0, block->size);
        return;
    }
    while (pos < block->size) {
        off_t data = lseek(block->fd, pos, SEEK_DATA);
        off_t hole;
        uint64_t start, end;

        if (data < 0 && errno == ENXIO) {
            return;                     /* only holes from here on */
        }
        if (data < 0) {
            colo_ram_copy_range_in(c, pos, block->size);  /* cannot tell */
            return;
        }
        hole = lseek(block->fd, data, SEEK_HOLE);
        start = MAX((uint64_t)data & TARGET_PAGE_MASK, pos);
        end = hole < 0 ? block->size : (uint64_t)hole;
        /* Whole pages, always forward, whatever the file system says. */
        end = (end + TARGET_PAGE_SIZE - 1) & TARGET_PAGE_MASK;
        end = MIN(MAX(end, start + TARGET_PAGE_SIZE), block->size);
        colo_ram_copy_range_in(c, start, end);
        pos = end;
    }
}

static bool colo_ram_cache_create(ColoRAMCache *c, RAMBlock *block,
                                  Error **errp)
{
    void *host;

    c->block = block;
    host = mmap(NULL, block->size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED) {
        error_setg_errno(errp, errno, "COLO: cannot allocate the RAM cache "
                         "of block '%s' (%" PRIu64 " bytes)", block->idstr,
                         block->size);
        return false;
    }
    c->host = host;
    c->received = bitmap_new(block->npages);
    colo_ram_cache_fill(c);
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

bool colo_ram_cache_init(Error **errp)
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
    RAMBLOCK_FOREACH(b) {
        if (!colo_ram_cache_create(&colo_ram.caches[i++], b, errp)) {
            colo_ram_cache_free();
            return false;
        }
    }
    __atomic_store_n(&colo_ram.active, true, __ATOMIC_RELEASE);
    trace_colo_ram_cache_init(n, colo_ram_cache_bytes());
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
    if (!colo_ram_detached.caches) {
        return;
    }
    for (unsigned i = 0; i < colo_ram_detached.ncaches; i++) {
        colo_ram_cache_release(&colo_ram_detached.caches[i]);
    }
    g_free(colo_ram_detached.caches);
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

void *colo_ram_cache_host(RAMBlock *block, uint64_t offset)
{
    ColoRAMCache *c = colo_ram_cache_active() ? colo_ram_cache_find(block)
                                              : NULL;

    if (!c || offset >= block->size) {
        trace_colo_ram_cache_bad_page(block ? block->idstr : "(none)",
                                      offset);
        return NULL;
    }
    offset &= TARGET_PAGE_MASK;
    set_bit(offset >> TARGET_PAGE_BITS, c->received);
    return c->host + offset;
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

void colo_ram_cache_commit(void)
{
    uint64_t dirty = 0, received = 0, copied = 0;

    if (!colo_ram_cache_active()) {
        return;
    }
    ram_dirty_log_sync();
    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        colo_ram_cache_commit_block(&colo_ram.caches[i], &dirty, &received,
                                    &copied);
    }
    trace_colo_ram_cache_commit(dirty, received, copied);
}

uint64_t colo_ram_cache_bytes(void)
{
    uint64_t bytes = 0;

    for (unsigned i = 0; i < colo_ram.ncaches; i++) {
        RAMBlock *block = colo_ram.caches[i].block;

        if (!colo_ram.caches[i].host) {
            continue;
        }
        bytes += block->size;
        bytes += BITS_TO_LONGS(block->npages) * sizeof(unsigned long);
    }
    return bytes;
}
