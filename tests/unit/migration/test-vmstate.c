/*
 * Tests for vmstate descriptions: the exact bytes of every field type,
 * nested structs, subsections, versions, hooks, the JSON description,
 * and malformed or truncated input.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "io/channel.h"
#include "migration/qemu-file.h"
#include "migration/vmstate.h"

typedef struct Inner {
    uint16_t a;
    uint32_t b;
} Inner;

static const VMStateDescription vmstate_inner = {
    .name = "inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(a, Inner),
        VMSTATE_UINT32(b, Inner),
        VMSTATE_END_OF_LIST()
    },
};

typedef struct Dev {
    bool flag;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint8_t arr8[3];
    uint16_t arr16[2];
    uint32_t arr32[2];
    uint64_t arr64[2];
    int32_t arri32[2];
    bool arrb[2];
    uint8_t buf[5];
    Inner inner;
    Inner inners[2];
    uint32_t v2field;       /* new in version 2 */
    uint8_t only_if_flag;   /* present only when flag is set */
    bool extra_needed;
    uint32_t extra;
    bool more_needed;
    uint16_t more;
} Dev;

static bool dev_extra_needed(void *opaque)
{
    return ((Dev *)opaque)->extra_needed;
}

static bool dev_more_needed(void *opaque)
{
    return ((Dev *)opaque)->more_needed;
}

static bool dev_flag_set(void *opaque, int version_id)
{
    return ((Dev *)opaque)->flag;
}

static const VMStateDescription vmstate_dev_extra = {
    .name = "dev/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = dev_extra_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, Dev),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_dev_more = {
    .name = "dev/more",
    .version_id = 2,
    .minimum_version_id = 2,
    .needed = dev_more_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(more, Dev),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_dev = {
    .name = "dev",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(flag, Dev),
        VMSTATE_INT8(i8, Dev),
        VMSTATE_INT16(i16, Dev),
        VMSTATE_INT32(i32, Dev),
        VMSTATE_INT64(i64, Dev),
        VMSTATE_UINT8(u8, Dev),
        VMSTATE_UINT16(u16, Dev),
        VMSTATE_UINT32(u32, Dev),
        VMSTATE_UINT64(u64, Dev),
        VMSTATE_UINT8_ARRAY(arr8, Dev, 3),
        VMSTATE_UINT16_ARRAY(arr16, Dev, 2),
        VMSTATE_UINT32_ARRAY(arr32, Dev, 2),
        VMSTATE_UINT64_ARRAY(arr64, Dev, 2),
        VMSTATE_INT32_ARRAY(arri32, Dev, 2),
        VMSTATE_BOOL_ARRAY(arrb, Dev, 2),
        VMSTATE_BUFFER(buf, Dev),
        VMSTATE_STRUCT(inner, Dev, 0, vmstate_inner, Inner),
        VMSTATE_STRUCT_ARRAY(inners, Dev, 2, 0, vmstate_inner, Inner),
        VMSTATE_UINT32_V(v2field, Dev, 2),
        VMSTATE_UINT8_TEST(only_if_flag, Dev, dev_flag_set),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_dev_extra,
        &vmstate_dev_more,
        NULL
    },
};

static const Dev dev_values = {
    .flag = true,
    .i8 = -2,
    .i16 = -3,
    .i32 = -4,
    .i64 = -5,
    .u8 = 0x11,
    .u16 = 0x2233,
    .u32 = 0x44556677,
    .u64 = 0x8899aabbccddeeffULL,
    .arr8 = { 1, 2, 3 },
    .arr16 = { 0x0405, 0x0607 },
    .arr32 = { 0x08090a0b, 0x0c0d0e0f },
    .arr64 = { 0x1011121314151617ULL, 0x18191a1b1c1d1e1fULL },
    .arri32 = { -1, 2 },
    .arrb = { false, true },
    .buf = "hello",
    .inner = { 0x2021, 0x22232425 },
    .inners = { { 0x3031, 0x32333435 }, { 0x4041, 0x42434445 } },
    .v2field = 0x50515253,
    .only_if_flag = 0x5a,
    .extra_needed = true,
    .extra = 0x60616263,
    .more_needed = false,
    .more = 0x7071,
};

/* dev_values in the stream: fields, then the "dev/extra" subsection. */
static const uint8_t dev_golden[] = {
    0x01,                                           /* flag */
    0xfe,                                           /* i8 */
    0xff, 0xfd,                                     /* i16 */
    0xff, 0xff, 0xff, 0xfc,                         /* i32 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb, /* i64 */
    0x11,                                           /* u8 */
    0x22, 0x33,                                     /* u16 */
    0x44, 0x55, 0x66, 0x77,                         /* u32 */
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, /* u64 */
    0x01, 0x02, 0x03,                               /* arr8 */
    0x04, 0x05, 0x06, 0x07,                         /* arr16 */
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, /* arr32 */
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, /* arr64 */
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x02, /* arri32 */
    0x00, 0x01,                                     /* arrb */
    'h', 'e', 'l', 'l', 'o',                        /* buf */
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25,             /* inner */
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35,             /* inners[0] */
    0x40, 0x41, 0x42, 0x43, 0x44, 0x45,             /* inners[1] */
    0x50, 0x51, 0x52, 0x53,                         /* v2field */
    0x5a,                                           /* only_if_flag */
    0x05, 0x09, 'd', 'e', 'v', '/', 'e', 'x', 't', 'r', 'a',
    0x00, 0x00, 0x00, 0x01,                         /* its version */
    0x60, 0x61, 0x62, 0x63,                         /* extra */
};

/* Offset of the "dev/extra" subsection in dev_golden. */
#define DEV_SUB_OFFSET (sizeof(dev_golden) - 19)
/* Offset of v2field. */
#define DEV_V2_OFFSET (DEV_SUB_OFFSET - 5)

/* Save @opaque with @vmsd into a new buffer (caller frees). */
static uint8_t *save_to_buffer(const VMStateDescription *vmsd, void *opaque,
                               json_t *vmdesc, size_t *len)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;

    assert_int_equal(vmstate_save_state(f, vmsd, opaque, vmdesc,
                                        &error_abort), 0);
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, len);
    assert_int_equal(qemu_fclose(f), 0);
    return g_memdup2(data, *len);
}

/*
 * Load @len bytes into @opaque.  Returns the result; *errp gets the
 * error.  When the load succeeds, the whole stream must be consumed.
 */
static int load_from(const VMStateDescription *vmsd, void *opaque,
                     int version_id, const void *data, size_t len,
                     Error **errp)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    int ret;

    qio_channel_buffer_set_data(ioc, data, len);
    f = qemu_file_new_input(ioc);
    ret = vmstate_load_state(f, vmsd, opaque, version_id, errp);
    if (ret == 0) {
        assert_int_equal(qemu_file_transferred(f), len);
        assert_int_equal(qemu_fclose(f), 0);
    } else {
        /* A failed load leaves the error in the stream as well. */
        assert_int_equal(qemu_file_get_error(f), ret);
        assert_int_equal(qemu_fclose(f), ret);
    }
    return ret;
}

static void assert_error_contains(Error *err, const char *text)
{
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), text)) {
        fail_msg("'%s' does not contain '%s'", error_get_pretty(err), text);
    }
}

/* Load expecting failure; the error must mention @text. */
static void load_fails(const VMStateDescription *vmsd, int version_id,
                       const void *data, size_t len, const char *text)
{
    Dev d = { 0 };
    Error *err = NULL;

    assert_true(load_from(vmsd, &d, version_id, data, len, &err) < 0);
    assert_error_contains(err, text);
    error_free(err);
}

static void test_save_golden(void **state)
{
    Dev d = dev_values;
    size_t len;
    g_autofree uint8_t *data = save_to_buffer(&vmstate_dev, &d, NULL, &len);

    assert_int_equal(len, sizeof(dev_golden));
    assert_memory_equal(data, dev_golden, len);
}

static void test_load_golden(void **state)
{
    Dev d, expect;

    memset(&d, 0, sizeof(d));
    memcpy(&expect, &dev_values, sizeof(expect));
    assert_int_equal(load_from(&vmstate_dev, &d, 2, dev_golden,
                               sizeof(dev_golden), &error_abort), 0);
    /* Flags for subsections are not in the stream. */
    expect.extra_needed = false;
    expect.more = 0;
    assert_memory_equal(&d, &expect, sizeof(d));
}

static void test_subsections(void **state)
{
    Dev d = dev_values, back;
    size_t len;
    g_autofree uint8_t *none = NULL, *both = NULL;
    static const uint8_t more[] = {
        0x05, 0x08, 'd', 'e', 'v', '/', 'm', 'o', 'r', 'e',
        0x00, 0x00, 0x00, 0x02, 0x70, 0x71,
    };

    /* Absent: the stream ends after the fields. */
    d.extra_needed = false;
    none = save_to_buffer(&vmstate_dev, &d, NULL, &len);
    assert_int_equal(len, DEV_SUB_OFFSET);
    assert_memory_equal(none, dev_golden, len);
    memset(&back, 0, sizeof(back));
    back.extra = 0xdead;
    assert_int_equal(load_from(&vmstate_dev, &back, 2, none, len,
                               &error_abort), 0);
    assert_int_equal(back.extra, 0xdead);       /* untouched */
    assert_int_equal(back.u64, dev_values.u64);

    /* Both, in the order of the description. */
    d.extra_needed = true;
    d.more_needed = true;
    both = save_to_buffer(&vmstate_dev, &d, NULL, &len);
    assert_int_equal(len, sizeof(dev_golden) + sizeof(more));
    assert_memory_equal(both, dev_golden, sizeof(dev_golden));
    assert_memory_equal(both + sizeof(dev_golden), more, sizeof(more));
    memset(&back, 0, sizeof(back));
    assert_int_equal(load_from(&vmstate_dev, &back, 2, both, len,
                               &error_abort), 0);
    assert_int_equal(back.extra, 0x60616263);
    assert_int_equal(back.more, 0x7071);
}

static void test_field_exists(void **state)
{
    Dev d = dev_values, back = { 0 };
    size_t len;
    g_autofree uint8_t *data = NULL;

    /* flag false: only_if_flag is left out both ways. */
    d.flag = false;
    d.extra_needed = false;
    data = save_to_buffer(&vmstate_dev, &d, NULL, &len);
    assert_int_equal(len, DEV_SUB_OFFSET - 1);
    assert_int_equal(data[0], 0);
    assert_memory_equal(data + 1, dev_golden + 1, len - 1);
    back.only_if_flag = 0x77;
    assert_int_equal(load_from(&vmstate_dev, &back, 2, data, len,
                               &error_abort), 0);
    assert_int_equal(back.only_if_flag, 0x77);
    assert_int_equal(back.v2field, dev_values.v2field);
}

static void test_versions(void **state)
{
    g_autofree uint8_t *v1 = g_malloc(sizeof(dev_golden) - 4);
    Dev d = { 0 };
    Error *err = NULL;

    /* Version 1 streams have no v2field. */
    memcpy(v1, dev_golden, DEV_V2_OFFSET);
    memcpy(v1 + DEV_V2_OFFSET, dev_golden + DEV_V2_OFFSET + 4,
           sizeof(dev_golden) - DEV_V2_OFFSET - 4);
    d.v2field = 0xabcd;
    assert_int_equal(load_from(&vmstate_dev, &d, 1, v1,
                               sizeof(dev_golden) - 4, &error_abort), 0);
    assert_int_equal(d.v2field, 0xabcd);
    assert_int_equal(d.only_if_flag, 0x5a);
    assert_int_equal(d.extra, 0x60616263);

    load_fails(&vmstate_dev, 3, dev_golden, sizeof(dev_golden),
               "Device 'dev': incoming version_id 3 is newer than the "
               "supported version_id 2");
    load_fails(&vmstate_dev, 0, dev_golden, sizeof(dev_golden),
               "Device 'dev': incoming version_id 0 is older than the "
               "minimum_version_id 1");

    /* A subsection's own version is checked the same way. */
    {
        g_autofree uint8_t *bad = g_memdup2(dev_golden, sizeof(dev_golden));

        bad[DEV_SUB_OFFSET + 14] = 2;
        load_fails(&vmstate_dev, 2, bad, sizeof(dev_golden),
                   "Device 'dev/extra': incoming version_id 2 is newer");
        bad[DEV_SUB_OFFSET + 11] = 0x80;
        bad[DEV_SUB_OFFSET + 14] = 0;
        load_fails(&vmstate_dev, 2, bad, sizeof(dev_golden),
                   "incoming version_id -2147483648 is older");
    }
    (void)err;
}

/* A copy of dev_golden with the subsection name replaced. */
static uint8_t *with_subsection(const char *name, size_t namelen,
                                size_t *len)
{
    size_t tail = sizeof(dev_golden) - DEV_SUB_OFFSET - 11;
    uint8_t *s;

    *len = DEV_SUB_OFFSET + 2 + namelen + tail;
    s = g_malloc(*len);
    memcpy(s, dev_golden, DEV_SUB_OFFSET);
    s[DEV_SUB_OFFSET] = 0x05;
    s[DEV_SUB_OFFSET + 1] = namelen;
    memcpy(s + DEV_SUB_OFFSET + 2, name, namelen);
    memcpy(s + DEV_SUB_OFFSET + 2 + namelen, dev_golden + DEV_SUB_OFFSET + 11,
           tail);
    return s;
}

static void test_bad_subsections(void **state)
{
    size_t len;
    g_autofree uint8_t *s1 = with_subsection("dev/extrb", 9, &len);
    g_autofree uint8_t *s2 = NULL, *s3 = NULL, *s4 = NULL, *s5 = NULL;

    load_fails(&vmstate_dev, 2, s1, len,
               "Device 'dev': unknown subsection 'dev/extrb'");
    s2 = with_subsection("xyz/extra", 9, &len);
    load_fails(&vmstate_dev, 2, s2, len,
               "Device 'dev': subsection 'xyz/extra' does not belong to it");
    s3 = with_subsection("dev/ex\0ra", 9, &len);
    load_fails(&vmstate_dev, 2, s3, len, "does not belong to it");
    s4 = with_subsection("", 0, &len);
    load_fails(&vmstate_dev, 2, s4, len, "empty subsection header");

    /* Name length running past the end of the stream. */
    s5 = g_memdup2(dev_golden, sizeof(dev_golden));
    s5[DEV_SUB_OFFSET + 1] = 200;
    load_fails(&vmstate_dev, 2, s5, sizeof(dev_golden),
               "truncated or empty subsection header");
    /* Name length too short: a different (unknown) name. */
    s5[DEV_SUB_OFFSET + 1] = 5;
    load_fails(&vmstate_dev, 2, s5, sizeof(dev_golden),
               "unknown subsection 'dev/e'");
    /* A marker alone at the end. */
    load_fails(&vmstate_dev, 2, dev_golden, DEV_SUB_OFFSET + 1,
               "truncated or empty subsection header");
}

static void test_bad_bool(void **state)
{
    g_autofree uint8_t *bad = g_memdup2(dev_golden, sizeof(dev_golden));

    bad[0] = 2;
    load_fails(&vmstate_dev, 2, bad, sizeof(dev_golden),
               "Failed to load dev:flag: Invalid value 2 for boolean field "
               "'flag'");
}

/*
 * Every proper prefix of the stream, followed by where a section footer
 * would be read: the load or the footer fails, with the stream's error
 * set, and nothing crashes (ASan checks the rest).
 */
static void test_truncated(void **state)
{
    for (size_t cut = 0; cut < sizeof(dev_golden); cut++) {
        g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
        QEMUFile *f;
        Error *err = NULL;
        Dev d = { 0 };
        int ret;

        qio_channel_buffer_set_data(ioc, dev_golden, cut);
        f = qemu_file_new_input(ioc);
        ret = vmstate_load_state(f, &vmstate_dev, &d, 2, &err);
        if (ret == 0) {
            /* Cut exactly before the optional subsection. */
            assert_int_equal(cut, DEV_SUB_OFFSET);
            qemu_get_byte(f);
        } else {
            assert_non_null(err);
            error_free(err);
        }
        assert_true(qemu_file_get_error(f) < 0);
        assert_true(qemu_fclose(f) < 0);
    }
}

/* Nested structs with subsections of their own. */
typedef struct Leaf {
    uint8_t v;
    bool sub_needed;
    uint32_t sub;
} Leaf;

static bool leaf_sub_needed(void *opaque)
{
    return ((Leaf *)opaque)->sub_needed;
}

static const VMStateDescription vmstate_leaf_sub = {
    .name = "leaf/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = leaf_sub_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(sub, Leaf),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_leaf = {
    .name = "leaf",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(v, Leaf),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_leaf_sub,
        NULL
    },
};

typedef struct Tree {
    Leaf leaf;
    uint8_t after;
    uint8_t after2;
} Tree;

static const VMStateDescription vmstate_tree = {
    .name = "tree",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(leaf, Tree, 0, vmstate_leaf, Leaf),
        VMSTATE_UINT8(after, Tree),
        VMSTATE_UINT8(after2, Tree),
        VMSTATE_END_OF_LIST()
    },
};

static void test_nested_subsections(void **state)
{
    Tree t = { .leaf = { .v = 9, .sub_needed = true, .sub = 0x01020304 },
               .after = 0x05, .after2 = 0x01 };
    Tree back = { 0 };
    static const uint8_t with_sub[] = {
        0x09,
        0x05, 0x08, 'l', 'e', 'a', 'f', '/', 's', 'u', 'b',
        0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
        0x05, 0x01,
    };
    size_t len;
    g_autofree uint8_t *data = save_to_buffer(&vmstate_tree, &t, NULL, &len);

    assert_int_equal(len, sizeof(with_sub));
    assert_memory_equal(data, with_sub, len);
    assert_int_equal(load_from(&vmstate_tree, &back, 1, data, len,
                               &error_abort), 0);
    assert_int_equal(back.leaf.sub, 0x01020304);
    assert_int_equal(back.after, 0x05);
    assert_int_equal(back.after2, 0x01);

    /*
     * Without the subsection, the next field's 0x05 0x01 looks like a
     * marker: it is not one, as no name of the leaf follows.
     */
    g_free(data);
    t.leaf.sub_needed = false;
    memset(&back, 0, sizeof(back));
    data = save_to_buffer(&vmstate_tree, &t, NULL, &len);
    assert_int_equal(len, 3);
    assert_int_equal(load_from(&vmstate_tree, &back, 1, data, len,
                               &error_abort), 0);
    assert_int_equal(back.leaf.v, 9);
    assert_int_equal(back.leaf.sub, 0);
    assert_int_equal(back.after, 0x05);
    assert_int_equal(back.after2, 0x01);
}

/* Hooks */

typedef struct Hooked {
    uint32_t value;
    int pre_save_ret;
    int post_save_ret;
    int pre_load_ret;
    int post_load_ret;
    bool post_load_errp_ok;
    int calls_pre_save, calls_post_save, calls_pre_load, calls_post_load;
    int seen_version;
} Hooked;

static int hooked_pre_save(void *opaque)
{
    Hooked *h = opaque;

    h->calls_pre_save++;
    h->value += 1000;       /* what is saved is what pre_save left */
    return h->pre_save_ret;
}

static int hooked_post_save(void *opaque)
{
    Hooked *h = opaque;

    h->calls_post_save++;
    return h->post_save_ret;
}

static int hooked_pre_load(void *opaque)
{
    Hooked *h = opaque;

    h->calls_pre_load++;
    return h->pre_load_ret;
}

static int hooked_post_load(void *opaque, int version_id)
{
    Hooked *h = opaque;

    h->calls_post_load++;
    h->seen_version = version_id;
    return h->post_load_ret;
}

static const VMStateDescription vmstate_hooked = {
    .name = "hooked",
    .version_id = 3,
    .minimum_version_id = 1,
    .pre_save = hooked_pre_save,
    .post_save = hooked_post_save,
    .pre_load = hooked_pre_load,
    .post_load = hooked_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(value, Hooked),
        VMSTATE_END_OF_LIST()
    },
};

static bool hooked_post_load_errp(void *opaque, int version_id,
                                  Error **errp)
{
    Hooked *h = opaque;

    h->calls_post_load++;
    if (!h->post_load_errp_ok) {
        error_setg(errp, "value %u out of range", h->value);
        return false;
    }
    return true;
}

static bool hooked_pre_save_errp(void *opaque, Error **errp)
{
    error_setg(errp, "not now");
    return false;
}

static const VMStateDescription vmstate_hooked_errp = {
    .name = "hooked-errp",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save_errp = hooked_pre_save_errp,
    .post_load_errp = hooked_post_load_errp,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(value, Hooked),
        VMSTATE_END_OF_LIST()
    },
};

static void test_hooks(void **state)
{
    Hooked h = { .value = 1 }, back = { 0 };
    static const uint8_t bytes[] = { 0x00, 0x00, 0x03, 0xe9 };
    size_t len;
    g_autofree uint8_t *data = save_to_buffer(&vmstate_hooked, &h, NULL,
                                              &len);

    assert_int_equal(h.calls_pre_save, 1);
    assert_int_equal(h.calls_post_save, 1);
    assert_int_equal(len, 4);
    assert_memory_equal(data, bytes, 4);

    assert_int_equal(load_from(&vmstate_hooked, &back, 2, data, len,
                               &error_abort), 0);
    assert_int_equal(back.value, 1001);
    assert_int_equal(back.calls_pre_load, 1);
    assert_int_equal(back.calls_post_load, 1);
    assert_int_equal(back.seen_version, 2);
}

static void test_hook_failures(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    static const uint8_t bytes[] = { 0x00, 0x00, 0x00, 0x07 };
    Hooked h = { .pre_save_ret = -EIO };
    Error *err = NULL;
    QEMUFile *f = qemu_file_new_output(ioc);
    size_t len;

    /* pre_save fails: nothing written, device named, stream failed. */
    assert_int_equal(vmstate_save_state(f, &vmstate_hooked, &h, NULL, &err),
                     -EIO);
    assert_error_contains(err, "Device 'hooked': pre_save failed: ");
    g_clear_pointer(&err, error_free);
    qemu_fflush(f);
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);
    assert_int_equal(qemu_fclose_errp(f, &err), -EIO);
    assert_error_contains(err, "pre_save failed");
    g_clear_pointer(&err, error_free);

    /* post_save failing is reported too. */
    f = qemu_file_new_output(ioc);
    h.pre_save_ret = 0;
    h.post_save_ret = -ENOSPC;
    assert_int_equal(vmstate_save_state(f, &vmstate_hooked, &h, NULL, &err),
                     -ENOSPC);
    assert_error_contains(err, "Device 'hooked': post_save failed");
    g_clear_pointer(&err, error_free);
    assert_int_equal(qemu_fclose(f), -ENOSPC);

    /* Load hooks. */
    h = (Hooked) { .pre_load_ret = -EINVAL };
    assert_int_equal(load_from(&vmstate_hooked, &h, 1, bytes, 4, &err),
                     -EINVAL);
    assert_error_contains(err, "Device 'hooked': pre_load failed: Invalid");
    g_clear_pointer(&err, error_free);
    assert_int_equal(h.value, 0);           /* stopped before the fields */

    h = (Hooked) { .post_load_ret = -ERANGE };
    assert_int_equal(load_from(&vmstate_hooked, &h, 1, bytes, 4, &err),
                     -ERANGE);
    assert_error_contains(err, "Device 'hooked': post_load failed");
    g_clear_pointer(&err, error_free);
    assert_int_equal(h.value, 7);

    /* The variants with an Error. */
    h = (Hooked) { 0 };
    assert_int_equal(load_from(&vmstate_hooked_errp, &h, 1, bytes, 4,
                               &err), -EINVAL);
    assert_error_contains(err, "Device 'hooked-errp': post_load failed: "
                          "value 7 out of range");
    g_clear_pointer(&err, error_free);
    h = (Hooked) { .post_load_errp_ok = true };
    assert_int_equal(load_from(&vmstate_hooked_errp, &h, 1, bytes, 4,
                               &error_abort), 0);
    f = qemu_file_new_output(ioc);
    assert_int_equal(vmstate_save_state(f, &vmstate_hooked_errp, &h, NULL,
                                        &err), -EINVAL);
    assert_error_contains(err, "Device 'hooked-errp': pre_save failed: "
                          "not now");
    g_clear_pointer(&err, error_free);
    assert_int_equal(qemu_fclose(f), -EINVAL);
}

/* Saving into a failed stream fails, naming the device and field. */
static void test_save_stream_error(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    Dev d = dev_values;
    Error *err = NULL;

    qemu_file_set_error(f, -EPIPE);
    assert_int_equal(vmstate_save_state(f, &vmstate_dev, &d, NULL, &err),
                     -EPIPE);
    assert_error_contains(err, "Failed to save dev:flag");
    error_free(err);
    assert_int_equal(qemu_fclose(f), -EPIPE);
}

static void test_vmdesc_exact(void **state)
{
    Tree t = { .leaf = { .v = 1, .sub_needed = true } };
    json_t *desc = json_object();
    size_t len;
    g_autofree uint8_t *data = save_to_buffer(&vmstate_tree, &t, desc, &len);
    g_autofree char *text = json_dumps(desc, JSON_COMPACT |
                                             JSON_PRESERVE_ORDER);

    assert_int_equal(len, 21);
    assert_int_equal(data[1], 0x05);

    assert_string_equal(text,
        "{\"vmsd_name\":\"tree\",\"version\":1,\"fields\":["
        "{\"name\":\"leaf\",\"type\":\"struct\",\"struct\":"
        "{\"vmsd_name\":\"leaf\",\"version\":1,\"fields\":["
        "{\"name\":\"v\",\"type\":\"uint8\",\"size\":1}],"
        "\"subsections\":[{\"vmsd_name\":\"leaf/sub\",\"version\":1,"
        "\"fields\":[{\"name\":\"sub\",\"type\":\"uint32\",\"size\":4}]}]},"
        "\"size\":19},"
        "{\"name\":\"after\",\"type\":\"uint8\",\"size\":1},"
        "{\"name\":\"after2\",\"type\":\"uint8\",\"size\":1}]}");
    json_decref(desc);
}

static json_t *desc_field(json_t *desc, size_t i)
{
    return json_array_get(json_object_get(desc, "fields"), i);
}

static void assert_desc_field(json_t *field, const char *name,
                              const char *type, int size)
{
    assert_non_null(field);
    assert_string_equal(json_string_value(json_object_get(field, "name")),
                        name);
    assert_string_equal(json_string_value(json_object_get(field, "type")),
                        type);
    assert_int_equal(json_integer_value(json_object_get(field, "size")),
                     size);
}

static void test_vmdesc_dev(void **state)
{
    Dev d = dev_values;
    json_t *desc = json_object(), *f, *subs;
    size_t len;
    g_autofree uint8_t *data = save_to_buffer(&vmstate_dev, &d, desc, &len);

    assert_string_equal(json_string_value(json_object_get(desc,
                                                          "vmsd_name")),
                        "dev");
    assert_int_equal(json_integer_value(json_object_get(desc, "version")),
                     2);
    /* 15 plain fields, buffer, inner, 2 x inners, v2field, only_if_flag */
    assert_int_equal(json_array_size(json_object_get(desc, "fields")), 21);
    assert_desc_field(desc_field(desc, 0), "flag", "bool", 1);
    assert_desc_field(desc_field(desc, 4), "i64", "int64", 8);
    assert_desc_field(desc_field(desc, 7), "u32", "uint32", 4);
    f = desc_field(desc, 11);
    assert_desc_field(f, "arr32", "uint32", 4);
    assert_int_equal(json_integer_value(json_object_get(f, "array_len")), 2);
    assert_desc_field(desc_field(desc, 15), "buf", "buffer", 5);
    assert_desc_field(desc_field(desc, 16), "inner", "struct", 6);
    f = desc_field(desc, 18);
    assert_desc_field(f, "inners", "struct", 6);
    assert_int_equal(json_integer_value(json_object_get(f, "index")), 1);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(f, "struct"), "vmsd_name")), "inner");
    assert_desc_field(desc_field(desc, 20), "only_if_flag", "uint8", 1);
    subs = json_object_get(desc, "subsections");
    assert_int_equal(json_array_size(subs), 1);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(subs, 0), "vmsd_name")), "dev/extra");
    json_decref(desc);

    /* No subsection needed: no "subsections" member, as QEMU. */
    d.extra_needed = false;
    desc = json_object();
    g_free(data);
    data = save_to_buffer(&vmstate_dev, &d, desc, &len);
    assert_null(json_object_get(desc, "subsections"));
    json_decref(desc);
}

static void test_section_needed(void **state)
{
    Dev d = dev_values;

    assert_true(vmstate_section_needed(&vmstate_dev, &d));
    assert_true(vmstate_section_needed(&vmstate_dev_extra, &d));
    assert_false(vmstate_section_needed(&vmstate_dev_more, &d));
}

/* Raw blobs of any type, in host order. */
typedef struct Blob {
    struct {
        uint16_t x;
        uint8_t y[6];
    } s;
} Blob;

static const VMStateDescription vmstate_blob = {
    .name = "blob",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER_UNSAFE(s, Blob, 0, sizeof(((Blob *)0)->s)),
        VMSTATE_END_OF_LIST()
    },
};

static void test_buffer_unsafe(void **state)
{
    Blob b = { { 0x1234, "abcde" } }, back = { 0 };
    size_t len;
    g_autofree uint8_t *data = save_to_buffer(&vmstate_blob, &b, NULL, &len);

    assert_int_equal(len, 8);
    assert_memory_equal(data, &b, 8);
    assert_int_equal(load_from(&vmstate_blob, &back, 1, data, len,
                               &error_abort), 0);
    assert_memory_equal(&back, &b, sizeof(b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_golden),
        cmocka_unit_test(test_load_golden),
        cmocka_unit_test(test_subsections),
        cmocka_unit_test(test_field_exists),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_bad_subsections),
        cmocka_unit_test(test_bad_bool),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_nested_subsections),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_hook_failures),
        cmocka_unit_test(test_save_stream_error),
        cmocka_unit_test(test_vmdesc_exact),
        cmocka_unit_test(test_vmdesc_dev),
        cmocka_unit_test(test_section_needed),
        cmocka_unit_test(test_buffer_unsafe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
