/*
 * The accelerator-independent part of vCPUs: the table of vCPUs and
 * their pause, resume and exit protocol.
 *
 * cpu->stop, cpu->stopped, cpu->exit_request and cpu->halted are read
 * and written with the BQL held.  A vCPU thread parks in
 * cpu_wait_io_event() whenever cpu_can_run() is false; that is where it
 * acknowledges a pause (stop -> stopped) and where it is woken by
 * resume, reset and exit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_CPUS_H
#define SYSTEM_CPUS_H

#include <stdbool.h>

#include "qapi/error.h"
#include "system/x86-cpu-state.h"
#include "util/thread.h"

#define MAX_CPUS 32

/*
 * Every member is protected by the BQL, except where said otherwise.
 * The vCPU's own thread holds the BQL except while it runs guest code,
 * so it reads its flags with the BQL like everyone else.
 */
typedef struct CPUState {
    int index;              /* written once by cpu_create() */
    /*
     * Written by ops->vcpu_init (BQL held) before the thread looks at
     * anything; cpu_is_self() reads them from any thread afterwards.
     */
    Thread thread;
    bool thread_started;    /* the accelerator runs a thread for it */
    bool stop;              /* pause requested */
    bool stopped;           /* parked with its state complete in memory */
    bool exit_request;      /* the thread must return */
    /*
     * The guest stopped this vCPU (hlt with interrupts off, or a drive
     * boot's secondary vCPU): it stays parked until the next reset.
     */
    bool halted;
    bool start_halted;      /* halted again after each reset (drive boot) */
    /* The throttle asks for one sleep before the next guest run. */
    bool throttle_pending;
    /* A parked vCPU waits here, with the BQL as its mutex. */
    Cond halt_cond;
    void *accel;            /* accelerator's per-vCPU data; its locking */
    /* Loaded on every reset; may be NULL.  g_malloc'ed, freed with the
     * vCPU. */
    X86VcpuState *boot_state;
} CPUState;

/* Protected by the BQL (vCPUs come and go only at start-up and exit). */
extern CPUState *cpus[MAX_CPUS];
extern unsigned int cpu_count;

#define CPU_FOREACH(c) \
    for (unsigned int cpu_iter_ = 0; \
         cpu_iter_ < cpu_count && ((c) = cpus[cpu_iter_]); cpu_iter_++)

/*
 * Allocate vCPU number cpu_count (stopped, no thread) and append it to
 * cpus[]; the accelerator's vcpu_init is called on it by cpu_init_all.
 */
CPUState *cpu_create(void);
/* ops->vcpu_init for every vCPU. BQL. */
bool cpu_init_all(Error **errp);
CPUState *cpu_by_index(int index);
/* True in the thread of @cpu. */
bool cpu_is_self(const CPUState *cpu);

/* BQL; returns when every vCPU is stopped (at once without threads). */
void pause_all_vcpus(void);
/* BQL: clears stop/stopped and wakes every vCPU. */
void resume_all_vcpus(void);
bool all_vcpus_paused(void);
/* !stop && !stopped && !halted && !exit_request && the VM is running */
bool cpu_can_run(CPUState *cpu);
/*
 * vCPU thread, BQL held: park while the vCPU should not run,
 * acknowledging pause requests; returns when it may run again or must
 * exit.
 */
void cpu_wait_io_event(CPUState *cpu);
/* Wake a parked vCPU and make a running one leave the guest.  BQL. */
void cpu_kick(CPUState *cpu);
/*
 * Back to the boot state: halted = start_halted, and load cpu->boot_state (when
 * set) through ops->vcpu_set_state.  The vCPUs are stopped.  BQL.
 */
void cpu_reset_all(void);
/*
 * Shutdown: every vCPU thread returns and is joined (the BQL is dropped
 * while joining), then ops->vcpu_destroy and the CPUState are freed.
 * Main thread, BQL.
 */
void cpu_exit_all(void);

/*
 * Auto-converge throttle: make the guest dirty memory more slowly so
 * that a migration can catch up.  At @percent, each vCPU thread sleeps
 * percent/(100 - percent) times a 10 ms timeslice after every 10 ms it
 * was allowed to run: a main-loop timer kicks the vCPUs out of the guest
 * once per period and each then sleeps in cpu_throttle_vcpu_sleep().
 * vCPUs without a thread (qtest) run no guest code: the percentage is
 * recorded and reported, and has no effect.
 */
#define CPU_THROTTLE_PCT_MIN 1
#define CPU_THROTTLE_PCT_MAX 99
#define CPU_THROTTLE_TIMESLICE_MS 10

/* Start or change the throttle; @percent is clamped to [1, 99].  Any
 * thread. */
void cpu_throttle_set(int percent);
/* Let the vCPUs run at full speed again.  Any thread. */
void cpu_throttle_stop(void);
bool cpu_throttle_active(void);
/* Current percentage, 0 when stopped. */
int cpu_throttle_get_percentage(void);
/*
 * vCPU thread, BQL held, between two guest runs: sleep if the throttle
 * asked for it (the BQL is dropped meanwhile).  Returns early when the
 * vCPU must stop or exit.
 */
void cpu_throttle_vcpu_sleep(CPUState *cpu);

#endif /* SYSTEM_CPUS_H */
