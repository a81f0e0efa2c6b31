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

/*
 * Pieces of a page and more are copied with streaming stores: every
 * alignment of source and destination, lengths around the 64-byte
 * steps, small pieces between them (as page headers go), all exact.
 */
static void test_large_pieces(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    g_autoptr(GByteArray) expect = g_byte_array_new();
    g_autofree uint8_t *src = g_malloc(3 * 4096 + 64);
    static const size_t lens[] = { 4095, 4096, 4097, 4096 + 63, 8192 + 17 };
    const uint8_t *data;
    size_t len;

    for (size_t i = 0; i < 3 * 4096 + 64; i++) {
        src[i] = (uint8_t)(i * 13 + 5);
    }
    for (size_t shift = 0; shift < 17; shift++) {
        for (size_t k = 0; k < G_N_ELEMENTS(lens); k++) {
            uint8_t header[3] = { 0xa0, (uint8_t)shift, (uint8_t)k };
            struct iovec iov[2] = {
                { header, 1 + shift % 3 },
                { src + shift, lens[k] },
            };

            assert_int_equal(qio_channel_writev(ioc, iov, 2, &error_abort),
                             iov[0].iov_len + iov[1].iov_len);
            g_byte_array_append(expect, header, iov[0].iov_len);
            g_byte_array_append(expect, src + shift, lens[k]);
        }
    }
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, expect->len);
    assert_memory_equal(data, expect->data, len);
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
static void test_reserve(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    const uint8_t *data;
    size_t len;

    assert_int_equal(qio_channel_buffer_capacity(ioc), 0);
    assert_int_equal(qio_channel_write_all(ioc, "abc", 3, &error_abort), 0);
    qio_channel_buffer_reserve(ioc, 1 << 20);
    assert_int_equal(qio_channel_buffer_capacity(ioc), 1 << 20);
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "abc", 3);
    /* Smaller: nothing changes; reset keeps the capacity. */
    qio_channel_buffer_reserve(ioc, 10);
    qio_channel_buffer_reset(ioc);
    assert_int_equal(qio_channel_buffer_capacity(ioc), 1 << 20);
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);
}

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
        cmocka_unit_test(test_large_pieces),
        cmocka_unit_test(test_eof_semantics),
        cmocka_unit_test(test_set_data_rewind_reset),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_nonblocking),
        cmocka_unit_test(test_concurrent_fill_drain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
