/*
 * Tests for the boot layout: page tables, GDT and the vCPU start states.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <glib.h>

#include "system/cpus.h"
#include "system/x86-boot.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define PDE_2M_ADDR_MASK 0x000fffffffe00000ULL

/* Guest RAM: reserved address space, only the touched pages are real. */
typedef struct TestRam {
    uint8_t *host;
    uint64_t size;
} TestRam;

static void test_ram_map(TestRam *ram, uint64_t size)
{
    ram->size = size;
    ram->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(ram->host != MAP_FAILED);
}

static void test_ram_unmap(TestRam *ram)
{
    munmap(ram->host, ram->size);
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*
 * Translate @va the way the MMU does with CR3 = @cr3 (4-level, 2 MiB
 * pages), checking every entry on the way; false when not mapped.
 */
static bool walk(const TestRam *ram, uint64_t cr3, uint64_t va,
                 uint64_t *pa)
{
    uint64_t table = cr3 & PTE_ADDR_MASK;
    const unsigned int shifts[] = { 39, 30, 21 };
    uint64_t e = 0;

    for (int level = 0; level < 3; level++) {
        uint64_t off = table + ((va >> shifts[level]) & 511) * 8;

        assert_true(off + 8 <= X86_BOOT_TABLES_END);
        e = get_le64(ram->host + off);
        if (!(e & X86_PTE_PRESENT)) {
            return false;
        }
        assert_true(e & X86_PTE_WRITE);
        assert_false(e & (1ULL << 2));          /* supervisor only */
        if (level < 2) {
            assert_false(e & X86_PTE_PS);       /* no 1 GiB pages */
            table = e & PTE_ADDR_MASK;
        }
    }
    assert_true(e & X86_PTE_PS);
    *pa = (e & PDE_2M_ADDR_MASK) | (va & (2 * MiB - 1));
    return true;
}

static void check_identity(const TestRam *ram, uint64_t va)
{
    uint64_t pa = ~0ULL;

    if (!walk(ram, X86_BOOT_PML4_ADDR, va, &pa)) {
        fail_msg("0x%" PRIx64 " is not mapped", va);
    }
    assert_int_equal(pa, va);
}

static void check_tables_for_ram(uint64_t ram_size)
{
    TestRam ram;
    uint64_t pa;
    Error *err = NULL;

    test_ram_map(&ram, ram_size);
    memset(ram.host, 0xcc, X86_BOOT_TABLES_END);   /* stale contents */
    assert_true(x86_boot_write_tables(ram.host, ram.size, &err));
    assert_null(err);

    /* All of RAM, every 2 MiB boundary and the bytes around it. */
    for (uint64_t a = 0; a < ram_size; a += 2 * MiB) {
        check_identity(&ram, a);
        check_identity(&ram, a + 2 * MiB - 1);
    }
    check_identity(&ram, ram_size - 1);
    /* The identity map covers 4 GiB whatever the RAM size (MMIO). */
    check_identity(&ram, 0xfee00000);
    check_identity(&ram, X86_BOOT_IDENTITY_MAP - 1);
    assert_false(walk(&ram, X86_BOOT_PML4_ADDR, X86_BOOT_IDENTITY_MAP, &pa));
    assert_false(walk(&ram, X86_BOOT_PML4_ADDR, 1ULL << 39, &pa));
    assert_false(walk(&ram, X86_BOOT_PML4_ADDR, 0xffff800000000000ULL, &pa));

    /* Nothing outside the tables' own pages was written. */
    for (uint64_t a = X86_BOOT_TABLES_END; a < X86_BOOT_TABLES_END + 4096;
         a++) {
        assert_int_equal(ram.host[a], 0);
    }
    test_ram_unmap(&ram);
}

static void test_tables_256m(void **state)
{
    check_tables_for_ram(256 * MiB);
}

static void test_tables_1g(void **state)
{
    check_tables_for_ram(1 * GiB);
}

static void test_tables_3g(void **state)
{
    check_tables_for_ram(3 * GiB);
}

static void test_tables_golden(void **state)
{
    TestRam ram;

    test_ram_map(&ram, 2 * MiB);
    assert_true(x86_boot_write_tables(ram.host, ram.size, NULL));
    /* Accessed (and dirty in the leaves) already: nothing writes them. */
    assert_int_equal(get_le64(ram.host + X86_BOOT_PML4_ADDR), 0x2023);
    assert_int_equal(get_le64(ram.host + X86_BOOT_PML4_ADDR + 8), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(get_le64(ram.host + X86_BOOT_PDPT_ADDR + i * 8),
                         0x3023 + i * 0x1000);
    }
    assert_int_equal(get_le64(ram.host + X86_BOOT_PDPT_ADDR + 32), 0);
    assert_int_equal(get_le64(ram.host + X86_BOOT_PD_ADDR), 0xe3);
    assert_int_equal(get_le64(ram.host + X86_BOOT_PD_ADDR + 8), 0x2000e3);
    assert_int_equal(get_le64(ram.host + 0x6ff8), 0xffe000e3);
    test_ram_unmap(&ram);
}

static void test_tables_ram_too_small(void **state)
{
    uint8_t small[X86_BOOT_TABLES_END] = { 0 };
    Error *err = NULL;

    assert_false(x86_boot_write_tables(small, X86_BOOT_RAM_MIN - 4096,
                                       &err));
    assert_non_null(err);
    assert_non_null(strstr(error_get_pretty(err), "too small"));
    error_free(err);
    for (size_t i = 0; i < sizeof(small); i++) {
        assert_int_equal(small[i], 0);
    }
}

static void test_gdt_golden(void **state)
{
    TestRam ram;
    const uint8_t *gdt;

    test_ram_map(&ram, 2 * MiB);
    memset(ram.host, 0xcc, X86_BOOT_TABLES_END);
    assert_true(x86_boot_write_tables(ram.host, ram.size, NULL));
    gdt = ram.host + X86_BOOT_GDT_ADDR;
    assert_int_equal(get_le64(gdt), 0);
    /* 64-bit code: P, DPL 0, S, execute/read/accessed, L, G, limit max. */
    assert_int_equal(get_le64(gdt + X86_BOOT_SEL_CODE64),
                     0x00af9b000000ffffULL);
    /* Data: P, S, read/write/accessed, D/B, G, limit max. */
    assert_int_equal(get_le64(gdt + X86_BOOT_SEL_DATA),
                     0x00cf93000000ffffULL);
    /* Busy 64-bit TSS at X86_BOOT_TSS_ADDR, 104 bytes, then base[63:32]. */
    assert_int_equal(get_le64(gdt + X86_BOOT_SEL_TSS),
                     0x00008b0005800067ULL);
    assert_int_equal(get_le64(gdt + X86_BOOT_SEL_TSS + 8), 0);
    for (int i = 0; i <= X86_BOOT_TSS_LIMIT; i++) {
        assert_int_equal(ram.host[X86_BOOT_TSS_ADDR + i], 0);
    }
    test_ram_unmap(&ram);
}

/* Decode a GDT entry into the fields of a kvm_segment. */
static void assert_descriptor_matches(uint64_t d,
                                      const struct kvm_segment *seg)
{
    uint32_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);
    uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);

    if ((d >> 55) & 1) {
        limit = (limit << 12) | 0xfff;
    }
    assert_int_equal(base, seg->base);
    assert_int_equal(limit, seg->limit);
    assert_int_equal((d >> 40) & 0xf, seg->type);
    assert_int_equal((d >> 44) & 1, seg->s);
    assert_int_equal((d >> 45) & 3, seg->dpl);
    assert_int_equal((d >> 47) & 1, seg->present);
    assert_int_equal((d >> 53) & 1, seg->l);
    assert_int_equal((d >> 54) & 1, seg->db);
    assert_int_equal((d >> 55) & 1, seg->g);
}

static void test_long_mode_state(void **state)
{
    TestRam ram;
    X86VcpuState s;
    const struct kvm_sregs *sr = &s.sregs;
    const uint8_t *gdt;

    test_ram_map(&ram, 2 * MiB);
    assert_true(x86_boot_write_tables(ram.host, ram.size, NULL));
    gdt = ram.host + X86_BOOT_GDT_ADDR;

    x86_boot_long_mode_state(&s, 3, 4, 0x10000, X86_BOOT_FDT_ADDR);
    assert_int_equal(s.regs.rip, 0x10000);
    assert_int_equal(s.regs.rsp, 0x80000 - 3 * 0x2000);
    assert_int_equal(s.regs.rdi, 3);
    assert_int_equal(s.regs.rsi, 0x9000);
    assert_int_equal(s.regs.rdx, 4);
    assert_int_equal(s.regs.rflags, 0x2);        /* IF clear */
    assert_int_equal(sr->cr0, 0x80010033);       /* PG WP NE ET MP PE */
    assert_int_equal(sr->cr3, 0x1000);
    assert_int_equal(sr->cr4, 0x620);            /* OSXMMEXCPT OSFXSR PAE */
    assert_int_equal(sr->efer, 0x500);           /* LMA LME */
    assert_int_equal(sr->gdt.base, 0x500);
    assert_int_equal(sr->gdt.limit, X86_BOOT_GDT_ENTRIES * 8 - 1);
    assert_int_equal(sr->idt.limit, 0);
    assert_int_equal(sr->cs.selector, X86_BOOT_SEL_CODE64);
    assert_int_equal(sr->cs.l, 1);
    assert_int_equal(sr->cs.db, 0);
    assert_int_equal(sr->tr.selector, X86_BOOT_SEL_TSS);
    assert_int_equal(sr->ldt.unusable, 1);
    assert_int_equal(sr->apic_base & X86_APIC_BASE_BSP, 0);

    /* The hidden parts match the descriptors the guest may reload. */
    assert_descriptor_matches(get_le64(gdt + sr->cs.selector), &sr->cs);
    assert_descriptor_matches(get_le64(gdt + sr->tr.selector), &sr->tr);
    assert_descriptor_matches(get_le64(gdt + X86_BOOT_SEL_DATA), &sr->ds);
    assert_memory_equal(&sr->ds, &sr->ss, sizeof(sr->ds));
    assert_memory_equal(&sr->ds, &sr->es, sizeof(sr->ds));
    assert_memory_equal(&sr->ds, &sr->fs, sizeof(sr->ds));
    assert_memory_equal(&sr->ds, &sr->gs, sizeof(sr->ds));
    assert_int_equal(s.mp_state.mp_state, KVM_MP_STATE_RUNNABLE);
    test_ram_unmap(&ram);
}

static void test_stacks(void **state)
{
    X86VcpuState s;

    for (unsigned int i = 0; i < MAX_CPUS; i++) {
        x86_boot_long_mode_state(&s, i, MAX_CPUS, 0x10000, 0x9000);
        assert_int_equal(s.regs.rsp, x86_boot_stack_top(i));
        assert_int_equal(s.regs.rsp % 16, 0);
        assert_true(s.regs.rsp - X86_BOOT_STACK_SIZE >=
                    X86_BOOT_STACK_BOTTOM);
        assert_true(s.regs.rsp <= X86_BOOT_STACK_TOP);
    }
    x86_boot_long_mode_state(&s, 0, 1, 0x10000, 0x9000);
    assert_true(s.sregs.apic_base & X86_APIC_BASE_BSP);
}

static uint64_t find_msr(const X86VcpuState *s, uint32_t index)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (s->msrs[i].index == index) {
            return s->msrs[i].data;
        }
    }
    fail_msg("MSR 0x%x missing", index);
    return 0;
}

static void test_reset_state(void **state)
{
    X86VcpuState s;
    const uint8_t *xsave = (const uint8_t *)s.xsave.region;

    memset(&s, 0xab, sizeof(s));
    x86_boot_reset_state(&s, 0);
    assert_int_equal(s.regs.rip, 0xfff0);
    assert_int_equal(s.sregs.cs.selector, 0xf000);
    assert_int_equal(s.sregs.cs.base, 0xffff0000);
    assert_int_equal(s.sregs.cr0, 0x60000010);
    assert_int_equal(s.sregs.efer, 0);
    assert_int_equal(xsave[0] | xsave[1] << 8, 0x37f);           /* FCW */
    assert_int_equal(get_le64(xsave + 24) & 0xffffffff, 0x1f80);  /* MXCSR */
    assert_int_equal(get_le64(xsave + 512), 0x3);                /* BV */
    assert_int_equal(get_le64(xsave + 520), 0);                  /* XCOMP */
    assert_int_equal(s.xcrs.nr_xcrs, 1);
    assert_int_equal(s.xcrs.xcrs[0].value, 1);
    assert_int_equal(s.debugregs.dr6, 0xffff0ff0);
    assert_int_equal(s.debugregs.dr7, 0x400);
    assert_int_equal(s.events.flags, 0);
    assert_int_equal(find_msr(&s, X86_MSR_IA32_CR_PAT), X86_PAT_DEFAULT);
    assert_int_equal(find_msr(&s, X86_MSR_IA32_MISC_ENABLE), 1);
    assert_int_equal(find_msr(&s, X86_MSR_LSTAR), 0);
    assert_int_equal(find_msr(&s, X86_MSR_KERNEL_GS_BASE), 0);
    assert_true(s.nmsrs <= X86_VCPU_MAX_MSRS);
    for (size_t i = 0; i < sizeof(s.lapic); i++) {
        assert_int_equal(((uint8_t *)&s.lapic)[i], 0);
    }
}

static void test_real_mode_state(void **state)
{
    X86VcpuState s;

    x86_boot_real_mode_state(&s, 0);
    assert_int_equal(s.regs.rip, 0x7c00);
    assert_int_equal(s.regs.rdx, 0x80);
    assert_int_equal(s.regs.rsp, 0x7c00);
    assert_int_equal(s.regs.rflags, 0x2);
    assert_int_equal(s.sregs.cs.selector, 0);
    assert_int_equal(s.sregs.cs.base, 0);
    assert_int_equal(s.sregs.cs.limit, 0xffff);
    assert_int_equal(s.sregs.ss.base, 0);
    assert_int_equal(s.sregs.cr0 & X86_CR0_PE, 0);
    assert_int_equal(s.sregs.cr0 & (X86_CR0_CD | X86_CR0_NW), 0);
    assert_int_equal(s.sregs.idt.base, 0);
    assert_int_equal(s.sregs.idt.limit, 0x3ff);
    assert_int_equal(s.mp_state.mp_state, KVM_MP_STATE_RUNNABLE);

    /* Only the boot processor runs a boot sector. */
    for (unsigned int i = 1; i < 4; i++) {
        x86_boot_real_mode_state(&s, i);
        assert_int_equal(s.mp_state.mp_state, KVM_MP_STATE_UNINITIALIZED);
        assert_int_equal(s.sregs.apic_base & X86_APIC_BASE_BSP, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_256m),
        cmocka_unit_test(test_tables_1g),
        cmocka_unit_test(test_tables_3g),
        cmocka_unit_test(test_tables_golden),
        cmocka_unit_test(test_tables_ram_too_small),
        cmocka_unit_test(test_gdt_golden),
        cmocka_unit_test(test_long_mode_state),
        cmocka_unit_test(test_stacks),
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_real_mode_state),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
