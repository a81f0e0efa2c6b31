/*
 * Dealloc visitor: frees what an input visitor allocated, also when the
 * input visit stopped half way (members are then zero or NULL).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qapi/dealloc-visitor.h"
#include "qapi/visitor-impl.h"

static bool dealloc_start_struct(Visitor *v, const char *name, void **obj,
                                 size_t size, Error **errp)
{
    return true;
}

static void dealloc_end_struct(Visitor *v, void **obj)
{
    if (obj) {
        g_free(*obj);
        *obj = NULL;
    }
}

static bool dealloc_start_list(Visitor *v, const char *name,
                               GenericList **list, size_t size,
                               Error **errp)
{
    return true;
}

/* The node is freed once its value has been: hand out the next one. */
static GenericList *dealloc_next_list(Visitor *v, GenericList *tail,
                                      size_t size)
{
    GenericList *next = tail->next;

    g_free(tail);
    return next;
}

static void dealloc_end_list(Visitor *v, void **list)
{
    if (list) {
        *list = NULL;
    }
}

static bool dealloc_type_int64(Visitor *v, const char *name, int64_t *obj,
                               Error **errp)
{
    return true;
}

static bool dealloc_type_uint64(Visitor *v, const char *name, uint64_t *obj,
                                Error **errp)
{
    return true;
}

static bool dealloc_type_bool(Visitor *v, const char *name, bool *obj,
                              Error **errp)
{
    return true;
}

static bool dealloc_type_str(Visitor *v, const char *name, char **obj,
                             Error **errp)
{
    g_free(*obj);
    *obj = NULL;
    return true;
}

static bool dealloc_type_number(Visitor *v, const char *name, double *obj,
                                Error **errp)
{
    return true;
}

static bool dealloc_type_json(Visitor *v, const char *name, json_t **obj,
                              Error **errp)
{
    json_decref(*obj);
    *obj = NULL;
    return true;
}

static void dealloc_free(Visitor *v)
{
    g_free(v);
}

Visitor *dealloc_visitor_new(void)
{
    Visitor *v = g_new0(Visitor, 1);

    *v = (Visitor) {
        .type = VISITOR_DEALLOC,
        .start_struct = dealloc_start_struct,
        .end_struct = dealloc_end_struct,
        .end_alternate = dealloc_end_struct,
        .start_list = dealloc_start_list,
        .next_list = dealloc_next_list,
        .end_list = dealloc_end_list,
        .type_int64 = dealloc_type_int64,
        .type_uint64 = dealloc_type_uint64,
        .type_bool = dealloc_type_bool,
        .type_str = dealloc_type_str,
        .type_number = dealloc_type_number,
        .type_any = dealloc_type_json,
        .type_null = dealloc_type_json,
        .free = dealloc_free,
    };
    return v;
}
