/*
 * The "ram" section byte for byte: a two-block machine with known
 * contents is saved to a buffer channel and every record is compared
 * with the bytes QEMU's format prescribes; the stream is loaded into
 * fresh RAM and must reproduce it; malformed records must be refused
 * with a message and without a write outside the block they name.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "io/channel-buffer.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "ram-test.h"
#include "system/ram.h"
#include "system/runstate.h"

#define PAGE TARGET_PAGE_SIZE
#define PC_PAGES 3
#define EXT_PAGES 2
#define EXT_GPA 0x100000

/* ---- the machine ---- */

typedef struct Machine {
    RAMBlock *pc;       /* "pc.ram": zero, 0x11..., zero */
    RAMBlock *ext;      /* "ext.ram": pattern, zero */
} Machine;

static Machine machine;

static void ext_pattern(uint8_t *buf)
{
    for (int i = 0; i < PAGE; i++) {
        buf[i] = (i * 7 + 1) & 0xff;
    }
}

static void machine_create(bool contents)
{
    machine.pc = ram_block_add("pc.ram", 0, PC_PAGES * PAGE, &error_abort);
    machine.ext = ram_block_add("ext.ram", EXT_GPA, EXT_PAGES * PAGE,
                                &error_abort);
    if (contents) {
        memset(machine.pc->host + PAGE, 0x11, PAGE);
        ext_pattern(machine.ext->host);
    }
}

static int setup(void **state)
{
    ram_test_accel_setup();
    ram_stats_reset();
    machine_create(true);
    return 0;
}

static int teardown(void **state)
{
    ram_test_teardown();
    return 0;
}

/* ---- expected bytes ---- */

static void put_be64(GByteArray *b, uint64_t v)
{
    for (int shift = 56; shift >= 0; shift -= 8) {
        uint8_t byte = v >> shift;

        g_byte_array_append(b, &byte, 1);
    }
}

static void put_u8(GByteArray *b, uint8_t v)
{
    g_byte_array_append(b, &v, 1);
}

static void put_str(GByteArray *b, const char *s)
{
    put_u8(b, strlen(s));
    g_byte_array_append(b, (const uint8_t *)s, strlen(s));
}

/* A page record: header, the block name unless @cont, then the body. */
static void put_zero(GByteArray *b, uint64_t offset, const char *block)
{
    put_be64(b, offset | RAM_SAVE_FLAG_ZERO |
             (block ? 0 : RAM_SAVE_FLAG_CONTINUE));
    if (block) {
        put_str(b, block);
    }
    put_u8(b, 0);
}

static void put_page(GByteArray *b, uint64_t offset, const char *block,
                     const uint8_t *data)
{
    put_be64(b, offset | RAM_SAVE_FLAG_PAGE |
             (block ? 0 : RAM_SAVE_FLAG_CONTINUE));
    if (block) {
        put_str(b, block);
    }
    g_byte_array_append(b, data, PAGE);
}

/* ---- streams ---- */

typedef struct Out {
    QIOChannel *ioc;
    QEMUFile *f;
    size_t seen;        /* bytes already compared */
} Out;

static void out_open(Out *out)
{
    out->ioc = qio_channel_buffer_new(0);
    out->f = qemu_file_new_output(out->ioc);
    out->seen = 0;
}

static void out_close(Out *out)
{
    assert_int_equal(qemu_fclose(out->f), 0);
    qio_channel_unref(out->ioc);
}

/* What the handlers wrote since the previous call must equal @exp. */
static void out_expect(Out *out, GByteArray *exp)
{
    size_t len;
    const uint8_t *data;

    qemu_fflush(out->f);
    data = qio_channel_buffer_data(out->ioc, &len);
    assert_int_equal(len - out->seen, exp->len);
    assert_memory_equal(data + out->seen, exp->data, exp->len);
    out->seen = len;
    g_byte_array_set_size(exp, 0);
}

/* The new bytes since the previous call, for loading (caller frees). */
static GByteArray *out_take(Out *out)
{
    size_t len;
    const uint8_t *data;
    GByteArray *chunk = g_byte_array_new();

    qemu_fflush(out->f);
    data = qio_channel_buffer_data(out->ioc, &len);
    g_byte_array_append(chunk, data + out->seen, len - out->seen);
    out->seen = len;
    return chunk;
}

/* Load @len bytes as one "ram" section body. */
static int load_bytes(const uint8_t *data, size_t len, Error **errp)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    int ret;

    qio_channel_buffer_set_data(ioc, data, len);
    f = qemu_file_new_input(ioc);
    ret = ops->load_state(f, ram_test_opaque(), RAM_SECTION_VERSION, errp);
    qemu_fclose(f);
    return ret;
}

static int save_setup(Out *out)
{
    const SaveVMHandlers *ops = ram_test_handlers();

    return ops->save_setup(out->f, ram_test_opaque(), &error_abort);
}

static int save_iterate(Out *out)
{
    return ram_test_handlers()->save_live_iterate(out->f, ram_test_opaque());
}

static uint64_t pending(bool exact)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    uint64_t bytes = 0;

    if (exact) {
        ops->save_pending_exact(ram_test_opaque(), &bytes);
    } else {
        ops->save_pending(ram_test_opaque(), &bytes);
    }
    return bytes;
}

static void expect_setup_bytes(Out *out)
{
    static const uint8_t setup_bytes[] = {
        /* MEM_SIZE: 5 pages | 0x04 */
        0, 0, 0, 0, 0, 0, 0x50, 0x04,
        6, 'p', 'c', '.', 'r', 'a', 'm',
        0, 0, 0, 0, 0, 0, 0x30, 0x00,
        7, 'e', 'x', 't', '.', 'r', 'a', 'm',
        0, 0, 0, 0, 0, 0, 0x20, 0x00,
        /* EOS */
        0, 0, 0, 0, 0, 0, 0, 0x10,
    };
    g_autoptr(GByteArray) exp = g_byte_array_new();

    g_byte_array_append(exp, setup_bytes, sizeof(setup_bytes));
    out_expect(out, exp);
}

/* ---- saving ---- */

static void test_save_golden(void **state)
{
    g_autoptr(GByteArray) exp = g_byte_array_new();
    uint8_t page11[PAGE], pattern[PAGE];
    Out out;

    memset(page11, 0x11, PAGE);
    ext_pattern(pattern);
    out_open(&out);

    assert_int_equal(save_setup(&out), 0);
    expect_setup_bytes(&out);
    assert_int_equal(pending(false), 5 * PAGE);

    /* Everything is dirty after setup: one pass sends it all. */
    assert_int_equal(save_iterate(&out), 1);
    put_zero(exp, 0x0000, "pc.ram");
    put_page(exp, 0x1000, NULL, page11);
    put_zero(exp, 0x2000, NULL);
    put_page(exp, 0x0000, "ext.ram", pattern);
    put_zero(exp, 0x1000, NULL);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);
    assert_int_equal(pending(false), 0);

    /* Nothing dirty: an empty pass is just EOS. */
    assert_int_equal(save_iterate(&out), 1);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);

    ram_test_handlers()->save_cleanup(ram_test_opaque());
    out_close(&out);
}

static void test_save_redirty(void **state)
{
    g_autoptr(GByteArray) exp = g_byte_array_new();
    uint8_t page[PAGE], ext1[PAGE];
    Out out;

    out_open(&out);
    assert_int_equal(save_setup(&out), 0);
    assert_int_equal(save_iterate(&out), 1);
    g_byte_array_unref(out_take(&out));

    /* A software write is seen at once; a guest write only after sync. */
    memset(page, 0x22, PAGE);
    assert_true(ram_write(PAGE * 2, page, PAGE, &error_abort));
    ram_test_guest_write(machine.ext, 1, 0x33);
    memset(ext1, 0, PAGE);
    ext1[0] = 0x33;
    assert_int_equal(pending(false), PAGE);

    /* The previous record was in ext.ram: pc.ram is named again. */
    assert_int_equal(save_iterate(&out), 1);
    put_page(exp, 0x2000, "pc.ram", page);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);

    assert_int_equal(pending(true), PAGE);
    assert_int_equal(save_iterate(&out), 1);
    put_page(exp, 0x1000, "ext.ram", ext1);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);

    /* Complete syncs first and sends what is left; clean pages stay. */
    ram_test_guest_write(machine.ext, 0, 0x44);
    memset(page, 0, PAGE);
    assert_true(ram_write(0, page, PAGE, &error_abort));
    assert_int_equal(ram_test_handlers()->save_live_complete_precopy(
                         out.f, ram_test_opaque()), 0);
    put_zero(exp, 0x0000, "pc.ram");
    ext_pattern(page);
    page[0] = 0x44;
    put_page(exp, 0x0000, "ext.ram", page);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);

    ram_test_handlers()->save_cleanup(ram_test_opaque());
    out_close(&out);
}

/*
 * A snapshot (staged COLO checkpoint): taken with the pages as they are,
 * their bits claimed; sent later by the iterations as it was taken,
 * whatever the guest wrote meanwhile, which stays dirty for next time.
 */
static void test_save_snapshot(void **state)
{
    g_autoptr(GByteArray) exp = g_byte_array_new();
    RAMSnapshot *snap = ram_snapshot_new();
    uint8_t p55[PAGE], p66[PAGE], p77[PAGE], buf[PAGE];
    Out out;

    out_open(&out);
    assert_int_equal(save_setup(&out), 0);
    assert_int_equal(save_iterate(&out), 1);
    g_byte_array_unref(out_take(&out));

    memset(p55, 0x55, PAGE);
    memset(p66, 0x66, PAGE);
    memset(p77, 0x77, PAGE);
    ram_mark_dirty(0, PAGE);            /* never written: a hole */
    assert_true(ram_write(PAGE, p55, PAGE, &error_abort));
    assert_true(ram_write(2 * PAGE, p66, PAGE, &error_abort));
    assert_true(ram_write(EXT_GPA + PAGE, p77, PAGE, &error_abort));
    assert_int_equal(pending(true), 4 * PAGE);

    /* No room: nothing taken, nothing claimed. */
    assert_int_equal(ram_snapshot_capacity(snap), 0);
    assert_false(ram_snapshot_take(snap));
    assert_int_equal(ram_dirty_count(), 4);

    ram_snapshot_reserve(snap, 3 * PAGE);
    assert_true(ram_snapshot_capacity(snap) >= 3 * PAGE);
    assert_true(ram_snapshot_take(snap));
    assert_int_equal(ram_dirty_count(), 0);

    /* The guest runs again before the checkpoint is sent. */
    memset(buf, 0x99, PAGE);
    assert_true(ram_write(PAGE, buf, PAGE, &error_abort));
    assert_true(ram_write(EXT_GPA, buf, PAGE, &error_abort));

    ram_snapshot_send_begin(snap);
    assert_int_equal(save_iterate(&out), 1);
    ram_snapshot_send_end();
    put_zero(exp, 0x0000, "pc.ram");
    put_page(exp, 0x1000, NULL, p55);
    put_page(exp, 0x2000, NULL, p66);
    put_page(exp, 0x1000, "ext.ram", p77);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);

    /* What the guest wrote since goes out with the next pass. */
    assert_int_equal(ram_dirty_count(), 2);
    assert_int_equal(save_iterate(&out), 1);
    put_page(exp, 0x1000, "pc.ram", buf);
    put_page(exp, 0x0000, "ext.ram", buf);
    put_be64(exp, RAM_SAVE_FLAG_EOS);
    out_expect(&out, exp);

    ram_snapshot_free(snap);
    ram_test_handlers()->save_cleanup(ram_test_opaque());
    out_close(&out);
}

static int64_t fake_now;

static int64_t fake_clock(void *opaque)
{
    return fake_now;
}

/* A rate-limited pass stops early; the next one resumes after it. */
static void test_save_rate_limit(void **state)
{
    RAMStats stats;
    Out out;
    int passes = 0, ret;

    out_open(&out);
    qemu_file_set_clock(out.f, fake_clock, NULL);
    assert_int_equal(save_setup(&out), 0);
    /* A window's budget is a tenth of this: about one page. */
    qemu_file_set_rate_limit(out.f, 10 * PAGE);
    qemu_file_reset_rate_limit(out.f);
    do {
        ret = save_iterate(&out);
        assert_true(ret >= 0);
        fake_now += 100 * 1000 * 1000;
        assert_true(++passes < 100);
    } while (ret == 0);
    assert_true(passes > 2);
    ram_get_stats(&stats);
    assert_int_equal(stats.normal, 2);
    assert_int_equal(stats.duplicate, 3);
    assert_int_equal(pending(false), 0);
    ram_test_handlers()->save_cleanup(ram_test_opaque());
    out_close(&out);
}

static void test_save_stats(void **state)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    RAMStats stats;
    uint64_t precopy;
    Out out;

    /* Bytes count as precopy while the guest runs, downtime after. */
    runstate_init();
    assert_true(runstate_set(RUN_STATE_RUNNING, &error_abort));
    out_open(&out);
    assert_int_equal(save_setup(&out), 0);
    ram_get_stats(&stats);
    assert_int_equal(stats.dirty_sync_count, 1);
    assert_int_equal(stats.remaining, 5 * PAGE);
    assert_int_equal(stats.total, 5 * PAGE);
    assert_int_equal(stats.transferred, 47);
    assert_int_equal(stats.dirty_bytes_last_sync, 5 * PAGE);
    assert_int_equal(ram_bytes_remaining(), 5 * PAGE);

    assert_int_equal(save_iterate(&out), 1);
    ram_get_stats(&stats);
    assert_int_equal(stats.duplicate, 3);
    assert_int_equal(stats.normal, 2);
    assert_int_equal(stats.normal_bytes, 2 * PAGE);
    assert_int_equal(stats.remaining, 0);
    assert_int_equal(stats.transferred, qemu_file_transferred(out.f));
    assert_int_equal(stats.precopy_bytes, stats.transferred);
    assert_int_equal(stats.downtime_bytes, 0);
    assert_int_equal(ram_get_total_transferred_pages(), 5);
    precopy = stats.precopy_bytes;

    ram_test_guest_write(machine.pc, 1, 0x55);
    assert_true(runstate_set(RUN_STATE_FINISH_MIGRATE, &error_abort));
    assert_int_equal(ops->save_live_complete_precopy(out.f,
                                                     ram_test_opaque()), 0);
    ram_get_stats(&stats);
    assert_int_equal(stats.dirty_sync_count, 2);
    assert_int_equal(stats.normal, 3);
    assert_int_equal(stats.precopy_bytes, precopy);
    assert_int_equal(stats.downtime_bytes, 8 + 1 + 6 + PAGE + 8);
    assert_int_equal(stats.transferred, qemu_file_transferred(out.f));
    /* QEMU's identity: every byte is one or the other. */
    assert_int_equal(stats.transferred,
                     stats.precopy_bytes + stats.downtime_bytes);
    /* The final sync found the page written after the first pass. */
    assert_int_equal(stats.dirty_bytes_last_sync, PAGE);
    assert_int_equal(ram_test_accel_syncs(), 2 * 2);

    ops->save_cleanup(ram_test_opaque());
    assert_int_equal(ram_bytes_remaining(), 0);
    assert_false(ram_dirty_log_active());
    ram_stats_reset();
    ram_get_stats(&stats);
    assert_int_equal(stats.transferred, 0);
    assert_int_equal(stats.normal, 0);
    runstate_init();
    out_close(&out);
}

/* ---- loading ---- */

typedef struct Snapshot {
    uint8_t pc[PC_PAGES * PAGE];
    uint8_t ext[EXT_PAGES * PAGE];
} Snapshot;

static void snapshot_take(Snapshot *s)
{
    memcpy(s->pc, machine.pc->host, sizeof(s->pc));
    memcpy(s->ext, machine.ext->host, sizeof(s->ext));
}

static void snapshot_check(const Snapshot *s)
{
    assert_memory_equal(s->pc, machine.pc->host, sizeof(s->pc));
    assert_memory_equal(s->ext, machine.ext->host, sizeof(s->ext));
}

/* Throw the machine away and make a new one with zero RAM. */
static void machine_fresh(void)
{
    ram_dirty_log_stop();
    ram_block_remove_all();
    ram_test_accel_setup();
    machine_create(false);
}

static void load_chunks(GPtrArray *chunks)
{
    const SaveVMHandlers *ops = ram_test_handlers();

    assert_int_equal(ops->load_setup(NULL, ram_test_opaque(), &error_abort),
                     0);
    for (guint i = 0; i < chunks->len; i++) {
        GByteArray *chunk = g_ptr_array_index(chunks, i);

        assert_int_equal(load_bytes(chunk->data, chunk->len, &error_abort),
                         0);
    }
    assert_int_equal(ops->load_cleanup(ram_test_opaque()), 0);
}

static void test_load_roundtrip(void **state)
{
    g_autoptr(GPtrArray) chunks =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    const SaveVMHandlers *ops = ram_test_handlers();
    Snapshot src;
    Out out;

    out_open(&out);
    assert_int_equal(save_setup(&out), 0);
    g_ptr_array_add(chunks, out_take(&out));
    assert_int_equal(save_iterate(&out), 1);
    g_ptr_array_add(chunks, out_take(&out));
    ram_test_guest_write(machine.pc, 2, 0x99);
    ram_test_guest_write(machine.ext, 0, 0x98);
    assert_int_equal(ops->save_live_complete_precopy(out.f,
                                                     ram_test_opaque()), 0);
    g_ptr_array_add(chunks, out_take(&out));
    ops->save_cleanup(ram_test_opaque());
    out_close(&out);
    snapshot_take(&src);

    machine_fresh();
    load_chunks(chunks);
    snapshot_check(&src);
}

/* ZERO over a zero page must not write it: it stays unallocated. */
static void test_load_zero_untouched(void **state)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    uint8_t *host = machine.pc->host;

    put_zero(b, 0x0000, "pc.ram");
    put_zero(b, 0x2000, NULL);
    put_zero(b, 0x1000, NULL);
    put_be64(b, RAM_SAVE_FLAG_EOS);
    ram_test_handlers()->load_setup(NULL, ram_test_opaque(), &error_abort);
    /* Pages 0 and 2 are zero: a write to them would fault. */
    assert_int_equal(mprotect(host, PAGE, PROT_READ), 0);
    assert_int_equal(mprotect(host + 2 * PAGE, PAGE, PROT_READ), 0);
    assert_int_equal(load_bytes(b->data, b->len, &error_abort), 0);
    assert_int_equal(mprotect(host, 3 * PAGE, PROT_READ | PROT_WRITE), 0);
    /* Page 1 held 0x11s: it was cleared. */
    assert_true(host[PAGE] == 0 && host[2 * PAGE - 1] == 0);

    /* A nonzero fill byte (QEMU accepts one) fills the page. */
    g_byte_array_set_size(b, 0);
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_CONTINUE);
    put_u8(b, 0x5a);
    put_be64(b, RAM_SAVE_FLAG_EOS);
    assert_int_equal(load_bytes(b->data, b->len, &error_abort), 0);
    assert_true(host[PAGE] == 0x5a && host[2 * PAGE - 1] == 0x5a);
    ram_test_handlers()->load_cleanup(ram_test_opaque());
}

/* Zero pages of a fresh machine are neither written nor even read. */
static void test_load_zero_unallocated(void **state)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    uint8_t data[PAGE];

    machine_fresh();
    for (int i = 0; i < PC_PAGES; i++) {
        put_zero(b, i * PAGE, i ? NULL : "pc.ram");
    }
    for (int i = 0; i < EXT_PAGES; i++) {
        put_zero(b, i * PAGE, i ? NULL : "ext.ram");
    }
    put_be64(b, RAM_SAVE_FLAG_EOS);
    ram_test_handlers()->load_setup(NULL, ram_test_opaque(), &error_abort);
    assert_int_equal(load_bytes(b->data, b->len, &error_abort), 0);
    assert_int_equal(ram_test_resident_bytes(machine.pc), 0);
    assert_int_equal(ram_test_resident_bytes(machine.ext), 0);

    /* A page written inside a known hole is no hole any more. */
    g_byte_array_set_size(b, 0);
    memset(data, 0x66, PAGE);
    put_zero(b, 0x0000, "pc.ram");
    put_page(b, 0x1000, NULL, data);
    put_zero(b, 0x1000, NULL);
    put_zero(b, 0x2000, NULL);
    put_be64(b, RAM_SAVE_FLAG_EOS);
    assert_int_equal(load_bytes(b->data, b->len, &error_abort), 0);
    memset(data, 0, PAGE);
    assert_memory_equal(machine.pc->host + PAGE, data, PAGE);
    assert_int_equal(ram_test_resident_bytes(machine.pc), PAGE);
    ram_test_handlers()->load_cleanup(ram_test_opaque());
}

/* The source's block list must be ours, exactly. */
static void test_load_mem_size(void **state)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    put_be64(b, 0x5000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "ext.ram");
    put_be64(b, 0x2000);
    put_str(b, "pc.ram");
    put_be64(b, 0x3000);
    put_be64(b, RAM_SAVE_FLAG_EOS);
    assert_int_equal(load_bytes(b->data, b->len, &error_abort), 0);
}

typedef struct BadRecord {
    const char *what;
    const char *error;      /* expected message, or its start with '*' */
    void (*build)(GByteArray *b);
} BadRecord;

static void bad_unknown_flag(GByteArray *b)
{
    put_be64(b, 0x1000 | 0x40);
}

static void bad_flag_combination(GByteArray *b)
{
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_PAGE);
    put_str(b, "pc.ram");
    put_u8(b, 0);
}

static void bad_no_flags(GByteArray *b)
{
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_CONTINUE);
}

static void bad_misaligned(GByteArray *b)
{
    put_be64(b, 0x1800 | RAM_SAVE_FLAG_PAGE);
    put_str(b, "pc.ram");
    g_byte_array_set_size(b, b->len + PAGE);
}

static void bad_unknown_block(GByteArray *b)
{
    put_be64(b, RAM_SAVE_FLAG_PAGE);
    put_str(b, "vga.ram");
    g_byte_array_set_size(b, b->len + PAGE);
}

static void bad_offset(GByteArray *b)
{
    put_be64(b, 0x3000 | RAM_SAVE_FLAG_PAGE);
    put_str(b, "pc.ram");
    g_byte_array_set_size(b, b->len + PAGE);
}

static void bad_offset_huge(GByteArray *b)
{
    put_be64(b, 0xfffffffffffff000ULL | RAM_SAVE_FLAG_ZERO);
    put_str(b, "ext.ram");
    put_u8(b, 0xee);
}

static void bad_continue_first(GByteArray *b)
{
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_CONTINUE);
    g_byte_array_set_size(b, b->len + PAGE);
}

static void bad_size(GByteArray *b)
{
    put_be64(b, 0x6000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "pc.ram");
    put_be64(b, 0x4000);
    put_str(b, "ext.ram");
    put_be64(b, 0x2000);
    put_be64(b, RAM_SAVE_FLAG_EOS);
}

static void bad_missing_block(GByteArray *b)
{
    put_be64(b, 0x3000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "pc.ram");
    put_be64(b, 0x3000);
    put_be64(b, RAM_SAVE_FLAG_EOS);
}

static void bad_extra_block(GByteArray *b)
{
    put_be64(b, 0x6000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "pc.ram");
    put_be64(b, 0x3000);
    put_str(b, "vga.ram");
    put_be64(b, 0x1000);
}

static void bad_twice(GByteArray *b)
{
    put_be64(b, 0x6000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "pc.ram");
    put_be64(b, 0x3000);
    put_str(b, "pc.ram");
    put_be64(b, 0x3000);
}

static void bad_total(GByteArray *b)
{
    put_be64(b, 0x4000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "pc.ram");
    put_be64(b, 0x3000);
    put_str(b, "ext.ram");
    put_be64(b, 0x2000);
}

static void bad_truncated_list(GByteArray *b)
{
    put_be64(b, 0x5000 | RAM_SAVE_FLAG_MEM_SIZE);
    put_str(b, "pc.ram");
    put_u8(b, 0);
}

static void bad_truncated_page(GByteArray *b)
{
    uint8_t data[100];

    memset(data, 0x77, sizeof(data));
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_PAGE);
    put_str(b, "pc.ram");
    g_byte_array_append(b, data, sizeof(data));
}

static void bad_truncated_zero(GByteArray *b)
{
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_ZERO);
    put_str(b, "pc.ram");
}

static void bad_truncated_name(GByteArray *b)
{
    put_be64(b, 0x1000 | RAM_SAVE_FLAG_ZERO);
    put_u8(b, 6);
    g_byte_array_append(b, (const uint8_t *)"pc", 2);
}

static void bad_truncated_header(GByteArray *b)
{
    put_u8(b, 0);
    put_u8(b, 0);
    put_u8(b, 0);
}

static void bad_missing_eos(GByteArray *b)
{
    put_zero(b, 0x0000, "pc.ram");
}

static void bad_empty(GByteArray *b)
{
}

static const BadRecord bad_records[] = {
    { "unknown flag", "Unknown combination of migration flags: 0x40",
      bad_unknown_flag },
    { "ZERO and PAGE", "Unknown combination of migration flags: 0xa",
      bad_flag_combination },
    { "no record type", "Unknown combination of migration flags: 0x20",
      bad_no_flags },
    { "misaligned offset", "Unknown combination of migration flags: 0x808",
      bad_misaligned },
    { "unknown block", "Can't find block vga.ram", bad_unknown_block },
    { "offset past the end",
      "Illegal RAM offset 0x3000 in block 'pc.ram' of 0x3000 bytes",
      bad_offset },
    { "huge offset", "Illegal RAM offset 0xfffffffffffff000 in block "
      "'ext.ram' of 0x2000 bytes", bad_offset_huge },
    { "CONTINUE first", "RAM page 0x1000 continues a block but no block "
      "was named before it", bad_continue_first },
    { "size mismatch",
      "Size mismatch: pc.ram: 0x4000 != 0x3000 (incoming != local)",
      bad_size },
    { "missing block", "RAM block 'ext.ram' (0x2000 bytes) is missing "
      "from the incoming stream", bad_missing_block },
    { "extra block",
      "Unknown ramblock \"vga.ram\", cannot accept migration",
      bad_extra_block },
    { "block twice", "RAM block 'pc.ram' is listed twice in the incoming "
      "stream", bad_twice },
    { "total too small", "RAM block 'ext.ram' (0x2000 bytes) exceeds the "
      "RAM size the stream announced", bad_total },
    { "truncated block list", "*RAM block list: ", bad_truncated_list },
    { "truncated page", "*RAM page 0x1000 of 'pc.ram': ",
      bad_truncated_page },
    { "truncated zero page", "*RAM zero page 0x1000 of 'pc.ram': ",
      bad_truncated_zero },
    { "truncated name", "*RAM page 0x1000: block name: ",
      bad_truncated_name },
    { "truncated header", "*RAM section ended before its end-of-section "
      "record: ", bad_truncated_header },
    { "missing EOS", "*RAM section ended before its end-of-section "
      "record: ", bad_missing_eos },
    { "empty section", "*RAM section ended before its end-of-section "
      "record: ", bad_empty },
};

static void test_load_malformed(void **state)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    Snapshot before;

    snapshot_take(&before);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_records); i++) {
        const BadRecord *bad = &bad_records[i];
        g_autoptr(GByteArray) b = g_byte_array_new();
        const char *msg;
        Error *err = NULL;

        bad->build(b);
        ops->load_setup(NULL, ram_test_opaque(), &error_abort);
        assert_true(load_bytes(b->data, b->len, &err) < 0);
        ops->load_cleanup(ram_test_opaque());
        assert_non_null(err);
        msg = error_get_pretty(err);
        print_message("%-22s -> %s\n", bad->what, msg);
        if (bad->error[0] == '*') {
            assert_true(g_str_has_prefix(msg, bad->error + 1));
            assert_true(strlen(msg) > strlen(bad->error + 1));
        } else {
            assert_string_equal(msg, bad->error);
        }
        error_free(err);
        if (bad->build == bad_truncated_page) {
            /* Only the page named was written (zero-filled). */
            memset(before.pc + PAGE, 0, PAGE);
        }
        snapshot_check(&before);
    }
}

/* The section can be unregistered and registered again. */
static void test_register_again(void **state)
{
    const SaveVMHandlers *ops = ram_test_handlers();

    ram_mig_cleanup();
    ram_mig_cleanup();
    assert_ptr_equal(ram_test_handlers(), ops);
}

static void test_load_version(void **state)
{
    const SaveVMHandlers *ops = ram_test_handlers();
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_input(ioc);
    Error *err = NULL;

    assert_int_equal(ops->load_state(f, ram_test_opaque(), 3, &err),
                     -EINVAL);
    assert_string_equal(error_get_pretty(err), "Unsupported \"ram\" section "
                        "version 3 (expected 4)");
    error_free(err);
    qemu_fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_redirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_rate_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_save_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_zero_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_zero_unallocated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_mem_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_again, setup,
                                        teardown),
    };
    int ret;

    ram_test_init();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    return ret;
}
