/*
 * Guest RAM blocks: anonymous backing and the pages never written,
 * bounds of every access, software
 * dirty marks, iteration, and the dirty-log sync with a fake
 * accelerator that reports a known bitmap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "system-test.h"
#include "system/accel.h"
#include "system/ram.h"
#include "util/bitmap.h"
#include "util/bql.h"

#define MiB (1024 * 1024ULL)
#define PAGE TARGET_PAGE_SIZE

/* The fake accelerator's log: one bitmap per block, by block name. */
typedef struct FakeLog {
    bool started;
    unsigned starts, stops, syncs;
    bool fail_start;
    unsigned long *pending;     /* for "pc.ram" */
    uint64_t npages;
} FakeLog;

static FakeLog fake;

static bool fake_dirty_log_start(Error **errp)
{
    if (fake.fail_start) {
        error_setg(errp, "fake dirty log refused");
        return false;
    }
    fake.started = true;
    fake.starts++;
    return true;
}

static void fake_dirty_log_stop(void)
{
    fake.started = false;
    fake.stops++;
}

static void fake_dirty_log_sync(RAMBlock *block)
{
    fake.syncs++;
    if (strcmp(block->idstr, "pc.ram") != 0 || !fake.pending) {
        return;
    }
    ram_block_merge_dirty(block, fake.pending);
    bitmap_zero(fake.pending, fake.npages);
}

static const AccelOps fake_accel = {
    .name = "fake-ram",
    .dirty_log_start = fake_dirty_log_start,
    .dirty_log_stop = fake_dirty_log_stop,
    .dirty_log_sync = fake_dirty_log_sync,
};

static int setup(void **state)
{
    memset(&fake, 0, sizeof(fake));
    assert_true(accel_select("fake-ram", &error_abort));
    return 0;
}

static int teardown(void **state)
{
    ram_dirty_log_stop();
    ram_block_remove_all();
    bitmap_free(fake.pending);
    fake.pending = NULL;
    accel_reset_current();
    return 0;
}

static void test_add_and_lookup(void **state)
{
    RAMBlock *low = ram_block_add("pc.ram", 0, 8 * MiB, &error_abort);
    RAMBlock *high = ram_block_add("high", 16 * MiB, 2 * MiB,
                                   &error_abort);
    RAMBlock *b;
    unsigned n = 0;

    assert_non_null(low);
    assert_int_equal(low->npages, 8 * MiB / PAGE);
    /* On a huge page boundary, so that huge pages can back all of it. */
    assert_int_equal((uintptr_t)low->host % (2 * MiB), 0);
    assert_int_equal((uintptr_t)high->host % (2 * MiB), 0);
    assert_int_equal(low->slot, -1);
    assert_int_equal(ram_total_size(), 10 * MiB);
    assert_ptr_equal(ram_block_by_name("high"), high);
    assert_null(ram_block_by_name("nope"));
    assert_ptr_equal(ram_block_from_gpa(16 * MiB + 5), high);
    assert_null(ram_block_from_gpa(8 * MiB));
    RAMBLOCK_FOREACH(b) {
        assert_ptr_equal(b, n ? high : low);
        n++;
    }
    assert_int_equal(n, 2);
    /* Fresh memory is zero and clean. */
    assert_true(low->host[0] == 0 && low->host[8 * MiB - 1] == 0);
    assert_int_equal(ram_dirty_count(), 0);
}

static void test_add_errors(void **state)
{
    static const struct {
        const char *id;
        uint64_t gpa, size;
        const char *msg;
    } bad[] = {
        { "pc.ram", 1 * MiB, 1 * MiB, "already exists" },
        { "zero", 64 * MiB, 0, "non-zero multiples" },
        { "odd", 64 * MiB, PAGE + 1, "non-zero multiples" },
        { "unaligned", 64 * MiB + 1, PAGE, "non-zero multiples" },
        { "overlap", 4 * MiB, 8 * MiB, "overlaps 'pc.ram'" },
        { "wrap", UINT64_MAX - PAGE + 1, 2 * PAGE, "wraps around" },
    };

    ram_block_add("pc.ram", 0, 8 * MiB, &error_abort);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        Error *err = NULL;

        assert_null(ram_block_add(bad[i].id, bad[i].gpa, bad[i].size,
                                  &err));
        assert_non_null(strstr(error_get_pretty(err), bad[i].msg));
        error_free(err);
    }
    assert_int_equal(ram_total_size(), 8 * MiB);
}

/*
 * Pages never written are known without touching them; a write makes
 * its page (with a huge page: the 2 MiB around it) data, giving the
 * page back makes it a hole again.
 */
static void test_hole_pages(void **state)
{
    RAMBlock *b = ram_block_add("pc.ram", 0, 8 * MiB, &error_abort);
    uint64_t npages = 8 * MiB / PAGE;
    uint64_t all = UINT64_MAX;
    uint64_t below, run;
    bool hole;

    assert_int_equal(ram_block_hole_pages(b, 0, all), npages);
    assert_int_equal(ram_block_hole_pages(b, 5 * MiB, all),
                     npages - 5 * MiB / PAGE);
    /* No further than asked, nor past the end. */
    assert_int_equal(ram_block_hole_pages(b, 0, 7), 7);
    assert_int_equal(ram_block_hole_pages(b, 8 * MiB, all), 0);
    assert_int_equal(ram_block_hole_pages(b, TARGET_PAGE_MASK, all), 0);

    assert_true(ram_write(3 * MiB, "hello", 6, &error_abort));
    assert_int_equal(ram_block_hole_pages(b, 3 * MiB, all), 0);
    /* Up to the written page, or to its huge page's start. */
    below = ram_block_hole_pages(b, 0, all);
    assert_true(below == 3 * MiB / PAGE || below == 2 * MiB / PAGE);
    /* Past the page, or past its huge page. */
    assert_int_equal(ram_block_hole_pages(b, 4 * MiB, all), 4 * MiB / PAGE);
    /* The run of data: the page, or the rest of its huge page. */
    run = ram_block_run_pages(b, 3 * MiB, all, &hole);
    assert_false(hole);
    assert_true(run == 1 || run == 1 * MiB / PAGE);
    run = ram_block_run_pages(b, 4 * MiB, all, &hole);
    assert_true(hole);
    assert_int_equal(run, 4 * MiB / PAGE);

    assert_int_equal(madvise(b->host + 3 * MiB, PAGE, MADV_DONTNEED), 0);
    assert_true(ram_block_hole_pages(b, 3 * MiB, all) > 0);
    assert_int_equal(b->host[3 * MiB], 0);
}

static void test_access_bounds(void **state)
{
    uint8_t buf[2 * PAGE];
    Error *err = NULL;

    ram_block_add("pc.ram", 0, 4 * MiB, &error_abort);
    ram_block_add("high", 4 * MiB, 4 * MiB, &error_abort);
    memset(buf, 0xa5, sizeof(buf));

    assert_true(ram_write(4 * MiB - PAGE, buf, PAGE, &error_abort));
    assert_true(ram_read(0, buf, 0, &error_abort));
    /* Touching two blocks at once is refused, nothing is copied. */
    assert_false(ram_write(4 * MiB - PAGE, buf, 2 * PAGE, &err));
    assert_string_equal(error_get_pretty(err), "Guest memory [0x3ff000, "
                        "+0x2000) is not inside one RAM block");
    error_free(err);
    err = NULL;
    assert_false(ram_read(8 * MiB, buf, 1, &err));
    error_free(err);
    err = NULL;
    assert_false(ram_memset(UINT64_MAX, 0, 2, &err));
    error_free(err);
    err = NULL;
    assert_false(ram_read(1, buf, UINT64_MAX, &err));
    error_free(err);
    assert_null(ram_gpa_to_host(4 * MiB - 1, 2));
    assert_non_null(ram_gpa_to_host(4 * MiB, 4 * MiB));
    assert_null(ram_gpa_to_host(4 * MiB, 4 * MiB + 1));

    assert_true(ram_memset(4 * MiB + 10, 0x5a, 100, &error_abort));
    assert_true(ram_read(4 * MiB + 9, buf, 102, &error_abort));
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 0x5a);
    assert_int_equal(buf[100], 0x5a);
    assert_int_equal(buf[101], 0);
}

static void test_software_dirty(void **state)
{
    RAMBlock *b = ram_block_add("pc.ram", 0, 4 * MiB, &error_abort);
    RAMBlock *h = ram_block_add("high", 4 * MiB, 4 * MiB, &error_abort);
    uint8_t byte = 1;
    uint64_t page;

    /* One byte, a page-crossing range, a memset. */
    ram_write(5 * PAGE + 7, &byte, 1, &error_abort);
    ram_write(9 * PAGE - 1, "ab", 2, &error_abort);
    ram_memset(20 * PAGE, 0, 3 * PAGE, &error_abort);
    assert_int_equal(ram_block_dirty_count(b), 1 + 2 + 3);
    assert_true(ram_block_test_dirty(b, 5));
    assert_false(ram_block_test_dirty(b, 6));

    page = ram_block_next_dirty(b, 0);
    assert_int_equal(page, 5);
    page = ram_block_next_dirty(b, page + 1);
    assert_int_equal(page, 8);
    page = ram_block_next_dirty(b, page + 1);
    assert_int_equal(page, 9);
    page = ram_block_next_dirty(b, page + 1);
    assert_int_equal(page, 20);
    assert_int_equal(ram_block_next_dirty(b, 23), b->npages);
    assert_int_equal(ram_block_next_dirty(b, b->npages + 5), b->npages);

    assert_true(ram_block_test_and_clear_dirty(b, 5));
    assert_false(ram_block_test_and_clear_dirty(b, 5));
    assert_false(ram_block_test_and_clear_dirty(b, b->npages));
    assert_int_equal(ram_dirty_count(), 5);

    /* Marks straddling blocks land in both; outside RAM is ignored. */
    ram_mark_dirty(4 * MiB - 1, 2);
    ram_mark_dirty(100 * MiB, PAGE);
    ram_mark_dirty(UINT64_MAX - 10, 100);
    ram_mark_dirty(0, 0);
    assert_true(ram_block_test_dirty(b, b->npages - 1));
    assert_true(ram_block_test_dirty(h, 0));
    assert_int_equal(ram_dirty_count(), 7);

    ram_block_set_dirty_all(h);
    assert_int_equal(ram_block_dirty_count(h), h->npages);
    assert_int_equal(ram_block_next_dirty(h, h->npages - 1),
                     h->npages - 1);
    ram_block_clear_dirty_all(h);
    ram_block_clear_dirty_all(b);
    assert_int_equal(ram_dirty_count(), 0);
}

static void test_dirty_log_sync(void **state)
{
    /* An odd number of pages, so the last bitmap word is partial. */
    RAMBlock *b = ram_block_add("pc.ram", 0, 2 * MiB + 3 * PAGE,
                                &error_abort);
    static const uint64_t guest_pages[] = { 0, 63, 64, 200, 514 };
    uint64_t page;
    unsigned i = 0;

    fake.npages = b->npages;
    fake.pending = bitmap_new(BITS_TO_LONGS(b->npages) * BITS_PER_LONG);
    assert_false(ram_dirty_log_active());
    /* Sync without logging asks nothing of the accelerator. */
    ram_dirty_log_sync();
    assert_int_equal(fake.syncs, 0);

    fake.fail_start = true;
    {
        Error *err = NULL;

        assert_false(ram_dirty_log_start(&err));
        assert_string_equal(error_get_pretty(err),
                            "fake dirty log refused");
        error_free(err);
        assert_false(ram_dirty_log_active());
    }
    fake.fail_start = false;
    assert_true(ram_dirty_log_start(&error_abort));
    assert_true(ram_dirty_log_start(&error_abort));
    assert_int_equal(fake.starts, 1);
    assert_true(ram_dirty_log_active());

    for (size_t k = 0; k < G_N_ELEMENTS(guest_pages); k++) {
        set_bit(guest_pages[k], fake.pending);
    }
    /* Garbage past the block's end must not leak into its bitmap. */
    set_bit(b->npages + 1, fake.pending);
    ram_write(300 * PAGE, "x", 1, &error_abort);
    assert_int_equal(ram_dirty_count(), 1);

    ram_dirty_log_sync();
    assert_int_equal(fake.syncs, 1);
    assert_int_equal(ram_dirty_count(), G_N_ELEMENTS(guest_pages) + 1);
    for (page = ram_block_next_dirty(b, 0); page < b->npages;
         page = ram_block_next_dirty(b, page + 1)) {
        uint64_t want = i < 4 ? guest_pages[i] : i == 4 ? 300 : 514;

        assert_int_equal(page, want);
        i++;
    }
    assert_int_equal(i, 6);

    /* The accelerator's log was consumed: a second sync adds nothing. */
    ram_block_clear_dirty_all(b);
    ram_dirty_log_sync();
    assert_int_equal(ram_dirty_count(), 0);

    ram_dirty_log_stop();
    ram_dirty_log_stop();
    assert_int_equal(fake.stops, 1);
    assert_false(ram_dirty_log_active());
}

static void test_dirty_log_without_accel(void **state)
{
    Error *err = NULL;

    accel_reset_current();
    assert_false(ram_dirty_log_start(&err));
    assert_non_null(err);
    error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_lookup, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hole_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_bounds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_software_dirty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dirty_log_sync, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dirty_log_without_accel,
                                        setup, teardown),
    };
    int ret;

    accel_register(&fake_accel);
    bql_lock();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    bql_unlock();
    return ret;
}
