/*
 * The key-value guest over a socket chardev: the test is the peer of
 * the guest's serial port and talks to it line by line, or through
 * KvClient, in batches, over a connection that may break.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>

#include "fault-proxy.h"
#include "kv-client.h"
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

    *vm = vmm_start("-accel %s -m 16M -kernel @GUEST@/kv.elf "
                    "-serial unix:@TMPDIR@/serial.sock,server=on,wait=off",
                    accel);
    sock = g_build_filename(qmptest_tmpdir(*vm), "serial.sock", NULL);
    conn = serial_connect(*vm, sock, QMPTEST_TIMEOUT_MS);
    assert_non_null(conn);
    /*
     * The guest may have printed READY before the test connected, and
     * the chardev drops output nobody reads, so what arrives of it may
     * be any tail of the line.  A PING that arrives before the guest
     * empties its receive FIFO at start loses its first bytes and gets
     * ERR: PING again until PONG tells that the guest serves.
     */
    for (int attempt = 0; attempt < 20; attempt++) {
        bool again = false;

        assert_true(serial_conn_send(conn, "PING\n"));
        while (!again) {
            g_autofree char *line =
                serial_conn_read_line(conn, QMPTEST_TIMEOUT_MS);

            if (!line) {
                fail_msg("the kv guest did not answer PING");
            }
            if (!strcmp(line, "PONG")) {
                return conn;
            }
            again = !strcmp(line, "ERR");
            if (!again && !g_str_has_suffix("READY", line)) {
                fail_msg("unexpected line from the kv guest: '%s'", line);
            }
        }
    }
    fail_msg("the kv guest never answered PING with PONG");
    return NULL;
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

/*
 * A partial line followed by CAN is forgotten: the next line is not
 * merged with it, and an overlong line cut short by CAN gets no ERR.
 */
static void test_kv_cancel(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(SerialConn) conn = NULL;
    g_autofree char *big = g_strnfill(1000, 'x');
    g_autofree char *reply = NULL;
    g_autofree char *after = NULL;
    g_autofree char *pong = NULL;
    const char *accel = accel_test_accel(state);

    conn = start_kv(&vm, accel);
    assert_true(serial_conn_send(conn, "SET a b"));
    assert_true(serial_conn_send(conn, "\x18"));
    reply = serial_conn_request(conn, "GET a", QMPTEST_TIMEOUT_MS);
    assert_non_null(reply);
    assert_string_equal(reply, "NOT_FOUND");
    g_free(reply);
    reply = serial_conn_request(conn, "SET a b\x18SET a c",
                                QMPTEST_TIMEOUT_MS);
    assert_non_null(reply);
    assert_string_equal(reply, "OK");
    after = serial_conn_request(conn, "GET a", QMPTEST_TIMEOUT_MS);
    assert_non_null(after);
    assert_string_equal(after, "c");
    assert_true(serial_conn_send(conn, big));
    assert_true(serial_conn_send(conn, "\x18"));
    pong = serial_conn_request(conn, "PING", QMPTEST_TIMEOUT_MS);
    assert_non_null(pong);
    assert_string_equal(pong, "PONG");
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

static const KvExchange tokens_and_counts[] = {
    { "COUNT", "0" },
    { "PING 7f3a.1", "PONG 7f3a.1" },
    { "PING two words", "ERR" },
    { "PING ", "ERR" },
    { "SET one 1", "OK" },
    { "SET two 2", "OK" },
    { "SET one uno", "OK" },
    { "COUNT", "2" },
    { "COUNT now", "ERR" },
    { "DEL one", "OK" },
    { "COUNT", "1" },
    { "PING", "PONG" },
};

static void test_kv_ping_token_count(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(SerialConn) conn = NULL;
    size_t i;
    const char *accel = accel_test_accel(state);

    conn = start_kv(&vm, accel);
    for (i = 0; i < G_N_ELEMENTS(tokens_and_counts); i++) {
        g_autofree char *reply =
            serial_conn_request(conn, tokens_and_counts[i].request,
                                QMPTEST_TIMEOUT_MS);

        assert_non_null(reply);
        assert_string_equal(reply, tokens_and_counts[i].reply);
    }
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* What the guest holds at most (tests/guest/kv.c). */
#define KV_KEYS             4096
#define KV_KEY_LEN_MAX      31
#define KV_VALUE_LEN_MAX    64

/* Waits of the client: generous, a loaded host runs tcg slowly. */
#define KV_REPLY_TIMEOUT_MS 20000

/* Distinct keys of every length from 9 to 31 bytes. */
static char *kv_key(unsigned i)
{
    g_autofree char *base = g_strdup_printf("key.%05u", i);
    g_autofree char *pad = g_strnfill(i % (KV_KEY_LEN_MAX - 8), '.');

    return g_strconcat(base, pad, NULL);
}

/* A 64-byte value, different for every key. */
static char *kv_value(unsigned i)
{
    char v[KV_VALUE_LEN_MAX + 1];
    int n = g_snprintf(v, sizeof(v), "%05u:", i);

    for (; n < KV_VALUE_LEN_MAX; n++) {
        v[n] = 'a' + (i * 7 + n) % 26;
    }
    v[n] = '\0';
    return g_strdup(v);
}

/* A list of requests and the replies a batch fills in. */
typedef struct KvBatchData {
    GPtrArray *requests;
    char **replies;
} KvBatchData;

static void kv_batch_add(KvBatchData *b, char *request)
{
    g_ptr_array_add(b->requests, request);
}

static void kv_batch_clear(KvBatchData *b)
{
    if (b->replies) {
        for (unsigned i = 0; i < b->requests->len; i++) {
            g_free(b->replies[i]);
        }
        g_free(b->replies);
        b->replies = NULL;
    }
    g_ptr_array_set_size(b->requests, 0);
}

static void kv_batch_run(KvClient *client, KvBatchData *b)
{
    b->replies = g_new0(char *, b->requests->len);
    assert_true(kv_client_batch(client,
                                (const char *const *)b->requests->pdata,
                                b->requests->len, b->replies,
                                qmptest_deadline(QMPTEST_TIMEOUT_MS)));
}

/* SET every key of [0, @n) to its value. */
static void kv_set_all(KvClient *client, unsigned n)
{
    KvBatchData b = { .requests = g_ptr_array_new_with_free_func(g_free) };

    for (unsigned i = 0; i < n; i++) {
        g_autofree char *key = kv_key(i);
        g_autofree char *value = kv_value(i);

        kv_batch_add(&b, g_strdup_printf("SET %s %s", key, value));
    }
    kv_batch_run(client, &b);
    for (unsigned i = 0; i < n; i++) {
        assert_string_equal(b.replies[i], "OK");
    }
    kv_batch_clear(&b);
    g_ptr_array_unref(b.requests);
}

/*
 * GET every key of [0, @n): its value, or NOT_FOUND where @gone says
 * so (NULL: none is gone).
 */
static void kv_check_all(KvClient *client, unsigned n,
                         bool (*gone)(unsigned i))
{
    KvBatchData b = { .requests = g_ptr_array_new_with_free_func(g_free) };

    for (unsigned i = 0; i < n; i++) {
        g_autofree char *key = kv_key(i);

        kv_batch_add(&b, g_strdup_printf("GET %s", key));
    }
    kv_batch_run(client, &b);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *value = kv_value(i);

        assert_string_equal(b.replies[i],
                            gone && gone(i) ? "NOT_FOUND" : value);
    }
    kv_batch_clear(&b);
    g_ptr_array_unref(b.requests);
}

static void kv_assert_reply(KvClient *client, const char *request,
                            const char *want)
{
    g_autofree char *reply = kv_client_request(
        client, request, qmptest_deadline(QMPTEST_TIMEOUT_MS));

    assert_non_null(reply);
    assert_string_equal(reply, want);
}

/*
 * Start @guest with its serial port on a socket: unix, or tcp with
 * @tcp; *@address is where a KvClient finds it.
 */
static QmpTestProc *start_kv_socket(const char *accel, const char *guest,
                                    bool tcp, char **address)
{
    QmpTestProc *vm;

    if (tcp) {
        g_autofree char *port = qmptest_free_tcp_port();

        assert_non_null(port);
        vm = vmm_start("-accel %s -m 16M -kernel @GUEST@/%s "
                       "-serial tcp:127.0.0.1:%s,server=on,wait=off",
                       accel, guest, port);
        *address = g_strdup_printf("tcp:127.0.0.1:%s", port);
    } else {
        vm = vmm_start("-accel %s -m 16M -kernel @GUEST@/%s "
                       "-serial unix:@TMPDIR@/serial.sock,server=on,"
                       "wait=off", accel, guest);
        *address = g_strdup_printf("unix:%s/serial.sock",
                                   qmptest_tmpdir(vm));
    }
    return vm;
}

static bool every_third(unsigned i)
{
    return i % 3 == 1;
}

/*
 * The table holds 4096 keys; the 4097th is refused, replacing still
 * works, and deleting makes room again.
 */
static void test_kv_many_keys(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(KvClient) client = NULL;
    g_autofree char *address = NULL;
    g_autofree char *extra = kv_key(KV_KEYS);
    g_autofree char *set_extra = g_strdup_printf("SET %s v", extra);
    g_autofree char *get_extra = g_strdup_printf("GET %s", extra);
    g_autofree char *long_value = g_strnfill(KV_VALUE_LEN_MAX + 1, 'v');
    g_autofree char *set_long = g_strdup_printf("SET key.00000 %s",
                                                long_value);
    g_autofree char *first_value = kv_value(0);
    g_autofree char *set_first = g_strdup_printf("SET key.00000 %s",
                                                 first_value);
    g_autofree char *count = g_strdup_printf("%u", KV_KEYS);
    KvBatchData b = { .requests = g_ptr_array_new_with_free_func(g_free) };
    const char *accel = accel_test_accel(state);

    vm = start_kv_socket(accel, "kv.elf", false, &address);
    client = kv_client_new((const char *[]){ address, NULL },
                           KV_REPLY_TIMEOUT_MS);
    kv_set_all(client, KV_KEYS);
    kv_assert_reply(client, "COUNT", count);
    kv_assert_reply(client, set_extra, "ERR");
    kv_assert_reply(client, get_extra, "NOT_FOUND");
    kv_assert_reply(client, set_long, "ERR");
    /* Replacing a value needs no room. */
    kv_assert_reply(client, set_first, "OK");
    kv_check_all(client, KV_KEYS, NULL);

    /*
     * A third of the keys go; the others stay reachable.  DEL is not
     * idempotent, but nothing breaks this connection.
     */
    for (unsigned i = 0; i < KV_KEYS; i++) {
        g_autofree char *key = kv_key(i);

        if (every_third(i)) {
            kv_batch_add(&b, g_strdup_printf("DEL %s", key));
        }
    }
    kv_batch_run(client, &b);
    for (unsigned i = 0; i < b.requests->len; i++) {
        assert_string_equal(b.replies[i], "OK");
    }
    kv_check_all(client, KV_KEYS, every_third);
    g_free(count);
    count = g_strdup_printf("%u", KV_KEYS - b.requests->len);
    kv_assert_reply(client, "COUNT", count);
    kv_batch_clear(&b);
    g_ptr_array_unref(b.requests);

    kv_assert_reply(client, set_extra, "OK");
    kv_assert_reply(client, get_extra, "v");
    assert_int_equal(kv_client_reconnects(client), 0);
    assert_int_equal(kv_client_resent(client), 0);
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/*
 * The connection to the guest breaks in the middle of a batch, after
 * the guest ran about half the requests but before their replies all
 * came back: the client reconnects to the guest's other address and
 * sends again what was not answered (the guest runs some SETs twice),
 * and every reply arrives.
 */
static void test_kv_client_cut(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(KvClient) client = NULL;
    g_autoptr(FaultProxy) proxy = NULL;
    g_autofree char *address = NULL;
    g_autofree char *count = g_strdup_printf("%u", KV_KEYS);
    const char *accel = accel_test_accel(state);

    vm = start_kv_socket(accel, "kv.elf", true, &address);
    proxy = fault_proxy_new(address, false);
    assert_non_null(proxy);
    client = kv_client_new((const char *[]){ fault_proxy_uri(proxy),
                                             address, NULL },
                           KV_REPLY_TIMEOUT_MS);
    /*
     * Replies are "OK\n": cut when about half came back (READY and the
     * PONG come first, a few bytes more or less do not matter).
     */
    fault_proxy_cut_after(proxy, FAULT_DIR_BACKWARD,
                          strlen("OK\n") * KV_KEYS / 2);
    kv_set_all(client, KV_KEYS);
    assert_true(fault_proxy_was_cut(proxy));
    assert_true(kv_client_reconnects(client) > 0);
    assert_true(kv_client_resent(client) > 0);
    assert_string_equal(kv_client_address(client), address);
    kv_check_all(client, KV_KEYS, NULL);
    kv_assert_reply(client, "COUNT", count);
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/* True when @s is "OK <n>" with a decimal n of at least @min. */
static bool is_ok_count(const char *s, unsigned min)
{
    char *end;
    unsigned long n;

    if (!g_str_has_prefix(s, "OK ") || !g_ascii_isdigit(s[3])) {
        return false;
    }
    n = strtoul(s + 3, &end, 10);
    return !*end && n >= min;
}

/*
 * kv-diverge.elf: SET answers "OK <n>" with n the line status reads it
 * took, at least one per byte of the request; the rest is kv.elf.
 */
static void test_kv_diverge(void **state)
{
    static const char *const requests[] = {
        "SET colour blue", "SET size 42", "GET colour", "GET size",
        "COUNT", "PING", "DEL size", "GET size", "SET lonely",
    };
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(KvClient) client = NULL;
    g_autofree char *address = NULL;
    char *replies[G_N_ELEMENTS(requests)];
    const char *accel = accel_test_accel(state);

    vm = start_kv_socket(accel, "kv-diverge.elf", false, &address);
    client = kv_client_new((const char *[]){ address, NULL },
                           KV_REPLY_TIMEOUT_MS);
    assert_true(kv_client_batch(client, requests, G_N_ELEMENTS(requests),
                                replies,
                                qmptest_deadline(QMPTEST_TIMEOUT_MS)));
    assert_true(is_ok_count(replies[0], strlen(requests[0]) + 1));
    assert_true(is_ok_count(replies[1], strlen(requests[1]) + 1));
    assert_string_equal(replies[2], "blue");
    assert_string_equal(replies[3], "42");
    assert_string_equal(replies[4], "2");
    assert_string_equal(replies[5], "PONG");
    assert_string_equal(replies[6], "OK");
    assert_string_equal(replies[7], "NOT_FOUND");
    assert_string_equal(replies[8], "ERR");
    for (size_t i = 0; i < G_N_ELEMENTS(replies); i++) {
        g_free(replies[i]);
    }
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_conversation),
        cmocka_unit_test(test_kv_overlong_line),
        cmocka_unit_test(test_kv_cancel),
        cmocka_unit_test(test_kv_ping_token_count),
        cmocka_unit_test(test_kv_many_keys),
        cmocka_unit_test(test_kv_client_cut),
        cmocka_unit_test(test_kv_diverge),
    };

    return accel_test_run_group("vmm-kv", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
