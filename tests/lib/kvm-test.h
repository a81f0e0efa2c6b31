/*
 * Whether tests that run guest code under KVM can run on this host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_KVM_TEST_H
#define TESTS_LIB_KVM_TEST_H

#include <stdbool.h>

/*
 * True when /dev/kvm can be opened read-write and speaks the stable
 * API; otherwise false with the reason in *@why (g_free() it).
 */
bool kvm_test_usable(char **why);

#endif /* TESTS_LIB_KVM_TEST_H */
