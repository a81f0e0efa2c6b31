/*
 * Introspection: query-qmp-schema of the real schema, read back through
 * the generated SchemaInfo visitors (so its shape is checked by the
 * schema it describes), and the data generated for the test schema.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qapi/json-input-visitor.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-visit.h"
#include "test-qapi-introspect.h"

/* Index of a schema: name -> json_t entry (borrowed). */
static GHashTable *index_schema(json_t *schema)
{
    GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i;
    json_t *entry;

    json_array_foreach(schema, i, entry) {
        const char *name = json_string_value(json_object_get(entry,
                                                             "name"));

        assert_non_null(name);
        assert_false(g_hash_table_contains(by_name, name));
        g_hash_table_insert(by_name, (gpointer)name, entry);
    }
    return by_name;
}

static json_t *lookup(GHashTable *by_name, const char *name)
{
    json_t *entry = g_hash_table_lookup(by_name, name);

    if (!entry) {
        fail_msg("'%s' is not in the schema", name);
    }
    return entry;
}

static const char *str_member(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Every type an entry refers to is described too. */
static void check_closed(GHashTable *by_name, json_t *schema)
{
    static const char *const refs[] = {
        "arg-type", "ret-type", "element-type",
    };
    size_t i, j, k;
    json_t *entry, *member;

    json_array_foreach(schema, i, entry) {
        for (k = 0; k < G_N_ELEMENTS(refs); k++) {
            const char *ref = str_member(entry, refs[k]);

            if (ref) {
                lookup(by_name, ref);
            }
        }
        json_array_foreach(json_object_get(entry, "members"), j, member) {
            if (json_object_get(member, "type")) {
                lookup(by_name, str_member(member, "type"));
            }
        }
        json_array_foreach(json_object_get(entry, "variants"), j, member) {
            lookup(by_name, str_member(member, "type"));
        }
    }
}

static json_t *member_named(json_t *object, const char *name)
{
    size_t i;
    json_t *member;

    json_array_foreach(json_object_get(object, "members"), i, member) {
        if (!strcmp(str_member(member, "name"), name)) {
            return member;
        }
    }
    fail_msg("no member '%s'", name);
    return NULL;
}

static void test_query_qmp_schema(void **state)
{
    json_t *schema = NULL, *entry, *obj, *member;
    SchemaInfoList *infos = NULL, *elem;
    GHashTable *by_name;
    Error *err = NULL;
    Visitor *v;
    int commands = 0;

    qmp_query_qmp_schema(NULL, &schema, &error_abort);
    assert_true(json_is_array(schema));

    /* The result is a valid [SchemaInfo]. */
    v = json_input_visitor_new(schema);
    assert_true(visit_type_SchemaInfoList(v, NULL, &infos, &error_abort));
    visit_free(v);
    for (elem = infos; elem; elem = elem->next) {
        if (elem->value->meta_type == SCHEMA_META_TYPE_COMMAND) {
            commands++;
            assert_non_null(elem->value->u.command.arg_type);
        }
    }
    /* At least the control and trace commands; other schema files add more. */
    assert_true(commands >= 8);
    qapi_free_SchemaInfoList(infos);

    by_name = index_schema(schema);
    check_closed(by_name, schema);

    entry = lookup(by_name, "query-version");
    assert_string_equal(str_member(entry, "meta-type"), "command");
    obj = lookup(by_name, str_member(entry, "ret-type"));
    /* Type names are masked. */
    assert_true(g_ascii_isdigit(str_member(obj, "name")[0]));
    member = member_named(obj, "qemu");
    obj = lookup(by_name, str_member(member, "type"));
    assert_string_equal(str_member(member_named(obj, "micro"), "type"),
                        "int");

    entry = lookup(by_name, "trace-event-set-state");
    obj = lookup(by_name, str_member(entry, "arg-type"));
    member = member_named(obj, "ignore-unavailable");
    assert_true(json_is_null(json_object_get(member, "default")));
    assert_string_equal(str_member(member, "type"), "bool");
    assert_null(json_object_get(member_named(obj, "name"), "default"));

    entry = lookup(by_name, "SHUTDOWN");
    assert_string_equal(str_member(entry, "meta-type"), "event");
    obj = lookup(by_name, str_member(entry, "arg-type"));
    member = member_named(obj, "reason");
    obj = lookup(by_name, str_member(member, "type"));
    assert_string_equal(str_member(obj, "meta-type"), "enum");
    assert_int_equal(json_array_size(json_object_get(obj, "values")), 11);

    entry = lookup(by_name, "query-qmp-schema");
    obj = lookup(by_name, str_member(entry, "ret-type"));
    assert_string_equal(str_member(obj, "meta-type"), "array");
    obj = lookup(by_name, str_member(obj, "element-type"));
    assert_string_equal(str_member(obj, "tag"), "meta-type");
    assert_int_equal(json_array_size(json_object_get(obj, "variants")), 7);

    /* Arguments are refused like for any other command. */
    {
        json_t *args = json_pack("{s:i}", "x", 1);
        json_t *ret = NULL;

        qmp_query_qmp_schema(args, &ret, &err);
        assert_null(ret);
        assert_string_equal(error_get_pretty(err),
                            "Parameter 'x' is unexpected");
        error_free(err);
        json_decref(args);
    }

    g_hash_table_destroy(by_name);
    json_decref(schema);
}

static void test_test_schema(void **state)
{
    json_error_t jerr;
    json_t *schema = json_loads(test_qmp_schema_json, 0, &jerr);
    json_t *entry, *obj, *member, *features;
    GHashTable *by_name;

    assert_non_null(schema);
    by_name = index_schema(schema);
    check_closed(by_name, schema);

    entry = lookup(by_name, "test-oob");
    assert_true(json_is_true(json_object_get(entry, "allow-oob")));
    assert_null(json_object_get(lookup(by_name, "test-add"), "allow-oob"));

    entry = lookup(by_name, "test-deprecated");
    features = json_object_get(entry, "features");
    assert_int_equal(json_array_size(features), 2);
    assert_string_equal(json_string_value(json_array_get(features, 0)),
                        "deprecated");

    /* Boxed union arguments: the union itself is the argument type. */
    entry = lookup(by_name, "test-echo-union");
    obj = lookup(by_name, str_member(entry, "arg-type"));
    assert_string_equal(str_member(obj, "tag"), "kind");
    member = member_named(obj, "common");
    assert_true(json_is_null(json_object_get(member, "default")));

    /* Events without data use the empty object type. */
    entry = lookup(by_name, "TEST_EVENT_A");
    obj = lookup(by_name, str_member(entry, "arg-type"));
    assert_int_equal(json_array_size(json_object_get(obj, "members")), 0);

    /* Builtin integer types all show as 'int' on the wire. */
    entry = lookup(by_name, "test-add");
    obj = lookup(by_name, str_member(entry, "arg-type"));
    assert_string_equal(str_member(member_named(obj, "b"), "type"), "int");
    obj = lookup(by_name, "int");
    assert_string_equal(str_member(obj, "json-type"), "int");

    /* Alternates list their branch types. */
    entry = lookup(by_name, "test-alternate");
    obj = lookup(by_name, str_member(entry, "arg-type"));
    obj = lookup(by_name, str_member(member_named(obj, "a"), "type"));
    assert_string_equal(str_member(obj, "meta-type"), "alternate");
    member = json_object_get(obj, "members");
    assert_int_equal(json_array_size(member), 5);
    assert_string_equal(str_member(json_array_get(member, 0), "type"),
                        "int");
    assert_string_equal(str_member(json_array_get(member, 4), "type"),
                        "null");

    g_hash_table_destroy(by_name);
    json_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_qmp_schema),
        cmocka_unit_test(test_test_schema),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
