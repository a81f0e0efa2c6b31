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
#include "system/cpus.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/main-loop.h"

CPUState *cpus[MAX_CPUS];
unsigned int cpu_count;

/*
 * Signalled whenever a vCPU acknowledges a pause.  Its mutex is the BQL
 * (bql_cond_wait()), which protects the flags it reports on.
 */
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

    g_assert(bql_locked());
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

    g_assert(bql_locked());
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

    g_assert(bql_locked());
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
    g_assert(bql_locked());
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

    g_assert(bql_locked());
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

    g_assert(bql_locked());
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

/*
 * Auto-converge throttle.  The percentage is set by the migration thread
 * and read by the timer and the vCPU threads without a lock, hence the
 * atomics; everything about the vCPUs themselves happens under the BQL.
 */
static int throttle_percentage;     /* atomic */
/* Created once (cpu_throttle_timer()); timer calls are thread-safe. */
static Timer *throttle_timer;

/* A period is one timeslice of guest time plus the sleep that follows. */
static int64_t cpu_throttle_period_ns(int pct)
{
    return (int64_t)CPU_THROTTLE_TIMESLICE_MS * SCALE_MS * 100 / (100 - pct);
}

/* A main-loop timer: runs with the BQL, like every main-loop callback. */
static void cpu_throttle_tick(void *opaque)
{
    int pct = __atomic_load_n(&throttle_percentage, __ATOMIC_RELAXED);
    bool threads = false;
    CPUState *cpu;

    g_assert(bql_locked());
    if (!pct) {
        return;
    }
    CPU_FOREACH(cpu) {
        if (cpu->thread_started) {
            cpu->throttle_pending = true;
            cpu_kick(cpu);
            threads = true;
        }
    }
    /*
     * Without vCPU threads no guest code runs, so there is nothing to
     * slow down: stay idle instead of waking the main loop every period.
     */
    if (threads) {
        timer_mod_ns(throttle_timer, clock_get_ns(CLOCK_TYPE_REALTIME) +
                     cpu_throttle_period_ns(pct));
    }
}

static Timer *cpu_throttle_timer(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        throttle_timer = timer_new_ns(CLOCK_TYPE_REALTIME, cpu_throttle_tick,
                                      NULL);
        g_once_init_leave(&done, 1);
    }
    return throttle_timer;
}

void cpu_throttle_set(int percent)
{
    int pct = CLAMP(percent, CPU_THROTTLE_PCT_MIN, CPU_THROTTLE_PCT_MAX);

    trace_cpu_throttle_set(percent, pct);
    __atomic_store_n(&throttle_percentage, pct, __ATOMIC_RELAXED);
    /* The vCPUs get one full timeslice before the first sleep. */
    timer_mod_ns(cpu_throttle_timer(), clock_get_ns(CLOCK_TYPE_REALTIME) +
                 (int64_t)CPU_THROTTLE_TIMESLICE_MS * SCALE_MS);
}

void cpu_throttle_stop(void)
{
    trace_cpu_throttle_stop();
    __atomic_store_n(&throttle_percentage, 0, __ATOMIC_RELAXED);
    timer_del(cpu_throttle_timer());
}

bool cpu_throttle_active(void)
{
    return cpu_throttle_get_percentage() != 0;
}

int cpu_throttle_get_percentage(void)
{
    return __atomic_load_n(&throttle_percentage, __ATOMIC_RELAXED);
}

void cpu_throttle_vcpu_sleep(CPUState *cpu)
{
    int pct = cpu_throttle_get_percentage();
    int64_t sleep_ns, end;

    g_assert(bql_locked());
    if (!cpu->throttle_pending) {
        return;
    }
    cpu->throttle_pending = false;
    if (!pct) {
        return;
    }
    sleep_ns = (int64_t)CPU_THROTTLE_TIMESLICE_MS * SCALE_MS * pct /
               (100 - pct);
    end = clock_get_ns(CLOCK_TYPE_REALTIME) + sleep_ns;
    trace_cpu_throttle_sleep(cpu->index, pct, sleep_ns);
    /*
     * Sleep on halt_cond so that a pause, reset or exit (all of which
     * kick it) ends the sleep at once.  The wait has millisecond
     * granularity: rounding up oversleeps by less than a millisecond.
     */
    while (cpu_can_run(cpu)) {
        int64_t left = end - clock_get_ns(CLOCK_TYPE_REALTIME);

        if (left <= 0) {
            break;
        }
        bql_cond_timedwait(&cpu->halt_cond, (left + SCALE_MS - 1) / SCALE_MS);
    }
}
