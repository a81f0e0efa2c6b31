/*
 * The visitor core: dispatch to the implementation, and the checks every
 * input visitor shares (integer ranges, enum names).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qapi/visitor-impl.h"

VisitorType visit_get_type(const Visitor *v)
{
    return v->type;
}

bool visit_start_struct(Visitor *v, const char *name, void **obj,
                        size_t size, Error **errp)
{
    return v->start_struct(v, name, obj, size, errp);
}

bool visit_check_struct(Visitor *v, Error **errp)
{
    return v->check_struct ? v->check_struct(v, errp) : true;
}

void visit_end_struct(Visitor *v, void **obj)
{
    v->end_struct(v, obj);
}

bool visit_start_list(Visitor *v, const char *name, GenericList **list,
                      size_t size, Error **errp)
{
    return v->start_list(v, name, list, size, errp);
}

GenericList *visit_next_list(Visitor *v, GenericList *tail, size_t size)
{
    return v->next_list(v, tail, size);
}

bool visit_check_list(Visitor *v, Error **errp)
{
    return v->check_list ? v->check_list(v, errp) : true;
}

void visit_end_list(Visitor *v, void **list)
{
    v->end_list(v, list);
}

bool visit_start_alternate(Visitor *v, const char *name,
                           GenericAlternate **obj, size_t size,
                           unsigned qtypes, const char *type_name,
                           Error **errp)
{
    if (!v->start_alternate) {
        return true;
    }
    return v->start_alternate(v, name, obj, size, qtypes, type_name, errp);
}

void visit_end_alternate(Visitor *v, void **obj)
{
    if (v->end_alternate) {
        v->end_alternate(v, obj);
    }
}

bool visit_optional(Visitor *v, const char *name, bool *present)
{
    if (v->optional) {
        v->optional(v, name, present);
    }
    return *present;
}

/*
 * The name the checks made here (integer ranges, enum values) give in
 * their messages: the member's own name, not its path, and "null" for
 * a list element, as in QEMU's visitor core.  The input visitor's own
 * messages (missing, unexpected, wrong type) name the whole path.
 */
static const char *member_name(const char *name)
{
    return name ? name : "null";
}

static bool visit_int_range(Visitor *v, const char *name, int64_t *value,
                            int64_t min, int64_t max, const char *type,
                            Error **errp)
{
    if (!v->type_int64(v, name, value, errp)) {
        return false;
    }
    if (*value < min || *value > max) {
        /* Only input can produce an out-of-range value. */
        error_setg(errp, "Parameter '%s' expects %s", member_name(name),
                   type);
        return false;
    }
    return true;
}

static bool visit_uint_range(Visitor *v, const char *name, uint64_t *value,
                             uint64_t max, const char *type, Error **errp)
{
    if (!v->type_uint64(v, name, value, errp)) {
        return false;
    }
    if (*value > max) {
        error_setg(errp, "Parameter '%s' expects %s", member_name(name),
                   type);
        return false;
    }
    return true;
}

#define DEFINE_VISIT_INT(type, ctype, min, max)                          \
    bool visit_type_##type(Visitor *v, const char *name, ctype *obj,     \
                           Error **errp)                                 \
    {                                                                    \
        int64_t value = *obj;                                            \
                                                                         \
        if (!visit_int_range(v, name, &value, min, max, #ctype, errp)) { \
            return false;                                                \
        }                                                                \
        *obj = value;                                                    \
        return true;                                                     \
    }

#define DEFINE_VISIT_UINT(type, ctype, max)                              \
    bool visit_type_##type(Visitor *v, const char *name, ctype *obj,     \
                           Error **errp)                                 \
    {                                                                    \
        uint64_t value = *obj;                                           \
                                                                         \
        if (!visit_uint_range(v, name, &value, max, #ctype, errp)) {     \
            return false;                                                \
        }                                                                \
        *obj = value;                                                    \
        return true;                                                     \
    }

DEFINE_VISIT_INT(int8, int8_t, INT8_MIN, INT8_MAX)
DEFINE_VISIT_INT(int16, int16_t, INT16_MIN, INT16_MAX)
DEFINE_VISIT_INT(int32, int32_t, INT32_MIN, INT32_MAX)
DEFINE_VISIT_UINT(uint8, uint8_t, UINT8_MAX)
DEFINE_VISIT_UINT(uint16, uint16_t, UINT16_MAX)
DEFINE_VISIT_UINT(uint32, uint32_t, UINT32_MAX)

bool visit_type_int(Visitor *v, const char *name, int64_t *obj,
                    Error **errp)
{
    return v->type_int64(v, name, obj, errp);
}

bool visit_type_int64(Visitor *v, const char *name, int64_t *obj,
                      Error **errp)
{
    return v->type_int64(v, name, obj, errp);
}

bool visit_type_uint64(Visitor *v, const char *name, uint64_t *obj,
                       Error **errp)
{
    return v->type_uint64(v, name, obj, errp);
}

bool visit_type_size(Visitor *v, const char *name, uint64_t *obj,
                     Error **errp)
{
    return v->type_uint64(v, name, obj, errp);
}

bool visit_type_bool(Visitor *v, const char *name, bool *obj,
                     Error **errp)
{
    return v->type_bool(v, name, obj, errp);
}

bool visit_type_str(Visitor *v, const char *name, char **obj,
                    Error **errp)
{
    return v->type_str(v, name, obj, errp);
}

bool visit_type_number(Visitor *v, const char *name, double *obj,
                       Error **errp)
{
    return v->type_number(v, name, obj, errp);
}

bool visit_type_any(Visitor *v, const char *name, json_t **obj,
                    Error **errp)
{
    return v->type_any(v, name, obj, errp);
}

bool visit_type_null(Visitor *v, const char *name, json_t **obj,
                     Error **errp)
{
    return v->type_null(v, name, obj, errp);
}

static bool input_type_enum(Visitor *v, const char *name, int *obj,
                            const QEnumLookup *lookup, Error **errp)
{
    g_autofree char *str = NULL;
    int i;

    if (!v->type_str(v, name, &str, errp)) {
        return false;
    }
    for (i = 0; i < lookup->size; i++) {
        if (!strcmp(str, lookup->array[i])) {
            *obj = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'",
               member_name(name), str);
    return false;
}

static bool output_type_enum(Visitor *v, const char *name, int *obj,
                             const QEnumLookup *lookup, Error **errp)
{
    const char *str = qapi_enum_lookup(lookup, *obj);

    if (!str) {
        /* A C caller stored a value the schema does not have. */
        error_setg(errp, "Invalid enum value %d for '%s'", *obj,
                   name ? name : "null");
        return false;
    }
    return v->type_str(v, name, (char **)&str, errp);
}

bool visit_type_enum(Visitor *v, const char *name, int *obj,
                     const QEnumLookup *lookup, Error **errp)
{
    switch (v->type) {
    case VISITOR_INPUT:
        return input_type_enum(v, name, obj, lookup, errp);
    case VISITOR_OUTPUT:
        return output_type_enum(v, name, obj, lookup, errp);
    case VISITOR_DEALLOC:
        break;
    }
    return true;
}

void visit_complete(Visitor *v, void *opaque)
{
    if (v->complete) {
        v->complete(v, opaque);
    }
}

void visit_free(Visitor *v)
{
    if (v) {
        v->free(v);
    }
}
