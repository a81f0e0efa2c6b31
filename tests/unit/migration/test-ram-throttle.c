/*
 * Auto-converge: the vCPU throttle (percentages, the kicks that drive
 * it, the sleep a vCPU takes) and the policy that raises it when the
 * guest dirties memory faster than the "ram" section sends it.
 *
 * Waits are for events; the only clock-based assertions are lower
 * bounds on how long a throttled vCPU sleeps, plus the one-second rate
 * periods of the section, which the last test sleeps through.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "io/channel-buffer.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "ram-test.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "util/main-loop.h"

#define PAGE TARGET_PAGE_SIZE

static int setup(void **state)
{
    ram_test_accel_setup();
    ram_stats_reset();
    cpu_throttle_stop();
    return 0;
}

static int teardown(void **state)
{
    CPUState *cpu;

    cpu_throttle_stop();
    /* No vCPU here has a real thread to join. */
    CPU_FOREACH(cpu) {
        cpu->thread_started = false;
    }
    cpu_exit_all();
    runstate_init();
    ram_test_teardown();
    return 0;
}

static void test_throttle_percentages(void **state)
{
    assert_false(cpu_throttle_active());
    assert_int_equal(cpu_throttle_get_percentage(), 0);

    cpu_throttle_set(30);
    assert_true(cpu_throttle_active());
    assert_int_equal(cpu_throttle_get_percentage(), 30);
    cpu_throttle_set(0);
    assert_int_equal(cpu_throttle_get_percentage(), 1);
    cpu_throttle_set(-5);
    assert_int_equal(cpu_throttle_get_percentage(), 1);
    cpu_throttle_set(99);
    assert_int_equal(cpu_throttle_get_percentage(), 99);
    cpu_throttle_set(150);
    assert_int_equal(cpu_throttle_get_percentage(), 99);

    cpu_throttle_stop();
    assert_false(cpu_throttle_active());
    assert_int_equal(cpu_throttle_get_percentage(), 0);
    cpu_throttle_stop();
    assert_false(cpu_throttle_active());
}

/* Without vCPU threads (qtest) the throttle is accepted and inert. */
static void test_throttle_threadless(void **state)
{
    CPUState *cpu = cpu_create();

    cpu_throttle_set(50);
    /* The first period ends: nothing to kick, nothing to sleep. */
    main_loop_wait(false);
    assert_int_equal(ram_test_kicks, 0);
    assert_false(cpu->throttle_pending);
    assert_int_equal(cpu_throttle_get_percentage(), 50);
    cpu_throttle_vcpu_sleep(cpu);
}

static int64_t sleep_ns(CPUState *cpu)
{
    int64_t t0 = clock_get_ns(CLOCK_TYPE_REALTIME);

    cpu->throttle_pending = true;
    cpu_throttle_vcpu_sleep(cpu);
    assert_false(cpu->throttle_pending);
    return clock_get_ns(CLOCK_TYPE_REALTIME) - t0;
}

static void test_throttle_vcpu(void **state)
{
    CPUState *cpu = cpu_create();
    int guard = 0;

    /* A vCPU "with a thread" (kicks reach the fake accelerator). */
    cpu->thread_started = true;
    ram_test_kicks = 0;
    cpu_throttle_set(50);
    while (ram_test_kicks < 2) {
        main_loop_wait(false);
        assert_true(++guard < 1000);
    }
    assert_true(cpu->throttle_pending);
    cpu_throttle_stop();

    runstate_init();
    assert_true(runstate_set(RUN_STATE_RUNNING, &error_abort));
    cpu->stopped = false;

    /* 50%: sleep as long as the 10 ms it ran; 20%: a quarter of it. */
    cpu_throttle_set(50);
    assert_true(sleep_ns(cpu) >= 10 * SCALE_MS);
    cpu_throttle_set(20);
    assert_true(sleep_ns(cpu) >= 10 * SCALE_MS / 4);

    /* A pause request ends (here: prevents) the sleep. */
    cpu_throttle_set(99);
    cpu->stop = true;
    assert_true(sleep_ns(cpu) < 500 * SCALE_MS);
    cpu->stop = false;

    /* Stopped throttle: the request is dropped without sleeping. */
    cpu_throttle_stop();
    assert_true(sleep_ns(cpu) < 500 * SCALE_MS);
    cpu->stopped = true;
}

static void check_high(uint64_t xfer, uint64_t dirty, int expect_pct)
{
    ram_auto_converge_check(xfer, dirty);
    assert_int_equal(cpu_throttle_get_percentage(), expect_pct);
}

static void test_auto_converge_policy(void **state)
{
    ram_test_set_throttle(20, 10);

    /* Two high periods in a row are needed; a low one starts over. */
    check_high(1000, 600, 0);
    check_high(1000, 400, 0);
    check_high(1000, 600, 0);
    check_high(1000, 500, 0);     /* exactly half is not "more" */
    check_high(1000, 600, 0);
    check_high(1000, 600, 20);
    check_high(1000, 600, 20);
    check_high(1000, 600, 30);
    check_high(0, 1, 30);
    check_high(0, 1, 40);

    /* The increment stops at 99%. */
    cpu_throttle_stop();
    ram_test_set_throttle(95, 10);
    check_high(10, 6, 0);
    check_high(10, 6, 95);
    check_high(10, 6, 95);
    check_high(10, 6, 99);
    check_high(10, 6, 99);
    check_high(10, 6, 99);
    assert_true(cpu_throttle_active());

    /* ram_stats_reset() forgets a pending high period. */
    cpu_throttle_stop();
    ram_test_set_throttle(20, 10);
    check_high(1000, 600, 0);
    ram_stats_reset();
    check_high(1000, 600, 0);
}

/* Dirty every page as the guest would, then sleep through a period. */
static void dirty_all_and_wait(void)
{
    RAMBlock *block;

    RAMBLOCK_FOREACH(block) {
        for (uint64_t page = 0; page < block->npages; page++) {
            ram_test_guest_write(block, page, 0x5a);
        }
    }
    g_usleep(1050 * 1000);
}

/*
 * The section itself applies the policy at each one-second period of
 * dirty syncs, when the capability is on.
 */
static void run_periods(bool auto_converge)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    uint64_t pending = 0;
    RAMStats stats;

    ram_test_set_auto_converge(auto_converge);
    ram_test_set_throttle(20, 10);
    ram_block_add("pc.ram", 0, 8 * PAGE, &error_abort);

    assert_int_equal(ops->save_setup(f, ram_test_opaque(), &error_abort), 0);
    assert_int_equal(ops->save_live_iterate(f, ram_test_opaque()), 1);
    dirty_all_and_wait();
    ops->save_pending_exact(ram_test_opaque(), &pending);
    assert_int_equal(pending, 8 * PAGE);
    assert_int_equal(cpu_throttle_get_percentage(), 0);

    /* 8 pages dirtied in about a second, 8 (zero) pages sent. */
    ram_get_stats(&stats);
    assert_true(stats.dirty_pages_rate > 0);
    assert_true(stats.dirty_pages_rate <= 8);
    assert_true(stats.pages_per_second > 0);
    assert_int_equal(stats.dirty_sync_count, 2);

    assert_int_equal(ops->save_live_iterate(f, ram_test_opaque()), 1);
    dirty_all_and_wait();
    pending = 0;
    ops->save_pending_exact(ram_test_opaque(), &pending);
    assert_int_equal(pending, 8 * PAGE);
    assert_int_equal(cpu_throttle_get_percentage(), auto_converge ? 20 : 0);

    ops->save_cleanup(ram_test_opaque());
    qemu_fclose(f);
}

static void test_auto_converge_on(void **state)
{
    run_periods(true);
}

static void test_auto_converge_off(void **state)
{
    run_periods(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_throttle_percentages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_throttle_threadless, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_throttle_vcpu, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auto_converge_policy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auto_converge_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auto_converge_off, setup,
                                        teardown),
    };

    ram_test_init();
    main_loop_init();
    runstate_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
