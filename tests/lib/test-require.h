/*
 * The one way a cmocka test case skips: TEST_REQUIRE(cond, requirement),
 * after the Linux KVM selftests' TEST_REQUIRE.  A case that cannot run
 * on this host (no usable /dev/kvm, a trace backend not built in, a tool
 * not installed) says what it needs on one line and skips instead of
 * failing:
 *
 *     TEST_REQUIRE(kvm_test_usable(), kvm_test_unmet());
 *
 * prints
 *
 *     SKIP: needs a usable /dev/kvm (open /dev/kvm: No such file ...)
 *
 * scripts/test-summary.py collects these lines and reports each
 * distinct requirement once with the number of cases it skipped, so
 * @requirement names the thing in plain words, the same words wherever
 * the same thing is missing.
 *
 * cmocka's skip() leaves the case with longjmp: cleanup attributes
 * (g_autofree, g_autoptr) do not run.  So a case checks its
 * requirements before it allocates anything or opens anything, and
 * @requirement must not be memory the case would have to free.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_TEST_REQUIRE_H
#define TESTS_LIB_TEST_REQUIRE_H

/* Skip the calling case, naming @requirement, unless @cond holds. */
#define TEST_REQUIRE(cond, requirement) do {                          \
        if (!(cond)) {                                                \
            test_require_unmet((requirement), __FILE__, __LINE__);    \
        }                                                             \
    } while (0)

/* Print "SKIP: needs @requirement" and skip the running case. */
void test_require_unmet(const char *requirement, const char *file,
                        int line) __attribute__((noreturn));

#endif /* TESTS_LIB_TEST_REQUIRE_H */
