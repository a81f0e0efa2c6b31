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

bool kvm_test_usable(char **why)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int version;

    if (fd < 0) {
        *why = g_strdup_printf("cannot open /dev/kvm read-write: %s",
                               g_strerror(errno));
        return false;
    }
    version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        *why = g_strdup_printf("/dev/kvm does not answer "
                               "KVM_GET_API_VERSION: %s", g_strerror(errno));
        close(fd);
        return false;
    }
    close(fd);
    if (version != KVM_API_VERSION) {
        *why = g_strdup_printf("/dev/kvm speaks API version %d, not %d",
                               version, KVM_API_VERSION);
        return false;
    }
    return true;
}
