/*
 * Segment registers of a Unicorn engine: whether a state's segments can
 * be loaded, loading them, and reading them back.
 *
 * Unicorn fixes an engine's mode when it is opened and interprets
 * segment writes by that mode: in 64-bit mode a write to CS, DS, ES or
 * SS changes only the selector; in 32-bit mode a segment write loads the
 * descriptor from the GDT in guest RAM; in 16-bit mode it sets base =
 * selector << 4.  A state is refused when the engine could not
 * reproduce its segments: a hidden part that differs from what loading
 * the selector gives, compatibility or virtual-8086 mode, ring 3.  A
 * descriptor Unicorn would fault on is refused too: the fault would
 * happen outside of emulation, where nothing catches it.
 *
 * Unicorn reports only selectors when read.  The hidden part of a
 * segment is kept from the loaded state while the guest does not change
 * the selector, and derived (from the GDT, or from the selector in real
 * mode) when it does: what the CPU itself would have loaded.
 *
 * Unicorn 2.0.1 addresses guest RAM by linear address even with paging
 * on, so the guests must identity-map the memory they use (the boot
 * protocol's page tables do); the GDT is read at its linear address.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <string.h>

#include <unicorn/x86.h>

#include "tcg-int.h"
#include "system/ram.h"
#include "system/x86-boot.h"

#define X86_RFLAGS_VM           (1ULL << 17)

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

static const struct kvm_segment *seg_in(const struct kvm_sregs *sr,
                                        const SegReg *r)
{
    return (const struct kvm_segment *)((const char *)sr + r->offset);
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

uc_x86_mmr tcg_seg_to_mmr(const struct kvm_segment *seg)
{
    return (uc_x86_mmr) {
        .selector = seg->selector, .base = seg->base, .limit = seg->limit,
        .flags = seg_flags(seg),
    };
}

void tcg_seg_from_mmr(struct kvm_segment *seg, const uc_x86_mmr *mmr)
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

bool tcg_x86_check_segments(const X86VcpuState *s, uc_mode *mode,
                            Error **errp)
{
    const struct kvm_sregs *sr = &s->sregs;

    if (sr->efer & X86_EFER_LMA) {
        if (!sr->cs.l) {
            error_setg(errp, "compatibility mode (long mode with a 16 or "
                       "32-bit CS) is not supported");
            return false;
        }
        *mode = UC_MODE_64;
    } else {
        *mode = sr->cr0 & X86_CR0_PE ? UC_MODE_32 : UC_MODE_16;
    }
    if (s->regs.rflags & X86_RFLAGS_VM) {
        error_setg(errp, "virtual-8086 mode is not supported");
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_segs); i++) {
        const SegReg *r = &tcg_segs[i];
        const struct kvm_segment *seg = seg_in(sr, r);

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

void tcg_x86_load_segments(TCGRegIO *io, const struct kvm_sregs *sr)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_segs); i++) {
        uint16_t sel = seg_in(sr, &tcg_segs[i])->selector;

        tcg_reg_write(io, tcg_segs[i].id, &sel);
    }
    if (io->mode == UC_MODE_64) {
        uint64_t fs = sr->fs.base, gs = sr->gs.base;

        tcg_reg_write(io, UC_X86_REG_FS_BASE, &fs);
        tcg_reg_write(io, UC_X86_REG_GS_BASE, &gs);
    }
}

/*
 * A segment after the guest ran: the hidden part of the loaded state
 * while the selector is the same, else what loading the new selector
 * gave (derived as the CPU does it).
 */
static bool tcg_x86_save_segment(TCGRegIO *io, struct kvm_sregs *sr,
                                 const SegReg *r, Error **errp)
{
    struct kvm_segment *seg = seg_of(sr, r);
    uint16_t sel = 0;

    tcg_reg_read(io, r->id, &sel);
    if (io->err || sel == seg->selector) {
        return true;
    }
    if (!(sr->cr0 & X86_CR0_PE)) {
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

bool tcg_x86_save_segments(TCGRegIO *io, struct kvm_sregs *sr, Error **errp)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tcg_segs); i++) {
        if (!tcg_x86_save_segment(io, sr, &tcg_segs[i], errp)) {
            return false;
        }
    }
    if (io->mode == UC_MODE_64) {
        uint64_t fs = 0, gs = 0;

        tcg_reg_read(io, UC_X86_REG_FS_BASE, &fs);
        tcg_reg_read(io, UC_X86_REG_GS_BASE, &gs);
        sr->fs.base = fs;
        sr->gs.base = gs;
    }
    return true;
}

uint64_t tcg_x86_cs_base(TCGRegIO *io, const struct kvm_sregs *sr)
{
    struct kvm_sregs now = *sr;

    if (io->mode == UC_MODE_64 ||
        !tcg_x86_save_segment(io, &now, tcg_seg_cs, NULL)) {
        return 0;
    }
    return now.cs.base;
}
