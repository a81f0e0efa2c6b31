/*
 * Shared between the layers of the KVM accelerator: kvm-all.c (the VM,
 * memory slots, dirty log), kvm-vcpu.c (vCPU threads and exits) and
 * kvm-x86.c (vCPU state).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_KVM_INT_H
#define SYSTEM_KVM_INT_H

#include <stddef.h>

#include "system/accel.h"
#include "system/cpus.h"
#include "system/kvm.h"

/* The one VM of the process; reached through kvm_state(). */
typedef struct KVMState {
    int fd;                 /* /dev/kvm */
    int vm_fd;
    size_t run_size;        /* KVM_GET_VCPU_MMAP_SIZE */
    int max_slots;
    bool dirty_log;         /* KVM_MEM_LOG_DIRTY_PAGES on every slot */
    KVMX86Caps x86;
} KVMState;

/* NULL unless the kvm accelerator was initialized. */
KVMState *kvm_state(void);

/* ioctl() that retries when a signal interrupts it. */
int kvm_ioctl(int fd, unsigned long request, void *arg);

/* kvm-vcpu.c */
bool kvm_vcpu_signal_init(Error **errp);
bool kvm_vcpu_init(CPUState *cpu, Error **errp);
void kvm_vcpu_kick(CPUState *cpu);
void kvm_vcpu_destroy(CPUState *cpu);
bool kvm_vcpu_get_state(CPUState *cpu, X86VcpuState *s, Error **errp);
bool kvm_vcpu_set_state(CPUState *cpu, const X86VcpuState *s, Error **errp);

#endif /* SYSTEM_KVM_INT_H */
