/*
 * Tests for the KVM vCPU state layer and the boot states on a real vCPU:
 * tiny guests started in long mode and in real mode report their
 * registers over port I/O; state read back, loaded and read again is
 * unchanged.  Skipped where /dev/kvm is missing or unusable.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "system/kvm.h"
#include "system/x86-boot.h"
#include "kvm-test.h"
#include "test-require.h"

#define RAM_SIZE (16ULL << 20)
#define CODE_ADDR 0x100000
#define REPORT_PORT 0x10
#define MAGIC_2M 0x1122334455667788ULL
#define MAGIC_END 0x0badc0deULL

typedef struct TestVm {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *ram;
    KVMX86Caps caps;
} TestVm;

/* Reports EDI, ESI, EDX, ESP, a pushed value, two loads, an MMIO load. */
static const uint8_t long_mode_code[] = {
    0x89, 0xf8, 0xe7, 0x10,             /* mov %edi,%eax; out %eax,$0x10 */
    0x89, 0xf0, 0xe7, 0x10,             /* mov %esi,%eax; out */
    0x89, 0xd0, 0xe7, 0x10,             /* mov %edx,%eax; out */
    0x89, 0xe0, 0xe7, 0x10,             /* mov %esp,%eax; out */
    0x6a, 0x2a, 0x58, 0xe7, 0x10,       /* push $0x2a; pop %rax; out */
    0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, /* mov 0x200000,%rax */
    0xe7, 0x10,
    0x48, 0x8b, 0x04, 0x25, 0x00, 0xf0, 0xff, 0x00, /* mov 0xfff000,%rax */
    0xe7, 0x10,
    0xa1, 0x00, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, /* MMIO load */
    0xe7, 0x10,
    0xf4,                               /* hlt */
};

/* Reports DL (byte), CS and SP (words). */
static const uint8_t boot_sector_code[] = {
    0x88, 0xd0, 0xe6, 0x10,             /* mov %dl,%al; out %al,$0x10 */
    0x8c, 0xc8, 0xe7, 0x10,             /* mov %cs,%ax; out %ax,$0x10 */
    0x89, 0xe0, 0xe7, 0x10,             /* mov %sp,%ax; out %ax,$0x10 */
    0xf4,                               /* hlt */
};

static const uint8_t ud2_code[] = { 0x0f, 0x0b };

static int vm_ioctl(int fd, unsigned long req, unsigned long arg)
{
    int ret;

    do {
        ret = ioctl(fd, req, arg);
    } while (ret < 0 && errno == EINTR);
    return ret;
}

static void test_vm_close(TestVm *vm)
{
    if (vm->run) {
        munmap(vm->run, vm->run_size);
    }
    if (vm->ram) {
        munmap(vm->ram, RAM_SIZE);
    }
    if (vm->vcpu_fd >= 0) {
        close(vm->vcpu_fd);
    }
    if (vm->vm_fd >= 0) {
        close(vm->vm_fd);
    }
    if (vm->kvm_fd >= 0) {
        close(vm->kvm_fd);
    }
    kvm_x86_caps_cleanup(&vm->caps);
}

/*
 * A VM with RAM at 0 and one vCPU numbered @index, set up as colo-vm does.
 * Skips the case when KVM is not usable, so a case calls it before it
 * allocates anything.
 */
static void test_vm_open(TestVm *vm, unsigned int index)
{
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
    };
    uint64_t identity_map = KVM_IDENTITY_MAP_ADDR;
    int size;

    TEST_REQUIRE(kvm_test_usable(), kvm_test_unmet());
    memset(vm, 0, sizeof(*vm));
    vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    assert_true(vm->kvm_fd >= 0);
    vm->vm_fd = vm_ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    assert_true(vm->vm_fd >= 0);
    assert_int_equal(vm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR,
                              (unsigned long)&identity_map), 0);
    assert_int_equal(vm_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR), 0);
    vm->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(vm->ram != MAP_FAILED);
    region.userspace_addr = (uintptr_t)vm->ram;
    assert_int_equal(vm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION,
                              (unsigned long)&region), 0);
    vm->vcpu_fd = vm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
    assert_true(vm->vcpu_fd >= 0);
    size = vm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    assert_true(size >= (int)sizeof(struct kvm_run));
    vm->run_size = size;
    vm->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   vm->vcpu_fd, 0);
    assert_true(vm->run != MAP_FAILED);
    assert_true(kvm_x86_caps_init(&vm->caps, vm->kvm_fd, &error_abort));
    assert_true(kvm_x86_vcpu_setup(&vm->caps, vm->vcpu_fd, index,
                                   &error_abort));
}

static uint32_t run_vcpu(TestVm *vm)
{
    assert_int_equal(vm_ioctl(vm->vcpu_fd, KVM_RUN, 0), 0);
    return vm->run->exit_reason;
}

static void expect_out(TestVm *vm, unsigned int size, uint32_t value)
{
    struct kvm_run *run = vm->run;
    uint32_t got = 0;

    assert_int_equal(run_vcpu(vm), KVM_EXIT_IO);
    assert_int_equal(run->io.direction, KVM_EXIT_IO_OUT);
    assert_int_equal(run->io.port, REPORT_PORT);
    assert_int_equal(run->io.size, size);
    assert_int_equal(run->io.count, 1);
    memcpy(&got, (uint8_t *)run + run->io.data_offset, size);
    assert_int_equal(got, value);
}

static void boot_long_mode(TestVm *vm, unsigned int index, const void *code,
                           size_t len)
{
    X86VcpuState s;

    assert_true(x86_boot_write_tables(vm->ram, RAM_SIZE, &error_abort));
    memcpy(vm->ram + CODE_ADDR, code, len);
    x86_boot_long_mode_state(&s, index, 3, CODE_ADDR, X86_BOOT_FDT_ADDR);
    assert_true(kvm_x86_set_state(vm->vcpu_fd, &s, &error_abort));
}

static void test_long_mode_boot(void **state)
{
    TestVm vm;
    uint64_t magic = MAGIC_2M, magic_end = MAGIC_END;

    test_vm_open(&vm, 2);
    boot_long_mode(&vm, 2, long_mode_code, sizeof(long_mode_code));
    memcpy(vm.ram + 0x200000, &magic, sizeof(magic));
    memcpy(vm.ram + 0xfff000, &magic_end, sizeof(magic_end));

    expect_out(&vm, 4, 2);                          /* RDI = index */
    expect_out(&vm, 4, X86_BOOT_FDT_ADDR);          /* RSI = FDT */
    expect_out(&vm, 4, 3);                          /* RDX = vCPUs */
    expect_out(&vm, 4, 0x80000 - 2 * 0x2000);       /* own stack */
    expect_out(&vm, 4, 0x2a);
    expect_out(&vm, 4, (uint32_t)MAGIC_2M);
    expect_out(&vm, 4, MAGIC_END);
    assert_int_equal(run_vcpu(&vm), KVM_EXIT_MMIO);
    assert_int_equal(vm.run->mmio.phys_addr, 0xfee00000);
    assert_int_equal(vm.run->mmio.is_write, 0);
    memset(vm.run->mmio.data, 0xff, sizeof(vm.run->mmio.data));
    expect_out(&vm, 4, 0xffffffff);
    assert_int_equal(run_vcpu(&vm), KVM_EXIT_HLT);
    /* The stack page really was the one the protocol names. */
    assert_int_equal(vm.ram[0x80000 - 2 * 0x2000 - 8], 0x2a);
    test_vm_close(&vm);
}

static void test_exception_is_triple_fault(void **state)
{
    TestVm vm;

    test_vm_open(&vm, 0);
    boot_long_mode(&vm, 0, ud2_code, sizeof(ud2_code));
    assert_int_equal(run_vcpu(&vm), KVM_EXIT_SHUTDOWN);
    test_vm_close(&vm);
}

static void test_real_mode_boot(void **state)
{
    TestVm vm;
    X86VcpuState s;

    test_vm_open(&vm, 0);
    memcpy(vm.ram + X86_BOOT_SECTOR_ADDR, boot_sector_code,
           sizeof(boot_sector_code));
    x86_boot_real_mode_state(&s, 0);
    assert_true(kvm_x86_set_state(vm.vcpu_fd, &s, &error_abort));
    expect_out(&vm, 1, 0x80);
    expect_out(&vm, 2, 0);
    expect_out(&vm, 2, 0x7c00);
    assert_int_equal(run_vcpu(&vm), KVM_EXIT_HLT);
    test_vm_close(&vm);
}

static X86VcpuMsr *find_msr(X86VcpuState *s, uint32_t index)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (s->msrs[i].index == index) {
            return &s->msrs[i];
        }
    }
    fail_msg("MSR 0x%x is not saved", index);
    return NULL;
}

/*
 * Equal except for the TSC, which runs on between the two reads.
 */
static void assert_states_equal(X86VcpuState *a, X86VcpuState *b)
{
    X86VcpuMsr *tsc_a = find_msr(a, X86_MSR_IA32_TSC);
    X86VcpuMsr *tsc_b = find_msr(b, X86_MSR_IA32_TSC);

    assert_true(tsc_b->data >= tsc_a->data);
    tsc_b->data = tsc_a->data;
    assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
    assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
    assert_memory_equal(&a->xsave, &b->xsave, sizeof(a->xsave));
    assert_memory_equal(&a->xcrs, &b->xcrs, sizeof(a->xcrs));
    assert_memory_equal(&a->events, &b->events, sizeof(a->events));
    assert_memory_equal(&a->debugregs, &b->debugregs,
                        sizeof(a->debugregs));
    assert_int_equal(a->nmsrs, b->nmsrs);
    assert_memory_equal(a->msrs, b->msrs, sizeof(a->msrs));
    assert_memory_equal(a, b, sizeof(*a));
}

static void test_state_round_trip(void **state)
{
    TestVm vm;
    X86VcpuState *s1, *s2;

    test_vm_open(&vm, 1);
    s1 = g_new(X86VcpuState, 1);
    s2 = g_new(X86VcpuState, 1);
    boot_long_mode(&vm, 1, long_mode_code, sizeof(long_mode_code));
    for (int exits = 0; run_vcpu(&vm) != KVM_EXIT_HLT; exits++) {
        assert_true(exits < 16);
        memset(vm.run->mmio.data, 0xff, sizeof(vm.run->mmio.data));
    }

    /* What a 64-bit kernel would have set up. */
    assert_true(kvm_x86_get_state(&vm.caps, vm.vcpu_fd, s1, &error_abort));
    assert_true(s1->nmsrs >= 12);
    s1->regs.r15 = 0xfedcba9876543210ULL;
    find_msr(s1, X86_MSR_LSTAR)->data = 0xffffffff81000000ULL;
    find_msr(s1, X86_MSR_STAR)->data = 0x0023001000000000ULL;
    find_msr(s1, X86_MSR_SFMASK)->data = 0x47700;
    find_msr(s1, X86_MSR_KERNEL_GS_BASE)->data = 0xffff888000001000ULL;
    find_msr(s1, X86_MSR_IA32_SYSENTER_EIP)->data = 0xffffffff81000100ULL;
    s1->debugregs.db[0] = 0x10000;
    assert_true(kvm_x86_set_state(vm.vcpu_fd, s1, &error_abort));

    /* get, set, get: nothing changes. */
    assert_true(kvm_x86_get_state(&vm.caps, vm.vcpu_fd, s1, &error_abort));
    assert_int_equal(s1->regs.r15, 0xfedcba9876543210ULL);
    assert_int_equal(find_msr(s1, X86_MSR_LSTAR)->data,
                     0xffffffff81000000ULL);
    assert_int_equal(s1->sregs.efer & X86_EFER_LMA, X86_EFER_LMA);
    assert_true(kvm_x86_set_state(vm.vcpu_fd, s1, &error_abort));
    assert_true(kvm_x86_get_state(&vm.caps, vm.vcpu_fd, s2, &error_abort));
    assert_states_equal(s1, s2);

    g_free(s1);
    g_free(s2);
    test_vm_close(&vm);
}

static void test_reset_state_accepted(void **state)
{
    TestVm vm;
    X86VcpuState *s;

    test_vm_open(&vm, 0);
    s = g_new(X86VcpuState, 1);
    boot_long_mode(&vm, 0, long_mode_code, sizeof(long_mode_code));
    x86_boot_reset_state(s, 0);
    assert_true(kvm_x86_set_state(vm.vcpu_fd, s, &error_abort));
    assert_true(kvm_x86_get_state(&vm.caps, vm.vcpu_fd, s, &error_abort));
    assert_int_equal(s->regs.rip, 0xfff0);
    assert_int_equal(s->sregs.cs.base, 0xffff0000);
    assert_int_equal(s->sregs.efer, 0);
    assert_int_equal(find_msr(s, X86_MSR_IA32_CR_PAT)->data,
                     X86_PAT_DEFAULT);
    g_free(s);
    test_vm_close(&vm);
}

static void test_bad_msr_refused(void **state)
{
    TestVm vm;
    X86VcpuState *s;
    Error *err = NULL;

    test_vm_open(&vm, 0);
    s = g_new(X86VcpuState, 1);
    x86_boot_reset_state(s, 0);
    s->msrs[s->nmsrs++] = (X86VcpuMsr) { .index = 0xdeadbeef, .data = 1 };
    assert_false(kvm_x86_set_state(vm.vcpu_fd, s, &err));
    assert_non_null(strstr(error_get_pretty(err), "MSR 0xdeadbeef"));
    error_free(err);
    err = NULL;
    s->nmsrs = X86_VCPU_MAX_MSRS + 1;
    assert_false(kvm_x86_set_state(vm.vcpu_fd, s, &err));
    assert_non_null(err);
    error_free(err);
    g_free(s);
    test_vm_close(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_mode_boot),
        cmocka_unit_test(test_exception_is_triple_fault),
        cmocka_unit_test(test_real_mode_boot),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_reset_state_accepted),
        cmocka_unit_test(test_bad_msr_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
