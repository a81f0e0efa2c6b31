/*
 * Output visitor building a jansson value.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>

#include "qapi/json-output-visitor.h"
#include "qapi/visitor-impl.h"

typedef struct JsonOutputVisitor {
    Visitor visitor;
    json_t *root;           /* owned until visit_complete() hands it out */
    GPtrArray *stack;       /* open objects and arrays (borrowed) */
} JsonOutputVisitor;

static JsonOutputVisitor *to_ov(Visitor *v)
{
    return (JsonOutputVisitor *)v;
}

/* Store @value (a new reference, consumed) as member @name. */
static void output_add(JsonOutputVisitor *ov, const char *name,
                       json_t *value)
{
    json_t *parent;

    if (!ov->stack->len) {
        json_decref(ov->root);
        ov->root = value;
        return;
    }
    parent = g_ptr_array_index(ov->stack, ov->stack->len - 1);
    if (json_is_array(parent)) {
        json_array_append_new(parent, value);
    } else {
        json_object_set_new(parent, name, value);
    }
}

static bool output_start_container(JsonOutputVisitor *ov, const char *name,
                                   json_t *container)
{
    output_add(ov, name, container);
    g_ptr_array_add(ov->stack, container);
    return true;
}

static bool output_start_struct(Visitor *v, const char *name, void **obj,
                                size_t size, Error **errp)
{
    return output_start_container(to_ov(v), name, json_object());
}

static void output_end_container(Visitor *v, void **obj)
{
    JsonOutputVisitor *ov = to_ov(v);

    g_ptr_array_remove_index(ov->stack, ov->stack->len - 1);
}

static bool output_start_list(Visitor *v, const char *name,
                              GenericList **list, size_t size, Error **errp)
{
    return output_start_container(to_ov(v), name, json_array());
}

static GenericList *output_next_list(Visitor *v, GenericList *tail,
                                     size_t size)
{
    return tail->next;
}

static bool output_type_int64(Visitor *v, const char *name, int64_t *obj,
                              Error **errp)
{
    output_add(to_ov(v), name, json_integer(*obj));
    return true;
}

static bool output_type_uint64(Visitor *v, const char *name, uint64_t *obj,
                               Error **errp)
{
    /*
     * jansson integers are signed 64 bits: values above INT64_MAX come
     * out as (inexact) numbers rather than as wrong negative integers.
     */
    if (*obj > INT64_MAX) {
        output_add(to_ov(v), name, json_real((double)*obj));
    } else {
        output_add(to_ov(v), name, json_integer((json_int_t)*obj));
    }
    return true;
}

static bool output_type_bool(Visitor *v, const char *name, bool *obj,
                             Error **errp)
{
    output_add(to_ov(v), name, json_boolean(*obj));
    return true;
}

static bool output_type_str(Visitor *v, const char *name, char **obj,
                            Error **errp)
{
    json_t *value = json_string(*obj ? *obj : "");

    if (!value) {
        error_setg(errp, "Parameter '%s' is not valid UTF-8",
                   name ? name : "null");
        return false;
    }
    output_add(to_ov(v), name, value);
    return true;
}

static bool output_type_number(Visitor *v, const char *name, double *obj,
                               Error **errp)
{
    if (!isfinite(*obj)) {
        /* JSON has no representation for these. */
        error_setg(errp, "Parameter '%s' is not a finite number",
                   name ? name : "null");
        return false;
    }
    output_add(to_ov(v), name, json_real(*obj));
    return true;
}

static bool output_type_any(Visitor *v, const char *name, json_t **obj,
                            Error **errp)
{
    output_add(to_ov(v), name, *obj ? json_incref(*obj) : json_null());
    return true;
}

static bool output_type_null(Visitor *v, const char *name, json_t **obj,
                             Error **errp)
{
    output_add(to_ov(v), name, json_null());
    return true;
}

static void output_complete(Visitor *v, void *opaque)
{
    JsonOutputVisitor *ov = to_ov(v);
    json_t **result = opaque;

    *result = json_incref(ov->root);
}

static void output_free(Visitor *v)
{
    JsonOutputVisitor *ov = to_ov(v);

    json_decref(ov->root);
    g_ptr_array_free(ov->stack, true);
    g_free(ov);
}

Visitor *json_output_visitor_new(json_t **result)
{
    JsonOutputVisitor *ov = g_new0(JsonOutputVisitor, 1);

    ov->visitor = (Visitor) {
        .type = VISITOR_OUTPUT,
        .start_struct = output_start_struct,
        .end_struct = output_end_container,
        .start_list = output_start_list,
        .next_list = output_next_list,
        .end_list = output_end_container,
        .type_int64 = output_type_int64,
        .type_uint64 = output_type_uint64,
        .type_bool = output_type_bool,
        .type_str = output_type_str,
        .type_number = output_type_number,
        .type_any = output_type_any,
        .type_null = output_type_null,
        .complete = output_complete,
        .free = output_free,
    };
    ov->stack = g_ptr_array_new();
    *result = NULL;
    return &ov->visitor;
}
