/*
 * Tests for QEMUFile: wire encoding of every put/get, sticky errors,
 * truncated input, peeking, the rate limit and the return path.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "io/channel.h"
#include "migration/qemu-file.h"
#include "util/thread.h"

/* The bytes the sequence in put_all() must produce. */
static const uint8_t golden[] = {
    0x12,                                           /* byte */
    0xfe,                                           /* byte -2 */
    0x34, 0x56,                                     /* be16 */
    0x78, 0x9a, 0xbc, 0xde,                         /* be32 */
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* be64 */
    'x', 'y', 'z',                                  /* buffer */
    0x03, 'r', 'a', 'm',                            /* counted string */
    0xff, 0xff,                                     /* be16 0xffff */
    0x80, 0x00, 0x00, 0x01,                         /* be32 */
};

static void put_all(QEMUFile *f)
{
    qemu_put_byte(f, 0x12);
    qemu_put_byte(f, -2);
    qemu_put_be16(f, 0x3456);
    qemu_put_be32(f, 0x789abcde);
    qemu_put_be64(f, 0x0123456789abcdefULL);
    qemu_put_buffer(f, (const uint8_t *)"xyz", 3);
    qemu_put_counted_string(f, "ram");
    qemu_put_be16(f, 0xffff);
    qemu_put_be32(f, 0x80000001);
}

/*
 * Read the sequence back.  With @avail < sizeof(golden) the stream is
 * cut there: every item wholly before the cut must come back right.
 */
static void get_all(QEMUFile *f, size_t avail)
{
    char str[256];
    uint8_t buf[3];
    size_t end = 0;

#define CHECK_ITEM(len, expr, val)                  \
    do {                                            \
        end += (len);                               \
        if (end <= avail) {                         \
            assert_true((expr) == (val));           \
        } else {                                    \
            assert_true((expr) == 0);               \
        }                                           \
    } while (0)

    CHECK_ITEM(1, qemu_get_byte(f), 0x12);
    CHECK_ITEM(1, qemu_get_byte(f), 0xfe);
    CHECK_ITEM(2, qemu_get_be16(f), 0x3456);
    CHECK_ITEM(4, qemu_get_be32(f), 0x789abcde);
    CHECK_ITEM(8, qemu_get_be64(f), 0x0123456789abcdefULL);
    CHECK_ITEM(3, qemu_get_buffer(f, buf, 3), 3);
    if (end <= avail) {
        assert_memory_equal(buf, "xyz", 3);
    }
    CHECK_ITEM(4, qemu_get_counted_string(f, str), 3);
    if (end <= avail) {
        assert_string_equal(str, "ram");
    } else {
        assert_string_equal(str, "");
    }
    CHECK_ITEM(2, qemu_get_be16(f), 0xffff);
    CHECK_ITEM(4, qemu_get_be32(f), 0x80000001);
#undef CHECK_ITEM
    assert_int_equal(end, sizeof(golden));
}

static QEMUFile *input_from(const void *data, size_t len)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);

    qio_channel_buffer_set_data(ioc, data, len);
    return qemu_file_new_input(ioc);
}

static void test_put_golden(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    size_t len;

    put_all(f);
    assert_int_equal(qemu_file_transferred(f), sizeof(golden));
    /* Buffered until flushed. */
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, sizeof(golden));
    assert_memory_equal(data, golden, sizeof(golden));
    assert_true(qemu_file_is_writable(f));
    assert_ptr_equal(qemu_file_get_ioc(f), ioc);
    assert_int_equal(qemu_fclose(f), 0);
}

static void test_get_golden(void **state)
{
    QEMUFile *f = input_from(golden, sizeof(golden));
    Error *err = NULL;

    assert_false(qemu_file_is_writable(f));
    get_all(f, sizeof(golden));
    assert_int_equal(qemu_file_get_error(f), 0);
    assert_int_equal(qemu_file_transferred(f), sizeof(golden));

    /* One more byte: end of stream is an error, and it sticks. */
    assert_int_equal(qemu_get_byte(f), 0);
    assert_int_equal(qemu_file_get_error_obj(f, &err), -EIO);
    assert_non_null(strstr(error_get_pretty(err), "Unexpected end of stream"));
    error_free(err);
    assert_int_equal(qemu_get_be32(f), 0);
    assert_int_equal(qemu_fclose(f), -EIO);
}

/* The stream cut at every offset: a clean -EIO, never a crash. */
static void test_truncated(void **state)
{
    for (size_t cut = 0; cut < sizeof(golden); cut++) {
        QEMUFile *f = input_from(golden, cut);

        get_all(f, cut);
        assert_int_equal(qemu_file_get_error(f), -EIO);
        assert_int_equal(qemu_fclose(f), -EIO);
    }
}

static void test_counted_string_limits(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    g_autoptr(QIOChannel) ioc2 = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    char max[256], big[257], back[256];
    const uint8_t *data;
    size_t len;

    memset(max, 'a', 255);
    max[255] = '\0';
    qemu_put_counted_string(f, max);
    qemu_put_counted_string(f, "");
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 257);
    assert_int_equal(data[0], 255);
    assert_int_equal(data[256], 0);

    assert_int_equal(qemu_fclose(f), 0);
    f = input_from(data, len);
    assert_int_equal(qemu_get_counted_string(f, back), 255);
    assert_string_equal(back, max);
    assert_int_equal(qemu_get_counted_string(f, back), 0);
    assert_string_equal(back, "");
    assert_int_equal(qemu_fclose(f), 0);

    /* Too long to encode: an error, nothing written. */
    f = qemu_file_new_output(ioc2);
    memset(big, 'b', 256);
    big[256] = '\0';
    qemu_put_counted_string(f, big);
    assert_int_equal(qemu_file_get_error(f), -EINVAL);
    assert_int_equal(qemu_file_transferred(f), 0);
    assert_int_equal(qemu_fclose(f), -EINVAL);
}

static void test_sticky_error(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    Error *err = NULL, *mine = NULL;
    size_t len;

    qemu_put_byte(f, 1);
    error_setg(&mine, "the peer went away");
    qemu_file_set_error_obj(f, -EPIPE, mine);
    qemu_file_set_error(f, -EIO);           /* the first one wins */
    qemu_put_be64(f, 42);
    qemu_put_buffer(f, golden, sizeof(golden));
    assert_int_equal(qemu_file_transferred(f), 1);
    qemu_fflush(f);
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);               /* nothing after an error */
    assert_true(qemu_file_rate_limit(f));
    assert_int_equal(qemu_file_get_error_obj(f, &err), -EPIPE);
    assert_string_equal(error_get_pretty(err), "the peer went away");
    g_clear_pointer(&err, error_free);
    assert_int_equal(qemu_fclose_errp(f, &err), -EPIPE);
    assert_string_equal(error_get_pretty(err), "the peer went away");
    g_clear_pointer(&err, error_free);

    /* Without an Error object a generic one is made from the errno. */
    f = input_from(golden, sizeof(golden));
    qemu_file_set_error(f, -ENOSPC);
    qemu_file_set_error(f, 0);              /* not an error: ignored */
    assert_int_equal(qemu_get_byte(f), 0);
    assert_int_equal(qemu_get_be64(f), 0);
    assert_int_equal(qemu_file_transferred(f), 0);
    assert_int_equal(qemu_file_get_error_obj(f, &err), -ENOSPC);
    assert_non_null(err);
    g_clear_pointer(&err, error_free);
    assert_int_equal(qemu_fclose(f), -ENOSPC);
    assert_int_equal(qemu_fclose(NULL), 0);
}

static void test_wrong_direction(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);

    assert_int_equal(qemu_get_byte(f), 0);
    assert_int_equal(qemu_file_get_error(f), -EINVAL);
    assert_int_equal(qemu_fclose(f), -EINVAL);

    f = input_from(golden, sizeof(golden));
    qemu_put_byte(f, 1);
    assert_int_equal(qemu_file_get_error(f), -EINVAL);
    assert_int_equal(qemu_fclose(f), -EINVAL);
}

static void test_peek(void **state)
{
    QEMUFile *f = input_from(golden, sizeof(golden));
    uint8_t *p;

    assert_int_equal(qemu_peek_byte(f, 0), 0x12);
    assert_int_equal(qemu_peek_byte(f, 2), 0x34);
    assert_int_equal(qemu_peek_buffer(f, &p, 4, 4), 4);
    assert_memory_equal(p, golden + 4, 4);
    assert_int_equal(qemu_file_transferred(f), 0);
    qemu_file_skip(f, 2);
    assert_int_equal(qemu_file_transferred(f), 2);
    assert_int_equal(qemu_get_be16(f), 0x3456);

    /* Past the end: -1 / short count, and no error until a get. */
    assert_int_equal(qemu_peek_byte(f, sizeof(golden)), -1);
    assert_int_equal(qemu_peek_buffer(f, &p, 8, sizeof(golden) - 8), 4);
    assert_int_equal(qemu_peek_byte(f, -1), -1);
    assert_int_equal(qemu_file_get_error(f), 0);
    assert_int_equal(qemu_peek_byte(f, sizeof(golden) - 5), 0x01);

    /* Skipping more than was peeked is a bug in the caller: an error. */
    qemu_file_skip(f, sizeof(golden));
    assert_int_equal(qemu_file_get_error(f), -EINVAL);
    assert_int_equal(qemu_peek_byte(f, 0), -1);
    assert_int_equal(qemu_fclose(f), -EINVAL);

    /* A peek larger than the buffer is refused. */
    f = input_from(golden, sizeof(golden));
    assert_int_equal(qemu_peek_buffer(f, &p, QEMU_FILE_BUF_SIZE, 1), 0);
    assert_int_equal(qemu_file_get_error(f), -EINVAL);
    assert_int_equal(qemu_fclose(f), -EINVAL);
}

/* Data larger than the buffer, in items that straddle its boundary. */
static void test_large(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *out = qemu_file_new_output(ioc), *f = out;
    size_t n = 3 * QEMU_FILE_BUF_SIZE + 123;
    g_autofree uint8_t *big = g_malloc(n);
    g_autofree uint8_t *back = g_malloc(n);
    const uint8_t *data;
    size_t len;

    for (size_t i = 0; i < n; i++) {
        big[i] = i * 7 + (i >> 8);
    }
    qemu_put_byte(f, 0xaa);
    qemu_put_buffer(f, big, n);
    for (unsigned i = 0; i < 20000; i++) {
        qemu_put_be64(f, (uint64_t)i * 0x9e3779b97f4a7c15ULL);
    }
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 1 + n + 20000 * 8);
    assert_memory_equal(data + 1, big, n);
    assert_int_equal(qemu_file_get_error(f), 0);

    f = input_from(data, len);
    assert_int_equal(qemu_get_byte(f), 0xaa);
    assert_int_equal(qemu_get_buffer(f, back, n), n);
    assert_memory_equal(back, big, n);
    for (unsigned i = 0; i < 20000; i++) {
        assert_true(qemu_get_be64(f) == (uint64_t)i * 0x9e3779b97f4a7c15ULL);
    }
    assert_int_equal(qemu_file_transferred(f), len);
    assert_int_equal(qemu_fclose(f), 0);
    assert_int_equal(qemu_fclose(out), 0);
}

/* A clock the test moves by hand. */
static int64_t fake_now;

static int64_t fake_clock(void *opaque)
{
    return *(int64_t *)opaque;
}

#define MS(x) ((int64_t)(x) * 1000000)

static void test_rate_limit(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    uint8_t page[4096] = { 0 };

    fake_now = MS(1000);
    qemu_file_set_clock(f, fake_clock, &fake_now);
    assert_false(qemu_file_rate_limit(f));      /* unlimited by default */
    assert_int_equal(qemu_file_get_rate_limit(f), 0);

    /* 1 MB/s: 100000 bytes per 100 ms window. */
    qemu_file_set_rate_limit(f, 1000000);
    assert_int_equal(qemu_file_get_rate_limit(f), 1000000);
    qemu_file_reset_rate_limit(f);
    for (int i = 0; i < 24; i++) {
        qemu_put_buffer(f, page, sizeof(page));
    }
    assert_int_equal(qemu_file_rate_limit_used(f), 98304);
    assert_false(qemu_file_rate_limit(f));
    qemu_put_buffer(f, page, 1695);
    assert_false(qemu_file_rate_limit(f));     /* 99999 */
    qemu_put_byte(f, 0);
    assert_true(qemu_file_rate_limit(f));      /* 100000: spent */

    /* Still spent until the window has elapsed... */
    fake_now += MS(99);
    assert_true(qemu_file_rate_limit(f));
    /* ...then a new window starts with a fresh budget. */
    fake_now += MS(1);
    assert_false(qemu_file_rate_limit(f));
    assert_int_equal(qemu_file_rate_limit_used(f), 0);

    /* Bytes sent elsewhere count too. */
    qemu_file_acct_rate_limit(f, 100000);
    assert_true(qemu_file_rate_limit(f));
    qemu_file_reset_rate_limit(f);
    assert_false(qemu_file_rate_limit(f));

    /* A limit below ten bytes per second still limits. */
    qemu_file_set_rate_limit(f, 5);
    qemu_put_byte(f, 0);
    assert_true(qemu_file_rate_limit(f));

    /* Back to unlimited. */
    qemu_file_set_rate_limit(f, 0);
    qemu_file_acct_rate_limit(f, 1 << 30);
    assert_false(qemu_file_rate_limit(f));
    assert_int_equal(qemu_fclose(f), 0);
}

static void test_rate_limit_real_clock(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);

    qemu_file_set_clock(f, fake_clock, &fake_now);
    qemu_file_set_clock(f, NULL, NULL);         /* back to the default */
    qemu_file_set_rate_limit(f, 10000000000LL);
    qemu_put_byte(f, 1);
    assert_false(qemu_file_rate_limit(f));
    assert_int_equal(qemu_fclose(f), 0);
}

static void socket_pair(QIOChannel **a, QIOChannel **b)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *a = qio_channel_socket_new_fd(sv[0], &error_abort);
    *b = qio_channel_socket_new_fd(sv[1], &error_abort);
}

/*
 * Pages put by reference on a buffer channel, each after a copied
 * header, more of them than one writev takes: the stream is the same as
 * if every byte had been copied, and what a page holds at the flush is
 * what is written.
 */
static void test_put_async(void **state)
{
    enum { PAGES = 3 * QEMU_FILE_IOV_MAX + 5, PAGE = 4096 };
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    g_autofree uint8_t *ram = g_malloc(PAGES * PAGE);
    uint8_t tail[PAGE];
    const uint8_t *data;
    size_t len;

    for (size_t i = 0; i < PAGES * PAGE; i++) {
        ram[i] = i * 13 + (i >> 12);
    }
    memset(tail, 0x5c, sizeof(tail));
    for (unsigned i = 0; i < PAGES; i++) {
        qemu_put_be64(f, i);
        qemu_put_buffer_async(f, ram + (size_t)i * PAGE, PAGE);
    }
    /* Two adjacent pieces and an empty one. */
    qemu_put_buffer_async(f, tail, PAGE / 2);
    qemu_put_buffer_async(f, tail + PAGE / 2, PAGE / 2);
    qemu_put_buffer_async(f, tail, 0);
    assert_int_equal(qemu_file_transferred(f), PAGES * (8 + PAGE) + PAGE);
    tail[0] = 0xc5;
    qemu_fflush(f);
    assert_int_equal(qemu_file_get_error(f), 0);
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, PAGES * (8 + PAGE) + PAGE);
    for (unsigned i = 0; i < PAGES; i++) {
        const uint8_t *rec = data + (size_t)i * (8 + PAGE);
        uint64_t be = 0;

        for (int b = 0; b < 8; b++) {
            be = (be << 8) | rec[b];
        }
        assert_int_equal(be, i);
        assert_memory_equal(rec + 8, ram + (size_t)i * PAGE, PAGE);
    }
    assert_int_equal(data[PAGES * (8 + PAGE)], 0xc5);
    assert_memory_equal(data + PAGES * (8 + PAGE) + 1, tail + 1, PAGE - 1);
    assert_int_equal(qemu_fclose(f), 0);
}

/* On any other channel an async put is a copy, taken at once. */
static void test_put_async_copies_on_sockets(void **state)
{
    QIOChannel *a, *b;
    QEMUFile *out, *in;
    uint8_t page[4096], back[4096];

    socket_pair(&a, &b);
    out = qemu_file_new_output(a);
    in = qemu_file_new_input(b);
    memset(page, 0x11, sizeof(page));
    qemu_put_buffer_async(out, page, sizeof(page));
    memset(page, 0x22, sizeof(page));
    qemu_fflush(out);
    assert_int_equal(qemu_get_buffer(in, back, sizeof(back)), sizeof(back));
    assert_int_equal(back[0], 0x11);
    assert_int_equal(back[sizeof(back) - 1], 0x11);
    assert_int_equal(qemu_fclose(out), 0);
    assert_int_equal(qemu_fclose(in), 0);
    qio_channel_unref(a);
    qio_channel_unref(b);
}

/* An async put after an error is dropped like any other. */
static void test_put_async_after_error(void **state)
{
    g_autoptr(QIOChannel) ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    uint8_t page[64] = { 1 };
    size_t len;

    qemu_file_set_error(f, -EIO);
    qemu_put_buffer_async(f, page, sizeof(page));
    qemu_fflush(f);
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);
    assert_int_equal(qemu_file_transferred(f), 0);
    assert_int_equal(qemu_fclose(f), -EIO);
}

static void test_return_path(void **state)
{
    QIOChannel *a, *b;
    QEMUFile *src, *dst, *src_rp, *dst_rp;

    socket_pair(&a, &b);
    src = qemu_file_new_output(a);
    dst = qemu_file_new_input(b);
    qio_channel_unref(a);
    qio_channel_unref(b);

    src_rp = qemu_file_get_return_path(src);
    dst_rp = qemu_file_get_return_path(dst);
    assert_non_null(src_rp);
    assert_non_null(dst_rp);
    assert_false(qemu_file_is_writable(src_rp));
    assert_true(qemu_file_is_writable(dst_rp));

    qemu_put_be32(src, 0x51455649);
    qemu_fflush(src);
    assert_int_equal(qemu_get_be32(dst), 0x51455649);

    /* The reverse direction of the same socket. */
    qemu_put_be16(dst_rp, 2);
    qemu_put_be16(dst_rp, 4);
    qemu_put_be32(dst_rp, 0xdeadbeef);
    qemu_fflush(dst_rp);
    assert_int_equal(qemu_get_be16(src_rp), 2);
    assert_int_equal(qemu_get_be16(src_rp), 4);
    assert_int_equal(qemu_get_be32(src_rp), 0xdeadbeef);

    /* Closing a return path leaves the channel open. */
    assert_int_equal(qemu_fclose(dst_rp), 0);
    qemu_put_byte(src, 7);
    qemu_fflush(src);
    assert_int_equal(qemu_get_byte(dst), 7);

    /* The source closes: the destination sees the end of the stream. */
    assert_int_equal(qemu_fclose(src), 0);
    assert_int_equal(qemu_get_byte(dst), 0);
    assert_int_equal(qemu_file_get_error(dst), -EIO);
    assert_int_equal(qemu_fclose(src_rp), 0);
    assert_int_equal(qemu_fclose(dst), -EIO);
}

static void test_no_return_path(void **state)
{
    QEMUFile *f = input_from(golden, 1);

    assert_null(qemu_file_get_return_path(f));
    assert_int_equal(qemu_fclose(f), 0);
}

static void *blocked_reader(void *opaque)
{
    QEMUFile *f = opaque;

    /* Nothing is ever sent: only the shutdown can end this read. */
    return GUINT_TO_POINTER(qemu_get_be32(f) + 1);
}

static void test_shutdown_wakes_reader(void **state)
{
    QIOChannel *a, *b;
    QEMUFile *src, *src_rp;
    Error *err = NULL;
    Thread th;

    socket_pair(&a, &b);
    src = qemu_file_new_output(a);
    src_rp = qemu_file_get_return_path(src);
    qio_channel_unref(a);

    thread_create(&th, "rp-reader", blocked_reader, src_rp,
                  THREAD_JOINABLE);
    assert_int_equal(qemu_file_shutdown(src), 0);
    assert_int_equal(GPOINTER_TO_UINT(thread_join(&th)), 1);
    assert_int_equal(qemu_file_get_error_obj(src_rp, &err), -EIO);
    assert_non_null(err);
    error_free(err);

    /* Writes after the shutdown fail too. */
    qemu_put_byte(src, 1);
    qemu_fflush(src);
    assert_int_equal(qemu_file_get_error(src), -EIO);
    assert_true(qemu_file_rate_limit(src));
    assert_int_equal(qemu_fclose(src_rp), -EIO);
    assert_int_equal(qemu_fclose(src), -EIO);
    qio_channel_unref(b);
}

/* A shut-down file reports it before any I/O notices. */
static void test_shutdown_is_error(void **state)
{
    QIOChannel *a, *b;
    QEMUFile *f;
    Error *err = NULL;

    socket_pair(&a, &b);
    f = qemu_file_new_output(a);
    qio_channel_unref(a);
    qemu_put_byte(f, 1);                    /* buffered only */
    assert_int_equal(qemu_file_get_error(f), 0);
    assert_int_equal(qemu_file_shutdown(f), 0);
    assert_int_equal(qemu_file_get_error_obj(f, &err), -EIO);
    assert_string_equal(error_get_pretty(err), "Stream was shut down");
    g_clear_pointer(&err, error_free);
    assert_true(qemu_file_rate_limit(f));
    assert_int_equal(qemu_fclose_errp(f, &err), -EIO);
    assert_non_null(err);
    error_free(err);
    qio_channel_unref(b);
}

/* The peer vanished: the flush fails cleanly (no SIGPIPE). */
static void test_write_to_closed_peer(void **state)
{
    QIOChannel *a, *b;
    QEMUFile *f;
    Error *err = NULL;

    socket_pair(&a, &b);
    qio_channel_unref(b);
    f = qemu_file_new_output(a);
    qio_channel_unref(a);
    qemu_put_buffer(f, golden, sizeof(golden));
    qemu_fflush(f);
    assert_int_equal(qemu_fclose_errp(f, &err), -EIO);
    assert_non_null(err);
    error_free(err);
}

/* End of stream in the middle of an item on a socket. */
static void test_eof_mid_item(void **state)
{
    QIOChannel *a, *b;
    QEMUFile *f;
    Error *err = NULL;

    socket_pair(&a, &b);
    assert_int_equal(qio_channel_write_all(a, "\x01\x02", 2, &error_abort),
                     0);
    qio_channel_unref(a);
    f = qemu_file_new_input(b);
    qio_channel_unref(b);
    assert_int_equal(qemu_peek_byte(f, 1), 2);
    assert_int_equal(qemu_peek_byte(f, 2), -1);
    assert_int_equal(qemu_get_be32(f), 0);
    assert_int_equal(qemu_file_get_error_obj(f, &err), -EIO);
    assert_non_null(strstr(error_get_pretty(err), "Unexpected end of stream"));
    error_free(err);
    assert_int_equal(qemu_fclose(f), -EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_golden),
        cmocka_unit_test(test_get_golden),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_counted_string_limits),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_wrong_direction),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_put_async),
        cmocka_unit_test(test_put_async_copies_on_sockets),
        cmocka_unit_test(test_put_async_after_error),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_rate_limit_real_clock),
        cmocka_unit_test(test_return_path),
        cmocka_unit_test(test_no_return_path),
        cmocka_unit_test(test_shutdown_wakes_reader),
        cmocka_unit_test(test_shutdown_is_error),
        cmocka_unit_test(test_write_to_closed_peer),
        cmocka_unit_test(test_eof_mid_item),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
