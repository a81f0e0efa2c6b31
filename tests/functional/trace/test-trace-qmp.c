/*
 * colo-vm with -trace: log lines for the QMP trace points, switching
 * events through QMP, the -trace option's errors and the USDT probes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config-host.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "qmp-test.h"
#include "test-require.h"

#define TIMEOUT QMPTEST_TIMEOUT_MS

/* "TID@SECONDS.MICROS:qmp_command_dispatch client=N name=NAME" */
#define DISPATCH_LINE(name) \
    "^[0-9]+@[0-9]+\\.[0-9]{6}:qmp_command_dispatch client=[0-9]+ " \
    "name=" name "$"

static bool has_line(const char *text, const char *regex)
{
    return g_regex_match_simple(regex, text, G_REGEX_MULTILINE, 0);
}

/* Lines of text matching regex (without G_REGEX_MULTILINE). */
static unsigned count_lines(const char *text, const char *regex)
{
    g_autoptr(GRegex) re = g_regex_new(regex, 0, 0, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned n = 0;

    assert_non_null(re);
    for (char **line = lines; *line; line++) {
        n += g_regex_match(re, *line, 0, NULL);
    }
    return n;
}

static unsigned count_nonempty_lines(const char *text)
{
    return count_lines(text, "^.");
}

/* The "state" of one event from trace-event-get-state. */
static char *event_state(QmpTestClient *c, const char *name)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c,
        "{'execute': 'trace-event-get-state', 'arguments': {'name': '%s'}}",
        name);
    json_t *list = qmptest_return(r);
    json_t *info = json_array_get(list, 0);

    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(info, "name")),
                        name);
    assert_true(json_is_false(json_object_get(info, "vcpu")));
    return g_strdup(json_string_value(json_object_get(info, "state")));
}

/* Send cmd, written with single quotes, and return the reply. */
static json_t *send_cmd(QmpTestClient *c, const char *cmd)
{
    g_autofree char *json = g_strdelimit(g_strdup(cmd), "'", '"');

    return qmptest_cmd(c, "%s", json);
}

static void assert_ok(QmpTestClient *c, const char *cmd)
{
    qmptest_auto_json json_t *r = send_cmd(c, cmd);

    assert_non_null(qmptest_return(r));
}

static void assert_qmp_error(QmpTestClient *c, const char *cmd,
                             const char *desc)
{
    qmptest_auto_json json_t *r = send_cmd(c, cmd);

    assert_non_null(r);
    assert_string_equal(qmptest_error_class(r), "GenericError");
    assert_string_equal(qmptest_error_desc(r), desc);
}

static void test_trace_stderr(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    vm = qmptest_start("-trace enable=qmp_*", 0);
    assert_non_null(vm);
    assert_ok(qmptest_client(vm), "{'execute': 'query-version'}");
    assert_true(qmptest_wait_stderr(vm, "name=query-version\n", TIMEOUT));
    assert_true(has_line(qmptest_stderr(vm), DISPATCH_LINE("query-version")));
    /* Every line of a qmp_* event has the log format. */
    assert_int_equal(count_lines(qmptest_stderr(vm), ":qmp_"),
                     count_lines(qmptest_stderr(vm),
                                 "^[0-9]+@[0-9]+\\.[0-9]{6}:qmp_[a-z_]+ "));
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
}

static void test_trace_file(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    vm = qmptest_start("-trace qmp_command_dispatch "
                       "-trace file=@TMPDIR@/trace.log", 0);
    assert_non_null(vm);
    assert_ok(qmptest_client(vm), "{'execute': 'query-commands'}");
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
    path = g_build_filename(qmptest_tmpdir(vm), "trace.log", NULL);
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    assert_true(has_line(text, DISPATCH_LINE("query-commands")));
    assert_true(has_line(text, DISPATCH_LINE("quit")));
    /* Only the event asked for, and nothing on stderr. */
    assert_int_equal(count_lines(text, ":qmp_command_dispatch "),
                     count_nonempty_lines(text));
    assert_null(strstr(qmptest_stderr(vm), "qmp_command_dispatch"));
}

static void test_trace_events_file(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autofree char *dir = g_dir_make_tmp("trace-events-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "events", NULL);
    g_autofree char *args = g_strdup_printf("-trace events=%s", path);
    g_autofree char *s1 = NULL, *s2 = NULL;

    assert_true(g_file_set_contents(path, "# QMP only\nqmp_*\n"
                                    "-qmp_response\n", -1, NULL));
    vm = qmptest_start(args, 0);
    assert_non_null(vm);
    s1 = event_state(qmptest_client(vm), "qmp_command_dispatch");
    s2 = event_state(qmptest_client(vm), "qmp_response");
    assert_string_equal(s1, CONFIG_TRACE_LOG ? "enabled" : "unavailable");
    assert_string_equal(s2, CONFIG_TRACE_LOG ? "disabled" : "unavailable");
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_toggle(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    QmpTestClient *c;
    g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL;
    const char *err;

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    vm = qmptest_start(NULL, 0);
    assert_non_null(vm);
    c = qmptest_client(vm);
    s1 = event_state(c, "qmp_command_dispatch");
    assert_string_equal(s1, "disabled");

    assert_ok(c, "{'execute': 'trace-event-set-state', 'arguments': "
              "{'name': 'qmp_command_*', 'enable': true}}");
    s2 = event_state(c, "qmp_command_dispatch");
    assert_string_equal(s2, "enabled");
    assert_ok(c, "{'execute': 'query-version'}");
    assert_true(qmptest_wait_stderr(vm, "name=query-version\n", TIMEOUT));

    assert_ok(c, "{'execute': 'trace-event-set-state', 'arguments': "
              "{'name': 'qmp_command_dispatch', 'enable': false}}");
    s3 = event_state(c, "qmp_command_dispatch");
    assert_string_equal(s3, "disabled");
    assert_ok(c, "{'execute': 'query-commands'}");
    /* Switch back on: the line for the marker proves the log is flushed. */
    assert_ok(c, "{'execute': 'trace-event-set-state', 'arguments': "
              "{'name': 'qmp_command_dispatch', 'enable': true}}");
    assert_ok(c, "{'execute': 'query-version'}");
    assert_ok(c, "{'execute': 'trace-event-list'}");
    assert_true(qmptest_wait_stderr(vm, "name=trace-event-list\n", TIMEOUT));
    err = qmptest_stderr(vm);
    assert_int_equal(count_lines(err, DISPATCH_LINE("query-version")), 2);
    assert_int_equal(count_lines(err, DISPATCH_LINE("query-commands")), 0);
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
}

static void test_qmp_errors(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(NULL, 0);
    QmpTestClient *c;

    assert_non_null(vm);
    c = qmptest_client(vm);
    assert_qmp_error(c, "{'execute': 'trace-event-get-state', "
                     "'arguments': {'name': 'nosuch'}}",
                     "unknown event \"nosuch\"");
    assert_qmp_error(c, "{'execute': 'trace-event-set-state', "
                     "'arguments': {'name': 'nosuch', 'enable': true}}",
                     "unknown event \"nosuch\"");
    assert_qmp_error(c, "{'execute': 'trace-event-get-state', "
                     "'arguments': {'name': 'qmp_command_dispatch', "
                     "'vcpu': 0}}", "invalid vCPU index 0");
    assert_qmp_error(c, "{'execute': 'trace-event-set-state', "
                     "'arguments': {'name': 'qmp_*', 'enable': true, "
                     "'vcpu': 3}}", "invalid vCPU index 3");
    {
        qmptest_auto_json json_t *r = qmptest_cmd(c,
            "{'execute': 'trace-event-get-state', "
            "'arguments': {'name': 'nosuch*'}}");

        assert_true(json_is_array(qmptest_return(r)));
        assert_int_equal(json_array_size(qmptest_return(r)), 0);
    }
    assert_ok(c, "{'execute': 'trace-event-set-state', "
              "'arguments': {'name': 'nosuch*', 'enable': true}}");
    if (!CONFIG_TRACE_LOG) {
        qmptest_auto_json json_t *r = qmptest_cmd(c,
            "{'execute': 'trace-event-set-state', "
            "'arguments': {'name': 'qmp_*', 'enable': true}}");

        assert_true(g_regex_match_simple(
                        "^event \"qmp_[a-z_]+\" is disabled$",
                        qmptest_error_desc(r), 0, 0));
        assert_ok(c, "{'execute': 'trace-event-set-state', 'arguments': "
                  "{'name': 'qmp_*', 'enable': true, "
                  "'ignore-unavailable': true}}");
    }
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
}

static void test_event_list(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start("-trace qmp_client_*", 0);
    qmptest_auto_json json_t *r = NULL;
    json_t *list, *info;
    size_t i;
    bool seen_dispatch = false, seen_connect = false;

    assert_non_null(vm);
    r = qmptest_cmd(qmptest_client(vm), "{'execute': 'trace-event-list'}");
    list = qmptest_return(r);
    assert_true(json_array_size(list) > 2);
    json_array_foreach(list, i, info) {
        const char *name = json_string_value(json_object_get(info, "name"));
        const char *st = json_string_value(json_object_get(info, "state"));

        assert_non_null(name);
        assert_non_null(st);
        if (!CONFIG_TRACE_LOG) {
            assert_string_equal(st, "unavailable");
        } else if (strcmp(name, "qmp_client_connect") == 0) {
            assert_string_equal(st, "enabled");
            seen_connect = true;
        } else if (strcmp(name, "qmp_command_dispatch") == 0) {
            assert_string_equal(st, "disabled");
            seen_dispatch = true;
        }
    }
    assert_true(seen_connect == seen_dispatch);
    assert_int_equal(seen_connect, CONFIG_TRACE_LOG);
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
}

static void expect_bad_option(const char *args, const char *message)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(args, QMPTEST_NO_QMP);
    int status;

    assert_non_null(vm);
    status = qmptest_wait_exit(vm, TIMEOUT);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    if (!strstr(qmptest_stderr(vm), message)) {
        fail_msg("stderr lacks \"%s\": %s", message, qmptest_stderr(vm));
    }
}

static void test_bad_options(void **state)
{
    expect_bad_option("-trace foo=bar",
                      "Invalid parameter 'foo' (expected enable, events "
                      "or file)");
    expect_bad_option("-trace events=/nonexistent/trace-events",
                      "Cannot read trace events file: ");
    expect_bad_option("-trace qmp_*,file=/nonexistent/dir/trace.log",
                      CONFIG_TRACE_LOG ?
                      "Could not open trace file "
                      "'/nonexistent/dir/trace.log'" :
                      "option not supported by the selected tracing "
                      "backends");
}

static void test_help(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start("-trace help",
                                              QMPTEST_NO_QMP);

    assert_non_null(vm);
    assert_int_equal(qmptest_wait_exit(vm, TIMEOUT), 0);
    assert_true(has_line(qmptest_stdout(vm), "^qmp_command_dispatch$"));
    assert_true(has_line(qmptest_stdout(vm), "^qmp_trace_event_set_state$"));
    assert_int_equal(count_nonempty_lines(qmptest_stdout(vm)),
                     count_lines(qmptest_stdout(vm), "^[a-z0-9_]+$"));
}

static void test_usdt_notes(void **state)
{
    const char *binary = g_getenv("COLO_VM_BINARY");
    g_autofree char *readelf = NULL;
    g_autofree char *out = NULL;
    g_autofree char *cmd = NULL;
    int status;

    TEST_REQUIRE(CONFIG_TRACE_DTRACE,
                 "the dtrace trace backend (-Dtrace_backends=dtrace)");
    TEST_REQUIRE(binary, "COLO_VM_BINARY in the environment");
    /* Found only now: the case may skip, and must hold nothing then. */
    readelf = g_find_program_in_path("readelf");
    TEST_REQUIRE(readelf, "readelf (binutils) in PATH");
    cmd = g_strdup_printf("%s -n %s", readelf, binary);
    assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    assert_true(g_spawn_check_wait_status(status, NULL));
    assert_non_null(strstr(out, "stapsdt"));
    assert_true(has_line(out, "^ +Provider: colo_vm$"));
    assert_true(has_line(out, "^ +Name: qmp_command_dispatch$"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_stderr),
        cmocka_unit_test(test_trace_file),
        cmocka_unit_test(test_trace_events_file),
        cmocka_unit_test(test_toggle),
        cmocka_unit_test(test_qmp_errors),
        cmocka_unit_test(test_event_list),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usdt_notes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
