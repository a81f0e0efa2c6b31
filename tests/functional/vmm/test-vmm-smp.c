/*
 * vCPUs of one VM against each other, under each accelerator that runs
 * guest code: counter.elf makes every vCPU add to shared counters with
 * locked additions and compare-and-swap loops, then meet at a barrier.
 * The totals must be exact (under tcg the engines take turns: Unicorn's
 * locked instructions are atomic only within one engine) and the
 * barrier must fill (every vCPU keeps getting its turn).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/wait.h>

#include "vmm-test.h"

/* What counter.elf adds per vCPU, to each counter. */
#define COUNTER_ROUNDS 200000

static void check_counters(const char *accel, unsigned smp)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autofree char *want = NULL;
    unsigned long long total = (unsigned long long)smp * COUNTER_ROUNDS;
    int status;

    vm = vmm_start("-accel %s -m 16M -smp %u -kernel @GUEST@/counter.elf "
                   "-serial stdio", accel, smp);
    status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
    want = g_strdup_printf("counter %llu %llu %llu\n", total, total, total);
    assert_string_equal(qmptest_stdout(vm), want);
    /* The guest wrote 0 to isa-debug-exit: every total was right. */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

static void test_atomics_smp2(void **state)
{
    check_counters(accel_test_accel(state), 2);
}

/* More vCPUs than host CPUs. */
static void test_atomics_smp4(void **state)
{
    check_counters(accel_test_accel(state), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomics_smp2),
        cmocka_unit_test(test_atomics_smp4),
    };

    return accel_test_run_group("vmm-smp", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
