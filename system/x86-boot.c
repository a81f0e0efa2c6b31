/*
 * Boot tables and start states of the colo-x86 vCPUs.
 *
 * The guest never builds its own paging or segmentation before its entry
 * point runs: everything a 64-bit guest needs lives in the first 28 KiB
 * of RAM, written here, and every vCPU starts directly in long mode.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "system/x86-boot.h"

#define PAGE_2M (2ULL << 20)
#define PD_ENTRIES 512
#define PD_COUNT 4

/* Legacy area of the XSAVE image (FXSAVE layout) and its header. */
#define XSAVE_FCW_OFFSET        0
#define XSAVE_MXCSR_OFFSET      24
#define XSAVE_XSTATE_BV_OFFSET  512
#define XSAVE_FP_SSE            0x3ULL
#define FCW_RESET               0x37f
#define MXCSR_RESET             0x1f80
#define XCR0_X87                0x1ULL
#define DR6_RESET               0xffff0ff0ULL
#define DR7_RESET               0x400ULL

/* Segment descriptor access bytes and flags. */
#define SEG_TYPE_DATA_RW        0x3     /* read/write, accessed */
#define SEG_TYPE_CODE_XR        0xb     /* execute/read, accessed */
#define SEG_TYPE_LDT            0x2
#define SEG_TYPE_TSS16_BUSY     0x3
#define SEG_TYPE_TSS64_BUSY     0xb

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = v >> (8 * i);
    }
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = v >> (8 * i);
    }
}

/*
 * Pack an 8-byte descriptor from the same fields KVM uses for the hidden
 * part of a segment register, so the GDT and the loaded state agree.
 */
static uint64_t gdt_entry(const struct kvm_segment *seg)
{
    uint32_t limit = seg->g ? seg->limit >> 12 : seg->limit;
    uint64_t d = 0;

    d |= limit & 0xffff;
    d |= (uint64_t)(seg->base & 0xffffff) << 16;
    d |= (uint64_t)(seg->type & 0xf) << 40;
    d |= (uint64_t)(seg->s & 1) << 44;
    d |= (uint64_t)(seg->dpl & 3) << 45;
    d |= (uint64_t)(seg->present & 1) << 47;
    d |= (uint64_t)((limit >> 16) & 0xf) << 48;
    d |= (uint64_t)(seg->avl & 1) << 52;
    d |= (uint64_t)(seg->l & 1) << 53;
    d |= (uint64_t)(seg->db & 1) << 54;
    d |= (uint64_t)(seg->g & 1) << 55;
    d |= (uint64_t)((seg->base >> 24) & 0xff) << 56;
    return d;
}

static struct kvm_segment long_mode_code(void)
{
    return (struct kvm_segment) {
        .base = 0, .limit = 0xffffffff, .selector = X86_BOOT_SEL_CODE64,
        .type = SEG_TYPE_CODE_XR, .present = 1, .s = 1, .l = 1, .g = 1,
    };
}

static struct kvm_segment long_mode_data(void)
{
    return (struct kvm_segment) {
        .base = 0, .limit = 0xffffffff, .selector = X86_BOOT_SEL_DATA,
        .type = SEG_TYPE_DATA_RW, .present = 1, .s = 1, .db = 1, .g = 1,
    };
}

static struct kvm_segment long_mode_tss(void)
{
    return (struct kvm_segment) {
        .base = X86_BOOT_TSS_ADDR, .limit = X86_BOOT_TSS_LIMIT,
        .selector = X86_BOOT_SEL_TSS, .type = SEG_TYPE_TSS64_BUSY,
        .present = 1,
    };
}

static void write_gdt(uint8_t *ram)
{
    struct kvm_segment code = long_mode_code();
    struct kvm_segment data = long_mode_data();
    struct kvm_segment tss = long_mode_tss();
    uint8_t *gdt = ram + X86_BOOT_GDT_ADDR;

    memset(gdt, 0, X86_BOOT_GDT_ENTRIES * 8);
    put_le64(gdt + X86_BOOT_SEL_CODE64, gdt_entry(&code));
    put_le64(gdt + X86_BOOT_SEL_DATA, gdt_entry(&data));
    /* A long-mode system descriptor is 16 bytes: base[63:32] follows. */
    put_le64(gdt + X86_BOOT_SEL_TSS, gdt_entry(&tss));
    put_le64(gdt + X86_BOOT_SEL_TSS + 8, tss.base >> 32);
    memset(ram + X86_BOOT_TSS_ADDR, 0, X86_BOOT_TSS_LIMIT + 1);
}

/*
 * Accessed and dirty are set from the start: a CPU's page walker sets
 * them by writing the entries, and TCG's walker writes guest RAM behind
 * the back of dirty logging (tcg-all.c), so with the bits already set
 * the tables never change after boot.
 */
static void write_page_tables(uint8_t *ram)
{
    const uint64_t flags = X86_PTE_PRESENT | X86_PTE_WRITE |
                           X86_PTE_ACCESSED;

    memset(ram + X86_BOOT_PML4_ADDR, 0, X86_BOOT_TABLES_END -
           X86_BOOT_PML4_ADDR);
    put_le64(ram + X86_BOOT_PML4_ADDR, X86_BOOT_PDPT_ADDR | flags);
    for (uint64_t pd = 0; pd < PD_COUNT; pd++) {
        uint64_t pd_addr = X86_BOOT_PD_ADDR + pd * 0x1000;

        put_le64(ram + X86_BOOT_PDPT_ADDR + pd * 8, pd_addr | flags);
        for (uint64_t i = 0; i < PD_ENTRIES; i++) {
            uint64_t gpa = (pd * PD_ENTRIES + i) * PAGE_2M;

            put_le64(ram + pd_addr + i * 8,
                     gpa | flags | X86_PTE_DIRTY | X86_PTE_PS);
        }
    }
}

bool x86_boot_write_tables(uint8_t *ram, uint64_t ram_size, Error **errp)
{
    if (ram_size < X86_BOOT_RAM_MIN) {
        error_setg(errp, "RAM of %" PRIu64 " bytes is too small for the boot "
                   "layout (at least %llu bytes)", ram_size,
                   (unsigned long long)X86_BOOT_RAM_MIN);
        return false;
    }
    write_gdt(ram);
    write_page_tables(ram);
    return true;
}

uint64_t x86_boot_stack_top(unsigned int index)
{
    return X86_BOOT_STACK_TOP - (uint64_t)index * X86_BOOT_STACK_SIZE;
}

static void set_msr(X86VcpuState *s, uint32_t index, uint64_t data)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (s->msrs[i].index == index) {
            s->msrs[i].data = data;
            return;
        }
    }
    if (s->nmsrs < X86_VCPU_MAX_MSRS) {
        s->msrs[s->nmsrs++] = (X86VcpuMsr) { .index = index, .data = data };
    }
}

static void reset_msrs(X86VcpuState *s)
{
    static const uint32_t zeroed[] = {
        X86_MSR_IA32_TSC, X86_MSR_IA32_SYSENTER_CS,
        X86_MSR_IA32_SYSENTER_ESP, X86_MSR_IA32_SYSENTER_EIP,
        X86_MSR_STAR, X86_MSR_LSTAR, X86_MSR_CSTAR, X86_MSR_SFMASK,
        X86_MSR_FS_BASE, X86_MSR_GS_BASE, X86_MSR_KERNEL_GS_BASE,
    };

    s->nmsrs = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(zeroed); i++) {
        set_msr(s, zeroed[i], 0);
    }
    set_msr(s, X86_MSR_IA32_CR_PAT, X86_PAT_DEFAULT);
    set_msr(s, X86_MSR_IA32_MISC_ENABLE, X86_MISC_ENABLE_FAST_STRING);
}

static void reset_fpu(X86VcpuState *s)
{
    uint8_t *xsave = (uint8_t *)s->xsave.region;

    memset(&s->xsave, 0, sizeof(s->xsave));
    xsave[XSAVE_FCW_OFFSET] = FCW_RESET & 0xff;
    xsave[XSAVE_FCW_OFFSET + 1] = FCW_RESET >> 8;
    put_le32(xsave + XSAVE_MXCSR_OFFSET, MXCSR_RESET);
    /*
     * Mark x87 and SSE as present: KVM copies MXCSR only for those, and
     * a reset must not inherit the previous run's MXCSR.  Every other
     * component is absent from XSTATE_BV, i.e. in its initial state.
     */
    put_le64(xsave + XSAVE_XSTATE_BV_OFFSET, XSAVE_FP_SSE);

    memset(&s->xcrs, 0, sizeof(s->xcrs));
    s->xcrs.nr_xcrs = 1;
    s->xcrs.xcrs[0].xcr = 0;
    s->xcrs.xcrs[0].value = XCR0_X87;
}

static void real_mode_segment(struct kvm_segment *seg, uint16_t selector,
                              uint8_t type, bool system)
{
    *seg = (struct kvm_segment) {
        .base = (uint64_t)selector << 4, .limit = 0xffff,
        .selector = selector, .type = type, .present = 1, .s = !system,
    };
}

void x86_boot_reset_state(X86VcpuState *s, unsigned int index)
{
    struct kvm_sregs *sr = &s->sregs;

    memset(s, 0, sizeof(*s));
    s->regs.rflags = X86_RFLAGS_FIXED;
    s->regs.rip = 0xfff0;

    real_mode_segment(&sr->cs, 0xf000, SEG_TYPE_CODE_XR, false);
    sr->cs.base = 0xffff0000;
    real_mode_segment(&sr->ds, 0, SEG_TYPE_DATA_RW, false);
    sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
    real_mode_segment(&sr->ldt, 0, SEG_TYPE_LDT, true);
    real_mode_segment(&sr->tr, 0, SEG_TYPE_TSS16_BUSY, true);
    sr->gdt.limit = 0xffff;
    sr->idt.limit = 0xffff;
    sr->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
    sr->apic_base = X86_APIC_BASE_DEFAULT | X86_APIC_BASE_ENABLE |
                    (index == 0 ? X86_APIC_BASE_BSP : 0);

    reset_fpu(s);
    s->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
    s->debugregs.dr6 = DR6_RESET;
    s->debugregs.dr7 = DR7_RESET;
    reset_msrs(s);
}

void x86_boot_long_mode_state(X86VcpuState *s, unsigned int index,
                              unsigned int ncpus, uint64_t entry,
                              uint64_t fdt_gpa)
{
    struct kvm_sregs *sr = &s->sregs;

    x86_boot_reset_state(s, index);
    s->regs.rip = entry;
    s->regs.rsp = x86_boot_stack_top(index);
    s->regs.rdi = index;
    s->regs.rsi = fdt_gpa;
    s->regs.rdx = ncpus;

    sr->cs = long_mode_code();
    sr->ds = long_mode_data();
    sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
    sr->tr = long_mode_tss();
    sr->ldt.present = 0;
    sr->ldt.unusable = 1;
    sr->gdt.base = X86_BOOT_GDT_ADDR;
    sr->gdt.limit = X86_BOOT_GDT_ENTRIES * 8 - 1;
    /* No IDT: an exception becomes a triple fault, which stops the VM. */
    sr->idt.base = 0;
    sr->idt.limit = 0;
    sr->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
              X86_CR0_WP | X86_CR0_PG;
    sr->cr3 = X86_BOOT_PML4_ADDR;
    /* SSE enabled: compilers use it freely in 64-bit code. */
    sr->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    sr->efer = X86_EFER_LME | X86_EFER_LMA;
}

void x86_boot_real_mode_state(X86VcpuState *s, unsigned int index)
{
    struct kvm_sregs *sr = &s->sregs;

    x86_boot_reset_state(s, index);
    if (index != 0) {
        s->mp_state.mp_state = KVM_MP_STATE_UNINITIALIZED;
        return;
    }
    s->regs.rip = X86_BOOT_SECTOR_ADDR;
    s->regs.rsp = X86_BOOT_SECTOR_ADDR;
    s->regs.rdx = 0x80;
    real_mode_segment(&sr->cs, 0, SEG_TYPE_CODE_XR, false);
    sr->idt.limit = 0x3ff;
    /* Caches on, as firmware leaves them. */
    sr->cr0 = X86_CR0_ET;
}
