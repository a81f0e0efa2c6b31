/*
 * The accelerators that run guest code on this host, for tests that
 * boot a guest: each such case runs once per accelerator, under the
 * same name with "/ACCEL" appended.
 *
 *   - "kvm" where /dev/kvm is usable (kvm_test_usable());
 *   - "tcg" everywhere (it is built in: the build needs Unicorn).
 *
 * COLO_TEST_ACCELS narrows or orders the list ("tcg", "kvm,tcg"); an
 * accelerator named there that cannot run on this host makes its cases
 * skip with TEST_REQUIRE, naming what is missing.  Without it a host
 * without KVM runs every case under tcg and skips none.
 *
 *     static void test_boot(void **state)
 *     {
 *         const char *accel = accel_test_accel(state);
 *         ... "-accel %s", accel ...
 *     }
 *
 *     int main(void)
 *     {
 *         const struct CMUnitTest tests[] = {
 *             cmocka_unit_test(test_boot),
 *         };
 *         return accel_test_run_group("boot", tests, G_N_ELEMENTS(tests),
 *                                     NULL, NULL);
 *     }
 *
 * A case's own cmocka_unit_test_prestate() state is still there:
 * accel_test_param().  Per-case setup functions must leave *state
 * alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_ACCEL_TEST_H
#define TESTS_LIB_ACCEL_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define ACCEL_TEST_MAX 4

/*
 * The accelerators the cases run under, in order; returns how many
 * (at most ACCEL_TEST_MAX) and fills @names with static strings.
 */
unsigned accel_test_list(const char *names[ACCEL_TEST_MAX]);

/*
 * cmocka's group run over @tests, each case once per accelerator of
 * accel_test_list().
 */
int accel_test_run_group(const char *group_name,
                         const struct CMUnitTest *tests, size_t ntests,
                         CMFixtureFunction group_setup,
                         CMFixtureFunction group_teardown);

/*
 * In a case run by accel_test_run_group(): its accelerator ("kvm",
 * "tcg").  Skips the case (TEST_REQUIRE) when that accelerator cannot
 * run here, so call it before allocating anything.
 */
const char *accel_test_accel(void **state);
/* The case's own initial state (cmocka_unit_test_prestate), or NULL. */
void *accel_test_param(void **state);

#endif /* TESTS_LIB_ACCEL_TEST_H */
