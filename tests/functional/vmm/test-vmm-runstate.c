/*
 * Run states of a guest seen through QMP, under each accelerator that
 * runs guest code: -S and cont, system_reset, a guest that crashes its
 * vCPU, one that probes outside RAM, a guest that ends the VM through
 * the debug-exit port.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/wait.h>

#include "serial-test.h"
#include "vmm-test.h"

static void assert_error(json_t *r, const char *cls, const char *desc)
{
    assert_non_null(r);
    assert_null(qmptest_return(r));
    assert_string_equal(qmptest_error_class(r), cls);
    assert_string_equal(qmptest_error_desc(r), desc);
}

/* -S: nothing runs until cont. */
static void test_start_paused(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    QmpTestClient *c;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 16M -S -kernel @GUEST@/dirtier.elf "
                   "-serial stdio", accel);
    c = qmptest_client(vm);
    vmm_assert_status(c, "prelaunch", false);
    assert_string_equal(qmptest_stdout(vm), "");

    vmm_cont(c);
    vmm_assert_status(c, "running", true);
    assert_true(serial_wait_char_count(vm, 'A', 1, QMPTEST_TIMEOUT_MS));
    assert_true(serial_wait_char_count(vm, 'B', 1, QMPTEST_TIMEOUT_MS));
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* system_reset restarts the guest from its entry point: 'A' again. */
static void test_system_reset(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    qmptest_auto_json json_t *r = NULL;
    qmptest_auto_json json_t *ev = NULL;
    QmpTestClient *c;
    json_t *data;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 16M -kernel @GUEST@/dirtier.elf "
                   "-serial stdio", accel);
    c = qmptest_client(vm);
    assert_true(serial_wait_char_count(vm, 'B', 1, QMPTEST_TIMEOUT_MS));

    r = qmptest_cmd(c, "{'execute': 'system_reset'}");
    assert_non_null(qmptest_return(r));
    ev = qmptest_wait_event(c, "RESET", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);
    data = json_object_get(ev, "data");
    assert_true(json_is_false(json_object_get(data, "guest")));
    assert_string_equal(json_string_value(json_object_get(data, "reason")),
                        "host-qmp-system-reset");

    assert_true(serial_wait_char_count(vm, 'A', 2, QMPTEST_TIMEOUT_MS));
    assert_true(serial_wait_more_chars(vm, 'B', 1, QMPTEST_TIMEOUT_MS));
    vmm_assert_status(c, "running", true);
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/*
 * A triple fault stops the VM in internal-error; colo-vm keeps serving
 * QMP, refuses cont until a reset, and quits cleanly.  The crashing
 * guests start paused so that the STOP event cannot come before the
 * test listens for it.
 */
static void test_internal_error(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    qmptest_auto_json json_t *ev = NULL;
    qmptest_auto_json json_t *r = NULL;
    QmpTestClient *c;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 16M -S -kernel @GUEST@/bad.elf "
                   "-serial stdio", accel);
    c = qmptest_client(vm);
    vmm_cont(c);
    ev = qmptest_wait_event(c, "STOP", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);
    vmm_assert_status(c, "internal-error", false);
    assert_true(serial_wait_char_count(vm, 'A', 1, QMPTEST_TIMEOUT_MS));
    assert_false(qmptest_exited(vm));
    /* The reason is reported where the user sees it. */
    assert_true(qmptest_wait_stderr(vm, "triple fault", QMPTEST_TIMEOUT_MS));

    r = qmptest_cmd(c, "{'execute': 'cont'}");
    assert_error(r, "GenericError",
                 "Resetting the Virtual Machine is required");
    vmm_assert_status(c, "internal-error", false);
    assert_int_equal(serial_count_char(vm, 'A'), 1);
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* After a reset the crashed guest can run again (and crash again). */
static void test_internal_error_reset(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    qmptest_auto_json json_t *ev = NULL;
    qmptest_auto_json json_t *ev2 = NULL;
    qmptest_auto_json json_t *reset = NULL;
    qmptest_auto_json json_t *r = NULL;
    QmpTestClient *c;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 16M -S -kernel @GUEST@/bad.elf "
                   "-serial stdio", accel);
    c = qmptest_client(vm);
    vmm_cont(c);
    ev = qmptest_wait_event(c, "STOP", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);

    /* As in QEMU, a reset of a VM that is not running ends in prelaunch. */
    r = qmptest_cmd(c, "{'execute': 'system_reset'}");
    assert_non_null(qmptest_return(r));
    reset = qmptest_wait_event(c, "RESET", QMPTEST_TIMEOUT_MS);
    assert_non_null(reset);
    vmm_assert_status(c, "prelaunch", false);
    vmm_cont(c);
    ev2 = qmptest_wait_event(c, "STOP", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev2);
    vmm_assert_status(c, "internal-error", false);
    assert_true(serial_wait_char_count(vm, 'A', 2, QMPTEST_TIMEOUT_MS));
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/*
 * Outside RAM: addresses below 4 GiB that nothing backs read as all
 * ones and ignore writes; a jump above 4 GiB, which the boot page
 * tables do not map, faults with no IDT to deliver the fault: a triple
 * fault, internal-error, and colo-vm goes on.
 */
static void test_outside_ram(void **state)
{
    const char *accel = accel_test_accel(state);
    g_autoptr(QmpTestProc) vm = NULL;
    qmptest_auto_json json_t *ev = NULL;
    QmpTestClient *c;

    vm = vmm_start("-accel %s -m 16M -S -kernel @GUEST@/probe.elf "
                   "-serial stdio", accel);
    c = qmptest_client(vm);
    vmm_cont(c);
    ev = qmptest_wait_event(c, "STOP", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);
    vmm_assert_status(c, "internal-error", false);
    assert_true(serial_wait_char_count(vm, 'Y', 1, QMPTEST_TIMEOUT_MS));
    assert_string_equal(qmptest_stdout(vm), "Y");
    assert_true(qmptest_wait_stderr(vm, "triple fault", QMPTEST_TIMEOUT_MS));
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* Writing V to the debug-exit port ends colo-vm with (V << 1) | 1. */
static void test_debug_exit(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    int status;
    const char *accel = accel_test_accel(state);

    vm = vmm_start("-accel %s -m 16M -S -kernel @GUEST@/exit.elf "
                   "-serial stdio", accel);
    /* Started paused: the guest must not end colo-vm before QMP is up. */
    vmm_cont(qmptest_client(vm));
    status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), EXIT_GUEST_STATUS);
    assert_string_equal(qmptest_stdout(vm), "A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_paused),
        cmocka_unit_test(test_system_reset),
        cmocka_unit_test(test_internal_error),
        cmocka_unit_test(test_internal_error_reset),
        cmocka_unit_test(test_outside_ram),
        cmocka_unit_test(test_debug_exit),
    };

    return accel_test_run_group("vmm-runstate", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
