/*
 * Marshalling and dispatch: generated qmp_marshal_* functions behind
 * qmp_dispatch(), every request-validation error with QEMU's text, and
 * events built by the generated qapi_event_send_* functions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qapi/json-input-visitor.h"
#include "qapi/json-output-visitor.h"
#include "qapi/qmp-dispatch.h"
#include "test-qapi-commands.h"
#include "test-qapi-events.h"
#include "test-qapi-visit.h"

/* --- command handlers ------------------------------------------------ */

static int no_response_calls;
static int deprecated_calls;

TestSum *qmp_test_add(int64_t a, int8_t b, bool has_c, int64_t c,
                      const char *label, Error **errp)
{
    TestSum *sum;

    if (label && !strcmp(label, "fail")) {
        error_setg(errp, "Failing as asked by '%s'", label);
        return NULL;
    }
    sum = g_new0(TestSum, 1);
    sum->sum = a + b + (has_c ? c : 0);
    return sum;
}

TestNested *qmp_test_echo(TestNested *nested, Error **errp)
{
    TestNested *copy = NULL;
    json_t *json = NULL;
    Visitor *v;

    /* The argument belongs to the marshaller: return a deep copy. */
    v = json_output_visitor_new(&json);
    visit_type_TestNested(v, NULL, &nested, &error_abort);
    visit_complete(v, &json);
    visit_free(v);
    v = json_input_visitor_new(json);
    visit_type_TestNested(v, NULL, &copy, &error_abort);
    visit_free(v);
    json_decref(json);
    return copy;
}

TestUnion *qmp_test_echo_union(TestUnion *arg, Error **errp)
{
    TestUnion *ret = g_new0(TestUnion, 1);

    ret->kind = arg->kind;
    ret->has_common = arg->has_common;
    ret->common = arg->common + 1;
    switch (arg->kind) {
    case TEST_UNION_TAG_ALPHA:
        ret->u.alpha.x = arg->u.alpha.x * 2;
        break;
    case TEST_UNION_TAG_BETA:
        /* Hand the list over: the marshaller frees only what it holds. */
        ret->u.beta.y = arg->u.beta.y;
        arg->u.beta.y = NULL;
        break;
    default:
        break;
    }
    return ret;
}

intList *qmp_test_list(uint8_t count, Error **errp)
{
    intList *list = NULL;
    int i;

    for (i = count - 1; i >= 0; i--) {
        QAPI_LIST_PREPEND(list, i);
    }
    return list;
}

void qmp_test_fail(Error **errp)
{
    error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Nothing to see here");
}

void qmp_test_no_response(Error **errp)
{
    no_response_calls++;
}

void qmp_test_oob(Error **errp)
{
}

void qmp_test_deprecated(int64_t a, const char *b, bool has_e, TestEnum e,
                         bool has_flag, bool flag, Error **errp)
{
    deprecated_calls++;
    assert_int_equal(a, 9);
    assert_null(b);
    assert_true(has_e);
    assert_int_equal(e, TEST_ENUM_TWO);
    assert_false(has_flag);
}

/* A hand-written marshaller, as 'gen': false commands have. */
void qmp_test_raw(json_t *args, json_t **ret, Error **errp)
{
    *ret = json_pack("{s:O}", "args", args ? args : json_null());
}

/* Copies through the generated visitors: arguments stay the caller's. */
TestAlternateHolder *qmp_test_alternate(TestAlternate *a,
                                        TestOtherAlternate *opt,
                                        Error **errp)
{
    TestAlternateHolder holder = { .a = a, .opt = opt };
    TestAlternateHolder *ptr = &holder, *copy = NULL;
    json_t *json = NULL;
    Visitor *v;

    if (a->type == QTYPE_QNULL) {
        error_setg(errp, "null is not welcome here");
        return NULL;
    }
    v = json_output_visitor_new(&json);
    visit_type_TestAlternateHolder(v, NULL, &ptr, &error_abort);
    visit_complete(v, &json);
    visit_free(v);
    v = json_input_visitor_new(json);
    visit_type_TestAlternateHolder(v, NULL, &copy, &error_abort);
    visit_free(v);
    json_decref(json);
    return copy;
}

/* --- test plumbing --------------------------------------------------- */

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (!value) {
        fail_msg("bad JSON in test: %s: %s", text, jerr.text);
    }
    return value;
}

static void assert_json(json_t *actual, const char *expected_text)
{
    json_t *expected = parse(expected_text);

    if (!json_equal(actual, expected)) {
        g_autofree char *dump = json_dumps(actual, JSON_COMPACT |
                                           JSON_ENCODE_ANY);

        fail_msg("got %s, expected %s", dump, expected_text);
    }
    json_decref(expected);
}

static QmpCommandList *cmds;

static int setup(void **state)
{
    cmds = qmp_command_list_new();
    test_qmp_init_marshal(cmds);
    return 0;
}

static int teardown(void **state)
{
    qmp_command_list_free(cmds);
    cmds = NULL;
    return 0;
}

/* Dispatch @request_text and compare the response with @expected. */
static void check_oob(const char *request_text, bool allow_oob,
                      const char *expected)
{
    json_t *request = parse(request_text);
    json_t *resp = qmp_dispatch(cmds, request, allow_oob);

    if (expected) {
        assert_non_null(resp);
        assert_json(resp, expected);
    } else {
        assert_null(resp);
    }
    json_decref(resp);
    json_decref(request);
}

static void check(const char *request_text, const char *expected)
{
    check_oob(request_text, false, expected);
}

#define GENERIC(desc) \
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}"
#define GENERIC_ID(id, desc) \
    "{\"id\": " id ", \"error\": {\"class\": \"GenericError\", " \
    "\"desc\": \"" desc "\"}}"

/* --- tests ------------------------------------------------------------ */

static void collect_name(const QmpCommand *cmd, void *opaque)
{
    g_ptr_array_add(opaque, (gpointer)cmd->name);
}

static void test_registry(void **state)
{
    const QmpCommand *cmd = qmp_find_command(cmds, "test-oob");
    GPtrArray *names = g_ptr_array_new();

    assert_non_null(cmd);
    assert_true(cmd->options & QCO_ALLOW_OOB);
    assert_true(cmd->options & QCO_ALLOW_PRECONFIG);
    assert_true(qmp_has_success_response(cmd));
    assert_true(qmp_command_is_enabled(cmd));
    cmd = qmp_find_command(cmds, "test-no-response");
    assert_false(qmp_has_success_response(cmd));
    cmd = qmp_find_command(cmds, "test-deprecated");
    assert_int_equal(cmd->special_features, QAPI_DEPRECATED | QAPI_UNSTABLE);
    cmd = qmp_find_command(cmds, "test-raw");
    assert_true(cmd->fn == qmp_test_raw);
    assert_null(qmp_find_command(cmds, "test_add"));

    /* Schema order. */
    qmp_for_each_command(cmds, collect_name, names);
    assert_int_equal(names->len, 10);
    assert_string_equal(names->pdata[0], "test-add");
    assert_string_equal(names->pdata[1], "test-echo");
    assert_string_equal(names->pdata[8], "test-raw");
    g_ptr_array_free(names, true);
}

static void test_success(void **state)
{
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1, \"b\": 2}}",
          "{\"return\": {\"sum\": 3}}");
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1, \"b\": 2, "
          "\"c\": 10, \"label\": \"x\"}, \"id\": \"abc\"}",
          "{\"return\": {\"sum\": 13}, \"id\": \"abc\"}");
    check("{\"execute\": \"test-list\", \"arguments\": {\"count\": 3}, "
          "\"id\": [1, {\"x\": null}]}",
          "{\"return\": [0, 1, 2], \"id\": [1, {\"x\": null}]}");
    check("{\"execute\": \"test-list\", \"arguments\": {\"count\": 0}}",
          "{\"return\": []}");
    check("{\"execute\": \"test-oob\", \"id\": null}",
          "{\"return\": {}, \"id\": null}");
    check("{\"id\": 7, \"execute\": \"test-oob\", \"arguments\": {}}",
          "{\"return\": {}, \"id\": 7}");
    check("{\"execute\": \"test-raw\", \"arguments\": {\"q\": 1}}",
          "{\"return\": {\"args\": {\"q\": 1}}}");
    check("{\"execute\": \"test-raw\"}",
          "{\"return\": {\"args\": null}}");
}

static void test_nested_arguments(void **state)
{
    const char *nested =
        "{\"inner\": {\"a\": 1, \"b\": \"x\", \"e\": \"three\"}, "
        "\"list\": [{\"a\": 2}, {\"a\": 3, \"flag\": true}], "
        "\"ints\": [4], \"strs\": [\"s\", \"t\"], "
        "\"sub\": {\"name\": \"n\"}}";
    g_autofree char *req = g_strdup_printf(
        "{\"execute\": \"test-echo\", \"arguments\": {\"nested\": %s}}",
        nested);
    g_autofree char *resp = g_strdup_printf("{\"return\": %s}", nested);

    check(req, resp);
    check("{\"execute\": \"test-echo\", \"arguments\": {\"nested\": "
          "{\"inner\": {\"a\": 1}, \"list\": [{\"a\": 1}, {\"a\": 2, "
          "\"e\": \"nine\"}], \"ints\": []}}}",
          GENERIC("Parameter 'e' does not accept value 'nine'"));
}

static void test_boxed(void **state)
{
    check("{\"execute\": \"test-echo-union\", \"arguments\": "
          "{\"kind\": \"alpha\", \"x\": 21, \"common\": 1}}",
          "{\"return\": {\"kind\": \"alpha\", \"x\": 42, \"common\": 2}}");
    check("{\"execute\": \"test-echo-union\", \"arguments\": "
          "{\"kind\": \"beta\", \"y\": [\"a\", \"b\"]}}",
          "{\"return\": {\"kind\": \"beta\", \"y\": [\"a\", \"b\"]}}");
    check("{\"execute\": \"test-echo-union\", \"arguments\": "
          "{\"kind\": \"gamma\"}}",
          "{\"return\": {\"kind\": \"gamma\"}}");
    check("{\"execute\": \"test-echo-union\", \"arguments\": "
          "{\"kind\": \"omega\"}}",
          GENERIC("Parameter 'kind' does not accept value 'omega'"));
    check("{\"execute\": \"test-deprecated\", \"arguments\": "
          "{\"a\": 9, \"e\": \"two\"}}", "{\"return\": {}}");
    assert_int_equal(deprecated_calls, 1);
}

static void test_alternate_arguments(void **state)
{
    check("{\"execute\": \"test-alternate\", \"arguments\": "
          "{\"a\": {\"a\": 1}, \"opt\": \"one\"}}",
          "{\"return\": {\"a\": {\"a\": 1}, \"opt\": \"one\"}}");
    check("{\"execute\": \"test-alternate\", \"arguments\": "
          "{\"a\": \"str\"}}", "{\"return\": {\"a\": \"str\"}}");
    check("{\"execute\": \"test-alternate\", \"arguments\": "
          "{\"a\": null}}", GENERIC("null is not welcome here"));
    check("{\"execute\": \"test-alternate\", \"arguments\": "
          "{\"a\": [], \"opt\": 1}}",
          GENERIC("Invalid parameter type for 'a', expected: "
                  "TestAlternate"));
}

static void test_argument_errors(void **state)
{
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1}}",
          GENERIC("Parameter 'b' is missing"));
    check("{\"execute\": \"test-add\"}",
          GENERIC("Parameter 'a' is missing"));
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1, \"b\": 2, "
          "\"d\": 3}, \"id\": 1}",
          GENERIC_ID("1", "Parameter 'd' is unexpected"));
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": \"1\", "
          "\"b\": 2, \"label\": \"leak\"}}",
          GENERIC("Invalid parameter type for 'a', expected: integer"));
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1, "
          "\"b\": 200, \"label\": \"leak\"}}",
          GENERIC("Parameter 'b' expects int8_t"));
    check("{\"execute\": \"test-list\", \"arguments\": {\"count\": 256}}",
          GENERIC("Parameter 'count' expects uint8_t"));
    check("{\"execute\": \"test-oob\", \"arguments\": {\"x\": 1}}",
          GENERIC("Parameter 'x' is unexpected"));
}

static void test_handler_errors(void **state)
{
    check("{\"execute\": \"test-fail\", \"id\": \"f\"}",
          "{\"id\": \"f\", \"error\": {\"class\": \"DeviceNotFound\", "
          "\"desc\": \"Nothing to see here\"}}");
    check("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1, \"b\": 2, "
          "\"label\": \"fail\"}}",
          GENERIC("Failing as asked by 'fail'"));
}

static void test_request_errors(void **state)
{
    check("[1]", GENERIC("QMP input must be a JSON object"));
    check("\"execute\"", GENERIC("QMP input must be a JSON object"));
    check("null", GENERIC("QMP input must be a JSON object"));
    check("{}", GENERIC("QMP input lacks member 'execute'"));
    check("{\"id\": 5}", GENERIC_ID("5", "QMP input lacks member 'execute'"));
    check("{\"execute\": 1, \"id\": \"a\"}",
          GENERIC_ID("\"a\"", "QMP input member 'execute' must be a "
                     "string"));
    check("{\"execute\": \"test-oob\", \"arguments\": [], \"id\": \"b\"}",
          GENERIC_ID("\"b\"", "QMP input member 'arguments' must be an "
                     "object"));
    check("{\"execute\": \"test-oob\", \"arguments\": null}",
          GENERIC("QMP input member 'arguments' must be an object"));
    check("{\"execute\": \"test-oob\", \"foo\": 1, \"id\": \"c\"}",
          GENERIC_ID("\"c\"", "QMP input member 'foo' is unexpected"));
    check("{\"execute\": \"test-oob\", \"control\": {}}",
          GENERIC("QMP input member 'control' is unexpected"));
}

static void test_command_not_found(void **state)
{
    check("{\"execute\": \"nope\", \"id\": {\"x\": 1}}",
          "{\"id\": {\"x\": 1}, \"error\": {\"class\": \"CommandNotFound\", "
          "\"desc\": \"The command nope has not been found\"}}");
    check("{\"execute\": \"\"}",
          "{\"error\": {\"class\": \"CommandNotFound\", "
          "\"desc\": \"The command  has not been found\"}}");
}

static void test_disabled(void **state)
{
    qmp_disable_command(cmds, "test-oob", NULL);
    assert_false(qmp_command_is_enabled(qmp_find_command(cmds,
                                                         "test-oob")));
    check("{\"execute\": \"test-oob\", \"id\": 1}",
          "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", "
          "\"desc\": \"Command test-oob has been disabled\"}}");
    qmp_disable_command(cmds, "test-oob", "not now");
    check("{\"execute\": \"test-oob\"}",
          "{\"error\": {\"class\": \"CommandNotFound\", "
          "\"desc\": \"Command test-oob has been disabled: not now\"}}");
    qmp_enable_command(cmds, "test-oob");
    check("{\"execute\": \"test-oob\"}", "{\"return\": {}}");
    /* Unknown names are ignored. */
    qmp_disable_command(cmds, "no-such-command", "x");
}

static void test_no_success_response(void **state)
{
    no_response_calls = 0;
    check("{\"execute\": \"test-no-response\", \"id\": 3}", NULL);
    assert_int_equal(no_response_calls, 1);
    /* Errors are still reported. */
    check("{\"execute\": \"test-no-response\", \"arguments\": {\"a\": 1}, "
          "\"id\": 4}", GENERIC_ID("4", "Parameter 'a' is unexpected"));
    assert_int_equal(no_response_calls, 1);
}

static void test_oob(void **state)
{
    check_oob("{\"exec-oob\": \"test-oob\", \"id\": \"o\"}", true,
              "{\"return\": {}, \"id\": \"o\"}");
    check_oob("{\"exec-oob\": \"test-add\", \"id\": \"d\"}", true,
              GENERIC_ID("\"d\"", "The command test-add does not support "
                         "OOB"));
    check_oob("{\"exec-oob\": \"test-oob\", \"id\": \"d\"}", false,
              GENERIC_ID("\"d\"", "QMP input member 'exec-oob' is "
                         "unexpected"));
    check_oob("{\"exec-oob\": 1}", true,
              GENERIC("QMP input member 'exec-oob' must be a string"));
    check_oob("{\"execute\": \"test-oob\", \"exec-oob\": \"test-oob\", "
              "\"id\": \"f\"}", true,
              GENERIC_ID("\"f\"", "QMP input member 'execute' clashes with "
                         "'exec-oob'"));
    check_oob("{\"execute\": \"test-oob\"}", true, "{\"return\": {}}");
}

static void test_error_response(void **state)
{
    Error *err = NULL;
    json_t *resp;

    error_set(&err, ERROR_CLASS_KVM_MISSING_CAP, "no %s", "kvm");
    resp = qmp_error_response(err);
    assert_json(resp, "{\"error\": {\"class\": \"KVMMissingCap\", "
                "\"desc\": \"no kvm\"}}");
    json_decref(resp);
}

/* --- events ---------------------------------------------------------- */

static json_t *last_event;
static test_QAPIEvent last_event_kind;

void test_qapi_event_emit(test_QAPIEvent event, json_t *event_obj)
{
    json_decref(last_event);
    /* The object is borrowed: keep a reference for the checks. */
    last_event = json_incref(event_obj);
    last_event_kind = event;
}

/* Check the envelope and return the event without its timestamp. */
static json_t *take_event(test_QAPIEvent kind, const char *name)
{
    json_t *ts, *event = last_event;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    json_int_t secs;

    assert_non_null(event);
    last_event = NULL;
    assert_int_equal(last_event_kind, kind);
    assert_string_equal(json_string_value(json_object_get(event, "event")),
                        name);
    ts = json_object_get(event, "timestamp");
    assert_true(json_is_object(ts));
    assert_int_equal(json_object_size(ts), 2);
    secs = json_integer_value(json_object_get(ts, "seconds"));
    assert_true(secs > now - 60 && secs <= now + 1);
    assert_true(json_integer_value(json_object_get(ts, "microseconds"))
                < 1000000);
    json_object_del(event, "timestamp");
    return event;
}

static void test_events(void **state)
{
    g_autoptr(TestInner) inner = g_new0(TestInner, 1);
    json_t *event;

    qapi_event_send_test_event_a();
    event = take_event(TEST_QAPI_EVENT_TEST_EVENT_A, "TEST_EVENT_A");
    /* No data member at all for events without data. */
    assert_json(event, "{\"event\": \"TEST_EVENT_A\"}");
    json_decref(event);

    qapi_event_send_test_event_b(5, "five", false, false);
    event = take_event(TEST_QAPI_EVENT_TEST_EVENT_B, "TEST_EVENT_B");
    assert_json(event, "{\"event\": \"TEST_EVENT_B\", "
                "\"data\": {\"a\": 5, \"s\": \"five\"}}");
    json_decref(event);

    qapi_event_send_test_event_b(-1, NULL, true, false);
    event = take_event(TEST_QAPI_EVENT_TEST_EVENT_B, "TEST_EVENT_B");
    assert_json(event, "{\"event\": \"TEST_EVENT_B\", "
                "\"data\": {\"a\": -1, \"flag\": false}}");
    json_decref(event);

    inner->a = 3;
    inner->has_e = true;
    inner->e = TEST_ENUM_THREE;
    qapi_event_send_test_event_boxed(inner);
    event = take_event(TEST_QAPI_EVENT_TEST_EVENT_BOXED, "TEST_EVENT_BOXED");
    assert_json(event, "{\"event\": \"TEST_EVENT_BOXED\", "
                "\"data\": {\"a\": 3, \"e\": \"three\"}}");
    json_decref(event);

    assert_string_equal(test_QAPIEvent_str(TEST_QAPI_EVENT_TEST_EVENT_B),
                        "TEST_EVENT_B");
    assert_int_equal(TEST_QAPI_EVENT__MAX, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_nested_arguments),
        cmocka_unit_test(test_boxed),
        cmocka_unit_test(test_alternate_arguments),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_handler_errors),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_command_not_found),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_no_success_response),
        cmocka_unit_test(test_oob),
        cmocka_unit_test(test_error_response),
        cmocka_unit_test(test_events),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
