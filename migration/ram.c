/*
 * The "ram" live section, source side: block list, dirty pages while
 * the guest runs, the rest once it is stopped, and the counters that
 * query-migrate reports.
 *
 * Pages are found through each block's dirty bitmap.  A page's bit is
 * cleared before the page is read, so a write that races with the copy
 * dirties it again and the page goes out once more in a later pass.
 * The walk resumes where the previous call stopped, so a rate-limited
 * migration still makes progress through the whole of RAM.
 *
 * Threads: setup, pending_exact (it syncs the accelerator's dirty log),
 * complete and cleanup run with the BQL held; iterate runs without it
 * (the bitmaps are atomic and blocks are never removed while the
 * machine lives).  The counters have a single writer (the migration
 * thread) and are read from the monitor, hence the relaxed atomics.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "migration/options.h"
#include "migration/register.h"
#include "ram-internal.h"
#include "system/cpus.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/buffer-is-zero.h"
#include "util/main-loop.h"

/* An iteration gives the migration thread back after this long. */
#define RAM_ITERATE_MAX_NS      (50 * SCALE_MS)
/* ... checked every this many pages (the clock is not free). */
#define RAM_ITERATE_CHECK_PAGES 64
/* Dirty pages claimed and sent together (one look for holes). */
#define RAM_SAVE_RUN_PAGES      64
/* Rates and auto-converge are computed over periods at least this long. */
#define RAM_RATE_PERIOD_MS      1000
/* Dirtied bytes above this share of the sent bytes mean "not converging". */
#define RAM_THROTTLE_THRESHOLD  50

/*
 * The migration thread's: setup, iterate, pending_exact, complete and
 * cleanup run in it one at a time (some with the BQL, see above), so
 * none of the members needs a lock (ram_stats_reset() clears one from
 * the monitor before the thread starts).  active alone is also read by
 * the monitor (ram_bytes_remaining()), hence its atomic accesses.
 */
typedef struct RAMSaveState {
    bool active;                /* between setup and cleanup */
    RAMBlock *last_sent_block;  /* block of the previous page record */
    RAMBlock *cursor_block;     /* where the dirty-page walk goes on */
    uint64_t cursor_page;
    /*
     * For counting the pages dirtied between two syncs: dirty pages
     * right after the last sync, and pages sent (bits cleared) since.
     */
    uint64_t dirty_after_sync;
    uint64_t sent_since_sync;
    /* The current rate period. */
    int64_t period_start_ms;
    uint64_t period_dirty_pages;
    uint64_t period_start_bytes;
    uint64_t period_start_pages;
    /* Periods in a row in which the guest outran the migration. */
    unsigned dirty_rate_high_cnt;
    /* While set, iterations send this snapshot, not the dirty pages. */
    RAMSnapshot *sending;
} RAMSaveState;

static RAMSaveState ram_save_state;
/* Relaxed atomics: one writer (the migration thread), any reader. */
static RAMStats ram_stats;

static void stat_add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void stat_set(uint64_t *counter, uint64_t v)
{
    __atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

static uint64_t stat_get(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* ---- statistics ---- */

/*
 * Every byte of the section counts as precopy or as downtime, and
 * "transferred" is their sum, so that the three always add up (as in
 * QEMU, where one call counts a byte in both).
 */
static uint64_t ram_bytes_sent(void)
{
    return stat_get(&ram_stats.precopy_bytes) +
           stat_get(&ram_stats.downtime_bytes);
}

void ram_get_stats(RAMStats *out)
{
    out->precopy_bytes = stat_get(&ram_stats.precopy_bytes);
    out->downtime_bytes = stat_get(&ram_stats.downtime_bytes);
    out->transferred = out->precopy_bytes + out->downtime_bytes;
    out->remaining = ram_bytes_remaining();
    out->total = ram_total_size();
    out->duplicate = stat_get(&ram_stats.duplicate);
    out->normal = stat_get(&ram_stats.normal);
    out->normal_bytes = out->normal * TARGET_PAGE_SIZE;
    out->dirty_pages_rate = stat_get(&ram_stats.dirty_pages_rate);
    out->dirty_sync_count = stat_get(&ram_stats.dirty_sync_count);
    out->pages_per_second = stat_get(&ram_stats.pages_per_second);
    out->dirty_bytes_last_sync =
        stat_get(&ram_stats.dirty_bytes_last_sync);
}

void ram_stats_reset(void)
{
    uint64_t *counters = (uint64_t *)&ram_stats;

    for (size_t i = 0; i < sizeof(ram_stats) / sizeof(uint64_t); i++) {
        stat_set(&counters[i], 0);
    }
    ram_save_state.dirty_rate_high_cnt = 0;
}

uint64_t ram_get_total_transferred_pages(void)
{
    return stat_get(&ram_stats.duplicate) + stat_get(&ram_stats.normal);
}

uint64_t ram_bytes_remaining(void)
{
    if (!__atomic_load_n(&ram_save_state.active, __ATOMIC_ACQUIRE)) {
        return stat_get(&ram_stats.remaining);
    }
    return ram_dirty_count() * TARGET_PAGE_SIZE;
}

/*
 * What @f carried since @start goes to the section's byte counters: as
 * in QEMU, bytes sent while the guest runs are "precopy", the others
 * (final pass, or a migration of a paused guest) "downtime".  The run
 * state is read without the BQL; a change racing with it only moves
 * one batch of bytes between the two counters.
 */
static void ram_account_bytes(QEMUFile *f, uint64_t start)
{
    uint64_t bytes = qemu_file_transferred(f) - start;

    stat_add(runstate_is_running() ? &ram_stats.precopy_bytes
                                   : &ram_stats.downtime_bytes, bytes);
}

/* ---- auto-converge ---- */

void ram_auto_converge_check(uint64_t bytes_xfer_period,
                             uint64_t bytes_dirty_period)
{
    RAMSaveState *rs = &ram_save_state;
    uint64_t threshold = bytes_xfer_period * RAM_THROTTLE_THRESHOLD / 100;
    int pct = cpu_throttle_get_percentage();

    if (bytes_dirty_period <= threshold) {
        rs->dirty_rate_high_cnt = 0;
    } else if (++rs->dirty_rate_high_cnt >= 2) {
        rs->dirty_rate_high_cnt = 0;
        if (!cpu_throttle_active()) {
            pct = migrate_cpu_throttle_initial();
        } else {
            pct = MIN(pct + migrate_cpu_throttle_increment(),
                      CPU_THROTTLE_PCT_MAX);
        }
        cpu_throttle_set(pct);
        pct = cpu_throttle_get_percentage();
    }
    trace_ram_auto_converge(bytes_xfer_period, bytes_dirty_period,
                            rs->dirty_rate_high_cnt, pct);
}

/*
 * Close the rate period once it is long enough (or at the end of the
 * migration, @final, for the pages-per-second figure only).
 */
static void ram_rate_period_update(RAMSaveState *rs, bool final)
{
    int64_t now = clock_get_ms(CLOCK_TYPE_REALTIME);
    int64_t elapsed = now - rs->period_start_ms;
    uint64_t bytes, pages;

    if (elapsed < RAM_RATE_PERIOD_MS && !(final && elapsed > 0)) {
        return;
    }
    bytes = ram_bytes_sent() - rs->period_start_bytes;
    pages = ram_get_total_transferred_pages() - rs->period_start_pages;
    stat_set(&ram_stats.pages_per_second, pages * 1000 / elapsed);
    if (!final) {
        stat_set(&ram_stats.dirty_pages_rate,
                 rs->period_dirty_pages * 1000 / elapsed);
        if (migrate_auto_converge()) {
            ram_auto_converge_check(bytes, rs->period_dirty_pages *
                                    TARGET_PAGE_SIZE);
        }
    }
    trace_ram_rate_period(elapsed, stat_get(&ram_stats.dirty_pages_rate),
                          stat_get(&ram_stats.pages_per_second));
    rs->period_start_ms = now;
    rs->period_dirty_pages = 0;
    rs->period_start_bytes = ram_bytes_sent();
    rs->period_start_pages = ram_get_total_transferred_pages();
}

/* ---- dirty pages ---- */

/*
 * Fold the accelerator's log into the bitmaps and count what is new.
 * Pages written by software go to the bitmaps directly; those sent
 * before this sync are missed by the count, so the rate is a lower
 * bound (exact for guest writes, which only arrive here).  BQL.
 */
static void ram_sync_dirty_log(RAMSaveState *rs)
{
    uint64_t dirty, expected, fresh;

    ram_dirty_log_sync();
    dirty = ram_dirty_count();
    expected = rs->dirty_after_sync > rs->sent_since_sync ?
               rs->dirty_after_sync - rs->sent_since_sync : 0;
    fresh = dirty > expected ? dirty - expected : 0;
    rs->period_dirty_pages += fresh;
    rs->dirty_after_sync = dirty;
    rs->sent_since_sync = 0;
    stat_add(&ram_stats.dirty_sync_count, 1);
    stat_set(&ram_stats.remaining, dirty * TARGET_PAGE_SIZE);
    stat_set(&ram_stats.dirty_bytes_last_sync, dirty * TARGET_PAGE_SIZE);
    trace_ram_dirty_sync(stat_get(&ram_stats.dirty_sync_count), dirty, fresh);
}

/* First dirty page at or after (@block, @page), walking to the end. */
static bool ram_find_dirty_from(RAMBlock *block, uint64_t page,
                                RAMBlock **found, uint64_t *found_page)
{
    for (; block; block = ram_block_next(block), page = 0) {
        uint64_t next = ram_block_next_dirty(block, page);

        if (next < block->npages) {
            *found = block;
            *found_page = next;
            return true;
        }
    }
    return false;
}

static bool ram_find_dirty(RAMSaveState *rs, RAMBlock **found,
                           uint64_t *found_page)
{
    if (rs->cursor_block &&
        ram_find_dirty_from(rs->cursor_block, rs->cursor_page, found,
                            found_page)) {
        return true;
    }
    return ram_find_dirty_from(ram_block_first(), 0, found, found_page);
}

/* ---- records ---- */

static void ram_put_page_header(RAMSaveState *rs, QEMUFile *f,
                                RAMBlock *block, uint64_t offset,
                                unsigned int flags)
{
    if (block == rs->last_sent_block) {
        flags |= RAM_SAVE_FLAG_CONTINUE;
    }
    qemu_put_be64(f, offset | flags);
    if (!(flags & RAM_SAVE_FLAG_CONTINUE)) {
        qemu_put_counted_string(f, block->idstr);
        rs->last_sent_block = block;
    }
}

/*
 * Page @page of @block, whose content is at @host (guest RAM, or a copy
 * of it); @hole: known to be zero without looking.
 */
static void ram_save_page(RAMSaveState *rs, QEMUFile *f, RAMBlock *block,
                          uint64_t page, const uint8_t *host, bool hole)
{
    uint64_t offset = page << TARGET_PAGE_BITS;
    bool zero = hole || buffer_is_zero(host, TARGET_PAGE_SIZE);

    trace_ram_save_page(block->idstr, offset, zero);
    if (zero) {
        ram_put_page_header(rs, f, block, offset, RAM_SAVE_FLAG_ZERO);
        qemu_put_byte(f, 0);
        stat_add(&ram_stats.duplicate, 1);
    } else {
        ram_put_page_header(rs, f, block, offset, RAM_SAVE_FLAG_PAGE);
        /*
         * Not copied only into memory: a staged COLO checkpoint, whose
         * guest stays stopped until this pass ends with its flush.
         */
        qemu_put_buffer_async(f, host, TARGET_PAGE_SIZE);
        stat_add(&ram_stats.normal, 1);
    }
}

/*
 * Send the next run of dirty pages (at most RAM_SAVE_RUN_PAGES in a
 * row): their bits are all cleared first, then holes are looked up once
 * for the run.  Returns the number of pages sent, 0 when none is left.
 */
static uint64_t ram_save_next_dirty(RAMSaveState *rs, QEMUFile *f)
{
    RAMBlock *block;
    uint64_t page, n = 0, holes;

    while (ram_find_dirty(rs, &block, &page)) {
        while (n < RAM_SAVE_RUN_PAGES && page + n < block->npages &&
               ram_block_test_and_clear_dirty(block, page + n)) {
            n++;
        }
        rs->cursor_block = block;
        rs->cursor_page = page + MAX(n, 1);
        if (n) {
            break;
        }
    }
    if (!n) {
        return 0;
    }
    /*
     * Pages never written are zero without being read (reading would
     * map them).  Their bits were cleared above: a write from now on
     * maps the page and dirties it again.
     */
    holes = ram_block_hole_pages(block, page << TARGET_PAGE_BITS, n);
    for (uint64_t i = 0; i < n; i++) {
        /*
         * The zero check's first read of each page misses the cache and
         * the TLB; the hardware does not prefetch across pages.
         */
        if (i + 2 < n && i + 2 >= holes) {
            __builtin_prefetch(block->host +
                               ((page + i + 2) << TARGET_PAGE_BITS));
        }
        ram_save_page(rs, f, block, page + i,
                      block->host + ((page + i) << TARGET_PAGE_BITS),
                      i < holes);
    }
    rs->sent_since_sync += n;
    return n;
}

/* ---- snapshots (staged COLO checkpoints) ---- */

/*
 * A run of consecutive pages of one block taken by a snapshot: copied
 * to @data in the snapshot's area, or never written (@data is
 * RAM_SNAP_HOLE) and sent as zero pages without a copy.
 */
#define RAM_SNAP_HOLE UINT64_MAX

typedef struct RAMSnapRun {
    RAMBlock *block;
    uint64_t page;
    uint64_t npages;
    uint64_t data;
} RAMSnapRun;

struct RAMSnapshot {
    uint8_t *area;              /* capacity bytes, huge-page aligned */
    uint64_t capacity;
    uint64_t used;
    GArray *runs;               /* of RAMSnapRun */
    /* Sending: the next page is run @run, page @done of it. */
    guint run;
    uint64_t done;
};

RAMSnapshot *ram_snapshot_new(void)
{
    RAMSnapshot *snap = g_new0(RAMSnapshot, 1);

    snap->runs = g_array_new(false, false, sizeof(RAMSnapRun));
    return snap;
}

static void ram_snapshot_unmap(RAMSnapshot *snap)
{
    ram_anon_unmap(snap->area, snap->capacity);
    snap->area = NULL;
    snap->capacity = 0;
}

void ram_snapshot_free(RAMSnapshot *snap)
{
    if (!snap) {
        return;
    }
    ram_snapshot_unmap(snap);
    g_array_free(snap->runs, true);
    g_free(snap);
}

uint64_t ram_snapshot_capacity(const RAMSnapshot *snap)
{
    return snap->capacity;
}

void ram_snapshot_reserve(RAMSnapshot *snap, uint64_t bytes)
{
    uint64_t size = (bytes + RAM_HUGE_PAGE_SIZE - 1) &
                    ~(RAM_HUGE_PAGE_SIZE - 1);
    uint8_t *area;

    if (size <= snap->capacity) {
        return;
    }
    /* The contents need not survive: they are sent by then. */
    area = ram_anon_map(size, true);
    if (!area) {
        trace_ram_snapshot_reserve_failed(size);
        return;         /* the old area, if any, stays */
    }
    ram_snapshot_unmap(snap);
    /* Fault it in now, not in the pause that first uses it. */
    for (uint64_t off = 0; off < size; off += TARGET_PAGE_SIZE) {
        area[off] = 0;
    }
    snap->area = area;
    snap->capacity = size;
    trace_ram_snapshot_reserve(size);
}

static void ram_snapshot_add(RAMSnapshot *snap, RAMBlock *block,
                             uint64_t page, uint64_t npages, bool hole)
{
    RAMSnapRun run = { block, page, npages, RAM_SNAP_HOLE };

    if (!hole) {
        run.data = snap->used;
        memcpy(snap->area + snap->used,
               block->host + (page << TARGET_PAGE_BITS),
               npages << TARGET_PAGE_BITS);
        snap->used += npages << TARGET_PAGE_BITS;
    }
    g_array_append_val(snap->runs, run);
}

/* Claim the dirty run of @block from @page: its length (0: none there). */
static uint64_t ram_snapshot_claim_run(RAMBlock *block, uint64_t page)
{
    uint64_t n = 0;

    while (page + n < block->npages &&
           ram_block_test_and_clear_dirty(block, page + n)) {
        n++;
    }
    return n;
}

/*
 * Take the claimed run [@page, @page + @n) of @block: false when its
 * data does not fit, after marking what was not taken dirty again.
 */
static bool ram_snapshot_take_run(RAMSnapshot *snap, RAMBlock *block,
                                  uint64_t page, uint64_t n)
{
    /* Split into never-written and data parts, copied whole. */
    for (uint64_t done = 0; done < n;) {
        bool hole;
        uint64_t run = ram_block_run_pages(block,
                                           (page + done) << TARGET_PAGE_BITS,
                                           n - done, &hole);

        if (!run) {
            run = n - done;     /* cannot tell: copy */
            hole = false;
        }
        if (!hole && snap->used + (run << TARGET_PAGE_BITS) > snap->capacity) {
            ram_mark_dirty(block->gpa + ((page + done) << TARGET_PAGE_BITS),
                           (n - done) << TARGET_PAGE_BITS);
            ram_save_state.sent_since_sync -= n - done;
            return false;
        }
        ram_snapshot_add(snap, block, page + done, run, hole);
        done += run;
    }
    return true;
}

bool ram_snapshot_take(RAMSnapshot *snap)
{
    RAMSaveState *rs = &ram_save_state;
    uint64_t need = ram_dirty_count() << TARGET_PAGE_BITS;
    RAMBlock *block;

    g_array_set_size(snap->runs, 0);
    snap->used = 0;
    snap->run = 0;
    snap->done = 0;
    if (need > snap->capacity) {
        return false;
    }
    RAMBLOCK_FOREACH(block) {
        uint64_t page = ram_block_next_dirty(block, 0);

        while (page < block->npages) {
            uint64_t n = ram_snapshot_claim_run(block, page);

            rs->sent_since_sync += n;
            /*
             * Full only when something wrote guest RAM while the VM was
             * stopped, after the count above: those pages stay dirty
             * for the next checkpoint, like any write after the cut.
             */
            if (!ram_snapshot_take_run(snap, block, page, n)) {
                goto out;
            }
            /* A bit cleared under our feet (n == 0): look past it. */
            page = ram_block_next_dirty(block, page + MAX(n, 1));
        }
    }
out:
    trace_ram_snapshot_take(snap->runs->len, snap->used);
    return true;
}

void ram_snapshot_send_begin(RAMSnapshot *snap)
{
    snap->run = 0;
    snap->done = 0;
    ram_save_state.sending = snap;
}

void ram_snapshot_send_end(void)
{
    ram_save_state.sending = NULL;
}

/* The next pages of the snapshot being sent: how many (0: all sent). */
static uint64_t ram_save_next_snapshot(RAMSaveState *rs, QEMUFile *f)
{
    RAMSnapshot *snap = rs->sending;
    RAMSnapRun *run;
    uint64_t n;

    if (snap->run >= snap->runs->len) {
        return 0;
    }
    run = &g_array_index(snap->runs, RAMSnapRun, snap->run);
    n = MIN(run->npages - snap->done, RAM_SAVE_RUN_PAGES);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = snap->done + i;
        const uint8_t *src = run->data == RAM_SNAP_HOLE ? NULL :
            snap->area + run->data + (at << TARGET_PAGE_BITS);

        ram_save_page(rs, f, run->block, run->page + at, src, !src);
    }
    snap->done += n;
    if (snap->done == run->npages) {
        snap->run++;
        snap->done = 0;
    }
    return n;
}

static void ram_put_mem_size(QEMUFile *f)
{
    RAMBlock *block;

    qemu_put_be64(f, ram_total_size() | RAM_SAVE_FLAG_MEM_SIZE);
    RAMBLOCK_FOREACH(block) {
        qemu_put_counted_string(f, block->idstr);
        qemu_put_be64(f, block->size);
    }
}

/* ---- SaveVMHandlers ---- */

static bool ram_check_block_names(Error **errp)
{
    RAMBlock *block;

    RAMBLOCK_FOREACH(block) {
        if (strlen(block->idstr) > RAM_IDSTR_MAX) {
            error_setg(errp, "RAM block name '%s' is longer than %d bytes",
                       block->idstr, RAM_IDSTR_MAX);
            return false;
        }
    }
    return true;
}

static int ram_save_setup(QEMUFile *f, void *opaque, Error **errp)
{
    RAMSaveState *rs = opaque;
    uint64_t start = qemu_file_transferred(f);
    unsigned int nblocks = 0;
    RAMBlock *block;
    int ret;

    g_assert(bql_locked());
    if (!ram_check_block_names(errp) || !ram_dirty_log_start(errp)) {
        return -EINVAL;
    }
    *rs = (RAMSaveState) {
        .cursor_block = ram_block_first(),
        .period_start_ms = clock_get_ms(CLOCK_TYPE_REALTIME),
        .period_start_bytes = ram_bytes_sent(),
        .period_start_pages = ram_get_total_transferred_pages(),
    };
    /* Everything goes out at least once: the destination knows nothing. */
    RAMBLOCK_FOREACH(block) {
        ram_block_set_dirty_all(block);
        nblocks++;
    }
    rs->dirty_after_sync = ram_dirty_count();
    ram_sync_dirty_log(rs);
    __atomic_store_n(&rs->active, true, __ATOMIC_RELEASE);
    trace_ram_save_setup(ram_total_size(), nblocks);

    ram_put_mem_size(f);
    qemu_put_be64(f, RAM_SAVE_FLAG_EOS);
    qemu_fflush(f);
    ram_account_bytes(f, start);
    ret = qemu_file_get_error_obj(f, errp);
    return ret < 0 ? ret : 0;
}

static int ram_save_iterate(QEMUFile *f, void *opaque)
{
    RAMSaveState *rs = opaque;
    uint64_t start = qemu_file_transferred(f);
    int64_t t0 = clock_get_ns(CLOCK_TYPE_REALTIME);
    uint64_t pages = 0, checked = 0;
    bool done = false;
    int ret;

    while (!qemu_file_rate_limit(f)) {
        uint64_t n = rs->sending ? ram_save_next_snapshot(rs, f)
                                 : ram_save_next_dirty(rs, f);

        if (!n) {
            done = true;
            break;
        }
        if (qemu_file_get_error(f)) {
            break;
        }
        pages += n;
        if (pages - checked >= RAM_ITERATE_CHECK_PAGES) {
            checked = pages;
            if (clock_get_ns(CLOCK_TYPE_REALTIME) - t0 > RAM_ITERATE_MAX_NS) {
                break;
            }
        }
    }
    qemu_put_be64(f, RAM_SAVE_FLAG_EOS);
    qemu_fflush(f);
    ram_account_bytes(f, start);
    trace_ram_save_iterate(pages, done, qemu_file_transferred(f) - start);
    ret = qemu_file_get_error(f);
    if (ret < 0) {
        return ret;
    }
    return done ? 1 : 0;
}

static int ram_save_complete(QEMUFile *f, void *opaque)
{
    RAMSaveState *rs = opaque;
    uint64_t start = qemu_file_transferred(f);
    uint64_t pages = 0;

    g_assert(bql_locked());
    ram_sync_dirty_log(rs);
    while (!qemu_file_get_error(f)) {
        uint64_t n = ram_save_next_dirty(rs, f);

        if (!n) {
            break;
        }
        pages += n;
    }
    qemu_put_be64(f, RAM_SAVE_FLAG_EOS);
    qemu_fflush(f);
    /*
     * The destination's loader forgets the block when its load ends; a
     * COLO checkpoint that follows must name its first block again.
     */
    rs->last_sent_block = NULL;
    ram_account_bytes(f, start);
    ram_rate_period_update(rs, true);
    stat_set(&ram_stats.remaining, ram_dirty_count() * TARGET_PAGE_SIZE);
    trace_ram_save_complete(pages, qemu_file_transferred(f) - start);
    return qemu_file_get_error(f);
}

static void ram_save_pending(void *opaque, uint64_t *pending_bytes)
{
    *pending_bytes += ram_dirty_count() * TARGET_PAGE_SIZE;
}

static void ram_save_pending_exact(void *opaque, uint64_t *pending_bytes)
{
    RAMSaveState *rs = opaque;

    g_assert(bql_locked());
    if (rs->active) {
        ram_sync_dirty_log(rs);
        ram_rate_period_update(rs, false);
    }
    ram_save_pending(opaque, pending_bytes);
}

static void ram_save_cleanup(void *opaque)
{
    RAMSaveState *rs = opaque;

    g_assert(bql_locked());
    if (rs->active) {
        stat_set(&ram_stats.remaining, ram_dirty_count() * TARGET_PAGE_SIZE);
    }
    ram_dirty_log_stop();
    __atomic_store_n(&rs->active, false, __ATOMIC_RELEASE);
    rs->last_sent_block = NULL;
    rs->cursor_block = NULL;
    trace_ram_save_cleanup();
}

static const SaveVMHandlers savevm_ram_handlers = {
    .save_setup = ram_save_setup,
    .save_live_iterate = ram_save_iterate,
    .save_live_complete_precopy = ram_save_complete,
    .save_pending = ram_save_pending,
    .save_pending_exact = ram_save_pending_exact,
    .save_cleanup = ram_save_cleanup,
    .load_setup = ram_load_setup,
    .load_state = ram_load,
    .load_cleanup = ram_load_cleanup,
};

void ram_mig_init(void)
{
    register_savevm_live(RAM_SECTION_NAME, 0, RAM_SECTION_VERSION,
                         &savevm_ram_handlers, &ram_save_state);
}

void ram_mig_cleanup(void)
{
    unregister_savevm(RAM_SECTION_NAME, &ram_save_state);
}
