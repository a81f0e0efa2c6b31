/*
 * x86 vCPU state on KVM: CPUID set-up and reading or writing the whole
 * X86VcpuState of a vCPU file descriptor.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include <glib.h>

#include "kvm-int.h"
#include "system/x86-boot.h"
#include "trace/trace.h"

#define CPUID_MAX_ENTRIES 4096

/* CPUID bits of the local APIC, which this VM does not have. */
#define CPUID_1_EDX_APIC        (1U << 9)
#define CPUID_1_ECX_X2APIC      (1U << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)

#define X86_MSR_IA32_TSC_ADJUST 0x3b

/*
 * The MSRs a 64-bit guest can change and that KVM does not keep in
 * sregs; saved when this KVM can read them.  EFER is in sregs.
 */
static const uint32_t saved_msrs[] = {
    X86_MSR_IA32_TSC,
    X86_MSR_IA32_TSC_ADJUST,
    X86_MSR_IA32_SYSENTER_CS,
    X86_MSR_IA32_SYSENTER_ESP,
    X86_MSR_IA32_SYSENTER_EIP,
    X86_MSR_IA32_MISC_ENABLE,
    X86_MSR_IA32_CR_PAT,
    X86_MSR_STAR,
    X86_MSR_LSTAR,
    X86_MSR_CSTAR,
    X86_MSR_SFMASK,
    X86_MSR_FS_BASE,
    X86_MSR_GS_BASE,
    X86_MSR_KERNEL_GS_BASE,
    X86_MSR_TSC_AUX,
};

G_STATIC_ASSERT(G_N_ELEMENTS(saved_msrs) <= X86_VCPU_MAX_MSRS);

/* struct kvm_msrs ends in a flexible array: allocate it with @n entries. */
static struct kvm_msrs *kvm_msrs_new(unsigned int n)
{
    struct kvm_msrs *msrs =
        g_malloc0(sizeof(*msrs) + n * sizeof(msrs->entries[0]));

    msrs->nmsrs = n;
    return msrs;
}

int kvm_ioctl(int fd, unsigned long request, void *arg)
{
    int ret;

    do {
        ret = ioctl(fd, request, arg);
    } while (ret < 0 && errno == EINTR);
    return ret;
}

bool kvm_x86_caps_init(KVMX86Caps *caps, int kvm_fd, Error **errp)
{
    memset(caps, 0, sizeof(*caps));
    for (unsigned int nent = 64; nent <= CPUID_MAX_ENTRIES; nent *= 2) {
        struct kvm_cpuid2 *cpuid =
            g_malloc0(sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));

        cpuid->nent = nent;
        if (kvm_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
            caps->cpuid = cpuid;
            return true;
        }
        g_free(cpuid);
        if (errno != E2BIG) {
            error_setg_errno(errp, errno, "KVM_GET_SUPPORTED_CPUID failed");
            return false;
        }
    }
    error_setg(errp, "KVM_GET_SUPPORTED_CPUID: more than %d entries",
               CPUID_MAX_ENTRIES);
    return false;
}

void kvm_x86_caps_cleanup(KVMX86Caps *caps)
{
    g_free(caps->cpuid);
    memset(caps, 0, sizeof(*caps));
}

static void cpuid_patch_entry(struct kvm_cpuid_entry2 *e, unsigned int index)
{
    switch (e->function) {
    case 1:
        e->ebx = (e->ebx & 0x00ffffff) | (index << 24);
        e->edx &= ~CPUID_1_EDX_APIC;
        e->ecx &= ~(CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE);
        break;
    case 0xb:
    case 0x1f:
        e->edx = index;     /* x2APIC id */
        break;
    default:
        break;
    }
}

/* Keep the MSRs of saved_msrs[] that KVM can read on this vCPU. */
static void kvm_x86_probe_msrs(KVMX86Caps *caps, int vcpu_fd)
{
    caps->nmsrs = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(saved_msrs); i++) {
        g_autofree struct kvm_msrs *buf = kvm_msrs_new(1);

        buf->entries[0].index = saved_msrs[i];
        if (kvm_ioctl(vcpu_fd, KVM_GET_MSRS, buf) == 1) {
            caps->msrs[caps->nmsrs++] = saved_msrs[i];
        }
    }
    caps->msrs_probed = true;
}

bool kvm_x86_vcpu_setup(KVMX86Caps *caps, int vcpu_fd, unsigned int index,
                        Error **errp)
{
    size_t size = sizeof(*caps->cpuid) +
                  caps->cpuid->nent * sizeof(caps->cpuid->entries[0]);
    g_autofree struct kvm_cpuid2 *cpuid = g_memdup2(caps->cpuid, size);

    for (unsigned int i = 0; i < cpuid->nent; i++) {
        cpuid_patch_entry(&cpuid->entries[i], index);
    }
    if (kvm_ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_CPUID2 failed for CPU %u",
                         index);
        return false;
    }
    if (!caps->msrs_probed) {
        kvm_x86_probe_msrs(caps, vcpu_fd);
    }
    return true;
}

static bool kvm_x86_get_msrs(const KVMX86Caps *caps, int vcpu_fd,
                             X86VcpuState *s, Error **errp)
{
    g_autofree struct kvm_msrs *buf = kvm_msrs_new(caps->nmsrs);
    int ret;

    for (unsigned int i = 0; i < caps->nmsrs; i++) {
        buf->entries[i].index = caps->msrs[i];
    }
    ret = kvm_ioctl(vcpu_fd, KVM_GET_MSRS, buf);
    if (ret < 0) {
        error_setg_errno(errp, errno, "KVM_GET_MSRS failed");
        return false;
    }
    if ((unsigned int)ret != caps->nmsrs) {
        error_setg(errp, "KVM_GET_MSRS could not read MSR 0x%x",
                   caps->msrs[ret]);
        return false;
    }
    s->nmsrs = caps->nmsrs;
    for (unsigned int i = 0; i < caps->nmsrs; i++) {
        s->msrs[i] = (X86VcpuMsr) {
            .index = buf->entries[i].index, .data = buf->entries[i].data,
        };
    }
    return true;
}

static bool kvm_x86_set_msrs(int vcpu_fd, const X86VcpuState *s,
                             Error **errp)
{
    g_autofree struct kvm_msrs *buf = NULL;
    int ret;

    if (s->nmsrs > X86_VCPU_MAX_MSRS) {
        error_setg(errp, "vCPU state lists %u MSRs (at most %d)", s->nmsrs,
                   X86_VCPU_MAX_MSRS);
        return false;
    }
    buf = kvm_msrs_new(s->nmsrs);
    for (unsigned int i = 0; i < s->nmsrs; i++) {
        buf->entries[i].index = s->msrs[i].index;
        buf->entries[i].data = s->msrs[i].data;
    }
    ret = kvm_ioctl(vcpu_fd, KVM_SET_MSRS, buf);
    if (ret < 0) {
        error_setg_errno(errp, errno, "KVM_SET_MSRS failed");
        return false;
    }
    if ((unsigned int)ret != s->nmsrs) {
        error_setg(errp, "KVM refused MSR 0x%x = 0x%llx",
                   s->msrs[ret].index,
                   (unsigned long long)s->msrs[ret].data);
        return false;
    }
    return true;
}

typedef struct StateIoctl {
    const char *get_name, *set_name;
    unsigned long get, set;
    size_t offset;
} StateIoctl;

#define STATE_IOCTL(get_, set_, member) \
    { #get_, #set_, get_, set_, offsetof(X86VcpuState, member) }

/*
 * Order of loading: sregs before regs (a mode change must not reinterpret
 * RIP), the FPU image before XCR0, MSRs after EFER, and events last so
 * that nothing loaded after them recomputes what they inject.
 */
static const StateIoctl state_ioctls[] = {
    STATE_IOCTL(KVM_GET_SREGS, KVM_SET_SREGS, sregs),
    STATE_IOCTL(KVM_GET_REGS, KVM_SET_REGS, regs),
    STATE_IOCTL(KVM_GET_XSAVE, KVM_SET_XSAVE, xsave),
    STATE_IOCTL(KVM_GET_XCRS, KVM_SET_XCRS, xcrs),
    STATE_IOCTL(KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, debugregs),
    STATE_IOCTL(KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, events),
};

bool kvm_x86_get_state(const KVMX86Caps *caps, int vcpu_fd,
                       X86VcpuState *s, Error **errp)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < G_N_ELEMENTS(state_ioctls); i++) {
        const StateIoctl *io = &state_ioctls[i];

        if (kvm_ioctl(vcpu_fd, io->get, (char *)s + io->offset) < 0) {
            error_setg_errno(errp, errno, "%s failed", io->get_name);
            return false;
        }
    }
    if (!kvm_x86_get_msrs(caps, vcpu_fd, s, errp)) {
        return false;
    }
    s->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
    trace_kvm_vcpu_get_state(vcpu_fd, s->regs.rip);
    return true;
}

bool kvm_x86_set_state(int vcpu_fd, const X86VcpuState *s, Error **errp)
{
    trace_kvm_vcpu_set_state(vcpu_fd, s->regs.rip);
    for (size_t i = 0; i < G_N_ELEMENTS(state_ioctls); i++) {
        const StateIoctl *io = &state_ioctls[i];

        if (io->set == KVM_SET_VCPU_EVENTS &&
            !kvm_x86_set_msrs(vcpu_fd, s, errp)) {
            return false;
        }
        if (kvm_ioctl(vcpu_fd, io->set, (char *)s + io->offset) < 0) {
            error_setg_errno(errp, errno, "%s failed", io->set_name);
            return false;
        }
    }
    return true;
}
