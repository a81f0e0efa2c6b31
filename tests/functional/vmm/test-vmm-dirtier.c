/*
 * The dirtier guests under each accelerator that runs guest code: they
 * run, stop and resume on request, and a RAM snapshot taken while
 * stopped is consistent.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ram-pattern.h"
#include "serial-test.h"
#include "vmm-test.h"

/*
 * The first dirtied page holds the number of passes begun so far
 * (modulo 256): the passes that printed 'B', plus one when the stop
 * came in the middle of a pass.  The 'B's may still be on their way
 * through the pipe, so wait for them to catch up.
 */
static void assert_passes_match(QmpTestProc *vm, const char *path)
{
    g_autoptr(GMappedFile) file = g_mapped_file_new(path, FALSE, NULL);
    uint8_t first, printed;

    assert_non_null(file);
    first = ((const uint8_t *)g_mapped_file_get_contents(file))[DIRTY_START];
    for (;;) {
        printed = serial_count_char(vm, 'B') & 0xff;
        if (first == printed || first == (uint8_t)(printed + 1)) {
            return;
        }
        if (!serial_wait_more_chars(vm, 'B', 1, QMPTEST_TIMEOUT_MS)) {
            fail_msg("first page holds %u but the guest printed %u 'B'",
                     first, printed);
        }
    }
}

/*
 * Boot, see a pass complete, stop, snapshot RAM and check it, resume
 * and see the guest make progress again.
 */
static void run_and_check(QmpTestProc *vm, uint64_t ram_size,
                          uint64_t dirty_end, unsigned parts)
{
    QmpTestClient *c = qmptest_client(vm);
    g_autofree char *path = NULL;
    g_autofree char *why = NULL;

    assert_true(serial_wait_char_count(vm, 'A', 1, QMPTEST_TIMEOUT_MS));
    assert_true(serial_wait_char_count(vm, 'B', 2, QMPTEST_TIMEOUT_MS));
    vmm_assert_status(c, "running", true);

    vmm_stop(c);
    vmm_assert_status(c, "paused", false);
    path = vmm_pmemsave(vm, ram_size);
    if (!ram_pattern_check_file(path, DIRTY_START, dirty_end, parts, &why)) {
        fail_msg("RAM pattern: %s", why);
    }
    assert_passes_match(vm, path);

    vmm_cont(c);
    vmm_assert_status(c, "running", true);
    assert_true(serial_wait_more_chars(vm, 'B', 2, QMPTEST_TIMEOUT_MS));
    assert_int_equal(serial_count_char(vm, 'A'), 1);
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

static void test_dirtier(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 64M -kernel @GUEST@/dirtier.elf "
                   "-serial stdio", accel);
    run_and_check(vm, 64 * MIB, 64 * MIB, 1);
}

static void test_dirtier_smp(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 64M -smp 2 -kernel @GUEST@/dirtier.elf "
                   "-serial stdio", accel);
    run_and_check(vm, 64 * MIB, 64 * MIB, 2);
}

/* More vCPUs than host CPUs: the barrier must still hold. */
static void test_dirtier_smp4(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 32M -smp 4 -kernel @GUEST@/dirtier.elf "
                   "-serial stdio", accel);
    run_and_check(vm, 32 * MIB, 32 * MIB, 4);
}

static void test_dirtier_bootsector(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 128M "
                   "-drive file=@GUEST@/dirtier-bootsector.img,format=raw "
                   "-serial stdio", accel);
    run_and_check(vm, 128 * MIB, BOOTSECTOR_DIRTY_END, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirtier),
        cmocka_unit_test(test_dirtier_smp),
        cmocka_unit_test(test_dirtier_smp4),
        cmocka_unit_test(test_dirtier_bootsector),
    };

    return accel_test_run_group("vmm-dirtier", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
