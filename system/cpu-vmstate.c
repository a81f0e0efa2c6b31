/*
 * The vCPUs' migration state.
 *
 * The KVM structures go to the stream as opaque blobs in host byte
 * order (the machine is x86 on x86 only); the MSR list goes as
 * big-endian index/value pairs.  Loading checks what the structures
 * cannot check for themselves (the MSR count) and leaves the rest to
 * the accelerator's vcpu_set_state, which refuses a state it cannot
 * load.
 *
 * The state says which accelerator saved it in the subsection
 * "cpu/accel", sent for every accelerator but kvm: KVM's streams stay
 * what they were (older readers load them), and a stream without it
 * was saved by kvm.  A load refused by an accelerator other than the
 * one that saved the state names both.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "migration/register.h"
#include "migration/vmstate.h"
#include "system/accel.h"
#include "system/cpu-vmstate.h"
#include "system/cpus.h"

/* Room for an accelerator's name and its NUL. */
#define CPU_VMSTATE_ACCEL_LEN 16

struct CPUVmstate {
    CPUState *cpu;
    bool halted;
    /* Who saved the state: "kvm" unless the stream says otherwise. */
    char accel[CPU_VMSTATE_ACCEL_LEN];
    /*
     * Filled by pre_save, or by the load.  Last, because X86VcpuState
     * ends in a flexible array.
     */
    X86VcpuState state;
};

/*
 * The registered ones, index = vCPU index.  NULL until the first
 * registration; from then on it lives as long as the process
 * (cpu_vmstate_unregister_all() empties it).
 */
static GPtrArray *cpu_vmstates;

static void cpu_vmstates_init_once(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        cpu_vmstates = g_ptr_array_new_with_free_func(
            (GDestroyNotify)cpu_vmstate_free);
        g_once_init_leave(&done, 1);
    }
}

CPUVmstate *cpu_vmstate_new(CPUState *cpu)
{
    CPUVmstate *s = g_new0(CPUVmstate, 1);

    s->cpu = cpu;
    return s;
}

void cpu_vmstate_free(CPUVmstate *s)
{
    g_free(s);
}

/* Only a parked vCPU has its whole state in the accelerator's hands. */
static bool cpu_vmstate_check(CPUVmstate *s, const AccelOps **ops,
                              Error **errp)
{
    *ops = current_accel();
    if (!*ops || !(*ops)->vcpu_get_state || !(*ops)->vcpu_set_state) {
        error_setg(errp, "the accelerator cannot access vCPU state");
        return false;
    }
    if (!s->cpu->stopped) {
        error_setg(errp, "vCPU %d is not stopped", s->cpu->index);
        return false;
    }
    return true;
}

static bool cpu_vmstate_pre_save(void *opaque, Error **errp)
{
    CPUVmstate *s = opaque;
    const AccelOps *ops;

    if (!cpu_vmstate_check(s, &ops, errp) ||
        !ops->vcpu_get_state(s->cpu, &s->state, errp)) {
        return false;
    }
    s->halted = s->cpu->halted;
    memset(s->accel, 0, sizeof(s->accel));
    g_strlcpy(s->accel, ops->name, sizeof(s->accel));
    return true;
}

static int cpu_vmstate_pre_load(void *opaque)
{
    CPUVmstate *s = opaque;

    memset(s->accel, 0, sizeof(s->accel));
    g_strlcpy(s->accel, "kvm", sizeof(s->accel));
    return 0;
}

static bool cpu_vmstate_post_load(void *opaque, int version_id,
                                  Error **errp)
{
    CPUVmstate *s = opaque;
    const AccelOps *ops;

    if (s->state.nmsrs > X86_VCPU_MAX_MSRS) {
        error_setg(errp, "vCPU %d: %u MSRs in the stream, at most %d are "
                   "supported", s->cpu->index, s->state.nmsrs,
                   X86_VCPU_MAX_MSRS);
        return false;
    }
    if (!memchr(s->accel, '\0', sizeof(s->accel))) {
        error_setg(errp, "vCPU %d: the name of the accelerator that saved "
                   "the state is not a string", s->cpu->index);
        return false;
    }
    if (!cpu_vmstate_check(s, &ops, errp)) {
        return false;
    }
    if (!ops->vcpu_set_state(s->cpu, &s->state, errp)) {
        if (strcmp(s->accel, ops->name) != 0) {
            error_prepend(errp, "vCPU %d: a state saved by %s cannot be "
                          "loaded by %s: ", s->cpu->index, s->accel,
                          ops->name);
        }
        return false;
    }
    s->cpu->halted = s->halted;
    return true;
}

static bool cpu_vmstate_accel_needed(void *opaque)
{
    CPUVmstate *s = opaque;

    return strcmp(s->accel, "kvm") != 0;
}

static const VMStateDescription vmstate_cpu_accel = {
    .name = "cpu/accel",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = cpu_vmstate_accel_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER_UNSAFE(accel, CPUVmstate, 0, CPU_VMSTATE_ACCEL_LEN),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_cpu_msr = {
    .name = "cpu/msr",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(index, X86VcpuMsr),
        VMSTATE_UINT64(data, X86VcpuMsr),
        VMSTATE_END_OF_LIST()
    },
};

/* One KVM structure of X86VcpuState as a blob named after the member. */
#define CPU_VMSTATE_BLOB(_member) {                                      \
    .name = #_member,                                                    \
    .offset = offsetof(CPUVmstate, state._member),                       \
    .size = sizeof(((X86VcpuState *)0)->_member),                        \
    .info = &vmstate_info_buffer,                                        \
    .flags = VMS_BUFFER,                                                 \
}

const VMStateDescription vmstate_cpu = {
    .name = "cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save_errp = cpu_vmstate_pre_save,
    .pre_load = cpu_vmstate_pre_load,
    .post_load_errp = cpu_vmstate_post_load,
    .fields = (const VMStateField[]) {
        CPU_VMSTATE_BLOB(regs),
        CPU_VMSTATE_BLOB(sregs),
        CPU_VMSTATE_BLOB(xsave),
        CPU_VMSTATE_BLOB(xcrs),
        CPU_VMSTATE_BLOB(events),
        CPU_VMSTATE_BLOB(mp_state),
        CPU_VMSTATE_BLOB(lapic),
        CPU_VMSTATE_BLOB(debugregs),
        {
            .name = "nmsrs",
            .offset = offsetof(CPUVmstate, state.nmsrs),
            .size = sizeof(uint32_t),
            .info = &vmstate_info_uint32,
            .flags = VMS_SINGLE,
        },
        {
            .name = "msrs",
            .offset = offsetof(CPUVmstate, state.msrs),
            .size = sizeof(X86VcpuMsr),
            .num = X86_VCPU_MAX_MSRS,
            .info = &vmstate_info_struct,
            .flags = VMS_STRUCT | VMS_ARRAY,
            .vmsd = &vmstate_cpu_msr,
        },
        VMSTATE_BOOL(halted, CPUVmstate),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_cpu_accel,
        NULL
    },
};

bool cpu_vmstate_register_all(Error **errp)
{
    CPUState *cpu;

    cpu_vmstates_init_once();
    CPU_FOREACH(cpu) {
        CPUVmstate *s = cpu_vmstate_new(cpu);

        if (vmstate_register(cpu->index, &vmstate_cpu, s) < 0) {
            error_setg(errp, "vCPU %d: section 'cpu' instance %d is "
                       "registered already", cpu->index, cpu->index);
            cpu_vmstate_free(s);
            return false;
        }
        g_ptr_array_add(cpu_vmstates, s);
    }
    return true;
}

void cpu_vmstate_unregister_all(void)
{
    if (!cpu_vmstates) {
        return;
    }
    for (guint i = 0; i < cpu_vmstates->len; i++) {
        vmstate_unregister(&vmstate_cpu, g_ptr_array_index(cpu_vmstates, i));
    }
    g_ptr_array_set_size(cpu_vmstates, 0);
}
