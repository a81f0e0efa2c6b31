/*
 * The key-value guest over a socket chardev: the test is the peer of
 * the guest's serial port and talks to it line by line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "serial-test.h"
#include "vmm-test.h"

typedef struct KvExchange {
    const char *request;
    const char *reply;
} KvExchange;

static const KvExchange conversation[] = {
    { "PING", "PONG" },
    { "GET colour", "NOT_FOUND" },
    { "SET colour blue", "OK" },
    { "GET colour", "blue" },
    { "SET colour dark green", "OK" },
    { "GET colour", "dark green" },
    { "SET size 42", "OK" },
    { "GET size", "42" },
    { "DEL colour", "OK" },
    { "DEL colour", "NOT_FOUND" },
    { "GET colour", "NOT_FOUND" },
    { "GET size", "42" },
    { "PING\r", "PONG" },
    { "FLY away", "ERR" },
    { "GET", "ERR" },
    { "SET lonely", "ERR" },
    { "", "ERR" },
    { "SET key-that-is-longer-than-thirty-one-bytes v", "ERR" },
    { "PING", "PONG" },
};

static SerialConn *start_kv(QmpTestProc **vm, const char *accel)
{
    g_autofree char *sock = NULL;
    SerialConn *conn;
    char *line;

    *vm = vmm_start("-accel %s -m 16M -kernel @GUEST@/kv.elf "
                    "-serial unix:@TMPDIR@/serial.sock,server=on,wait=off",
                    accel);
    sock = g_build_filename(qmptest_tmpdir(*vm), "serial.sock", NULL);
    conn = serial_connect(*vm, sock, QMPTEST_TIMEOUT_MS);
    assert_non_null(conn);
    /*
     * The guest may have printed READY before the test connected, and
     * the chardev drops output nobody reads; PING tells when it serves.
     */
    assert_true(serial_conn_send(conn, "PING\n"));
    while ((line = serial_conn_read_line(conn, QMPTEST_TIMEOUT_MS))) {
        bool pong = !strcmp(line, "PONG");

        assert_true(pong || !strcmp(line, "READY"));
        g_free(line);
        if (pong) {
            break;
        }
    }
    assert_non_null(line);
    return conn;
}

static void test_kv_conversation(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(SerialConn) conn = NULL;
    size_t i;
    const char *accel = accel_test_accel(state);

    conn = start_kv(&vm, accel);
    for (i = 0; i < G_N_ELEMENTS(conversation); i++) {
        g_autofree char *reply =
            serial_conn_request(conn, conversation[i].request,
                                QMPTEST_TIMEOUT_MS);

        assert_non_null(reply);
        assert_string_equal(reply, conversation[i].reply);
    }
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* An overlong line gets one ERR and the service goes on. */
static void test_kv_overlong_line(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(SerialConn) conn = NULL;
    g_autofree char *big = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *after = NULL;
    const char *accel = accel_test_accel(state);

    big = g_strnfill(1000, 'x');
    conn = start_kv(&vm, accel);
    reply = serial_conn_request(conn, big, QMPTEST_TIMEOUT_MS);
    assert_non_null(reply);
    assert_string_equal(reply, "ERR");
    after = serial_conn_request(conn, "PING", QMPTEST_TIMEOUT_MS);
    assert_non_null(after);
    assert_string_equal(after, "PONG");
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* The table holds 64 keys; the 65th is refused, replacing still works. */
static void test_kv_table_full(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(SerialConn) conn = NULL;
    unsigned i;
    const char *accel = accel_test_accel(state);

    conn = start_kv(&vm, accel);
    for (i = 0; i <= 64; i++) {
        g_autofree char *req = g_strdup_printf("SET k%u v%u", i, i);
        g_autofree char *reply = serial_conn_request(conn, req,
                                                     QMPTEST_TIMEOUT_MS);

        assert_non_null(reply);
        assert_string_equal(reply, i < 64 ? "OK" : "ERR");
    }
    for (i = 0; i < 64; i += 21) {
        g_autofree char *req = g_strdup_printf("GET k%u", i);
        g_autofree char *want = g_strdup_printf("v%u", i);
        g_autofree char *reply = serial_conn_request(conn, req,
                                                     QMPTEST_TIMEOUT_MS);

        assert_non_null(reply);
        assert_string_equal(reply, want);
    }
    {
        g_autofree char *reply = serial_conn_request(conn, "SET k3 again",
                                                     QMPTEST_TIMEOUT_MS);
        assert_non_null(reply);
        assert_string_equal(reply, "OK");
    }
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_conversation),
        cmocka_unit_test(test_kv_overlong_line),
        cmocka_unit_test(test_kv_table_full),
    };

    return accel_test_run_group("vmm-kv", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
