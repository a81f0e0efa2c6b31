/*
 * qtest round trips on guest RAM and ports: every access command at
 * several addresses and sizes, the exact reply formats, memset, large
 * transfers in hex and base64, and port I/O to the serial port.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qtest-fixture.h"

#define RAM_MIB 128

static int setup(void **state)
{
    return qtest_fixture_start(state, RAM_MIB, NULL);
}

static int teardown(void **state)
{
    return qtest_fixture_stop(state);
}

/* Addresses for the fixed-width accesses, some unaligned or at the end. */
static uint64_t test_addrs(const QtestFixture *f, size_t i)
{
    const uint64_t addrs[] = {
        0x0, 0x1000, 0x1001, 0xfff, 0x123457, f->ram_size - 8,
    };

    return i < G_N_ELEMENTS(addrs) ? addrs[i] : UINT64_MAX;
}

static void test_fixed_width(void **state)
{
    QtestFixture *f = *state;
    QtestClient *qt = f->qt;
    uint64_t addr;

    for (size_t i = 0; (addr = test_addrs(f, i)) != UINT64_MAX; i++) {
        uint8_t b, bytes[8];
        uint16_t w;
        uint32_t l;
        uint64_t q;

        assert_true(qtest_writeq(qt, addr, 0x0102030405060708ULL ^ i));
        assert_true(qtest_readq(qt, addr, &q));
        assert_int_equal(q, 0x0102030405060708ULL ^ i);
        /* Little-endian in guest memory. */
        assert_true(qtest_memread(qt, addr, bytes, 8));
        assert_int_equal(bytes[0], 0x08 ^ i);
        assert_int_equal(bytes[7], 0x01);

        assert_true(qtest_writel(qt, addr, 0xdeadbeef));
        assert_true(qtest_readl(qt, addr, &l));
        assert_int_equal(l, 0xdeadbeef);
        assert_true(qtest_readw(qt, addr + 2, &w));
        assert_int_equal(w, 0xdead);
        /* The upper half of the earlier quad word is untouched. */
        assert_true(qtest_readl(qt, addr + 4, &l));
        assert_int_equal(l, 0x01020304);

        assert_true(qtest_writew(qt, addr, 0xcafe));
        assert_true(qtest_readw(qt, addr, &w));
        assert_int_equal(w, 0xcafe);
        assert_true(qtest_writeb(qt, addr + 1, 0x5a));
        assert_true(qtest_readb(qt, addr + 1, &b));
        assert_int_equal(b, 0x5a);
        assert_true(qtest_readb(qt, addr, &b));
        assert_int_equal(b, 0xfe);
    }
}

/* The reply texts are QEMU's, byte for byte. */
static void test_reply_formats(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;

    assert_qtest_reply(qt, "OK", "writeq 0x2000 0x1122334455667788");
    assert_qtest_reply(qt, "OK 0x1122334455667788", "readq 0x2000");
    assert_qtest_reply(qt, "OK 0x0000000000000088", "readb 0x2000");
    assert_qtest_reply(qt, "OK 0x0000000000007788", "readw 0x2000");
    assert_qtest_reply(qt, "OK 0x0000000055667788", "readl 0x2000");
    assert_qtest_reply(qt, "OK 0x8877665544332211", "read 0x2000 8");
    assert_qtest_reply(qt, "OK", "write 0x2000 4 0x01020304");
    assert_qtest_reply(qt, "OK 0x01020304", "read 0x2000 4");
    assert_qtest_reply(qt, "OK AQIDBA==", "b64read 0x2000 4");
    assert_qtest_reply(qt, "OK ", "b64read 0x2000 0");
    assert_qtest_reply(qt, "OK", "b64write 0x2000 3 qrvM");
    assert_qtest_reply(qt, "OK 0xaabbcc04", "read 0x2000 4");
    /* Like QEMU, missing trailing data bytes are written as zero. */
    assert_qtest_reply(qt, "OK", "write 0x2000 4 0x12");
    assert_qtest_reply(qt, "OK 0x12000000", "read 0x2000 4");
    /* Decimal and octal numbers are accepted as well. */
    assert_qtest_reply(qt, "OK", "writeb 8192 255");
    assert_qtest_reply(qt, "OK 0x00000000000000ff", "readb 020000");
    assert_qtest_reply(qt, "OK little", "endianness");
    /* Blanks between words may be repeated; CR LF ends a line too. */
    assert_qtest_reply(qt, "OK 0x00000000000000ff", "  readb \t0x2000 ");
    assert_true(qtest_send_raw(qt, "readw 0x2000\r\n", 14));
    {
        g_autofree char *r = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);

        assert_string_equal(r, "OK 0x00000000000000ff");
    }
}

static void check_bytes(QtestClient *qt, uint64_t addr, size_t len,
                        uint32_t seed)
{
    g_autofree uint8_t *want = g_malloc(len);
    g_autofree uint8_t *hex = g_malloc(len);
    g_autofree uint8_t *b64 = g_malloc(len);

    fill_pattern(want, len, seed);
    assert_true(qtest_memread(qt, addr, hex, len));
    assert_memory_equal(hex, want, len);
    assert_true(qtest_bufread(qt, addr, b64, len));
    assert_memory_equal(b64, want, len);
}

static void test_sizes(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    static const size_t sizes[] = {
        1, 2, 3, 7, 8, 15, 4095, 4096, 4097, 65536 + 3, 300000,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        /* Start a little before a page boundary so most sizes cross it. */
        uint64_t addr = 0x100000 - 5 + i * 0x80000;
        g_autofree uint8_t *data = g_malloc(sizes[i]);

        fill_pattern(data, sizes[i], i);
        if (i % 2) {
            assert_true(qtest_memwrite(qt, addr, data, sizes[i]));
        } else {
            assert_true(qtest_bufwrite(qt, addr, data, sizes[i]));
        }
        check_bytes(qt, addr, sizes[i], i);
    }
}

static void test_memset(void **state)
{
    QtestFixture *f = *state;
    QtestClient *qt = f->qt;
    uint8_t buf[3 * 4096 + 2];
    uint64_t base = 0x200000;

    assert_true(qtest_memset(qt, base - 1, 0x11, sizeof(buf)));
    assert_true(qtest_memset(qt, base, 0xa5, 3 * 4096));
    assert_true(qtest_memread(qt, base - 1, buf, sizeof(buf)));
    assert_int_equal(buf[0], 0x11);
    for (size_t i = 1; i <= 3 * 4096; i++) {
        assert_int_equal(buf[i], 0xa5);
    }
    assert_int_equal(buf[3 * 4096 + 1], 0x11);

    /* Zero bytes: nothing changes, as QEMU. */
    assert_qtest_reply(qt, "OK", "memset 0x%" PRIx64 " 0 0x77", base);
    assert_qtest_reply(qt, "OK 0xa5a5", "read 0x%" PRIx64 " 2", base);

    /* memset has no size bound of its own: all of RAM at once. */
    assert_true(qtest_memset(qt, 0, 0x3c, f->ram_size));
    assert_qtest_reply(qt, "OK 0x3c3c3c3c3c3c3c3c",
                       "readq 0x%" PRIx64, f->ram_size - 8);
    assert_qtest_reply(qt, "OK 0x3c3c", "read 0x0 2");
}

/* Several MiB in one request each way, hex and base64. */
static void test_large(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    const size_t len = 12 * MiB + 123;

    g_autofree uint8_t *data = g_malloc(len);

    fill_pattern(data, len, 42);
    assert_true(qtest_memwrite(qt, 0x400000, data, len));
    check_bytes(qt, 0x400000, len, 42);

    fill_pattern(data, len, 43);
    assert_true(qtest_bufwrite(qt, 0x2400000 + 1, data, len));
    check_bytes(qt, 0x2400000 + 1, len, 43);
}

static char *hex_request(const char *cmd, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    GString *req = g_string_sized_new(2 * len + 64);

    g_string_printf(req, "%s 0x0 %zu 0x", cmd, len);
    for (size_t i = 0; i < len; i++) {
        g_string_append_c(req, digits[data[i] >> 4]);
        g_string_append_c(req, digits[data[i] & 0xf]);
    }
    g_string_append_c(req, '\n');
    return g_string_free(req, false);
}

static void assert_hex_equal(const char *hex, const uint8_t *data, size_t len)
{
    assert_int_equal(strlen(hex), 2 + 2 * len);
    assert_memory_equal(hex, "0x", 2);
    for (size_t i = 0; i < len; i++) {
        int v = g_ascii_xdigit_value(hex[2 + 2 * i]) << 4 |
                g_ascii_xdigit_value(hex[3 + 2 * i]);

        if (v != data[i]) {
            fail_msg("byte %zu is 0x%02x, expected 0x%02x", i, v, data[i]);
        }
    }
}

/*
 * The largest transfers the server allows, in one request each: the
 * 128 MiB read reply is far more than the chardev buffers, and nothing
 * may be lost; the connection carries on afterwards.
 */
static void test_max_transfer(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    const size_t len = QTEST_CLIENT_MAX_ACCESS;
    g_autofree uint8_t *data = g_malloc(len);
    g_autofree uint8_t *decoded = NULL;
    char *req;
    const char *text;
    gsize got;

    fill_pattern(data, len, 7);
    req = hex_request("write", data, len);
    assert_true(qtest_send_raw(qt, req, strlen(req)));
    g_free(req);
    g_free(qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS));
    assert_string_equal(qtest_last_reply(qt), "OK");

    text = qtest_cmd_ok(qt, "read 0x0 %zu", len);
    assert_non_null(text);
    assert_hex_equal(text, data, len);

    text = qtest_cmd_ok(qt, "b64read 0x0 %zu", len);
    assert_non_null(text);
    decoded = g_base64_decode(text, &got);
    assert_int_equal(got, len);
    assert_memory_equal(decoded, data, len);

    assert_qtest_reply(qt, "OK", "writeb 0x%zx 0xe7", len - 1);
    assert_qtest_reply(qt, "OK 0x00000000000000e7", "readb 0x%zx", len - 1);
}

static void test_port_io(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    uint8_t b;

    /* Unassigned ports read as all ones; QEMU prints at least 4 digits. */
    assert_qtest_reply(qt, "OK 0x00ff", "inb 0x1234");
    assert_qtest_reply(qt, "OK 0xffff", "inw 0x1234");
    assert_qtest_reply(qt, "OK 0xffffffff", "inl 0x1234");
    assert_qtest_reply(qt, "OK", "outb 0x1234 0x12");
    assert_qtest_reply(qt, "OK", "outl 0x1234 0x12345678");

    /* The UART's scratch register keeps what is written to it. */
    assert_true(qtest_outb(qt, 0x3ff, 0x5a));
    assert_true(qtest_inb(qt, 0x3ff, &b));
    assert_int_equal(b, 0x5a);
    assert_qtest_reply(qt, "OK", "outb 0x3ff 0xa5");
    assert_qtest_reply(qt, "OK 0x00a5", "inb 0x3ff");
    /* LSR after reset: transmitter empty. */
    assert_true(qtest_inb(qt, 0x3fd, &b));
    assert_int_equal(b & 0x60, 0x60);
}

/* Two machines, as at both ends of a migration. */
static void test_compare_two(void **state)
{
    QtestFixture *f = *state;
    QmpTestProc *vm2;
    g_autoptr(QtestClient) qt2 = qtest_start("-m 128M", &vm2);
    const size_t len = 20 * MiB;
    g_autofree uint8_t *data = g_malloc(len);
    uint64_t diff = 0;

    assert_non_null(qt2);
    fill_pattern(data, len, 99);
    assert_true(qtest_bufwrite(f->qt, 0, data, len));
    assert_true(qtest_bufwrite(qt2, 0, data, len));
    assert_int_equal(qtest_ram_compare(f->qt, qt2, 0, f->ram_size, &diff),
                     0);
    assert_true(qtest_writeb(qt2, 17 * MiB + 5, data[17 * MiB + 5] ^ 1));
    assert_int_equal(qtest_ram_compare(f->qt, qt2, 0, f->ram_size, &diff),
                     1);
    assert_int_equal(diff, 17 * MiB + 5);
    /* Outside RAM the comparison fails rather than answers. */
    assert_int_equal(qtest_ram_compare(f->qt, qt2, f->ram_size - 4096,
                                       8192, NULL), -1);
    qmptest_free(vm2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixed_width, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_transfer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_port_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_two, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
