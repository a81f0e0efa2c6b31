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

/* What the machine was asked to do, as the shutdown code would see it. */
static int exit_status = -1;
static int shutdown_requests;
static ShutdownCause shutdown_cause;

void system_shutdown_set_exit_status(int status)
{
    if (exit_status < 0) {
        exit_status = status;
    }
}

void system_shutdown_request(ShutdownCause cause)
{
    shutdown_requests++;
    shutdown_cause = cause;
}

static int setup(void **state)
{
    exit_status = -1;
    shutdown_requests = 0;
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
    assert_int_equal(exit_status, (0x31 << 1) | 1);
    assert_int_equal(shutdown_requests, 1);
    assert_int_equal(shutdown_cause, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static void test_write_zero(void **state)
{
    ioport_write(0x501, 0, 1);
    assert_int_equal(exit_status, 1);
    assert_int_equal(shutdown_requests, 1);
}

static void test_read_and_neighbours(void **state)
{
    Error *err = NULL;

    assert_int_equal(ioport_read(0x501, 1), 0xff);
    ioport_write(0x500, 5, 1);
    ioport_write(0x502, 5, 1);
    assert_int_equal(shutdown_requests, 0);
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
    assert_int_equal(exit_status, 0x21);
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
