/*
 * Input visitor over a jansson value.
 *
 * Error messages name the member with its full path from the root
 * ("a.b[1].c"), as QEMU's QMP does, so a client can find the culprit
 * in a deeply nested request.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qapi/json-input-visitor.h"
#include "qapi/visitor-impl.h"

/* One object or array being visited. */
typedef struct InputFrame {
    json_t *value;
    const char *name;       /* how the parent calls it; NULL in a list */
    size_t index;           /* arrays: the element being visited */
    GHashTable *visited;    /* objects: the member names already taken */
} InputFrame;

typedef struct JsonInputVisitor {
    Visitor visitor;
    json_t *root;
    GArray *stack;          /* of InputFrame, innermost last */
} JsonInputVisitor;

static JsonInputVisitor *to_iv(Visitor *v)
{
    return (JsonInputVisitor *)v;
}

static InputFrame *top_frame(JsonInputVisitor *iv)
{
    if (!iv->stack->len) {
        return NULL;
    }
    return &g_array_index(iv->stack, InputFrame, iv->stack->len - 1);
}

static void append_step(GString *path, const InputFrame *parent,
                        const char *name)
{
    if (parent && json_is_array(parent->value)) {
        g_string_append_printf(path, "[%zu]", parent->index);
    } else if (name) {
        if (path->len) {
            g_string_append_c(path, '.');
        }
        g_string_append(path, name);
    }
}

static char *input_member_path(Visitor *v, const char *name)
{
    JsonInputVisitor *iv = to_iv(v);
    GString *path = g_string_new("");
    guint i;

    for (i = 1; i < iv->stack->len; i++) {
        append_step(path, &g_array_index(iv->stack, InputFrame, i - 1),
                    g_array_index(iv->stack, InputFrame, i).name);
    }
    append_step(path, top_frame(iv), name);
    if (!path->len) {
        g_string_append(path, "<anonymous>");
    }
    return g_string_free(path, false);
}

/*
 * The value of member @name of the innermost object, or the current
 * element of the innermost array; the root value when nothing has been
 * entered yet.  NULL when the member is absent.
 */
static json_t *input_peek(JsonInputVisitor *iv, const char *name)
{
    InputFrame *frame = top_frame(iv);

    if (!frame) {
        return iv->root;
    }
    if (json_is_array(frame->value)) {
        return json_array_get(frame->value, frame->index);
    }
    return json_object_get(frame->value, name);
}

static json_t *input_take(JsonInputVisitor *iv, const char *name,
                          Error **errp)
{
    json_t *value = input_peek(iv, name);
    InputFrame *frame = top_frame(iv);

    if (!value) {
        g_autofree char *path = input_member_path(&iv->visitor, name);

        error_setg(errp, "Parameter '%s' is missing", path);
        return NULL;
    }
    if (frame && frame->visited) {
        g_hash_table_add(frame->visited, (gpointer)name);
    }
    return value;
}

static void type_error(JsonInputVisitor *iv, const char *name,
                       const char *expected, Error **errp)
{
    g_autofree char *path = input_member_path(&iv->visitor, name);

    error_setg(errp, "Invalid parameter type for '%s', expected: %s",
               path, expected);
}

static void push_frame(JsonInputVisitor *iv, json_t *value,
                       const char *name)
{
    InputFrame frame = {
        .value = value,
        .name = name,
        .visited = json_is_object(value)
                   ? g_hash_table_new(g_str_hash, g_str_equal) : NULL,
    };

    g_array_append_val(iv->stack, frame);
}

static void pop_frame(JsonInputVisitor *iv)
{
    InputFrame *frame = top_frame(iv);

    if (frame->visited) {
        g_hash_table_destroy(frame->visited);
    }
    g_array_set_size(iv->stack, iv->stack->len - 1);
}

static bool input_start_struct(Visitor *v, const char *name, void **obj,
                               size_t size, Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    if (obj) {
        *obj = NULL;
    }
    if (!value) {
        return false;
    }
    if (!json_is_object(value)) {
        type_error(iv, name, "object", errp);
        return false;
    }
    push_frame(iv, value, name);
    if (obj) {
        *obj = g_malloc0(size);
    }
    return true;
}

static bool input_check_struct(Visitor *v, Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    InputFrame *frame = top_frame(iv);
    const char *key;
    json_t *value;

    /* jansson keeps insertion order: the first stray member is named. */
    json_object_foreach(frame->value, key, value) {
        if (!g_hash_table_contains(frame->visited, key)) {
            g_autofree char *path = input_member_path(v, key);

            error_setg(errp, "Parameter '%s' is unexpected", path);
            return false;
        }
    }
    return true;
}

static void input_end_struct(Visitor *v, void **obj)
{
    pop_frame(to_iv(v));
}

static QType json_qtype(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return QTYPE_QDICT;
    case JSON_ARRAY:
        return QTYPE_QLIST;
    case JSON_STRING:
        return QTYPE_QSTRING;
    case JSON_INTEGER:
    case JSON_REAL:
        return QTYPE_QNUM;
    case JSON_TRUE:
    case JSON_FALSE:
        return QTYPE_QBOOL;
    case JSON_NULL:
        return QTYPE_QNULL;
    }
    return QTYPE_NONE;
}

/* Peek only: the branch visit that follows takes the member. */
static bool input_start_alternate(Visitor *v, const char *name,
                                  GenericAlternate **obj, size_t size,
                                  unsigned qtypes, const char *type_name,
                                  Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_peek(iv, name);
    QType qtype;

    *obj = NULL;
    if (!value) {
        g_autofree char *path = input_member_path(v, name);

        error_setg(errp, "Parameter '%s' is missing", path);
        return false;
    }
    qtype = json_qtype(value);
    if (!(qtypes & (1u << qtype))) {
        type_error(iv, name, type_name, errp);
        return false;
    }
    *obj = g_malloc0(size);
    (*obj)->type = qtype;
    return true;
}

static GenericList *new_node(size_t size)
{
    return g_malloc0(size);
}

static bool input_start_list(Visitor *v, const char *name,
                             GenericList **list, size_t size, Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    if (list) {
        *list = NULL;
    }
    if (!value) {
        return false;
    }
    if (!json_is_array(value)) {
        type_error(iv, name, "array", errp);
        return false;
    }
    push_frame(iv, value, name);
    if (list && json_array_size(value)) {
        *list = new_node(size);
    }
    return true;
}

static GenericList *input_next_list(Visitor *v, GenericList *tail,
                                    size_t size)
{
    InputFrame *frame = top_frame(to_iv(v));

    frame->index++;
    if (frame->index >= json_array_size(frame->value)) {
        return NULL;
    }
    tail->next = new_node(size);
    return tail->next;
}

static void input_end_list(Visitor *v, void **list)
{
    pop_frame(to_iv(v));
}

static bool input_type_int64(Visitor *v, const char *name, int64_t *obj,
                             Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    if (!value) {
        return false;
    }
    if (!json_is_integer(value)) {
        type_error(iv, name, "integer", errp);
        return false;
    }
    *obj = json_integer_value(value);
    return true;
}

static bool input_type_uint64(Visitor *v, const char *name, uint64_t *obj,
                              Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    if (!value) {
        return false;
    }
    if (!json_is_integer(value)) {
        g_autofree char *path = input_member_path(v, name);

        error_setg(errp, "Parameter '%s' expects uint64", path);
        return false;
    }
    /*
     * QEMU accepts negative numbers here and wraps them; clients rely
     * on -1 meaning "all ones", so do the same.
     */
    *obj = (uint64_t)json_integer_value(value);
    return true;
}

static bool input_type_bool(Visitor *v, const char *name, bool *obj,
                            Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    if (!value) {
        return false;
    }
    if (!json_is_boolean(value)) {
        type_error(iv, name, "boolean", errp);
        return false;
    }
    *obj = json_is_true(value);
    return true;
}

static bool input_type_str(Visitor *v, const char *name, char **obj,
                           Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    *obj = NULL;
    if (!value) {
        return false;
    }
    if (!json_is_string(value)) {
        type_error(iv, name, "string", errp);
        return false;
    }
    *obj = g_strndup(json_string_value(value), json_string_length(value));
    return true;
}

static bool input_type_number(Visitor *v, const char *name, double *obj,
                              Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    if (!value) {
        return false;
    }
    if (!json_is_number(value)) {
        type_error(iv, name, "number", errp);
        return false;
    }
    *obj = json_number_value(value);
    return true;
}

static bool input_type_any(Visitor *v, const char *name, json_t **obj,
                           Error **errp)
{
    json_t *value = input_take(to_iv(v), name, errp);

    *obj = value ? json_incref(value) : NULL;
    return value != NULL;
}

static bool input_type_null(Visitor *v, const char *name, json_t **obj,
                            Error **errp)
{
    JsonInputVisitor *iv = to_iv(v);
    json_t *value = input_take(iv, name, errp);

    *obj = NULL;
    if (!value) {
        return false;
    }
    if (!json_is_null(value)) {
        type_error(iv, name, "null", errp);
        return false;
    }
    *obj = json_null();
    return true;
}

static bool input_optional(Visitor *v, const char *name, bool *present)
{
    *present = input_peek(to_iv(v), name) != NULL;
    return *present;
}

static void input_free(Visitor *v)
{
    JsonInputVisitor *iv = to_iv(v);

    /* A visit abandoned half way leaves frames behind. */
    while (iv->stack->len) {
        pop_frame(iv);
    }
    g_array_free(iv->stack, true);
    g_free(iv);
}

Visitor *json_input_visitor_new(json_t *root)
{
    JsonInputVisitor *iv = g_new0(JsonInputVisitor, 1);

    iv->visitor = (Visitor) {
        .type = VISITOR_INPUT,
        .start_struct = input_start_struct,
        .check_struct = input_check_struct,
        .end_struct = input_end_struct,
        .start_alternate = input_start_alternate,
        .start_list = input_start_list,
        .next_list = input_next_list,
        .end_list = input_end_list,
        .type_int64 = input_type_int64,
        .type_uint64 = input_type_uint64,
        .type_bool = input_type_bool,
        .type_str = input_type_str,
        .type_number = input_type_number,
        .type_any = input_type_any,
        .type_null = input_type_null,
        .optional = input_optional,
        .free = input_free,
    };
    iv->root = root;
    iv->stack = g_array_new(false, false, sizeof(InputFrame));
    return &iv->visitor;
}
