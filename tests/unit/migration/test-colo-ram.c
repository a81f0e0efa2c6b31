/*
 * The COLO RAM cache on a machine of two blocks (one longer than a
 * bitmap word) and a fake accelerator whose dirty log stands for the
 * secondary's guest: checkpoints are loaded through the real "ram"
 * section loader, and after each commit RAM must equal the checkpoint
 * exactly, with no page copied that did not need to be.  The same in
 * lean mode (no cache, a staging area), where the checkpoint must also
 * carry every page the guest wrote.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "io/channel-buffer.h"
#include "migration/colo-ram.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "ram-test.h"
#include "system/ram.h"
#include "util/bitmap.h"

#define PAGE TARGET_PAGE_SIZE
#define PC_PAGES 130            /* three bitmap words, the last partial */
#define EXT_PAGES 3
#define EXT_GPA 0x1000000

typedef struct Machine {
    RAMBlock *pc;
    RAMBlock *ext;
} Machine;

static Machine machine;

/* Content of page @page of a block before COLO starts: a tag per page. */
static uint8_t initial_byte(RAMBlock *b, uint64_t page)
{
    return (b == machine.ext ? 0x80 : 0x10) + page % 64;
}

/*
 * pc.ram: pages 0..99 hold their tag, 100..129 were never written
 * (never mapped).  ext.ram: every page holds its tag.
 */
static void machine_create(void)
{
    machine.pc = ram_block_add("pc.ram", 0, PC_PAGES * PAGE, &error_abort);
    machine.ext = ram_block_add("ext.ram", EXT_GPA, EXT_PAGES * PAGE,
                                &error_abort);
    for (uint64_t p = 0; p < 100; p++) {
        memset(machine.pc->host + p * PAGE, initial_byte(machine.pc, p),
               PAGE);
    }
    for (uint64_t p = 0; p < EXT_PAGES; p++) {
        memset(machine.ext->host + p * PAGE, initial_byte(machine.ext, p),
               PAGE);
    }
}

static int setup(void **state)
{
    ram_test_accel_setup();
    machine_create();
    /* Precopy and boot leave marks behind; init must start clean. */
    ram_block_set_dirty_all(machine.pc);
    return 0;
}

static int teardown(void **state)
{
    colo_ram_cache_free();
    ram_test_teardown();
    return 0;
}

/* ---- checks ---- */

static bool page_filled(const uint8_t *p, uint8_t byte)
{
    for (int i = 0; i < PAGE; i++) {
        if (p[i] != byte) {
            return false;
        }
    }
    return true;
}

static void assert_ram_page(RAMBlock *b, uint64_t page, uint8_t byte)
{
    if (!page_filled(b->host + page * PAGE, byte)) {
        fail_msg("%s page %" PRIu64 ": expected 0x%02x, found 0x%02x",
                 b->idstr, page, byte, b->host[page * PAGE]);
    }
}

/* Every page of RAM still holds what machine_create() put there. */
static void assert_ram_initial(void)
{
    for (uint64_t p = 0; p < PC_PAGES; p++) {
        assert_ram_page(machine.pc, p, p < 100 ? initial_byte(machine.pc, p)
                                               : 0);
    }
    for (uint64_t p = 0; p < EXT_PAGES; p++) {
        assert_ram_page(machine.ext, p, initial_byte(machine.ext, p));
    }
}

static uint64_t expected_bytes(void)
{
    return (PC_PAGES + EXT_PAGES) * PAGE +
           (BITS_TO_LONGS(PC_PAGES) + BITS_TO_LONGS(EXT_PAGES)) *
           sizeof(unsigned long);
}

/* ---- the stream ---- */

static void put_be64(GByteArray *b, uint64_t v)
{
    for (int shift = 56; shift >= 0; shift -= 8) {
        uint8_t byte = v >> shift;

        g_byte_array_append(b, &byte, 1);
    }
}

static void put_name(GByteArray *b, const char *s)
{
    uint8_t len = strlen(s);

    g_byte_array_append(b, &len, 1);
    g_byte_array_append(b, (const uint8_t *)s, len);
}

static void put_zero(GByteArray *b, RAMBlock *block, uint64_t page)
{
    uint8_t fill = 0;

    put_be64(b, (page * PAGE) | RAM_SAVE_FLAG_ZERO);
    put_name(b, block->idstr);
    g_byte_array_append(b, &fill, 1);
}

static void put_page(GByteArray *b, RAMBlock *block, uint64_t page,
                     uint8_t byte)
{
    uint8_t data[PAGE];

    memset(data, byte, PAGE);
    put_be64(b, (page * PAGE) | RAM_SAVE_FLAG_PAGE);
    put_name(b, block->idstr);
    g_byte_array_append(b, data, PAGE);
}

/* Load @b as one "ram" section body; its EOS is added unless @cut. */
static int load(GByteArray *b, bool cut, Error **errp)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    int ret;

    if (!cut) {
        put_be64(b, RAM_SAVE_FLAG_EOS);
    }
    qio_channel_buffer_set_data(ioc, b->data, b->len);
    f = qemu_file_new_input(ioc);
    assert_int_equal(ops->load_setup(f, ram_test_opaque(), &error_abort), 0);
    ret = ops->load_state(f, ram_test_opaque(), RAM_SECTION_VERSION, errp);
    ops->load_cleanup(ram_test_opaque());
    qemu_fclose(f);
    g_byte_array_set_size(b, 0);
    return ret;
}

/* ---- tests ---- */

static void test_init_copies_ram(void **state)
{
    uint64_t pc_resident = ram_test_resident_bytes(machine.pc);

    assert_false(colo_ram_cache_active());
    assert_int_equal(colo_ram_cache_bytes(), 0);
    assert_true(colo_ram_cache_init(false, &error_abort));
    assert_true(colo_ram_cache_active());
    assert_true(ram_dirty_log_active());
    assert_int_equal(ram_dirty_count(), 0);
    assert_int_equal(colo_ram_cache_bytes(), expected_bytes());
    /* The holes of RAM were not read, hence not allocated. */
    assert_int_equal(ram_test_resident_bytes(machine.pc), pc_resident);
    /* Nor were the cache's pages for them: only used pages cost. */
    for (uint64_t p = 0; p < PC_PAGES; p++) {
        unsigned char vec;

        assert_int_equal(mincore(colo_ram_cache_host(machine.pc, p * PAGE),
                                 PAGE, &vec), 0);
        assert_int_equal(vec & 1, p < 100);
    }

    for (uint64_t p = 0; p < PC_PAGES; p++) {
        uint8_t *c = colo_ram_cache_host(machine.pc, p * PAGE);

        assert_non_null(c);
        assert_ptr_not_equal(c, machine.pc->host + p * PAGE);
        assert_true(page_filled(c, p < 100 ? initial_byte(machine.pc, p)
                                           : 0));
    }
    for (uint64_t p = 0; p < EXT_PAGES; p++) {
        uint8_t *c = colo_ram_cache_host(machine.ext, p * PAGE);

        assert_true(page_filled(c, initial_byte(machine.ext, p)));
    }
    assert_ram_initial();
}

/*
 * A page written with zeroes is mapped, but the cache needs no copy of
 * it either: it is read, found zero and left out.
 */
static void test_init_zero_written(void **state)
{
    memset(machine.pc->host + 110 * PAGE, 0, PAGE);
    assert_int_equal(ram_block_hole_pages(machine.pc, 110 * PAGE, 1), 0);
    assert_true(colo_ram_cache_init(false, &error_abort));
    for (uint64_t p = 0; p < PC_PAGES; p++) {
        unsigned char vec;

        assert_int_equal(mincore(colo_ram_cache_host(machine.pc, p * PAGE),
                                 PAGE, &vec), 0);
        assert_int_equal(vec & 1, p < 100);
    }
    assert_true(page_filled(colo_ram_cache_host(machine.pc, 110 * PAGE), 0));
}

static void test_received_go_to_cache(void **state)
{
    GByteArray *b = g_byte_array_new();

    assert_true(colo_ram_cache_init(false, &error_abort));
    put_page(b, machine.pc, 5, 0xa5);
    put_page(b, machine.pc, 120, 0xa6);     /* a hole of RAM */
    put_page(b, machine.ext, 2, 0xa7);
    assert_int_equal(load(b, false, &error_abort), 0);
    /* The hole at page 120 is still one (looking would allocate it). */
    assert_int_equal(ram_test_resident_bytes(machine.pc), 100 * PAGE);
    assert_ram_initial();
    assert_true(page_filled(colo_ram_cache_host(machine.pc, 5 * PAGE),
                            0xa5));
    assert_true(page_filled(colo_ram_cache_host(machine.pc, 120 * PAGE),
                            0xa6));
    assert_true(page_filled(colo_ram_cache_host(machine.ext, 2 * PAGE),
                            0xa7));
    g_byte_array_unref(b);
}

static void test_commit(void **state)
{
    GByteArray *b = g_byte_array_new();

    assert_true(colo_ram_cache_init(false, &error_abort));
    /* The checkpoint: pages 1, 64 (a word boundary), 129 (the tail). */
    put_page(b, machine.pc, 1, 0xb1);
    put_page(b, machine.pc, 64, 0xb2);
    put_page(b, machine.pc, 129, 0xb3);
    assert_int_equal(load(b, false, &error_abort), 0);
    /* The secondary's guest ran meanwhile. */
    ram_test_guest_write(machine.pc, 1, 0xee);      /* also received */
    ram_test_guest_write(machine.pc, 2, 0xee);
    ram_test_guest_write(machine.pc, 63, 0xee);
    ram_test_guest_write(machine.pc, 110, 0xee);    /* was a hole */
    ram_test_guest_write(machine.ext, 0, 0xee);
    assert_true(ram_write(EXT_GPA + 2 * PAGE, "x", 1, &error_abort));
    /* A write no log saw: the commit must not look at this page. */
    machine.pc->host[3 * PAGE] = 0xdd;

    assert_true(colo_ram_cache_commit(&error_abort));
    assert_ram_page(machine.pc, 1, 0xb1);
    assert_ram_page(machine.pc, 64, 0xb2);
    assert_ram_page(machine.pc, 129, 0xb3);
    assert_ram_page(machine.pc, 2, initial_byte(machine.pc, 2));
    assert_ram_page(machine.pc, 63, initial_byte(machine.pc, 63));
    assert_ram_page(machine.pc, 110, 0);
    assert_ram_page(machine.ext, 0, initial_byte(machine.ext, 0));
    assert_ram_page(machine.ext, 2, initial_byte(machine.ext, 2));
    assert_int_equal(machine.pc->host[3 * PAGE], 0xdd);
    assert_int_equal(ram_dirty_count(), 0);

    /* Marks are gone: an unlogged change survives the next commit. */
    machine.pc->host[1 * PAGE] = 0xcc;
    assert_true(colo_ram_cache_commit(&error_abort));
    assert_int_equal(machine.pc->host[1 * PAGE], 0xcc);
    /* And a logged one is undone again, back to the new checkpoint. */
    ram_test_guest_write(machine.pc, 64, 0xee);
    assert_true(colo_ram_cache_commit(&error_abort));
    assert_ram_page(machine.pc, 64, 0xb2);
    g_byte_array_unref(b);
}

static void test_zero_pages(void **state)
{
    GByteArray *b = g_byte_array_new();

    assert_true(colo_ram_cache_init(false, &error_abort));
    /* Zero in the stream, non-zero in the cache (and in RAM). */
    put_zero(b, machine.pc, 7);
    put_zero(b, machine.ext, 1);
    /* Written then zeroed in one checkpoint, over a hole of RAM. */
    put_page(b, machine.pc, 115, 0x5a);
    put_zero(b, machine.pc, 115);
    /* Zero over zero: nothing to write, but the page is still taken. */
    put_zero(b, machine.pc, 116);
    assert_int_equal(load(b, false, &error_abort), 0);
    assert_ram_initial();
    assert_true(page_filled(colo_ram_cache_host(machine.pc, 7 * PAGE), 0));
    assert_true(page_filled(colo_ram_cache_host(machine.ext, PAGE), 0));

    ram_test_guest_write(machine.pc, 116, 0x77);
    assert_true(colo_ram_cache_commit(&error_abort));
    assert_ram_page(machine.pc, 7, 0);
    assert_ram_page(machine.ext, 1, 0);
    assert_ram_page(machine.pc, 115, 0);
    assert_ram_page(machine.pc, 116, 0);
    assert_ram_page(machine.pc, 8, initial_byte(machine.pc, 8));
    g_byte_array_unref(b);
}

static void test_uncommitted(void **state)
{
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;

    assert_true(colo_ram_cache_init(false, &error_abort));
    /* The primary dies in the middle of the second page. */
    put_page(b, machine.pc, 4, 0xc4);
    put_page(b, machine.ext, 0, 0xc5);
    g_byte_array_set_size(b, b->len - 100);
    assert_true(load(b, true, &err) < 0);
    assert_non_null(err);
    error_free(err);
    ram_test_guest_write(machine.pc, 9, 0x99);

    /* Failover: the cache goes, RAM keeps the guest's own state. */
    colo_ram_cache_free();
    assert_false(colo_ram_cache_active());
    assert_ram_page(machine.pc, 4, initial_byte(machine.pc, 4));
    assert_ram_page(machine.ext, 0, initial_byte(machine.ext, 0));
    assert_int_equal(machine.pc->host[9 * PAGE], 0x99);
    /* Nothing left to commit. */
    assert_true(colo_ram_cache_commit(&error_abort));
    assert_int_equal(machine.pc->host[9 * PAGE], 0x99);

    /* Without the cache, incoming pages go to RAM again. */
    put_page(b, machine.pc, 4, 0xc6);
    assert_int_equal(load(b, false, &error_abort), 0);
    assert_ram_page(machine.pc, 4, 0xc6);
    g_byte_array_unref(b);
}

static bool mapped(void *addr)
{
    unsigned char vec;

    if (mincore(addr, PAGE, &vec) == 0) {
        return true;
    }
    assert_int_equal(errno, ENOMEM);
    return false;
}

static void test_free_releases(void **state)
{
    uint8_t *pc_cache, *ext_cache;

    assert_true(colo_ram_cache_init(false, &error_abort));
    pc_cache = colo_ram_cache_host(machine.pc, 0);
    ext_cache = colo_ram_cache_host(machine.ext, 0);
    assert_true(mapped(pc_cache));
    assert_true(mapped(ext_cache));

    colo_ram_cache_free();
    assert_false(colo_ram_cache_active());
    assert_int_equal(colo_ram_cache_bytes(), 0);
    assert_false(ram_dirty_log_active());
    assert_false(mapped(pc_cache));
    assert_false(mapped(ext_cache));
    assert_null(colo_ram_cache_host(machine.pc, 0));
    colo_ram_cache_free();      /* twice is harmless */

    /* A log someone else started stays on after free. */
    assert_true(ram_dirty_log_start(&error_abort));
    assert_true(colo_ram_cache_init(false, &error_abort));
    colo_ram_cache_free();
    assert_true(ram_dirty_log_active());
    /* And the cache can be made again. */
    assert_true(colo_ram_cache_init(false, &error_abort));
    assert_int_equal(colo_ram_cache_bytes(), expected_bytes());
}

/*
 * Detached, the cache is out of use at once (no lookups, no dirty log)
 * but its memory stays mapped until released; a new cache may be made
 * in between.
 */
static void test_detach_then_release(void **state)
{
    uint8_t *pc_cache, *second;

    assert_true(colo_ram_cache_init(false, &error_abort));
    pc_cache = colo_ram_cache_host(machine.pc, 0);
    assert_true(mapped(pc_cache));

    colo_ram_cache_detach();
    assert_false(colo_ram_cache_active());
    assert_int_equal(colo_ram_cache_bytes(), 0);
    assert_false(ram_dirty_log_active());
    assert_null(colo_ram_cache_host(machine.pc, 0));
    assert_true(mapped(pc_cache));

    colo_ram_cache_release_detached();
    assert_false(mapped(pc_cache));
    colo_ram_cache_release_detached();  /* nothing left: harmless */

    /* Detaching a second cache releases one still waiting. */
    assert_true(colo_ram_cache_init(false, &error_abort));
    pc_cache = colo_ram_cache_host(machine.pc, 0);
    colo_ram_cache_detach();
    assert_true(colo_ram_cache_init(false, &error_abort));
    assert_true(mapped(pc_cache));
    second = colo_ram_cache_host(machine.pc, 0);
    assert_ptr_not_equal(second, pc_cache);
    colo_ram_cache_detach();
    assert_false(mapped(pc_cache));
    assert_true(mapped(second));
    colo_ram_cache_release_detached();
    assert_false(mapped(second));
}

static void test_bounds(void **state)
{
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;
    RAMBlock *late;
    uint8_t *c;

    assert_null(colo_ram_cache_host(machine.pc, 0));    /* not active */
    assert_true(colo_ram_cache_init(false, &error_abort));
    assert_null(colo_ram_cache_host(machine.pc, PC_PAGES * PAGE));
    assert_null(colo_ram_cache_host(machine.ext, EXT_PAGES * PAGE));
    assert_null(colo_ram_cache_host(machine.ext, UINT64_MAX));
    assert_null(colo_ram_cache_host(NULL, 0));
    /* A block the cache was not made for. */
    late = ram_block_add("late.ram", 0x2000000, PAGE, &error_abort);
    assert_null(colo_ram_cache_host(late, 0));
    /* Inside a page: the page's start. */
    c = colo_ram_cache_host(machine.ext, 2 * PAGE + 17);
    assert_ptr_equal(c, colo_ram_cache_host(machine.ext, 2 * PAGE));
    assert_non_null(c);

    /* The loader still refuses what lies outside a block. */
    put_page(b, machine.ext, EXT_PAGES, 0xf0);
    assert_int_equal(load(b, false, &err), -EINVAL);
    assert_non_null(strstr(error_get_pretty(err), "Illegal RAM offset"));
    error_free(err);
    err = NULL;
    /* And a block without a cache is an error, not a write into RAM. */
    put_page(b, late, 0, 0xf1);
    assert_true(load(b, false, &err) < 0);
    error_free(err);
    assert_true(page_filled(late->host, 0));
    assert_ram_initial();
    g_byte_array_unref(b);
}

static void test_init_errors(void **state)
{
    Error *err = NULL;

    assert_true(colo_ram_cache_init(false, &error_abort));
    assert_false(colo_ram_cache_init(false, &err));
    assert_string_equal(error_get_pretty(err),
                        "COLO: the RAM cache already exists");
    error_free(err);
    err = NULL;
    assert_true(colo_ram_cache_active());
    colo_ram_cache_free();

    ram_dirty_log_stop();
    ram_block_remove_all();
    assert_false(colo_ram_cache_init(false, &err));
    assert_string_equal(error_get_pretty(err),
                        "COLO: the machine has no RAM to cache");
    error_free(err);
    assert_false(colo_ram_cache_active());
    assert_false(ram_dirty_log_active());
}

/* ---- lean mode (x-colo-lean) ---- */

/* Sync the log as the lean secondary does before it reports the set. */
static void lean_report(void)
{
    ram_dirty_log_sync();
}

static void test_lean_init(void **state)
{
    uint64_t pc_resident = ram_test_resident_bytes(machine.pc);
    uint8_t *slot;

    assert_true(colo_ram_cache_init(true, &error_abort));
    assert_true(colo_ram_cache_active());
    assert_true(colo_ram_cache_lean());
    assert_true(ram_dirty_log_active());
    assert_int_equal(ram_dirty_count(), 0);
    /* No copy of RAM: the bitmaps only. */
    assert_int_equal(colo_ram_cache_bytes(),
                     (BITS_TO_LONGS(PC_PAGES) + BITS_TO_LONGS(EXT_PAGES)) *
                     sizeof(unsigned long));
    assert_int_equal(ram_test_resident_bytes(machine.pc), pc_resident);
    /* Each lookup takes a new slot, outside RAM. */
    slot = colo_ram_cache_host(machine.pc, 0);
    assert_non_null(slot);
    assert_ptr_not_equal(slot, machine.pc->host);
    assert_ptr_equal(colo_ram_cache_host(machine.pc, 0), slot + PAGE);
    assert_ram_initial();
    colo_ram_cache_free();
    assert_false(colo_ram_cache_lean());
}

/*
 * The checkpoint carries the primary's pages and the ones the
 * secondary's guest wrote (reported before); RAM changes only at the
 * commit, in the order the pages came.
 */
static void test_lean_commit(void **state)
{
    GByteArray *b = g_byte_array_new();

    assert_true(colo_ram_cache_init(true, &error_abort));
    ram_test_guest_write(machine.pc, 2, 0xee);
    ram_test_guest_write(machine.pc, 110, 0xee);    /* was a hole */
    ram_test_guest_write(machine.ext, 0, 0xee);
    lean_report();
    put_page(b, machine.pc, 1, 0xb1);
    put_page(b, machine.pc, 64, 0xb2);
    put_page(b, machine.pc, 129, 0xb3);
    put_page(b, machine.pc, 64, 0xb4);              /* again: this wins */
    put_page(b, machine.pc, 2, initial_byte(machine.pc, 2));
    put_zero(b, machine.pc, 110);
    put_page(b, machine.ext, 0, initial_byte(machine.ext, 0));
    put_zero(b, machine.ext, 1);
    assert_int_equal(load(b, false, &error_abort), 0);
    /* Nothing in RAM yet but the guest's own writes. */
    assert_ram_page(machine.pc, 1, initial_byte(machine.pc, 1));
    assert_int_equal(machine.pc->host[2 * PAGE], 0xee);
    assert_int_equal(machine.ext->host[0], 0xee);

    assert_true(colo_ram_cache_commit(&error_abort));
    assert_ram_page(machine.pc, 1, 0xb1);
    assert_ram_page(machine.pc, 64, 0xb4);
    assert_ram_page(machine.pc, 129, 0xb3);
    assert_ram_page(machine.pc, 2, initial_byte(machine.pc, 2));
    assert_ram_page(machine.pc, 110, 0);
    assert_ram_page(machine.ext, 0, initial_byte(machine.ext, 0));
    assert_ram_page(machine.ext, 1, 0);
    assert_ram_page(machine.pc, 3, initial_byte(machine.pc, 3));
    assert_int_equal(ram_dirty_count(), 0);

    /* The next checkpoint starts from empty slots and marks. */
    put_page(b, machine.pc, 5, 0xc5);
    assert_int_equal(load(b, false, &error_abort), 0);
    assert_true(colo_ram_cache_commit(&error_abort));
    assert_ram_page(machine.pc, 5, 0xc5);
    assert_ram_page(machine.pc, 64, 0xb4);
    g_byte_array_unref(b);
}

/*
 * A page the guest wrote that the checkpoint lacks: RAM would keep a
 * write the primary never made.  The commit refuses, applies nothing.
 */
static void test_lean_missing_page(void **state)
{
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;

    assert_true(colo_ram_cache_init(true, &error_abort));
    ram_test_guest_write(machine.pc, 70, 0xee);
    lean_report();
    put_page(b, machine.pc, 1, 0xd1);
    assert_int_equal(load(b, false, &error_abort), 0);
    assert_false(colo_ram_cache_commit(&err));
    assert_string_equal(error_get_pretty(err),
                        "COLO: page 70 of RAM block 'pc.ram' was written by "
                        "this guest but is not in the checkpoint");
    error_free(err);
    err = NULL;
    assert_ram_page(machine.pc, 1, initial_byte(machine.pc, 1));
    assert_int_equal(machine.pc->host[70 * PAGE], 0xee);

    /* A write after the report is refused the same way. */
    put_page(b, machine.pc, 70, 0xd2);
    assert_int_equal(load(b, false, &error_abort), 0);
    ram_test_guest_write(machine.ext, 2, 0xef);
    assert_false(colo_ram_cache_commit(&err));
    assert_non_null(strstr(error_get_pretty(err), "'ext.ram'"));
    error_free(err);
    assert_int_equal(machine.pc->host[70 * PAGE], 0xee);
    g_byte_array_unref(b);
}

/* Cut short: failover keeps the guest's own RAM, staged pages vanish. */
static void test_lean_uncommitted(void **state)
{
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;

    assert_true(colo_ram_cache_init(true, &error_abort));
    ram_test_guest_write(machine.pc, 9, 0x99);
    lean_report();
    put_page(b, machine.pc, 9, initial_byte(machine.pc, 9));
    put_page(b, machine.pc, 4, 0xc4);
    g_byte_array_set_size(b, b->len - 100);
    assert_true(load(b, true, &err) < 0);
    error_free(err);
    colo_ram_cache_free();
    assert_int_equal(machine.pc->host[9 * PAGE], 0x99);
    assert_ram_page(machine.pc, 4, initial_byte(machine.pc, 4));
    g_byte_array_unref(b);
}

/*
 * A checkpoint may not carry more pages than RAM has: a stream that
 * repeats pages without end is refused, not staged without end.
 */
static void test_lean_staging_bound(void **state)
{
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;

    assert_true(colo_ram_cache_init(true, &error_abort));
    for (int i = 0; i < PC_PAGES + EXT_PAGES; i++) {
        put_page(b, machine.ext, 0, i);
    }
    assert_int_equal(load(b, false, &error_abort), 0);
    put_page(b, machine.ext, 0, 0xfe);
    assert_true(load(b, false, &err) < 0);
    assert_string_equal(error_get_pretty(err),
                        "COLO: no room in the RAM cache for page 0x0 of "
                        "'ext.ram'");
    error_free(err);
    assert_ram_page(machine.ext, 0, initial_byte(machine.ext, 0));
    g_byte_array_unref(b);
}

static bool resident(const void *addr)
{
    unsigned char vec;

    assert_int_equal(mincore((void *)addr, PAGE, &vec), 0);
    return vec & 1;
}

/*
 * After a commit only a sixty-fourth of RAM stays resident in the
 * staging area (here 133 / 64 = 2 pages); the rest is given back.
 */
static void test_lean_trim(void **state)
{
    uint8_t *slots[40];

    assert_true(colo_ram_cache_init(true, &error_abort));
    for (int i = 0; i < 40; i++) {
        slots[i] = colo_ram_cache_host(machine.pc, i * PAGE);
        memset(slots[i], 0x40 + i, PAGE);
        assert_true(resident(slots[i]));
    }
    assert_true(colo_ram_cache_bytes() >= 40 * PAGE);
    assert_true(colo_ram_cache_commit(&error_abort));
    for (int i = 0; i < 40; i++) {
        assert_ram_page(machine.pc, i, 0x40 + i);
        assert_int_equal(resident(slots[i]), i < 2);
    }
    assert_true(colo_ram_cache_bytes() < 40 * PAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_copies_ram, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_init_zero_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_received_go_to_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncommitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_then_release, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lean_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lean_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lean_missing_page, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lean_uncommitted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lean_staging_bound, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lean_trim, setup, teardown),
    };

    ram_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
