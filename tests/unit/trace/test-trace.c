/*
 * Unit tests for the trace runtime and the code tracetool.py generates,
 * using the events of tests/unit/trace/test-trace-events.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config-host.h"
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "qapi/error.h"
#include "trace/control.h"
#include "test-require.h"
#include "test-trace.h"

/* Events of test-trace-events that can be switched at run time. */
#define TEST_SWITCHABLE (CONFIG_TRACE_LOG ? 7 : 0)

typedef struct Fixture {
    char *dir;
    char *log;
} Fixture;

static int fixture_setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->dir = g_dir_make_tmp("test-trace-XXXXXX", NULL);
    assert_non_null(f->dir);
    f->log = g_build_filename(f->dir, "trace.log", NULL);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    Fixture *f = *state;

    trace_enable_events("-*");
    trace_cleanup();
    g_unlink(f->log);
    g_rmdir(f->dir);
    g_free(f->log);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static char *write_temp(Fixture *f, const char *name, const char *text)
{
    char *path = g_build_filename(f->dir, name, NULL);

    assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void assert_error(Error *err, const char *expected)
{
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), expected);
    error_free(err);
}

static bool enabled(const char *name)
{
    TraceEvent *ev = trace_event_find(name);

    assert_non_null(ev);
    return trace_event_get_state_dynamic(ev);
}

/* The names matching pattern, space separated, in registration order. */
static char *matching(const char *pattern)
{
    GString *s = g_string_new(NULL);
    TraceEventIter iter;
    TraceEvent *ev;

    trace_event_iter_init(&iter, pattern);
    while ((ev = trace_event_iter_next(&iter))) {
        g_string_append_printf(s, "%s%s", s->len ? " " : "", ev->name);
    }
    return g_string_free(s, false);
}

static void test_lookup(void **state)
{
    TraceEvent *a = trace_event_find("test_int");
    TraceEvent *b = trace_event_find("test_other_b");

    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(trace_event_get_name(a), "test_int");
    assert_ptr_equal(a, &_TRACE_TEST_INT_EVENT);
    assert_ptr_equal(a->dstate, &_TRACE_TEST_INT_DSTATE);
    assert_int_not_equal(a->id, b->id);
    assert_null(trace_event_find("nosuch"));
    assert_null(trace_event_find("test_*"));
    assert_null(trace_event_find(""));
    assert_true(trace_event_count() >= 8);
    assert_int_equal(TRACE_TEST_INT_ENABLED, 1);
    assert_int_equal(TRACE_TEST_COMPILED_OUT_ENABLED, 0);
}

static void test_patterns(void **state)
{
    g_autofree char *all = matching("test_*");
    g_autofree char *other = matching("test_other_*");
    g_autofree char *one = matching("test_?nt*");
    g_autofree char *none = matching("nosuch*");
    g_autofree char *every = matching("*");
    g_autofree char *exact = matching("test_u64");

    assert_string_equal(all, "test_void test_int test_string test_u64 "
                        "test_pointer test_other_a test_other_b "
                        "test_compiled_out");
    assert_string_equal(other, "test_other_a test_other_b");
    assert_string_equal(one, "test_int");
    assert_string_equal(none, "");
    assert_string_equal(exact, "test_u64");
    assert_non_null(strstr(every, all));
    assert_true(trace_event_is_pattern("qmp_*"));
    assert_true(trace_event_is_pattern("*"));
    assert_false(trace_event_is_pattern("qmp_command_dispatch"));
}

static void test_list_events(void **state)
{
    g_autofree char *text = NULL;
    g_autofree char *lines = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    trace_list_events(f);
    assert_int_equal(fclose(f), 0);
    /* The test events, in file order, wherever the group comes. */
    lines = g_strconcat("\n", text, NULL);
    assert_non_null(strstr(lines, "\ntest_void\ntest_int\ntest_string\n"
                           "test_u64\ntest_pointer\ntest_other_a\n"
                           "test_other_b\ntest_compiled_out\n"));
}

static void test_static_state(void **state)
{
    assert_int_equal(trace_event_get_state_static(&_TRACE_TEST_INT_EVENT),
                     CONFIG_TRACE_LOG);
    assert_false(trace_event_get_state_static(
                     &_TRACE_TEST_COMPILED_OUT_EVENT));
    trace_event_set_state_dynamic(&_TRACE_TEST_COMPILED_OUT_EVENT, true);
    assert_false(enabled("test_compiled_out"));
}

static void test_enable_disable(void **state)
{
    assert_false(enabled("test_int"));
    assert_int_equal(trace_enable_events("test_int"), CONFIG_TRACE_LOG);
    assert_int_equal(enabled("test_int"), CONFIG_TRACE_LOG);
    assert_int_equal(_TRACE_TEST_INT_DSTATE, CONFIG_TRACE_LOG);
    assert_int_equal(trace_enable_events("-test_int"), CONFIG_TRACE_LOG);
    assert_false(enabled("test_int"));

    assert_int_equal(trace_enable_events("test_*"), TEST_SWITCHABLE);
    assert_int_equal(enabled("test_other_b"), CONFIG_TRACE_LOG);
    assert_false(enabled("test_compiled_out"));
    assert_int_equal(trace_enable_events("-test_other_*"),
                     CONFIG_TRACE_LOG ? 2 : 0);
    assert_false(enabled("test_other_a"));
    assert_int_equal(enabled("test_void"), CONFIG_TRACE_LOG);
    trace_enable_events("-*");
    assert_false(enabled("test_void"));

    /* Unknown and compiled-out names only warn. */
    assert_int_equal(trace_enable_events("nosuch"), 0);
    assert_int_equal(trace_enable_events("test_compiled_out"), 0);
    assert_int_equal(trace_enable_events("nosuch_*"), 0);
}

static void test_opt_pattern_forms(void **state)
{
    assert_true(trace_opt_parse("test_int", &error_abort));
    assert_int_equal(enabled("test_int"), CONFIG_TRACE_LOG);
    assert_true(trace_opt_parse("enable=test_str*", &error_abort));
    assert_int_equal(enabled("test_string"), CONFIG_TRACE_LOG);
    assert_true(trace_opt_parse("-test_int", &error_abort));
    assert_false(enabled("test_int"));
    assert_true(trace_opt_parse("enable=-test_*", &error_abort));
    assert_false(enabled("test_string"));
    /* A name that does not exist is a warning, as for QEMU. */
    assert_true(trace_opt_parse("nosuch", &error_abort));
}

static void test_opt_events_file(void **state)
{
    Fixture *f = *state;
    g_autofree char *path = write_temp(f, "events",
        "# events for a test run\n"
        "\n"
        "test_*\n"
        "  -test_other_*  \n"
        "-test_void\n"
        "# test_void\n"
        "nosuch\n");
    g_autofree char *opt = g_strdup_printf("events=%s", path);

    assert_true(trace_opt_parse(opt, &error_abort));
    assert_int_equal(enabled("test_int"), CONFIG_TRACE_LOG);
    assert_int_equal(enabled("test_u64"), CONFIG_TRACE_LOG);
    assert_false(enabled("test_other_a"));
    assert_false(enabled("test_other_b"));
    assert_false(enabled("test_void"));
}

static void test_opt_events_file_empty(void **state)
{
    Fixture *f = *state;
    g_autofree char *path = write_temp(f, "events", "");
    g_autofree char *opt = g_strdup_printf("events=%s", path);

    assert_true(trace_opt_parse(opt, &error_abort));
    assert_false(enabled("test_int"));
}

static void test_opt_errors(void **state)
{
    /* Runs in the temporary directory so a stray "x" is noticed. */
    Fixture *f = *state;
    g_autofree char *cwd = g_get_current_dir();
    Error *err = NULL;

    assert_false(trace_opt_parse("foo=bar", &err));
    assert_error(err, "Invalid parameter 'foo' (expected enable, events "
                 "or file)");
    err = NULL;
    assert_int_equal(chdir(f->dir), 0);
    assert_false(trace_opt_parse("test_int,foo=1,file=x,bar=2", &err));
    assert_error(err, "Invalid parameters 'foo', 'bar' (expected enable, "
                 "events or file)");
    /* Nothing of a rejected option is applied. */
    assert_false(enabled("test_int"));
    assert_true(trace_init_backends(&error_abort));
    assert_false(g_file_test("x", G_FILE_TEST_EXISTS));
    assert_int_equal(chdir(cwd), 0);
    err = NULL;
    assert_false(trace_opt_parse("", &err));
    assert_error(err, "-trace needs an event pattern, events=FILE or "
                 "file=PATH");
    err = NULL;
    assert_false(trace_opt_parse("file=", &err));
    assert_error(err, "Parameter 'file' expects a file name");
    err = NULL;
    assert_false(trace_opt_parse("enable=a,enable=b", &err));
    assert_error(err, "Duplicate parameter 'enable'");
    err = NULL;
    assert_false(trace_opt_parse("test_int,", &err));
    assert_non_null(err);
    error_free(err);
    err = NULL;
    assert_false(trace_opt_parse("events=/nonexistent/events", &err));
    assert_non_null(err);
    assert_true(g_str_has_prefix(error_get_pretty(err),
                                 "Cannot read trace events file: "));
    assert_non_null(strstr(error_get_pretty(err), "/nonexistent/events"));
    error_free(err);
    err = NULL;
    /* The file of a rejected option is not taken. */
    assert_false(trace_opt_parse("file=x,events=/nonexistent/events", &err));
    error_free(err);
    assert_int_equal(chdir(f->dir), 0);
    assert_true(trace_init_backends(&error_abort));
    assert_false(g_file_test("x", G_FILE_TEST_EXISTS));
    assert_int_equal(chdir(cwd), 0);
}

static void test_init_backends_bad_file(void **state)
{
    Error *err = NULL;

    assert_true(trace_opt_parse("file=/nonexistent/dir/trace.log",
                                &error_abort));
    assert_false(trace_init_backends(&err));
    if (CONFIG_TRACE_LOG) {
        assert_error(err, "Could not open trace file "
                     "'/nonexistent/dir/trace.log': No such file or "
                     "directory");
    } else {
        assert_error(err, "-trace file=/nonexistent/dir/trace.log: option "
                     "not supported by the selected tracing backends");
    }
}

static void test_init_backends_no_file(void **state)
{
    assert_true(trace_init_backends(&error_abort));
    trace_cleanup();
}

/* Route the log to f->log, run fn, then return what was written. */
static char *capture(Fixture *f, const char *events, void (*fn)(void))
{
    g_autofree char *opt = g_strdup_printf("file=%s", f->log);
    char *text = NULL;

    assert_true(trace_opt_parse(opt, &error_abort));
    assert_true(trace_opt_parse(events, &error_abort));
    assert_true(trace_init_backends(&error_abort));
    fn();
    trace_cleanup();
    assert_true(g_file_get_contents(f->log, &text, NULL, NULL));
    return text;
}

/*
 * Check "TID@SECONDS.MICROS:body" lines against the expected bodies; the
 * TID of the main thread is the PID, the time is around now.
 */
static void assert_log_lines(const char *text, const char *const *bodies)
{
    g_autoptr(GRegex) re = g_regex_new(
        "^([0-9]+)@([0-9]+)\\.([0-9]{6}):(.*)$", 0, 0, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    size_t i;

    for (i = 0; bodies[i]; i++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_autofree char *pid = NULL, *secs = NULL, *body = NULL;

        assert_non_null(lines[i]);
        assert_true(g_regex_match(re, lines[i], 0, &m));
        pid = g_match_info_fetch(m, 1);
        secs = g_match_info_fetch(m, 2);
        body = g_match_info_fetch(m, 4);
        assert_int_equal(atol(pid), getpid());
        assert_in_range(g_ascii_strtoll(secs, NULL, 10), now - 60, now);
        assert_string_equal(body, bodies[i]);
    }
    /* Every line ends with a newline, so the last piece is empty. */
    assert_string_equal(lines[i], "");
    assert_null(lines[i + 1]);
}

static void fire_all(void)
{
    errno = EBADF;
    trace_test_void();
    trace_test_int(-42);
    trace_test_string("hello", 7);
    trace_test_u64(UINT64_C(0x123456789a), 4096);
    trace_test_pointer(NULL, false);
    trace_test_other_a(-8, 65535, -1L, 1LL << 40, -3);
    trace_test_other_b(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    trace_test_compiled_out(5);
    assert_int_equal(errno, EBADF);
}

static void test_log_format(void **state)
{
    static const char *const expected[] = {
        "test_void",
        "test_int value=-42",
        "test_string name=hello idx=7",
        "test_u64 offset=0x123456789a len=4096",
        "test_pointer opaque=(nil) flag=0",
        "test_other_a a=-8 b=65535 c=-1 d=1099511627776 e=-3",
        "test_other_b 1 2 3 4 5 6 7 8 9 10 11 12",
        NULL
    };
    Fixture *f = *state;
    g_autofree char *text = NULL;

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    text = capture(f, "test_*", fire_all);
    assert_log_lines(text, expected);
}

static void test_log_only_enabled(void **state)
{
    static const char *const expected[] = {
        "test_string name=hello idx=7",
        "test_other_b 1 2 3 4 5 6 7 8 9 10 11 12",
        NULL
    };
    Fixture *f = *state;
    g_autofree char *nothing = NULL;
    g_autofree char *text = NULL;

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    /* glob has no character classes: this matches no event */
    nothing = capture(f, "enable=test_[so]*", fire_all);
    assert_string_equal(nothing, "");
    assert_true(trace_opt_parse("test_string", &error_abort));
    assert_true(trace_opt_parse("test_other_b", &error_abort));
    text = capture(f, "-test_void", fire_all);
    assert_log_lines(text, expected);
}

static void fire_long(void)
{
    g_autofree char *s = g_strnfill(3000, 'x');

    trace_test_string(s, 1);
    trace_test_int(2);
}

static void test_log_long_line(void **state)
{
    Fixture *f = *state;
    g_autofree char *text = NULL;
    g_autofree char *xs = NULL;
    g_autofree char *long_body = NULL;
    const char *expected[] = { NULL, "test_int value=2", NULL };

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    xs = g_strnfill(3000, 'x');
    long_body = g_strdup_printf("test_string name=%s idx=1", xs);
    expected[0] = long_body;
    text = capture(f, "test_*", fire_long);
    assert_log_lines(text, expected);
}

#define LOG_THREADS 4
#define LOG_LINES_PER_THREAD 500

static gpointer log_thread(gpointer opaque)
{
    unsigned idx = GPOINTER_TO_UINT(opaque);

    for (unsigned i = 0; i < LOG_LINES_PER_THREAD; i++) {
        trace_test_string("from-a-thread-with-a-longish-name", idx);
    }
    return NULL;
}

static void fire_threads(void)
{
    GThread *threads[LOG_THREADS];

    for (unsigned i = 0; i < LOG_THREADS; i++) {
        threads[i] = g_thread_new("trace", log_thread, GUINT_TO_POINTER(i));
    }
    for (unsigned i = 0; i < LOG_THREADS; i++) {
        g_thread_join(threads[i]);
    }
}

static void test_log_threads(void **state)
{
    Fixture *f = *state;
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GRegex) re = NULL;
    unsigned counts[LOG_THREADS] = { 0 };
    size_t n = 0;

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    re = g_regex_new("^[0-9]+@[0-9]+\\.[0-9]{6}:test_string "
                     "name=from-a-thread-with-a-longish-name idx=([0-9])$",
                     0, 0, NULL);
    text = capture(f, "test_string", fire_threads);
    lines = g_strsplit(text, "\n", -1);
    for (; lines[n] && lines[n][0]; n++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_autofree char *idx = NULL;

        assert_true(g_regex_match(re, lines[n], 0, &m));
        idx = g_match_info_fetch(m, 1);
        counts[atoi(idx)]++;
    }
    assert_int_equal(n, LOG_THREADS * LOG_LINES_PER_THREAD);
    for (unsigned i = 0; i < LOG_THREADS; i++) {
        assert_int_equal(counts[i], LOG_LINES_PER_THREAD);
    }
}

static void test_log_file_truncated(void **state)
{
    Fixture *f = *state;
    g_autofree char *text = NULL;
    static const char *const expected[] = { "test_int value=2", NULL };

    TEST_REQUIRE(CONFIG_TRACE_LOG,
                 "the log trace backend (-Dtrace_backends=log)");
    assert_true(g_file_set_contents(f->log, "stale\n", -1, NULL));
    text = capture(f, "test_int", fire_long);
    assert_log_lines(text, expected);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, \
                                              fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_lookup),
        T(test_patterns),
        T(test_list_events),
        T(test_static_state),
        T(test_enable_disable),
        T(test_opt_pattern_forms),
        T(test_opt_events_file),
        T(test_opt_events_file_empty),
        T(test_opt_errors),
        T(test_init_backends_bad_file),
        T(test_init_backends_no_file),
        T(test_log_format),
        T(test_log_only_enabled),
        T(test_log_long_line),
        T(test_log_threads),
        T(test_log_file_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
