/*
 * QMP protocol conversations with a real colo-vm, over unix and tcp:
 * greeting, negotiation, replies, ids and the errors QEMU gives.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qmp-assert.h"

static int setup_negotiated(void **state)
{
    return qmp_fixture_start(state, 0);
}

static int setup_raw(void **state)
{
    return qmp_fixture_start(state, QMPTEST_NO_NEGOTIATE);
}

static QmpTestClient *client(void **state)
{
    return qmptest_client(*state);
}

static void test_greeting(void **state)
{
    json_t *greeting = qmptest_greeting(client(state));
    json_t *qmp = json_object_get(greeting, "QMP");
    json_t *version = json_object_get(qmp, "version");
    json_t *caps = json_object_get(qmp, "capabilities");
    json_t *triple = json_object_get(version, "qemu");
    qmptest_auto_json json_t *r = NULL;

    assert_int_equal(json_object_size(greeting), 1);
    assert_int_equal(json_object_size(qmp), 2);
    assert_true(json_is_integer(json_object_get(triple, "major")));
    assert_true(json_is_integer(json_object_get(triple, "minor")));
    assert_true(json_is_integer(json_object_get(triple, "micro")));
    assert_true(json_is_string(json_object_get(version, "package")));
    assert_int_equal(json_array_size(caps), 1);
    assert_string_equal(json_string_value(json_array_get(caps, 0)), "oob");

    /* The greeting's version is exactly what query-version returns. */
    assert_true(qmptest_negotiate(client(state)));
    r = qmptest_cmd(client(state), "{'execute': 'query-version'}");
    assert_non_null(r);
    assert_true(json_equal(qmptest_return(r), version));
}

static void test_negotiation_mode(void **state)
{
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;

    r1 = qmptest_cmd(c, "{'execute': 'query-version'}");
    assert_qmp_error(r1, "CommandNotFound",
                     "Expecting capabilities negotiation with "
                     "'qmp_capabilities'");
    r2 = qmptest_cmd(c, "{'execute': 'no-such-command', 'id': 7}");
    assert_qmp_error(r2, "CommandNotFound",
                     "Expecting capabilities negotiation with "
                     "'qmp_capabilities'");
    assert_int_equal(json_integer_value(json_object_get(r2, "id")), 7);
    /* Bad requests are still diagnosed as such. */
    r3 = qmptest_cmd(c, "{'foo': 1}");
    assert_qmp_error(r3, "GenericError",
                     "QMP input member 'foo' is unexpected");
    r4 = qmptest_cmd(c, "{'execute': 'qmp_capabilities', "
                        "'arguments': {'enable': ['bogus']}}");
    assert_qmp_error_prefix(r4, "GenericError", "Parameter '");
    assert_true(qmptest_negotiate(c));
}

static void test_capabilities_twice(void **state)
{
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL;

    r1 = qmptest_cmd(c, "{'execute': 'qmp_capabilities', "
                        "'arguments': {'enable': ['oob']}}");
    assert_qmp_empty_return(r1);
    r2 = qmptest_cmd(c, "{'execute': 'qmp_capabilities'}");
    assert_qmp_error(r2, "CommandNotFound",
                     "Capabilities negotiation is already complete, "
                     "command ignored");
}

static void test_oob(void **state)
{
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL, *r3 = NULL;

    /* Without the oob capability exec-oob is not even a keyword. */
    r1 = qmptest_cmd(c, "{'exec-oob': 'query-version'}");
    assert_qmp_error(r1, "GenericError",
                     "QMP input member 'exec-oob' is unexpected");
    r2 = qmptest_cmd(c, "{'execute': 'query-version', 'exec-oob': 'quit'}");
    assert_non_null(qmptest_error_desc(r2));
    r3 = qmptest_cmd(c, "{'execute': 'query-version'}");
    assert_non_null(qmptest_return(r3));
}

static void test_query_version(void **state)
{
    qmptest_auto_json json_t *r =
        qmptest_cmd(client(state), "{'execute': 'query-version'}");
    json_t *ret = qmptest_return(r);

    assert_non_null(ret);
    assert_true(json_integer_value(json_object_get(
        json_object_get(ret, "qemu"), "major")) >= 0);
    assert_true(json_is_string(json_object_get(ret, "package")));
    assert_null(json_object_get(r, "id"));
}

static bool list_has_name(json_t *list, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v) {
        if (g_strcmp0(json_string_value(json_object_get(v, "name")),
                      name) == 0) {
            return true;
        }
    }
    return false;
}

static void test_query_commands(void **state)
{
    static const char *const expected[] = {
        "qmp_capabilities", "query-version", "query-commands", "quit",
        "query-qmp-schema", "trace-event-get-state", "trace-event-set-state",
        "trace-event-list",
    };
    qmptest_auto_json json_t *r =
        qmptest_cmd(client(state), "{'execute': 'query-commands'}");
    json_t *list = qmptest_return(r);

    assert_true(json_is_array(list));
    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
        assert_true(list_has_name(list, expected[i]));
    }
    assert_false(list_has_name(list, "no-such-command"));
}

static void test_query_qmp_schema(void **state)
{
    qmptest_auto_json json_t *r =
        qmptest_cmd(client(state), "{'execute': 'query-qmp-schema'}");
    json_t *list = qmptest_return(r);
    size_t i;
    json_t *v;
    bool found = false;

    assert_true(json_is_array(list));
    assert_true(json_array_size(list) > 10);
    json_array_foreach(list, i, v) {
        assert_true(json_is_string(json_object_get(v, "name")));
        assert_true(json_is_string(json_object_get(v, "meta-type")));
        if (g_strcmp0(json_string_value(json_object_get(v, "name")),
                      "query-version") == 0) {
            assert_string_equal(
                json_string_value(json_object_get(v, "meta-type")),
                "command");
            found = true;
        }
    }
    assert_true(found);
}

static void test_id_echo(void **state)
{
    static const char *const ids[] = {
        "\"abc\"", "42", "-1.5", "{\"a\": [1, {\"b\": null}]}", "[1, 2]",
        "null", "true",
    };
    QmpTestClient *c = client(state);

    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
        json_t *ok = qmptest_cmd(c, "{'execute': 'query-version', "
                                    "'id': %s}", ids[i]);
        json_t *err = qmptest_cmd(c, "{'execute': 'nope', 'id': %s}",
                                  ids[i]);

        assert_non_null(want);
        assert_non_null(qmptest_return(ok));
        assert_true(json_equal(json_object_get(ok, "id"), want));
        assert_string_equal(qmptest_error_class(err), "CommandNotFound");
        assert_true(json_equal(json_object_get(err, "id"), want));
        json_decref(want);
        json_decref(ok);
        json_decref(err);
    }
}

/* After any bad input the very same connection still works. */
static void assert_still_usable(QmpTestClient *c)
{
    qmptest_auto_json json_t *r =
        qmptest_cmd(c, "{'execute': 'query-version', 'id': 'alive'}");

    assert_non_null(qmptest_return(r));
    assert_string_equal(json_string_value(json_object_get(r, "id")),
                        "alive");
}

static void test_malformed_json(void **state)
{
    static const char *const bad[] = {
        "{bad json}", "{\"execute\": }", "{\"a\" 1}", "[1,,2]",
        "{\"execute\": \"query-version\", \"id\": 1, \"id\": 2}",
        "{\"execute\": \"query-version\",}", "{\"execute\": tru}",
    };
    QmpTestClient *c = client(state);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        qmptest_auto_json json_t *r = NULL;

        assert_true(qmptest_send_raw(c, bad[i], strlen(bad[i])));
        r = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
        assert_qmp_error_prefix(r, "GenericError", "JSON parse error, ");
        assert_still_usable(c);
    }
}

static void test_stray_close(void **state)
{
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL;

    assert_true(qmptest_send_raw(c, "}", 1));
    r1 = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_qmp_error(r1, "GenericError", "JSON parse error, expecting value");
    assert_true(qmptest_send_raw(c, "]", 1));
    r2 = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_qmp_error(r2, "GenericError", "JSON parse error, expecting value");
    assert_still_usable(c);
}

static void test_invalid_utf8(void **state)
{
    static const char bad[] = "{\"execute\": \"query-\xff\xfe\"}";
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r = NULL;

    assert_true(qmptest_send_raw(c, bad, sizeof(bad) - 1));
    r = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_qmp_error_prefix(r, "GenericError", "JSON parse error, ");
    assert_still_usable(c);
}

static void test_non_object(void **state)
{
    static const char *const values[] = {
        "[1, 2]", "\"str\"", "3 ", "true ", "null ", "[]",
    };
    QmpTestClient *c = client(state);

    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        qmptest_auto_json json_t *r = NULL;

        assert_true(qmptest_send_raw(c, values[i], strlen(values[i])));
        r = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
        assert_qmp_error(r, "GenericError", "QMP input must be a JSON object");
    }
    assert_still_usable(c);
}

static void test_request_shape(void **state)
{
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;

    r1 = qmptest_cmd(c, "{}");
    assert_qmp_error(r1, "GenericError", "QMP input lacks member 'execute'");
    r2 = qmptest_cmd(c, "{'arguments': {}}");
    assert_qmp_error(r2, "GenericError", "QMP input lacks member 'execute'");
    r3 = qmptest_cmd(c, "{'execute': 1}");
    assert_qmp_error(r3, "GenericError",
                     "QMP input member 'execute' must be a string");
    r4 = qmptest_cmd(c, "{'execute': 'query-version', 'arguments': []}");
    assert_qmp_error(r4, "GenericError",
                     "QMP input member 'arguments' must be an object");
    assert_still_usable(c);
}

static void test_unknown_command(void **state)
{
    qmptest_auto_json json_t *r =
        qmptest_cmd(client(state), "{'execute': 'no-such-command'}");

    assert_qmp_error(r, "CommandNotFound",
                     "The command no-such-command has not been found");
}

static void test_bad_arguments(void **state)
{
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;

    r1 = qmptest_cmd(c, "{'execute': 'query-version', "
                        "'arguments': {'verbose': true}}");
    assert_qmp_error(r1, "GenericError", "Parameter 'verbose' is unexpected");
    r2 = qmptest_cmd(c, "{'execute': 'trace-event-get-state', "
                        "'arguments': {'name': 42}}");
    assert_qmp_error(r2, "GenericError",
                     "Invalid parameter type for 'name', expected: string");
    r3 = qmptest_cmd(c, "{'execute': 'trace-event-get-state', "
                        "'arguments': {}}");
    assert_qmp_error(r3, "GenericError", "Parameter 'name' is missing");
    r4 = qmptest_cmd(c, "{'execute': 'trace-event-set-state', "
                        "'arguments': {'name': 'qmp_*', 'enable': 'yes'}}");
    assert_qmp_error(r4, "GenericError",
                     "Invalid parameter type for 'enable', expected: boolean");
    assert_still_usable(c);
}

static void test_split_and_batched(void **state)
{
    QmpTestClient *c = client(state);
    static const char part1[] = "{\"exec";
    static const char part2[] = "ute\": \"query-version\", \"id\": 1}"
                                "{\"execute\": \"query-version\", \"id\": 2}";
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL;

    /* One request across two writes, then two in one write. */
    assert_true(qmptest_send_raw(c, part1, sizeof(part1) - 1));
    assert_true(qmptest_send_raw(c, part2, sizeof(part2) - 1));
    r1 = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    r2 = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_int_equal(json_integer_value(json_object_get(r1, "id")), 1);
    assert_int_equal(json_integer_value(json_object_get(r2, "id")), 2);
}

static void test_huge_input(void **state)
{
    QmpTestClient *c = client(state);
    size_t len = 2 * 1024 * 1024;
    g_autofree char *big = g_malloc(len + 64);
    qmptest_auto_json json_t *r = NULL;
    int n;

    n = sprintf(big, "{\"execute\": \"query-version\", \"id\": \"");
    memset(big + n, 'x', len);
    strcpy(big + n + len, "\"}");
    assert_true(qmptest_send_raw(c, big, strlen(big)));
    r = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_qmp_error(r, "GenericError", "JSON token size limit exceeded");
    /* Exactly one error: the next reply belongs to the next request. */
    assert_still_usable(c);
}

static void test_deep_nesting(void **state)
{
    QmpTestClient *c = client(state);
    GString *deep = g_string_new("{\"execute\": \"query-version\", "
                                 "\"arguments\": {\"a\": ");
    qmptest_auto_json json_t *r1 = NULL, *r2 = NULL;

    for (int i = 0; i < 5000; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < 5000; i++) {
        g_string_append_c(deep, ']');
    }
    g_string_append(deep, "}}");
    assert_true(qmptest_send_raw(c, deep->str, deep->len));
    g_string_free(deep, true);
    r1 = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_qmp_error(r1, "GenericError", "JSON nesting depth limit exceeded");
    assert_still_usable(c);

    /* Deep but within the bound: a normal argument error. */
    r2 = qmptest_cmd(c, "{'execute': 'query-version', 'arguments': "
                        "{'a': [[[[[[[[[[]]]]]]]]]]}}");
    assert_qmp_error(r2, "GenericError", "Parameter 'a' is unexpected");
}

static void test_unterminated_string(void **state)
{
    QmpTestClient *c = client(state);
    static const char bad[] = "{\"execute\": \"query-version\", \"id\": \"x\n";
    qmptest_auto_json json_t *r = NULL;

    /* A raw newline cannot be inside a JSON string: resync on it. */
    assert_true(qmptest_send_raw(c, bad, sizeof(bad) - 1));
    r = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_qmp_error_prefix(r, "GenericError", "JSON parse error, ");
    assert_still_usable(c);
}

static void test_single_quotes(void **state)
{
    static const char req[] =
        "{'execute': 'query-version', 'id': 'it\\'s \"quoted\"'}";
    QmpTestClient *c = client(state);
    qmptest_auto_json json_t *r = NULL;

    /* QEMU accepts single-quoted strings; scripts rely on it. */
    assert_true(qmptest_send_raw(c, req, sizeof(req) - 1));
    r = qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
    assert_non_null(qmptest_return(r));
    assert_string_equal(json_string_value(json_object_get(r, "id")),
                        "it's \"quoted\"");
}

/*
 * After arbitrary bytes a newline ends any string and enough closing
 * brackets end any nesting; then a request must work again.  Every
 * reply in between must be an error, and the server must survive.
 */
static void test_garbage(void **state)
{
    QmpTestClient *c = client(state);
    g_autoptr(GRand) rand = g_rand_new_with_seed(20261126);
    size_t len = 64 * 1024, openers = 0;
    g_autofree char *junk = g_malloc(len);
    GString *closers = g_string_new("\n");
    unsigned errors = 0;

    for (size_t i = 0; i < len; i++) {
        junk[i] = g_rand_int_range(rand, 0, 256);
        openers += junk[i] == '{' || junk[i] == '[';
    }
    /* No nesting can be deeper than the number of opening brackets. */
    for (size_t i = 0; i <= openers; i++) {
        g_string_append_c(closers, ']');
    }
    assert_true(qmptest_send_raw(c, junk, len));
    assert_true(qmptest_send_raw(c, closers->str, closers->len));
    g_string_free(closers, true);
    assert_true(qmptest_send(c, "{'execute': 'query-version', "
                                "'id': 'alive'}"));
    for (;;) {
        qmptest_auto_json json_t *r =
            qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);

        assert_non_null(r);
        if (g_strcmp0(json_string_value(json_object_get(r, "id")),
                      "alive") == 0) {
            assert_non_null(qmptest_return(r));
            break;
        }
        assert_string_equal(qmptest_error_class(r), "GenericError");
        errors++;
    }
    assert_true(errors > 0);
    assert_still_usable(c);
}

#define PROTOCOL_TESTS(transport)                                         \
    {                                                                     \
        cmocka_unit_test_prestate_setup_teardown(test_greeting,           \
            setup_raw, qmp_fixture_stop, &(transport)),                   \
        cmocka_unit_test_prestate_setup_teardown(test_negotiation_mode,   \
            setup_raw, qmp_fixture_stop, &(transport)),                   \
        cmocka_unit_test_prestate_setup_teardown(test_capabilities_twice, \
            setup_raw, qmp_fixture_stop, &(transport)),                   \
        cmocka_unit_test_prestate_setup_teardown(test_oob,                \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_query_version,      \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_query_commands,     \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_query_qmp_schema,   \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_id_echo,            \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_malformed_json,     \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_stray_close,        \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_invalid_utf8,       \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_non_object,         \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_request_shape,      \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_unknown_command,    \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_bad_arguments,      \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_split_and_batched,  \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_single_quotes,      \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_garbage,            \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_huge_input,         \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_deep_nesting,       \
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
        cmocka_unit_test_prestate_setup_teardown(test_unterminated_string,\
            setup_negotiated, qmp_fixture_stop, &(transport)),            \
    }

int main(void)
{
    const struct CMUnitTest unix_tests[] = PROTOCOL_TESTS(qmp_transport_unix);
    const struct CMUnitTest tcp_tests[] = PROTOCOL_TESTS(qmp_transport_tcp);
    int failed = 0;

    failed += cmocka_run_group_tests_name("qmp-unix", unix_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("qmp-tcp", tcp_tests, NULL, NULL);
    return failed ? 1 : 0;
}
