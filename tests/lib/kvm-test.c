/*
 * Whether tests that run guest code under KVM can run on this host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <glib.h>

#include "kvm-test.h"

/*
 * Written once, under g_once_init_enter(), before anyone reads it; empty
 * when KVM is usable.
 */
static char kvm_unmet[160];

static void kvm_test_probe(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int version, vm_fd;

    if (fd < 0) {
        g_snprintf(kvm_unmet, sizeof(kvm_unmet),
                   "a usable /dev/kvm (open /dev/kvm: %s)",
                   g_strerror(errno));
        return;
    }
    version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        g_snprintf(kvm_unmet, sizeof(kvm_unmet),
                   "a usable /dev/kvm (KVM_GET_API_VERSION: %s)",
                   g_strerror(errno));
    } else if (version != KVM_API_VERSION) {
        g_snprintf(kvm_unmet, sizeof(kvm_unmet),
                   "a usable /dev/kvm (API version %d, not %d)",
                   version, KVM_API_VERSION);
    } else {
        /*
         * Opening is not enough: another hypervisor holding VMX, or a
         * nested host without it, refuses the VM itself.
         */
        vm_fd = ioctl(fd, KVM_CREATE_VM, 0);
        if (vm_fd < 0) {
            g_snprintf(kvm_unmet, sizeof(kvm_unmet),
                       "a usable /dev/kvm (KVM_CREATE_VM: %s)",
                       g_strerror(errno));
        } else {
            close(vm_fd);
        }
    }
    close(fd);
}

bool kvm_test_usable(void)
{
    static gsize probed;

    if (g_once_init_enter(&probed)) {
        kvm_test_probe();
        g_once_init_leave(&probed, 1);
    }
    return kvm_unmet[0] == '\0';
}

const char *kvm_test_unmet(void)
{
    return kvm_test_usable() ? NULL : kvm_unmet;
}
