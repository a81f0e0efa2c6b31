/*
 * Tests for the socket chardev with real peers: events, data both ways,
 * one client at a time, reconnects, input backpressure, the bounded
 * output buffer, the client mode and socket file cleanup.
 *
 * Waits are event-driven: the main loop runs until the expected thing
 * happens, so a missing wakeup shows up as a test timeout.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <glib.h>

#include "chardev/char.h"
#include "util/main-loop.h"
#include "util/sockets.h"
#include "util/thread.h"

/* A frontend with a small input buffer, like a UART FIFO. */
typedef struct Frontend {
    int opened;
    int closed;
    GByteArray *held;       /* received, not yet consumed by the test */
    GByteArray *all;        /* everything ever received */
    unsigned capacity;
    int last_room;
} Frontend;

static char *tmpdir;

static int fe_can_read(void *opaque)
{
    Frontend *fe = opaque;

    fe->last_room = fe->capacity - fe->held->len;
    return fe->last_room;
}

static void fe_read(void *opaque, const uint8_t *buf, int size)
{
    Frontend *fe = opaque;

    /* Never more than the frontend said it had room for. */
    assert_true(size > 0 && size <= fe->last_room);
    g_byte_array_append(fe->held, buf, size);
    g_byte_array_append(fe->all, buf, size);
    fe->last_room -= size;
}

static void fe_event(void *opaque, CharEvent event)
{
    Frontend *fe = opaque;

    if (event == CHR_EVENT_OPENED) {
        fe->opened++;
    } else {
        fe->closed++;
    }
}

static void fe_init(Frontend *fe, Chardev *c, unsigned capacity)
{
    memset(fe, 0, sizeof(*fe));
    fe->held = g_byte_array_new();
    fe->all = g_byte_array_new();
    fe->capacity = capacity;
    chardev_set_handlers(c, fe_can_read, fe_read, fe_event, fe);
}

static void fe_destroy(Frontend *fe)
{
    g_byte_array_unref(fe->held);
    g_byte_array_unref(fe->all);
}

static void run_until_int(const int *v, int want)
{
    while (*v < want) {
        main_loop_wait(false);
    }
}

static void run_until_len(GByteArray *a, guint len)
{
    while (a->len < len) {
        main_loop_wait(false);
    }
}

static int group_setup(void **state)
{
    main_loop_init();
    tmpdir = g_dir_make_tmp("chardev-sock-XXXXXX", NULL);
    return tmpdir ? 0 : -1;
}

static int group_teardown(void **state)
{
    rmdir(tmpdir);
    g_free(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    chardev_cleanup_all();
    return 0;
}

static char *sock_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static Chardev *new_server(const char *path)
{
    g_autofree char *opts =
        g_strdup_printf("socket,id=srv,path=%s,server=on,wait=off", path);

    return chardev_new_from_opts(opts, &error_abort);
}

static int connect_unix(const char *path)
{
    g_autofree char *str = g_strdup_printf("unix:%s", path);
    SockAddr addr;
    int fd;

    assert_true(sock_addr_parse(str, &addr, &error_abort));
    fd = socket_connect(&addr, &error_abort);
    sock_addr_clear(&addr);
    return fd;
}

static void send_all(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), strlen(s));
}

static void recv_exact(int fd, const char *want)
{
    size_t len = strlen(want);
    g_autofree char *buf = g_malloc0(len + 1);
    size_t got = 0;

    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);

        assert_true(n > 0);
        got += n;
    }
    assert_string_equal(buf, want);
}

static bool nothing_to_recv(int fd)
{
    char c;

    return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

static void test_server_session(void **state)
{
    g_autofree char *path = sock_path("s.sock");
    Chardev *c = new_server(path);
    Frontend fe;
    int fd;

    fe_init(&fe, c, 64);
    assert_int_equal(fe.opened, 0);
    /* No client: output is dropped, not queued. */
    assert_int_equal(chardev_write(c, (const uint8_t *)"lost", 4), 0);
    assert_int_equal(chardev_dropped_bytes(c), 4);

    fd = connect_unix(path);
    run_until_int(&fe.opened, 1);
    assert_true(chardev_is_connected(c));
    send_all(fd, "ping");
    run_until_len(fe.all, 4);
    assert_memory_equal(fe.all->data, "ping", 4);
    assert_int_equal(chardev_write(c, (const uint8_t *)"pong", 4), 4);
    recv_exact(fd, "pong");

    close(fd);
    run_until_int(&fe.closed, 1);
    assert_false(chardev_is_connected(c));

    /* The server listens again. */
    fd = connect_unix(path);
    run_until_int(&fe.opened, 2);
    assert_int_equal(chardev_write(c, (const uint8_t *)"again", 5), 5);
    recv_exact(fd, "again");
    close(fd);
    run_until_int(&fe.closed, 2);
    fe_destroy(&fe);
}

static void test_one_client_at_a_time(void **state)
{
    g_autofree char *path = sock_path("one.sock");
    Chardev *c = new_server(path);
    Frontend fe;
    int fd1, fd2;

    fe_init(&fe, c, 64);
    fd1 = connect_unix(path);
    run_until_int(&fe.opened, 1);
    /* The second connection is queued in the backlog, not served. */
    fd2 = connect_unix(path);
    send_all(fd2, "second");
    send_all(fd1, "first");
    run_until_len(fe.all, 5);
    assert_memory_equal(fe.all->data, "first", 5);
    assert_int_equal(chardev_write(c, (const uint8_t *)"to1", 3), 3);
    recv_exact(fd1, "to1");
    assert_true(nothing_to_recv(fd2));

    /* When the first leaves, the waiting one is served. */
    close(fd1);
    run_until_int(&fe.opened, 2);
    assert_int_equal(fe.closed, 1);
    run_until_len(fe.all, 11);
    assert_memory_equal(fe.all->data + 5, "second", 6);
    assert_int_equal(chardev_write(c, (const uint8_t *)"to2", 3), 3);
    recv_exact(fd2, "to2");
    close(fd2);
    run_until_int(&fe.closed, 2);
    fe_destroy(&fe);
}

static void test_input_backpressure(void **state)
{
    g_autofree char *path = sock_path("bp.sock");
    Chardev *c = new_server(path);
    char data[101];
    Frontend fe;
    int fd;

    for (int i = 0; i < 100; i++) {
        data[i] = 'a' + i % 26;
    }
    data[100] = '\0';
    fe_init(&fe, c, 10);
    fd = connect_unix(path);
    run_until_int(&fe.opened, 1);
    send_all(fd, data);
    /* fe_read asserts each delivery fits; drain 10 at a time. */
    while (fe.all->len < 100) {
        run_until_len(fe.held, MIN(10u, 100 - fe.all->len));
        g_byte_array_set_size(fe.held, 0);
        chardev_accept_input(c);
    }
    assert_memory_equal(fe.all->data, data, 100);
    close(fd);
    run_until_int(&fe.closed, 1);
    fe_destroy(&fe);
}

static void test_bounded_output(void **state)
{
    g_autofree char *path = sock_path("slow.sock");
    Chardev *c = new_server(path);
    const size_t chunk = 4096, total = 4 * 1024 * 1024;
    g_autofree uint8_t *pattern = g_malloc(total);
    g_autoptr(GByteArray) got = g_byte_array_new();
    size_t accepted = 0;
    Frontend fe;
    int fd, sz = 4096;

    for (size_t i = 0; i < total; i++) {
        pattern[i] = i * 7 + (i >> 12);
    }
    fe_init(&fe, c, 64);
    fd = connect_unix(path);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    run_until_int(&fe.opened, 1);
    /* The peer reads nothing: every write must still return. */
    for (size_t off = 0; off < total; off += chunk) {
        int n = chardev_write(c, pattern + off, chunk);

        assert_true(n >= 0 && (size_t)n <= chunk);
        accepted += n;
    }
    assert_true(chardev_pending_bytes(c) <= CHARDEV_WRITE_BUFFER_MAX);
    assert_true(chardev_pending_bytes(c) > 0);
    assert_true(chardev_dropped_bytes(c) > 0);
    assert_int_equal(accepted + chardev_dropped_bytes(c), total);

    /* Now read: the main loop flushes the buffer, in order. */
    socket_set_nonblock(fd, true, &error_abort);
    while (got->len < accepted) {
        uint8_t buf[65536];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n > 0) {
            g_byte_array_append(got, buf, n);
        } else {
            assert_true(n < 0 && errno == EAGAIN);
            main_loop_wait(false);
        }
    }
    assert_int_equal(got->len, accepted);
    /* Nothing was written before the buffer filled up: a plain prefix. */
    assert_memory_equal(got->data, pattern, accepted);
    assert_int_equal(chardev_pending_bytes(c), 0);
    close(fd);
    run_until_int(&fe.closed, 1);
    fe_destroy(&fe);
}

static void test_peer_gone_while_writing(void **state)
{
    g_autofree char *path = sock_path("gone.sock");
    Chardev *c = new_server(path);
    Frontend fe;
    int fd;

    fe_init(&fe, c, 0);     /* never reads: only the write path notices */
    fd = connect_unix(path);
    run_until_int(&fe.opened, 1);
    close(fd);
    /* EPIPE, not SIGPIPE (which would kill the test). */
    while (fe.closed == 0) {
        chardev_write(c, (const uint8_t *)"x", 1);
        main_loop_wait(true);
    }
    assert_false(chardev_is_connected(c));
    fe_destroy(&fe);
}

static void test_tcp_server(void **state)
{
    Chardev *c = chardev_new_from_opts("socket,id=t,host=127.0.0.1,port=0,"
                                       "server=on,wait=off", &error_abort);
    g_autofree char *addr_str = chardev_socket_address(c);
    SockAddr addr;
    Frontend fe;
    int fd;

    assert_true(sock_addr_parse(addr_str, &addr, &error_abort));
    assert_string_not_equal(addr.port, "0");
    fe_init(&fe, c, 64);
    fd = socket_connect(&addr, &error_abort);
    sock_addr_clear(&addr);
    run_until_int(&fe.opened, 1);
    send_all(fd, "tcp");
    run_until_len(fe.all, 3);
    assert_int_equal(chardev_write(c, (const uint8_t *)"ok", 2), 2);
    recv_exact(fd, "ok");
    close(fd);
    run_until_int(&fe.closed, 1);
    fe_destroy(&fe);
}

static int listen_unix(const char *path)
{
    g_autofree char *str = g_strdup_printf("unix:%s", path);
    SockAddr addr;
    int fd;

    assert_true(sock_addr_parse(str, &addr, &error_abort));
    fd = socket_listen(&addr, 1, &error_abort);
    sock_addr_clear(&addr);
    return fd;
}

static void test_client_mode(void **state)
{
    g_autofree char *path = sock_path("peer.sock");
    g_autofree char *opts = g_strdup_printf("socket,id=cl,path=%s", path);
    int lfd = listen_unix(path);
    Chardev *c = chardev_new_from_opts(opts, &error_abort);
    Frontend fe;
    int fd;

    /* Connected at creation: the frontend hears OPENED on attaching. */
    fe_init(&fe, c, 64);
    assert_int_equal(fe.opened, 1);
    fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    assert_int_equal(chardev_write(c, (const uint8_t *)"hi", 2), 2);
    recv_exact(fd, "hi");
    send_all(fd, "yo");
    run_until_len(fe.all, 2);
    close(fd);
    run_until_int(&fe.closed, 1);
    /* Without reconnect it stays down and drops output. */
    assert_int_equal(chardev_write(c, (const uint8_t *)"x", 1), 0);
    chardev_cleanup_all();
    /* We did not create the peer's socket file: it stays. */
    assert_int_equal(access(path, F_OK), 0);
    close(lfd);
    unlink(path);
    fe_destroy(&fe);
}

static void test_client_reconnect(void **state)
{
    g_autofree char *path = sock_path("late.sock");
    g_autofree char *opts = g_strdup_printf("socket,id=rc,path=%s,"
                                            "reconnect=1", path);
    Chardev *c = chardev_new_from_opts(opts, &error_abort);
    Frontend fe;
    int lfd, fd;

    /* Nobody listens yet: with reconnect that is not an error. */
    fe_init(&fe, c, 64);
    assert_int_equal(fe.opened, 0);
    lfd = listen_unix(path);
    run_until_int(&fe.opened, 1);
    fd = accept(lfd, NULL, NULL);
    close(fd);
    run_until_int(&fe.closed, 1);
    /* And after the peer leaves, it comes back. */
    run_until_int(&fe.opened, 2);
    fd = accept(lfd, NULL, NULL);
    assert_int_equal(chardev_write(c, (const uint8_t *)"back", 4), 4);
    recv_exact(fd, "back");
    close(fd);
    close(lfd);
    unlink(path);
    run_until_int(&fe.closed, 2);
    fe_destroy(&fe);
}

static void test_socket_file_removed(void **state)
{
    g_autofree char *path = sock_path("rm.sock");
    struct stat st;

    /* A stale socket file from an earlier run is replaced. */
    close(listen_unix(path));
    assert_int_equal(stat(path, &st), 0);
    new_server(path);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    chardev_cleanup_all();
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
}

static void *connect_thread(void *opaque)
{
    return GINT_TO_POINTER(connect_unix(opaque));
}

static void test_wait_for_client(void **state)
{
    g_autofree char *path = sock_path("wait.sock");
    g_autofree char *opts = g_strdup_printf("socket,id=w,path=%s,server=on",
                                            path);
    Chardev *c = chardev_new_from_opts(opts, &error_abort);
    Thread t;
    int fd, abort_pipe[2];

    thread_create(&t, "connect", connect_thread, path, THREAD_JOINABLE);
    assert_true(chardev_wait_for_clients(-1, &error_abort));
    fd = GPOINTER_TO_INT(thread_join(&t));
    assert_true(chardev_is_connected(c));
    /* Only start-up waits: a second call returns at once. */
    assert_true(chardev_wait_for_clients(-1, &error_abort));
    close(fd);
    chardev_cleanup_all();

    /* A readable abort fd ends the wait without an error. */
    c = chardev_new_from_opts(opts, &error_abort);
    assert_int_equal(pipe(abort_pipe), 0);
    assert_int_equal(write(abort_pipe[1], "x", 1), 1);
    assert_false(chardev_wait_for_clients(abort_pipe[0], &error_abort));
    assert_false(chardev_is_connected(c));
    close(abort_pipe[0]);
    close(abort_pipe[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_server_session, teardown),
        cmocka_unit_test_teardown(test_one_client_at_a_time, teardown),
        cmocka_unit_test_teardown(test_input_backpressure, teardown),
        cmocka_unit_test_teardown(test_bounded_output, teardown),
        cmocka_unit_test_teardown(test_peer_gone_while_writing, teardown),
        cmocka_unit_test_teardown(test_tcp_server, teardown),
        cmocka_unit_test_teardown(test_client_mode, teardown),
        cmocka_unit_test_teardown(test_client_reconnect, teardown),
        cmocka_unit_test_teardown(test_socket_file_removed, teardown),
        cmocka_unit_test_teardown(test_wait_for_client, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
