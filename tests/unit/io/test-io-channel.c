/*
 * Tests for the generic channel code: references, names, features,
 * shutdown and close semantics, and the _all calls' vector handling.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <sys/socket.h>

#include "io-test.h"

static void test_refcount(void **state)
{
    QIOChannel *ioc = qio_channel_buffer_new(0);
    char buf[4];

    assert_ptr_equal(qio_channel_ref(ioc), ioc);
    assert_ptr_equal(qio_channel_ref(ioc), ioc);
    qio_channel_unref(ioc);
    qio_channel_unref(ioc);
    /* Still alive: the first reference is left. */
    assert_int_equal(qio_channel_write_all(ioc, "abcd", 4, &error_abort), 0);
    assert_int_equal(qio_channel_read_all(ioc, buf, 4, &error_abort), 0);
    assert_memory_equal(buf, "abcd", 4);
    qio_channel_unref(ioc);
    qio_channel_unref(NULL);

    {
        g_autoptr(QIOChannel) auto_ioc = qio_channel_buffer_new(16);

        qio_channel_ref(auto_ioc);
        qio_channel_unref(auto_ioc);
    }
}

/* The last unref closes an fd-backed channel: the peer sees EOF. */
static void test_unref_closes(void **state)
{
    int sv[2];
    char c;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    qio_channel_unref(qio_channel_socket_new_fd(sv[0], &error_abort));
    assert_int_equal(read(sv[1], &c, 1), 0);
    close(sv[1]);
}

static void test_names_and_features(void **state)
{
    g_autoptr(QIOChannel) buf = qio_channel_buffer_new(0);
    g_autoptr(QIOChannel) sock = NULL;
    int sv[2];

    assert_string_equal(qio_channel_get_type(buf), "buffer");
    assert_string_equal(qio_channel_get_name(buf), "buffer");
    qio_channel_set_name(buf, "first");
    qio_channel_set_name(buf, "migration-source");
    assert_string_equal(qio_channel_get_name(buf), "migration-source");
    assert_true(qio_channel_has_feature_shutdown(buf));
    assert_false(qio_channel_is_duplex(buf));
    assert_int_equal(qio_channel_get_fd(buf), -1);
    assert_true(qio_channel_is_buffer(buf));
    assert_false(qio_channel_is_socket(buf));

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    sock = qio_channel_socket_new_fd(sv[0], &error_abort);
    assert_true(qio_channel_is_duplex(sock));
    assert_true(qio_channel_has_feature(sock, QIO_CHANNEL_FEATURE_SHUTDOWN));
    assert_int_equal(qio_channel_get_fd(sock), sv[0]);
    /* The channel's descriptor is always non-blocking underneath. */
    assert_true(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    assert_true(qio_channel_is_blocking(sock));
    assert_true(qio_channel_set_blocking(sock, false, &error_abort));
    assert_false(qio_channel_is_blocking(sock));
    close(sv[1]);
}

static void test_shutdown_directions(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    Error *err = NULL;
    char c;

    assert_int_equal(qio_channel_write_all(ioc, "xy", 2, &error_abort), 0);
    assert_int_equal(qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_READ,
                                          &error_abort), 0);
    assert_int_equal(qio_channel_read(ioc, &c, 1, &err), -1);
    assert_error_text(err, "Channel was shut down");
    err = NULL;
    assert_int_equal(qio_channel_read_all_eof(ioc, &c, 1, &err), -1);
    assert_error_text(err, "Channel was shut down");
    /* Writing still works until the write side goes too. */
    assert_int_equal(qio_channel_write(ioc, "z", 1, &error_abort), 1);
    assert_int_equal(qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_WRITE,
                                          &error_abort), 0);
    err = NULL;
    assert_int_equal(qio_channel_write_all(ioc, "z", 1, &err), -1);
    assert_error_text(err, "Channel was shut down");
    /* Shutting down again is harmless. */
    assert_int_equal(qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_BOTH,
                                          &error_abort), 0);
}

static void test_close_semantics(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    Error *err = NULL;
    char c;

    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    assert_int_equal(qio_channel_read(ioc, &c, 1, &err), -1);
    assert_error_text(err, "Channel is closed");
    err = NULL;
    assert_int_equal(qio_channel_write(ioc, "a", 1, &err), -1);
    assert_error_text(err, "Channel is closed");
    err = NULL;
    assert_int_equal(qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_BOTH,
                                          &err), -1);
    assert_error_text(err, "Channel is closed");
}

/*
 * Closing while another thread is blocked in a read wakes it first, and
 * only then releases the descriptor.
 */
static void test_close_wakes_reader(void **state)
{
    QIOChannel *ioc;
    BlockedIO b;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    ioc = qio_channel_socket_new_fd(sv[0], &error_abort);
    blocked_io_start(&b, ioc, false, 8);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    thread_join(&b.thread);
    assert_int_equal(b.ret, -1);
    assert_string_equal(b.error, "Channel is closed");
    g_free(b.error);
    event_destroy(&b.started);
    assert_int_equal(qio_channel_get_fd(ioc), -1);
    qio_channel_unref(ioc);
    close(sv[1]);
}

/* Empty entries anywhere in a vector, and zero-length transfers. */
static void test_vectors_with_holes(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    char a[3], b[5], c[1];
    struct iovec out[] = {
        { .iov_base = NULL, .iov_len = 0 },
        { .iov_base = (char *)"hel", .iov_len = 3 },
        { .iov_base = NULL, .iov_len = 0 },
        { .iov_base = (char *)"lo, w", .iov_len = 5 },
        { .iov_base = (char *)"!", .iov_len = 1 },
        { .iov_base = NULL, .iov_len = 0 },
    };
    struct iovec in[] = {
        { .iov_base = a, .iov_len = sizeof(a) },
        { .iov_base = NULL, .iov_len = 0 },
        { .iov_base = b, .iov_len = sizeof(b) },
        { .iov_base = c, .iov_len = sizeof(c) },
    };

    assert_int_equal(qio_channel_writev(ioc, out, 0, &error_abort), 0);
    assert_int_equal(qio_channel_writev(ioc, out, 1, &error_abort), 0);
    assert_int_equal(qio_channel_writev_all(ioc, out, G_N_ELEMENTS(out),
                                            &error_abort), 0);
    assert_int_equal(qio_channel_readv(ioc, in, 0, &error_abort), 0);
    assert_int_equal(qio_channel_readv_all_eof(ioc, in, G_N_ELEMENTS(in),
                                               &error_abort), 1);
    assert_memory_equal(a, "hel", 3);
    assert_memory_equal(b, "lo, w", 5);
    assert_memory_equal(c, "!", 1);
    /* Nothing to read and nothing asked for: complete, not EOF. */
    assert_int_equal(qio_channel_readv_all_eof(ioc, in, 0, &error_abort), 1);
    assert_int_equal(qio_channel_readv_all(ioc, in, 0, &error_abort), 0);
    /* The caller's vector is left untouched. */
    assert_ptr_equal(in[0].iov_base, a);
    assert_int_equal(in[2].iov_len, sizeof(b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_unref_closes),
        cmocka_unit_test(test_names_and_features),
        cmocka_unit_test(test_shutdown_directions),
        cmocka_unit_test(test_close_semantics),
        cmocka_unit_test(test_close_wakes_reader),
        cmocka_unit_test(test_vectors_with_holes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
