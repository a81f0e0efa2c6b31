/*
 * The complete architectural state of one x86 vCPU, as the Linux KVM
 * structures hold it, so that it can be read and written whole (reset,
 * migration).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_X86_CPU_STATE_H
#define SYSTEM_X86_CPU_STATE_H

#include <stdint.h>
#include <linux/kvm.h>

/* Room for the MSRs we save; the accelerator fills in nmsrs of them. */
#define X86_VCPU_MAX_MSRS 32

typedef struct X86VcpuMsr {
    uint32_t index;
    uint32_t pad;
    uint64_t data;
} X86VcpuMsr;

/*
 * xsave comes last: struct kvm_xsave ends in a flexible array, so it may
 * only be the final member (and this struct the final member of any
 * struct that embeds it).  The stream's field order is the vmstate
 * description's, not this layout.
 */
typedef struct X86VcpuState {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_mp_state mp_state;
    struct kvm_lapic_state lapic;
    struct kvm_debugregs debugregs;
    uint32_t nmsrs;
    X86VcpuMsr msrs[X86_VCPU_MAX_MSRS];
    struct kvm_xsave xsave;
} X86VcpuState;

#endif /* SYSTEM_X86_CPU_STATE_H */
