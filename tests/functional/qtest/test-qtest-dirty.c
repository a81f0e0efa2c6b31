/*
 * Dirty logging seen through the qtest extension: after a clean start,
 * exactly the pages that qtest writes touched are dirty, reads and port
 * I/O dirty nothing, sub-ranges and clearing work, and the listing is
 * capped while the count stays exact.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qtest-fixture.h"

#define RAM_MIB 64
#define NPAGES (RAM_MIB * MiB / PAGE_SIZE)
#define PAGE(n) ((uint64_t)(n) * PAGE_SIZE)

static int setup(void **state)
{
    QtestFixture *f;

    if (qtest_fixture_start(state, RAM_MIB, NULL) < 0) {
        return -1;
    }
    f = *state;
    /* Start from nothing dirty: machine set-up wrote some pages. */
    if (!qtest_dirty_log_start(f->qt) || !qtest_dirty_log_sync(f->qt) ||
        !qtest_dirty_clear(f->qt, 0, f->ram_size)) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    return qtest_fixture_stop(state);
}

/* The dirty pages of [addr, addr + len) are exactly @want (relative). */
static void assert_dirty(QtestClient *qt, uint64_t addr, uint64_t len,
                         const uint64_t *want, size_t n)
{
    g_autoptr(GArray) pages = NULL;
    uint64_t count;

    assert_true(qtest_dirty_pages(qt, addr, len, &count, &pages));
    assert_int_equal(count, n);
    assert_int_equal(pages->len, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g_array_index(pages, uint64_t, i), want[i]);
    }
}

static void test_clean_start(void **state)
{
    QtestFixture *f = *state;

    assert_qtest_reply(f->qt, "OK 0", "dirty_pages 0x0 0x%" PRIx64,
                       f->ram_size);
    /* An empty range is fine too. */
    assert_qtest_reply(f->qt, "OK 0", "dirty_pages 0x1000 0x0");
}

static void write_some_pages(QtestClient *qt, uint64_t ram_size)
{
    uint8_t page[PAGE_SIZE];

    memset(page, 0xab, sizeof(page));
    assert_true(qtest_writeb(qt, PAGE(0) + 17, 1));
    /* 8 bytes across the boundary of pages 5 and 6. */
    assert_true(qtest_writeq(qt, PAGE(6) - 4, 0x1122334455667788ULL));
    /* From inside page 16 to inside page 19. */
    assert_true(qtest_memset(qt, PAGE(16) + 100, 0x5a, 3 * PAGE_SIZE));
    assert_true(qtest_memwrite(qt, PAGE(100) + 4095, page, 1));
    assert_true(qtest_bufwrite(qt, PAGE(200), page, PAGE_SIZE));
    assert_true(qtest_writew(qt, PAGE(300) + 2, 0));
    assert_true(qtest_writel(qt, ram_size - 4, 0xffffffff));
}

static void read_and_port_io(QtestClient *qt)
{
    uint8_t buf[3 * PAGE_SIZE];
    uint64_t q;
    uint8_t b;

    assert_true(qtest_readq(qt, PAGE(400), &q));
    assert_true(qtest_memread(qt, PAGE(401), buf, sizeof(buf)));
    assert_true(qtest_bufread(qt, PAGE(404), buf, sizeof(buf)));
    assert_true(qtest_outb(qt, 0x3ff, 0x12));
    assert_true(qtest_inb(qt, 0x3ff, &b));
}

static void test_exact_pages(void **state)
{
    QtestFixture *f = *state;
    QtestClient *qt = f->qt;
    const uint64_t all[] = {
        0, 5, 6, 16, 17, 18, 19, 100, 200, 300, NPAGES - 1,
    };
    const uint64_t sub[] = { 0, 1, 2, 3 };
    const uint64_t after_clear[] = {
        0, 5, 6, 18, 19, 100, 200, 300, NPAGES - 1,
    };

    write_some_pages(qt, f->ram_size);
    read_and_port_io(qt);
    assert_true(qtest_dirty_log_sync(qt));
    assert_dirty(qt, 0, f->ram_size, all, G_N_ELEMENTS(all));
    /* Listing is not consuming: the same answer again. */
    assert_dirty(qt, 0, f->ram_size, all, G_N_ELEMENTS(all));
    assert_qtest_reply(qt, "OK 11 0,5,6,16,17,18,19,100,200,300,16383",
                       "dirty_pages 0x0 0x%" PRIx64, f->ram_size);

    /* Sub-ranges count from their own start. */
    assert_dirty(qt, PAGE(16), PAGE(4), sub, G_N_ELEMENTS(sub));
    assert_qtest_reply(qt, "OK 2 0,1", "dirty_pages 0x%" PRIx64 " 0x%"
                       PRIx64, PAGE(5), PAGE(2));
    assert_qtest_reply(qt, "OK 0", "dirty_pages 0x%" PRIx64 " 0x%" PRIx64,
                       PAGE(7), PAGE(9));

    assert_true(qtest_dirty_clear(qt, PAGE(16), PAGE(2)));
    assert_dirty(qt, 0, f->ram_size, after_clear,
                 G_N_ELEMENTS(after_clear));

    assert_true(qtest_dirty_clear(qt, 0, f->ram_size));
    assert_dirty(qt, 0, f->ram_size, NULL, 0);
    assert_true(qtest_dirty_log_stop(qt));
}

/* Rewriting a page after clearing it makes it dirty again. */
static void test_redirty(void **state)
{
    QtestFixture *f = *state;
    QtestClient *qt = f->qt;
    const uint64_t one[] = { 42 };

    for (int round = 0; round < 3; round++) {
        assert_true(qtest_writeb(qt, PAGE(42) + round, round));
        assert_true(qtest_dirty_log_sync(qt));
        assert_dirty(qt, 0, f->ram_size, one, 1);
        assert_true(qtest_dirty_clear(qt, 0, f->ram_size));
        assert_dirty(qt, 0, f->ram_size, NULL, 0);
    }
}

/* More dirty pages than are listed: the first 4096, the exact count. */
static void test_listing_cap(void **state)
{
    QtestFixture *f = *state;
    QtestClient *qt = f->qt;
    g_autoptr(GArray) pages = NULL;
    g_autoptr(GArray) whole = NULL;
    uint64_t count;

    assert_true(qtest_memset(qt, PAGE(1000), 0x77, PAGE(5000)));
    assert_true(qtest_dirty_log_sync(qt));

    assert_true(qtest_dirty_pages(qt, PAGE(1000), PAGE(5000), &count,
                                  &pages));
    assert_int_equal(count, 5000);
    assert_int_equal(pages->len, 4096);
    for (unsigned i = 0; i < pages->len; i++) {
        assert_int_equal(g_array_index(pages, uint64_t, i), i);
    }

    assert_true(qtest_dirty_pages(qt, 0, f->ram_size, &count, &whole));
    assert_int_equal(count, 5000);
    assert_int_equal(whole->len, 4096);
    assert_int_equal(g_array_index(whole, uint64_t, 0), 1000);
    assert_int_equal(g_array_index(whole, uint64_t, 4095), 1000 + 4095);
    g_array_unref(whole);

    /* The client pages through the cap to get every one. */
    assert_true(qtest_writeb(qt, f->ram_size - 1, 1));
    whole = qtest_dirty_pages_all(qt, 0, f->ram_size);
    assert_non_null(whole);
    assert_int_equal(whole->len, 5001);
    for (unsigned i = 0; i < 5000; i++) {
        assert_int_equal(g_array_index(whole, uint64_t, i), 1000 + i);
    }
    assert_int_equal(g_array_index(whole, uint64_t, 5000), NPAGES - 1);
}

/* start, stop and sync may be repeated in any order. */
static void test_log_operations(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;

    assert_qtest_reply(qt, "OK", "dirty_log start");
    assert_qtest_reply(qt, "OK", "dirty_log start");
    assert_qtest_reply(qt, "OK", "dirty_log sync");
    assert_qtest_reply(qt, "OK", "dirty_log stop");
    assert_qtest_reply(qt, "OK", "dirty_log stop");
    assert_qtest_reply(qt, "OK", "dirty_log sync");
    assert_qtest_reply(qt, "OK", "dirty_log start");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_operations, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
