/*
 * The "ram" section inside a whole stream: registered with the real
 * framing, saved the way the migration thread drives it (setup,
 * iterations while the guest keeps writing, the final pass), then
 * loaded by qemu_loadvm_state() into a fresh machine, which must end
 * up with the same RAM byte for byte.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "io/channel-buffer.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "ram-test.h"
#include "savevm-fixture.h"
#include "system/ram.h"
#include "util/bql.h"

#define PAGE TARGET_PAGE_SIZE
#define PC_SIZE (256 * PAGE)
#define EXT_GPA 0x1000000

static uint64_t ext_size = 16 * PAGE;

static void machine_create(void)
{
    ram_block_add("pc.ram", 0, PC_SIZE, &error_abort);
    ram_block_add("ext.ram", EXT_GPA, ext_size, &error_abort);
}

static void machine_fill(void)
{
    uint8_t page[PAGE];

    /* Every third page holds data; the others stay zero. */
    for (uint64_t gpa = 0; gpa < PC_SIZE; gpa += 3 * PAGE) {
        memset(page, gpa / PAGE + 1, PAGE);
        assert_true(ram_write(gpa, page, PAGE, &error_abort));
    }
    memset(page, 0xe5, PAGE);
    assert_true(ram_write(EXT_GPA + PAGE, page, PAGE, &error_abort));
}

static int setup(void **state)
{
    fixture_reset();
    ram_test_accel_setup();
    ram_mig_init();
    machine_create();
    return 0;
}

static int teardown(void **state)
{
    ram_test_teardown();
    unregister_savevm_all();
    ext_size = 16 * PAGE;
    return 0;
}

/* The guest writes now and then while the migration runs. */
static void guest_activity(int pass)
{
    RAMBlock *pc = ram_block_by_name("pc.ram");
    RAMBlock *ext = ram_block_by_name("ext.ram");
    uint8_t page[PAGE];

    ram_test_guest_write(pc, pass * 7 % pc->npages, 0xa0 + pass);
    ram_test_guest_write(ext, pass % ext->npages, 0xb0 + pass);
    memset(page, 0xc0 + pass, PAGE);
    assert_true(ram_write((pass * 11 % 256) * PAGE, page, PAGE,
                          &error_abort));
}

static uint8_t *copy_bytes(const void *data, size_t len)
{
    uint8_t *copy = g_malloc(len);

    memcpy(copy, data, len);
    return copy;
}

/* Save a whole stream as the migration thread would (BQL held). */
static uint8_t *save_stream(size_t *len)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    uint64_t pending;
    int pass = 0;

    qemu_savevm_state_header(f);
    assert_int_equal(qemu_savevm_state_setup(f, &error_abort), 0);
    for (;;) {
        qemu_savevm_state_pending_estimate(&pending);
        if (!pending) {
            qemu_savevm_state_pending_exact(&pending);
            if (!pending) {
                break;
            }
        }
        bql_unlock();
        assert_true(qemu_savevm_state_iterate(f) >= 0);
        bql_lock();
        if (pass < 3) {
            guest_activity(pass);
        }
        assert_true(++pass < 100);
    }
    /* Written after the last sync: only the final pass finds them. */
    guest_activity(5);
    assert_int_equal(qemu_savevm_state_complete_precopy(f, &error_abort),
                     0);
    qemu_savevm_state_cleanup();
    assert_int_equal(qemu_fclose(f), 0);
    data = qio_channel_buffer_data(ioc, len);
    return copy_bytes(data, *len);
}

static uint8_t *ram_copy(const char *name, uint64_t *size)
{
    RAMBlock *block = ram_block_by_name(name);

    *size = block->size;
    return copy_bytes(block->host, block->size);
}

/* The destination's loader runs without the BQL, which we hold. */
static int load_unlocked(QEMUFile *f, Error **errp)
{
    int ret;

    bql_unlock();
    ret = qemu_loadvm_state(f, errp);
    bql_lock();
    return ret;
}

static void machine_fresh(void)
{
    ram_dirty_log_stop();
    ram_block_remove_all();
    ram_test_accel_setup();
    machine_create();
}

static void test_stream_roundtrip(void **state)
{
    g_autofree uint8_t *stream = NULL;
    g_autofree uint8_t *pc = NULL, *ext = NULL;
    uint64_t pc_size, ext_len;
    RAMStats stats;
    size_t len;

    machine_fill();
    stream = save_stream(&len);
    pc = ram_copy("pc.ram", &pc_size);
    ext = ram_copy("ext.ram", &ext_len);
    ram_get_stats(&stats);
    assert_true(stats.dirty_sync_count >= 3);
    assert_true(stats.downtime_bytes > PAGE);
    assert_int_equal(stats.remaining, 0);

    machine_fresh();
    assert_int_equal(fixture_load(stream, len, load_unlocked,
                                  &error_abort), 0);
    assert_memory_equal(ram_block_by_name("pc.ram")->host, pc, pc_size);
    assert_memory_equal(ram_block_by_name("ext.ram")->host, ext, ext_len);
}

/* A destination whose block has another size refuses the stream. */
static void test_stream_size_mismatch(void **state)
{
    g_autofree uint8_t *stream = NULL;
    Error *err = NULL;
    size_t len;

    machine_fill();
    stream = save_stream(&len);
    ext_size = 32 * PAGE;
    machine_fresh();
    assert_true(fixture_load(stream, len, load_unlocked, &err) < 0);
    print_message("%s\n", error_get_pretty(err));
    assert_non_null(strstr(error_get_pretty(err),
                           "Size mismatch: ext.ram: 0x10000 != 0x20000 "
                           "(incoming != local)"));
    error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_size_mismatch, setup,
                                        teardown),
    };

    ram_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
