/*
 * Tests for the Error API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "qapi/error.h"

static void test_setg_formats_message(void **state)
{
    Error *err = NULL;

    error_setg(&err, "bad value %d for '%s'", 42, "x");
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), "bad value 42 for 'x'");
    assert_int_equal(error_get_class(err), ERROR_CLASS_GENERIC_ERROR);
    error_free(err);
}

static void test_setg_null_errp_is_ignored(void **state)
{
    /* Must neither crash nor leak (ASan checks the latter). */
    error_setg(NULL, "ignored %s", "message");
    error_setg_errno(NULL, EINVAL, "ignored");
}

static void test_setg_errno_appends_strerror(void **state)
{
    Error *err = NULL;
    g_autofree char *expected = g_strdup_printf("open foo: %s",
                                                strerror(ENOENT));

    errno = 0;
    error_setg_errno(&err, ENOENT, "open %s", "foo");
    assert_string_equal(error_get_pretty(err), expected);
    /* Reporting an error must not clobber the caller's errno. */
    assert_int_equal(errno, 0);
    error_free(err);
}

static void test_set_class(void **state)
{
    Error *err = NULL;

    error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND,
              "The command %s has not been found", "foo");
    assert_int_equal(error_get_class(err), ERROR_CLASS_COMMAND_NOT_FOUND);
    assert_string_equal(error_class_str(error_get_class(err)),
                        "CommandNotFound");
    assert_string_equal(error_get_pretty(err),
                        "The command foo has not been found");
    error_free(err);
}

static void test_class_names(void **state)
{
    assert_string_equal(error_class_str(ERROR_CLASS_GENERIC_ERROR),
                        "GenericError");
    assert_string_equal(error_class_str(ERROR_CLASS_DEVICE_NOT_ACTIVE),
                        "DeviceNotActive");
    assert_string_equal(error_class_str(ERROR_CLASS_DEVICE_NOT_FOUND),
                        "DeviceNotFound");
    assert_string_equal(error_class_str(ERROR_CLASS_KVM_MISSING_CAP),
                        "KVMMissingCap");
    /* Out-of-range values fall back instead of reading past the table. */
    assert_string_equal(error_class_str(ERROR_CLASS__MAX), "GenericError");
}

static void test_propagate_moves_error(void **state)
{
    Error *local = NULL;
    Error *dst = NULL;

    error_setg(&local, "root cause");
    error_propagate(&dst, local);
    assert_non_null(dst);
    assert_string_equal(error_get_pretty(dst), "root cause");
    error_free(dst);
}

static void test_propagate_first_error_wins(void **state)
{
    Error *first = NULL;
    Error *second = NULL;
    Error *dst = NULL;

    error_setg(&first, "first");
    error_setg(&second, "second");
    error_propagate(&dst, first);
    /* second is freed by error_propagate (ASan would report a leak). */
    error_propagate(&dst, second);
    assert_string_equal(error_get_pretty(dst), "first");
    error_free(dst);
}

static void test_propagate_null(void **state)
{
    Error *local = NULL;
    Error *dst = NULL;

    error_propagate(&dst, NULL);
    assert_null(dst);
    error_setg(&local, "dropped");
    error_propagate(NULL, local);
}

static void test_propagate_prepend(void **state)
{
    Error *local = NULL;
    Error *dst = NULL;

    error_setg(&local, "inner");
    error_propagate_prepend(&dst, local, "outer %d: ", 1);
    assert_string_equal(error_get_pretty(dst), "outer 1: inner");
    error_free(dst);
}

static void test_prepend(void **state)
{
    Error *err = NULL;

    error_prepend(&err, "nothing to prefix: ");
    assert_null(err);
    error_setg(&err, "connection refused");
    error_prepend(&err, "migrate to %s: ", "peer");
    error_prepend(&err, "colo: ");
    assert_string_equal(error_get_pretty(err),
                        "colo: migrate to peer: connection refused");
    error_free(err);
}

static void test_append_hint_is_not_in_message(void **state)
{
    Error *err = NULL;

    error_append_hint(&err, "no error yet\n");
    assert_null(err);
    error_setg(&err, "bad size");
    error_append_hint(&err, "Try %s\n", "64K");
    assert_string_equal(error_get_pretty(err), "bad size");
    error_free(err);
}

static void test_copy(void **state)
{
    Error *err = NULL;
    Error *copy;

    error_set(&err, ERROR_CLASS_DEVICE_NOT_FOUND, "no device %s", "d0");
    error_append_hint(&err, "hint\n");
    copy = error_copy(err);
    error_free(err);
    assert_string_equal(error_get_pretty(copy), "no device d0");
    assert_int_equal(error_get_class(copy), ERROR_CLASS_DEVICE_NOT_FOUND);
    error_free(copy);
}

static void test_free_or_abort(void **state)
{
    Error *err = NULL;

    error_setg(&err, "expected");
    error_free_or_abort(&err);
    assert_null(err);
}

/* ERRP_GUARD lets a function inspect *errp even if the caller gave NULL. */
static bool guarded_fails(int depth, Error **errp)
{
    ERRP_GUARD();

    if (depth == 0) {
        error_setg(errp, "leaf failure");
        return false;
    }
    guarded_fails(depth - 1, errp);
    if (*errp) {
        error_prepend(errp, "level %d: ", depth);
        return false;
    }
    return true;
}

static void test_errp_guard_with_local(void **state)
{
    Error *err = NULL;

    assert_false(guarded_fails(2, &err));
    assert_string_equal(error_get_pretty(err),
                        "level 2: level 1: leaf failure");
    error_free(err);
}

static void test_errp_guard_with_null(void **state)
{
    /* Dereferencing *errp must be safe and the local error freed. */
    assert_false(guarded_fails(3, NULL));
}

static void test_auto_free(void **state)
{
    g_autoptr(Error) err = NULL;

    error_setg(&err, "freed by g_autoptr");
    assert_non_null(err);
}

/* Capture what error_report_err() prints for err. */
static char *report_to_string(Error *err)
{
    char path[] = "/tmp/test-error-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(2);
    char *text = NULL;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    error_report_err(err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    unlink(path);
    return text;
}

static void test_report_prints_message_and_hint(void **state)
{
    Error *err = NULL;
    g_autofree char *text = NULL;

    error_setg(&err, "Parameter 'size' expects a number");
    error_append_hint(&err, "Optional suffix %s\n", "k, M, G");
    text = report_to_string(err);
    assert_non_null(strstr(text, "Parameter 'size' expects a number\n"
                                 "Optional suffix k, M, G\n"));
}

/* Run fn in a child and return its wait status. */
static int run_in_child(void (*fn)(void))
{
    pid_t pid;
    int status = 0;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Keep the expected abort message out of the test log. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 2);
        }
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void set_error_abort(void)
{
    error_setg(&error_abort, "this aborts");
}

static void set_error_fatal(void)
{
    error_setg(&error_fatal, "this exits");
}

static void test_error_abort_aborts(void **state)
{
    int status = run_in_child(set_error_abort);

    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_error_fatal_exits_1(void **state)
{
    int status = run_in_child(set_error_fatal);

    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setg_formats_message),
        cmocka_unit_test(test_setg_null_errp_is_ignored),
        cmocka_unit_test(test_setg_errno_appends_strerror),
        cmocka_unit_test(test_set_class),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_propagate_moves_error),
        cmocka_unit_test(test_propagate_first_error_wins),
        cmocka_unit_test(test_propagate_null),
        cmocka_unit_test(test_propagate_prepend),
        cmocka_unit_test(test_prepend),
        cmocka_unit_test(test_append_hint_is_not_in_message),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_free_or_abort),
        cmocka_unit_test(test_errp_guard_with_local),
        cmocka_unit_test(test_errp_guard_with_null),
        cmocka_unit_test(test_auto_free),
        cmocka_unit_test(test_report_prints_message_and_hint),
        cmocka_unit_test(test_error_abort_aborts),
        cmocka_unit_test(test_error_fatal_exits_1),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
