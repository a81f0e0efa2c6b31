/*
 * The qtest accelerator: a machine that runs no guest code.
 *
 * RAM blocks, devices and run states are the real ones; only guest
 * execution is missing.  vCPUs have no thread: their architectural state
 * lives in memory so that it can be read, written and migrated as under
 * KVM.  Nothing but the qtest protocol (and migration) writes guest
 * memory, and those writes mark the blocks' dirty bitmaps themselves, so
 * dirty logging has no log of its own to pull.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "system/accel.h"
#include "system/cpus.h"
#include "system/qtest.h"
#include "system/ram.h"
#include "trace/trace.h"

typedef struct QtestAccelState {
    bool dirty_logging;     /* protected by the BQL (accelerator hooks) */
} QtestAccelState;

static QtestAccelState qtest_accel;

static bool qtest_accel_init(MachineState *ms, Error **errp)
{
    RAMBlock *block;

    RAMBLOCK_FOREACH(block) {
        trace_qtest_accel_map(block->idstr, block->gpa, block->size);
    }
    qtest_accel.dirty_logging = false;
    return true;
}

static void qtest_accel_cleanup(void)
{
    qtest_accel.dirty_logging = false;
}

static bool qtest_dirty_log_start(Error **errp)
{
    qtest_accel.dirty_logging = true;
    trace_qtest_accel_dirty_log(true);
    return true;
}

static void qtest_dirty_log_stop(void)
{
    qtest_accel.dirty_logging = false;
    trace_qtest_accel_dirty_log(false);
}

static void qtest_dirty_log_sync(RAMBlock *block)
{
    /* Software writes are already in block->dirty: nothing to merge. */
}

static bool qtest_vcpu_init(CPUState *cpu, Error **errp)
{
    X86VcpuState *state = g_new0(X86VcpuState, 1);

    /* Until the machine loads a boot state the vCPU is simply runnable. */
    state->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
    cpu->accel = state;
    cpu->thread_started = false;
    return true;
}

static void qtest_vcpu_kick(CPUState *cpu)
{
    /* No thread and no guest mode to leave. */
}

static void qtest_vcpu_destroy(CPUState *cpu)
{
    g_free(cpu->accel);
    cpu->accel = NULL;
}

static bool qtest_vcpu_get_state(CPUState *cpu, X86VcpuState *s,
                                 Error **errp)
{
    if (!cpu->accel) {
        error_setg(errp, "vCPU %d has not been created", cpu->index);
        return false;
    }
    memcpy(s, cpu->accel, sizeof(*s));
    return true;
}

static bool qtest_vcpu_set_state(CPUState *cpu, const X86VcpuState *s,
                                 Error **errp)
{
    if (!cpu->accel) {
        error_setg(errp, "vCPU %d has not been created", cpu->index);
        return false;
    }
    if (s->nmsrs > X86_VCPU_MAX_MSRS) {
        error_setg(errp, "vCPU %d: %u MSRs, at most %d are supported",
                   cpu->index, s->nmsrs, X86_VCPU_MAX_MSRS);
        return false;
    }
    memcpy(cpu->accel, s, sizeof(*s));
    return true;
}

static const AccelOps qtest_accel_ops = {
    .name = "qtest",
    .available = NULL,              /* everywhere */
    .init = qtest_accel_init,
    .cleanup = qtest_accel_cleanup,
    .dirty_log_start = qtest_dirty_log_start,
    .dirty_log_stop = qtest_dirty_log_stop,
    .dirty_log_sync = qtest_dirty_log_sync,
    .vcpu_init = qtest_vcpu_init,
    .vcpu_kick = qtest_vcpu_kick,
    .vcpu_destroy = qtest_vcpu_destroy,
    .vcpu_get_state = qtest_vcpu_get_state,
    .vcpu_set_state = qtest_vcpu_set_state,
};

static void __attribute__((constructor)) qtest_accel_register(void)
{
    accel_register(&qtest_accel_ops);
}

bool qtest_enabled(void)
{
    return current_accel() == &qtest_accel_ops;
}
