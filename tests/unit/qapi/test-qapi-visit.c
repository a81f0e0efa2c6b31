/*
 * Visitor tests on the code generated from qapi-schema-test.json:
 * JSON -> C -> JSON round trips, every input error path with its
 * message, and clean-up of objects the input visitor built only partly
 * (run under ASan to see the leaks this would otherwise hide).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qapi/dealloc-visitor.h"
#include "qapi/json-input-visitor.h"
#include "qapi/json-output-visitor.h"
#include "qapi/qmp-dispatch.h"
#include "test-qapi-types.h"
#include "test-qapi-visit.h"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (!value) {
        fail_msg("bad JSON in test: %s: %s", text, jerr.text);
    }
    return value;
}

static void assert_json_equal(json_t *actual, const char *expected_text)
{
    json_t *expected = parse(expected_text);

    if (!json_equal(actual, expected)) {
        g_autofree char *dump = json_dumps(actual, JSON_COMPACT |
                                           JSON_ENCODE_ANY);

        fail_msg("got %s, expected %s", dump, expected_text);
    }
    json_decref(expected);
}

/* Visit @text as a Type, expect success, and return the C object. */
#define INPUT(Type, text) ({                                        \
        json_t *in_ = parse(text);                                  \
        Visitor *v_ = json_input_visitor_new(in_);                  \
        Type *obj_ = NULL;                                          \
        Error *err_ = NULL;                                         \
        bool ok_ = visit_type_##Type(v_, NULL, &obj_, &err_);       \
        if (!ok_) {                                                 \
            fail_msg("%s: %s", text, error_get_pretty(err_));       \
        }                                                           \
        visit_free(v_);                                             \
        json_decref(in_);                                           \
        obj_;                                                       \
    })

/* The JSON an output visit of @obj produces (new reference). */
#define OUTPUT(Type, obj) ({                                        \
        json_t *out_ = NULL;                                        \
        Type *o_ = (obj);                                           \
        Visitor *v_ = json_output_visitor_new(&out_);               \
        assert_true(visit_type_##Type(v_, NULL, &o_, NULL));        \
        visit_complete(v_, &out_);                                  \
        visit_free(v_);                                             \
        out_;                                                       \
    })

/* JSON -> C -> JSON gives back what went in. */
#define ROUND_TRIP(Type, text) do {                                 \
        Type *rt_ = INPUT(Type, text);                              \
        json_t *out_ = OUTPUT(Type, rt_);                           \
        assert_json_equal(out_, text);                              \
        json_decref(out_);                                          \
        qapi_free_##Type(rt_);                                      \
    } while (0)

/* The input visit fails with exactly @msg and leaves nothing behind. */
#define INPUT_ERROR(Type, text, msg) do {                           \
        json_t *in_ = parse(text);                                  \
        Visitor *v_ = json_input_visitor_new(in_);                  \
        Type *obj_ = NULL;                                          \
        Error *err_ = NULL;                                         \
        assert_false(visit_type_##Type(v_, NULL, &obj_, &err_));    \
        assert_null(obj_);                                          \
        assert_non_null(err_);                                      \
        assert_string_equal(error_get_pretty(err_), msg);           \
        error_free(err_);                                           \
        visit_free(v_);                                             \
        json_decref(in_);                                           \
    } while (0)

#define SCALARS_OK \
    "\"s\": \"str\", \"i\": -5, \"i8\": -128, \"i16\": 32767, " \
    "\"i32\": -2147483648, \"i64\": 9223372036854775807, "      \
    "\"u8\": 255, \"u16\": 65535, \"u32\": 4294967295, "        \
    "\"u64\": 9223372036854775807, \"sz\": 4096, \"num\": 1.5, " \
    "\"b\": true, \"any\": {\"x\": [1, \"y\", null]}, "         \
    "\"nul\": null, \"e\": \"two\""

static void test_scalars_round_trip(void **state)
{
    TestScalars *obj;

    ROUND_TRIP(TestScalars, "{" SCALARS_OK "}");
    obj = INPUT(TestScalars, "{" SCALARS_OK "}");
    assert_string_equal(obj->s, "str");
    assert_int_equal(obj->i, -5);
    assert_int_equal(obj->i8, INT8_MIN);
    assert_int_equal(obj->i16, INT16_MAX);
    assert_int_equal(obj->i32, INT32_MIN);
    assert_true(obj->i64 == INT64_MAX);
    assert_int_equal(obj->u8, UINT8_MAX);
    assert_int_equal(obj->u16, UINT16_MAX);
    assert_true(obj->u32 == UINT32_MAX);
    assert_true(obj->u64 == INT64_MAX);
    assert_int_equal(obj->sz, 4096);
    assert_true(obj->num == 1.5);
    assert_true(obj->b);
    assert_true(json_is_object(obj->any));
    assert_true(json_is_null(obj->nul));
    assert_int_equal(obj->e, TEST_ENUM_TWO);
    qapi_free_TestScalars(obj);
}

static void test_scalars_conversions(void **state)
{
    /* An integer is a valid number; uint64 takes -1 as all ones. */
    TestScalars *obj = INPUT(TestScalars,
        "{\"s\": \"\", \"i\": 0, \"i8\": 0, \"i16\": 0, \"i32\": 0, "
        "\"i64\": 0, \"u8\": 0, \"u16\": 0, \"u32\": 0, \"u64\": -1, "
        "\"sz\": 0, \"num\": 3, \"b\": false, \"any\": 7, \"nul\": null, "
        "\"e\": \"three\"}");

    assert_true(obj->num == 3.0);
    assert_true(obj->u64 == UINT64_MAX);
    assert_int_equal(obj->e, TEST_ENUM_THREE);
    assert_string_equal(obj->s, "");
    qapi_free_TestScalars(obj);
}

static void test_builtin_lists(void **state)
{
    ROUND_TRIP(intList, "[1, -2, 3]");
    ROUND_TRIP(strList, "[\"a\", \"\", \"c\"]");
    ROUND_TRIP(boolList, "[true, false]");
    ROUND_TRIP(numberList, "[0.5, -2.25]");
    ROUND_TRIP(anyList, "[1, \"x\", {\"y\": []}, null]");
    ROUND_TRIP(nullList, "[null, null]");
    ROUND_TRIP(int8List, "[-128, 127]");
    ROUND_TRIP(int16List, "[-32768, 32767]");
    ROUND_TRIP(int32List, "[1]");
    ROUND_TRIP(int64List, "[-9223372036854775808]");
    ROUND_TRIP(uint8List, "[0, 255]");
    ROUND_TRIP(uint16List, "[65535]");
    ROUND_TRIP(uint32List, "[4294967295]");
    ROUND_TRIP(uint64List, "[0, 1]");
    ROUND_TRIP(sizeList, "[1024]");
    ROUND_TRIP(intList, "[]");
    ROUND_TRIP(TestEnumList, "[\"one\", \"three\"]");
}

static void test_nested_round_trip(void **state)
{
    TestNested *obj;

    ROUND_TRIP(TestNested,
               "{\"inner\": {\"a\": 1}, \"list\": [], \"ints\": []}");
    ROUND_TRIP(TestNested,
               "{\"inner\": {\"a\": 1, \"b\": \"x\", \"e\": \"one\", "
               "\"flag\": false}, "
               "\"list\": [{\"a\": 2}, {\"a\": 3, \"flag\": true}], "
               "\"opt\": {\"a\": 4}, \"ints\": [5, 6], "
               "\"strs\": [\"s\"], \"enums\": [\"two\"], "
               "\"sub\": {\"name\": \"included\"}}");
    obj = INPUT(TestNested,
                "{\"inner\": {\"a\": 1, \"flag\": false}, "
                "\"list\": [{\"a\": 2}, {\"a\": 3}], \"ints\": [7]}");
    assert_int_equal(obj->inner->a, 1);
    assert_null(obj->inner->b);
    assert_false(obj->inner->has_e);
    assert_true(obj->inner->has_flag);
    assert_false(obj->inner->flag);
    assert_null(obj->opt);
    assert_null(obj->strs);
    assert_int_equal(QAPI_LIST_LENGTH(obj->list), 2);
    assert_int_equal(obj->list->next->value->a, 3);
    assert_int_equal(obj->ints->value, 7);
    assert_null(obj->ints->next);
    qapi_free_TestNested(obj);
}

static void test_derived_round_trip(void **state)
{
    TestDerived *obj;

    ROUND_TRIP(TestDerived, "{\"base-a\": 1, \"c-name\": \"x\"}");
    ROUND_TRIP(TestDerived,
               "{\"base-a\": 1, \"c-name\": \"x\", \"default\": 2}");
    obj = INPUT(TestDerived,
                "{\"base-a\": 1, \"c-name\": \"x\", \"default\": 2}");
    assert_int_equal(qapi_TestDerived_base(obj)->base_a, 1);
    assert_string_equal(obj->c_name, "x");
    assert_true(obj->has_q_default);
    assert_int_equal(obj->q_default, 2);
    qapi_free_TestDerived(obj);
}

static void test_union_round_trip(void **state)
{
    TestUnion *obj;
    TestUnionHolder *holder;

    ROUND_TRIP(TestUnion, "{\"kind\": \"alpha\", \"x\": 1}");
    ROUND_TRIP(TestUnion, "{\"kind\": \"beta\", \"common\": 2, "
               "\"y\": [\"a\"], \"z\": {\"a\": 3}}");
    ROUND_TRIP(TestUnion, "{\"kind\": \"gamma\"}");
    ROUND_TRIP(TestNamedBaseUnion,
               "{\"kind\": \"gamma\", \"name\": \"n\", \"x\": 1}");
    ROUND_TRIP(TestUnionHolder,
               "{\"u\": {\"kind\": \"alpha\", \"x\": 1}, \"us\": "
               "[{\"kind\": \"beta\", \"name\": \"a\", \"y\": []}, "
               "{\"kind\": \"alpha\", \"name\": \"b\", \"x\": 2}]}");

    obj = INPUT(TestUnion, "{\"kind\": \"beta\", \"y\": [\"p\", \"q\"]}");
    assert_int_equal(obj->kind, TEST_UNION_TAG_BETA);
    assert_false(obj->has_common);
    assert_string_equal(obj->u.beta.y->next->value, "q");
    assert_null(obj->u.beta.z);
    qapi_free_TestUnion(obj);

    holder = INPUT(TestUnionHolder, "{\"u\": {\"kind\": \"gamma\"}}");
    assert_int_equal(holder->u->kind, TEST_UNION_TAG_GAMMA);
    assert_null(holder->us);
    qapi_free_TestUnionHolder(holder);
}

static void test_misc_round_trip(void **state)
{
    ROUND_TRIP(TestEmpty, "{}");
    ROUND_TRIP(TestFeatures, "{\"old\": 1, \"new\": 2}");
    ROUND_TRIP(TestFeatures, "{\"new\": 2}");
}

static void test_output_from_c(void **state)
{
    g_autoptr(TestInner) inner = g_new0(TestInner, 1);
    g_autoptr(TestNested) nested = g_new0(TestNested, 1);
    TestInnerList **tail = &nested->list;
    json_t *out;

    inner->a = 42;
    inner->has_e = true;
    inner->e = TEST_ENUM_ONE;
    out = OUTPUT(TestInner, inner);
    /* has_flag is false and b is NULL: both are left out. */
    assert_json_equal(out, "{\"a\": 42, \"e\": \"one\"}");
    json_decref(out);

    nested->inner = g_new0(TestInner, 1);
    nested->inner->b = g_strdup("bee");
    QAPI_LIST_APPEND(tail, g_new0(TestInner, 1));
    QAPI_LIST_APPEND(tail, g_new0(TestInner, 1));
    nested->list->next->value->a = 2;
    QAPI_LIST_PREPEND(nested->ints, 2);
    QAPI_LIST_PREPEND(nested->ints, 1);
    out = OUTPUT(TestNested, nested);
    assert_json_equal(out, "{\"inner\": {\"a\": 0, \"b\": \"bee\"}, "
                      "\"list\": [{\"a\": 0}, {\"a\": 2}], "
                      "\"ints\": [1, 2]}");
    json_decref(out);
}

static void test_output_bad_values(void **state)
{
    g_autoptr(TestInner) inner = g_new0(TestInner, 1);
    Error *err = NULL;
    json_t *out = NULL;
    Visitor *v;

    /* An enum value the schema does not know is refused, not printed. */
    inner->has_e = true;
    inner->e = TEST_ENUM__MAX;
    v = json_output_visitor_new(&out);
    assert_false(visit_type_TestInner(v, NULL, &inner, &err));
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err),
                        "Invalid enum value 3 for 'e'");
    error_free(err);
    visit_free(v);
    assert_null(out);
}

static void test_enums(void **state)
{
    Error *err = NULL;

    assert_string_equal(TestEnum_str(TEST_ENUM_THREE), "three");
    assert_null(TestEnum_str(TEST_ENUM__MAX));
    assert_null(TestEnum_str(-1));
    assert_int_equal(TEST_ENUM__MAX, 3);
    assert_string_equal(TestPrefixedEnum_str(TEST_PFX_VALUE_B), "value-b");
    assert_int_equal(qapi_enum_parse(&TestEnum_lookup, "two", -1, NULL),
                     TEST_ENUM_TWO);
    assert_int_equal(qapi_enum_parse(&TestEnum_lookup, NULL, 7, NULL), 7);
    assert_int_equal(qapi_enum_parse(&TestEnum_lookup, "four", -1, &err),
                     -1);
    assert_non_null(err);
    error_free(err);
    /* 'three' carries the 'deprecated' feature. */
    assert_int_equal(TestEnum_lookup.special_features[TEST_ENUM_THREE],
                     QAPI_DEPRECATED);
    assert_int_equal(TestEnum_lookup.special_features[TEST_ENUM_ONE], 0);
}

#define NESTED_TAIL ", \"list\": [], \"ints\": []}"

static void test_error_missing(void **state)
{
    INPUT_ERROR(TestNested, "{\"list\": [], \"ints\": []}",
                "Parameter 'inner' is missing");
    INPUT_ERROR(TestNested, "{\"inner\": {}" NESTED_TAIL,
                "Parameter 'inner.a' is missing");
    INPUT_ERROR(TestNested,
                "{\"inner\": {\"a\": 1, \"b\": \"leak me\"}, "
                "\"list\": [{\"a\": 1, \"b\": \"x\"}, {\"b\": \"y\"}], "
                "\"ints\": []}",
                "Parameter 'list[1].a' is missing");
    INPUT_ERROR(TestUnion, "{\"x\": 1}", "Parameter 'kind' is missing");
    INPUT_ERROR(TestUnion, "{\"kind\": \"alpha\"}",
                "Parameter 'x' is missing");
}

static void test_error_unexpected(void **state)
{
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1}, \"zz\": 1"
                NESTED_TAIL, "Parameter 'zz' is unexpected");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1, \"zz\": 1}"
                NESTED_TAIL, "Parameter 'inner.zz' is unexpected");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1}, \"list\": [{\"a\": 1},"
                " {\"a\": 2, \"q\": {}}], \"ints\": []}",
                "Parameter 'list[1].q' is unexpected");
    /* A member of another branch is not part of this one. */
    INPUT_ERROR(TestUnion, "{\"kind\": \"alpha\", \"x\": 1, \"y\": []}",
                "Parameter 'y' is unexpected");
    INPUT_ERROR(TestEmpty, "{\"a\": 1}", "Parameter 'a' is unexpected");
}

static void test_error_type(void **state)
{
    INPUT_ERROR(TestInner, "[]",
                "Invalid parameter type for '<anonymous>', "
                "expected: object");
    INPUT_ERROR(TestNested, "{\"inner\": 1" NESTED_TAIL,
                "Invalid parameter type for 'inner', expected: object");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": \"1\"}" NESTED_TAIL,
                "Invalid parameter type for 'inner.a', expected: integer");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1.5}" NESTED_TAIL,
                "Invalid parameter type for 'inner.a', expected: integer");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1, \"b\": 2}" NESTED_TAIL,
                "Invalid parameter type for 'inner.b', expected: string");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1, \"flag\": 1}"
                NESTED_TAIL,
                "Invalid parameter type for 'inner.flag', "
                "expected: boolean");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1}, \"list\": {}, "
                "\"ints\": []}",
                "Invalid parameter type for 'list', expected: array");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1}, \"list\": [], "
                "\"ints\": [1, 2, null]}",
                "Invalid parameter type for 'ints[2]', expected: integer");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1}, \"list\": [], "
                "\"ints\": [], \"strs\": [\"a\", \"b\", [\"c\"]]}",
                "Invalid parameter type for 'strs[2]', expected: string");
    INPUT_ERROR(TestUnionHolder,
                "{\"u\": {\"kind\": \"gamma\"}, \"us\": [{\"kind\": \"beta\","
                " \"name\": \"n\", \"y\": [\"a\"], \"z\": {\"a\": true}}]}",
                "Invalid parameter type for 'us[0].z.a', expected: integer");
    INPUT_ERROR(TestScalars, "{\"s\": \"s\", \"i\": 0, \"i8\": 0, "
                "\"i16\": 0, \"i32\": 0, \"i64\": 0, \"u8\": 0, "
                "\"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": 0, "
                "\"num\": \"1\"}",
                "Invalid parameter type for 'num', expected: number");
    INPUT_ERROR(TestScalars, "{\"s\": \"s\", \"i\": 0, \"i8\": 0, "
                "\"i16\": 0, \"i32\": 0, \"i64\": 0, \"u8\": 0, "
                "\"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": 0, "
                "\"num\": 1, \"b\": true, \"any\": 1, \"nul\": 0}",
                "Invalid parameter type for 'nul', expected: null");
    INPUT_ERROR(TestScalars, "{\"s\": \"s\", \"i\": 0, \"i8\": 0, "
                "\"i16\": 0, \"i32\": 0, \"i64\": 0, \"u8\": 0, "
                "\"u16\": 0, \"u32\": 0, \"u64\": \"x\"}",
                "Parameter 'u64' expects uint64");
    INPUT_ERROR(TestScalars, "{\"s\": \"s\", \"i\": 0, \"i8\": 0, "
                "\"i16\": 0, \"i32\": 0, \"i64\": 0, \"u8\": 0, "
                "\"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": true}",
                "Parameter 'sz' expects uint64");
}

#define SCALARS_HEAD "{\"s\": \"leak me\", \"i\": 0, "

static void test_error_range(void **state)
{
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 128}",
                "Parameter 'i8' expects int8_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": -129}",
                "Parameter 'i8' expects int8_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 0, \"i16\": 32768}",
                "Parameter 'i16' expects int16_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 0, \"i16\": 0, "
                "\"i32\": 2147483648}", "Parameter 'i32' expects int32_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 0, \"i16\": 0, "
                "\"i32\": 0, \"i64\": 0, \"u8\": 256}",
                "Parameter 'u8' expects uint8_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 0, \"i16\": 0, "
                "\"i32\": 0, \"i64\": 0, \"u8\": -1}",
                "Parameter 'u8' expects uint8_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 0, \"i16\": 0, "
                "\"i32\": 0, \"i64\": 0, \"u8\": 0, \"u16\": 65536}",
                "Parameter 'u16' expects uint16_t");
    INPUT_ERROR(TestScalars, SCALARS_HEAD "\"i8\": 0, \"i16\": 0, "
                "\"i32\": 0, \"i64\": 0, \"u8\": 0, \"u16\": 0, "
                "\"u32\": 4294967296}", "Parameter 'u32' expects uint32_t");
    INPUT_ERROR(int8List, "[1, 300]", "Parameter 'null' expects int8_t");
}

static void test_error_enum(void **state)
{
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1, \"e\": \"four\"}"
                NESTED_TAIL,
                "Parameter 'e' does not accept value 'four'");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1, \"e\": 1}" NESTED_TAIL,
                "Invalid parameter type for 'inner.e', expected: string");
    INPUT_ERROR(TestNested, "{\"inner\": {\"a\": 1}, \"list\": [], "
                "\"ints\": [], \"enums\": [\"one\", \"One\"]}",
                "Parameter 'null' does not accept value 'One'");
    /* The discriminator is an enum: an unknown branch is a bad value. */
    INPUT_ERROR(TestUnion, "{\"kind\": \"delta\"}",
                "Parameter 'kind' does not accept value 'delta'");
    INPUT_ERROR(TestUnion, "{\"kind\": 1}",
                "Invalid parameter type for 'kind', expected: string");
    INPUT_ERROR(TestUnionHolder, "{\"u\": {\"kind\": \"alpha\", \"x\": 1}, "
                "\"us\": [{\"kind\": \"alpha\", \"name\": \"a\", \"x\": 1}, "
                "{\"kind\": \"zeta\", \"name\": \"b\"}]}",
                "Parameter 'kind' does not accept value 'zeta'");
}

/* Failures deep inside lists of unions free everything built so far. */
static void test_error_partial_cleanup(void **state)
{
    INPUT_ERROR(TestUnionHolder,
                "{\"u\": {\"kind\": \"beta\", \"y\": [\"a\", \"b\"], "
                "\"z\": {\"a\": 1, \"b\": \"c\"}}, "
                "\"us\": [{\"kind\": \"beta\", \"name\": \"x\", "
                "\"y\": [\"p\", \"q\"]}, {\"kind\": \"beta\", "
                "\"name\": \"y\", \"y\": [\"r\", 5]}]}",
                "Invalid parameter type for 'us[1].y[1]', "
                "expected: string");
    INPUT_ERROR(TestScalars, "{\"s\": \"s\", \"i\": 0, \"i8\": 0, "
                "\"i16\": 0, \"i32\": 0, \"i64\": 0, \"u8\": 0, "
                "\"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": 0, "
                "\"num\": 1, \"b\": true, \"any\": [1, 2], \"nul\": null, "
                "\"e\": \"bad\"}",
                "Parameter 'e' does not accept value 'bad'");
}

static void test_alternate(void **state)
{
    TestAlternateHolder *holder;
    TestOtherAlternate *other;

    ROUND_TRIP(TestAlternate, "1");
    ROUND_TRIP(TestAlternate, "\"s\"");
    ROUND_TRIP(TestAlternate, "{\"a\": 1, \"b\": \"x\"}");
    ROUND_TRIP(TestAlternate, "false");
    ROUND_TRIP(TestAlternate, "null");
    ROUND_TRIP(TestOtherAlternate, "\"two\"");
    ROUND_TRIP(TestOtherAlternate, "2.5");
    ROUND_TRIP(TestOtherAlternate, "{\"kind\": \"alpha\", \"x\": 1}");
    ROUND_TRIP(TestAlternateHolder,
               "{\"a\": \"x\", \"opt\": 1.5, "
               "\"list\": [1, \"y\", {\"a\": 2}, true, null]}");

    holder = INPUT(TestAlternateHolder,
                   "{\"a\": {\"a\": 7}, \"list\": [3, \"z\"]}");
    assert_int_equal(holder->a->type, QTYPE_QDICT);
    assert_int_equal(holder->a->u.o->a, 7);
    assert_null(holder->opt);
    assert_int_equal(holder->list->value->type, QTYPE_QNUM);
    assert_int_equal(holder->list->value->u.i, 3);
    assert_int_equal(holder->list->next->value->type, QTYPE_QSTRING);
    assert_string_equal(holder->list->next->value->u.s, "z");
    qapi_free_TestAlternateHolder(holder);

    /* An integer is a valid number. */
    other = INPUT(TestOtherAlternate, "3");
    assert_int_equal(other->type, QTYPE_QNUM);
    assert_true(other->u.num == 3.0);
    qapi_free_TestOtherAlternate(other);
}

static void test_alternate_errors(void **state)
{
    INPUT_ERROR(TestAlternate, "[1]",
                "Invalid parameter type for '<anonymous>', "
                "expected: TestAlternate");
    INPUT_ERROR(TestAlternateHolder, "{\"list\": [1]}",
                "Parameter 'a' is missing");
    INPUT_ERROR(TestAlternateHolder, "{\"a\": 1, \"list\": [1, []]}",
                "Invalid parameter type for 'list[1]', "
                "expected: TestAlternate");
    INPUT_ERROR(TestAlternateHolder, "{\"a\": 1.5}",
                "Invalid parameter type for 'a', expected: integer");
    INPUT_ERROR(TestAlternateHolder, "{\"a\": {\"b\": \"leak\"}}",
                "Parameter 'a.a' is missing");
    INPUT_ERROR(TestAlternateHolder, "{\"a\": 1, \"opt\": \"four\"}",
                "Parameter 'opt' does not accept value 'four'");
    INPUT_ERROR(TestAlternateHolder, "{\"a\": 1, \"opt\": false}",
                "Invalid parameter type for 'opt', "
                "expected: TestOtherAlternate");
    INPUT_ERROR(TestAlternateHolder, "{\"a\": 1, \"opt\": "
                "{\"kind\": \"beta\", \"y\": [\"a\", {}]}}",
                "Invalid parameter type for 'opt.y[1]', expected: string");
}

static void test_dealloc(void **state)
{
    TestNested *obj = INPUT(TestNested,
                            "{\"inner\": {\"a\": 1, \"b\": \"x\"}, "
                            "\"list\": [{\"a\": 1, \"b\": \"y\"}], "
                            "\"ints\": [1], \"strs\": [\"z\"]}");
    Visitor *v = dealloc_visitor_new();

    /* Freeing through the visitor clears the pointer it was given. */
    assert_true(visit_type_TestNested(v, NULL, &obj, NULL));
    assert_null(obj);
    visit_free(v);
    qapi_free_TestNested(NULL);
    qapi_free_intList(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_round_trip),
        cmocka_unit_test(test_scalars_conversions),
        cmocka_unit_test(test_builtin_lists),
        cmocka_unit_test(test_nested_round_trip),
        cmocka_unit_test(test_derived_round_trip),
        cmocka_unit_test(test_union_round_trip),
        cmocka_unit_test(test_misc_round_trip),
        cmocka_unit_test(test_output_from_c),
        cmocka_unit_test(test_output_bad_values),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_error_missing),
        cmocka_unit_test(test_error_unexpected),
        cmocka_unit_test(test_error_type),
        cmocka_unit_test(test_error_range),
        cmocka_unit_test(test_error_enum),
        cmocka_unit_test(test_error_partial_cleanup),
        cmocka_unit_test(test_alternate),
        cmocka_unit_test(test_alternate_errors),
        cmocka_unit_test(test_dealloc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
