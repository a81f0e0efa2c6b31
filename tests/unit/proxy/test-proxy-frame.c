/*
 * Tests for the COLO proxy's records (include/proxy/frame.h): the bytes
 * of the header, and a reader that must give back exactly the records
 * sent however the stream is cut, and stop at a length out of bounds.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "proxy/frame.h"

/* One record as the reader handed it over. */
typedef struct Record {
    uint32_t epoch;
    uint64_t pos;
    GByteArray *payload;
} Record;

static void record_clear(gpointer p)
{
    g_byte_array_unref(((Record *)p)->payload);
}

static GArray *records_new(void)
{
    GArray *recs = g_array_new(false, true, sizeof(Record));

    g_array_set_clear_func(recs, record_clear);
    return recs;
}

static void collect(void *opaque, uint32_t epoch, uint64_t pos,
                    const uint8_t *buf, uint32_t len)
{
    GArray *recs = opaque;
    Record r = { .epoch = epoch, .pos = pos,
                 .payload = g_byte_array_new() };

    g_byte_array_append(r.payload, buf, len);
    g_array_append_val(recs, r);
}

static void assert_record(GArray *recs, guint i, uint32_t epoch,
                          uint64_t pos, const uint8_t *buf, uint32_t len)
{
    Record *r;

    assert_true(i < recs->len);
    r = &g_array_index(recs, Record, i);
    assert_int_equal(r->epoch, epoch);
    assert_int_equal(r->pos, pos);
    assert_int_equal(r->payload->len, len);
    assert_memory_equal(r->payload->data, buf, len);
}

static void put_header(uint8_t *p, uint32_t len, uint32_t epoch,
                       uint64_t pos)
{
    for (int i = 0; i < 4; i++) {
        p[i] = len >> (24 - 8 * i);
        p[4 + i] = epoch >> (24 - 8 * i);
    }
    for (int i = 0; i < 8; i++) {
        p[8 + i] = pos >> (56 - 8 * i);
    }
}

static void test_encode_golden(void **state)
{
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x03,                         /* length */
        0x01, 0x02, 0x03, 0x04,                         /* epoch */
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* position */
        'a', 'b', 'c',
    };
    uint8_t out[PROXY_FRAME_HEADER + PROXY_FRAME_MAX];
    uint8_t big[PROXY_FRAME_MAX];

    assert_int_equal(proxy_frame_encode(out, 0x01020304,
                                        0x1122334455667788ULL,
                                        (const uint8_t *)"abc", 3),
                     sizeof(expect));
    assert_memory_equal(out, expect, sizeof(expect));

    /* The largest record, with the top bits of every field set. */
    memset(big, 0xa5, sizeof(big));
    assert_int_equal(proxy_frame_encode(out, 0xfffffffe,
                                        0x8000000000000001ULL, big,
                                        PROXY_FRAME_MAX),
                     PROXY_FRAME_HEADER + PROXY_FRAME_MAX);
    assert_memory_equal(out, ((const uint8_t[]) {
        0x00, 0x00, 0x10, 0x00, 0xff, 0xff, 0xff, 0xfe,
        0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 }),
        PROXY_FRAME_HEADER);
    assert_memory_equal(out + PROXY_FRAME_HEADER, big, PROXY_FRAME_MAX);
}

/* The records of the stream the split tests cut up. */
static const struct {
    uint32_t epoch;
    uint64_t pos;
    const char *data;
} stream_recs[] = {
    { 0, 0, "a" },
    { 0, 1, "hello, world" },
    { 7, 0x100000000ULL, "xy" },
    { 0xffffffff, 13, "0123456789abcdefghijklmnopqrstuvwxyz" },
};

static GByteArray *build_stream(void)
{
    GByteArray *s = g_byte_array_new();
    uint8_t rec[PROXY_FRAME_HEADER + PROXY_FRAME_MAX];

    for (size_t i = 0; i < G_N_ELEMENTS(stream_recs); i++) {
        size_t n = proxy_frame_encode(rec, stream_recs[i].epoch,
                                      stream_recs[i].pos,
                                      (const uint8_t *)stream_recs[i].data,
                                      strlen(stream_recs[i].data));

        g_byte_array_append(s, rec, n);
    }
    return s;
}

static void assert_stream_records(GArray *recs)
{
    assert_int_equal(recs->len, G_N_ELEMENTS(stream_recs));
    for (size_t i = 0; i < G_N_ELEMENTS(stream_recs); i++) {
        assert_record(recs, i, stream_recs[i].epoch, stream_recs[i].pos,
                      (const uint8_t *)stream_recs[i].data,
                      strlen(stream_recs[i].data));
    }
}

static void test_reader_split_anywhere(void **state)
{
    g_autoptr(GByteArray) s = build_stream();

    /* Two pieces, cut at every offset (the empty pieces included). */
    for (guint cut = 0; cut <= s->len; cut++) {
        g_autoptr(GArray) recs = records_new();
        ProxyFrameReader r = { 0 };

        assert_true(proxy_frame_reader_feed(&r, s->data, cut, collect,
                                            recs));
        assert_true(proxy_frame_reader_feed(&r, s->data + cut,
                                            s->len - cut, collect, recs));
        assert_stream_records(recs);
        assert_int_equal(r.records, G_N_ELEMENTS(stream_recs));
    }

    /* One byte at a time. */
    {
        g_autoptr(GArray) recs = records_new();
        ProxyFrameReader r = { 0 };

        for (guint i = 0; i < s->len; i++) {
            assert_true(proxy_frame_reader_feed(&r, s->data + i, 1, collect,
                                                recs));
        }
        assert_stream_records(recs);
    }
}

static void test_reader_max_length(void **state)
{
    g_autoptr(GArray) recs = records_new();
    g_autofree uint8_t *rec = g_malloc(PROXY_FRAME_HEADER + PROXY_FRAME_MAX);
    g_autofree uint8_t *payload = g_malloc(PROXY_FRAME_MAX);
    ProxyFrameReader r = { 0 };
    size_t n;

    for (int i = 0; i < PROXY_FRAME_MAX; i++) {
        payload[i] = i * 7;
    }
    n = proxy_frame_encode(rec, 2, 99, payload, PROXY_FRAME_MAX);
    assert_true(proxy_frame_reader_feed(&r, rec, n, collect, recs));
    assert_int_equal(recs->len, 1);
    assert_record(recs, 0, 2, 99, payload, PROXY_FRAME_MAX);
}

/* A header with @len, then a good record: nothing may come out. */
static void check_bad_length(uint32_t len)
{
    g_autoptr(GArray) recs = records_new();
    uint8_t bad[PROXY_FRAME_HEADER + 8];
    uint8_t good[PROXY_FRAME_HEADER + 2];
    ProxyFrameReader r = { 0 };
    size_t good_len;

    put_header(bad, len, 1, 5);
    memcpy(bad + PROXY_FRAME_HEADER, "payload!", 8);
    good_len = proxy_frame_encode(good, 1, 5, (const uint8_t *)"ok", 2);

    /* Up to the last header byte the reader cannot know. */
    assert_true(proxy_frame_reader_feed(&r, bad, PROXY_FRAME_HEADER - 1,
                                        collect, recs));
    assert_false(proxy_frame_reader_feed(&r, bad + PROXY_FRAME_HEADER - 1,
                                         sizeof(bad) - PROXY_FRAME_HEADER + 1,
                                         collect, recs));
    assert_true(r.broken);
    /* Broken for good: a well-formed record after it is not taken. */
    assert_false(proxy_frame_reader_feed(&r, good, good_len, collect,
                                         recs));
    assert_false(proxy_frame_reader_feed(&r, good, good_len, collect,
                                         recs));
    assert_int_equal(recs->len, 0);
    assert_int_equal(r.records, 0);

    /* A reset (a new connection) starts clean. */
    proxy_frame_reader_reset(&r);
    assert_true(proxy_frame_reader_feed(&r, good, good_len, collect, recs));
    assert_int_equal(recs->len, 1);
    assert_record(recs, 0, 1, 5, (const uint8_t *)"ok", 2);
}

static void test_reader_length_zero(void **state)
{
    check_bad_length(0);
}

static void test_reader_length_too_big(void **state)
{
    check_bad_length(PROXY_FRAME_MAX + 1);
    check_bad_length(UINT32_MAX);
}

static void test_reader_good_then_bad(void **state)
{
    g_autoptr(GArray) recs = records_new();
    uint8_t buf[2 * PROXY_FRAME_HEADER + 3];
    ProxyFrameReader r = { 0 };
    size_t n;

    /* The records before the bad one in the same buffer still count. */
    n = proxy_frame_encode(buf, 0, 0, (const uint8_t *)"abc", 3);
    put_header(buf + n, 0, 0, 3);
    assert_false(proxy_frame_reader_feed(&r, buf, sizeof(buf), collect,
                                         recs));
    assert_int_equal(recs->len, 1);
    assert_record(recs, 0, 0, 0, (const uint8_t *)"abc", 3);
}

static void test_reader_truncated(void **state)
{
    g_autoptr(GByteArray) s = build_stream();
    uint8_t rec[PROXY_FRAME_HEADER + 4];
    size_t n = proxy_frame_encode(rec, 3, 40, (const uint8_t *)"wxyz", 4);

    /* Every cut short of the end: no callback, and nothing is wrong. */
    for (size_t cut = 0; cut < n; cut++) {
        g_autoptr(GArray) recs = records_new();
        ProxyFrameReader r = { 0 };

        assert_true(proxy_frame_reader_feed(&r, rec, cut, collect, recs));
        assert_int_equal(recs->len, 0);
        assert_false(r.broken);
    }

    /*
     * A reset drops the partial record: the stream that follows is read
     * from its first byte as a record boundary.
     */
    {
        g_autoptr(GArray) recs = records_new();
        ProxyFrameReader r = { 0 };

        assert_true(proxy_frame_reader_feed(&r, rec, n - 1, collect, recs));
        proxy_frame_reader_reset(&r);
        assert_true(proxy_frame_reader_feed(&r, s->data, s->len, collect,
                                            recs));
        assert_stream_records(recs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_golden),
        cmocka_unit_test(test_reader_split_anywhere),
        cmocka_unit_test(test_reader_max_length),
        cmocka_unit_test(test_reader_length_zero),
        cmocka_unit_test(test_reader_length_too_big),
        cmocka_unit_test(test_reader_good_then_bad),
        cmocka_unit_test(test_reader_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
