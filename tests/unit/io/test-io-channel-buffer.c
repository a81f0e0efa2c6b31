/*
 * Tests for the in-memory buffer channel.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sched.h>

#include "io-test.h"

static void test_round_trip(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(2);
    g_autofree char *big = g_malloc(100000);
    g_autofree char *back = g_malloc(100000);
    const uint8_t *data;
    size_t len;

    for (size_t i = 0; i < 100000; i++) {
        big[i] = (char)(i * 7);
    }
    /* Starts tiny, grows past the initial allocation several times. */
    assert_int_equal(qio_channel_write(ioc, big, 100000, &error_abort),
                     100000);
    assert_int_equal(qio_channel_buffer_pending(ioc), 100000);
    assert_int_equal(qio_channel_read(ioc, back, 60000, &error_abort),
                     60000);
    assert_int_equal(qio_channel_read(ioc, back + 60000, 50000,
                                      &error_abort), 40000);
    assert_memory_equal(big, back, 100000);
    assert_int_equal(qio_channel_read(ioc, back, 1, &error_abort), 0);
    assert_int_equal(qio_channel_buffer_pending(ioc), 0);

    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 100000);
    assert_memory_equal(data, big, len);
}

static void test_vectored(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    char x[2], y[6];
    struct iovec out[] = {
        { .iov_base = (char *)"abc", .iov_len = 3 },
        { .iov_base = (char *)"defgh", .iov_len = 5 },
    };
    struct iovec in[] = {
        { .iov_base = x, .iov_len = sizeof(x) },
        { .iov_base = y, .iov_len = sizeof(y) },
    };

    assert_int_equal(qio_channel_writev(ioc, out, 2, &error_abort), 8);
    assert_int_equal(qio_channel_readv(ioc, in, 2, &error_abort), 8);
    assert_memory_equal(x, "ab", 2);
    assert_memory_equal(y, "cdefgh", 6);
}

static void test_eof_semantics(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    Error *err = NULL;
    char buf[8];

    /* Clean end of file before the first byte. */
    assert_int_equal(qio_channel_read_all_eof(ioc, buf, 4, &error_abort), 0);
    assert_int_equal(qio_channel_read_all(ioc, buf, 4, &err), -1);
    assert_error_text(err, "Unexpected end-of-file before all data were read");

    /* End of file in the middle is an error for both. */
    qio_channel_buffer_set_data(ioc, "abc", 3);
    err = NULL;
    assert_int_equal(qio_channel_read_all_eof(ioc, buf, 4, &err), -1);
    assert_error_text(err, "Unexpected end-of-file before all data were read");
    qio_channel_buffer_rewind(ioc);
    err = NULL;
    assert_int_equal(qio_channel_read_all(ioc, buf, 4, &err), -1);
    assert_error_text(err, "Unexpected end-of-file before all data were read");

    qio_channel_buffer_rewind(ioc);
    assert_int_equal(qio_channel_read_all_eof(ioc, buf, 3, &error_abort), 1);
    assert_memory_equal(buf, "abc", 3);
    qio_channel_buffer_rewind(ioc);
    assert_int_equal(qio_channel_read_all(ioc, buf, 3, &error_abort), 0);
}

static void test_set_data_rewind_reset(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    size_t len;
    char buf[8];

    assert_null(qio_channel_buffer_data(ioc, &len));
    assert_int_equal(len, 0);
    qio_channel_buffer_set_data(ioc, "hello", 5);
    assert_int_equal(qio_channel_read(ioc, buf, 2, &error_abort), 2);
    assert_int_equal(qio_channel_buffer_pending(ioc), 3);
    /* Writes append after the data, whatever has been read. */
    assert_int_equal(qio_channel_write(ioc, "!", 1, &error_abort), 1);
    assert_int_equal(qio_channel_read(ioc, buf, 8, &error_abort), 4);
    assert_memory_equal(buf, "llo!", 4);
    qio_channel_buffer_rewind(ioc);
    assert_int_equal(qio_channel_read(ioc, buf, 8, &error_abort), 6);
    assert_memory_equal(buf, "hello!", 6);
    qio_channel_buffer_reset(ioc);
    assert_int_equal(qio_channel_buffer_pending(ioc), 0);
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);
    assert_int_equal(qio_channel_read(ioc, buf, 8, &error_abort), 0);
    qio_channel_buffer_set_data(ioc, "", 0);
    assert_int_equal(qio_channel_read(ioc, buf, 8, &error_abort), 0);
}

/* Memory never blocks: non-blocking mode reads EOF, never ERR_BLOCK. */
/* Reserving grows the buffer once and keeps what it holds. */
static void test_nonblocking(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    char c;

    qio_channel_set_blocking(ioc, false, &error_abort);
    assert_int_equal(qio_channel_read(ioc, &c, 1, &error_abort), 0);
    assert_int_equal(qio_channel_write(ioc, "q", 1, &error_abort), 1);
    assert_int_equal(qio_channel_read(ioc, &c, 1, &error_abort), 1);
    assert_int_equal(c, 'q');
}

typedef struct Filler {
    QIOChannel *ioc;
    size_t chunks;
} Filler;

static void *filler_run(void *opaque)
{
    Filler *f = opaque;
    char chunk[256];

    for (size_t i = 0; i < f->chunks; i++) {
        memset(chunk, (int)(i & 0xff), sizeof(chunk));
        qio_channel_write_all(f->ioc, chunk, sizeof(chunk), &error_abort);
    }
    return NULL;
}

/* One thread fills while another drains; the lock keeps bytes in order. */
static void test_concurrent_fill_drain(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    Filler f = { .ioc = ioc, .chunks = 2000 };
    size_t total = f.chunks * 256, got = 0;
    Thread thread;
    char buf[1000];

    thread_create(&thread, "filler", filler_run, &f, THREAD_JOINABLE);
    while (got < total) {
        ssize_t n = qio_channel_read(ioc, buf, sizeof(buf), &error_abort);

        assert_true(n >= 0);
        for (ssize_t i = 0; i < n; i++) {
            assert_int_equal((uint8_t)buf[i], ((got + i) / 256) & 0xff);
        }
        got += n;
        if (n == 0) {
            sched_yield();
        }
    }
    thread_join(&thread);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_vectored),
        cmocka_unit_test(test_eof_semantics),
        cmocka_unit_test(test_set_data_rewind_reset),
        cmocka_unit_test(test_nonblocking),
        cmocka_unit_test(test_concurrent_fill_drain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
