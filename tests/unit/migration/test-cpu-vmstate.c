/*
 * Tests for the vCPU migration state: a vCPU's state saved through the
 * accelerator and loaded into another vCPU comes back whole, under the
 * qtest accelerator (state in memory) and on real vCPUs of each
 * accelerator that runs guest code here (tests/lib/accel-test.h): KVM
 * vCPUs where /dev/kvm is usable, TCG engines everywhere.  The state
 * says which accelerator saved it (subsection cpu/accel, but for kvm),
 * and a load refused by another accelerator names both.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "io/channel.h"
#include "migration/qemu-file.h"
#include "migration/register.h"
#include "migration/vmstate.h"
#include "system/accel.h"
#include "system/cpu-vmstate.h"
#include "system/cpus.h"
#include "system/kvm.h"
#include "system/ram.h"
#include "system/tcg.h"
#include "system/x86-boot.h"
#include "accel-test.h"
#include "kvm-test.h"
#include "test-require.h"

#define MEMBER_SIZE(m) sizeof(((X86VcpuState *)0)->m)
/* The KVM structures, back to back (without padding) in the stream. */
#define BLOB_BYTES \
    (MEMBER_SIZE(regs) + MEMBER_SIZE(sregs) + MEMBER_SIZE(xsave) + \
     MEMBER_SIZE(xcrs) + MEMBER_SIZE(events) + MEMBER_SIZE(mp_state) + \
     MEMBER_SIZE(lapic) + MEMBER_SIZE(debugregs))
/* Bytes of one "cpu" section body's fields. */
#define CPU_FIELD_BYTES (BLOB_BYTES + 4 + X86_VCPU_MAX_MSRS * 12 + 1)
/* The subsection naming the accelerator: mark, name, version, name. */
#define ACCEL_SUBSECTION "\x05\x09" "cpu/accel" "\x00\x00\x00\x01"
#define ACCEL_SUBSECTION_BYTES (2 + 9 + 4 + 16)
/* A body saved by kvm has no subsection; by any other, this one. */
#define CPU_STATE_BYTES (CPU_FIELD_BYTES + ACCEL_SUBSECTION_BYTES)

/* Is the stream's blob area exactly @s's structures? */
static void assert_blobs_equal(const uint8_t *data, const X86VcpuState *s)
{
#define CHECK_MEMBER(m)                                         \
    do {                                                        \
        assert_memory_equal(data, &s->m, MEMBER_SIZE(m));       \
        data += MEMBER_SIZE(m);                                 \
    } while (0)
    CHECK_MEMBER(regs);
    CHECK_MEMBER(sregs);
    CHECK_MEMBER(xsave);
    CHECK_MEMBER(xcrs);
    CHECK_MEMBER(events);
    CHECK_MEMBER(mp_state);
    CHECK_MEMBER(lapic);
    CHECK_MEMBER(debugregs);
#undef CHECK_MEMBER
}

static uint8_t *save_cpu(CPUVmstate *s, json_t *desc, size_t *len,
                         Error **errp)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    uint8_t *copy = NULL;

    if (vmstate_save_state(f, &vmstate_cpu, s, desc, errp) == 0) {
        qemu_fflush(f);
        data = qio_channel_buffer_data(ioc, len);
        copy = g_memdup2(data, *len);
    }
    qemu_fclose(f);
    return copy;
}

static int load_cpu(CPUVmstate *s, const uint8_t *data, size_t len,
                    Error **errp)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    int ret;

    qio_channel_buffer_set_data(ioc, data, len);
    f = qemu_file_new_input(ioc);
    ret = vmstate_load_state(f, &vmstate_cpu, s, 1, errp);
    if (ret == 0) {
        assert_int_equal(qemu_file_transferred(f), len);
    }
    qemu_fclose(f);
    return ret;
}

/* A recognisable state: every byte of the KVM structures set. */
static void fill_state(X86VcpuState *s, uint8_t seed)
{
    uint8_t *p = (uint8_t *)s;
    size_t sizes[] = {
        MEMBER_SIZE(regs), MEMBER_SIZE(sregs), MEMBER_SIZE(xsave),
        MEMBER_SIZE(xcrs), MEMBER_SIZE(events), MEMBER_SIZE(mp_state),
        MEMBER_SIZE(lapic), MEMBER_SIZE(debugregs),
    };
    size_t offsets[] = {
        offsetof(X86VcpuState, regs), offsetof(X86VcpuState, sregs),
        offsetof(X86VcpuState, xsave), offsetof(X86VcpuState, xcrs),
        offsetof(X86VcpuState, events), offsetof(X86VcpuState, mp_state),
        offsetof(X86VcpuState, lapic), offsetof(X86VcpuState, debugregs),
    };

    /* Padding stays zero: it is not part of the state. */
    memset(s, 0, sizeof(*s));
    for (size_t m = 0; m < G_N_ELEMENTS(sizes); m++) {
        for (size_t i = 0; i < sizes[m]; i++) {
            p[offsets[m] + i] = seed + (offsets[m] + i) * 31;
        }
    }
    s->nmsrs = 3;
    for (unsigned i = 0; i < X86_VCPU_MAX_MSRS; i++) {
        s->msrs[i].index = 0xc0000080 + i;
        s->msrs[i].data = 0x0101010101010101ULL * (seed + i);
    }
}

/* qtest */

static void qtest_setup_cpus(void)
{
    assert_true(accel_select("qtest", &error_abort));
    if (cpu_count == 0) {
        assert_non_null(cpu_create());
        assert_non_null(cpu_create());
        assert_true(cpu_init_all(&error_abort));
    }
}

static void test_qtest_round_trip(void **state)
{
    const AccelOps *ops;
    CPUVmstate *src, *dst;
    X86VcpuState *in = g_new0(X86VcpuState, 1);
    X86VcpuState *out = g_new0(X86VcpuState, 1);
    json_t *desc = json_object();
    json_t *fields;
    g_autofree uint8_t *data = NULL;
    size_t len;

    qtest_setup_cpus();
    ops = current_accel();
    fill_state(in, 7);
    assert_true(ops->vcpu_set_state(cpus[0], in, &error_abort));
    cpus[0]->halted = true;
    cpus[1]->halted = false;

    src = cpu_vmstate_new(cpus[0]);
    dst = cpu_vmstate_new(cpus[1]);
    data = save_cpu(src, desc, &len, &error_abort);
    assert_non_null(data);
    assert_int_equal(len, CPU_STATE_BYTES);
    /* The blobs first, as they are in memory. */
    assert_blobs_equal(data, in);
    /* Then nmsrs and the first MSR, big-endian. */
    assert_memory_equal(data + BLOB_BYTES,
                        "\x00\x00\x00\x03" "\xc0\x00\x00\x80"
                        "\x07\x07\x07\x07\x07\x07\x07\x07", 16);
    assert_int_equal(data[CPU_FIELD_BYTES - 1], 1);     /* halted */
    /* Then who saved it, NUL-padded. */
    assert_memory_equal(data + CPU_FIELD_BYTES, ACCEL_SUBSECTION,
                        ACCEL_SUBSECTION_BYTES - 16);
    assert_memory_equal(data + len - 16, "qtest\0\0\0\0\0\0\0\0\0\0\0",
                        16);

    fields = json_object_get(desc, "fields");
    assert_string_equal(json_string_value(json_object_get(desc,
                                                          "vmsd_name")),
                        "cpu");
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(fields, 0), "name")), "regs");
    assert_int_equal(json_integer_value(json_object_get(
        json_array_get(fields, 2), "size")), sizeof(struct kvm_xsave));
    json_decref(desc);

    assert_int_equal(load_cpu(dst, data, len, &error_abort), 0);
    assert_true(ops->vcpu_get_state(cpus[1], out, &error_abort));
    assert_memory_equal(in, out, sizeof(*in));
    assert_true(cpus[1]->halted);

    cpu_vmstate_free(src);
    cpu_vmstate_free(dst);
    g_free(in);
    g_free(out);
}

static void test_running_vcpu_refused(void **state)
{
    CPUVmstate *s;
    Error *err = NULL;
    size_t len;

    qtest_setup_cpus();
    s = cpu_vmstate_new(cpus[0]);
    cpus[0]->stopped = false;
    assert_null(save_cpu(s, NULL, &len, &err));
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err),
                        "Device 'cpu': pre_save failed: vCPU 0 is not "
                        "stopped");
    error_free(err);
    cpus[0]->stopped = true;
    cpu_vmstate_free(s);
}

static void test_bad_stream(void **state)
{
    CPUVmstate *s;
    Error *err = NULL;
    g_autofree uint8_t *data = NULL;
    size_t len;

    qtest_setup_cpus();
    s = cpu_vmstate_new(cpus[0]);
    data = save_cpu(s, NULL, &len, &error_abort);

    /* nmsrs above what the state holds. */
    data[BLOB_BYTES + 3] = X86_VCPU_MAX_MSRS + 1;
    assert_true(load_cpu(s, data, len, &err) < 0);
    assert_non_null(strstr(error_get_pretty(err), "33 MSRs in the stream"));
    g_clear_pointer(&err, error_free);

    /* halted must be a bool. */
    data[BLOB_BYTES + 3] = 0;
    data[CPU_FIELD_BYTES - 1] = 2;
    assert_true(load_cpu(s, data, len, &err) < 0);
    assert_non_null(strstr(error_get_pretty(err), "cpu:halted"));
    g_clear_pointer(&err, error_free);
    data[CPU_FIELD_BYTES - 1] = 0;

    /* The accelerator's name must be a string. */
    memset(data + len - 16, 'x', 16);
    assert_true(load_cpu(s, data, len, &err) < 0);
    assert_non_null(strstr(error_get_pretty(err), "is not a string"));
    g_clear_pointer(&err, error_free);
    memset(data + len - 16, 0, 16);
    memcpy(data + len - 16, "qtest", 5);

    /*
     * Truncated anywhere: only a cut right after the fields loads, as
     * the body kvm saves, which has no subsection.
     */
    for (size_t cut = 0; cut < len; cut++) {
        if (cut == CPU_FIELD_BYTES) {
            assert_int_equal(load_cpu(s, data, cut, &error_abort), 0);
            continue;
        }
        assert_true(load_cpu(s, data, cut, &err) < 0);
        g_clear_pointer(&err, error_free);
    }
    cpu_vmstate_free(s);
}

/* An accelerator that refuses every state. */
static bool refuse_set(CPUState *cpu, const X86VcpuState *s, Error **errp)
{
    error_setg(errp, "no");
    return false;
}

static bool refuse_get(CPUState *cpu, X86VcpuState *s, Error **errp)
{
    memset(s, 0, sizeof(*s));
    return true;
}

static const AccelOps refuse_test_ops = {
    .name = "refuse-test",
    .vcpu_get_state = refuse_get,
    .vcpu_set_state = refuse_set,
};

/* A refused load names the accelerator that saved the state and ours. */
static void test_refused_names_both(void **state)
{
    CPUVmstate *s;
    Error *err = NULL;
    g_autofree uint8_t *data = NULL;
    size_t len;

    qtest_setup_cpus();
    s = cpu_vmstate_new(cpus[0]);
    data = save_cpu(s, NULL, &len, &error_abort);
    accel_reset_current();
    assert_true(accel_select(refuse_test_ops.name, &error_abort));

    assert_true(load_cpu(s, data, len, &err) < 0);
    assert_non_null(strstr(error_get_pretty(err), "vCPU 0: a state saved "
                           "by qtest cannot be loaded by refuse-test: no"));
    g_clear_pointer(&err, error_free);

    /* Without the subsection (the section's footer follows): kvm's. */
    data[CPU_FIELD_BYTES] = 0x7e;
    assert_true(load_cpu(s, data, CPU_FIELD_BYTES + 1, &err) < 0);
    assert_non_null(strstr(error_get_pretty(err), "a state saved by kvm "
                           "cannot be loaded by refuse-test"));
    g_clear_pointer(&err, error_free);

    accel_reset_current();
    cpu_vmstate_free(s);
}

static void test_register_all(void **state)
{
    Error *err = NULL;

    qtest_setup_cpus();
    assert_true(cpu_vmstate_register_all(&error_abort));
    assert_false(cpu_vmstate_register_all(&err));
    assert_non_null(strstr(error_get_pretty(err), "registered already"));
    error_free(err);
    cpu_vmstate_unregister_all();
    /* All gone: registering again works. */
    assert_true(cpu_vmstate_register_all(&error_abort));
    cpu_vmstate_unregister_all();
    cpu_vmstate_unregister_all();
    unregister_savevm_all();
}

#define MSR_IA32_TSC 0x10

/* KVM: two real vCPUs of one VM behind a minimal accelerator. */

typedef struct KvmFixture {
    int kvm_fd, vm_fd;
    int vcpu_fd[2];
    KVMX86Caps caps;
    CPUState cpu[2];
} KvmFixture;

static KvmFixture kvm;

static bool kvm_test_get(CPUState *cpu, X86VcpuState *s, Error **errp)
{
    return kvm_x86_get_state(&kvm.caps, kvm.vcpu_fd[cpu->index], s, errp);
}

static bool kvm_test_set(CPUState *cpu, const X86VcpuState *s, Error **errp)
{
    return kvm_x86_set_state(kvm.vcpu_fd[cpu->index], s, errp);
}

static const AccelOps kvm_test_ops = {
    .name = "kvm-state-test",
    .vcpu_get_state = kvm_test_get,
    .vcpu_set_state = kvm_test_set,
};

/*
 * What the host lacks when kvm_open() fails, for TEST_REQUIRE: static,
 * so that a case that skips holds no memory.
 */
static char kvm_unmet[160];

static void kvm_close(void)
{
    for (int i = 0; i < 2; i++) {
        if (kvm.vcpu_fd[i] > 0) {
            close(kvm.vcpu_fd[i]);
        }
    }
    kvm_x86_caps_cleanup(&kvm.caps);
    if (kvm.vm_fd > 0) {
        close(kvm.vm_fd);
    }
    if (kvm.kvm_fd > 0) {
        close(kvm.kvm_fd);
    }
}

static bool G_GNUC_PRINTF(1, 2) kvm_open_failed(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(kvm_unmet, sizeof(kvm_unmet), fmt, ap);
    va_end(ap);
    kvm_close();
    return false;
}

/*
 * The fixture's VM with two vCPUs set up as colo-vm does; on failure
 * nothing is left open and kvm_unmet says why.
 */
static bool kvm_open(void)
{
    Error *err = NULL;

    memset(&kvm, 0, sizeof(kvm));
    kvm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm.kvm_fd < 0) {
        return kvm_open_failed("a usable /dev/kvm (open /dev/kvm: %s)",
                               strerror(errno));
    }
    kvm.vm_fd = ioctl(kvm.kvm_fd, KVM_CREATE_VM, 0);
    if (kvm.vm_fd < 0) {
        return kvm_open_failed("a usable /dev/kvm (KVM_CREATE_VM: %s)",
                               strerror(errno));
    }
    if (!kvm_x86_caps_init(&kvm.caps, kvm.kvm_fd, &err)) {
        kvm_open_failed("KVM with what colo-vm's vCPUs need (%s)",
                        error_get_pretty(err));
        error_free(err);
        return false;
    }
    for (int i = 0; i < 2; i++) {
        kvm.vcpu_fd[i] = ioctl(kvm.vm_fd, KVM_CREATE_VCPU, i);
        if (kvm.vcpu_fd[i] < 0) {
            return kvm_open_failed("KVM to create two vCPUs "
                                   "(KVM_CREATE_VCPU: %s)", strerror(errno));
        }
        assert_true(kvm_x86_vcpu_setup(&kvm.caps, kvm.vcpu_fd[i], i,
                                       &error_abort));
        kvm.cpu[i].index = i;
        kvm.cpu[i].stopped = true;
    }
    return true;
}

static void kvm_round_trip(void)
{
    X86VcpuState *in, *out;
    CPUVmstate *src, *dst;
    g_autofree uint8_t *data = NULL;
    size_t len;

    TEST_REQUIRE(kvm_open(), kvm_unmet);
    in = g_new0(X86VcpuState, 1);
    out = g_new0(X86VcpuState, 1);
    accel_reset_current();
    assert_true(accel_select(kvm_test_ops.name, &error_abort));

    /* vCPU 0 gets a state of its own: registers a fresh vCPU lacks. */
    assert_true(kvm_x86_get_state(&kvm.caps, kvm.vcpu_fd[0], in,
                                  &error_abort));
    in->regs.rax = 0x1122334455667788ULL;
    in->regs.rbx = 0x99aabbccddeeff00ULL;
    in->regs.r15 = 42;
    in->regs.rip = 0x7c00;
    in->regs.rflags = 0x2;
    in->sregs.cs.selector = 0;
    in->sregs.cs.base = 0;
    in->debugregs.db[0] = 0x1000;
    assert_true(kvm_x86_set_state(kvm.vcpu_fd[0], in, &error_abort));
    assert_true(kvm_x86_get_state(&kvm.caps, kvm.vcpu_fd[0], in,
                                  &error_abort));
    kvm.cpu[0].halted = true;

    src = cpu_vmstate_new(&kvm.cpu[0]);
    dst = cpu_vmstate_new(&kvm.cpu[1]);
    data = save_cpu(src, NULL, &len, &error_abort);
    /* Not "kvm" itself: the stream names the test's accelerator. */
    assert_int_equal(len, CPU_STATE_BYTES);
    assert_int_equal(load_cpu(dst, data, len, &error_abort), 0);
    assert_true(kvm.cpu[1].halted);

    /* What KVM now reports for vCPU 1 is what vCPU 0 had. */
    assert_true(kvm_x86_get_state(&kvm.caps, kvm.vcpu_fd[1], out,
                                  &error_abort));
    assert_memory_equal(&out->regs, &in->regs, sizeof(in->regs));
    assert_memory_equal(&out->sregs, &in->sregs, sizeof(in->sregs));
    assert_memory_equal(&out->xcrs, &in->xcrs, sizeof(in->xcrs));
    assert_memory_equal(&out->debugregs.db, &in->debugregs.db,
                        sizeof(in->debugregs.db));
    assert_int_equal(out->nmsrs, in->nmsrs);
    for (unsigned i = 0; i < in->nmsrs; i++) {
        assert_int_equal(out->msrs[i].index, in->msrs[i].index);
        if (in->msrs[i].index == MSR_IA32_TSC) {
            /* The TSC ran on since it was loaded. */
            assert_true(out->msrs[i].data >= in->msrs[i].data);
        } else {
            assert_true(out->msrs[i].data == in->msrs[i].data);
        }
    }

    cpu_vmstate_free(src);
    cpu_vmstate_free(dst);
    g_free(in);
    g_free(out);
    accel_reset_current();
    kvm_close();
}

/* TCG: two engines over a little RAM behind a minimal accelerator. */

#define TCG_RAM_SIZE (2 * 1024 * 1024)
#define TCG_CODE_ADDR 0x10000

/* mov $0x1122334455667788,%rax; add $1,%rbx; mov %rax,%xmm1;
 * add $1,%rbx; hlt */
static const uint8_t tcg_code[] = {
    0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
    0x48, 0x83, 0xc3, 0x01,
    0x66, 0x48, 0x0f, 0x6e, 0xc8,
    0x48, 0x83, 0xc3, 0x01,
    0xf4,
};

static TCGX86Cpu *tcg_cpu[2];
static CPUState tcg_cpu_state[2];

static bool tcg_test_get(CPUState *cpu, X86VcpuState *s, Error **errp)
{
    return tcg_x86_cpu_get_state(tcg_cpu[cpu->index], s, errp);
}

static bool tcg_test_set(CPUState *cpu, const X86VcpuState *s, Error **errp)
{
    return tcg_x86_cpu_set_state(tcg_cpu[cpu->index], s, errp);
}

static const AccelOps tcg_test_ops = {
    .name = "tcg-state-test",
    .vcpu_get_state = tcg_test_get,
    .vcpu_set_state = tcg_test_set,
};

/*
 * vCPU 0 runs guest code from the boot state; its state then moves to
 * vCPU 1, which reads back the same and runs on from there.
 */
static void tcg_round_trip(void)
{
    RAMBlock *ram = ram_block_add("pc.ram", 0, TCG_RAM_SIZE, &error_abort);
    X86VcpuState *in = g_new0(X86VcpuState, 1);
    X86VcpuState *out = g_new0(X86VcpuState, 1);
    CPUVmstate *src, *dst;
    g_autofree uint8_t *data = NULL;
    size_t len;

    assert_true(x86_boot_write_tables(ram->host, ram->size, &error_abort));
    memcpy(ram->host + TCG_CODE_ADDR, tcg_code, sizeof(tcg_code));
    for (int i = 0; i < 2; i++) {
        tcg_cpu[i] = tcg_x86_cpu_new(i, NULL, NULL);
        tcg_cpu_state[i] = (CPUState) { .index = i, .stopped = true };
    }
    accel_reset_current();
    assert_true(accel_select(tcg_test_ops.name, &error_abort));

    x86_boot_long_mode_state(in, 0, 1, TCG_CODE_ADDR, X86_BOOT_FDT_ADDR);
    in->regs.rbx = 40;
    in->regs.r15 = 42;
    in->debugregs.db[0] = 0x1000;
    assert_true(tcg_x86_cpu_set_state(tcg_cpu[0], in, &error_abort));
    assert_true(tcg_x86_cpu_step(tcg_cpu[0], 3, &error_abort));
    assert_true(tcg_x86_cpu_get_state(tcg_cpu[0], in, &error_abort));
    assert_int_equal(in->regs.rbx, 41);

    src = cpu_vmstate_new(&tcg_cpu_state[0]);
    dst = cpu_vmstate_new(&tcg_cpu_state[1]);
    data = save_cpu(src, NULL, &len, &error_abort);
    assert_int_equal(len, CPU_STATE_BYTES);
    assert_int_equal(load_cpu(dst, data, len, &error_abort), 0);
    assert_true(tcg_x86_cpu_get_state(tcg_cpu[1], out, &error_abort));
    assert_memory_equal(out, in, sizeof(*in));

    /* vCPU 1 goes on where vCPU 0 stopped. */
    assert_true(tcg_x86_cpu_step(tcg_cpu[1], 1, &error_abort));
    assert_true(tcg_x86_cpu_get_state(tcg_cpu[1], out, &error_abort));
    assert_int_equal(out->regs.rbx, 42);
    assert_int_equal(out->regs.rax, 0x1122334455667788ULL);
    assert_int_equal(out->regs.r15, 42);
    assert_int_equal(out->debugregs.db[0], 0x1000);
    assert_int_equal(out->regs.rip, TCG_CODE_ADDR + sizeof(tcg_code) - 1);

    cpu_vmstate_free(src);
    cpu_vmstate_free(dst);
    for (int i = 0; i < 2; i++) {
        tcg_x86_cpu_free(tcg_cpu[i]);
        tcg_cpu[i] = NULL;
    }
    g_free(in);
    g_free(out);
    accel_reset_current();
    ram_block_remove_all();
}

static void test_round_trip(void **state)
{
    const char *accel = accel_test_accel(state);

    if (strcmp(accel, "kvm") == 0) {
        kvm_round_trip();
    } else {
        tcg_round_trip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qtest_round_trip),
        cmocka_unit_test(test_running_vcpu_refused),
        cmocka_unit_test(test_bad_stream),
        cmocka_unit_test(test_refused_names_both),
        cmocka_unit_test(test_register_all),
    };
    const struct CMUnitTest accel_tests[] = {
        cmocka_unit_test(test_round_trip),
    };
    int failed;

    accel_register(&kvm_test_ops);
    accel_register(&tcg_test_ops);
    accel_register(&refuse_test_ops);
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += accel_test_run_group("cpu-vmstate-accel", accel_tests,
                                   G_N_ELEMENTS(accel_tests), NULL, NULL);
    return failed;
}
