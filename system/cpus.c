/*
 * vCPUs, independent of the accelerator: creation, pause, resume, exit.
 *
 * The protocol, all under the BQL: pause_all_vcpus() sets cpu->stop and
 * kicks; the vCPU thread notices in cpu_wait_io_event(), turns stop into
 * stopped and signals pause_cond.  resume_all_vcpus() clears both flags
 * and wakes halt_cond.  vCPUs without a thread (qtest) are marked
 * stopped directly, so the callers never care which kind they have.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "system/accel.h"
#include "system/bql.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/error-report.h"

CPUState *cpus[MAX_CPUS];
unsigned int cpu_count;

/* Signalled whenever a vCPU acknowledges a pause. */
static Cond pause_cond;

static void cpus_init_once(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        cond_init(&pause_cond);
        g_once_init_leave(&done, 1);
    }
}

CPUState *cpu_create(void)
{
    CPUState *cpu;

    cpus_init_once();
    if (cpu_count >= MAX_CPUS) {
        return NULL;
    }
    cpu = g_new0(CPUState, 1);
    cpu->index = cpu_count;
    cpu->stopped = true;
    cond_init(&cpu->halt_cond);
    cpus[cpu_count++] = cpu;
    return cpu;
}

bool cpu_init_all(Error **errp)
{
    const AccelOps *ops = current_accel();
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (ops && ops->vcpu_init && !ops->vcpu_init(cpu, errp)) {
            return false;
        }
        trace_cpu_init(cpu->index, cpu->thread_started);
    }
    return true;
}

CPUState *cpu_by_index(int index)
{
    if (index < 0 || (unsigned)index >= cpu_count) {
        return NULL;
    }
    return cpus[index];
}

bool cpu_is_self(const CPUState *cpu)
{
    return cpu->thread_started && thread_is_self(&cpu->thread);
}

static CPUState *cpu_current(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (cpu_is_self(cpu)) {
            return cpu;
        }
    }
    return NULL;
}

void cpu_kick(CPUState *cpu)
{
    const AccelOps *ops = current_accel();

    cond_broadcast(&cpu->halt_cond);
    if (cpu->thread_started && ops && ops->vcpu_kick) {
        ops->vcpu_kick(cpu);
    }
}

bool all_vcpus_paused(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (!cpu->stopped) {
            return false;
        }
    }
    return true;
}

void pause_all_vcpus(void)
{
    CPUState *self = cpu_current();
    CPUState *cpu;

    cpus_init_once();
    trace_pause_all_vcpus(cpu_count);
    CPU_FOREACH(cpu) {
        if (cpu->stopped) {
            continue;
        }
        /*
         * Threadless vCPUs and the calling vCPU itself cannot
         * acknowledge from cpu_wait_io_event() while we wait here.
         */
        if (!cpu->thread_started || cpu == self) {
            cpu->stop = false;
            cpu->stopped = true;
            continue;
        }
        cpu->stop = true;
        cpu_kick(cpu);
    }
    while (!all_vcpus_paused()) {
        bql_cond_wait(&pause_cond);
    }
}

void resume_all_vcpus(void)
{
    CPUState *cpu;

    if (!runstate_is_running()) {
        return;
    }
    trace_resume_all_vcpus(cpu_count);
    CPU_FOREACH(cpu) {
        cpu->stop = false;
        cpu->stopped = false;
        cond_broadcast(&cpu->halt_cond);
    }
}

bool cpu_can_run(CPUState *cpu)
{
    return !cpu->stop && !cpu->stopped && !cpu->halted &&
           !cpu->exit_request && runstate_is_running();
}

void cpu_wait_io_event(CPUState *cpu)
{
    while (!cpu->exit_request && !cpu_can_run(cpu)) {
        if (cpu->stop) {
            cpu->stop = false;
            cpu->stopped = true;
            cond_broadcast(&pause_cond);
        }
        bql_cond_wait(&cpu->halt_cond);
    }
}

void cpu_reset_all(void)
{
    const AccelOps *ops = current_accel();
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        Error *err = NULL;

        cpu->halted = cpu->start_halted;
        if (!cpu->boot_state || !ops || !ops->vcpu_set_state) {
            continue;
        }
        if (!ops->vcpu_set_state(cpu, cpu->boot_state, &err)) {
            error_prepend(&err, "vCPU %d reset: ", cpu->index);
            error_report_err(err);
        }
    }
}

static void cpu_free(CPUState *cpu)
{
    cond_destroy(&cpu->halt_cond);
    g_free(cpu->boot_state);
    g_free(cpu);
}

void cpu_exit_all(void)
{
    const AccelOps *ops = current_accel();
    CPUState *cpu;

    trace_cpu_exit_all(cpu_count);
    CPU_FOREACH(cpu) {
        cpu->exit_request = true;
        cpu_kick(cpu);
    }
    /* A vCPU thread needs the BQL to leave its exit handling. */
    CPU_FOREACH(cpu) {
        if (cpu->thread_started) {
            bql_unlock();
            thread_join(&cpu->thread);
            bql_lock();
            cpu->thread_started = false;
        }
        if (ops && ops->vcpu_destroy) {
            ops->vcpu_destroy(cpu);
        }
    }
    for (unsigned int i = 0; i < cpu_count; i++) {
        cpu_free(cpus[i]);
        cpus[i] = NULL;
    }
    cpu_count = 0;
}
