/*
 * The x86 state layer of the TCG accelerator on bare engines: a state
 * loaded in each mode runs from where it says and reads back with what
 * the guest changed (general, segment, x87 and SSE registers, RAM), a
 * state that is not runnable is kept as it is, a reloaded segment gets
 * its hidden part from the GDT, and states Unicorn cannot hold are
 * refused with a reason.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "system/ram.h"
#include "system/tcg.h"
#include "system/x86-boot.h"

#define MiB (1024 * 1024)
#define RAM_SIZE (2 * MiB)
#define CODE64_ADDR 0x10000
#define CODE32_ADDR 0x11000
#define CODE16_ADDR 0x7c00
#define DATA_ADDR 0x20000
#define GDT32_ADDR 0x700

#define XSAVE_FSW 2
#define XSAVE_FTW 4
#define XSAVE_ST 32
#define XSAVE_XMM 160
#define XSAVE_XSTATE_BV 512

/* movabs $0x1122334455667788,%rax; movq %rax,%xmm3; add $1,%rbx;
 * mov %rax,0x20000; fld1; add $1,%rbx; hlt */
static const uint8_t code64[] = {
    0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
    0x66, 0x48, 0x0f, 0x6e, 0xd8,
    0x48, 0x83, 0xc3, 0x01,
    0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00,
    0xd9, 0xe8,
    0x48, 0x83, 0xc3, 0x01,
    0xf4,
};
#define CODE64_INSNS 6

/* mov $5,%eax; inc %ebx; mov %eax,0x20000; mov $0x18,%ax; mov %ax,%ds;
 * hlt */
static const uint8_t code32[] = {
    0xb8, 0x05, 0x00, 0x00, 0x00,
    0x43,
    0xa3, 0x00, 0x00, 0x02, 0x00,
    0x66, 0xb8, 0x18, 0x00,
    0x8e, 0xd8,
    0xf4,
};
#define CODE32_INSNS 5

/* mov $0x1234,%ax; inc %bx; hlt */
static const uint8_t code16[] = { 0xb8, 0x34, 0x12, 0x43, 0xf4 };

/* null, flat 32-bit code, flat data, data based at 0x1000 (limit 1 MiB) */
static const uint64_t gdt32[] = {
    0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL, 0x004f92001000ffffULL,
};

typedef struct Fixture {
    RAMBlock *ram;
    TCGX86Cpu *cpu;
    X86VcpuState *in, *out;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->ram = ram_block_add("pc.ram", 0, RAM_SIZE, &error_abort);
    assert_true(x86_boot_write_tables(f->ram->host, RAM_SIZE, NULL));
    memcpy(f->ram->host + CODE64_ADDR, code64, sizeof(code64));
    memcpy(f->ram->host + CODE32_ADDR, code32, sizeof(code32));
    memcpy(f->ram->host + CODE16_ADDR, code16, sizeof(code16));
    memcpy(f->ram->host + GDT32_ADDR, gdt32, sizeof(gdt32));
    f->cpu = tcg_x86_cpu_new(0, NULL, NULL);
    f->in = g_new0(X86VcpuState, 1);
    f->out = g_new0(X86VcpuState, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    tcg_x86_cpu_free(f->cpu);
    g_free(f->in);
    g_free(f->out);
    ram_block_remove_all();
    g_free(f);
    return 0;
}

static uint64_t msr_of(const X86VcpuState *s, uint32_t index)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (s->msrs[i].index == index) {
            return s->msrs[i].data;
        }
    }
    fail_msg("MSR 0x%x missing", index);
    return 0;
}

static void set_msr(X86VcpuState *s, uint32_t index, uint64_t data)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (s->msrs[i].index == index) {
            s->msrs[i].data = data;
            return;
        }
    }
    fail_msg("MSR 0x%x missing", index);
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Loaded and read back before it ran: exactly what was loaded. */
static void assert_reads_back(Fixture *f)
{
    assert_true(tcg_x86_cpu_set_state(f->cpu, f->in, &error_abort));
    assert_true(tcg_x86_cpu_get_state(f->cpu, f->out, &error_abort));
    assert_memory_equal(f->in, f->out, sizeof(*f->in));
}

static void test_long_mode(void **state)
{
    Fixture *f = *state;
    const uint8_t *x = (const uint8_t *)f->out->xsave.region;

    x86_boot_long_mode_state(f->in, 0, 1, CODE64_ADDR, X86_BOOT_FDT_ADDR);
    f->in->regs.rbx = 40;
    f->in->regs.r15 = 42;
    f->in->debugregs.db[0] = 0x1000;
    set_msr(f->in, X86_MSR_STAR, 0x0023001000000000ULL);
    set_msr(f->in, X86_MSR_IA32_TSC, 12345);
    assert_reads_back(f);

    assert_true(tcg_x86_cpu_step(f->cpu, CODE64_INSNS, &error_abort));
    assert_true(tcg_x86_cpu_get_state(f->cpu, f->out, &error_abort));
    assert_int_equal(f->out->regs.rax, 0x1122334455667788ULL);
    assert_int_equal(f->out->regs.rbx, 42);
    assert_int_equal(f->out->regs.r15, 42);
    assert_int_equal(f->out->regs.rip, CODE64_ADDR + sizeof(code64) - 1);
    assert_int_equal(get_le64(f->ram->host + DATA_ADDR),
                     0x1122334455667788ULL);
    /* SSE: xmm3 holds rax; x87: fld1 pushed 1.0, TOP is 7. */
    assert_int_equal(get_le64(x + XSAVE_XMM + 3 * 16),
                     0x1122334455667788ULL);
    assert_int_equal(get_le64(x + XSAVE_ST), 0x8000000000000000ULL);
    assert_int_equal(x[XSAVE_ST + 8] | x[XSAVE_ST + 9] << 8, 0x3fff);
    assert_int_equal((x[XSAVE_FSW] | x[XSAVE_FSW + 1] << 8) >> 11 & 7, 7);
    assert_int_equal(x[XSAVE_FTW], 0x80);
    assert_int_equal(get_le64(x + XSAVE_XSTATE_BV) & 3, 3);
    /* What the guest did not touch is as it was loaded. */
    assert_memory_equal(&f->out->sregs, &f->in->sregs,
                        sizeof(f->in->sregs));
    assert_int_equal(f->out->debugregs.db[0], 0x1000);
    assert_int_equal(msr_of(f->out, X86_MSR_STAR), 0x0023001000000000ULL);
    assert_int_equal(msr_of(f->out, X86_MSR_IA32_TSC), 12345);
    assert_int_equal(f->out->nmsrs, f->in->nmsrs);

    /* And it goes on from there. */
    assert_true(tcg_x86_cpu_set_state(f->cpu, f->out, &error_abort));
    assert_true(tcg_x86_cpu_step(f->cpu, 1, &error_abort));
    assert_true(tcg_x86_cpu_get_state(f->cpu, f->in, &error_abort));
    assert_int_equal(f->in->regs.rip, CODE64_ADDR + sizeof(code64));
    assert_int_equal(f->in->regs.rbx, 42);
}

static void protected_mode_state(X86VcpuState *s)
{
    struct kvm_sregs *sr = &s->sregs;

    x86_boot_reset_state(s, 0);
    s->regs.rip = CODE32_ADDR;
    s->regs.rbx = 7;
    sr->cr0 = X86_CR0_PE | X86_CR0_ET;
    sr->gdt.base = GDT32_ADDR;
    sr->gdt.limit = sizeof(gdt32) - 1;
    sr->cs = (struct kvm_segment) {
        .selector = 0x08, .limit = 0xffffffff, .type = 0xb, .s = 1,
        .present = 1, .db = 1, .g = 1,
    };
    sr->ds = (struct kvm_segment) {
        .selector = 0x10, .limit = 0xffffffff, .type = 0x3, .s = 1,
        .present = 1, .db = 1, .g = 1,
    };
    sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
}

static void test_protected_mode(void **state)
{
    Fixture *f = *state;

    protected_mode_state(f->in);
    assert_reads_back(f);
    assert_true(tcg_x86_cpu_step(f->cpu, CODE32_INSNS, &error_abort));
    assert_true(tcg_x86_cpu_get_state(f->cpu, f->out, &error_abort));
    assert_int_equal(f->out->regs.rax, 0x18);
    assert_int_equal(f->out->regs.rbx, 8);
    assert_int_equal(f->out->regs.rip, CODE32_ADDR + sizeof(code32) - 1);
    assert_int_equal(*(uint32_t *)(f->ram->host + DATA_ADDR), 5);
    /* DS was reloaded: its hidden part is the new descriptor's. */
    assert_int_equal(f->out->sregs.ds.selector, 0x18);
    assert_int_equal(f->out->sregs.ds.base, 0x1000);
    assert_int_equal(f->out->sregs.ds.limit, 0xfffff);
    assert_int_equal(f->out->sregs.ds.g, 0);
    assert_memory_equal(&f->out->sregs.cs, &f->in->sregs.cs,
                        sizeof(f->in->sregs.cs));

    /* That state loads again: DS matches descriptor 0x18. */
    assert_true(tcg_x86_cpu_set_state(f->cpu, f->out, &error_abort));
}

static void test_real_mode(void **state)
{
    Fixture *f = *state;

    x86_boot_real_mode_state(f->in, 0);
    f->in->regs.rbx = 0xffff;
    assert_reads_back(f);
    assert_true(tcg_x86_cpu_step(f->cpu, 2, &error_abort));
    assert_true(tcg_x86_cpu_get_state(f->cpu, f->out, &error_abort));
    assert_int_equal(f->out->regs.rax & 0xffff, 0x1234);
    assert_int_equal(f->out->regs.rbx, 0);
    assert_int_equal(f->out->regs.rip, CODE16_ADDR + 4);
    assert_memory_equal(&f->out->sregs.cs, &f->in->sregs.cs,
                        sizeof(f->in->sregs.cs));
}

/* A parked vCPU's state is kept whole, even one Unicorn could not run. */
static void test_not_runnable_kept(void **state)
{
    Fixture *f = *state;
    Error *err = NULL;

    x86_boot_reset_state(f->in, 1);
    f->in->mp_state.mp_state = KVM_MP_STATE_UNINITIALIZED;
    assert_true(tcg_x86_cpu_set_state(f->cpu, f->in, &error_abort));
    assert_true(tcg_x86_cpu_get_state(f->cpu, f->out, &error_abort));
    f->out->mp_state = f->in->mp_state;
    assert_memory_equal(f->in, f->out, sizeof(*f->in));
    assert_false(tcg_x86_cpu_step(f->cpu, 1, &err));
    error_free(err);
}

static void assert_refused(Fixture *f, const char *why)
{
    Error *err = NULL;

    assert_false(tcg_x86_cpu_set_state(f->cpu, f->in, &err));
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), why)) {
        fail_msg("'%s' does not say '%s'", error_get_pretty(err), why);
    }
    error_free(err);
}

static void test_refused(void **state)
{
    Fixture *f = *state;
    uint64_t bv = 0x7;

    x86_boot_long_mode_state(f->in, 0, 1, CODE64_ADDR, X86_BOOT_FDT_ADDR);
    f->in->sregs.cs.l = 0;
    f->in->sregs.cs.db = 1;
    assert_refused(f, "compatibility mode");

    x86_boot_long_mode_state(f->in, 0, 1, CODE64_ADDR, X86_BOOT_FDT_ADDR);
    f->in->sregs.cs.selector |= 3;
    assert_refused(f, "ring 3");

    x86_boot_long_mode_state(f->in, 0, 1, CODE64_ADDR, X86_BOOT_FDT_ADDR);
    f->in->events.exception.injected = 1;
    f->in->events.exception.nr = 13;
    assert_refused(f, "pending event (exception 13");

    x86_boot_long_mode_state(f->in, 0, 1, CODE64_ADDR, X86_BOOT_FDT_ADDR);
    memcpy((uint8_t *)f->in->xsave.region + XSAVE_XSTATE_BV, &bv,
           sizeof(bv));
    assert_refused(f, "beyond x87 and SSE");

    x86_boot_long_mode_state(f->in, 0, 1, CODE64_ADDR, X86_BOOT_FDT_ADDR);
    f->in->sregs.fs.selector = 0x48;
    assert_refused(f, "past the GDT limit");

    protected_mode_state(f->in);
    f->in->sregs.cs.base = 0x1000;
    assert_refused(f, "is not what descriptor 0x8 in the GDT gives");

    protected_mode_state(f->in);
    f->in->sregs.ss.selector = 0x08;
    f->in->sregs.ss.type = 0xb;
    assert_refused(f, "cannot be loaded there");

    x86_boot_real_mode_state(f->in, 0);
    f->in->sregs.ds.base = 0x10000;
    assert_refused(f, "unreal mode");

    x86_boot_real_mode_state(f->in, 0);
    f->in->regs.rflags |= 1 << 17;
    assert_refused(f, "virtual-8086");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_long_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protected_mode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_real_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_runnable_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
