/*
 * Tests for the option string parser and its typed getters.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/option.h"

/* Parse str, expect failure with exactly msg, and free the error. */
static void assert_parse_fails(const char *str, const char *implied,
                               const char *msg)
{
    Error *err = NULL;
    OptList *opts = opts_parse(str, implied, &err);

    if (opts) {
        opts_free(opts);
        fail_msg("'%s' parsed but should fail with: %s", str, msg);
    }
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), msg);
    error_free(err);
}

static OptList *parse_ok(const char *str, const char *implied)
{
    Error *err = NULL;
    OptList *opts = opts_parse(str, implied, &err);

    if (!opts) {
        fail_msg("'%s' failed: %s", str, error_get_pretty(err));
    }
    assert_null(err);
    return opts;
}

static void test_monitor_example(void **state)
{
    /* The "unix:" prefix is the caller's; the rest is an option string. */
    g_autoptr(OptList) opts = parse_ok("/tmp/q.sock,server=on,wait=off",
                                       "path");
    static const char *const allowed[] = { "path", "server", "wait", NULL };
    bool server = false, wait = true;

    assert_int_equal(opts_count(opts), 3);
    assert_string_equal(opts_key_at(opts, 0), "path");
    assert_string_equal(opts_key_at(opts, 1), "server");
    assert_string_equal(opts_key_at(opts, 2), "wait");
    assert_null(opts_key_at(opts, 3));
    assert_string_equal(opts_get(opts, "path"), "/tmp/q.sock");
    assert_true(opts_check_keys(opts, allowed, NULL));
    assert_true(opts_get_bool(opts, "server", false, &server, NULL));
    assert_true(opts_get_bool(opts, "wait", true, &wait, NULL));
    assert_true(server);
    assert_false(wait);
}

static void test_full_example_with_prefix_in_value(void **state)
{
    g_autoptr(OptList) opts = parse_ok("unix:/tmp/q.sock,server=on,wait=off",
                                       "chardev");

    assert_string_equal(opts_get(opts, "chardev"), "unix:/tmp/q.sock");
    assert_string_equal(opts_get(opts, "server"), "on");
    assert_string_equal(opts_get(opts, "wait"), "off");
}

static void test_comma_escape(void **state)
{
    g_autoptr(OptList) opts = parse_ok("path=a,,b", NULL);
    g_autoptr(OptList) more = parse_ok("x,,y,,,,z,k=,,,v=1", "file");

    assert_int_equal(opts_count(opts), 1);
    assert_string_equal(opts_get(opts, "path"), "a,b");
    assert_string_equal(opts_get(more, "file"), "x,y,,z");
    assert_string_equal(opts_get(more, "k"), ",");
    assert_string_equal(opts_get(more, "v"), "1");
}

static void test_empty_values_and_string(void **state)
{
    g_autoptr(OptList) empty = parse_ok("", "path");
    g_autoptr(OptList) opts = parse_ok("a=,b=x=y", NULL);

    assert_int_equal(opts_count(empty), 0);
    assert_null(opts_get(empty, "path"));
    assert_string_equal(opts_get(opts, "a"), "");
    assert_string_equal(opts_get(opts, "b"), "x=y");
    assert_true(opts_has(opts, "a"));
    assert_false(opts_has(opts, "c"));
}

static void test_implied_key_only_first(void **state)
{
    g_autoptr(OptList) opts = parse_ok("server=on", "path");

    /* A first element with '=' is an ordinary key. */
    assert_null(opts_get(opts, "path"));
    assert_parse_fails("server=on,/tmp/q.sock", "path",
                       "Expected '=' after parameter '/tmp/q.sock'");
}

static void test_reject_missing_equals(void **state)
{
    assert_parse_fails("server", NULL,
                       "Expected '=' after parameter 'server'");
    assert_parse_fails("a=1,wait", NULL,
                       "Expected '=' after parameter 'wait'");
}

static void test_reject_empty_key(void **state)
{
    assert_parse_fails("=on", NULL, "Parameter name missing before '=on'");
    assert_parse_fails("a=1,=x,,y", NULL,
                       "Parameter name missing before '=x,y'");
    assert_parse_fails("a=1,,,", NULL, "Empty parameter after 'a=1,,'");
    assert_parse_fails("a=1,", NULL, "Empty parameter after 'a=1'");
    assert_parse_fails(",a=1", NULL, "Empty parameter at the start of ',a=1'");
    assert_parse_fails(",a=1", "path",
                       "Empty parameter at the start of ',a=1'");
}

static void test_reject_duplicate(void **state)
{
    assert_parse_fails("server=on,wait=off,server=off", NULL,
                       "Duplicate parameter 'server'");
    assert_parse_fails("/tmp/a,path=/tmp/b", "path",
                       "Duplicate parameter 'path'");
}

static void test_check_keys(void **state)
{
    g_autoptr(OptList) opts = parse_ok("/s,server=on,foo=1", "path");
    static const char *const allowed[] = { "path", "server", NULL };
    static const char *const none[] = { NULL };
    Error *err = NULL;

    assert_false(opts_check_keys(opts, allowed, &err));
    assert_string_equal(error_get_pretty(err), "Invalid parameter 'foo'");
    error_free(err);
    err = NULL;
    assert_false(opts_check_keys(opts, none, &err));
    assert_string_equal(error_get_pretty(err), "Invalid parameter 'path'");
    error_free(err);
    assert_false(opts_check_keys(opts, allowed, NULL));
}

static void test_bool(void **state)
{
    g_autoptr(OptList) opts =
        parse_ok("a=on,b=yes,c=true,d=off,e=no,f=false,g=1,h=On", NULL);
    static const char *const yes[] = { "a", "b", "c" };
    static const char *const no[] = { "d", "e", "f" };
    Error *err = NULL;
    bool v;

    for (size_t i = 0; i < 3; i++) {
        v = false;
        assert_true(opts_get_bool(opts, yes[i], false, &v, NULL));
        assert_true(v);
        v = true;
        assert_true(opts_get_bool(opts, no[i], true, &v, NULL));
        assert_false(v);
    }
    assert_true(opts_get_bool(opts, "absent", true, &v, NULL));
    assert_true(v);

    v = true;
    assert_false(opts_get_bool(opts, "g", false, &v, &err));
    assert_string_equal(error_get_pretty(err),
                        "Parameter 'g' expects 'on' or 'off'");
    assert_true(v);     /* untouched on failure */
    error_free(err);
    err = NULL;
    assert_false(opts_get_bool(opts, "h", false, &v, &err));
    assert_string_equal(error_get_pretty(err),
                        "Parameter 'h' expects 'on' or 'off'");
    error_free(err);
}

static void assert_number(const char *value, uint64_t expected)
{
    uint64_t n = 0;
    Error *err = NULL;

    if (!parse_option_number("n", value, &n, &err)) {
        fail_msg("'%s': %s", value, error_get_pretty(err));
    }
    assert_int_equal(n, expected);
}

static void assert_number_fails(const char *value, const char *msg)
{
    uint64_t n = 12345;
    Error *err = NULL;

    assert_false(parse_option_number("n", value, &n, &err));
    assert_string_equal(error_get_pretty(err), msg);
    assert_int_equal(n, 12345);
    error_free(err);
}

static void test_number(void **state)
{
    g_autoptr(OptList) opts = parse_ok("port=4444,bad=12x", NULL);
    Error *err = NULL;
    uint64_t n;

    assert_number("0", 0);
    assert_number("4444", 4444);
    assert_number("0x10", 16);
    assert_number("010", 8);
    assert_number("18446744073709551615", UINT64_MAX);
    assert_number_fails("", "Parameter 'n' expects a number");
    assert_number_fails("abc", "Parameter 'n' expects a number");
    assert_number_fails("12x", "Parameter 'n' expects a number");
    assert_number_fails("-1", "Parameter 'n' expects a number");
    assert_number_fails(" 1", "Parameter 'n' expects a number");
    assert_number_fails("18446744073709551616",
                        "Value '18446744073709551616' is too large for "
                        "parameter 'n'");

    assert_true(opts_get_number(opts, "port", 0, &n, NULL));
    assert_int_equal(n, 4444);
    assert_true(opts_get_number(opts, "absent", 99, &n, NULL));
    assert_int_equal(n, 99);
    assert_false(opts_get_number(opts, "bad", 0, &n, &err));
    assert_string_equal(error_get_pretty(err),
                        "Parameter 'bad' expects a number");
    error_free(err);
}

static void assert_size(const char *value, uint64_t expected)
{
    uint64_t n = 0;
    Error *err = NULL;

    if (!parse_option_size("size", value, &n, &err)) {
        fail_msg("'%s': %s", value, error_get_pretty(err));
    }
    assert_int_equal(n, expected);
}

static void assert_size_fails(const char *value, const char *msg)
{
    uint64_t n = 777;
    Error *err = NULL;

    assert_false(parse_option_size("size", value, &n, &err));
    assert_string_equal(error_get_pretty(err), msg);
    assert_int_equal(n, 777);
    error_free(err);
}

#define SIZE_EXPECTS "Parameter 'size' expects a non-negative number " \
                     "below 2^64"

static void test_size(void **state)
{
    g_autoptr(OptList) opts = parse_ok("mem=64M,bad=1Q", NULL);
    Error *err = NULL;
    uint64_t n;

    assert_size("0", 0);
    assert_size("512", 512);
    assert_size("512B", 512);
    assert_size("1k", 1024);
    assert_size("64K", 64 * 1024);
    assert_size("64M", 64ULL << 20);
    assert_size("2G", 2ULL << 30);
    assert_size("3T", 3ULL << 40);
    assert_size("1P", 1ULL << 50);
    assert_size("15E", 15ULL << 60);
    assert_size("1.5G", 3ULL << 29);
    assert_size("0.5K", 512);
    assert_size("0x1000", 4096);
    assert_size("18446744073709551615", UINT64_MAX);

    assert_size_fails("", SIZE_EXPECTS);
    assert_size_fails("-1", SIZE_EXPECTS);
    assert_size_fails("1Q", SIZE_EXPECTS);
    assert_size_fails("1KB", SIZE_EXPECTS);
    assert_size_fails("1.", SIZE_EXPECTS);
    assert_size_fails("1.5", SIZE_EXPECTS);
    assert_size_fails("1.5e3K", SIZE_EXPECTS);
    assert_size_fails("0x", SIZE_EXPECTS);
    assert_size_fails("0x10M", SIZE_EXPECTS);
    assert_size_fails("K", SIZE_EXPECTS);
    assert_size_fails("16E",
                      "Value '16E' is out of range for parameter 'size'");
    assert_size_fails("18446744073709551616",
                      "Value '18446744073709551616' is out of range for "
                      "parameter 'size'");
    assert_size_fails("17179869184G",
                      "Value '17179869184G' is out of range for parameter "
                      "'size'");
    assert_size_fails("16.5E",
                      "Value '16.5E' is out of range for parameter 'size'");

    assert_true(opts_get_size(opts, "mem", 0, &n, NULL));
    assert_int_equal(n, 64ULL << 20);
    assert_true(opts_get_size(opts, "absent", 4096, &n, NULL));
    assert_int_equal(n, 4096);
    assert_false(opts_get_size(opts, "bad", 0, &n, &err));
    assert_string_equal(error_get_pretty(err),
                        "Parameter 'bad' expects a non-negative number "
                        "below 2^64");
    error_free(err);
    /* The hint must not trip up callers that pass NULL. */
    assert_false(opts_get_size(opts, "bad", 0, &n, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monitor_example),
        cmocka_unit_test(test_full_example_with_prefix_in_value),
        cmocka_unit_test(test_comma_escape),
        cmocka_unit_test(test_empty_values_and_string),
        cmocka_unit_test(test_implied_key_only_first),
        cmocka_unit_test(test_reject_missing_equals),
        cmocka_unit_test(test_reject_empty_key),
        cmocka_unit_test(test_reject_duplicate),
        cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
