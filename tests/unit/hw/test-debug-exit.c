/*
 * Tests for isa-debug-exit: the exit status and shutdown request a
 * guest write produces.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>

#include "hw/debug-exit.h"
#include "system/ioport.h"
#include "system/shutdown.h"

/* What the machine was asked to do: the real shutdown state. */
static void assert_shutdown(ShutdownCause expected_cause, int status)
{
    ShutdownCause cause = SHUTDOWN_CAUSE_NONE;

    assert_true(system_shutdown_requested(&cause));
    assert_int_equal(cause, expected_cause);
    assert_int_equal(system_shutdown_exit_status(), status);
}

static int setup(void **state)
{
    system_shutdown_reset();
    assert_true(debug_exit_init(DEBUG_EXIT_IOBASE, DEBUG_EXIT_IOSIZE,
                                &error_abort));
    return 0;
}

static int teardown(void **state)
{
    ioport_unregister_all();
    return 0;
}

static void test_write_exits(void **state)
{
    ioport_write(0x501, 0x31, 1);
    assert_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, (0x31 << 1) | 1);
}

static void test_write_zero(void **state)
{
    ioport_write(0x501, 0, 1);
    assert_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 1);
}

static void test_read_and_neighbours(void **state)
{
    Error *err = NULL;

    assert_int_equal(ioport_read(0x501, 1), 0xff);
    ioport_write(0x500, 5, 1);
    ioport_write(0x502, 5, 1);
    assert_false(system_shutdown_requested(NULL));
    assert_false(debug_exit_init(0x501, 1, &err));
    assert_non_null(err);
    error_free(err);
}

static void test_wider_region(void **state)
{
    ioport_unregister_all();
    /* QEMU's iosize=2: the whole 16-bit value is the code. */
    assert_true(debug_exit_init(0xf4, 2, &error_abort));
    ioport_write(0xf4, 0x10, 2);
    assert_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 0x21);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_and_neighbours, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wider_region, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
