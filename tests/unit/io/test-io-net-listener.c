/*
 * Tests for the net listener: accepting over unix and tcp in the main
 * loop, the callback's reference, freeing from the callback, and the
 * unix socket file's life.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "io-test.h"
#include "io/net-listener.h"
#include "util/main-loop.h"

typedef struct Accepted {
    QIOChannel *clients[4];
    int count;
    QIONetListener *free_me;    /* free this listener from the callback */
} Accepted;

static void on_accept(QIOChannel *client, void *opaque)
{
    Accepted *acc = opaque;

    assert_true(qio_channel_is_socket(client));
    assert_true(qio_channel_is_blocking(client));
    assert_true(acc->count < G_N_ELEMENTS(acc->clients));
    acc->clients[acc->count++] = qio_channel_ref(client);
    if (acc->free_me) {
        qio_net_listener_free(acc->free_me);
        acc->free_me = NULL;
    }
}

/* Iterate the main loop until count connections were accepted. */
static void wait_accepted(Accepted *acc, int count)
{
    while (acc->count < count) {
        main_loop_wait(false);
    }
}

static void release_accepted(Accepted *acc)
{
    for (int i = 0; i < acc->count; i++) {
        qio_channel_unref(acc->clients[i]);
    }
    acc->count = 0;
}

/* Connect, accept, and talk both ways. */
static void check_connection(const SockAddr *addr, Accepted *acc)
{
    QIOChannel *client = qio_channel_socket_connect_sync(addr, &error_abort);
    QIOChannel *server;
    char buf[6];
    int before = acc->count;

    wait_accepted(acc, before + 1);
    server = acc->clients[before];
    assert_int_equal(qio_channel_write_all(client, "hello!", 6,
                                           &error_abort), 0);
    assert_int_equal(qio_channel_read_all(server, buf, 6, &error_abort), 0);
    assert_memory_equal(buf, "hello!", 6);
    assert_int_equal(qio_channel_write_all(server, "bye", 3, &error_abort),
                     0);
    assert_int_equal(qio_channel_read_all(client, buf, 3, &error_abort), 0);
    assert_memory_equal(buf, "bye", 3);
    qio_channel_unref(client);
}

static char *unix_path(const char *name)
{
    return g_strdup_printf("%s/test-io-listener-%d-%s.sock", g_get_tmp_dir(),
                           (int)getpid(), name);
}

static void test_unix(void **state)
{
    g_autofree char *path = unix_path("a");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    SockAddr addr = { 0 };
    Accepted acc = { 0 };
    QIONetListener *listener;
    struct stat st;

    assert_true(sock_addr_parse(uri, &addr, &error_abort));
    listener = qio_net_listener_open(&addr, on_accept, &acc, &error_abort);
    assert_string_equal(qio_net_listener_get_address(listener)->path, path);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    check_connection(&addr, &acc);
    check_connection(&addr, &acc);
    assert_int_equal(acc.count, 2);
    qio_net_listener_free(listener);
    /* The file went with the listener. */
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
    release_accepted(&acc);
    sock_addr_clear(&addr);
}

/* A stale socket file left by a dead process is replaced. */
static void test_unix_stale_file(void **state)
{
    g_autofree char *path = unix_path("stale");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    SockAddr addr = { 0 };
    Accepted acc = { 0 };
    QIONetListener *listener;
    int stale;

    assert_true(sock_addr_parse(uri, &addr, &error_abort));
    stale = socket_listen(&addr, 1, &error_abort);
    close(stale);
    listener = qio_net_listener_open(&addr, on_accept, &acc, &error_abort);
    check_connection(&addr, &acc);
    qio_net_listener_free(listener);
    release_accepted(&acc);
    sock_addr_clear(&addr);
}

static void test_tcp_port_zero(void **state)
{
    SockAddr addr = { 0 };
    Accepted acc = { 0 };
    QIONetListener *listener;
    const SockAddr *bound;
    Error *err = NULL;

    assert_true(sock_addr_parse("tcp:127.0.0.1:0", &addr, &error_abort));
    listener = qio_net_listener_open(&addr, on_accept, &acc, &error_abort);
    bound = qio_net_listener_get_address(listener);
    assert_string_equal(bound->host, "127.0.0.1");
    assert_string_not_equal(bound->port, "0");
    assert_true(atoi(bound->port) > 0);
    check_connection(bound, &acc);

    /* The port is taken while the listener lives. */
    assert_null(qio_net_listener_open(bound, on_accept, &acc, &err));
    assert_non_null(err);
    error_free(err);

    qio_net_listener_free(listener);
    release_accepted(&acc);
    sock_addr_clear(&addr);
}

/* The callback may free its own listener (one incoming migration). */
static void test_free_from_callback(void **state)
{
    g_autofree char *path = unix_path("once");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    SockAddr addr = { 0 };
    Accepted acc = { 0 };
    Error *err = NULL;
    struct stat st;

    assert_true(sock_addr_parse(uri, &addr, &error_abort));
    acc.free_me = qio_net_listener_open(&addr, on_accept, &acc,
                                        &error_abort);
    check_connection(&addr, &acc);
    assert_null(acc.free_me);
    assert_int_equal(stat(path, &st), -1);
    /* Nobody accepts any more. */
    assert_null(qio_channel_socket_connect_sync(&addr, &err));
    assert_non_null(err);
    error_free(err);
    release_accepted(&acc);
    sock_addr_clear(&addr);
}

static void test_open_errors(void **state)
{
    SockAddr addr = { 0 };
    Accepted acc = { 0 };
    Error *err = NULL;

    assert_true(sock_addr_parse("unix:/nonexistent/dir/x.sock", &addr,
                                &error_abort));
    assert_null(qio_net_listener_open(&addr, on_accept, &acc, &err));
    assert_non_null(err);
    error_free(err);
    sock_addr_clear(&addr);
    qio_net_listener_free(NULL);
}

static int setup(void **state)
{
    main_loop_init();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_unix_stale_file),
        cmocka_unit_test(test_tcp_port_zero),
        cmocka_unit_test(test_free_from_callback),
        cmocka_unit_test(test_open_errors),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
