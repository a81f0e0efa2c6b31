/*
 * Tests for socket channels: round trips, vectors, end of file, non-
 * blocking mode, shutdown waking blocked threads, concurrent read and
 * write on one duplex channel, and connecting.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "io-test.h"
#include "util/sockets.h"

/* A connected pair of socket channels. */
static void channel_pair(QIOChannel **a, QIOChannel **b)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    *a = qio_channel_socket_new_fd(sv[0], &error_abort);
    *b = qio_channel_socket_new_fd(sv[1], &error_abort);
}

static void test_round_trip(void **state)
{
    QIOChannel *a, *b;
    char buf[16];

    channel_pair(&a, &b);
    assert_true(qio_channel_is_socket(a));
    assert_string_equal(qio_channel_get_type(a), "socket");
    assert_int_equal(qio_channel_write_all(a, "ping", 4, &error_abort), 0);
    assert_int_equal(qio_channel_read_all(b, buf, 4, &error_abort), 0);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(qio_channel_write(b, "pong", 4, &error_abort), 4);
    assert_int_equal(qio_channel_read_all_eof(a, buf, 4, &error_abort), 1);
    assert_memory_equal(buf, "pong", 4);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

static void test_vectored(void **state)
{
    QIOChannel *a, *b;
    char x[5], y[3], z[4];
    struct iovec out[] = {
        { .iov_base = (char *)"ab", .iov_len = 2 },
        { .iov_base = (char *)"cdefg", .iov_len = 5 },
        { .iov_base = (char *)"hijkl", .iov_len = 5 },
    };
    struct iovec in[] = {
        { .iov_base = x, .iov_len = sizeof(x) },
        { .iov_base = y, .iov_len = sizeof(y) },
        { .iov_base = z, .iov_len = sizeof(z) },
    };

    channel_pair(&a, &b);
    assert_int_equal(qio_channel_writev(a, out, 3, &error_abort), 12);
    assert_int_equal(qio_channel_readv_all(b, in, 3, &error_abort), 0);
    assert_memory_equal(x, "abcde", 5);
    assert_memory_equal(y, "fgh", 3);
    assert_memory_equal(z, "ijkl", 4);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

/* Large vectored transfers go through many partial writes and reads. */
typedef struct BulkWriter {
    QIOChannel *ioc;
    const char *data;
    size_t len;
} BulkWriter;

static void *bulk_writer_run(void *opaque)
{
    BulkWriter *w = opaque;
    struct iovec iov[3] = {
        { .iov_base = (char *)w->data, .iov_len = 1 },
        { .iov_base = (char *)w->data + 1, .iov_len = w->len / 2 },
        { .iov_base = (char *)w->data + 1 + w->len / 2,
          .iov_len = w->len - 1 - w->len / 2 },
    };

    assert_int_equal(qio_channel_writev_all(w->ioc, iov, 3, &error_abort), 0);
    return NULL;
}

static void test_bulk_partial(void **state)
{
    const size_t len = 16 * 1024 * 1024 + 3;
    g_autofree char *data = g_malloc(len);
    g_autofree char *back = g_malloc(len);
    BulkWriter w;
    QIOChannel *a, *b;
    Thread thread;

    for (size_t i = 0; i < len; i++) {
        data[i] = (char)(i ^ (i >> 9));
    }
    channel_pair(&a, &b);
    w = (BulkWriter) { .ioc = a, .data = data, .len = len };
    thread_create(&thread, "bulk-writer", bulk_writer_run, &w,
                  THREAD_JOINABLE);
    assert_int_equal(qio_channel_read_all(b, back, len, &error_abort), 0);
    thread_join(&thread);
    assert_memory_equal(data, back, len);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

static void test_eof(void **state)
{
    QIOChannel *a, *b;
    Error *err = NULL;
    char buf[8];

    channel_pair(&a, &b);
    assert_int_equal(qio_channel_write_all(a, "abc", 3, &error_abort), 0);
    assert_int_equal(qio_channel_close(a, &error_abort), 0);
    assert_int_equal(qio_channel_read_all_eof(b, buf, 8, &err), -1);
    assert_error_text(err, "Unexpected end-of-file before all data were read");
    assert_int_equal(qio_channel_read_all_eof(b, buf, 8, &error_abort), 0);
    assert_int_equal(qio_channel_read(b, buf, 8, &error_abort), 0);
    err = NULL;
    assert_int_equal(qio_channel_read_all(b, buf, 8, &err), -1);
    assert_error_text(err, "Unexpected end-of-file before all data were read");
    /* The peer is gone: EPIPE as an error, no SIGPIPE. */
    err = NULL;
    assert_int_equal(qio_channel_write_all(b, "x", 1, &err), -1);
    assert_error_prefix(err, "Unable to write to socket: ");
    qio_channel_unref(a);
    qio_channel_unref(b);
}

static void test_nonblocking(void **state)
{
    QIOChannel *a, *b;
    char buf[65536] = { 0 };
    size_t total = 0;
    ssize_t n;

    channel_pair(&a, &b);
    qio_channel_set_blocking(a, false, &error_abort);
    assert_int_equal(qio_channel_read(a, buf, 1, &error_abort),
                     QIO_CHANNEL_ERR_BLOCK);
    while ((n = qio_channel_write(a, buf, sizeof(buf), &error_abort)) > 0) {
        total += n;
    }
    assert_int_equal(n, QIO_CHANNEL_ERR_BLOCK);
    /* The _all calls wait even in non-blocking mode. */
    assert_int_equal(qio_channel_write_all(b, "late", 4, &error_abort), 0);
    assert_int_equal(qio_channel_read_all(a, buf, 4, &error_abort), 0);
    assert_memory_equal(buf, "late", 4);
    while (total > 0) {
        n = qio_channel_read(b, buf, MIN(total, sizeof(buf)), &error_abort);
        assert_true(n > 0);
        total -= n;
    }
    /* Shut down is an error, not ERR_BLOCK, in non-blocking mode too. */
    qio_channel_shutdown(a, QIO_CHANNEL_SHUTDOWN_READ, &error_abort);
    assert_int_equal(qio_channel_read(a, buf, 1, NULL), -1);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

static void test_shutdown_wakes_reader(void **state)
{
    QIOChannel *a, *b;
    BlockedIO blocked;
    char c;

    channel_pair(&a, &b);
    blocked_io_start(&blocked, a, false, 8);
    assert_int_equal(qio_channel_shutdown(a, QIO_CHANNEL_SHUTDOWN_BOTH,
                                          &error_abort), 0);
    blocked_io_finish_shut_down(&blocked);
    /* shutdown(2) too: the peer sees end of file. */
    assert_int_equal(qio_channel_read(b, &c, 1, &error_abort), 0);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

/*
 * Shut down at every possible moment of a reader's progress (before it
 * waits, while it creates its wake-up descriptor, while it polls): the
 * result is always "Channel was shut down", never end of file or a hang.
 */
static void test_shutdown_race(void **state)
{
    for (int i = 0; i < 300; i++) {
        QIOChannel *a, *b;
        BlockedIO blocked = { 0 };

        channel_pair(&a, &b);
        blocked.ioc = a;
        blocked.len = 4;
        event_init(&blocked.started, false);
        thread_create(&blocked.thread, "racing-reader", blocked_io_run,
                      &blocked, THREAD_JOINABLE);
        if (i % 2) {
            event_wait(&blocked.started);
        }
        qio_channel_shutdown(a, QIO_CHANNEL_SHUTDOWN_BOTH, &error_abort);
        blocked_io_finish_shut_down(&blocked);
        qio_channel_unref(a);
        qio_channel_unref(b);
    }
}

/* The peer never reads, so the writer fills the buffers and blocks. */
static void test_shutdown_wakes_writer(void **state)
{
    QIOChannel *a, *b;
    BlockedIO blocked;

    channel_pair(&a, &b);
    blocked_io_start(&blocked, a, true, 64 * 1024 * 1024);
    assert_int_equal(qio_channel_shutdown(a, QIO_CHANNEL_SHUTDOWN_WRITE,
                                          &error_abort), 0);
    blocked_io_finish_shut_down(&blocked);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

/* A write shutdown leaves a reader in another thread blocked. */
static void test_shutdown_one_direction(void **state)
{
    QIOChannel *a, *b;
    BlockedIO blocked;
    char c;

    channel_pair(&a, &b);
    blocked_io_start(&blocked, a, false, 1);
    assert_int_equal(qio_channel_shutdown(a, QIO_CHANNEL_SHUTDOWN_WRITE,
                                          &error_abort), 0);
    assert_int_equal(qio_channel_read(b, &c, 1, &error_abort), 0);
    wait_thread_sleeping(blocked.tid);
    assert_int_equal(qio_channel_write_all(b, "r", 1, &error_abort), 0);
    thread_join(&blocked.thread);
    assert_int_equal(blocked.ret, 0);
    assert_null(blocked.error);
    event_destroy(&blocked.started);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

/*
 * The migration stream and its return path: one thread writes while
 * another reads on the same channel, each with its own peer thread.
 */
typedef struct Pump {
    QIOChannel *ioc;
    bool write;
    size_t len;
    uint8_t seed;
    bool ok;
} Pump;

static void *pump_run(void *opaque)
{
    Pump *p = opaque;
    char buf[4096];
    size_t done = 0;

    p->ok = true;
    while (done < p->len) {
        size_t n = MIN(sizeof(buf), p->len - done);

        if (p->write) {
            for (size_t i = 0; i < n; i++) {
                buf[i] = (char)(p->seed + (done + i) * 13);
            }
            if (qio_channel_write_all(p->ioc, buf, n, NULL) < 0) {
                p->ok = false;
                return NULL;
            }
        } else {
            if (qio_channel_read_all(p->ioc, buf, n, NULL) < 0) {
                p->ok = false;
                return NULL;
            }
            for (size_t i = 0; i < n; i++) {
                if ((uint8_t)buf[i] != (uint8_t)(p->seed + (done + i) * 13)) {
                    p->ok = false;
                    return NULL;
                }
            }
        }
        done += n;
    }
    return NULL;
}

static void test_duplex_concurrent(void **state)
{
    QIOChannel *a, *b;
    Pump pumps[4];
    Thread threads[4];
    const size_t len = 8 * 1024 * 1024;

    channel_pair(&a, &b);
    pumps[0] = (Pump) { .ioc = a, .write = true, .len = len, .seed = 1 };
    pumps[1] = (Pump) { .ioc = b, .write = false, .len = len, .seed = 1 };
    pumps[2] = (Pump) { .ioc = b, .write = true, .len = len, .seed = 77 };
    pumps[3] = (Pump) { .ioc = a, .write = false, .len = len, .seed = 77 };
    for (int i = 0; i < 4; i++) {
        thread_create(&threads[i], "pump", pump_run, &pumps[i],
                      THREAD_JOINABLE);
    }
    for (int i = 0; i < 4; i++) {
        thread_join(&threads[i]);
        assert_true(pumps[i].ok);
    }
    qio_channel_unref(a);
    qio_channel_unref(b);
}

/*
 * A timeout bounds each wait: a silent peer fails a read, a peer that
 * takes nothing fails a write; progress before it is kept.
 */
static void test_timeout(void **state)
{
    QIOChannel *a, *b;
    Error *err = NULL;
    g_autofree char *big = g_malloc0(8 * 1024 * 1024);
    char buf[8];

    channel_pair(&a, &b);
    qio_channel_set_name(a, "side-a");
    qio_channel_set_timeout(a, 50);
    assert_int_equal(qio_channel_get_timeout(a), 50);
    assert_false(qio_channel_timed_out(a));
    assert_int_equal(qio_channel_write_all(b, "abc", 3, &error_abort), 0);
    /* Three bytes arrive, the fourth never does. */
    assert_int_equal(qio_channel_read_all(a, buf, 4, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(error_get_pretty(err),
                           "Timed out reading from side-a: nothing arrived "
                           "for 50 ms"));
    assert_true(qio_channel_timed_out(a));
    g_clear_pointer(&err, error_free);

    /* Nobody reads b: the socket buffers fill up, then the write fails. */
    assert_int_equal(qio_channel_write_all(a, big, 8 * 1024 * 1024, &err),
                     -1);
    assert_non_null(strstr(error_get_pretty(err),
                           "Timed out writing to side-a: the peer took "
                           "nothing for 50 ms"));
    g_clear_pointer(&err, error_free);

    /* 0 waits forever again: data that comes is read. */
    qio_channel_set_timeout(b, 0);
    assert_int_equal(qio_channel_read(b, buf, 1, &error_abort), 1);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

static void test_connect_sync(void **state)
{
    SockAddr addr = { 0 };
    QIOChannel *client, *server;
    Error *err = NULL;
    int lfd, sfd;
    char buf[5];

    assert_true(sock_addr_parse("tcp:127.0.0.1:0", &addr, &error_abort));
    lfd = socket_listen(&addr, 1, &error_abort);
    assert_true(sock_addr_update_from_fd(&addr, lfd, &error_abort));
    client = qio_channel_socket_connect_sync(&addr, &error_abort);
    sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(sfd >= 0);
    server = qio_channel_socket_new_fd(sfd, &error_abort);
    assert_int_equal(qio_channel_write_all(client, "hello", 5, &error_abort),
                     0);
    assert_int_equal(qio_channel_read_all(server, buf, 5, &error_abort), 0);
    assert_memory_equal(buf, "hello", 5);
    qio_channel_unref(client);
    qio_channel_unref(server);
    close(lfd);

    /* Nobody listens there any more. */
    assert_null(qio_channel_socket_connect_sync(&addr, &err));
    assert_non_null(err);
    error_free(err);
    sock_addr_clear(&addr);
}

static void test_new_fd_errors(void **state)
{
    g_autofree char *expected = NULL;
    Error *err = NULL;
    int fds[2];
    int dgram;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    assert_null(qio_channel_socket_new_fd(fds[0], &err));
    assert_error_prefix(err, "File descriptor ");
    /* The channel owned the descriptor and closed it. */
    assert_int_equal(fcntl(fds[0], F_GETFD), -1);
    close(fds[1]);

    dgram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    expected = g_strdup_printf("File descriptor %d is not a stream socket",
                               dgram);
    err = NULL;
    assert_null(qio_channel_socket_new_fd(dgram, &err));
    assert_error_text(err, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_vectored),
        cmocka_unit_test(test_bulk_partial),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_nonblocking),
        cmocka_unit_test(test_shutdown_wakes_reader),
        cmocka_unit_test(test_shutdown_race),
        cmocka_unit_test(test_shutdown_wakes_writer),
        cmocka_unit_test(test_shutdown_one_direction),
        cmocka_unit_test(test_duplex_concurrent),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connect_sync),
        cmocka_unit_test(test_new_fd_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
