/*
 * The QMP input splitter on its own: where values end, what is rejected,
 * and that the result does not depend on how the bytes are chunked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/json-splitter.h"

/* Each emitted value as its text, each error as "!" + message. */
static void collect(void *opaque, const char *text, size_t len, Error *err)
{
    GPtrArray *out = opaque;

    if (err) {
        g_ptr_array_add(out, g_strdup_printf("!%s", error_get_pretty(err)));
        error_free(err);
    } else {
        g_ptr_array_add(out, g_strndup(text, len));
    }
}

/* Split @input fed in chunks of @chunk bytes (0: all at once). */
static GPtrArray *split(const char *input, size_t len, size_t chunk,
                        size_t max_size, unsigned max_depth)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(JsonSplitter) js = json_splitter_new(collect, out, max_size,
                                                   max_depth);

    if (chunk == 0) {
        chunk = len ? len : 1;
    }
    for (size_t off = 0; off < len; off += chunk) {
        json_splitter_feed(js, input + off, MIN(chunk, len - off));
    }
    json_splitter_flush(js);
    return out;
}

static void check_split(const char *input, const char *const *expected,
                        size_t max_size, unsigned max_depth)
{
    static const size_t chunks[] = { 0, 1, 2, 3, 7 };
    size_t n = 0;

    while (expected[n]) {
        n++;
    }
    for (size_t c = 0; c < G_N_ELEMENTS(chunks); c++) {
        g_autoptr(GPtrArray) out = split(input, strlen(input), chunks[c],
                                         max_size, max_depth);

        assert_int_equal(out->len, n);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(g_ptr_array_index(out, i), expected[i]);
        }
    }
}

#define CHECK(input, ...) do {                                          \
        static const char *const exp_[] = { __VA_ARGS__, NULL };        \
        check_split((input), exp_, 1024, 8);                            \
    } while (0)

static void test_objects(void **state)
{
    CHECK("{\"a\": 1}", "{\"a\": 1}");
    CHECK("  {\"a\": {\"b\": [1, 2]}}\r\n{}[]",
          "{\"a\": {\"b\": [1, 2]}}", "{}", "[]");
    CHECK("{\"s\": \"}]{[\"}", "{\"s\": \"}]{[\"}");
    CHECK("{\"s\": \"a\\\"}\"}", "{\"s\": \"a\\\"}\"}");
    CHECK("{\"s\": \"a\\\\\"}", "{\"s\": \"a\\\\\"}");
    /* Mismatched brackets still end the value; the parser rejects it. */
    CHECK("{\"a\": 1]", "{\"a\": 1]");
}

static void test_scalars(void **state)
{
    CHECK("3 ", "3");
    CHECK("\"str\"", "\"str\"");
    CHECK("true{}", "true", "{}");
    CHECK("12\"x\"", "12", "\"x\"");
    /* Flushed at end of input. */
    CHECK("null", "null");
}

static void test_single_quotes(void **state)
{
    /* QEMU's extension, turned into plain JSON for the parser. */
    CHECK("{'a': 'b'}", "{\"a\": \"b\"}");
    CHECK("{'a': 'say \"}\"'}", "{\"a\": \"say \\\"}\\\"\"}");
    CHECK("{'a': 'it\\'s'}", "{\"a\": \"it's\"}");
    CHECK("{\"a\": \"it's\"}", "{\"a\": \"it's\"}");
    CHECK("'x'", "\"x\"");
}

static void test_stray_closers(void **state)
{
    CHECK("}", "!JSON parse error, expecting value");
    CHECK("]{}", "!JSON parse error, expecting value", "{}");
}

static void test_control_character_in_string(void **state)
{
    CHECK("{\"a\": \"x\n{}",
          "!JSON parse error, control character 0x0a in string", "{}");
}

static void test_depth_limit(void **state)
{
    CHECK("[[[[[[[[]]]]]]]]", "[[[[[[[[]]]]]]]]");
    CHECK("[[[[[[[[[]]]]]]]]]{}",
          "!JSON nesting depth limit exceeded", "{}");
    /* Brackets inside strings of the skipped value do not count. */
    CHECK("[[[[[[[[[\"]]]]]]]]]\"]]]]]]]]]{}",
          "!JSON nesting depth limit exceeded", "{}");
}

static void test_size_limit(void **state)
{
    g_autoptr(GString) in = g_string_new("{\"a\": \"");
    static const char *const exp[] = {
        "!JSON token size limit exceeded", "{\"b\": 1}", NULL,
    };
    static const char *const exp_scalar[] = {
        "!JSON token size limit exceeded", "1", NULL,
    };

    for (int i = 0; i < 3000; i++) {
        g_string_append(in, "}]{[");
    }
    g_string_append(in, "\"}{\"b\": 1}");
    check_split(in->str, exp, 1024, 8);

    g_string_assign(in, "");
    for (int i = 0; i < 3000; i++) {
        g_string_append_c(in, '7');
    }
    g_string_append(in, " 1");
    check_split(in->str, exp_scalar, 1024, 8);
}

static void test_pending(void **state)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    JsonSplitter *js = json_splitter_new(collect, out, 1024, 8);

    json_splitter_feed(js, "{\"a\"", 4);
    assert_int_equal(json_splitter_pending(js), 4);
    assert_int_equal(out->len, 0);
    json_splitter_feed(js, "}", 1);
    assert_int_equal(json_splitter_pending(js), 0);
    assert_int_equal(out->len, 1);
    /* An unfinished value is dropped at end of input. */
    json_splitter_feed(js, "{\"b\"", 4);
    json_splitter_flush(js);
    assert_int_equal(out->len, 1);
    json_splitter_free(js);
    g_ptr_array_free(out, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_single_quotes),
        cmocka_unit_test(test_stray_closers),
        cmocka_unit_test(test_control_character_in_string),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_pending),
    };

    return cmocka_run_group_tests_name("json-splitter", tests, NULL, NULL);
}
