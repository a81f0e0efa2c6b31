/*
 * qtest requests that must fail: every malformed or out-of-range case
 * gets "FAIL reason", changes nothing, and the connection keeps working
 * afterwards.  Also line framing: pipelining, NUL bytes, overlong
 * lines, and a client that disconnects in the middle of a line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qtest-fixture.h"

#define RAM_MIB 128
#define MARK_ADDR 0x10

static int setup(void **state)
{
    QtestFixture *f;

    if (qtest_fixture_start(state, RAM_MIB, NULL) < 0) {
        return -1;
    }
    f = *state;
    /* A byte every check reads back to prove the connection works. */
    return qtest_writeb(f->qt, MARK_ADDR, 0x42) ? 0 : -1;
}

static int teardown(void **state)
{
    return qtest_fixture_stop(state);
}

static void assert_still_working(QtestClient *qt)
{
    assert_qtest_reply(qt, "OK 0x0000000000000042", "readb 0x%x", MARK_ADDR);
}

typedef struct FailCase {
    const char *request;
    const char *reply;
} FailCase;

static const FailCase fail_cases[] = {
    { "", "FAIL empty command" },
    { "   ", "FAIL empty command" },
    { "foo", "FAIL Unknown command 'foo'" },
    { "READB 0x0", "FAIL Unknown command 'READB'" },
    { "readb", "FAIL readb: wrong number of arguments (usage: readb ADDR)" },
    { "readb 0x0 1",
      "FAIL readb: wrong number of arguments (usage: readb ADDR)" },
    { "writeq 0x0",
      "FAIL writeq: wrong number of arguments (usage: writeq ADDR VALUE)" },
    { "read 0x0",
      "FAIL read: wrong number of arguments (usage: read ADDR SIZE)" },
    { "write 0x0 1",
      "FAIL write: wrong number of arguments "
      "(usage: write ADDR SIZE 0xDATA)" },
    { "memset 0x0 1 2 3",
      "FAIL memset: wrong number of arguments "
      "(usage: memset ADDR SIZE VALUE)" },
    { "b64write 0x0 1",
      "FAIL b64write: wrong number of arguments "
      "(usage: b64write ADDR SIZE B64DATA)" },
    { "outw 0x80",
      "FAIL outw: wrong number of arguments (usage: outw PORT VALUE)" },
    { "endianness x",
      "FAIL endianness: wrong number of arguments (usage: endianness)" },
    { "dirty_log",
      "FAIL dirty_log: wrong number of arguments "
      "(usage: dirty_log start|stop|sync)" },

    /* Numbers */
    { "readb zz", "FAIL readb: address 'zz' is not a valid number" },
    { "readb 0x", "FAIL readb: address '0x' is not a valid number" },
    { "readb -1", "FAIL readb: address '-1' is not a valid number" },
    { "readb +1", "FAIL readb: address '+1' is not a valid number" },
    { "readb 0x10g", "FAIL readb: address '0x10g' is not a valid number" },
    { "readb 09", "FAIL readb: address '09' is not a valid number" },
    { "readb 99999999999999999999",
      "FAIL readb: address '99999999999999999999' is not a valid number" },
    { "readb 0x" "0123456789abcdef0123456789abcdef0123456789",
      "FAIL readb: address '0x0123456789abcdef0123456789abcdef01...' "
      "is not a valid number" },
    { "writeb 0x10 0x100", "FAIL writeb: value 0x100 is larger than 0xff" },
    { "writew 0x10 0x10000",
      "FAIL writew: value 0x10000 is larger than 0xffff" },
    { "writel 0x10 0x100000000",
      "FAIL writel: value 0x100000000 is larger than 0xffffffff" },
    { "writeq 0x10 0x10000000000000000",
      "FAIL writeq: value '0x10000000000000000' is not a valid number" },
    { "writeb 0x10 x", "FAIL writeb: value 'x' is not a valid number" },
    { "read 0x10 zz", "FAIL read: size 'zz' is not a valid number" },

    /* Addresses outside RAM (QEMU would ignore the access) */
    { "readb 0x8000000",
      "FAIL readb: Guest memory [0x8000000, +0x1) is not inside one RAM "
      "block" },
    { "readq 0x7fffffc",
      "FAIL readq: Guest memory [0x7fffffc, +0x8) is not inside one RAM "
      "block" },
    { "writel 0xfffffffffffffffe 0x1",
      "FAIL writel: Guest memory [0xfffffffffffffffe, +0x4) is not inside "
      "one RAM block" },
    { "read 0x7fff000 0x2000",
      "FAIL read: Guest memory [0x7fff000, +0x2000) is not inside one RAM "
      "block" },
    { "write 0x7ffffff 2 0x1010",
      "FAIL write: Guest memory [0x7ffffff, +0x2) is not inside one RAM "
      "block" },
    { "memset 0x7fff000 0x2000 0x10",
      "FAIL memset: Guest memory [0x7fff000, +0x2000) is not inside one RAM "
      "block" },
    { "b64read 0x8000000 1",
      "FAIL b64read: Guest memory [0x8000000, +0x1) is not inside one RAM "
      "block" },
    { "b64write 0x8000000 1 EA==",
      "FAIL b64write: Guest memory [0x8000000, +0x1) is not inside one RAM "
      "block" },

    /* Sizes and data */
    { "read 0x0 0", "FAIL read: size must not be zero" },
    { "read 0x0 0x4000001",
      "FAIL read: size 0x4000001 is larger than 0x4000000" },
    { "b64read 0x0 0x4000001",
      "FAIL b64read: size 0x4000001 is larger than 0x4000000" },
    { "write 0x10 0 0x", "FAIL write: size must not be zero" },
    { "write 0x10 0x4000001 0x10",
      "FAIL write: size 0x4000001 is larger than 0x4000000" },
    { "write 0x10 2 1010", "FAIL write: data must start with 0x" },
    { "write 0x10 2 0x101010",
      "FAIL write: 6 hex digits do not fit in 2 bytes" },
    { "write 0x10 2 0x10zz", "FAIL write: invalid hex digit 'z' in data" },
    { "memset 0x10 1 0x100", "FAIL memset: value 0x100 is larger than 0xff" },
    { "b64write 0x10 0 AAAA", "FAIL b64write: size must not be zero" },
    { "b64write 0x10 4 EA==",
      "FAIL b64write: data length mismatch (told 4, found 1)" },
    { "b64write 0x10 1 EA=",
      "FAIL b64write: base64 data length 3 is not a multiple of 4" },
    { "b64write 0x10 3 EA*D", "FAIL b64write: invalid base64 character '*'" },
    { "b64write 0x10 1 E===", "FAIL b64write: invalid base64 character '='" },

    /* Ports */
    { "inb 0x10000", "FAIL inb: port 0x10000 is larger than 0xffff" },
    { "inw 0xffff", "FAIL inw: port 0xffff is larger than 0xfffe" },
    { "inl 0xfffd", "FAIL inl: port 0xfffd is larger than 0xfffc" },
    { "outb 0x1234 0x100", "FAIL outb: value 0x100 is larger than 0xff" },
    { "outl 0x1234 0x100000000",
      "FAIL outl: value 0x100000000 is larger than 0xffffffff" },
    { "inb port", "FAIL inb: port 'port' is not a valid number" },

    /* Dirty logging extension */
    { "dirty_log go",
      "FAIL dirty_log: unknown operation 'go' (start, stop or sync)" },
    { "dirty_pages 0x1 0x1000",
      "FAIL dirty_pages: address 0x1 and size 0x1000 must be multiples of "
      "the page size (0x1000)" },
    { "dirty_pages 0x0 0x10",
      "FAIL dirty_pages: address 0x0 and size 0x10 must be multiples of "
      "the page size (0x1000)" },
    { "dirty_pages 0x8000000 0x1000",
      "FAIL dirty_pages: range 0x8000000+0x1000 is not inside one RAM "
      "block" },
    { "dirty_pages 0x7fff000 0x2000",
      "FAIL dirty_pages: range 0x7fff000+0x2000 is not inside one RAM "
      "block" },
    { "dirty_clear 0x0 0x10",
      "FAIL dirty_clear: address 0x0 and size 0x10 must be multiples of "
      "the page size (0x1000)" },
    { "dirty_clear 0x0", "FAIL dirty_clear: wrong number of arguments "
      "(usage: dirty_clear ADDR SIZE)" },
};

static void test_fail_cases(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;

    for (size_t i = 0; i < G_N_ELEMENTS(fail_cases); i++) {
        g_autofree char *reply = qtest_cmd(qt, "%s", fail_cases[i].request);

        assert_non_null(reply);
        if (strcmp(reply, fail_cases[i].reply) != 0) {
            fail_msg("'%s' got '%s', expected '%s'", fail_cases[i].request,
                     reply, fail_cases[i].reply);
        }
        assert_still_working(qt);
    }
}

/* A failed write leaves memory alone, even the part inside RAM. */
static void test_fail_changes_nothing(void **state)
{
    QtestFixture *f = *state;
    QtestClient *qt = f->qt;
    uint64_t last = f->ram_size - 1;

    assert_true(qtest_writeb(qt, last, 0x33));
    assert_qtest_reply_prefix(qt, "FAIL write:", "write 0x%" PRIx64
                              " 2 0xaabb", last);
    assert_qtest_reply_prefix(qt, "FAIL memset:", "memset 0x%" PRIx64
                              " 2 0xaa", last);
    assert_qtest_reply_prefix(qt, "FAIL writew:", "writew 0x%" PRIx64
                              " 0xaabb", last);
    assert_qtest_reply(qt, "OK 0x0000000000000033", "readb 0x%" PRIx64,
                       last);
    assert_qtest_reply_prefix(qt, "FAIL write:", "write 0x20 2 0x12zz");
    assert_qtest_reply(qt, "OK 0x0000", "read 0x20 2");
}

static void test_nul_byte(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    static const char line[] = "readb\0 0x10\n";
    g_autofree char *reply = NULL;

    assert_true(qtest_send_raw(qt, line, sizeof(line) - 1));
    reply = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);
    assert_string_equal(reply, "FAIL line contains a NUL byte");
    assert_still_working(qt);
}

/* Many requests in one write: one reply each, in order. */
static void test_pipelined(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    g_autoptr(GString) batch = g_string_new(NULL);
    const unsigned n = 2000;

    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(batch, "writew 0x%x 0x%x\nreadw 0x%x\n"
                               "bogus%u\n", 0x1000 + 2 * i, i, 0x1000 + 2 * i,
                               i);
    }
    assert_true(qtest_send_raw(qt, batch->str, batch->len));
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *w = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);
        g_autofree char *r = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);
        g_autofree char *b = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);
        g_autofree char *want_r = g_strdup_printf("OK 0x%016x", i);
        g_autofree char *want_b = g_strdup_printf("FAIL Unknown command "
                                                  "'bogus%u'", i);

        assert_string_equal(w, "OK");
        assert_string_equal(r, want_r);
        assert_string_equal(b, want_b);
    }
    assert_still_working(qt);
}

/*
 * A line longer than the server's bound is refused once its end
 * arrives, without being buffered whole; the next line is served.
 */
static void test_line_too_long(void **state)
{
    QtestClient *qt = ((QtestFixture *)*state)->qt;
    const size_t limit = 2 * QTEST_CLIENT_MAX_ACCESS + 64;
    const size_t chunk = 16 * MiB;
    g_autofree char *filler = g_malloc(chunk);
    g_autofree char *reply = NULL;
    g_autofree char *want = g_strdup_printf("FAIL line too long (more than "
                                            "%zu bytes)", limit);
    size_t sent = 0;

    memset(filler, '0', chunk);
    assert_true(qtest_send_raw(qt, "write 0x0 1 0x", 14));
    sent = 14;
    while (sent <= limit) {
        size_t n = MIN(chunk, limit + 1 - sent);

        assert_true(qtest_send_raw(qt, filler, n));
        sent += n;
    }
    assert_true(qtest_send_raw(qt, "\nreadb 0x10\n", 12));
    reply = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);
    assert_string_equal(reply, want);
    g_free(reply);
    reply = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);
    assert_string_equal(reply, "OK 0x0000000000000042");
    /* Nothing of the refused line was written. */
    assert_qtest_reply(qt, "OK 0x0000000000000000", "readb 0x0");
}

/*
 * A client that goes away in the middle of a line: the partial line is
 * dropped, and the next client starts clean.
 */
static void test_reconnect(void **state)
{
    QtestFixture *f = *state;
    g_autofree char *path = g_build_filename(qmptest_tmpdir(f->vm),
                                             QTEST_SOCKET_NAME, NULL);

    assert_true(qtest_send_raw(f->qt, "writeb 0x10 0x99", 16));
    qtest_client_free(f->qt);
    f->qt = qtest_connect(f->vm, path, QMPTEST_TIMEOUT_MS);
    assert_non_null(f->qt);
    /* "\n" alone is an empty line, not the end of the old one. */
    assert_qtest_reply(f->qt, "FAIL empty command", "%s", "");
    assert_still_working(f->qt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fail_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
