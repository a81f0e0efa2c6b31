/*
 * Visitors walk a QAPI C object member by member.  The generated
 * visit_type_Foo() functions drive a visitor; the visitor decides what
 * a step means: fill the C object from JSON (input), build JSON from it
 * (output) or free it (dealloc).
 *
 * Rules for callers of visit_type_Foo(v, name, &obj, errp):
 *  - input: *obj is allocated on success; on failure it may be partly
 *    built, and must be freed with qapi_free_Foo() (the generated code
 *    already does that for you, leaving *obj NULL);
 *  - output: *obj is only read;
 *  - dealloc: *obj is freed and set to NULL, failures cannot happen.
 * @name is the member name in the enclosing object, NULL at the top
 * level and for list elements.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_VISITOR_H
#define QAPI_VISITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "qapi/error.h"
#include "qapi/util.h"

typedef struct Visitor Visitor;

/* What every generated FooList looks like to a visitor. */
typedef struct GenericList {
    struct GenericList *next;
    char padding[];
} GenericList;

/* What every generated alternate looks like to a visitor. */
typedef struct GenericAlternate {
    QType type;
    char padding[];
} GenericAlternate;

typedef enum VisitorType {
    VISITOR_INPUT = 1,
    VISITOR_OUTPUT = 2,
    VISITOR_DEALLOC = 4,
} VisitorType;

/*
 * Start visiting an object.  For input visitors with a non-NULL @obj,
 * *obj is set to a zeroed allocation of @size bytes.
 */
bool visit_start_struct(Visitor *v, const char *name, void **obj,
                        size_t size, Error **errp);
/* Input: fail when the object has members nobody visited. */
bool visit_check_struct(Visitor *v, Error **errp);
/* Must pair with a successful visit_start_struct(), even on failure. */
void visit_end_struct(Visitor *v, void **obj);

/*
 * Start visiting a list.  Input visitors set *list to the first node
 * (allocated with @size bytes) or NULL for an empty list.
 */
bool visit_start_list(Visitor *v, const char *name, GenericList **list,
                      size_t size, Error **errp);
/* The node after @tail (allocated by input visitors), or NULL at the end. */
GenericList *visit_next_list(Visitor *v, GenericList *tail, size_t size);
bool visit_check_list(Visitor *v, Error **errp);
void visit_end_list(Visitor *v, void **list);

/*
 * Start visiting an alternate.  Input visitors allocate *obj (@size
 * bytes) and set its type from the JSON value, failing when that type
 * is not one of @qtypes (a bit mask of 1 << QType); @type_name names
 * the alternate in that error.
 */
bool visit_start_alternate(Visitor *v, const char *name,
                           GenericAlternate **obj, size_t size,
                           unsigned qtypes, const char *type_name,
                           Error **errp);
/* Must pair with a successful visit_start_alternate(). */
void visit_end_alternate(Visitor *v, void **obj);

/*
 * Optional member @name: input visitors set *present from the input,
 * other visitors use it as given.  Returns *present.
 */
bool visit_optional(Visitor *v, const char *name, bool *present);

bool visit_type_int(Visitor *v, const char *name, int64_t *obj,
                    Error **errp);
bool visit_type_int8(Visitor *v, const char *name, int8_t *obj,
                     Error **errp);
bool visit_type_int16(Visitor *v, const char *name, int16_t *obj,
                      Error **errp);
bool visit_type_int32(Visitor *v, const char *name, int32_t *obj,
                      Error **errp);
bool visit_type_int64(Visitor *v, const char *name, int64_t *obj,
                      Error **errp);
bool visit_type_uint8(Visitor *v, const char *name, uint8_t *obj,
                      Error **errp);
bool visit_type_uint16(Visitor *v, const char *name, uint16_t *obj,
                       Error **errp);
bool visit_type_uint32(Visitor *v, const char *name, uint32_t *obj,
                       Error **errp);
bool visit_type_uint64(Visitor *v, const char *name, uint64_t *obj,
                       Error **errp);
bool visit_type_size(Visitor *v, const char *name, uint64_t *obj,
                     Error **errp);
bool visit_type_bool(Visitor *v, const char *name, bool *obj,
                     Error **errp);
/* Input allocates *obj; output and dealloc treat NULL as "". */
bool visit_type_str(Visitor *v, const char *name, char **obj,
                    Error **errp);
bool visit_type_number(Visitor *v, const char *name, double *obj,
                       Error **errp);
/* Any JSON value; *obj holds one reference. */
bool visit_type_any(Visitor *v, const char *name, json_t **obj,
                    Error **errp);
/* The JSON null; input stores json_null() in *obj, dealloc drops it. */
bool visit_type_null(Visitor *v, const char *name, json_t **obj,
                     Error **errp);
bool visit_type_enum(Visitor *v, const char *name, int *obj,
                     const QEnumLookup *lookup, Error **errp);

/* Hand the result of an output visitor to the location it was made for. */
void visit_complete(Visitor *v, void *opaque);
void visit_free(Visitor *v);
VisitorType visit_get_type(const Visitor *v);

static inline bool visit_is_input(const Visitor *v)
{
    return visit_get_type(v) == VISITOR_INPUT;
}

static inline bool visit_is_dealloc(const Visitor *v)
{
    return visit_get_type(v) == VISITOR_DEALLOC;
}

#endif /* QAPI_VISITOR_H */
