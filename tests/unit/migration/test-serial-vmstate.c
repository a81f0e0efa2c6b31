/*
 * Tests for the UART's migration state: a UART with a configuration and
 * received bytes waiting is saved, loaded into a fresh one, and both
 * then read the same through their ports; malformed state is refused.
 * The chardev's stream positions travel in a subsection of their own
 * when filters (the COLO proxy) are attached.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "chardev/char.h"
#include "hw/serial.h"
#include "io/channel.h"
#include "migration/qemu-file.h"
#include "migration/vmstate.h"
#include "system/ioport.h"
#include "system/runstate.h"
#include "util/main-loop.h"

#define SRC 0x3f8
#define DST 0x2f8

/* Register offsets. */
#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

/* Stream layout: 12 bytes of registers, then the FIFO subsection. */
#define REGS_BYTES 12
#define SUB_NAME "serial/rx_fifo"
#define FIFO_OFFSET (REGS_BYTES + 2 + strlen(SUB_NAME) + 4)
#define HEAD_OFFSET (FIFO_OFFSET + 16)
#define COUNT_OFFSET (HEAD_OFFSET + 1)

typedef struct Fixture {
    Chardev *chr_src, *chr_dst;
    SerialState *src, *dst;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    main_loop_init();
    f->chr_src = chardev_new_from_opts("ringbuf,id=src,size=256",
                                       &error_abort);
    f->chr_dst = chardev_new_from_opts("ringbuf,id=dst,size=256",
                                       &error_abort);
    f->src = serial_isa_init(SRC, f->chr_src, &error_abort);
    f->dst = serial_isa_init(DST, f->chr_dst, &error_abort);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    serial_free(f->src);
    serial_free(f->dst);
    chardev_cleanup_all();
    ioport_unregister_all();
    g_free(f);
    return 0;
}

static uint8_t inb(uint16_t base, unsigned reg)
{
    return ioport_read(base + reg, 1);
}

static void outb(uint16_t base, unsigned reg, uint8_t val)
{
    ioport_write(base + reg, val, 1);
}

static uint8_t *save(SerialState *s, json_t *desc, size_t *len)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    uint8_t *copy;

    assert_int_equal(vmstate_save_state(f, &vmstate_serial, s, desc,
                                        &error_abort), 0);
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, len);
    copy = g_memdup2(data, *len);
    assert_int_equal(qemu_fclose(f), 0);
    return copy;
}

static int load(SerialState *s, const uint8_t *data, size_t len,
                Error **errp)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    int ret;

    qio_channel_buffer_set_data(ioc, data, len);
    f = qemu_file_new_input(ioc);
    ret = vmstate_load_state(f, &vmstate_serial, s, 1, errp);
    qemu_fclose(f);
    return ret;
}

/* Read every register of both UARTs, the same reads in the same order. */
static void assert_same_registers(void)
{
    static const unsigned regs[] = { IER, IIR, LCR, MCR, LSR, MSR, SCR };
    uint8_t lcr = inb(SRC, LCR);

    for (unsigned i = 0; i < G_N_ELEMENTS(regs); i++) {
        assert_int_equal(inb(DST, regs[i]), inb(SRC, regs[i]));
    }
    outb(SRC, LCR, lcr | 0x80);
    outb(DST, LCR, lcr | 0x80);
    assert_int_equal(inb(DST, DLL), inb(SRC, DLL));
    assert_int_equal(inb(DST, DLM), inb(SRC, DLM));
    outb(SRC, LCR, lcr);
    outb(DST, LCR, lcr);
}

/* A guest-like configuration: 115200 8N1, FIFO on, a few IRQs enabled. */
static void configure(uint16_t base)
{
    outb(base, LCR, 0x83);
    outb(base, DLL, 0x01);
    outb(base, DLM, 0x00);
    outb(base, LCR, 0x03);
    outb(base, FCR, 0xc7);
    outb(base, IER, 0x05);
    outb(base, MCR, 0x0b);
    outb(base, SCR, 0x5a);
}

static void test_round_trip_with_fifo(void **state)
{
    Fixture *f = *state;
    json_t *desc = json_object();
    json_t *subs;
    g_autofree uint8_t *data = NULL;
    size_t len;

    configure(SRC);
    assert_int_equal(chardev_ringbuf_input(f->chr_src,
                                           (const uint8_t *)"hello", 5), 5);
    assert_int_equal(inb(SRC, RBR), 'h');      /* head moves on */
    assert_int_equal(inb(SRC, LSR) & 0x01, 0x01);

    data = save(f->src, desc, &len);
    assert_int_equal(len, COUNT_OFFSET + 1);
    assert_int_equal(data[REGS_BYTES], 0x05);
    assert_memory_equal(data + REGS_BYTES + 2, SUB_NAME, strlen(SUB_NAME));
    assert_int_equal(data[HEAD_OFFSET], 1);
    assert_int_equal(data[COUNT_OFFSET], 4);
    subs = json_object_get(desc, "subsections");
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(subs, 0), "vmsd_name")), SUB_NAME);
    json_decref(desc);

    assert_int_equal(load(f->dst, data, len, &error_abort), 0);
    assert_same_registers();
    for (const char *p = "ello"; *p; p++) {
        assert_int_equal(inb(DST, LSR) & 0x01, 0x01);
        assert_int_equal(inb(DST, RBR), *p);
        assert_int_equal(inb(SRC, RBR), *p);
        assert_same_registers();
    }
    assert_int_equal(inb(DST, LSR) & 0x01, 0);
    /* The loaded UART takes new input from its own chardev. */
    assert_int_equal(chardev_ringbuf_input(f->chr_dst,
                                           (const uint8_t *)"!", 1), 1);
    assert_int_equal(inb(DST, RBR), '!');
}

static void test_round_trip_empty(void **state)
{
    Fixture *f = *state;
    g_autofree uint8_t *data = NULL;
    size_t len;

    configure(SRC);
    outb(SRC, IER, 0x02);                       /* THR-empty pending */
    data = save(f->src, NULL, &len);
    assert_int_equal(len, REGS_BYTES);          /* no FIFO subsection */

    /*
     * A byte in the destination's FIFO is replaced by the loaded (empty)
     * FIFO; what its chardev still holds comes in afterwards.
     */
    assert_int_equal(chardev_ringbuf_input(f->chr_dst,
                                           (const uint8_t *)"xy", 2), 2);
    assert_int_equal(inb(DST, LSR) & 0x01, 0x01);
    assert_int_equal(load(f->dst, data, len, &error_abort), 0);
    assert_int_equal(inb(DST, LSR) & 0x01, 0x01);
    assert_int_equal(inb(DST, RBR), 'y');
    assert_int_equal(inb(SRC, RBR), 0);         /* empty: nothing read yet */
    assert_int_equal(inb(DST, LSR) & 0x01, 0);
    assert_same_registers();
    assert_int_equal(inb(DST, IIR), inb(SRC, IIR));
}

static void load_fails(Fixture *f, const uint8_t *data, size_t len,
                       const char *text)
{
    Error *err = NULL;

    assert_true(load(f->dst, data, len, &err) < 0);
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), text)) {
        fail_msg("'%s' does not contain '%s'", error_get_pretty(err), text);
    }
    error_free(err);
}

static void test_bad_state(void **state)
{
    Fixture *f = *state;
    g_autofree uint8_t *data = NULL;
    size_t len;

    configure(SRC);
    assert_int_equal(chardev_ringbuf_input(f->chr_src,
                                           (const uint8_t *)"abc", 3), 3);
    data = save(f->src, NULL, &len);

    data[COUNT_OFFSET] = 17;
    load_fails(f, data, len, "Device 'serial': post_load failed: invalid "
               "receive FIFO (head 0, count 17, capacity 16)");
    data[COUNT_OFFSET] = 3;
    data[HEAD_OFFSET] = 16;
    load_fails(f, data, len, "invalid receive FIFO (head 16");
    data[HEAD_OFFSET] = 0;
    data[11] = 2;                               /* thr_ipending */
    load_fails(f, data, len, "serial:thr_ipending");
    data[11] = 0;
    data[10] = 0x08;                            /* FCR: DMA mode bit */
    load_fails(f, data, len, "invalid register values (FCR 0x08");
    data[10] = 0x00;                            /* FIFO off: capacity 1 */
    load_fails(f, data, len, "count 3, capacity 1");
    data[10] = 0xc1;
    assert_int_equal(load(f->dst, data, len, &error_abort), 0);
    for (const char *p = "abc"; *p; p++) {
        assert_int_equal(inb(DST, RBR), *p);
    }

    /* Truncated anywhere: an error, never a crash. */
    for (size_t cut = 0; cut < len; cut++) {
        Error *err = NULL;
        bool ok = load(f->dst, data, cut, &err) == 0;

        /* Only the cut right before the optional subsection loads. */
        assert_true(ok == (cut == REGS_BYTES));
        error_free(err);
    }
}

/* Whether @desc (a saved device's description) lists subsection @name. */
static bool has_subsection(json_t *desc, const char *name)
{
    json_t *subs = json_object_get(desc, "subsections");

    for (size_t i = 0; i < json_array_size(subs); i++) {
        json_t *name_json = json_object_get(json_array_get(subs, i),
                                            "vmsd_name");

        if (!strcmp(json_string_value(name_json), name)) {
            return true;
        }
    }
    return false;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;

    for (int i = 0; i < bytes; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* A filter that looks at nothing, and one that counts loads. */
static const ChardevFilterOps idle_filter_ops = { 0 };

static void count_stream_loaded(void *opaque)
{
    (*(int *)opaque)++;
}

static const ChardevFilterOps counting_filter_ops = {
    .stream_loaded = count_stream_loaded,
};

static void assert_stream(Chardev *c, uint64_t in_pos, uint64_t out_pos,
                          uint32_t epoch)
{
    ChardevStreamState st;

    chardev_get_stream_state(c, &st);
    assert_int_equal(st.in_pos, in_pos);
    assert_int_equal(st.out_pos, out_pos);
    assert_int_equal(st.epoch, epoch);
}

#define STREAM_NAME "serial/stream"
/* Marker, name length, name, version, in_pos, out_pos, epoch. */
#define STREAM_BYTES (2 + strlen(STREAM_NAME) + 4 + 8 + 8 + 4)

static void test_stream_subsection(void **state)
{
    Fixture *f = *state;
    g_autofree uint8_t *plain = NULL, *data = NULL, *again = NULL;
    const uint8_t *sub;
    json_t *desc;
    size_t plain_len, len, again_len;
    int src_token, loads = 0;

    /* Traffic both ways moves the positions; a cut raises the epoch. */
    configure(SRC);
    for (const char *p = "out"; *p; p++) {
        outb(SRC, THR, *p);
    }
    assert_int_equal(chardev_ringbuf_input(f->chr_src,
                                           (const uint8_t *)"hello", 5), 5);
    assert_int_equal(inb(SRC, RBR), 'h');
    chardev_next_epoch(f->chr_src);
    chardev_next_epoch(f->chr_src);
    assert_stream(f->chr_src, 5, 3, 2);

    /* No filter, no subsection: the stream stays what it always was. */
    desc = json_object();
    plain = save(f->src, desc, &plain_len);
    assert_true(has_subsection(desc, SUB_NAME));
    assert_false(has_subsection(desc, STREAM_NAME));
    json_decref(desc);

    chardev_filter_add(f->chr_src, &idle_filter_ops, &src_token);
    desc = json_object();
    data = save(f->src, desc, &len);
    assert_true(has_subsection(desc, STREAM_NAME));
    json_decref(desc);
    /* The same stream with the subsection appended, in this layout. */
    assert_int_equal(len, plain_len + STREAM_BYTES);
    assert_memory_equal(data, plain, plain_len);
    sub = data + plain_len;
    assert_int_equal(sub[0], 0x05);
    assert_int_equal(sub[1], strlen(STREAM_NAME));
    assert_memory_equal(sub + 2, STREAM_NAME, strlen(STREAM_NAME));
    sub += 2 + strlen(STREAM_NAME);
    assert_int_equal(get_be(sub, 4), 1);
    assert_int_equal(get_be(sub + 4, 8), 5);
    assert_int_equal(get_be(sub + 12, 8), 3);
    assert_int_equal(get_be(sub + 20, 4), 2);

    /* Loading sets the positions, and the filters hear of it. */
    chardev_filter_add(f->chr_dst, &counting_filter_ops, &loads);
    assert_stream(f->chr_dst, 0, 0, 0);
    assert_int_equal(load(f->dst, data, len, &error_abort), 0);
    assert_stream(f->chr_dst, 5, 3, 2);
    assert_int_equal(loads, 1);
    for (const char *p = "ello"; *p; p++) {
        assert_int_equal(inb(DST, RBR), *p);
    }
    /* The loaded UART's next bytes continue from there. */
    outb(DST, THR, '!');
    assert_stream(f->chr_dst, 5, 4, 2);

    /* A state without the subsection leaves the positions alone. */
    assert_int_equal(load(f->dst, plain, plain_len, &error_abort), 0);
    assert_stream(f->chr_dst, 5, 4, 2);
    assert_int_equal(loads, 1);

    /* Once the last filter is gone, the subsection is too. */
    chardev_filter_remove(f->chr_src, &src_token);
    again = save(f->src, NULL, &again_len);
    assert_int_equal(again_len, plain_len);
    assert_memory_equal(again, plain, plain_len);
}

static void test_stream_subsection_truncated(void **state)
{
    Fixture *f = *state;
    g_autofree uint8_t *data = NULL;
    int token;
    size_t len;

    chardev_filter_add(f->chr_src, &idle_filter_ops, &token);
    outb(SRC, THR, 'x');
    data = save(f->src, NULL, &len);
    assert_int_equal(len, REGS_BYTES + STREAM_BYTES);
    /* Cut inside the subsection: refused, the positions untouched. */
    for (size_t cut = REGS_BYTES + 1; cut < len; cut++) {
        Error *err = NULL;

        assert_true(load(f->dst, data, cut, &err) < 0);
        assert_non_null(err);
        error_free(err);
        assert_stream(f->chr_dst, 0, 0, 0);
    }
    assert_int_equal(load(f->dst, data, len, &error_abort), 0);
    assert_stream(f->chr_dst, 0, 1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_with_fifo, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_subsection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_subsection_truncated,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
