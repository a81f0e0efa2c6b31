/*
 * x86 registers of a Unicorn engine, but the segment registers
 * (tcg-x86-seg.c): general registers, control registers and descriptor
 * tables, x87 and SSE, MSRs, each loaded from and saved into KVM's
 * structures (X86VcpuState).
 *
 * Unicorn takes a register as wide as the engine's mode makes it (a
 * 32-bit value for CR0 in a 16 or 32-bit engine, 64-bit in a 64-bit
 * one); TCGRegIO picks the width and remembers the first refusal, so a
 * sequence is checked once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <string.h>

#include <unicorn/x86.h>

#include "tcg-int.h"
#include "system/x86-boot.h"

#define X86_MSR_EFER            0xc0000080

/* Legacy area of the XSAVE image (FXSAVE layout, 64-bit format). */
#define XSAVE_FCW               0
#define XSAVE_FSW               2
#define XSAVE_FTW               4
#define XSAVE_FOP               6
#define XSAVE_FIP               8
#define XSAVE_FDP               16
#define XSAVE_MXCSR             24
#define XSAVE_ST                32
#define XSAVE_XMM               160
#define XSAVE_XSTATE_BV         512
#define XSAVE_FP                0x1ULL
#define XSAVE_SSE               0x2ULL
#define FCW_INIT                0x37f
#define MXCSR_INIT              0x1f80

/* The MSRs Unicorn emulates (reads and writes); others are carried. */
static const uint32_t tcg_emulated_msrs[] = {
    X86_MSR_IA32_SYSENTER_CS, X86_MSR_IA32_SYSENTER_ESP,
    X86_MSR_IA32_SYSENTER_EIP, X86_MSR_IA32_MISC_ENABLE,
    X86_MSR_IA32_CR_PAT, X86_MSR_STAR, X86_MSR_LSTAR, X86_MSR_CSTAR,
    X86_MSR_SFMASK, X86_MSR_FS_BASE, X86_MSR_GS_BASE,
    X86_MSR_KERNEL_GS_BASE, X86_MSR_TSC_AUX,
};

typedef struct GprReg {
    int id64, id32;
    size_t offset;          /* in struct kvm_regs */
} GprReg;

#define GPR(r, e, m) { UC_X86_REG_##r, UC_X86_REG_##e, \
                       offsetof(struct kvm_regs, m) }
#define GPR64(r, m) { UC_X86_REG_##r, -1, offsetof(struct kvm_regs, m) }

static const GprReg tcg_gprs[] = {
    GPR(RAX, EAX, rax), GPR(RBX, EBX, rbx), GPR(RCX, ECX, rcx),
    GPR(RDX, EDX, rdx), GPR(RSI, ESI, rsi), GPR(RDI, EDI, rdi),
    GPR(RSP, ESP, rsp), GPR(RBP, EBP, rbp),
    GPR64(R8, r8), GPR64(R9, r9), GPR64(R10, r10), GPR64(R11, r11),
    GPR64(R12, r12), GPR64(R13, r13), GPR64(R14, r14), GPR64(R15, r15),
};

void tcg_reg_write(TCGRegIO *io, int id, const void *val)
{
    uc_err err;

    if (io->err) {
        return;
    }
    err = uc_reg_write(io->uc, id, val);
    if (err) {
        io->err = err;
        io->failed_id = id;
    }
}

void tcg_reg_read(TCGRegIO *io, int id, void *val)
{
    uc_err err;

    if (io->err) {
        return;
    }
    err = uc_reg_read(io->uc, id, val);
    if (err) {
        io->err = err;
        io->failed_id = id;
    }
}

/* A control or general register, as wide as the mode makes it. */
void tcg_reg_write_word(TCGRegIO *io, int id, uint64_t v)
{
    uint32_t v32 = v;

    tcg_reg_write(io, id, io->mode == UC_MODE_64 ? (void *)&v : (void *)&v32);
}

uint64_t tcg_reg_read_word(TCGRegIO *io, int id)
{
    uint64_t v = 0;
    uint32_t v32 = 0;

    if (io->mode == UC_MODE_64) {
        tcg_reg_read(io, id, &v);
        return v;
    }
    tcg_reg_read(io, id, &v32);
    return v32;
}

static void reg_write_msr(TCGRegIO *io, uint32_t index, uint64_t data)
{
    uc_x86_msr msr = { .rid = index, .value = data };

    tcg_reg_write(io, UC_X86_REG_MSR, &msr);
}

static uint64_t reg_read_msr(TCGRegIO *io, uint32_t index)
{
    uc_x86_msr msr = { .rid = index };

    tcg_reg_read(io, UC_X86_REG_MSR, &msr);
    return msr.value;
}

bool tcg_reg_io_check(const TCGRegIO *io, const char *what, Error **errp)
{
    if (io->err) {
        error_setg(errp, "Unicorn refused to %s register %d: %s", what,
                   io->failed_id, uc_strerror(io->err));
        return false;
    }
    return true;
}

static bool msr_emulated(uint32_t index)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_emulated_msrs); i++) {
        if (tcg_emulated_msrs[i] == index) {
            return true;
        }
    }
    return false;
}

/* Control registers, EFER and the descriptor tables, paging last. */
void tcg_x86_load_system(TCGRegIO *io, const struct kvm_sregs *sr)
{
    uc_x86_mmr gdtr = { .base = sr->gdt.base, .limit = sr->gdt.limit };
    uc_x86_mmr idtr = { .base = sr->idt.base, .limit = sr->idt.limit };
    uc_x86_mmr ldtr = tcg_seg_to_mmr(&sr->ldt);
    uc_x86_mmr tr = tcg_seg_to_mmr(&sr->tr);

    /* PAE before paging, EFER.LME before CR0.PG turns long mode on. */
    tcg_reg_write_word(io, UC_X86_REG_CR4, sr->cr4);
    tcg_reg_write_word(io, UC_X86_REG_CR3, sr->cr3);
    reg_write_msr(io, X86_MSR_EFER, sr->efer);
    tcg_reg_write_word(io, UC_X86_REG_CR0, sr->cr0);
    tcg_reg_write_word(io, UC_X86_REG_CR2, sr->cr2);
    tcg_reg_write(io, UC_X86_REG_GDTR, &gdtr);
    tcg_reg_write(io, UC_X86_REG_IDTR, &idtr);
    tcg_reg_write(io, UC_X86_REG_LDTR, &ldtr);
    tcg_reg_write(io, UC_X86_REG_TR, &tr);
}

void tcg_x86_load_regs(TCGRegIO *io, const struct kvm_regs *regs)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_gprs); i++) {
        const GprReg *g = &tcg_gprs[i];
        uint64_t v;

        memcpy(&v, (const char *)regs + g->offset, sizeof(v));
        if (io->mode == UC_MODE_64) {
            tcg_reg_write_word(io, g->id64, v);
        } else if (g->id32 >= 0) {
            tcg_reg_write_word(io, g->id32, v);
        }
    }
    tcg_reg_write_word(io, io->mode == UC_MODE_64 ? UC_X86_REG_RFLAGS
                                              : UC_X86_REG_EFLAGS,
                   regs->rflags);
    tcg_reg_write_word(io, io->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                              : UC_X86_REG_EIP, regs->rip);
}

static uint16_t get_le16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

bool tcg_x86_check_fpu(const X86VcpuState *s, Error **errp)
{
    uint64_t xstate_bv;

    memcpy(&xstate_bv, (const uint8_t *)s->xsave.region + XSAVE_XSTATE_BV,
           sizeof(xstate_bv));
    if (xstate_bv & ~(XSAVE_FP | XSAVE_SSE)) {
        error_setg(errp, "the FPU state holds components beyond x87 and SSE "
                   "(XSTATE_BV 0x%llx), which tcg does not keep",
                   (unsigned long long)xstate_bv);
        return false;
    }
    return true;
}

/*
 * x87 and SSE from the XSAVE legacy area.  A component absent from
 * XSTATE_BV is in its initial state, whatever the area holds.
 */
void tcg_x86_load_fpu(TCGRegIO *io, const X86VcpuState *s)
{
    const uint8_t *x = (const uint8_t *)s->xsave.region;
    uint64_t bv, fip = 0, fdp = 0;
    uint32_t mxcsr = MXCSR_INIT;
    uint16_t fcw = FCW_INIT, fsw = 0, fop = 0, ftw = 0xffff;
    uint8_t zero[16] = { 0 };
    unsigned nxmm = io->mode == UC_MODE_64 ? 16 : 8;

    memcpy(&bv, x + XSAVE_XSTATE_BV, sizeof(bv));
    if (bv & XSAVE_FP) {
        fcw = get_le16(x + XSAVE_FCW);
        fsw = get_le16(x + XSAVE_FSW);
        fop = get_le16(x + XSAVE_FOP);
        memcpy(&fip, x + XSAVE_FIP, 8);
        memcpy(&fdp, x + XSAVE_FDP, 8);
        /* The abridged tag has a bit per register: 1 valid, 0 empty. */
        ftw = 0;
        for (int i = 0; i < 8; i++) {
            ftw |= (x[XSAVE_FTW] >> i & 1 ? 0 : 3) << (2 * i);
        }
    }
    if (bv & XSAVE_SSE) {
        memcpy(&mxcsr, x + XSAVE_MXCSR, 4);
    }
    tcg_reg_write(io, UC_X86_REG_FPCW, &fcw);
    /* FSW sets TOP, which ST(i) are relative to: it goes first. */
    tcg_reg_write(io, UC_X86_REG_FPSW, &fsw);
    tcg_reg_write(io, UC_X86_REG_FPTAG, &ftw);
    tcg_reg_write(io, UC_X86_REG_FOP, &fop);
    tcg_reg_write(io, UC_X86_REG_FIP, &fip);
    tcg_reg_write(io, UC_X86_REG_FDP, &fdp);
    for (int i = 0; i < 8; i++) {
        tcg_reg_write(io, UC_X86_REG_ST0 + i,
                  bv & XSAVE_FP ? x + XSAVE_ST + 16 * i : zero);
    }
    tcg_reg_write(io, UC_X86_REG_MXCSR, &mxcsr);
    for (unsigned i = 0; i < nxmm; i++) {
        int id = i < 8 ? UC_X86_REG_XMM0 + i : UC_X86_REG_XMM8 + i - 8;

        tcg_reg_write(io, id, bv & XSAVE_SSE ? x + XSAVE_XMM + 16 * i : zero);
    }
}

void tcg_x86_load_msrs(TCGRegIO *io, const X86VcpuState *s)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (msr_emulated(s->msrs[i].index)) {
            reg_write_msr(io, s->msrs[i].index, s->msrs[i].data);
        }
    }
}

void tcg_x86_save_system(TCGRegIO *io, struct kvm_sregs *sr)
{
    uc_x86_mmr gdtr = { 0 }, idtr = { 0 }, ldtr = { 0 }, tr = { 0 };

    sr->cr0 = tcg_reg_read_word(io, UC_X86_REG_CR0);
    sr->cr2 = tcg_reg_read_word(io, UC_X86_REG_CR2);
    sr->cr3 = tcg_reg_read_word(io, UC_X86_REG_CR3);
    sr->cr4 = tcg_reg_read_word(io, UC_X86_REG_CR4);
    sr->efer = reg_read_msr(io, X86_MSR_EFER);
    tcg_reg_read(io, UC_X86_REG_GDTR, &gdtr);
    tcg_reg_read(io, UC_X86_REG_IDTR, &idtr);
    tcg_reg_read(io, UC_X86_REG_LDTR, &ldtr);
    tcg_reg_read(io, UC_X86_REG_TR, &tr);
    sr->gdt = (struct kvm_dtable) { .base = gdtr.base, .limit = gdtr.limit };
    sr->idt = (struct kvm_dtable) { .base = idtr.base, .limit = idtr.limit };
    tcg_seg_from_mmr(&sr->ldt, &ldtr);
    tcg_seg_from_mmr(&sr->tr, &tr);
}

void tcg_x86_save_regs(TCGRegIO *io, struct kvm_regs *regs)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_gprs); i++) {
        const GprReg *g = &tcg_gprs[i];
        uint64_t v;

        if (io->mode != UC_MODE_64 && g->id32 < 0) {
            continue;   /* R8-R15 do not exist outside 64-bit mode */
        }
        v = tcg_reg_read_word(io, io->mode == UC_MODE_64 ? g->id64 : g->id32);
        memcpy((char *)regs + g->offset, &v, sizeof(v));
    }
    regs->rflags = tcg_reg_read_word(io, io->mode == UC_MODE_64 ?
                                 UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS);
    regs->rip = tcg_reg_read_word(io, io->mode == UC_MODE_64 ?
                              UC_X86_REG_RIP : UC_X86_REG_EIP);
}

void tcg_x86_save_fpu(TCGRegIO *io, X86VcpuState *s)
{
    uint8_t *x = (uint8_t *)s->xsave.region;
    uint16_t fcw = 0, fsw = 0, ftw = 0, fop = 0;
    uint64_t fip = 0, fdp = 0, bv;
    uint32_t mxcsr = 0;
    unsigned nxmm = io->mode == UC_MODE_64 ? 16 : 8;

    tcg_reg_read(io, UC_X86_REG_FPCW, &fcw);
    tcg_reg_read(io, UC_X86_REG_FPSW, &fsw);
    tcg_reg_read(io, UC_X86_REG_FPTAG, &ftw);
    tcg_reg_read(io, UC_X86_REG_FOP, &fop);
    tcg_reg_read(io, UC_X86_REG_FIP, &fip);
    tcg_reg_read(io, UC_X86_REG_FDP, &fdp);
    tcg_reg_read(io, UC_X86_REG_MXCSR, &mxcsr);
    memset(x, 0, XSAVE_MXCSR);
    put_le16(x + XSAVE_FCW, fcw);
    put_le16(x + XSAVE_FSW, fsw);
    for (int i = 0; i < 8; i++) {
        x[XSAVE_FTW] |= ((ftw >> (2 * i)) & 3) != 3 ? 1 << i : 0;
    }
    put_le16(x + XSAVE_FOP, fop);
    memcpy(x + XSAVE_FIP, &fip, 8);
    memcpy(x + XSAVE_FDP, &fdp, 8);
    memcpy(x + XSAVE_MXCSR, &mxcsr, 4);
    for (int i = 0; i < 8; i++) {
        memset(x + XSAVE_ST + 16 * i, 0, 16);
        tcg_reg_read(io, UC_X86_REG_ST0 + i, x + XSAVE_ST + 16 * i);
    }
    for (unsigned i = 0; i < nxmm; i++) {
        int id = i < 8 ? UC_X86_REG_XMM0 + i : UC_X86_REG_XMM8 + i - 8;

        tcg_reg_read(io, id, x + XSAVE_XMM + 16 * i);
    }
    memcpy(&bv, x + XSAVE_XSTATE_BV, sizeof(bv));
    bv |= XSAVE_FP | XSAVE_SSE;
    memcpy(x + XSAVE_XSTATE_BV, &bv, sizeof(bv));
}

void tcg_x86_save_msrs(TCGRegIO *io, X86VcpuState *s)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (msr_emulated(s->msrs[i].index)) {
            s->msrs[i].data = reg_read_msr(io, s->msrs[i].index);
        }
    }
}
