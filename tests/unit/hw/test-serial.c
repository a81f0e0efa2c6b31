/*
 * Tests for the 16550A model, driven through the port I/O bus like a
 * guest, with a ringbuf chardev standing in for the host side.
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
#include "system/ioport.h"
#include "system/runstate.h"
#include "util/main-loop.h"

#define BASE 0x3f8
#define RBR (BASE + 0)
#define THR (BASE + 0)
#define DLL (BASE + 0)
#define IER (BASE + 1)
#define DLM (BASE + 1)
#define IIR (BASE + 2)
#define FCR (BASE + 2)
#define LCR (BASE + 3)
#define MCR (BASE + 4)
#define LSR (BASE + 5)
#define MSR (BASE + 6)
#define SCR (BASE + 7)

typedef struct Fixture {
    Chardev *chr;
    SerialState *s;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    main_loop_init();
    f->chr = chardev_new_from_opts("ringbuf,id=ser0,size=256", &error_abort);
    f->s = serial_isa_init(BASE, f->chr, &error_abort);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    serial_free(f->s);
    /* The UART is gone from the reset list: this must not reach it. */
    system_run_reset_handlers();
    chardev_cleanup_all();
    ioport_unregister_all();
    g_free(f);
    return 0;
}

static uint8_t inb(uint16_t port)
{
    return ioport_read(port, 1);
}

static void outb(uint16_t port, uint8_t val)
{
    ioport_write(port, val, 1);
}

static void feed(Fixture *f, const char *s)
{
    assert_int_equal(chardev_ringbuf_input(f->chr, (const uint8_t *)s,
                                           strlen(s)),
                     strlen(s));
}

static void test_power_on(void **state)
{
    assert_int_equal(inb(IER), 0);
    assert_int_equal(inb(IIR), 0x01);
    assert_int_equal(inb(LCR), 0);
    assert_int_equal(inb(MCR), 0x08);
    assert_int_equal(inb(LSR), 0x60);       /* THRE | TEMT */
    assert_int_equal(inb(MSR), 0xb0);       /* DCD | DSR | CTS */
    assert_int_equal(inb(SCR), 0);
}

static void test_thr_output(void **state)
{
    Fixture *f = *state;
    uint8_t buf[32];
    int n;

    for (const char *p = "hello\n"; *p; p++) {
        assert_true(inb(LSR) & 0x20);
        outb(THR, *p);
    }
    n = chardev_ringbuf_read(f->chr, buf, sizeof(buf));
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "hello\n", 6);
    assert_int_equal(inb(LSR) & 0x60, 0x60);
}

static void test_dlab(void **state)
{
    Fixture *f = *state;
    uint8_t buf[4];

    assert_int_equal(inb(DLL), 0);          /* reads RBR: nothing yet */
    outb(LCR, 0x83);                        /* DLAB, 8N1 */
    assert_int_equal(inb(DLL), 0x0c);       /* 9600 baud */
    assert_int_equal(inb(DLM), 0x00);
    outb(DLL, 0x01);
    outb(DLM, 0x02);
    assert_int_equal(inb(DLL), 0x01);
    assert_int_equal(inb(DLM), 0x02);
    /* Divisor writes are not data, and IER is untouched. */
    assert_int_equal(chardev_ringbuf_read(f->chr, buf, sizeof(buf)), 0);
    outb(LCR, 0x03);
    assert_int_equal(inb(LCR), 0x03);
    assert_int_equal(inb(IER), 0);
    outb(IER, 0x05);
    assert_int_equal(inb(IER), 0x05);
    outb(LCR, 0x83);
    assert_int_equal(inb(DLM), 0x02);
    /* A 16-bit access reaches DLL and DLM together. */
    assert_int_equal(ioport_read(DLL, 2), 0x0201);
    ioport_write(DLL, 0x0403, 2);
    assert_int_equal(inb(DLL), 0x03);
    assert_int_equal(inb(DLM), 0x04);
}

static void test_rx_no_fifo(void **state)
{
    Fixture *f = *state;

    assert_int_equal(inb(LSR) & 0x01, 0);
    feed(f, "abc");
    /* Without the FIFO only one byte is held; the rest waits upstream. */
    assert_int_equal(inb(LSR) & 0x01, 0x01);
    assert_int_equal(inb(RBR), 'a');
    assert_int_equal(inb(LSR) & 0x01, 0x01);
    assert_int_equal(inb(RBR), 'b');
    assert_int_equal(inb(RBR), 'c');
    assert_int_equal(inb(LSR) & 0x03, 0);   /* empty, no overrun */
    assert_int_equal(inb(RBR), 'c');        /* stale holding register */
}

static void test_rx_fifo(void **state)
{
    Fixture *f = *state;
    char in[41];

    outb(FCR, 0x01);
    assert_int_equal(inb(IIR) & 0xc0, 0xc0);
    for (int i = 0; i < 40; i++) {
        in[i] = 'A' + i;
    }
    in[40] = '\0';
    feed(f, in);
    /* 16 in the FIFO, the rest held back by the chardev, none lost. */
    for (int i = 0; i < 40; i++) {
        assert_int_equal(inb(LSR) & 0x03, 0x01);
        assert_int_equal(inb(RBR), 'A' + i);
    }
    assert_int_equal(inb(LSR) & 0x03, 0);
}

static void test_rx_overrun_loopback(void **state)
{
    Fixture *f = *state;
    uint8_t buf[4];

    outb(FCR, 0x01);
    outb(MCR, 0x10 | 0x08);
    for (int i = 0; i < 20; i++) {
        outb(THR, 0x30 + i);
    }
    /* Loopback: nothing reached the chardev. */
    assert_int_equal(chardev_ringbuf_read(f->chr, buf, sizeof(buf)), 0);
    assert_int_equal(inb(LSR) & 0x03, 0x03);    /* DR | OE */
    assert_int_equal(inb(LSR) & 0x03, 0x01);    /* OE cleared by reading */
    for (int i = 0; i < 16; i++) {
        assert_int_equal(inb(RBR), 0x30 + i);   /* the first 16 kept */
    }
    assert_int_equal(inb(LSR) & 0x01, 0);
    /* While in loopback, host input is held back. */
    feed(f, "x");
    assert_int_equal(inb(LSR) & 0x01, 0);
    outb(MCR, 0x08);
    assert_int_equal(inb(LSR) & 0x01, 0x01);
    assert_int_equal(inb(RBR), 'x');
}

static void test_loopback_msr(void **state)
{
    outb(MCR, 0x10);                /* loop, all outputs off */
    assert_int_equal(inb(MSR) & 0xf0, 0);
    inb(MSR);
    outb(MCR, 0x10 | 0x01 | 0x02);  /* DTR, RTS -> DSR, CTS */
    assert_int_equal(inb(MSR), 0x30 | 0x03);
    assert_int_equal(inb(MSR), 0x30);   /* deltas cleared by reading */
    outb(MCR, 0x10 | 0x04 | 0x08);  /* OUT1, OUT2 -> RI, DCD */
    assert_int_equal(inb(MSR), 0xc0 | 0x0b);
    outb(MCR, 0x10 | 0x08);         /* RI falls: trailing edge */
    assert_int_equal(inb(MSR), 0x80 | 0x04);
    assert_int_equal(inb(MCR), 0x18);
}

static void test_fcr_reset(void **state)
{
    Fixture *f = *state;

    outb(FCR, 0x01);
    feed(f, "0123456789");
    assert_true(inb(LSR) & 0x01);
    outb(FCR, 0x03);                /* keep enabled, reset RX */
    assert_int_equal(inb(LSR) & 0x01, 0);
    feed(f, "xy");
    outb(FCR, 0x05);                /* TX reset leaves RX alone */
    assert_int_equal(inb(RBR), 'x');
    outb(FCR, 0x00);                /* disabling empties the FIFO */
    assert_int_equal(inb(LSR) & 0x01, 0);
    assert_int_equal(inb(IIR) & 0xc0, 0);
}

static void test_iir(void **state)
{
    Fixture *f = *state;

    outb(FCR, 0x01 | 0x80);         /* trigger level 8 */
    assert_int_equal(inb(IIR), 0xc1);
    /* THRI is raised when enabled with THR empty, cleared by IIR read. */
    outb(IER, 0x02);
    assert_int_equal(inb(IIR), 0xc2);
    assert_int_equal(inb(IIR), 0xc1);
    outb(THR, 'z');
    assert_int_equal(inb(IIR), 0xc2);
    assert_int_equal(inb(IIR), 0xc1);
    /* Received data below the trigger level: character timeout. */
    outb(IER, 0x01 | 0x02);
    feed(f, "abc");
    assert_int_equal(inb(IIR), 0xcc);
    feed(f, "defgh");
    assert_int_equal(inb(IIR), 0xc4);   /* 8 bytes: trigger reached */
    for (int i = 0; i < 8; i++) {
        inb(RBR);
    }
    assert_int_equal(inb(IIR), 0xc1);
    /* Line status outranks data: overrun in loopback. */
    outb(IER, 0x05);
    outb(MCR, 0x18);
    for (int i = 0; i < 17; i++) {
        outb(THR, i);
    }
    assert_int_equal(inb(IIR), 0xc6);
    inb(LSR);
    assert_int_equal(inb(IIR), 0xc4);
    /* Modem status changes, lowest priority. */
    outb(FCR, 0x00);                /* also empties RX */
    outb(IER, 0x08);
    outb(MCR, 0x18 | 0x01);
    assert_int_equal(inb(IIR), 0x00);
    inb(MSR);
    assert_int_equal(inb(IIR), 0x01);
}

static void test_scr_and_read_only(void **state)
{
    outb(SCR, 0x5a);
    assert_int_equal(inb(SCR), 0x5a);
    outb(LSR, 0x00);
    outb(MSR, 0x00);
    assert_int_equal(inb(LSR), 0x60);
    assert_int_equal(inb(MSR) & 0xf0, 0xb0);
}

static void test_reset(void **state)
{
    Fixture *f = *state;

    outb(LCR, 0x83);
    outb(DLL, 0x01);
    outb(LCR, 0x03);
    outb(IER, 0x0f);
    outb(FCR, 0x01);
    outb(SCR, 0x77);
    outb(MCR, 0x1f);
    feed(f, "q");
    system_run_reset_handlers();
    assert_int_equal(inb(LCR), 0);
    assert_int_equal(inb(IER), 0);
    assert_int_equal(inb(IIR), 0x01);
    assert_int_equal(inb(SCR), 0);
    assert_int_equal(inb(MCR), 0x08);
    /* Input held back during loopback arrives once reset ends it. */
    assert_int_equal(inb(LSR), 0x61);
    assert_int_equal(inb(RBR), 'q');
    assert_int_equal(inb(LSR), 0x60);
    outb(LCR, 0x80);
    assert_int_equal(inb(DLL), 0x0c);
}

static void test_chardev_in_use(void **state)
{
    Fixture *f = *state;
    Error *err = NULL;

    assert_true(chardev_in_use(f->chr));
    assert_null(serial_isa_init(0x2f8, f->chr, &err));
    assert_string_equal(error_get_pretty(err), "Device 'ser0' is in use");
    error_free(err);
    /* Still ours: output goes where it went. */
    outb(THR, '!');
    assert_int_equal(chardev_ringbuf_read(f->chr, (uint8_t[4]){ 0 }, 4), 1);
}

static void test_no_chardev(void **state)
{
    SerialState *s = serial_isa_init(0x2f8, NULL, &error_abort);
    Error *err = NULL;

    ioport_write(0x2f8, 'x', 1);
    assert_int_equal(ioport_read(0x2fd, 1), 0x60);
    assert_null(serial_isa_init(0x2f8, NULL, &err));
    assert_non_null(err);
    error_free(err);
    serial_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thr_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_no_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_overrun_loopback, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_loopback_msr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fcr_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scr_and_read_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chardev_in_use, setup,
                                        teardown),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_no_chardev),
    };

    return cmocka_run_group_tests(tests, NULL, NULL) ||
           cmocka_run_group_tests(alone, NULL, NULL);
}
