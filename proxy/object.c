/*
 * The COLO proxy's objects: -object parsing, the registry by id, and
 * x-query-colo-compare.
 *
 * The registry is protected by the BQL; objects live until
 * colo_proxy_cleanup() at exit (there is no object-del).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "proxy-int.h"
#include "qapi/qapi-commands.h"
#include "qapi/util.h"
#include "trace/trace.h"
#include "util/bql.h"

static const ProxyObjectType *const proxy_types[] = {
    &colo_compare_type,
    &filter_mirror_type,
    &filter_redirector_type,
};

/* ProxyObject *, in creation order. */
static GPtrArray *proxy_objects;

static ProxyObject *proxy_find(const char *id)
{
    for (guint i = 0; proxy_objects && i < proxy_objects->len; i++) {
        ProxyObject *obj = g_ptr_array_index(proxy_objects, i);

        if (strcmp(obj->id, id) == 0) {
            return obj;
        }
    }
    return NULL;
}

static const ProxyObjectType *proxy_type_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(proxy_types); i++) {
        if (strcmp(proxy_types[i]->name, name) == 0) {
            return proxy_types[i];
        }
    }
    return NULL;
}

/* Every key must be one the type knows, as QEMU checks its properties. */
static bool proxy_check_keys(const ProxyObjectType *type,
                             const OptList *opts, Error **errp)
{
    for (size_t i = 0; i < opts_count(opts); i++) {
        const char *key = opts_key_at(opts, i);
        bool known = !strcmp(key, "qom-type") || !strcmp(key, "id");

        for (size_t k = 0; !known && type->keys[k]; k++) {
            known = !strcmp(key, type->keys[k]);
        }
        if (!known) {
            error_setg(errp, "Invalid parameter '%s'", key);
            return false;
        }
    }
    return true;
}

bool colo_proxy_object_add(const char *optarg, Error **errp)
{
    g_autoptr(OptList) opts = opts_parse(optarg, "qom-type", errp);
    const ProxyObjectType *type;
    const char *name, *id;
    ProxyObject *obj;

    g_assert(bql_locked());
    if (!opts) {
        return false;
    }
    name = opts_get(opts, "qom-type");
    if (!name) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        return false;
    }
    type = proxy_type_find(name);
    if (!type) {
        error_setg(errp, "invalid object type: %s", name);
        return false;
    }
    id = opts_get(opts, "id");
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (proxy_find(id)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object "
                   "(type 'container')", id);
        return false;
    }
    if (!proxy_check_keys(type, opts, errp)) {
        return false;
    }
    obj = type->create(id, opts, errp);
    if (!obj) {
        return false;
    }
    obj->id = g_strdup(id);
    obj->type = type;
    if (!proxy_objects) {
        proxy_objects = g_ptr_array_new();
    }
    g_ptr_array_add(proxy_objects, obj);
    trace_colo_proxy_object_add(name, id);
    return true;
}

void colo_proxy_cleanup(void)
{
    g_assert(bql_locked());
    /* Last first: a later object may lean on an earlier one's chardev. */
    while (proxy_objects && proxy_objects->len > 0) {
        ProxyObject *obj = g_ptr_array_steal_index(proxy_objects,
                                                   proxy_objects->len - 1);
        char *id = obj->id;

        obj->type->free(obj);
        g_free(id);
    }
    if (proxy_objects) {
        g_ptr_array_free(proxy_objects, true);
        proxy_objects = NULL;
    }
}

bool proxy_get_chardev(const OptList *opts, const char *key, bool optional,
                       Chardev **chr, Error **errp)
{
    const char *name = opts_get(opts, key);

    *chr = NULL;
    if (!name) {
        if (!optional) {
            error_setg(errp, "Parameter '%s' is missing", key);
        }
        return optional;
    }
    *chr = chardev_find(name);
    if (!*chr) {
        error_setg(errp, "Device '%s' not found", name);
        return false;
    }
    return true;
}

void proxy_foreach(const ProxyObjectType *type,
                   void (*fn)(ProxyObject *obj, void *opaque),
                   void *opaque)
{
    for (guint i = 0; proxy_objects && i < proxy_objects->len; i++) {
        ProxyObject *obj = g_ptr_array_index(proxy_objects, i);

        if (obj->type == type) {
            fn(obj, opaque);
        }
    }
}

static void collect_compare_info(ProxyObject *obj, void *opaque)
{
    ColoCompareInfoList ***tail = opaque;

    QAPI_LIST_APPEND(*tail, colo_compare_info(obj));
}

ColoCompareInfoList *qmp_x_query_colo_compare(Error **errp)
{
    ColoCompareInfoList *head = NULL, **tail = &head;

    proxy_foreach(&colo_compare_type, collect_compare_info, &tail);
    return head;
}
