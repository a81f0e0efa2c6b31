/*
 * Helpers shared by the generated QAPI code and its users: enum
 * lookup tables and list building.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_UTIL_H
#define QAPI_UTIL_H

#include <stdbool.h>
#include <glib.h>

#include "qapi/error.h"

/* Special feature flags of enum members (same bits as QmpSpecialFeature). */
typedef struct QEnumLookup {
    const char *const *array;
    const unsigned char *const special_features;
    const int size;
} QEnumLookup;

/* The wire name of @val, or NULL when it is out of range. */
const char *qapi_enum_lookup(const QEnumLookup *lookup, int val);

/*
 * The value named @buf.  A NULL @buf gives @def silently; an unknown
 * name gives @def and sets an error.
 */
int qapi_enum_parse(const QEnumLookup *lookup, const char *buf,
                    int def, Error **errp);

/* The JSON type of a value, as alternate types tell their branches apart. */
typedef enum QType {
    QTYPE_NONE,
    QTYPE_QNULL,
    QTYPE_QNUM,
    QTYPE_QSTRING,
    QTYPE_QDICT,
    QTYPE_QLIST,
    QTYPE_QBOOL,
    QTYPE__MAX,
} QType;

/* Put @element in front of @list (a FooList *, updated in place). */
#define QAPI_LIST_PREPEND(list, element) do {           \
        typeof(list) _tmp = g_malloc(sizeof(*(list)));  \
        _tmp->value = (element);                        \
        _tmp->next = (list);                            \
        (list) = _tmp;                                  \
    } while (0)

/*
 * Append @element through @tail, a FooList ** that starts as &list and
 * is advanced to the new node's next pointer:
 *     FooList *list = NULL, **tail = &list;
 *     QAPI_LIST_APPEND(tail, foo);
 */
#define QAPI_LIST_APPEND(tail, element) do {            \
        *(tail) = g_malloc0(sizeof(**(tail)));          \
        (*(tail))->value = (element);                   \
        (tail) = &(*(tail))->next;                      \
    } while (0)

/* Number of elements of a FooList. */
#define QAPI_LIST_LENGTH(list) ({                       \
        size_t _len = 0;                                \
        typeof(list) _elem;                             \
        for (_elem = (list); _elem; _elem = _elem->next) { \
            _len++;                                     \
        }                                               \
        _len;                                           \
    })

#endif /* QAPI_UTIL_H */
