/*
 * Saving and loading device state from vmstate descriptions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "migration/vmstate.h"
#include "trace/trace.h"

/* Hooks */

static int vmstate_hook_failed(int ret, const VMStateDescription *vmsd,
                               const char *hook, Error *err, Error **errp)
{
    if (err) {
        error_propagate_prepend(errp, err, "Device '%s': %s failed: ",
                                vmsd->name, hook);
        return ret < 0 ? ret : -EINVAL;
    }
    error_setg_errno(errp, -ret, "Device '%s': %s failed", vmsd->name,
                     hook);
    return ret;
}

static int vmstate_pre_save(const VMStateDescription *vmsd, void *opaque,
                            Error **errp)
{
    Error *err = NULL;
    int ret = 0;

    if (vmsd->pre_save_errp) {
        if (!vmsd->pre_save_errp(opaque, &err)) {
            return vmstate_hook_failed(-EINVAL, vmsd, "pre_save", err, errp);
        }
    } else if (vmsd->pre_save) {
        ret = vmsd->pre_save(opaque);
    }
    return ret < 0 ? vmstate_hook_failed(ret, vmsd, "pre_save", NULL, errp)
                   : 0;
}

static int vmstate_pre_load(const VMStateDescription *vmsd, void *opaque,
                            Error **errp)
{
    Error *err = NULL;
    int ret = 0;

    if (vmsd->pre_load_errp) {
        if (!vmsd->pre_load_errp(opaque, &err)) {
            return vmstate_hook_failed(-EINVAL, vmsd, "pre_load", err, errp);
        }
    } else if (vmsd->pre_load) {
        ret = vmsd->pre_load(opaque);
    }
    return ret < 0 ? vmstate_hook_failed(ret, vmsd, "pre_load", NULL, errp)
                   : 0;
}

static int vmstate_post_load(const VMStateDescription *vmsd, void *opaque,
                             int version_id, Error **errp)
{
    Error *err = NULL;
    int ret = 0;

    if (vmsd->post_load_errp) {
        if (!vmsd->post_load_errp(opaque, version_id, &err)) {
            return vmstate_hook_failed(-EINVAL, vmsd, "post_load", err,
                                       errp);
        }
    } else if (vmsd->post_load) {
        ret = vmsd->post_load(opaque, version_id);
    }
    return ret < 0 ? vmstate_hook_failed(ret, vmsd, "post_load", NULL, errp)
                   : 0;
}

/* Is @field in a stream of @version_id? */
static bool vmstate_field_present(const VMStateField *field, void *opaque,
                                  int version_id)
{
    if (field->version_id > version_id) {
        return false;
    }
    return !field->field_exists || field->field_exists(opaque, version_id);
}

static int vmstate_field_elems(const VMStateField *field)
{
    return (field->flags & VMS_ARRAY) ? field->num : 1;
}

/* A stream error after a field: name the device and the field. */
static int vmstate_stream_failed(QEMUFile *f, const char *what,
                                 const VMStateDescription *vmsd,
                                 const char *field, Error **errp)
{
    Error *err = NULL;
    int ret = qemu_file_get_error_obj(f, &err);

    error_propagate_prepend(errp, err, "Failed to %s %s:%s: ", what,
                            vmsd->name, field);
    return ret;
}

/* Saving */

static int vmstate_save_v(QEMUFile *f, const VMStateDescription *vmsd,
                          void *opaque, json_t *vmdesc, Error **errp);

/* The VMDESCRIPTION entry of one field (or one element of it). */
static json_t *vmstate_desc_field(const VMStateField *field, int elem,
                                  int nelems, bool compress)
{
    json_t *entry = json_object();

    json_object_set_new(entry, "name", json_string(field->name));
    if (nelems > 1) {
        if (compress) {
            json_object_set_new(entry, "array_len", json_integer(nelems));
        } else {
            json_object_set_new(entry, "index", json_integer(elem));
        }
    }
    json_object_set_new(entry, "type", json_string(field->info->name));
    return entry;
}

static int vmstate_save_elem(QEMUFile *f, const VMStateField *field,
                             void *elem, json_t *entry, Error **errp)
{
    json_t *sub;
    int ret;

    if (!(field->flags & VMS_STRUCT)) {
        return field->info->put(f, elem, field->size, field, errp);
    }
    sub = entry ? json_object() : NULL;
    ret = vmstate_save_v(f, field->vmsd, elem, sub, errp);
    if (sub) {
        json_object_set_new(entry, "struct", sub);
    }
    return ret;
}

static int vmstate_save_field(QEMUFile *f, const VMStateDescription *vmsd,
                              const VMStateField *field, void *opaque,
                              json_t *fields, Error **errp)
{
    int nelems = vmstate_field_elems(field);
    /* Like QEMU, plain arrays are described once with their length. */
    bool compress = !(field->flags & VMS_STRUCT);
    uint8_t *base = (uint8_t *)opaque + field->offset;

    for (int i = 0; i < nelems; i++) {
        bool describe = fields && (i == 0 || !compress);
        json_t *entry = NULL;
        uint64_t start = qemu_file_transferred(f);
        int ret;

        if (describe) {
            entry = vmstate_desc_field(field, i, nelems, compress);
        }
        ret = vmstate_save_elem(f, field, base + field->size * i, entry,
                                errp);
        if (ret < 0) {
            json_decref(entry);
            error_prepend(errp, "Failed to save %s:%s: ", vmsd->name,
                          field->name);
            return ret;
        }
        if (qemu_file_get_error(f)) {
            json_decref(entry);
            return vmstate_stream_failed(f, "save", vmsd, field->name,
                                         errp);
        }
        if (entry) {
            json_object_set_new(entry, "size", json_integer(
                                    qemu_file_transferred(f) - start));
            json_array_append_new(fields, entry);
        }
    }
    return 0;
}

static bool vmstate_subsection_needed(const VMStateDescription *sub,
                                      void *opaque)
{
    return !sub->needed || sub->needed(opaque);
}

static int vmstate_save_subsections(QEMUFile *f,
                                    const VMStateDescription *vmsd,
                                    void *opaque, json_t *vmdesc,
                                    Error **errp)
{
    const VMStateDescription *const *subs = vmsd->subsections;
    json_t *list = NULL;

    for (; subs && *subs; subs++) {
        const VMStateDescription *sub = *subs;
        json_t *obj = NULL;
        int ret;

        if (!vmstate_subsection_needed(sub, opaque)) {
            continue;
        }
        if (vmdesc && !list) {
            list = json_array();
            json_object_set_new(vmdesc, "subsections", list);
        }
        qemu_put_byte(f, VMSTATE_SUBSECTION_MARK);
        qemu_put_counted_string(f, sub->name);
        qemu_put_be32(f, sub->version_id);
        if (list) {
            obj = json_object();
            json_array_append_new(list, obj);
        }
        ret = vmstate_save_v(f, sub, opaque, obj, errp);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

static int vmstate_save_v(QEMUFile *f, const VMStateDescription *vmsd,
                          void *opaque, json_t *vmdesc, Error **errp)
{
    json_t *fields = NULL;
    int ret;

    trace_vmstate_save(vmsd->name, vmsd->version_id);
    ret = vmstate_pre_save(vmsd, opaque, errp);

    if (ret < 0) {
        return ret;
    }
    if (vmdesc) {
        json_object_set_new(vmdesc, "vmsd_name", json_string(vmsd->name));
        json_object_set_new(vmdesc, "version",
                            json_integer(vmsd->version_id));
        fields = json_array();
        json_object_set_new(vmdesc, "fields", fields);
    }
    for (const VMStateField *field = vmsd->fields;
         field && !(field->flags & VMS_END); field++) {
        if (!vmstate_field_present(field, opaque, vmsd->version_id)) {
            continue;
        }
        ret = vmstate_save_field(f, vmsd, field, opaque, fields, errp);
        if (ret < 0) {
            return ret;
        }
    }
    ret = vmstate_save_subsections(f, vmsd, opaque, vmdesc, errp);
    if (ret == 0 && qemu_file_get_error(f)) {
        ret = vmstate_stream_failed(f, "save", vmsd, "subsections", errp);
    }
    if (ret == 0 && vmsd->post_save) {
        ret = vmsd->post_save(opaque);
        if (ret < 0) {
            return vmstate_hook_failed(ret, vmsd, "post_save", NULL, errp);
        }
    }
    return ret;
}

/*
 * A failed save or load leaves the stream out of step: make the
 * failure the stream's error too, so later steps stop at once.
 */
static int vmstate_fail_stream(QEMUFile *f, int ret, Error **errp)
{
    if (ret < 0) {
        trace_vmstate_failed(ret, *errp ? error_get_pretty(*errp) : "");
    }
    if (ret < 0 && !qemu_file_get_error(f)) {
        qemu_file_set_error_obj(f, ret, *errp ? error_copy(*errp) : NULL);
    }
    return ret;
}

int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, json_t *vmdesc, Error **errp)
{
    ERRP_GUARD();

    return vmstate_fail_stream(f, vmstate_save_v(f, vmsd, opaque, vmdesc,
                                                 errp), errp);
}

bool vmstate_section_needed(const VMStateDescription *vmsd, void *opaque)
{
    return !vmsd->needed || vmsd->needed(opaque);
}

/* Loading */

static int vmstate_load_v(QEMUFile *f, const VMStateDescription *vmsd,
                          void *opaque, int version_id, bool top,
                          Error **errp);

static int vmstate_load_field(QEMUFile *f, const VMStateDescription *vmsd,
                              const VMStateField *field, void *opaque,
                              Error **errp)
{
    int nelems = vmstate_field_elems(field);
    uint8_t *base = (uint8_t *)opaque + field->offset;

    for (int i = 0; i < nelems; i++) {
        void *elem = base + field->size * i;
        int ret;

        if (field->flags & VMS_STRUCT) {
            ret = vmstate_load_v(f, field->vmsd, elem,
                                 field->vmsd->version_id, false, errp);
        } else {
            ret = field->info->get(f, elem, field->size, field, errp);
        }
        if (ret == 0 && qemu_file_get_error(f)) {
            return vmstate_stream_failed(f, "load", vmsd, field->name,
                                         errp);
        }
        if (ret < 0) {
            error_prepend(errp, "Failed to load %s:%s: ", vmsd->name,
                          field->name);
            return ret;
        }
    }
    return 0;
}

static const VMStateDescription *
vmstate_find_subsection(const VMStateDescription *vmsd, const char *name)
{
    for (const VMStateDescription *const *s = vmsd->subsections;
         s && *s; s++) {
        if (strcmp((*s)->name, name) == 0) {
            return *s;
        }
    }
    return NULL;
}

/*
 * If a subsection header of @vmsd is next in the stream, return its
 * name (consuming nothing).  Not at the top level, a marker byte that
 * is not followed by a name of ours is left alone: it is the next field
 * of the enclosing description.
 */
static char *vmstate_peek_subsection(QEMUFile *f,
                                     const VMStateDescription *vmsd,
                                     bool top, Error **errp)
{
    g_autofree char *prefix = g_strdup_printf("%s/", vmsd->name);
    int len;
    uint8_t *p;
    char *name;

    if (qemu_peek_byte(f, 0) != VMSTATE_SUBSECTION_MARK) {
        return NULL;
    }
    if (!top && !vmsd->subsections) {
        return NULL;
    }
    len = qemu_peek_byte(f, 1);
    if (len <= 0 || qemu_peek_buffer(f, &p, len, 2) != (size_t)len) {
        if (top) {
            error_setg(errp, "Device '%s': truncated or empty subsection "
                       "header", vmsd->name);
        }
        return NULL;
    }
    name = g_strndup((const char *)p, len);
    if (strlen(name) != (size_t)len || !g_str_has_prefix(name, prefix)) {
        if (top) {
            error_setg(errp, "Device '%s': subsection '%s' does not belong "
                       "to it", vmsd->name, name);
        }
        g_free(name);
        return NULL;
    }
    return name;
}

static int vmstate_load_subsections(QEMUFile *f,
                                    const VMStateDescription *vmsd,
                                    void *opaque, bool top, Error **errp)
{
    ERRP_GUARD();

    for (;;) {
        g_autofree char *name = vmstate_peek_subsection(f, vmsd, top, errp);
        const VMStateDescription *sub;
        int version_id, ret;

        if (*errp) {
            return -EINVAL;
        }
        if (!name) {
            if (qemu_file_get_error(f)) {
                return vmstate_stream_failed(f, "load", vmsd, "subsections",
                                             errp);
            }
            return 0;
        }
        sub = vmstate_find_subsection(vmsd, name);
        if (!sub) {
            error_setg(errp, "Device '%s': unknown subsection '%s'",
                       vmsd->name, name);
            return -ENOENT;
        }
        trace_vmstate_subsection_load(vmsd->name, name);
        qemu_file_skip(f, 2 + strlen(name));
        version_id = qemu_get_be32(f);
        if (qemu_file_get_error(f)) {
            return vmstate_stream_failed(f, "load", vmsd, name, errp);
        }
        ret = vmstate_load_v(f, sub, opaque, version_id, false, errp);
        if (ret < 0) {
            return ret;
        }
    }
}

static int vmstate_check_version(const VMStateDescription *vmsd,
                                 int version_id, Error **errp)
{
    if (version_id > vmsd->version_id) {
        error_setg(errp, "Device '%s': incoming version_id %d is newer than "
                   "the supported version_id %d", vmsd->name, version_id,
                   vmsd->version_id);
        return -EINVAL;
    }
    if (version_id < vmsd->minimum_version_id) {
        error_setg(errp, "Device '%s': incoming version_id %d is older than "
                   "the minimum_version_id %d", vmsd->name, version_id,
                   vmsd->minimum_version_id);
        return -EINVAL;
    }
    return 0;
}

static int vmstate_load_v(QEMUFile *f, const VMStateDescription *vmsd,
                          void *opaque, int version_id, bool top,
                          Error **errp)
{
    int ret;

    trace_vmstate_load(vmsd->name, version_id);
    ret = vmstate_check_version(vmsd, version_id, errp);
    if (ret == 0) {
        ret = vmstate_pre_load(vmsd, opaque, errp);
    }
    if (ret < 0) {
        return ret;
    }
    for (const VMStateField *field = vmsd->fields;
         field && !(field->flags & VMS_END); field++) {
        if (!vmstate_field_present(field, opaque, version_id)) {
            continue;
        }
        ret = vmstate_load_field(f, vmsd, field, opaque, errp);
        if (ret < 0) {
            return ret;
        }
    }
    ret = vmstate_load_subsections(f, vmsd, opaque, top, errp);
    if (ret < 0) {
        return ret;
    }
    return vmstate_post_load(vmsd, opaque, version_id, errp);
}

int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, int version_id, Error **errp)
{
    ERRP_GUARD();

    return vmstate_fail_stream(f, vmstate_load_v(f, vmsd, opaque,
                                                 version_id, true, errp),
                               errp);
}
