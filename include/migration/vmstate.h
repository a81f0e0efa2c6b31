/*
 * Declarative descriptions of device state for the migration stream.
 *
 * A VMStateDescription lists a struct's fields in stream order; saving
 * writes them big-endian one after the other, then every needed
 * subsection as
 *     u8 0x05, u8 name length, name, be32 version id, fields...
 * Loading reads the fields the stream's version has, then matches the
 * subsections that follow by name.  Hooks run around both directions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "migration/qemu-file.h"
#include "qapi/error.h"

/* Marks a subsection in the stream. */
#define VMSTATE_SUBSECTION_MARK 0x05

typedef struct VMStateInfo VMStateInfo;
typedef struct VMStateField VMStateField;
typedef struct VMStateDescription VMStateDescription;

/* How one element of a field goes to and comes from the stream. */
struct VMStateInfo {
    const char *name;           /* "type" in the JSON description */
    /* 0 or a negative errno with @errp set; @size is the element size. */
    int (*get)(QEMUFile *f, void *pv, size_t size,
               const VMStateField *field, Error **errp);
    int (*put)(QEMUFile *f, void *pv, size_t size,
               const VMStateField *field, Error **errp);
};

typedef enum VMStateFlags {
    VMS_SINGLE = 0x001,         /* one element at offset */
    VMS_ARRAY  = 0x002,         /* num elements of size */
    VMS_STRUCT = 0x004,         /* element(s) described by vmsd */
    VMS_BUFFER = 0x008,         /* size raw bytes */
    VMS_END    = 0x100,         /* terminates the field list */
} VMStateFlags;

struct VMStateField {
    const char *name;
    size_t offset;              /* in the described struct */
    size_t size;                /* of one element */
    int num;                    /* elements (VMS_ARRAY) */
    const VMStateInfo *info;
    VMStateFlags flags;
    const VMStateDescription *vmsd;  /* VMS_STRUCT */
    int version_id;             /* in the stream from this version on */
    /* Optional: also skip the field when this says false (both ways). */
    bool (*field_exists)(void *opaque, int version_id);
};

struct VMStateDescription {
    const char *name;
    int version_id;             /* what we save */
    int minimum_version_id;     /* the oldest we load */
    const VMStateField *fields; /* ends with VMSTATE_END_OF_LIST() */
    /* NULL-terminated; each one's name is "<name>/<something>". */
    const VMStateDescription *const *subsections;
    /*
     * Subsections: saved only when this returns true (NULL: always).
     * Top-level descriptions: see vmstate_section_needed().
     */
    bool (*needed)(void *opaque);
    /* Hooks return 0 or a negative errno. */
    int (*pre_load)(void *opaque);
    int (*post_load)(void *opaque, int version_id);
    int (*pre_save)(void *opaque);
    int (*post_save)(void *opaque);
    /*
     * Variants that explain their failure; used instead of the plain
     * hook of the same kind when set.
     */
    bool (*pre_load_errp)(void *opaque, Error **errp);
    bool (*post_load_errp)(void *opaque, int version_id, Error **errp);
    bool (*pre_save_errp)(void *opaque, Error **errp);
};

extern const VMStateInfo vmstate_info_bool;
extern const VMStateInfo vmstate_info_int8;
extern const VMStateInfo vmstate_info_int16;
extern const VMStateInfo vmstate_info_int32;
extern const VMStateInfo vmstate_info_int64;
extern const VMStateInfo vmstate_info_uint8;
extern const VMStateInfo vmstate_info_uint16;
extern const VMStateInfo vmstate_info_uint32;
extern const VMStateInfo vmstate_info_uint64;
extern const VMStateInfo vmstate_info_buffer;
extern const VMStateInfo vmstate_info_struct;

/*
 * Compile-time checks that a member has the type a macro expects: they
 * evaluate to 0 and fail to compile (negative array size) otherwise.
 */
#define VMS_TYPEOF_FIELD(_state, _field) typeof(((_state *)0)->_field)
#define VMS_CHECK(_cond) (0 * sizeof(char[(_cond) ? 1 : -1]))
#define VMS_CHECK_TYPE(_state, _field, _type) \
    VMS_CHECK(__builtin_types_compatible_p( \
        VMS_TYPEOF_FIELD(_state, _field), _type))
#define VMS_CHECK_ARRAY(_state, _field, _type, _num) \
    VMS_CHECK(__builtin_types_compatible_p( \
        VMS_TYPEOF_FIELD(_state, _field), _type[_num]))

#define VMSTATE_SINGLE_V(_field, _state, _version, _info, _type) {        \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
                  VMS_CHECK_TYPE(_state, _field, _type),                  \
    .size       = sizeof(_type),                                         \
    .info       = &(_info),                                              \
    .flags      = VMS_SINGLE,                                            \
    .version_id = (_version),                                            \
}

#define VMSTATE_ARRAY_V(_field, _state, _num, _version, _info, _type) {   \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
                  VMS_CHECK_ARRAY(_state, _field, _type, _num),           \
    .size       = sizeof(_type),                                         \
    .num        = (_num),                                                \
    .info       = &(_info),                                              \
    .flags      = VMS_ARRAY,                                             \
    .version_id = (_version),                                            \
}

#define VMSTATE_BOOL_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_bool, bool)
#define VMSTATE_INT8_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_int8, int8_t)
#define VMSTATE_INT16_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_int16, int16_t)
#define VMSTATE_INT32_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_int32, int32_t)
#define VMSTATE_INT64_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_int64, int64_t)
#define VMSTATE_UINT8_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_V(f, s, v) \
    VMSTATE_SINGLE_V(f, s, v, vmstate_info_uint64, uint64_t)

#define VMSTATE_BOOL(f, s)         VMSTATE_BOOL_V(f, s, 0)
#define VMSTATE_INT8(f, s)         VMSTATE_INT8_V(f, s, 0)
#define VMSTATE_INT16(f, s)        VMSTATE_INT16_V(f, s, 0)
#define VMSTATE_INT32(f, s)        VMSTATE_INT32_V(f, s, 0)
#define VMSTATE_INT64(f, s)        VMSTATE_INT64_V(f, s, 0)
#define VMSTATE_UINT8(f, s)        VMSTATE_UINT8_V(f, s, 0)
#define VMSTATE_UINT16(f, s)       VMSTATE_UINT16_V(f, s, 0)
#define VMSTATE_UINT32(f, s)       VMSTATE_UINT32_V(f, s, 0)
#define VMSTATE_UINT64(f, s)       VMSTATE_UINT64_V(f, s, 0)

#define VMSTATE_UINT8_ARRAY_V(f, s, n, v) \
    VMSTATE_ARRAY_V(f, s, n, v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_ARRAY_V(f, s, n, v) \
    VMSTATE_ARRAY_V(f, s, n, v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_ARRAY_V(f, s, n, v) \
    VMSTATE_ARRAY_V(f, s, n, v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_ARRAY_V(f, s, n, v) \
    VMSTATE_ARRAY_V(f, s, n, v, vmstate_info_uint64, uint64_t)
#define VMSTATE_INT32_ARRAY_V(f, s, n, v) \
    VMSTATE_ARRAY_V(f, s, n, v, vmstate_info_int32, int32_t)
#define VMSTATE_BOOL_ARRAY_V(f, s, n, v) \
    VMSTATE_ARRAY_V(f, s, n, v, vmstate_info_bool, bool)

#define VMSTATE_UINT8_ARRAY(f, s, n)   VMSTATE_UINT8_ARRAY_V(f, s, n, 0)
#define VMSTATE_UINT16_ARRAY(f, s, n)  VMSTATE_UINT16_ARRAY_V(f, s, n, 0)
#define VMSTATE_UINT32_ARRAY(f, s, n)  VMSTATE_UINT32_ARRAY_V(f, s, n, 0)
#define VMSTATE_UINT64_ARRAY(f, s, n)  VMSTATE_UINT64_ARRAY_V(f, s, n, 0)
#define VMSTATE_INT32_ARRAY(f, s, n)   VMSTATE_INT32_ARRAY_V(f, s, n, 0)
#define VMSTATE_BOOL_ARRAY(f, s, n)    VMSTATE_BOOL_ARRAY_V(f, s, n, 0)

/* A uint8_t array member saved as raw bytes (one "buffer" entry). */
#define VMSTATE_BUFFER_V(_field, _state, _version) {                      \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
        VMS_CHECK_ARRAY(_state, _field, uint8_t,                          \
                        sizeof(VMS_TYPEOF_FIELD(_state, _field))),        \
    .size       = sizeof(VMS_TYPEOF_FIELD(_state, _field)),              \
    .info       = &vmstate_info_buffer,                                  \
    .flags      = VMS_BUFFER,                                            \
    .version_id = (_version),                                            \
}
#define VMSTATE_BUFFER(f, s)       VMSTATE_BUFFER_V(f, s, 0)

/*
 * Any member (of any type) saved as its @_size raw bytes, in host byte
 * order: for opaque blobs such as the KVM register structures.
 */
#define VMSTATE_BUFFER_UNSAFE(_field, _state, _version, _size) {          \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
        VMS_CHECK(sizeof(VMS_TYPEOF_FIELD(_state, _field)) >= (_size)),   \
    .size       = (_size),                                               \
    .info       = &vmstate_info_buffer,                                  \
    .flags      = VMS_BUFFER,                                            \
    .version_id = (_version),                                            \
}

/* A member of struct type @_type described by @_vmsd. */
#define VMSTATE_STRUCT_V(_field, _state, _version, _vmsd, _type) {        \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
                  VMS_CHECK_TYPE(_state, _field, _type),                  \
    .size       = sizeof(_type),                                         \
    .info       = &vmstate_info_struct,                                  \
    .flags      = VMS_STRUCT,                                            \
    .vmsd       = &(_vmsd),                                              \
    .version_id = (_version),                                            \
}
/* @_version here is the field's version, as in QEMU. */
#define VMSTATE_STRUCT(f, s, v, d, t)  VMSTATE_STRUCT_V(f, s, v, d, t)

#define VMSTATE_STRUCT_ARRAY_V(_field, _state, _num, _version, _vmsd,      \
                               _type) {                                  \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
                  VMS_CHECK_ARRAY(_state, _field, _type, _num),           \
    .size       = sizeof(_type),                                         \
    .num        = (_num),                                                \
    .info       = &vmstate_info_struct,                                  \
    .flags      = VMS_STRUCT | VMS_ARRAY,                                \
    .vmsd       = &(_vmsd),                                              \
    .version_id = (_version),                                            \
}
#define VMSTATE_STRUCT_ARRAY(f, s, n, v, d, t) \
    VMSTATE_STRUCT_ARRAY_V(f, s, n, v, d, t)

/* Present (both ways) only when @_test(opaque, version_id) is true. */
#define VMSTATE_SINGLE_TEST(_field, _state, _test, _version, _info,       \
                            _type) {                                     \
    .name       = #_field,                                               \
    .offset     = offsetof(_state, _field) +                             \
                  VMS_CHECK_TYPE(_state, _field, _type),                  \
    .size       = sizeof(_type),                                         \
    .info       = &(_info),                                              \
    .flags      = VMS_SINGLE,                                            \
    .version_id = (_version),                                            \
    .field_exists = (_test),                                             \
}
#define VMSTATE_UINT8_TEST(f, s, t) \
    VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT32_TEST(f, s, t) \
    VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_TEST(f, s, t) \
    VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint64, uint64_t)

#define VMSTATE_END_OF_LIST() { .flags = VMS_END }

/*
 * Write @opaque's state as @vmsd describes it (at vmsd->version_id):
 * pre_save, fields, needed subsections, post_save.  When @vmdesc (a
 * JSON object) is given, adds "vmsd_name", "version", "fields" and
 * "subsections" to it, QEMU's VMDESCRIPTION shape.  Returns 0, or a
 * negative errno with @errp set (naming the device); stream errors are
 * also left in @f.
 */
int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, json_t *vmdesc, Error **errp);

/*
 * Read state written by version @version_id of @vmsd into @opaque:
 * checks the version, pre_load, fields, subsections, post_load.
 * Returns 0, or a negative errno with @errp set naming the device and
 * what failed.
 */
int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, int version_id, Error **errp);

/* Does a top-level description have anything to save (needed())? */
bool vmstate_section_needed(const VMStateDescription *vmsd, void *opaque);

#endif /* MIGRATION_VMSTATE_H */
