/*
 * Accelerators: what runs the guest ("kvm", "tcg") or pretends to
 * ("qtest").
 *
 * Each accelerator fills in one AccelOps and registers it, from a
 * constructor or an explicit init call, before the machine is created.
 * Exactly one is in use per process; every hook runs with the BQL held
 * unless it says otherwise.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_ACCEL_H
#define SYSTEM_ACCEL_H

#include <stdbool.h>

#include "qapi/error.h"
#include "system/x86-cpu-state.h"

typedef struct MachineState MachineState;
typedef struct CPUState CPUState;
typedef struct RAMBlock RAMBlock;

typedef struct AccelOps {
    const char *name;                         /* "kvm", "tcg", "qtest" */
    /* Can this host use it?  The error says why not (kvm: /dev/kvm). */
    bool (*available)(Error **errp);
    /* Create the VM and map every RAM block (they exist already). */
    bool (*init)(MachineState *ms, Error **errp);
    /* Undo init; every vCPU was destroyed before. */
    void (*cleanup)(void);

    bool (*dirty_log_start)(Error **errp);
    void (*dirty_log_stop)(void);
    /*
     * OR the pages the guest wrote since the last call into
     * block->dirty (ram_block_merge_dirty()) and clear the log.
     */
    void (*dirty_log_sync)(RAMBlock *block);

    /*
     * Create the vCPU (and its thread, when the accelerator runs guest
     * code: set cpu->thread_started).  The thread loops
     *     while (!cpu->exit_request) {
     *         if (cpu_can_run(cpu)) { ...run the guest with the BQL
     *                                 dropped, handle the exit... }
     *         cpu_wait_io_event(cpu);
     *     }
     * holding the BQL except while in the guest, and returns once
     * exit_request is set.  The thread takes the BQL before it looks
     * at anything: vcpu_init runs with the BQL held, so cpu->thread and
     * cpu->thread_started are in place by then.  The vCPU starts
     * stopped; machine_reset() loads cpu->boot_state afterwards.
     */
    bool (*vcpu_init)(CPUState *cpu, Error **errp);
    /* Make the vCPU leave guest mode promptly.  Any thread, BQL held. */
    void (*vcpu_kick)(CPUState *cpu);
    /*
     * Release the vCPU's resources.  Called after the generic layer
     * has joined cpu->thread (when thread_started).
     */
    void (*vcpu_destroy)(CPUState *cpu);
    /* Whole state of a stopped vCPU. */
    bool (*vcpu_get_state)(CPUState *cpu, X86VcpuState *s, Error **errp);
    bool (*vcpu_set_state)(CPUState *cpu, const X86VcpuState *s,
                           Error **errp);
} AccelOps;

/* Register @ops (static storage).  A second one of the same name is a
 * programming error. */
void accel_register(const AccelOps *ops);
const AccelOps *accel_find(const char *name);
/* The accelerator the machine uses; NULL before accel_select(). */
const AccelOps *current_accel(void);
/*
 * Pick @name as the accelerator.  Fails when it is not registered or
 * not available on this host.  NULL picks "kvm" where it is available,
 * else "tcg", and then says so on stderr with KVM's reason.
 */
bool accel_select(const char *name, Error **errp);
/* Forget the choice (tests; the machine is gone). */
void accel_reset_current(void);
/* Comma-separated names of the registered accelerators (caller frees). */
char *accel_list_names(void);

#endif /* SYSTEM_ACCEL_H */
