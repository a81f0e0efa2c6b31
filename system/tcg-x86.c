/*
 * x86 vCPU state on a Unicorn engine: loading an X86VcpuState (KVM's
 * structures) into an engine and reading it back, and running it.
 *
 * Every runnable state gets a fresh engine in the mode the state is in
 * (Unicorn fixes an engine's mode when it is opened): that also drops
 * stale translations, TLB entries and hidden state of the previous one.
 * The parts of the state are loaded and read by tcg-x86-regs.c and
 * tcg-x86-seg.c; what Unicorn does not keep is carried from the state
 * last loaded (include/system/tcg.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include <unicorn/x86.h>

#include "tcg-int.h"
#include "system/ram.h"
#include "system/x86-boot.h"
#include "trace/trace.h"

/* Which engine mode runs @s, and can Unicorn hold all of it? */
static bool tcg_x86_check(const X86VcpuState *s, uc_mode *mode,
                          Error **errp)
{
    const struct kvm_vcpu_events *ev = &s->events;

    if (ev->exception.injected || ev->exception.pending ||
        ev->interrupt.injected || ev->nmi.injected || ev->nmi.pending) {
        error_setg(errp, "the state has a pending event (exception %u, "
                   "interrupt %u, NMI %u), which tcg cannot deliver",
                   ev->exception.injected || ev->exception.pending ?
                   ev->exception.nr : 0,
                   ev->interrupt.injected ? ev->interrupt.nr : 0,
                   ev->nmi.injected || ev->nmi.pending);
        return false;
    }
    return tcg_x86_check_fpu(s, errp) &&
           tcg_x86_check_segments(s, mode, errp);
}

static bool tcg_x86_open(TCGX86Cpu *c, uc_mode mode, Error **errp)
{
    RAMBlock *block;
    uc_engine *uc;
    uc_err err;

    err = uc_open(UC_ARCH_X86, mode, &uc);
    if (err) {
        error_setg(errp, "cannot create a Unicorn engine: %s",
                   uc_strerror(err));
        return false;
    }
    /*
     * No exit address: uc_emu_start()'s @until would otherwise be looked
     * up in the guest's page tables, and a miss leaves it in CR2.
     */
    err = uc_ctl_exits_enable(uc);
    if (!err) {
        err = uc_ctl_set_exits(uc, NULL, 0);
    }
    if (err) {
        error_setg(errp, "cannot disable the engine's exit addresses: %s",
                   uc_strerror(err));
        uc_close(uc);
        return false;
    }
    RAMBLOCK_FOREACH(block) {
        err = uc_mem_map_ptr(uc, block->gpa, block->size, UC_PROT_ALL,
                             block->host);
        if (err) {
            error_setg(errp, "cannot map RAM block '%s' into the engine: "
                       "%s", block->idstr, uc_strerror(err));
            uc_close(uc);
            return false;
        }
    }
    if (c->setup && !c->setup(uc, c->opaque, errp)) {
        uc_close(uc);
        return false;
    }
    if (c->uc) {
        uc_close(c->uc);
    }
    c->uc = uc;
    c->mode = mode;
    return true;
}

TCGX86Cpu *tcg_x86_cpu_new(unsigned int index, TCGEngineSetup setup,
                           void *opaque)
{
    TCGX86Cpu *c = g_new0(TCGX86Cpu, 1);

    c->index = index;
    c->setup = setup;
    c->opaque = opaque;
    c->state.mp_state.mp_state = KVM_MP_STATE_UNINITIALIZED;
    return c;
}

void tcg_x86_cpu_free(TCGX86Cpu *c)
{
    if (c && c->uc) {
        uc_close(c->uc);
    }
    g_free(c);
}

bool tcg_x86_cpu_set_state(TCGX86Cpu *c, const X86VcpuState *s,
                           Error **errp)
{
    TCGRegIO io = { 0 };
    uc_mode mode;

    if (s->nmsrs > X86_VCPU_MAX_MSRS) {
        error_setg(errp, "%u MSRs, at most %d are supported", s->nmsrs,
                   X86_VCPU_MAX_MSRS);
        return false;
    }
    trace_tcg_vcpu_set_state(c->index, s->regs.rip, s->mp_state.mp_state);
    /*
     * Not runnable: nothing will run it before the next load, so it is
     * only kept (and may be one Unicorn could not hold, such as the
     * power-on state with CS.base 0xffff0000).
     */
    if (s->mp_state.mp_state != KVM_MP_STATE_RUNNABLE) {
        if (c->uc) {
            uc_close(c->uc);
            c->uc = NULL;
        }
        memcpy(&c->state, s, sizeof(*s));
        c->ran = false;
        return true;
    }
    if (!tcg_x86_check(s, &mode, errp) || !tcg_x86_open(c, mode, errp)) {
        return false;
    }
    io = (TCGRegIO) { .uc = c->uc, .mode = mode };
    tcg_x86_load_system(&io, &s->sregs);
    tcg_x86_load_segments(&io, &s->sregs);
    tcg_x86_load_regs(&io, &s->regs);
    tcg_x86_load_fpu(&io, s);
    tcg_x86_load_msrs(&io, s);
    if (!tcg_reg_io_check(&io, "load", errp)) {
        uc_close(c->uc);
        c->uc = NULL;
        return false;
    }
    memcpy(&c->state, s, sizeof(*s));
    c->ran = false;
    return true;
}

/* Refresh c->state from the engine. */
static bool tcg_x86_save(TCGX86Cpu *c, Error **errp)
{
    X86VcpuState *s = &c->state;
    TCGRegIO io = { .uc = c->uc, .mode = c->mode };

    tcg_x86_save_system(&io, &s->sregs);
    if (!io.err && c->mode != UC_MODE_64 && (s->sregs.efer & X86_EFER_LMA)) {
        error_setg(errp, "the guest entered long mode from a %d-bit start, "
                   "which tcg cannot save", c->mode == UC_MODE_16 ? 16 : 32);
        return false;
    }
    if (!tcg_x86_save_segments(&io, &s->sregs, errp)) {
        return false;
    }
    tcg_x86_save_regs(&io, &s->regs);
    tcg_x86_save_fpu(&io, s);
    tcg_x86_save_msrs(&io, s);
    if (!tcg_reg_io_check(&io, "read", errp)) {
        return false;
    }
    c->ran = false;
    return true;
}

bool tcg_x86_cpu_get_state(TCGX86Cpu *c, X86VcpuState *s, Error **errp)
{
    if (c->uc && c->ran && !tcg_x86_save(c, errp)) {
        return false;
    }
    memcpy(s, &c->state, sizeof(*s));
    s->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
    trace_tcg_vcpu_get_state(c->index, s->regs.rip);
    return true;
}

uint64_t tcg_x86_cpu_resume_pc(TCGX86Cpu *c)
{
    TCGRegIO io = { .uc = c->uc, .mode = c->mode };
    uint64_t pc;
    uint16_t cs = 0;

    pc = tcg_reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                                  : UC_X86_REG_EIP);
    /* A 16-bit engine takes CS.selector * 16 + IP, whatever the mode. */
    if (c->mode == UC_MODE_16) {
        tcg_reg_read(&io, UC_X86_REG_CS, &cs);
        pc += (uint64_t)cs << 4;
    }
    return pc;
}

void tcg_x86_cpu_pc_sp(TCGX86Cpu *c, uint64_t *rip, uint64_t *rsp)
{
    TCGRegIO io = { .uc = c->uc, .mode = c->mode };

    *rip = tcg_reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                                    : UC_X86_REG_EIP);
    *rsp = tcg_reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RSP
                                                    : UC_X86_REG_ESP);
}

bool tcg_x86_cpu_after_hlt(TCGX86Cpu *c)
{
    TCGRegIO io = { .uc = c->uc, .mode = c->mode };
    struct kvm_sregs sr = c->state.sregs;
    const uint8_t *p;
    uint64_t rip, linear;

    rip = tcg_reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                                       : UC_X86_REG_EIP);
    sr.cr0 = tcg_reg_read_word(&io, UC_X86_REG_CR0);
    if (io.err || !rip) {
        return false;
    }
    linear = tcg_x86_cs_base(&io, &sr) + rip - 1;
    p = ram_gpa_to_host(linear, 1);
    return p && *p == 0xf4;
}

bool tcg_x86_cpu_step(TCGX86Cpu *c, uint64_t count, Error **errp)
{
    uc_err err;

    if (!c->uc) {
        error_setg(errp, "vCPU %u has no runnable state", c->index);
        return false;
    }
    c->ran = true;
    err = uc_emu_start(c->uc, tcg_x86_cpu_resume_pc(c), 0, 0, count);
    if (err) {
        error_setg(errp, "vCPU %u: %s", c->index, uc_strerror(err));
        return false;
    }
    return true;
}
