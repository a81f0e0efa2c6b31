/*
 * Unit tests for the trace-event-* QMP commands (trace/qmp.c), on the
 * events of test-trace-events.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config-host.h"
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "qapi/error.h"
#include "qapi/qapi-commands.h"
#include "trace/control.h"
#include "test-require.h"
#include "test-trace.h"

#define SWITCHABLE_STATE \
    (CONFIG_TRACE_LOG ? TRACE_EVENT_STATE_DISABLED \
                      : TRACE_EVENT_STATE_UNAVAILABLE)

static int reset(void **state)
{
    trace_enable_events("-*");
    return 0;
}

static void assert_error(Error *err, const char *expected)
{
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), expected);
    assert_int_equal(error_get_class(err), ERROR_CLASS_GENERIC_ERROR);
    error_free(err);
}

/* "name:state name:state ..." */
static char *describe(const TraceEventInfoList *list)
{
    GString *s = g_string_new(NULL);

    for (; list; list = list->next) {
        assert_false(list->value->vcpu);
        g_string_append_printf(s, "%s%s:%s", s->len ? " " : "",
                               list->value->name,
                               TraceEventState_str(list->value->state));
    }
    return g_string_free(s, false);
}

static char *get_state(const char *name)
{
    g_autoptr(TraceEventInfoList) list =
        qmp_trace_event_get_state(name, false, 0, &error_abort);

    return describe(list);
}

static void set_state(const char *name, bool enable, bool ignore,
                      Error **errp)
{
    qmp_trace_event_set_state(name, enable, true, ignore, false, 0, errp);
}

static void test_get_state(void **state)
{
    g_autofree char *one = get_state("test_int");
    g_autofree char *two = get_state("test_other_*");
    g_autofree char *off = get_state("test_compiled_out");
    g_autofree char *none = get_state("nosuch*");
    g_autofree char *exp_one = g_strdup_printf(
        "test_int:%s", TraceEventState_str(SWITCHABLE_STATE));
    g_autofree char *exp_two = g_strdup_printf(
        "test_other_a:%s test_other_b:%s",
        TraceEventState_str(SWITCHABLE_STATE),
        TraceEventState_str(SWITCHABLE_STATE));

    assert_string_equal(one, exp_one);
    assert_string_equal(two, exp_two);
    assert_string_equal(off, "test_compiled_out:unavailable");
    assert_string_equal(none, "");
}

static void test_get_state_errors(void **state)
{
    Error *err = NULL;

    assert_null(qmp_trace_event_get_state("nosuch", false, 0, &err));
    assert_error(err, "unknown event \"nosuch\"");
    err = NULL;
    assert_null(qmp_trace_event_get_state("test_int", true, 0, &err));
    assert_error(err, "invalid vCPU index 0");
    err = NULL;
    assert_null(qmp_trace_event_get_state("test_*", true, -1, &err));
    assert_error(err, "invalid vCPU index -1");
}

static void test_set_state(void **state)
{
    Error *err = NULL;

    if (!CONFIG_TRACE_LOG) {
        /* Without the backend enabling is refused; the rest needs it. */
        set_state("test_int", true, false, &err);
        assert_error(err, "event \"test_int\" is disabled");
    }
    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    set_state("test_int", true, false, &error_abort);
    assert_true(trace_event_get_state_dynamic(&_TRACE_TEST_INT_EVENT));
    assert_false(trace_event_get_state_dynamic(&_TRACE_TEST_VOID_EVENT));
    qmp_trace_event_set_state("test_int", false, false, false, false, 0,
                              &error_abort);
    assert_false(trace_event_get_state_dynamic(&_TRACE_TEST_INT_EVENT));
}

/* Without ignore-unavailable, one unavailable event stops the command. */
static void test_set_state_unavailable(void **state)
{
    g_autofree char *after = NULL;
    g_autofree char *enabled = NULL;
    Error *err = NULL;

    set_state("test_compiled_out", true, false, &err);
    assert_error(err, "event \"test_compiled_out\" is disabled");
    err = NULL;
    set_state("test_*", true, false, &err);
    assert_non_null(err);
    assert_true(g_str_has_prefix(error_get_pretty(err), "event \"test_"));
    error_free(err);
    after = get_state("test_int");
    assert_string_equal(after, CONFIG_TRACE_LOG ? "test_int:disabled"
                                                : "test_int:unavailable");

    set_state("test_compiled_out", true, true, &error_abort);
    set_state("test_*", true, true, &error_abort);
    enabled = get_state("test_*_out");
    assert_string_equal(enabled, "test_compiled_out:unavailable");
    assert_int_equal(trace_event_get_state_dynamic(&_TRACE_TEST_U64_EVENT),
                     CONFIG_TRACE_LOG);
}

static void test_set_state_errors(void **state)
{
    Error *err = NULL;

    set_state("nosuch", true, true, &err);
    assert_error(err, "unknown event \"nosuch\"");
    err = NULL;
    qmp_trace_event_set_state("test_int", true, false, false, true, 2,
                              &err);
    assert_error(err, "invalid vCPU index 2");
    assert_false(trace_event_get_state_dynamic(&_TRACE_TEST_INT_EVENT));
    set_state("nosuch*", true, false, &error_abort);
}

static void test_list(void **state)
{
    g_autoptr(TraceEventInfoList) list = NULL;
    g_autofree char *text = NULL;
    g_autofree char *expected = NULL;
    const char *on = CONFIG_TRACE_LOG ? "enabled" : "unavailable";
    const char *off = TraceEventState_str(SWITCHABLE_STATE);

    trace_enable_events("test_string");
    trace_enable_events("test_u64");
    list = qmp_trace_event_list(&error_abort);
    text = describe(list);
    expected = g_strdup_printf(
        "test_void:%s test_int:%s test_string:%s test_u64:%s "
        "test_pointer:%s test_other_a:%s test_other_b:%s "
        "test_compiled_out:unavailable", off, off, on, on, off, off, off);
    assert_non_null(strstr(text, expected));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_state, reset),
        cmocka_unit_test_setup(test_get_state_errors, reset),
        cmocka_unit_test_setup(test_set_state, reset),
        cmocka_unit_test_setup(test_set_state_unavailable, reset),
        cmocka_unit_test_setup(test_set_state_errors, reset),
        cmocka_unit_test_setup(test_list, reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
