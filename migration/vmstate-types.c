/*
 * Encodings of the basic field types of vmstate descriptions: integers
 * big-endian in their own width, bools as one byte 0 or 1, buffers as
 * raw bytes.  Structs are handled by vmstate.c itself.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>

#include "migration/vmstate.h"

/*
 * Every get leaves a stream error to the caller, which checks the
 * QEMUFile once per field; only values the stream cannot hold are
 * reported here.
 */

static int get_bool(QEMUFile *f, void *pv, size_t size,
                    const VMStateField *field, Error **errp)
{
    int v = qemu_get_byte(f);

    if (v > 1) {
        error_setg(errp, "Invalid value %d for boolean field '%s'", v,
                   field->name);
        return -EINVAL;
    }
    *(bool *)pv = v;
    return 0;
}

static int put_bool(QEMUFile *f, void *pv, size_t size,
                    const VMStateField *field, Error **errp)
{
    qemu_put_byte(f, *(bool *)pv ? 1 : 0);
    return 0;
}

const VMStateInfo vmstate_info_bool = {
    .name = "bool",
    .get = get_bool,
    .put = put_bool,
};

/*
 * Integers: every width is read and written as its unsigned form;
 * the signed types differ only in the name the description shows.
 */
#define VMSTATE_INT_INFO(_name, _type, _utype, _get, _put)            \
    static int get_##_name(QEMUFile *f, void *pv, size_t size,        \
                           const VMStateField *field, Error **errp)   \
    {                                                                 \
        _utype v = _get(f);                                           \
        memcpy(pv, &v, sizeof(_type));                                \
        return 0;                                                     \
    }                                                                 \
    static int put_##_name(QEMUFile *f, void *pv, size_t size,        \
                           const VMStateField *field, Error **errp)   \
    {                                                                 \
        _utype v;                                                     \
        memcpy(&v, pv, sizeof(_type));                                \
        _put(f, v);                                                   \
        return 0;                                                     \
    }                                                                 \
    const VMStateInfo vmstate_info_##_name = {                        \
        .name = #_name,                                               \
        .get = get_##_name,                                           \
        .put = put_##_name,                                           \
    };

VMSTATE_INT_INFO(uint8, uint8_t, uint8_t, qemu_get_byte, qemu_put_byte)
VMSTATE_INT_INFO(int8, int8_t, uint8_t, qemu_get_byte, qemu_put_byte)
VMSTATE_INT_INFO(uint16, uint16_t, uint16_t, qemu_get_be16, qemu_put_be16)
VMSTATE_INT_INFO(int16, int16_t, uint16_t, qemu_get_be16, qemu_put_be16)
VMSTATE_INT_INFO(uint32, uint32_t, uint32_t, qemu_get_be32, qemu_put_be32)
VMSTATE_INT_INFO(int32, int32_t, uint32_t, qemu_get_be32, qemu_put_be32)
VMSTATE_INT_INFO(uint64, uint64_t, uint64_t, qemu_get_be64, qemu_put_be64)
VMSTATE_INT_INFO(int64, int64_t, uint64_t, qemu_get_be64, qemu_put_be64)

static int get_buffer(QEMUFile *f, void *pv, size_t size,
                      const VMStateField *field, Error **errp)
{
    qemu_get_buffer(f, pv, size);
    return 0;
}

static int put_buffer(QEMUFile *f, void *pv, size_t size,
                      const VMStateField *field, Error **errp)
{
    qemu_put_buffer(f, pv, size);
    return 0;
}

const VMStateInfo vmstate_info_buffer = {
    .name = "buffer",
    .get = get_buffer,
    .put = put_buffer,
};

/* vmstate.c recurses into field->vmsd itself; this only names the type. */
const VMStateInfo vmstate_info_struct = {
    .name = "struct",
};
