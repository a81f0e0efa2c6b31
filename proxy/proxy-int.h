/*
 * What the COLO proxy's object types share with the object registry
 * (object.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PROXY_PROXY_INT_H
#define PROXY_PROXY_INT_H

#include "chardev/char.h"
#include "proxy/colo-proxy.h"
#include "qapi/qapi-types.h"
#include "util/option.h"

typedef struct ProxyObject ProxyObject;

typedef struct ProxyObjectType {
    const char *name;
    const char *const *keys;        /* besides qom-type and id */
    /* Parse, check and attach; NULL with errp set. */
    ProxyObject *(*create)(const char *id, const OptList *opts,
                           Error **errp);
    /* Detach and free. */
    void (*free)(ProxyObject *obj);
} ProxyObjectType;

/* The first member of every object type's struct. */
struct ProxyObject {
    char *id;
    const ProxyObjectType *type;
};

extern const ProxyObjectType colo_compare_type;
extern const ProxyObjectType filter_mirror_type;
extern const ProxyObjectType filter_redirector_type;

/*
 * The chardev named by option @key, which must be given unless
 * @optional.  *@chr is NULL for an absent optional one.
 */
bool proxy_get_chardev(const OptList *opts, const char *key, bool optional,
                       Chardev **chr, Error **errp);

/* Apply @fn to every colo-compare object (for the QMP query). */
void proxy_foreach(const ProxyObjectType *type,
                   void (*fn)(ProxyObject *obj, void *opaque),
                   void *opaque);

/* colo-compare.c: the x-query-colo-compare entry of one object. */
ColoCompareInfo *colo_compare_info(ProxyObject *obj);

#endif /* PROXY_PROXY_INT_H */
