/*
 * Migration of the vCPUs: each vCPU's whole X86VcpuState plus the
 * halted flag, as the section "cpu" (instance id = vCPU index).
 *
 * The state is read through the accelerator's vcpu_get_state before
 * saving and written through vcpu_set_state after loading, so both
 * directions need the BQL and stopped vCPUs (the VM is stopped for the
 * device part of a migration).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_CPU_VMSTATE_H
#define SYSTEM_CPU_VMSTATE_H

#include <stdbool.h>

#include "qapi/error.h"

typedef struct CPUState CPUState;
typedef struct CPUVmstate CPUVmstate;
typedef struct VMStateDescription VMStateDescription;

/* Its opaque is a CPUVmstate from cpu_vmstate_new(). */
extern const VMStateDescription vmstate_cpu;

/* The migration view of @cpu (holds a copy of its state). */
CPUVmstate *cpu_vmstate_new(CPUState *cpu);
void cpu_vmstate_free(CPUVmstate *s);   /* NULL allowed */

/*
 * vmstate_register() every vCPU (after cpu_init_all()); fails when a
 * section "cpu" with the same instance id is registered already.
 */
bool cpu_vmstate_register_all(Error **errp);
/* Undo cpu_vmstate_register_all() (before the vCPUs are freed). */
void cpu_vmstate_unregister_all(void);

#endif /* SYSTEM_CPU_VMSTATE_H */
