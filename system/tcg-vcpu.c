/*
 * TCG vCPUs: the thread that runs a vCPU's engine in turns with the
 * others (tcg-all.c), the hooks through which the guest reaches the
 * machine, and what ends a run.
 *
 * The thread holds the BQL except while the engine runs; hooks run in
 * the engine, on this thread, without the BQL, and take it for the
 * machine (port I/O).  A kick asks the engine to stop
 * (tcg_stop_engine), which a block hook does at the start of the next
 * translation block: the request outlives a run that has not begun, so
 * no kick is lost, and the thread looks at cpu_can_run() under the BQL
 * before each run, after kickers set their flag (stop, exit_request).
 *
 * What ends a run: the block hook, for the time slice or a kick
 * (nothing to do); HLT, which parks the vCPU until the next reset as
 * under KVM; an exception, an instruction Unicorn cannot run or an
 * access it cannot map, which stop the VM in internal-error and park
 * the vCPU.  Exceptions are never delivered through the guest's IDT:
 * with the boot protocol's empty IDT every one of them is a triple
 * fault under KVM too.
 *
 * Guest-physical addresses that are not RAM below 4 GiB read as all
 * ones and ignore writes, as under KVM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stdio.h>

#include <unicorn/x86.h>

#include "tcg-int.h"
#include "system/ioport.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/bql.h"

#define TCG_MMIO_END (4ULL << 30)

/*
 * Created by vcpu_init and freed by vcpu_destroy (main thread, BQL), the
 * thread not running yet or joined.
 */
typedef struct TCGVcpu {
    CPUState *cpu;          /* written once before the thread starts */
    TCGX86Cpu *x86;         /* the same */
    /*
     * The guest-physical pages of the last store, which the write hook
     * sees before the store lands: marked dirty once the guest stores
     * to another page or the engine returns.  vCPU thread only.
     */
    bool pending;
    uint64_t pending_first, pending_last;
    /* The vector of the exception that ended the run, or -1: vCPU
     * thread only, as is hook_stopped. */
    int exception;
    bool hook_stopped;      /* the block hook stopped this run */
} TCGVcpu;

static void G_GNUC_PRINTF(2, 3)
tcg_vcpu_fail(CPUState *cpu, const char *fmt, ...)
{
    TCGVcpu *tv = cpu->accel;
    g_autofree char *msg = NULL;
    uint64_t rip = 0, rsp = 0;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_tcg_vcpu_failed(cpu->index, msg);
    cpu->halted = true;
    if (tv->x86->uc) {
        tcg_x86_cpu_pc_sp(tv->x86, &rip, &rsp);
    }
    vm_internal_error(cpu, "TCG: %s (RIP=0x%llx RSP=0x%llx)", msg,
                      (unsigned long long)rip, (unsigned long long)rsp);
}

/* Hooks: engine thread, BQL not held. */

static uint32_t tcg_hook_in(uc_engine *uc, uint32_t port, int size,
                            void *opaque)
{
    TCGVcpu *tv = opaque;
    uint64_t val;

    bql_lock();
    val = ioport_read(port, size);
    bql_unlock();
    trace_tcg_io(tv->cpu->index, port, false, size, val);
    return val;
}

static void tcg_hook_out(uc_engine *uc, uint32_t port, int size,
                         uint32_t value, void *opaque)
{
    TCGVcpu *tv = opaque;

    trace_tcg_io(tv->cpu->index, port, true, size, value);
    bql_lock();
    ioport_write(port, value, size);
    bql_unlock();
}

static void tcg_vcpu_flush_pending(TCGVcpu *tv)
{
    if (tv->pending) {
        tcg_dirty_log_mark(tv->pending_first, tv->pending_last);
        tv->pending = false;
    }
}

static void tcg_hook_write(uc_engine *uc, uc_mem_type type,
                           uint64_t addr, int size, int64_t value,
                           void *opaque)
{
    TCGVcpu *tv = opaque;
    uint64_t first = addr >> TARGET_PAGE_BITS;
    uint64_t last = (addr + (size > 0 ? size - 1 : 0)) >> TARGET_PAGE_BITS;

    if (tv->pending) {
        if (first == tv->pending_first && last == tv->pending_last) {
            return;
        }
        tcg_dirty_log_mark(tv->pending_first, tv->pending_last);
    }
    tv->pending = true;
    tv->pending_first = first;
    tv->pending_last = MAX(first, last);
}

/* The only place an engine is stopped for a slice or a kick. */
static void tcg_hook_block(uc_engine *uc, uint64_t addr, uint32_t size,
                           void *opaque)
{
    TCGVcpu *tv = opaque;

    if (__atomic_load_n(&tv->x86->stop_requested, __ATOMIC_SEQ_CST)) {
        tv->hook_stopped = true;
        uc_emu_stop(uc);
    }
}

static void tcg_hook_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    TCGVcpu *tv = opaque;

    tv->exception = intno;
    uc_emu_stop(uc);
}

static uint64_t tcg_mmio_read(uc_engine *uc, uint64_t offset,
                              unsigned size, void *opaque)
{
    trace_tcg_mmio((uintptr_t)opaque + offset, false, size);
    return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

static void tcg_mmio_write(uc_engine *uc, uint64_t offset, unsigned size,
                           uint64_t value, void *opaque)
{
    trace_tcg_mmio((uintptr_t)opaque + offset, true, size);
}

/* [start, end) below 4 GiB with no RAM reads as all ones. */
static bool tcg_map_mmio(uc_engine *uc, uint64_t start, uint64_t end,
                         Error **errp)
{
    uc_err err;

    if (start >= end) {
        return true;
    }
    err = uc_mmio_map(uc, start, end - start, tcg_mmio_read,
                      (void *)(uintptr_t)start, tcg_mmio_write,
                      (void *)(uintptr_t)start);
    if (err) {
        error_setg(errp, "cannot map [0x%llx, 0x%llx) as MMIO: %s",
                   (unsigned long long)start, (unsigned long long)end,
                   uc_strerror(err));
        return false;
    }
    return true;
}

/* Installed on every engine the vCPU opens (tcg-x86.c). */
static bool tcg_vcpu_engine_setup(void *opaque_uc, void *opaque,
                                  Error **errp)
{
    uc_engine *uc = opaque_uc;
    TCGVcpu *tv = opaque;
    uint64_t hole = 0;
    RAMBlock *block;
    uc_hook h;
    uc_err err;

    err = uc_hook_add(uc, &h, UC_HOOK_INSN, tcg_hook_in, tv, 1, 0,
                      UC_X86_INS_IN);
    if (!err) {
        err = uc_hook_add(uc, &h, UC_HOOK_INSN, tcg_hook_out, tv, 1, 0,
                          UC_X86_INS_OUT);
    }
    if (!err) {
        err = uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, tcg_hook_write, tv, 1,
                          0);
    }
    if (!err) {
        err = uc_hook_add(uc, &h, UC_HOOK_BLOCK, tcg_hook_block, tv, 1, 0);
    }
    if (!err) {
        err = uc_hook_add(uc, &h, UC_HOOK_INTR, tcg_hook_intr, tv, 1, 0);
    }
    if (err) {
        error_setg(errp, "cannot install the engine's hooks: %s",
                   uc_strerror(err));
        return false;
    }
    RAMBLOCK_FOREACH(block) {
        if (!tcg_map_mmio(uc, hole, MIN(block->gpa, TCG_MMIO_END), errp)) {
            return false;
        }
        hole = MAX(hole, block->gpa + block->size);
    }
    tv->pending = false;
    return tcg_map_mmio(uc, hole, TCG_MMIO_END, errp);
}

/* vCPU thread, BQL held, after uc_emu_start() returned. */
static void tcg_vcpu_handle_stop(CPUState *cpu, uc_err err)
{
    TCGVcpu *tv = cpu->accel;
    uint64_t rip, rsp;

    switch (err) {
    case UC_ERR_OK:
        break;
    case UC_ERR_INSN_INVALID:
        tcg_vcpu_fail(cpu, "invalid opcode (#UD): exceptions are not "
                      "delivered to the guest under tcg, so this is a "
                      "triple fault; stopping the VM instead of resetting "
                      "it");
        return;
    default:
        tcg_vcpu_fail(cpu, "Unicorn stopped: %s; stopping the VM",
                      uc_strerror(err));
        return;
    }
    if (tv->exception >= 0) {
        tcg_vcpu_fail(cpu, "exception %d: exceptions are not delivered to "
                      "the guest under tcg, so this is a triple fault; "
                      "stopping the VM instead of resetting it",
                      tv->exception);
        return;
    }
    if (tv->hook_stopped) {
        return;
    }
    /*
     * Unicorn ends a run on HLT without saying so; nothing else ends one
     * without an error when the hooks did not.
     */
    tcg_x86_cpu_pc_sp(tv->x86, &rip, &rsp);
    if (!tcg_x86_cpu_after_hlt(tv->x86)) {
        tcg_vcpu_fail(cpu, "Unicorn stopped for no known reason");
        return;
    }
    trace_tcg_vcpu_halted(cpu->index, rip);
    cpu->halted = true;
}

/* vCPU thread, BQL and the turn held. */
static void tcg_vcpu_run_once(CPUState *cpu)
{
    TCGVcpu *tv = cpu->accel;
    TCGX86Cpu *c = tv->x86;
    uint64_t pc;
    uc_err err;

    g_assert(bql_locked());
    if (!c->uc) {
        tcg_vcpu_fail(cpu, "no runnable state was loaded");
        return;
    }
    pc = tcg_x86_cpu_resume_pc(c);
    tv->exception = -1;
    tv->hook_stopped = false;
    c->ran = true;
    tcg_run_begin(c);
    bql_unlock();
    err = uc_emu_start(c->uc, pc, 0, 0, 0);
    tcg_vcpu_flush_pending(tv);
    bql_lock();
    tcg_run_end(c);
    trace_tcg_vcpu_run(cpu->index, pc, err, tv->hook_stopped);
    tcg_vcpu_handle_stop(cpu, err);
}

/*
 * Wait for the turn without the BQL: the vCPU holding it may need the
 * BQL to finish its slice.
 */
static void tcg_vcpu_run_turn(CPUState *cpu)
{
    g_assert(bql_locked());
    bql_unlock();
    tcg_turn_acquire();
    bql_lock();
    if (cpu_can_run(cpu)) {
        tcg_vcpu_run_once(cpu);
    }
    tcg_turn_release();
}

static void *tcg_vcpu_thread(void *opaque)
{
    CPUState *cpu = opaque;

    trace_tcg_vcpu_thread_start(cpu->index);
    bql_lock();
    while (!cpu->exit_request) {
        if (cpu_can_run(cpu)) {
            tcg_vcpu_run_turn(cpu);
        }
        /* Auto-converge: the throttle's sleep, outside the turn. */
        cpu_throttle_vcpu_sleep(cpu);
        cpu_wait_io_event(cpu);
    }
    bql_unlock();
    trace_tcg_vcpu_thread_exit(cpu->index);
    return NULL;
}

bool tcg_vcpu_init(CPUState *cpu, Error **errp)
{
    TCGVcpu *tv = g_new0(TCGVcpu, 1);
    char name[THREAD_NAME_MAX + 1];

    g_assert(bql_locked());
    tv->cpu = cpu;
    tv->exception = -1;
    tv->x86 = tcg_x86_cpu_new(cpu->index, tcg_vcpu_engine_setup, tv);
    cpu->accel = tv;
    trace_tcg_vcpu_init(cpu->index);
    snprintf(name, sizeof(name), "CPU %d/TCG", cpu->index);
    thread_create(&cpu->thread, name, tcg_vcpu_thread, cpu,
                  THREAD_JOINABLE);
    cpu->thread_started = true;
    return true;
}

void tcg_vcpu_kick(CPUState *cpu)
{
    TCGVcpu *tv = cpu->accel;

    g_assert(bql_locked());
    if (!tv || !cpu->thread_started) {
        return;
    }
    trace_tcg_vcpu_kick(cpu->index);
    tcg_stop_engine(tv->x86);
}

void tcg_vcpu_destroy(CPUState *cpu)
{
    TCGVcpu *tv = cpu->accel;

    if (tv) {
        tcg_x86_cpu_free(tv->x86);
        g_free(tv);
        cpu->accel = NULL;
    }
}

/* The engine is the vCPU thread's while it runs: refuse, as KVM does. */
static TCGVcpu *tcg_vcpu_for_state(CPUState *cpu, Error **errp)
{
    g_assert(bql_locked());
    if (!cpu->accel) {
        error_setg(errp, "CPU %d has no TCG vCPU", cpu->index);
        return NULL;
    }
    if (cpu->thread_started && !cpu->stopped && !cpu_is_self(cpu)) {
        error_setg(errp, "CPU %d is running; stop the VM first",
                   cpu->index);
        return NULL;
    }
    return cpu->accel;
}

bool tcg_vcpu_get_state(CPUState *cpu, X86VcpuState *s, Error **errp)
{
    TCGVcpu *tv = tcg_vcpu_for_state(cpu, errp);

    if (!tv || !tcg_x86_cpu_get_state(tv->x86, s, errp)) {
        return false;
    }
    /* As under KVM without an in-kernel LAPIC: parked means halted. */
    s->mp_state.mp_state = cpu->halted ? KVM_MP_STATE_HALTED
                                       : KVM_MP_STATE_RUNNABLE;
    return true;
}

bool tcg_vcpu_set_state(CPUState *cpu, const X86VcpuState *s, Error **errp)
{
    TCGVcpu *tv = tcg_vcpu_for_state(cpu, errp);

    if (!tv || !tcg_x86_cpu_set_state(tv->x86, s, errp)) {
        return false;
    }
    cpu->halted = s->mp_state.mp_state != KVM_MP_STATE_RUNNABLE;
    cond_broadcast(&cpu->halt_cond);
    return true;
}
