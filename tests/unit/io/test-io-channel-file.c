/*
 * Tests for file channels: regular files by path, and pipe ends by fd.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "io-test.h"

static char *tmp_path(const char *name)
{
    return g_strdup_printf("%s/test-io-file-%d-%s", g_get_tmp_dir(),
                           (int)getpid(), name);
}

static void test_path_round_trip(void **state)
{
    g_autofree char *path = tmp_path("rt");
    QIOChannel *ioc;
    char buf[16];
    struct iovec out[] = {
        { .iov_base = (char *)"first ", .iov_len = 6 },
        { .iov_base = (char *)"second", .iov_len = 6 },
    };
    struct iovec in[] = {
        { .iov_base = buf, .iov_len = 4 },
        { .iov_base = buf + 4, .iov_len = 8 },
    };
    struct stat st;

    ioc = qio_channel_file_new_path(path, O_WRONLY | O_CREAT | O_TRUNC, 0600,
                                    &error_abort);
    assert_true(qio_channel_is_file(ioc));
    assert_false(qio_channel_is_duplex(ioc));
    assert_int_equal(qio_channel_writev_all(ioc, out, 2, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    qio_channel_unref(ioc);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 12);

    ioc = qio_channel_file_new_path(path, O_RDONLY, 0, &error_abort);
    assert_int_equal(qio_channel_readv_all_eof(ioc, in, 2, &error_abort), 1);
    assert_memory_equal(buf, "first second", 12);
    assert_int_equal(qio_channel_read_all_eof(ioc, buf, 1, &error_abort), 0);
    qio_channel_unref(ioc);
    unlink(path);
}

static void test_wrong_direction(void **state)
{
    g_autofree char *path = tmp_path("dir");
    g_autoptr(QIOChannel) ioc = NULL;
    Error *err = NULL;
    char c;

    ioc = qio_channel_file_new_path(path, O_WRONLY | O_CREAT, 0600,
                                    &error_abort);
    assert_int_equal(qio_channel_read(ioc, &c, 1, &err), -1);
    assert_error_prefix(err, "Unable to read from file: ");
    unlink(path);
}

static void test_open_error(void **state)
{
    Error *err = NULL;

    assert_null(qio_channel_file_new_path("/nonexistent/dir/file", O_RDONLY,
                                          0, &err));
    assert_error_text(err, "Unable to open /nonexistent/dir/file: "
                      "No such file or directory");
}

static void test_pipe_nonblocking(void **state)
{
    int fds[2];
    QIOChannel *rd, *wr;
    ssize_t n;
    size_t total = 0;
    char buf[4096] = { 0 };

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    rd = qio_channel_file_new_fd(fds[0]);
    wr = qio_channel_file_new_fd(fds[1]);
    qio_channel_set_blocking(rd, false, &error_abort);
    qio_channel_set_blocking(wr, false, &error_abort);

    assert_int_equal(qio_channel_read(rd, buf, 1, &error_abort),
                     QIO_CHANNEL_ERR_BLOCK);
    while ((n = qio_channel_write(wr, buf, sizeof(buf), &error_abort)) > 0) {
        total += n;
    }
    assert_int_equal(n, QIO_CHANNEL_ERR_BLOCK);
    assert_true(total > 0);
    /* Drain what fitted: exactly the bytes accepted. */
    while (total > 0) {
        n = qio_channel_read(rd, buf, MIN(total, sizeof(buf)), &error_abort);
        assert_true(n > 0);
        total -= n;
    }
    assert_int_equal(qio_channel_read(rd, buf, 1, &error_abort),
                     QIO_CHANNEL_ERR_BLOCK);
    qio_channel_unref(wr);
    /* Writer gone: end of file, also in non-blocking mode. */
    assert_int_equal(qio_channel_read(rd, buf, 1, &error_abort), 0);
    qio_channel_unref(rd);
}

/* A reader gone: EPIPE as an error, and the process is not killed. */
static void test_pipe_no_sigpipe(void **state)
{
    int fds[2];
    QIOChannel *wr;
    Error *err = NULL;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    close(fds[0]);
    wr = qio_channel_file_new_fd(fds[1]);
    assert_int_equal(qio_channel_write_all(wr, "x", 1, &err), -1);
    assert_error_text(err, "Unable to write to file: Broken pipe");
    qio_channel_unref(wr);
}

/* A thread blocked reading an empty pipe is woken by shutdown. */
static void test_shutdown_wakes_pipe_reader(void **state)
{
    int fds[2];
    QIOChannel *rd;
    BlockedIO b;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    rd = qio_channel_file_new_fd(fds[0]);
    blocked_io_start(&b, rd, false, 16);
    assert_int_equal(qio_channel_shutdown(rd, QIO_CHANNEL_SHUTDOWN_BOTH,
                                          &error_abort), 0);
    blocked_io_finish_shut_down(&b);
    qio_channel_unref(rd);
    close(fds[1]);
}

/* ... and one blocked writing a full pipe. */
static void test_shutdown_wakes_pipe_writer(void **state)
{
    int fds[2];
    QIOChannel *wr;
    BlockedIO b;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    wr = qio_channel_file_new_fd(fds[1]);
    blocked_io_start(&b, wr, true, 4 * 1024 * 1024);
    assert_int_equal(qio_channel_shutdown(wr, QIO_CHANNEL_SHUTDOWN_WRITE,
                                          &error_abort), 0);
    blocked_io_finish_shut_down(&b);
    qio_channel_unref(wr);
    close(fds[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_round_trip),
        cmocka_unit_test(test_wrong_direction),
        cmocka_unit_test(test_open_error),
        cmocka_unit_test(test_pipe_nonblocking),
        cmocka_unit_test(test_pipe_no_sigpipe),
        cmocka_unit_test(test_shutdown_wakes_pipe_reader),
        cmocka_unit_test(test_shutdown_wakes_pipe_writer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
