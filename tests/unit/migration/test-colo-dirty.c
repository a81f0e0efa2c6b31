/*
 * The secondary's dirty set on the wire (x-colo-lean): what the
 * secondary writes from its bitmaps, the primary reads back and merges
 * into its own, counting the pages that were not dirty there; and every
 * malformed set is refused with the reason, before anything is merged
 * into RAM's bitmaps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "io/channel-buffer.h"
#include "migration/colo-dirty.h"
#include "migration/qemu-file.h"
#include "ram-test.h"
#include "system/ram.h"
#include "util/bitmap.h"

#define PAGE TARGET_PAGE_SIZE
#define PC_PAGES 130            /* three words, the last partial */
#define EXT_PAGES 3

static RAMBlock *pc, *ext;

static int setup(void **state)
{
    ram_test_accel_setup();
    pc = ram_block_add("pc.ram", 0, PC_PAGES * PAGE, &error_abort);
    ext = ram_block_add("ext.ram", 0x1000000, EXT_PAGES * PAGE,
                        &error_abort);
    return 0;
}

static int teardown(void **state)
{
    ram_test_teardown();
    return 0;
}

/* The bytes @put writes, as a GByteArray. */
static GByteArray *written(void (*put)(QEMUFile *f))
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    GByteArray *b = g_byte_array_new();
    const uint8_t *data;
    size_t len;

    put(f);
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, &len);
    g_byte_array_append(b, data, len);
    qemu_fclose(f);
    return b;
}

/* Read @b into @set: true, or false with the error's text in *@why. */
static bool read_set(ColoDirtySet *set, GByteArray *b, char **why)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    Error *err = NULL;
    bool ok;

    qio_channel_buffer_set_data(ioc, b->data, b->len);
    f = qemu_file_new_input(ioc);
    ok = colo_dirty_set_get(set, f, &err);
    qemu_fclose(f);
    if (why) {
        *why = ok ? NULL : g_strdup(error_get_pretty(err));
    }
    error_free(err);
    return ok;
}

static void put_be32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

    g_byte_array_append(b, x, 4);
}

static void put_be64(GByteArray *b, uint64_t v)
{
    put_be32(b, v >> 32);
    put_be32(b, v);
}

static void put_block(GByteArray *b, const char *id, uint64_t npages,
                      uint32_t nwords)
{
    uint8_t len = strlen(id);

    g_byte_array_append(b, &len, 1);
    g_byte_array_append(b, (const uint8_t *)id, len);
    put_be64(b, npages);
    put_be32(b, nwords);
}

static void test_round_trip(void **state)
{
    g_autoptr(GByteArray) b = NULL;
    ColoDirtySet *set = colo_dirty_set_new();

    /* The secondary's guest wrote these. */
    set_bit(0, pc->dirty);
    set_bit(63, pc->dirty);
    set_bit(129, pc->dirty);        /* the tail */
    set_bit(2, ext->dirty);
    b = written(colo_dirty_set_put_ram);
    /* Two blocks; pc.ram: two non-zero words, ext.ram: one. */
    assert_int_equal(b->len, 4 + (1 + 6 + 8 + 4 + 2 * 12) +
                                 (1 + 7 + 8 + 4 + 12));

    /* The primary, whose own guest dirtied pages 63 and 64. */
    ram_block_clear_dirty_all(pc);
    ram_block_clear_dirty_all(ext);
    set_bit(63, pc->dirty);
    set_bit(64, pc->dirty);
    assert_true(read_set(set, b, NULL));
    assert_int_equal(colo_dirty_set_count(set), 4);
    /* Nothing reaches RAM's bitmaps before the merge. */
    assert_int_equal(ram_dirty_count(), 2);
    assert_int_equal(colo_dirty_set_merge(set), 3);
    assert_int_equal(colo_dirty_set_count(set), 0);
    assert_int_equal(ram_dirty_count(), 5);
    assert_true(test_bit(0, pc->dirty) && test_bit(63, pc->dirty) &&
                test_bit(64, pc->dirty) && test_bit(129, pc->dirty) &&
                test_bit(2, ext->dirty));
    /* Merged again: nothing new. */
    assert_true(read_set(set, b, NULL));
    assert_int_equal(colo_dirty_set_merge(set), 0);
    colo_dirty_set_free(set);
}

static void test_empty(void **state)
{
    g_autoptr(GByteArray) b = written(colo_dirty_set_put_empty);
    g_autoptr(GByteArray) clean = written(colo_dirty_set_put_ram);
    ColoDirtySet *set = colo_dirty_set_new();

    assert_int_equal(b->len, 4);
    assert_true(read_set(set, b, NULL));
    /* Clean blocks are listed with no words. */
    assert_true(read_set(set, clean, NULL));
    assert_int_equal(colo_dirty_set_count(set), 0);
    assert_int_equal(colo_dirty_set_merge(set), 0);
    colo_dirty_set_free(set);
}

/* @b must be refused with a message containing @expect. */
static void assert_refused(GByteArray *b, const char *expect)
{
    ColoDirtySet *set = colo_dirty_set_new();
    g_autofree char *why = NULL;

    if (read_set(set, b, &why)) {
        fail_msg("accepted a set that should fail with \"%s\"", expect);
    }
    if (!strstr(why, expect)) {
        fail_msg("\"%s\" does not say \"%s\"", why, expect);
    }
    colo_dirty_set_free(set);
    g_byte_array_set_size(b, 0);
    /* Refused sets never touched RAM's bitmaps. */
    assert_int_equal(ram_dirty_count(), 0);
}

static void test_malformed(void **state)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    put_be32(b, 3);
    assert_refused(b, "reports dirty pages of 3 RAM blocks, there are 2");

    put_be32(b, 1);
    put_block(b, "nope.ram", 3, 0);
    assert_refused(b, "unknown RAM block 'nope.ram'");

    put_be32(b, 2);
    put_block(b, "ext.ram", EXT_PAGES, 0);
    put_block(b, "ext.ram", EXT_PAGES, 0);
    assert_refused(b, "reports RAM block 'ext.ram' twice");

    put_be32(b, 1);
    put_block(b, "ext.ram", EXT_PAGES + 1, 0);
    assert_refused(b, "'ext.ram' has 4 pages, here it has 3");

    put_be32(b, 1);
    put_block(b, "pc.ram", PC_PAGES, 4);
    assert_refused(b, "4 dirty words for RAM block 'pc.ram' of 3 words");

    put_be32(b, 1);
    put_block(b, "pc.ram", PC_PAGES, 2);
    put_be32(b, 1);
    put_be64(b, 1);
    put_be32(b, 1);
    put_be64(b, 2);
    assert_refused(b, "dirty word 1 of RAM block 'pc.ram' is out of order");

    put_be32(b, 1);
    put_block(b, "pc.ram", PC_PAGES, 1);
    put_be32(b, 3);
    put_be64(b, 1);
    assert_refused(b, "dirty word 3 of RAM block 'pc.ram' is out of order "
                   "or past its end");

    /* Page 130 of a 130-page block: bit 2 of the last word. */
    put_be32(b, 1);
    put_block(b, "pc.ram", PC_PAGES, 1);
    put_be32(b, 2);
    put_be64(b, 1 << 2);
    assert_refused(b, "dirty pages past the end of RAM block 'pc.ram'");

    put_be32(b, 1);
    put_block(b, "pc.ram", PC_PAGES, 2);
    put_be32(b, 0);
    put_be64(b, 1);
    put_be32(b, 1);
    assert_refused(b, "the secondary's dirty pages are cut short");

    put_be32(b, 1);
    put_block(b, "pc.ram", PC_PAGES, 0);
    g_byte_array_set_size(b, b->len - 2);
    assert_refused(b, "cut short");

    g_byte_array_set_size(b, 2);
    assert_refused(b, "cut short");
}

/*
 * Random damage to a valid set: every result is either a clean refusal
 * or a set whose merge stays inside the blocks (the sanitizer build
 * checks the memory side).
 */
static void test_mutations(void **state)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x6c65616e);
    g_autoptr(GByteArray) valid = NULL;
    unsigned accepted = 0, refused = 0;

    for (uint64_t p = 0; p < PC_PAGES; p += 7) {
        set_bit(p, pc->dirty);
    }
    set_bit(1, ext->dirty);
    valid = written(colo_dirty_set_put_ram);
    ram_block_clear_dirty_all(pc);
    ram_block_clear_dirty_all(ext);

    for (int i = 0; i < 4000; i++) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        ColoDirtySet *set = colo_dirty_set_new();
        int flips = g_rand_int_range(rand, 1, 4);

        g_byte_array_append(b, valid->data, valid->len);
        for (int k = 0; k < flips; k++) {
            b->data[g_rand_int_range(rand, 0, b->len)] = g_rand_int(rand);
        }
        if (g_rand_boolean(rand)) {
            g_byte_array_set_size(b, g_rand_int_range(rand, 0, b->len + 1));
        }
        if (read_set(set, b, NULL)) {
            accepted++;
            assert_true(colo_dirty_set_merge(set) <= PC_PAGES + EXT_PAGES);
            ram_block_clear_dirty_all(pc);
            ram_block_clear_dirty_all(ext);
        } else {
            refused++;
        }
        colo_dirty_set_free(set);
    }
    print_message("%u accepted, %u refused\n", accepted, refused);
    assert_true(accepted > 0 && refused > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
    };

    ram_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
