/*
 * Run states: QEMU's transition table, vm_stop/vm_start with their
 * events and notifiers, requests from other threads, system reset and
 * shutdown requests.  No vCPUs: every vCPU operation is immediate.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "system-test.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "util/bql.h"
#include "util/thread.h"

static int setup(void **state)
{
    runstate_init();
    test_events_clear();
    return 0;
}

static int teardown(void **state)
{
    runstate_cleanup();
    system_reset_cleanup();
    return 0;
}

/* Force @s through valid transitions from prelaunch. */
static void go_to(RunState s)
{
    runstate_init();
    if (s == RUN_STATE_PRELAUNCH) {
        return;
    }
    if (s != RUN_STATE_RUNNING && s != RUN_STATE_INMIGRATE &&
        s != RUN_STATE_FINISH_MIGRATE) {
        assert_true(runstate_set(RUN_STATE_RUNNING, &error_abort));
    }
    assert_true(runstate_set(s, &error_abort));
    assert_int_equal(runstate_get(), s);
}

static void test_transition_table(void **state)
{
    static const struct {
        RunState from, to;
        bool valid;
    } cases[] = {
        { RUN_STATE_PRELAUNCH, RUN_STATE_RUNNING, true },
        { RUN_STATE_PRELAUNCH, RUN_STATE_INMIGRATE, true },
        { RUN_STATE_PRELAUNCH, RUN_STATE_PAUSED, false },
        { RUN_STATE_PRELAUNCH, RUN_STATE_SHUTDOWN, false },
        { RUN_STATE_RUNNING, RUN_STATE_PAUSED, true },
        { RUN_STATE_RUNNING, RUN_STATE_INTERNAL_ERROR, true },
        { RUN_STATE_RUNNING, RUN_STATE_SHUTDOWN, true },
        { RUN_STATE_RUNNING, RUN_STATE_COLO, true },
        { RUN_STATE_RUNNING, RUN_STATE_SUSPENDED, true },
        { RUN_STATE_RUNNING, RUN_STATE_PRELAUNCH, false },
        { RUN_STATE_RUNNING, RUN_STATE_INMIGRATE, false },
        { RUN_STATE_PAUSED, RUN_STATE_RUNNING, true },
        { RUN_STATE_PAUSED, RUN_STATE_PRELAUNCH, true },
        { RUN_STATE_PAUSED, RUN_STATE_COLO, true },
        { RUN_STATE_PAUSED, RUN_STATE_SHUTDOWN, false },
        { RUN_STATE_INMIGRATE, RUN_STATE_RUNNING, true },
        { RUN_STATE_INMIGRATE, RUN_STATE_COLO, true },
        { RUN_STATE_INMIGRATE, RUN_STATE_POSTMIGRATE, true },
        { RUN_STATE_INMIGRATE, RUN_STATE_DEBUG, false },
        { RUN_STATE_INTERNAL_ERROR, RUN_STATE_RUNNING, false },
        { RUN_STATE_INTERNAL_ERROR, RUN_STATE_PAUSED, true },
        { RUN_STATE_INTERNAL_ERROR, RUN_STATE_PRELAUNCH, true },
        { RUN_STATE_SHUTDOWN, RUN_STATE_RUNNING, false },
        { RUN_STATE_SHUTDOWN, RUN_STATE_PAUSED, true },
        { RUN_STATE_SHUTDOWN, RUN_STATE_COLO, true },
        { RUN_STATE_FINISH_MIGRATE, RUN_STATE_POSTMIGRATE, true },
        { RUN_STATE_FINISH_MIGRATE, RUN_STATE_COLO, true },
        { RUN_STATE_FINISH_MIGRATE, RUN_STATE_SHUTDOWN, false },
        { RUN_STATE_POSTMIGRATE, RUN_STATE_RUNNING, true },
        { RUN_STATE_POSTMIGRATE, RUN_STATE_PAUSED, false },
        { RUN_STATE_COLO, RUN_STATE_RUNNING, true },
        { RUN_STATE_COLO, RUN_STATE_SHUTDOWN, true },
        { RUN_STATE_COLO, RUN_STATE_PAUSED, false },
        { RUN_STATE_SAVE_VM, RUN_STATE_RUNNING, true },
        { RUN_STATE_SAVE_VM, RUN_STATE_PAUSED, false },
        { RUN_STATE_RESTORE_VM, RUN_STATE_PRELAUNCH, true },
        { RUN_STATE_DEBUG, RUN_STATE_SUSPENDED, true },
        { RUN_STATE_IO_ERROR, RUN_STATE_RUNNING, true },
        { RUN_STATE_WATCHDOG, RUN_STATE_COLO, true },
        { RUN_STATE_GUEST_PANICKED, RUN_STATE_RUNNING, true },
        { RUN_STATE_GUEST_PANICKED, RUN_STATE_COLO, false },
        { RUN_STATE_SUSPENDED, RUN_STATE_PAUSED, false },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        assert_int_equal(runstate_transition_valid(cases[i].from,
                                                   cases[i].to),
                         cases[i].valid);
    }
    /* No state may be left for itself through the table. */
    for (int s = 0; s < RUN_STATE__MAX; s++) {
        assert_false(runstate_transition_valid(s, s));
    }
}

static void test_runstate_set(void **state)
{
    Error *err = NULL;

    assert_int_equal(runstate_get(), RUN_STATE_PRELAUNCH);
    assert_false(runstate_is_running());
    /* Staying is always fine. */
    assert_true(runstate_set(RUN_STATE_PRELAUNCH, &error_abort));
    assert_false(runstate_set(RUN_STATE_PAUSED, &err));
    assert_string_equal(error_get_pretty(err),
                        "invalid runstate transition: 'prelaunch' -> "
                        "'paused'");
    error_free(err);
    err = NULL;
    assert_true(runstate_check(RUN_STATE_PRELAUNCH));
    assert_false(runstate_set(RUN_STATE__MAX, &err));
    error_free(err);

    go_to(RUN_STATE_INTERNAL_ERROR);
    assert_true(runstate_needs_reset());
    go_to(RUN_STATE_SHUTDOWN);
    assert_true(runstate_needs_reset());
    go_to(RUN_STATE_PAUSED);
    assert_false(runstate_needs_reset());
}

static void notify_a(void *opaque, bool running, RunState s)
{
    g_string_append_printf(opaque, "a%d:%s ", running, RunState_str(s));
}

static void notify_b(void *opaque, bool running, RunState s)
{
    g_string_append_printf(opaque, "b%d:%s ", running, RunState_str(s));
}

static void test_start_stop_events(void **state)
{
    g_autoptr(GString) log = g_string_new(NULL);
    g_autofree char *events = NULL;
    VMChangeStateEntry *a = vm_state_notify_add(notify_a, log);
    VMChangeStateEntry *b = vm_state_notify_add(notify_b, log);

    /* Not running: stop changes nothing and says nothing (QEMU). */
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    assert_true(runstate_check(RUN_STATE_PRELAUNCH));
    assert_int_equal(test_events_count(), 0);

    assert_true(vm_start(&error_abort));
    assert_true(runstate_is_running());
    /* Starting twice is a no-op. */
    assert_true(vm_start(&error_abort));
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    assert_true(runstate_check(RUN_STATE_PAUSED));
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    events = test_events_joined();
    assert_string_equal(events, "RESUME STOP");
    /* Forward on start, backwards on stop. */
    assert_string_equal(log->str,
                        "a1:running b1:running b0:paused a0:paused ");

    vm_state_notify_del(a);
    g_string_truncate(log, 0);
    assert_true(vm_start(&error_abort));
    assert_int_equal(vm_stop(RUN_STATE_INTERNAL_ERROR), 0);
    assert_string_equal(log->str, "b1:running b0:internal-error ");
    vm_state_notify_del(b);

    /* internal-error cannot go straight back to running. */
    {
        Error *err = NULL;

        assert_false(vm_start(&err));
        assert_non_null(err);
        error_free(err);
        assert_true(runstate_check(RUN_STATE_INTERNAL_ERROR));
    }
    /* A stop state the table does not allow from running is refused. */
    go_to(RUN_STATE_RUNNING);
    assert_int_equal(vm_stop(RUN_STATE_PRELAUNCH), -EINVAL);
    assert_true(runstate_is_running());
}

static void test_force_state(void **state)
{
    assert_int_equal(vm_stop_force_state(RUN_STATE_PAUSED), -EINVAL);
    assert_int_equal(vm_stop_force_state(RUN_STATE_INMIGRATE), 0);
    assert_true(runstate_check(RUN_STATE_INMIGRATE));
    assert_int_equal(test_events_count(), 0);
    go_to(RUN_STATE_RUNNING);
    assert_int_equal(vm_stop_force_state(RUN_STATE_FINISH_MIGRATE), 0);
    assert_true(runstate_check(RUN_STATE_FINISH_MIGRATE));
    assert_string_equal(test_event_name(0), "STOP");
}

static void *request_stop_thread(void *opaque)
{
    vm_stop_request(RUN_STATE_IO_ERROR);
    /* Later requests before the main loop ran lose against the first. */
    vm_stop_request(RUN_STATE_PAUSED);
    return NULL;
}

static void test_stop_request_from_thread(void **state)
{
    Thread t;

    go_to(RUN_STATE_RUNNING);
    thread_create(&t, "stopper", request_stop_thread, NULL,
                  THREAD_JOINABLE);
    thread_join(&t);
    /* Nothing happens until the main loop runs the request. */
    assert_true(runstate_is_running());
    test_run_bhs();
    assert_true(runstate_check(RUN_STATE_IO_ERROR));
    assert_string_equal(test_event_name(0), "STOP");
    assert_int_equal(test_events_count(), 1);
}

static void test_internal_error(void **state)
{
    go_to(RUN_STATE_RUNNING);
    vm_internal_error(NULL, "unexpected exit reason %d", 42);
    test_run_bhs();
    assert_true(runstate_check(RUN_STATE_INTERNAL_ERROR));
    assert_string_equal(test_event_name(0), "STOP");
}

static void reset_counter(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_system_reset(void **state)
{
    int first = 0, second = 0;
    json_t *data;

    system_register_reset(reset_counter, &first);
    system_register_reset(reset_counter, &second);
    go_to(RUN_STATE_RUNNING);
    system_reset(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    assert_int_equal(first, 1);
    assert_int_equal(second, 1);
    assert_true(runstate_is_running());
    assert_int_equal(test_events_count(), 1);
    assert_string_equal(test_event_name(0), "RESET");
    data = test_event_data(0);
    assert_false(json_is_true(json_object_get(data, "guest")));
    assert_string_equal(json_string_value(json_object_get(data, "reason")),
                        "host-qmp-system-reset");

    /* A stopped VM that is reset goes back to prelaunch, as QEMU. */
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    system_reset(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    assert_true(runstate_check(RUN_STATE_PRELAUNCH));

    /* A guest's request, from any thread, runs in the main loop. */
    test_events_clear();
    system_unregister_reset(reset_counter, &first);
    system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    assert_int_equal(second, 2);
    test_run_bhs();
    assert_int_equal(first, 2);
    assert_int_equal(second, 3);
    data = test_event_data(0);
    assert_true(json_is_true(json_object_get(data, "guest")));
    assert_string_equal(json_string_value(json_object_get(data, "reason")),
                        "guest-reset");

    /* A subsystem reset sends no event. */
    test_events_clear();
    system_reset(SHUTDOWN_CAUSE_SUBSYSTEM_RESET);
    assert_int_equal(second, 4);
    assert_int_equal(test_events_count(), 0);
}

static void test_autostart(void **state)
{
    assert_true(vm_get_autostart());
    vm_set_autostart(false);
    assert_false(vm_get_autostart());
    runstate_init();
    assert_true(vm_get_autostart());
}

/* Must stay last: a process only shuts down once. */
static void test_shutdown_request(void **state)
{
    ShutdownCause cause;
    json_t *data;

    assert_false(shutdown_caused_by_guest(SHUTDOWN_CAUSE_HOST_SIGNAL));
    assert_false(shutdown_caused_by_guest(SHUTDOWN_CAUSE_SUBSYSTEM_RESET));
    assert_true(shutdown_caused_by_guest(SHUTDOWN_CAUSE_GUEST_SHUTDOWN));
    assert_true(shutdown_caused_by_guest(SHUTDOWN_CAUSE_GUEST_PANIC));

    assert_false(system_shutdown_requested(NULL));
    assert_int_equal(system_shutdown_exit_status(), 0);
    system_shutdown_set_exit_status(7);
    system_shutdown_set_exit_status(9);
    assert_int_equal(system_shutdown_exit_status(), 7);

    system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    assert_true(system_shutdown_requested(&cause));
    assert_int_equal(cause, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    assert_int_equal(test_events_count(), 1);
    assert_string_equal(test_event_name(0), "SHUTDOWN");
    data = test_event_data(0);
    assert_true(json_is_true(json_object_get(data, "guest")));

    /* A reset requested after the shutdown is dropped. */
    system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    test_run_bhs();
    assert_int_equal(test_events_count(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transition_table, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_runstate_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_stop_events, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_force_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_request_from_thread,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_system_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autostart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_request, setup,
                                        teardown),
    };
    int ret;

    bql_lock();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    bql_unlock();
    return ret;
}
