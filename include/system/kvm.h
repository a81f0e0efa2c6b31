/*
 * The KVM accelerator ("-accel kvm").
 *
 * The accelerator registers itself (AccelOps "kvm"); the rest of the
 * VMM reaches it through system/accel.h.  What is declared here is the
 * x86 vCPU state layer, which works on a bare vCPU file descriptor so
 * that tests can drive a vCPU without a machine.
 *
 * The VM has no in-kernel interrupt controller (no KVM_CREATE_IRQCHIP):
 * nothing raises interrupts, HLT exits to the VMM, which parks the vCPU,
 * and every piece of vCPU state is in X86VcpuState.  The lapic member
 * is therefore unused (zero) and mp_state is kept by the VMM (a halted,
 * parked vCPU reads back as KVM_MP_STATE_HALTED).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_KVM_H
#define SYSTEM_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"
#include "system/x86-cpu-state.h"

#define KVM_ACCEL_NAME "kvm"
/* Three pages KVM needs for real-mode emulation on Intel, above RAM. */
#define KVM_TSS_ADDR 0xfffbd000ULL
/* One page for the EPT identity map of unpaged protected mode. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ULL

/* True when the machine runs on KVM. */
bool kvm_enabled(void);

/* What the host's KVM offers vCPUs, read once per VM. */
typedef struct KVMX86Caps {
    struct kvm_cpuid2 *cpuid;   /* KVM_GET_SUPPORTED_CPUID */
    uint32_t msrs[X86_VCPU_MAX_MSRS];   /* MSRs saved with the state */
    unsigned int nmsrs;
    bool msrs_probed;
} KVMX86Caps;

/* Read the supported CPUID from /dev/kvm's @kvm_fd. */
bool kvm_x86_caps_init(KVMX86Caps *caps, int kvm_fd, Error **errp);
void kvm_x86_caps_cleanup(KVMX86Caps *caps);

/*
 * Give the new vCPU @vcpu_fd number @index its CPUID (the supported one,
 * with APIC id @index and no local APIC advertised).  The first call
 * also finds out which of the MSRs we save this KVM knows.
 */
bool kvm_x86_vcpu_setup(KVMX86Caps *caps, int vcpu_fd, unsigned int index,
                        Error **errp);

/*
 * Read or write the whole state of a vCPU that is not running.  mp_state
 * is not touched on KVM (get reports RUNNABLE); lapic is zero.  Set
 * loads every MSR listed in @s and fails, naming it, on one KVM refuses.
 */
bool kvm_x86_get_state(const KVMX86Caps *caps, int vcpu_fd,
                       X86VcpuState *s, Error **errp);
bool kvm_x86_set_state(int vcpu_fd, const X86VcpuState *s, Error **errp);

#endif /* SYSTEM_KVM_H */
