/*
 * Whether tests that run guest code under KVM can run on this host.
 *
 * The host is probed once per process and the answer kept, so asking
 * costs nothing and allocates nothing: a test case asks before each
 * run, and a case that skips must hold no memory (see test-require.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_KVM_TEST_H
#define TESTS_LIB_KVM_TEST_H

#include <stdbool.h>

/*
 * True when /dev/kvm can be opened read-write, speaks the stable API
 * and lets us create a VM.
 */
bool kvm_test_usable(void);

/*
 * When KVM is not usable, what is missing in plain words, for
 * TEST_REQUIRE: "a usable /dev/kvm (open /dev/kvm: ...)".  NULL when it
 * is usable.  Static storage: never free it.
 */
const char *kvm_test_unmet(void);

#endif /* TESTS_LIB_KVM_TEST_H */
