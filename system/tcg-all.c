/*
 * The TCG accelerator: guest code run by Unicorn 2 (QEMU's TCG as a
 * library), one engine per vCPU over the VM's RAM blocks.
 *
 * Engines take turns.  Unicorn translates a locked instruction into a
 * plain load and store, atomic only against its own engine (two engines
 * on two host threads lose increments of a shared counter), so the
 * engines of a VM never run at the same time: each vCPU keeps its own
 * thread and the pause protocol of cpus.c, but runs guest code only
 * while it holds the VM's turn, for one time slice at most (QEMU's TCG
 * before MTTCG: round-robin).  Turns go by ticket, first come first
 * served, so a vCPU spinning on a lock cannot starve the one holding
 * it.  Handing the turn over orders memory between engines too (a
 * mutex), so one vCPU sees every store of the previous slice.
 *
 * A ticker thread ends slices: when another vCPU waits for the turn and
 * the running engine's slice is over, it asks the engine to stop.  The
 * engine stops at the start of its next translation block, where a
 * block hook looks at the request (tcg-vcpu.c): Unicorn's own
 * uc_emu_stop() from another thread can land in the middle of a block,
 * after which Unicorn resumes at the block's start and runs the stores
 * before the stop a second time (measured: about one doubled locked
 * increment per stop).  A request made before the engine started is not
 * lost either: the first block sees it.
 *
 * Dirty logging: every engine has a memory-write hook, always on, that
 * marks the page of each guest store in a per-block log
 * (block->accel); dirty_log_sync moves the log into block->dirty.  The
 * hook runs before the store lands, so it marks the page of the
 * previous store (which has landed) when the guest moves to another
 * page, and the last one when the engine returns (tcg-vcpu.c): a page
 * is marked only after it changed, never before, so a sync cannot take
 * the mark and leave the write for later.  docs/vmm.md has the
 * measurements behind this choice.
 *
 * Lock order: the turn, then the BQL, then TCGState.lock.  The turn is
 * the one lock taken before the BQL (docs/devel/threads.md): a vCPU
 * waits for it without the BQL, and nobody waits for it holding the
 * BQL, so the vCPU holding the turn can always get the BQL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "tcg-int.h"
#include "system/ram.h"
#include "trace/trace.h"
#include "util/bitmap.h"
#include "util/bql.h"
#include "util/main-loop.h"
#include "util/thread.h"

/*
 * The slice of a vCPU while others wait for the turn (alone, a vCPU runs
 * on).  QEMU's round-robin TCG kicked every 100 ms, but QEMU also ends
 * a slice at PAUSE; Unicorn does not, so a vCPU spinning at a barrier
 * burns its whole slice.  Measured with the dirtier (docs/vmm.md): 1 ms
 * gives 4 vCPUs twice the passes of 2 ms and 5-8 times those of 10 ms,
 * and costs one vCPU nothing measurable.
 */
#define TCG_TIMESLICE_MS 1

/*
 * Created by tcg_init() and destroyed by tcg_cleanup(), main thread with
 * the BQL, before any vCPU thread starts and after all were joined.
 */
typedef struct TCGState {
    /*
     * Protects: the turn (next_ticket, now_serving), running,
     * run_start_ns, ticker_exit.  Taken last: with the turn and the BQL
     * held or not, never held while taking either.
     */
    Mutex lock;
    Cond turn_cond;         /* now_serving moved */
    Cond ticker_cond;       /* an engine started, someone waits, exit */
    uint64_t next_ticket;   /* protected by lock */
    uint64_t now_serving;   /* protected by lock */
    /* The engine in uc_emu_start, or NULL.  Protected by lock. */
    TCGX86Cpu *running;
    int64_t run_start_ns;   /* protected by lock */
    bool ticker_exit;       /* protected by lock */
    Thread ticker;          /* main thread only (init, cleanup) */
    bool ticker_started;    /* protected by the BQL */
    bool dirty_log;         /* protected by the BQL */
} TCGState;

static TCGState tcg_state;
static const AccelOps tcg_accel_ops;

bool tcg_enabled(void)
{
    return current_accel() == &tcg_accel_ops;
}

void tcg_turn_acquire(void)
{
    TCGState *s = &tcg_state;
    uint64_t ticket;

    g_assert(!bql_locked());
    mutex_lock(&s->lock);
    ticket = s->next_ticket++;
    if (s->now_serving != ticket) {
        /* Someone waits now: the running engine's slice is counted. */
        cond_signal(&s->ticker_cond);
    }
    while (s->now_serving != ticket) {
        cond_wait(&s->turn_cond, &s->lock);
    }
    mutex_unlock(&s->lock);
}

void tcg_turn_release(void)
{
    TCGState *s = &tcg_state;

    mutex_lock(&s->lock);
    s->now_serving++;
    cond_broadcast(&s->turn_cond);
    mutex_unlock(&s->lock);
}

void tcg_stop_engine(TCGX86Cpu *c)
{
    __atomic_store_n(&c->stop_requested, true, __ATOMIC_SEQ_CST);
}

void tcg_run_begin(TCGX86Cpu *c)
{
    TCGState *s = &tcg_state;

    mutex_lock(&s->lock);
    /*
     * Kicks that came before are answered: the caller looked at
     * cpu_can_run() under the BQL, after the kicker set its flag.
     */
    __atomic_store_n(&c->stop_requested, false, __ATOMIC_SEQ_CST);
    s->running = c;
    s->run_start_ns = clock_get_ns(CLOCK_TYPE_REALTIME);
    cond_signal(&s->ticker_cond);
    mutex_unlock(&s->lock);
}

void tcg_run_end(TCGX86Cpu *c)
{
    TCGState *s = &tcg_state;

    mutex_lock(&s->lock);
    s->running = NULL;
    mutex_unlock(&s->lock);
}

static void *tcg_ticker_thread(void *opaque)
{
    TCGState *s = opaque;

    mutex_lock(&s->lock);
    while (!s->ticker_exit) {
        int64_t left;

        /* Alone or idle, an engine runs on: slices are for sharing. */
        if (!s->running || s->next_ticket - s->now_serving <= 1 ||
            __atomic_load_n(&s->running->stop_requested, __ATOMIC_SEQ_CST)) {
            cond_wait(&s->ticker_cond, &s->lock);
            continue;
        }
        left = s->run_start_ns + (int64_t)TCG_TIMESLICE_MS * SCALE_MS -
               clock_get_ns(CLOCK_TYPE_REALTIME);
        if (left <= 0) {
            trace_tcg_timeslice_end(s->running->index);
            tcg_stop_engine(s->running);
            continue;
        }
        cond_timedwait(&s->ticker_cond, &s->lock,
                       (left + SCALE_MS - 1) / SCALE_MS);
    }
    mutex_unlock(&s->lock);
    return NULL;
}

/* Dirty logging. */

void tcg_dirty_log_mark(uint64_t first_page, uint64_t last_page)
{
    for (uint64_t page = first_page; page <= last_page; page++) {
        uint64_t gpa = page << TARGET_PAGE_BITS;
        RAMBlock *block = ram_block_from_gpa(gpa);
        unsigned long *log = block ? block->accel : NULL;
        uint64_t nr;

        if (!log) {
            continue;       /* not RAM (MMIO), or the machine is going */
        }
        nr = (gpa - block->gpa) >> TARGET_PAGE_BITS;
        /*
         * A locked RMW, also a full barrier: the store that dirtied the
         * page is visible before the mark is, so whoever takes the mark
         * sees the store.
         */
        __atomic_fetch_or(&log[nr / BITS_PER_LONG],
                          1UL << (nr % BITS_PER_LONG), __ATOMIC_SEQ_CST);
    }
}

/* Take the log of @block into @taken (may be NULL: discard it). */
static uint64_t tcg_dirty_log_take(RAMBlock *block, unsigned long *taken)
{
    unsigned long *log = block->accel;
    size_t nwords = BITS_TO_LONGS(block->npages);
    uint64_t count = 0;

    for (size_t i = 0; i < nwords; i++) {
        unsigned long bits = __atomic_exchange_n(&log[i], 0,
                                                 __ATOMIC_SEQ_CST);

        if (taken) {
            taken[i] = bits;
        }
        count += __builtin_popcountl(bits);
    }
    return count;
}

static bool tcg_dirty_log_start(Error **errp)
{
    RAMBlock *block;

    g_assert(bql_locked());
    /* Pages written before now are sent whole by the first pass. */
    RAMBLOCK_FOREACH(block) {
        tcg_dirty_log_take(block, NULL);
    }
    tcg_state.dirty_log = true;
    trace_tcg_dirty_log(true);
    return true;
}

static void tcg_dirty_log_stop(void)
{
    g_assert(bql_locked());
    tcg_state.dirty_log = false;
    trace_tcg_dirty_log(false);
}

static void tcg_dirty_log_sync(RAMBlock *block)
{
    g_autofree unsigned long *taken = NULL;
    uint64_t count;

    g_assert(bql_locked());
    if (!tcg_state.dirty_log || !block->accel) {
        return;
    }
    taken = bitmap_new(block->npages);
    count = tcg_dirty_log_take(block, taken);
    trace_tcg_dirty_log_sync(block->idstr, block->npages, count);
    ram_block_merge_dirty(block, taken);
}

/* The accelerator. */

static bool tcg_available(Error **errp)
{
    unsigned int major, minor;

    uc_version(&major, &minor);
    if (major < 2 || !uc_arch_supported(UC_ARCH_X86)) {
        error_setg(errp, "Unicorn %u.%u without x86 cannot run tcg (it "
                   "needs Unicorn 2 with x86)", major, minor);
        return false;
    }
    return true;
}

static bool tcg_init(MachineState *ms, Error **errp)
{
    TCGState *s = &tcg_state;
    RAMBlock *block;

    g_assert(bql_locked());
    RAMBLOCK_FOREACH(block) {
        block->accel = bitmap_new(block->npages);
        trace_tcg_map_ram(block->idstr, block->gpa, block->size);
    }
    memset(s, 0, sizeof(*s));
    mutex_init(&s->lock);
    cond_init(&s->turn_cond);
    cond_init(&s->ticker_cond);
    thread_create(&s->ticker, "TCG ticker", tcg_ticker_thread, s,
                  THREAD_JOINABLE);
    s->ticker_started = true;
    return true;
}

static void tcg_cleanup(void)
{
    TCGState *s = &tcg_state;
    RAMBlock *block;

    g_assert(bql_locked());
    if (s->ticker_started) {
        mutex_lock(&s->lock);
        s->ticker_exit = true;
        cond_signal(&s->ticker_cond);
        mutex_unlock(&s->lock);
        thread_join(&s->ticker);
        cond_destroy(&s->ticker_cond);
        cond_destroy(&s->turn_cond);
        mutex_destroy(&s->lock);
        s->ticker_started = false;
    }
    /* Every engine is gone: nothing marks the logs any more. */
    RAMBLOCK_FOREACH(block) {
        bitmap_free(block->accel);
        block->accel = NULL;
    }
}

static const AccelOps tcg_accel_ops = {
    .name = TCG_ACCEL_NAME,
    .available = tcg_available,
    .init = tcg_init,
    .cleanup = tcg_cleanup,
    .dirty_log_start = tcg_dirty_log_start,
    .dirty_log_stop = tcg_dirty_log_stop,
    .dirty_log_sync = tcg_dirty_log_sync,
    .vcpu_init = tcg_vcpu_init,
    .vcpu_kick = tcg_vcpu_kick,
    .vcpu_destroy = tcg_vcpu_destroy,
    .vcpu_get_state = tcg_vcpu_get_state,
    .vcpu_set_state = tcg_vcpu_set_state,
};

static void __attribute__((constructor)) tcg_accel_register(void)
{
    accel_register(&tcg_accel_ops);
}
