/*
 * x86 vCPU state on a Unicorn engine: loading an X86VcpuState (KVM's
 * structures) into an engine and reading it back.
 *
 * Unicorn fixes an engine's mode when it is opened and interprets
 * register writes by that mode: in 64-bit mode a write to CS, DS, ES or
 * SS changes only the selector; in 32-bit mode a segment write loads the
 * descriptor from the GDT in guest RAM; in 16-bit mode it sets base =
 * selector << 4.  So every runnable state gets a fresh engine in the
 * mode the state is in (which also drops stale translations, TLB and
 * hidden state), and a state is refused when the engine could not
 * reproduce it: a segment whose hidden part differs from what loading
 * its selector would give, compatibility or virtual-8086 mode, ring 3,
 * a pending event, AVX state.
 *
 * Unicorn reports only selectors when read.  The hidden part of a
 * segment is kept from the loaded state while the guest does not change
 * the selector, and derived (from the GDT, or from the selector in real
 * mode) when it does: what the CPU itself would have loaded.
 *
 * Unicorn 2.0.1 addresses guest RAM by linear address even with paging
 * on, so the guests must identity-map the memory they use (the boot
 * protocol's page tables do); descriptor tables are read at their linear
 * address here too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <string.h>

#include <unicorn/x86.h>

#include "tcg-int.h"
#include "system/ram.h"
#include "system/x86-boot.h"
#include "trace/trace.h"

#define X86_CR0_PE_BIT          X86_CR0_PE
#define X86_RFLAGS_VM           (1ULL << 17)
#define X86_MSR_EFER            0xc0000080

/* Segment descriptor bits (the second dword), as Unicorn keeps them. */
#define DESC_TYPE_SHIFT         8
#define DESC_S                  (1U << 12)
#define DESC_DPL_SHIFT          13
#define DESC_P                  (1U << 15)
#define DESC_AVL                (1U << 20)
#define DESC_L                  (1U << 21)
#define DESC_B                  (1U << 22)
#define DESC_G                  (1U << 23)
#define SEG_TYPE_CODE           0x8
#define SEG_TYPE_READ_WRITE     0x2     /* readable code, writable data */
#define SEG_TYPE_ACCESSED       0x1
#define SEL_TI_RPL              0x7

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

typedef struct SegReg {
    const char *name;
    int id;
    size_t offset;          /* in struct kvm_sregs */
} SegReg;

#define SEG(r, m) { #r, UC_X86_REG_##r, offsetof(struct kvm_sregs, m) }

/* SS first: in 32-bit mode loading it sets the CPL the others check. */
static const SegReg tcg_segs[] = {
    SEG(SS, ss), SEG(CS, cs), SEG(DS, ds), SEG(ES, es), SEG(FS, fs),
    SEG(GS, gs),
};
static const SegReg *const tcg_seg_cs = &tcg_segs[1];

static struct kvm_segment *seg_of(struct kvm_sregs *sr, const SegReg *r)
{
    return (struct kvm_segment *)((char *)sr + r->offset);
}

/*
 * Register access that remembers its first failure, so a sequence of
 * writes is checked once.
 */
typedef struct RegIO {
    uc_engine *uc;
    uc_mode mode;
    uc_err err;
    int failed_id;
} RegIO;

static void reg_write(RegIO *io, int id, const void *val)
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

static void reg_read(RegIO *io, int id, void *val)
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
static void reg_write_word(RegIO *io, int id, uint64_t v)
{
    uint32_t v32 = v;

    reg_write(io, id, io->mode == UC_MODE_64 ? (void *)&v : (void *)&v32);
}

static uint64_t reg_read_word(RegIO *io, int id)
{
    uint64_t v = 0;
    uint32_t v32 = 0;

    if (io->mode == UC_MODE_64) {
        reg_read(io, id, &v);
        return v;
    }
    reg_read(io, id, &v32);
    return v32;
}

static void reg_write_msr(RegIO *io, uint32_t index, uint64_t data)
{
    uc_x86_msr msr = { .rid = index, .value = data };

    reg_write(io, UC_X86_REG_MSR, &msr);
}

static uint64_t reg_read_msr(RegIO *io, uint32_t index)
{
    uc_x86_msr msr = { .rid = index };

    reg_read(io, UC_X86_REG_MSR, &msr);
    return msr.value;
}

static bool reg_io_check(const RegIO *io, const char *what, Error **errp)
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

/* Segments: KVM's fields and the descriptor flags Unicorn keeps. */

static uint32_t seg_flags(const struct kvm_segment *seg)
{
    return (uint32_t)(seg->type & 0xf) << DESC_TYPE_SHIFT |
           (seg->s ? DESC_S : 0) | (uint32_t)(seg->dpl & 3) << DESC_DPL_SHIFT |
           (seg->present ? DESC_P : 0) | (seg->avl ? DESC_AVL : 0) |
           (seg->l ? DESC_L : 0) | (seg->db ? DESC_B : 0) |
           (seg->g ? DESC_G : 0);
}

static void seg_set(struct kvm_segment *seg, uint16_t selector,
                    uint64_t base, uint32_t limit, uint32_t flags)
{
    *seg = (struct kvm_segment) {
        .base = base, .limit = limit, .selector = selector,
        .type = (flags >> DESC_TYPE_SHIFT) & 0xf,
        .present = !!(flags & DESC_P),
        .dpl = (flags >> DESC_DPL_SHIFT) & 3,
        .db = !!(flags & DESC_B), .s = !!(flags & DESC_S),
        .l = !!(flags & DESC_L), .g = !!(flags & DESC_G),
        .avl = !!(flags & DESC_AVL), .unusable = !(flags & DESC_P),
    };
}

static uc_x86_mmr seg_to_mmr(const struct kvm_segment *seg)
{
    return (uc_x86_mmr) {
        .selector = seg->selector, .base = seg->base, .limit = seg->limit,
        .flags = seg_flags(seg),
    };
}

static void seg_from_mmr(struct kvm_segment *seg, const uc_x86_mmr *mmr)
{
    seg_set(seg, mmr->selector, mmr->base, mmr->limit, mmr->flags);
}

/*
 * The descriptor @selector names in the GDT of @sr, as the CPU loads it
 * into a segment register.  Fails for the LDT (never set up by the
 * guests), a selector past the GDT's limit or a GDT outside RAM.
 */
static bool gdt_read(const struct kvm_sregs *sr, const char *name,
                     uint16_t selector, struct kvm_segment *seg,
                     Error **errp)
{
    uint32_t index = selector & ~SEL_TI_RPL, e1, e2, limit;
    const uint8_t *p;
    uint64_t base;

    if (selector & 4) {
        error_setg(errp, "segment %s: selector 0x%x is in the LDT, which "
                   "tcg does not load", name, selector);
        return false;
    }
    if (index + 7 > sr->gdt.limit) {
        error_setg(errp, "segment %s: selector 0x%x is past the GDT limit "
                   "0x%x", name, selector, sr->gdt.limit);
        return false;
    }
    p = ram_gpa_to_host(sr->gdt.base + index, 8);
    if (!p) {
        error_setg(errp, "segment %s: the GDT at 0x%llx is not in RAM",
                   name, (unsigned long long)sr->gdt.base);
        return false;
    }
    memcpy(&e1, p, 4);
    memcpy(&e2, p + 4, 4);
    base = (e1 >> 16) | ((e2 & 0xff) << 16) | (e2 & 0xff000000);
    limit = (e1 & 0xffff) | (e2 & 0x000f0000);
    if (e2 & DESC_G) {
        limit = (limit << 12) | 0xfff;
    }
    /* Loading a segment sets the accessed bit. */
    seg_set(seg, selector, base, limit, (e2 | (e2 & DESC_S ?
            SEG_TYPE_ACCESSED << DESC_TYPE_SHIFT : 0)) & 0x00f0ff00);
    return true;
}

static bool seg_same(const struct kvm_segment *a,
                     const struct kvm_segment *b, bool with_base)
{
    return (!with_base || a->base == b->base) && a->limit == b->limit &&
           (a->type | (a->s ? SEG_TYPE_ACCESSED : 0)) ==
           (b->type | (b->s ? SEG_TYPE_ACCESSED : 0)) &&
           a->s == b->s && a->dpl == b->dpl && a->present == b->present &&
           a->db == b->db && a->g == b->g && a->l == b->l;
}

/*
 * Can Unicorn load selector @seg->selector in protected mode without
 * faulting, and get @seg (its base too when @with_base)?  A fault there
 * would happen outside of emulation, where nothing catches it.
 */
static bool seg_check_protected(const struct kvm_sregs *sr,
                                const SegReg *r,
                                const struct kvm_segment *seg,
                                bool with_base, Error **errp)
{
    struct kvm_segment desc;
    bool code, is_cs = r->id == UC_X86_REG_CS, is_ss = r->id == UC_X86_REG_SS;

    if (!(seg->selector & ~SEL_TI_RPL)) {
        if (is_cs || is_ss) {
            error_setg(errp, "segment %s: null selector", r->name);
            return false;
        }
        return true;
    }
    if (seg->selector & 3 || ((is_cs || is_ss) && seg->dpl)) {
        error_setg(errp, "segment %s: selector 0x%x or DPL %u is not ring "
                   "0, the only privilege level tcg loads", r->name,
                   seg->selector, seg->dpl);
        return false;
    }
    if (!gdt_read(sr, r->name, seg->selector, &desc, errp)) {
        return false;
    }
    code = desc.type & SEG_TYPE_CODE;
    if (!desc.present || !desc.s || (is_cs && !code) ||
        (is_ss && (code || !(desc.type & SEG_TYPE_READ_WRITE))) ||
        (code && !(desc.type & SEG_TYPE_READ_WRITE))) {
        error_setg(errp, "segment %s: descriptor 0x%x in the GDT cannot be "
                   "loaded there (type 0x%x, present %u)", r->name,
                   seg->selector, desc.type, desc.present);
        return false;
    }
    if (!seg_same(seg, &desc, with_base)) {
        error_setg(errp, "segment %s: its hidden part (base 0x%llx, limit "
                   "0x%x, type 0x%x) is not what descriptor 0x%x in the GDT "
                   "gives (base 0x%llx, limit 0x%x, type 0x%x); tcg loads "
                   "segments from their descriptors", r->name,
                   (unsigned long long)seg->base, seg->limit, seg->type,
                   seg->selector, (unsigned long long)desc.base, desc.limit,
                   desc.type);
        return false;
    }
    return true;
}

/* Which engine mode runs @s, and can Unicorn reproduce its segments? */
static bool tcg_x86_check(const X86VcpuState *s, uc_mode *mode,
                          Error **errp)
{
    const struct kvm_sregs *sr = &s->sregs;
    const struct kvm_vcpu_events *ev = &s->events;
    uint64_t xstate_bv;

    if (sr->efer & X86_EFER_LMA) {
        if (!sr->cs.l) {
            error_setg(errp, "compatibility mode (long mode with a 16 or "
                       "32-bit CS) is not supported");
            return false;
        }
        *mode = UC_MODE_64;
    } else {
        *mode = sr->cr0 & X86_CR0_PE_BIT ? UC_MODE_32 : UC_MODE_16;
    }
    if (s->regs.rflags & X86_RFLAGS_VM) {
        error_setg(errp, "virtual-8086 mode is not supported");
        return false;
    }
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
    memcpy(&xstate_bv, (const uint8_t *)s->xsave.region + XSAVE_XSTATE_BV,
           sizeof(xstate_bv));
    if (xstate_bv & ~(XSAVE_FP | XSAVE_SSE)) {
        error_setg(errp, "the FPU state holds components beyond x87 and SSE "
                   "(XSTATE_BV 0x%llx), which tcg does not keep",
                   (unsigned long long)xstate_bv);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_segs); i++) {
        const SegReg *r = &tcg_segs[i];
        const struct kvm_segment *seg =
            seg_of((struct kvm_sregs *)sr, r);

        switch (*mode) {
        case UC_MODE_16:
            if (seg->base != (uint64_t)seg->selector << 4) {
                error_setg(errp, "segment %s: base 0x%llx is not selector "
                           "0x%x times 16 (unreal mode is not supported)",
                           r->name, (unsigned long long)seg->base,
                           seg->selector);
                return false;
            }
            break;
        case UC_MODE_32:
            if (!seg_check_protected(sr, r, seg, true, errp)) {
                return false;
            }
            break;
        default:
            /* 64-bit: CS, DS, ES and SS take the selector alone. */
            if ((r->id == UC_X86_REG_FS || r->id == UC_X86_REG_GS) &&
                !seg_check_protected(sr, r, seg, false, errp)) {
                return false;
            }
            if (r->id == UC_X86_REG_CS && (seg->selector & 3 || seg->dpl)) {
                error_setg(errp, "segment CS: ring %u; tcg runs ring 0 only",
                           seg->selector & 3 ? seg->selector & 3 : seg->dpl);
                return false;
            }
            break;
        }
    }
    return true;
}

/* Control registers, EFER and the descriptor tables, paging last. */
static void tcg_x86_load_system(RegIO *io, const struct kvm_sregs *sr)
{
    uc_x86_mmr gdtr = { .base = sr->gdt.base, .limit = sr->gdt.limit };
    uc_x86_mmr idtr = { .base = sr->idt.base, .limit = sr->idt.limit };
    uc_x86_mmr ldtr = seg_to_mmr(&sr->ldt);
    uc_x86_mmr tr = seg_to_mmr(&sr->tr);

    /* PAE before paging, EFER.LME before CR0.PG turns long mode on. */
    reg_write_word(io, UC_X86_REG_CR4, sr->cr4);
    reg_write_word(io, UC_X86_REG_CR3, sr->cr3);
    reg_write_msr(io, X86_MSR_EFER, sr->efer);
    reg_write_word(io, UC_X86_REG_CR0, sr->cr0);
    reg_write_word(io, UC_X86_REG_CR2, sr->cr2);
    reg_write(io, UC_X86_REG_GDTR, &gdtr);
    reg_write(io, UC_X86_REG_IDTR, &idtr);
    reg_write(io, UC_X86_REG_LDTR, &ldtr);
    reg_write(io, UC_X86_REG_TR, &tr);
}

static void tcg_x86_load_segments(RegIO *io, const struct kvm_sregs *sr)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_segs); i++) {
        uint16_t sel = seg_of((struct kvm_sregs *)sr, &tcg_segs[i])->selector;

        reg_write(io, tcg_segs[i].id, &sel);
    }
    if (io->mode == UC_MODE_64) {
        uint64_t fs = sr->fs.base, gs = sr->gs.base;

        reg_write(io, UC_X86_REG_FS_BASE, &fs);
        reg_write(io, UC_X86_REG_GS_BASE, &gs);
    }
}

static void tcg_x86_load_regs(RegIO *io, const struct kvm_regs *regs)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_gprs); i++) {
        const GprReg *g = &tcg_gprs[i];
        uint64_t v;

        memcpy(&v, (const char *)regs + g->offset, sizeof(v));
        if (io->mode == UC_MODE_64) {
            reg_write_word(io, g->id64, v);
        } else if (g->id32 >= 0) {
            reg_write_word(io, g->id32, v);
        }
    }
    reg_write_word(io, io->mode == UC_MODE_64 ? UC_X86_REG_RFLAGS
                                              : UC_X86_REG_EFLAGS,
                   regs->rflags);
    reg_write_word(io, io->mode == UC_MODE_64 ? UC_X86_REG_RIP
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

/*
 * x87 and SSE from the XSAVE legacy area.  A component absent from
 * XSTATE_BV is in its initial state, whatever the area holds.
 */
static void tcg_x86_load_fpu(RegIO *io, const X86VcpuState *s)
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
    reg_write(io, UC_X86_REG_FPCW, &fcw);
    /* FSW sets TOP, which ST(i) are relative to: it goes first. */
    reg_write(io, UC_X86_REG_FPSW, &fsw);
    reg_write(io, UC_X86_REG_FPTAG, &ftw);
    reg_write(io, UC_X86_REG_FOP, &fop);
    reg_write(io, UC_X86_REG_FIP, &fip);
    reg_write(io, UC_X86_REG_FDP, &fdp);
    for (int i = 0; i < 8; i++) {
        reg_write(io, UC_X86_REG_ST0 + i,
                  bv & XSAVE_FP ? x + XSAVE_ST + 16 * i : zero);
    }
    reg_write(io, UC_X86_REG_MXCSR, &mxcsr);
    for (unsigned i = 0; i < nxmm; i++) {
        int id = i < 8 ? UC_X86_REG_XMM0 + i : UC_X86_REG_XMM8 + i - 8;

        reg_write(io, id, bv & XSAVE_SSE ? x + XSAVE_XMM + 16 * i : zero);
    }
}

static void tcg_x86_load_msrs(RegIO *io, const X86VcpuState *s)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (msr_emulated(s->msrs[i].index)) {
            reg_write_msr(io, s->msrs[i].index, s->msrs[i].data);
        }
    }
}

static bool tcg_x86_open(TCGX86Cpu *c, uc_mode mode, Error **errp)
{
    RAMBlock *block;
    uc_engine *uc;
    uc_err err;

    err = uc_open(UC_ARCH_X86, mode, &uc);
    if (err) {
        error_setg(errp, "vCPU %u: cannot create a Unicorn engine: %s",
                   c->index, uc_strerror(err));
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
        error_setg(errp, "vCPU %u: cannot disable the engine's exit "
                   "addresses: %s", c->index, uc_strerror(err));
        uc_close(uc);
        return false;
    }
    RAMBLOCK_FOREACH(block) {
        err = uc_mem_map_ptr(uc, block->gpa, block->size, UC_PROT_ALL,
                             block->host);
        if (err) {
            error_setg(errp, "vCPU %u: cannot map RAM block '%s' into the "
                       "engine: %s", c->index, block->idstr,
                       uc_strerror(err));
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
    RegIO io = { 0 };
    uc_mode mode;

    if (s->nmsrs > X86_VCPU_MAX_MSRS) {
        error_setg(errp, "vCPU %u: %u MSRs, at most %d are supported",
                   c->index, s->nmsrs, X86_VCPU_MAX_MSRS);
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
        error_prepend(errp, "vCPU %u: ", c->index);
        return false;
    }
    io = (RegIO) { .uc = c->uc, .mode = mode };
    tcg_x86_load_system(&io, &s->sregs);
    tcg_x86_load_segments(&io, &s->sregs);
    tcg_x86_load_regs(&io, &s->regs);
    tcg_x86_load_fpu(&io, s);
    tcg_x86_load_msrs(&io, s);
    if (!reg_io_check(&io, "load", errp)) {
        error_prepend(errp, "vCPU %u: ", c->index);
        uc_close(c->uc);
        c->uc = NULL;
        return false;
    }
    memcpy(&c->state, s, sizeof(*s));
    c->ran = false;
    return true;
}

/*
 * A segment after the guest ran: the hidden part of the loaded state
 * while the selector is the same, else what loading the new selector
 * gave (derived as the CPU does it).
 */
static bool tcg_x86_save_segment(RegIO *io, struct kvm_sregs *sr,
                                 const SegReg *r, Error **errp)
{
    struct kvm_segment *seg = seg_of(sr, r);
    uint16_t sel = 0;

    reg_read(io, r->id, &sel);
    if (io->err || sel == seg->selector) {
        return true;
    }
    if (!(sr->cr0 & X86_CR0_PE_BIT)) {
        seg->selector = sel;
        seg->base = (uint64_t)sel << 4;
        return true;
    }
    if (!(sel & ~SEL_TI_RPL)) {
        seg_set(seg, sel, 0, 0, 0);
        return true;
    }
    return gdt_read(sr, r->name, sel, seg, errp);
}

static void tcg_x86_save_system(RegIO *io, struct kvm_sregs *sr)
{
    uc_x86_mmr gdtr = { 0 }, idtr = { 0 }, ldtr = { 0 }, tr = { 0 };

    sr->cr0 = reg_read_word(io, UC_X86_REG_CR0);
    sr->cr2 = reg_read_word(io, UC_X86_REG_CR2);
    sr->cr3 = reg_read_word(io, UC_X86_REG_CR3);
    sr->cr4 = reg_read_word(io, UC_X86_REG_CR4);
    sr->efer = reg_read_msr(io, X86_MSR_EFER);
    reg_read(io, UC_X86_REG_GDTR, &gdtr);
    reg_read(io, UC_X86_REG_IDTR, &idtr);
    reg_read(io, UC_X86_REG_LDTR, &ldtr);
    reg_read(io, UC_X86_REG_TR, &tr);
    sr->gdt = (struct kvm_dtable) { .base = gdtr.base, .limit = gdtr.limit };
    sr->idt = (struct kvm_dtable) { .base = idtr.base, .limit = idtr.limit };
    seg_from_mmr(&sr->ldt, &ldtr);
    seg_from_mmr(&sr->tr, &tr);
}

static void tcg_x86_save_regs(RegIO *io, struct kvm_regs *regs)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_gprs); i++) {
        const GprReg *g = &tcg_gprs[i];
        uint64_t v;

        if (io->mode != UC_MODE_64 && g->id32 < 0) {
            continue;   /* R8-R15 do not exist outside 64-bit mode */
        }
        v = reg_read_word(io, io->mode == UC_MODE_64 ? g->id64 : g->id32);
        memcpy((char *)regs + g->offset, &v, sizeof(v));
    }
    regs->rflags = reg_read_word(io, io->mode == UC_MODE_64 ?
                                 UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS);
    regs->rip = reg_read_word(io, io->mode == UC_MODE_64 ?
                              UC_X86_REG_RIP : UC_X86_REG_EIP);
}

static void tcg_x86_save_fpu(RegIO *io, X86VcpuState *s)
{
    uint8_t *x = (uint8_t *)s->xsave.region;
    uint16_t fcw = 0, fsw = 0, ftw = 0, fop = 0;
    uint64_t fip = 0, fdp = 0, bv;
    uint32_t mxcsr = 0;
    unsigned nxmm = io->mode == UC_MODE_64 ? 16 : 8;

    reg_read(io, UC_X86_REG_FPCW, &fcw);
    reg_read(io, UC_X86_REG_FPSW, &fsw);
    reg_read(io, UC_X86_REG_FPTAG, &ftw);
    reg_read(io, UC_X86_REG_FOP, &fop);
    reg_read(io, UC_X86_REG_FIP, &fip);
    reg_read(io, UC_X86_REG_FDP, &fdp);
    reg_read(io, UC_X86_REG_MXCSR, &mxcsr);
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
        reg_read(io, UC_X86_REG_ST0 + i, x + XSAVE_ST + 16 * i);
    }
    for (unsigned i = 0; i < nxmm; i++) {
        int id = i < 8 ? UC_X86_REG_XMM0 + i : UC_X86_REG_XMM8 + i - 8;

        reg_read(io, id, x + XSAVE_XMM + 16 * i);
    }
    memcpy(&bv, x + XSAVE_XSTATE_BV, sizeof(bv));
    bv |= XSAVE_FP | XSAVE_SSE;
    memcpy(x + XSAVE_XSTATE_BV, &bv, sizeof(bv));
}

static void tcg_x86_save_msrs(RegIO *io, X86VcpuState *s)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (msr_emulated(s->msrs[i].index)) {
            s->msrs[i].data = reg_read_msr(io, s->msrs[i].index);
        }
    }
}

/* Refresh c->state from the engine. */
static bool tcg_x86_save(TCGX86Cpu *c, Error **errp)
{
    X86VcpuState *s = &c->state;
    RegIO io = { .uc = c->uc, .mode = c->mode };

    tcg_x86_save_system(&io, &s->sregs);
    if (!io.err && c->mode != UC_MODE_64 && (s->sregs.efer & X86_EFER_LMA)) {
        error_setg(errp, "vCPU %u entered long mode from a %d-bit start, "
                   "which tcg cannot save", c->index,
                   c->mode == UC_MODE_16 ? 16 : 32);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_segs); i++) {
        if (!tcg_x86_save_segment(&io, &s->sregs, &tcg_segs[i], errp)) {
            error_prepend(errp, "vCPU %u: ", c->index);
            return false;
        }
    }
    if (c->mode == UC_MODE_64) {
        uint64_t fs = 0, gs = 0;

        reg_read(&io, UC_X86_REG_FS_BASE, &fs);
        reg_read(&io, UC_X86_REG_GS_BASE, &gs);
        s->sregs.fs.base = fs;
        s->sregs.gs.base = gs;
    }
    tcg_x86_save_regs(&io, &s->regs);
    tcg_x86_save_fpu(&io, s);
    tcg_x86_save_msrs(&io, s);
    if (!reg_io_check(&io, "read", errp)) {
        error_prepend(errp, "vCPU %u: ", c->index);
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
    RegIO io = { .uc = c->uc, .mode = c->mode };
    uint64_t pc;
    uint16_t cs = 0;

    pc = reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                                  : UC_X86_REG_EIP);
    /* A 16-bit engine takes CS.selector * 16 + IP, whatever the mode. */
    if (c->mode == UC_MODE_16) {
        reg_read(&io, UC_X86_REG_CS, &cs);
        pc += (uint64_t)cs << 4;
    }
    return pc;
}

void tcg_x86_cpu_pc_sp(TCGX86Cpu *c, uint64_t *rip, uint64_t *rsp)
{
    RegIO io = { .uc = c->uc, .mode = c->mode };

    *rip = reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                                    : UC_X86_REG_EIP);
    *rsp = reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RSP
                                                    : UC_X86_REG_ESP);
}

bool tcg_x86_cpu_after_hlt(TCGX86Cpu *c)
{
    RegIO io = { .uc = c->uc, .mode = c->mode };
    struct kvm_sregs sr = c->state.sregs;
    const uint8_t *p;
    uint64_t rip, linear;

    rip = reg_read_word(&io, c->mode == UC_MODE_64 ? UC_X86_REG_RIP
                                                   : UC_X86_REG_EIP);
    sr.cr0 = reg_read_word(&io, UC_X86_REG_CR0);
    if (io.err || !rip || !tcg_x86_save_segment(&io, &sr, tcg_seg_cs, NULL)) {
        return false;
    }
    linear = (c->mode == UC_MODE_64 ? 0 : sr.cs.base) + rip - 1;
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
