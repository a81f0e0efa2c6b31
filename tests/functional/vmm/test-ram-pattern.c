/*
 * The RAM pattern checker used on the dirtiers' snapshots: synthetic
 * snapshots of every consistent shape pass, torn ones fail and name the
 * offending page.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "ram-pattern.h"

#define PAGE RAM_PATTERN_PAGE_SIZE
#define NPAGES 64
#define START (4 * PAGE)
#define END (NPAGES * PAGE)

static uint8_t *ram_new(void)
{
    /* Other bytes of each page hold noise the checker must ignore. */
    uint8_t *ram = g_malloc(NPAGES * PAGE);
    size_t i;

    for (i = 0; i < NPAGES * PAGE; i++) {
        ram[i] = (uint8_t)(i * 7 + 3);
    }
    return ram;
}

/* The dirtier's state after @passes passes plus @pos pages of the next. */
static void dirty(uint8_t *ram, size_t start, size_t end, unsigned passes,
                  size_t pos)
{
    size_t addr, page = 0;

    for (addr = start; addr < end; addr += PAGE, page++) {
        ram[addr] = (uint8_t)(passes + (page < pos));
    }
}

static void test_consistent(void **state)
{
    g_autofree uint8_t *ram = ram_new();
    unsigned passes[] = { 0, 1, 7, 255, 256, 511 };
    size_t n = (END - START) / PAGE, i, pos;

    for (i = 0; i < G_N_ELEMENTS(passes); i++) {
        for (pos = 0; pos <= n; pos++) {
            g_autofree char *why = NULL;

            dirty(ram, START, END, passes[i], pos);
            if (!ram_pattern_check(ram, NPAGES * PAGE, START, END, &why)) {
                fail_msg("passes %u pos %zu: %s", passes[i], pos, why);
            }
        }
    }
}

static void expect_failure(const uint8_t *ram, unsigned parts,
                           const char *needle)
{
    g_autofree char *why = NULL;

    assert_false(ram_pattern_check_parts(ram, NPAGES * PAGE, START, END,
                                         parts, &why));
    assert_non_null(why);
    if (!strstr(why, needle)) {
        fail_msg("\"%s\" does not mention \"%s\"", why, needle);
    }
}

static void test_torn(void **state)
{
    g_autofree uint8_t *ram = ram_new();

    /* One page from another pass. */
    dirty(ram, START, END, 5, 10);
    ram[START + 20 * PAGE] = 9;
    expect_failure(ram, 1, "page at 0x18000 holds 0x09 after 0x05");

    /* Two boundaries: a copy of two different moments. */
    dirty(ram, START, END, 5, 10);
    ram[START + 30 * PAGE] = 4;
    expect_failure(ram, 1, "page at 0x22000 holds 0x04");

    /* A page ahead of its predecessor. */
    dirty(ram, START, END, 5, 0);
    ram[START + 3 * PAGE] = 6;
    expect_failure(ram, 1, "page at 0x7000 holds 0x06 after 0x05");

    /* A zeroed page in the middle (a page never copied). */
    dirty(ram, START, END, 5, 0);
    ram[START + 40 * PAGE] = 0;
    expect_failure(ram, 1, "page at 0x2c000 holds 0x00 after 0x05");
}

static void test_bad_span(void **state)
{
    g_autofree uint8_t *ram = ram_new();
    g_autofree char *why = NULL;

    assert_false(ram_pattern_check(ram, NPAGES * PAGE, START + 1, END, &why));
    assert_non_null(strstr(why, "bad span"));
    g_clear_pointer(&why, g_free);
    assert_false(ram_pattern_check(ram, NPAGES * PAGE, START,
                                   END + PAGE, &why));
    assert_non_null(strstr(why, "bad span"));
    g_clear_pointer(&why, g_free);
    assert_false(ram_pattern_check(ram, NPAGES * PAGE, END, START, NULL));
    assert_false(ram_pattern_check_parts(ram, NPAGES * PAGE, START, END, 0,
                                         &why));
    assert_non_null(strstr(why, "cannot split"));
}

/* Three vCPUs: parts of 20 pages each, each at its own position. */
static void test_parts(void **state)
{
    g_autofree uint8_t *ram = ram_new();
    size_t part = (END - START) / 3;
    g_autofree char *why = NULL;

    dirty(ram, START, START + part, 8, 3);
    dirty(ram, START + part, START + 2 * part, 8, 19);
    dirty(ram, START + 2 * part, END, 8, 0);
    if (!ram_pattern_check_parts(ram, NPAGES * PAGE, START, END, 3, &why)) {
        fail_msg("%s", why);
    }
    /* Seen as one span, that has three boundaries. */
    assert_false(ram_pattern_check(ram, NPAGES * PAGE, START, END, NULL));

    /* Every vCPU done with pass 9, vCPU 1 already in pass 10. */
    dirty(ram, START, START + part, 9, 0);
    dirty(ram, START + part, START + 2 * part, 9, 5);
    dirty(ram, START + 2 * part, END, 9, 0);
    assert_true(ram_pattern_check_parts(ram, NPAGES * PAGE, START, END, 3,
                                        NULL));

    /* A vCPU a whole pass ahead of another: the barrier failed. */
    dirty(ram, START, START + part, 9, 0);
    dirty(ram, START + part, START + 2 * part, 10, 5);
    dirty(ram, START + 2 * part, END, 9, 0);
    expect_failure(ram, 3, "different values");

    /* Wrapping from 255 to 0 is still two consecutive values. */
    dirty(ram, START, START + part, 255, 7);
    dirty(ram, START + part, START + 2 * part, 255, 0);
    dirty(ram, START + 2 * part, END, 255, 20);
    assert_true(ram_pattern_check_parts(ram, NPAGES * PAGE, START, END, 3,
                                        NULL));
}

static void test_file(void **state)
{
    g_autofree uint8_t *ram = ram_new();
    g_autofree char *dir = g_dir_make_tmp("ram-pattern-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ram.bin", NULL);
    g_autofree char *why = NULL;

    dirty(ram, START, END, 3, 17);
    assert_true(g_file_set_contents(path, (const char *)ram, NPAGES * PAGE,
                                    NULL));
    assert_true(ram_pattern_check_file(path, START, END, 1, NULL));
    assert_false(ram_pattern_check_file(path, START, END + PAGE, 1, NULL));

    /* A short file (a truncated snapshot) fails. */
    assert_true(g_file_set_contents(path, (const char *)ram, END / 2, NULL));
    assert_false(ram_pattern_check_file(path, START, END, 1, &why));
    assert_non_null(strstr(why, "bad span"));
    g_clear_pointer(&why, g_free);
    unlink(path);

    assert_false(ram_pattern_check_file(path, START, END, 1, &why));
    assert_non_null(why);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consistent),
        cmocka_unit_test(test_torn),
        cmocka_unit_test(test_bad_span),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
