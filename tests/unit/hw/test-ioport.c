/*
 * Tests for the port I/O bus: registration and overlap errors, dispatch
 * of 1/2/4-byte accesses, splitting at region edges, unassigned ports.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>

#include "system/ioport.h"

/* A device that records accesses and reads back base + offset. */
typedef struct FakeDev {
    uint8_t id;
    unsigned reads;
    unsigned writes;
    uint16_t last_off;
    unsigned last_size;
    uint64_t last_val;
} FakeDev;

static uint64_t fake_read(void *opaque, uint16_t off, unsigned size)
{
    FakeDev *d = opaque;
    uint64_t v = 0;

    d->reads++;
    d->last_off = off;
    d->last_size = size;
    /* Every byte tells which device and offset it came from. */
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)(uint8_t)(d->id + off + i) << (8 * i);
    }
    /* Garbage above the access size must be masked by the bus. */
    return v | 0xdead000000000000ull;
}

static void fake_write(void *opaque, uint16_t off, uint64_t val,
                       unsigned size)
{
    FakeDev *d = opaque;

    d->writes++;
    d->last_off = off;
    d->last_size = size;
    d->last_val = val;
}

static const PortIOOps fake_ops = { .read = fake_read, .write = fake_write };

static int teardown(void **state)
{
    ioport_unregister_all();
    return 0;
}

static void expect_register_error(const char *name, uint16_t base,
                                  uint16_t len, const char *msg)
{
    Error *err = NULL;

    assert_false(ioport_register(name, base, len, &fake_ops, NULL, &err));
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), msg);
    error_free(err);
}

static void test_register_overlap(void **state)
{
    FakeDev a = { .id = 0x10 };
    Error *err = NULL;

    assert_true(ioport_register("serial", 0x3f8, 8, &fake_ops, &a,
                                &error_abort));
    expect_register_error("other", 0x3f8, 8,
                          "I/O port region 'other' (0x3f8-0x3ff) overlaps "
                          "'serial' (0x3f8-0x3ff)");
    expect_register_error("low", 0x3f0, 9,
                          "I/O port region 'low' (0x3f0-0x3f8) overlaps "
                          "'serial' (0x3f8-0x3ff)");
    expect_register_error("high", 0x3ff, 1,
                          "I/O port region 'high' (0x3ff-0x3ff) overlaps "
                          "'serial' (0x3f8-0x3ff)");
    expect_register_error("cover", 0x300, 0x200,
                          "I/O port region 'cover' (0x300-0x4ff) overlaps "
                          "'serial' (0x3f8-0x3ff)");
    assert_false(ioport_register("noops", 0x100, 1, NULL, NULL, &err));
    assert_string_equal(error_get_pretty(err),
                        "I/O port region 'noops' has no accessors");
    error_free(err);
    expect_register_error("empty", 0x100, 0,
                          "I/O port region 'empty' at 0x100 is empty");
    expect_register_error("wrap", 0xfff0, 0x20,
                          "I/O port region 'wrap' (0xfff0-0x1000f) runs "
                          "past port 0xffff");
    /* Neighbours on both sides are fine. */
    assert_true(ioport_register("below", 0x3f0, 8, &fake_ops, &a,
                                &error_abort));
    assert_true(ioport_register("above", 0x400, 1, &fake_ops, &a,
                                &error_abort));
    assert_true(ioport_register("top", 0xffff, 1, &fake_ops, &a,
                                &error_abort));
    assert_string_equal(ioport_region_name(0x3f7), "below");
    assert_string_equal(ioport_region_name(0x3f8), "serial");
    assert_string_equal(ioport_region_name(0x3ff), "serial");
    assert_string_equal(ioport_region_name(0x400), "above");
    assert_string_equal(ioport_region_name(0xffff), "top");
    assert_null(ioport_region_name(0x401));
}

static void test_unregister(void **state)
{
    FakeDev a = { .id = 0x10 };

    assert_true(ioport_register("a", 0x80, 4, &fake_ops, &a, &error_abort));
    assert_false(ioport_unregister(0x81));  /* not a base */
    assert_true(ioport_unregister(0x80));
    assert_false(ioport_unregister(0x80));
    assert_int_equal(ioport_read(0x80, 1), 0xff);
    /* The range is free again. */
    assert_true(ioport_register("b", 0x80, 4, &fake_ops, &a, &error_abort));
}

static void test_unassigned(void **state)
{
    FakeDev a = { .id = 0x10 };

    assert_int_equal(ioport_read(0x1234, 1), 0xff);
    assert_int_equal(ioport_read(0x1234, 2), 0xffff);
    assert_int_equal(ioport_read(0x1234, 4), 0xffffffffu);
    ioport_write(0x1234, 0x55, 1);      /* ignored, must not crash */
    ioport_write(0xffff, 0x55667788, 4); /* wraps past the end */
    /* Bad sizes read all ones and are not dispatched. */
    assert_true(ioport_register("a", 0x60, 8, &fake_ops, &a, &error_abort));
    assert_int_equal(ioport_read(0x60, 3), UINT64_MAX);
    ioport_write(0x60, 1, 8);
    assert_int_equal(a.reads, 0);
    assert_int_equal(a.writes, 0);
}

static void test_dispatch_whole(void **state)
{
    FakeDev a = { .id = 0x10 };

    assert_true(ioport_register("a", 0x60, 8, &fake_ops, &a, &error_abort));
    assert_int_equal(ioport_read(0x62, 1), 0x12);
    assert_int_equal(a.last_off, 2);
    assert_int_equal(a.last_size, 1);
    assert_int_equal(ioport_read(0x62, 2), 0x1312);
    assert_int_equal(a.last_size, 2);
    assert_int_equal(ioport_read(0x64, 4), 0x17161514);
    assert_int_equal(a.last_size, 4);
    assert_int_equal(a.reads, 3);

    ioport_write(0x61, 0x1ff, 1);
    assert_int_equal(a.last_off, 1);
    assert_int_equal(a.last_val, 0xff);     /* masked to the size */
    ioport_write(0x64, 0xaabbccddeeull, 4);
    assert_int_equal(a.last_size, 4);
    assert_int_equal(a.last_val, 0xbbccddee);
    assert_int_equal(a.writes, 2);
}

static void test_dispatch_split(void **state)
{
    FakeDev a = { .id = 0x10 }, b = { .id = 0x40 };

    assert_true(ioport_register("a", 0x60, 2, &fake_ops, &a, &error_abort));
    assert_true(ioport_register("b", 0x62, 2, &fake_ops, &b, &error_abort));
    /* Straddles a and b: each byte goes to its owner. */
    assert_int_equal(ioport_read(0x61, 2), 0x4011);
    assert_int_equal(a.last_size, 1);
    assert_int_equal(b.last_size, 1);
    /* Runs off b's end into nothing: the missing byte reads 0xff. */
    assert_int_equal(ioport_read(0x62, 4), 0xffff4140);
    ioport_write(0x61, 0xa1b2, 2);
    assert_int_equal(a.last_off, 1);
    assert_int_equal(a.last_val, 0xb2);
    assert_int_equal(b.last_off, 0);
    assert_int_equal(b.last_val, 0xa1);
}

static void test_null_accessors(void **state)
{
    static const PortIOOps write_only = { .write = fake_write };
    FakeDev a = { .id = 0x10 };

    assert_true(ioport_register("wo", 0x501, 1, &write_only, &a,
                                &error_abort));
    assert_int_equal(ioport_read(0x501, 1), 0xff);
    ioport_write(0x501, 7, 1);
    assert_int_equal(a.writes, 1);
    assert_int_equal(a.last_val, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register_overlap, teardown),
        cmocka_unit_test_teardown(test_unregister, teardown),
        cmocka_unit_test_teardown(test_unassigned, teardown),
        cmocka_unit_test_teardown(test_dispatch_whole, teardown),
        cmocka_unit_test_teardown(test_dispatch_split, teardown),
        cmocka_unit_test_teardown(test_null_accessors, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
