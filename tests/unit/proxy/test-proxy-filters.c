/*
 * Tests for filter-mirror and filter-redirector on ringbuf chardevs,
 * with a fake frontend standing in for the guest's UART and COLO
 * simulated by colo_notify_event().
 *
 *   primary:   ser  --filter-mirror queue=tx-->  mir  (records)
 *   secondary: red0 --filter-redirector queue=tx--> ser2's frontend
 *              ser2's frontend --filter-redirector queue=rx--> red1
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

#include "chardev/char.h"
#include "migration/colo.h"
#include "proxy/colo-proxy.h"
#include "proxy/frame.h"
#include "util/bql.h"
#include "util/main-loop.h"

/* A frontend with a bounded input buffer, like a UART FIFO. */
typedef struct Frontend {
    GByteArray *held;       /* received, not yet consumed by the test */
    unsigned capacity;
} Frontend;

typedef struct Fixture {
    Chardev *ser, *mir;                 /* primary */
    Chardev *ser2, *red0, *red1;        /* secondary */
    Frontend fe, fe2;
} Fixture;

static int fe_can_read(void *opaque)
{
    Frontend *fe = opaque;

    return fe->capacity - fe->held->len;
}

static void fe_read(void *opaque, const uint8_t *buf, int size)
{
    Frontend *fe = opaque;

    assert_true(size > 0 && fe->held->len + size <= fe->capacity);
    g_byte_array_append(fe->held, buf, size);
}

static void fe_attach(Frontend *fe, Chardev *c)
{
    fe->held = g_byte_array_new();
    fe->capacity = 4096;
    chardev_set_handlers(c, fe_can_read, fe_read, NULL, fe);
}

/* The frontend received exactly @expect since the last call. */
static void fe_assert(Frontend *fe, const char *expect)
{
    if (fe->held->len != strlen(expect) ||
        (fe->held->len && memcmp(fe->held->data, expect, fe->held->len))) {
        fail_msg("frontend got \"%.*s\", expected \"%s\"", fe->held->len,
                 (char *)fe->held->data, expect);
    }
    g_byte_array_set_size(fe->held, 0);
}

static int setup(void **state)
{
    static const char *const ids[] = { "ser", "mir", "ser2", "red0",
                                       "red1" };
    Fixture *f = g_new0(Fixture, 1);
    Chardev **chr[] = { &f->ser, &f->mir, &f->ser2, &f->red0, &f->red1 };

    main_loop_init();
    bql_lock();
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *opts =
            g_strdup_printf("ringbuf,id=%s,size=65536", ids[i]);

        *chr[i] = chardev_new_from_opts(opts, &error_abort);
    }
    fe_attach(&f->fe, f->ser);
    fe_attach(&f->fe2, f->ser2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    colo_proxy_cleanup();
    chardev_cleanup_all();
    bql_unlock();
    g_byte_array_unref(f->fe.held);
    g_byte_array_unref(f->fe2.held);
    g_free(f);
    return 0;
}

static void add(const char *optarg)
{
    assert_true(colo_proxy_object_add(optarg, &error_abort));
}

static void input(Chardev *c, const char *s)
{
    assert_int_equal(chardev_ringbuf_input(c, (const uint8_t *)s,
                                           strlen(s)),
                     strlen(s));
}

static void output(Chardev *c, const char *s)
{
    assert_int_equal(chardev_write(c, (const uint8_t *)s, strlen(s)),
                     strlen(s));
}

/* What a ringbuf's backend received since the last call is @expect. */
static void assert_ring(Chardev *c, const char *expect)
{
    uint8_t buf[65536];
    int n = chardev_ringbuf_read(c, buf, sizeof(buf));

    if ((size_t)n != strlen(expect) || memcmp(buf, expect, n)) {
        fail_msg("%s got \"%.*s\", expected \"%s\"", chardev_id(c), n,
                 (char *)buf, expect);
    }
}

/* Records in a ringbuf, collected with the proxy's own reader. */
typedef struct Records {
    GString *text;          /* "epoch:pos:payload;" per record */
} Records;

static void collect(void *opaque, uint32_t epoch, uint64_t pos,
                    const uint8_t *buf, uint32_t len)
{
    Records *r = opaque;

    g_string_append_printf(r->text, "%u:%" G_GUINT64_FORMAT ":%.*s;",
                           epoch, pos, (int)len, (const char *)buf);
}

/* The records @c's backend received since the last call are @expect. */
static void assert_records(Chardev *c, const char *expect)
{
    uint8_t buf[65536];
    int n = chardev_ringbuf_read(c, buf, sizeof(buf));
    ProxyFrameReader reader = { 0 };
    Records r = { .text = g_string_new("") };

    assert_true(proxy_frame_reader_feed(&reader, buf, n, collect, &r));
    /* No partial record left over. */
    assert_int_equal(reader.header_got, 0);
    assert_string_equal(r.text->str, expect);
    g_string_free(r.text, true);
}

static void send_record(Chardev *c, uint32_t epoch, uint64_t pos,
                        const char *s)
{
    uint8_t rec[PROXY_FRAME_HEADER + PROXY_FRAME_MAX];
    size_t n = proxy_frame_encode(rec, epoch, pos, (const uint8_t *)s,
                                  strlen(s));

    assert_int_equal(chardev_ringbuf_input(c, rec, n), n);
}

static void set_in_pos(Chardev *c, uint64_t in_pos)
{
    ChardevStreamState st;

    chardev_get_stream_state(c, &st);
    st.in_pos = in_pos;
    chardev_set_stream_state(c, &st);
}

/* ---- filter-mirror ---- */

static void test_mirror_input(void **state)
{
    Fixture *f = *state;
    ChardevStreamState st = { .in_pos = 0, .out_pos = 0, .epoch = 7 };

    add("filter-mirror,id=m0,chardev=ser,queue=tx,outdev=mir");
    input(f->ser, "hello");
    fe_assert(&f->fe, "hello");
    assert_records(f->mir, "0:0:hello;");

    /* As the frontend takes it, in pieces, with the current epoch. */
    chardev_set_stream_state(f->ser, &(ChardevStreamState) {
        .in_pos = 5, .epoch = 7 });
    f->fe.capacity = 3;
    input(f->ser, "abcdefg");
    fe_assert(&f->fe, "abc");
    assert_records(f->mir, "7:5:abc;");
    chardev_accept_input(f->ser);
    fe_assert(&f->fe, "def");
    chardev_accept_input(f->ser);
    fe_assert(&f->fe, "g");
    assert_records(f->mir, "7:8:def;7:11:g;");

    /* queue=tx: the guest's output goes its way, unmirrored. */
    output(f->ser, "out");
    assert_ring(f->ser, "out");
    assert_records(f->mir, "");
    chardev_get_stream_state(f->ser, &st);
    assert_int_equal(st.in_pos, 12);
    assert_int_equal(st.out_pos, 3);
}

static void test_mirror_output_and_status(void **state)
{
    Fixture *f = *state;
    g_autofree uint8_t *big = g_malloc(PROXY_FRAME_MAX + 10);
    g_autofree char *expect = NULL;

    add("filter-mirror,id=m0,chardev=ser,queue=rx,outdev=mir");
    add("filter-mirror,id=m1,chardev=ser2,outdev=mir,status=off");
    output(f->ser, "guest says");
    assert_ring(f->ser, "guest says");
    assert_records(f->mir, "0:0:guest says;");
    input(f->ser, "in");
    fe_assert(&f->fe, "in");
    assert_records(f->mir, "");

    /* status=off mirrors nothing. */
    output(f->ser2, "x");
    input(f->ser2, "y");
    fe_assert(&f->fe2, "y");
    assert_ring(f->ser2, "x");
    assert_records(f->mir, "");

    /* A long write is cut into records of at most PROXY_FRAME_MAX. */
    memset(big, 'b', PROXY_FRAME_MAX + 10);
    assert_int_equal(chardev_write(f->ser, big, PROXY_FRAME_MAX + 10),
                     PROXY_FRAME_MAX + 10);
    expect = g_strdup_printf("0:10:%.*s;0:%d:bbbbbbbbbb;", PROXY_FRAME_MAX,
                             (char *)big, 10 + PROXY_FRAME_MAX);
    assert_records(f->mir, expect);
}

/* ---- filter-redirector queue=tx ---- */

static void add_redirectors(void)
{
    add("filter-redirector,id=r0,chardev=ser2,queue=tx,indev=red0");
    add("filter-redirector,id=r1,chardev=ser2,queue=rx,outdev=red1");
}

static void test_redirector_waits_for_start(void **state)
{
    Fixture *f = *state;

    add_redirectors();
    send_record(f->red0, 0, 0, "abc");
    send_record(f->red0, 0, 3, "def");
    fe_assert(&f->fe2, "");
    /* The primary's start is not ours. */
    colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_START);
    fe_assert(&f->fe2, "");
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    fe_assert(&f->fe2, "abcdef");
    send_record(f->red0, 0, 6, "g");
    fe_assert(&f->fe2, "g");
}

static void test_redirector_positions(void **state)
{
    Fixture *f = *state;
    ChardevStreamState st;

    add_redirectors();
    /* The loaded state says the guest took 10 bytes already. */
    set_in_pos(f->ser2, 10);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    send_record(f->red0, 0, 5, "0123456789");
    fe_assert(&f->fe2, "56789");
    /* Already here, or partly: only the new bytes, once. */
    send_record(f->red0, 0, 12, "789");
    send_record(f->red0, 0, 13, "89ab");
    fe_assert(&f->fe2, "ab");

    /* As much as the frontend has room for; the rest when it has more. */
    f->fe2.capacity = 2;
    send_record(f->red0, 0, 17, "cdefg");
    fe_assert(&f->fe2, "cd");
    chardev_accept_input(f->ser2);
    fe_assert(&f->fe2, "ef");
    f->fe2.capacity = 4096;
    chardev_accept_input(f->ser2);
    fe_assert(&f->fe2, "g");
    chardev_get_stream_state(f->ser2, &st);
    assert_int_equal(st.in_pos, 22);

    /*
     * A checkpoint where the primary's guest had taken fewer bytes: from
     * the loaded in_pos on, the kept bytes are given again.
     */
    set_in_pos(f->ser2, 14);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_COMMITTED);
    fe_assert(&f->fe2, "9abcdefg");
    /* Bytes before the last loaded position are gone for good. */
    set_in_pos(f->ser2, 12);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_COMMITTED);
    fe_assert(&f->fe2, "");
    set_in_pos(f->ser2, 18);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_COMMITTED);
    fe_assert(&f->fe2, "defg");
    send_record(f->red0, 0, 22, "h");
    fe_assert(&f->fe2, "h");
}

static void test_redirector_gap(void **state)
{
    Fixture *f = *state;

    add_redirectors();
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    send_record(f->red0, 0, 0, "ab");
    fe_assert(&f->fe2, "ab");
    /* Bytes 2..9 never come: the guest must not skip them on its own. */
    send_record(f->red0, 0, 10, "klm");
    fe_assert(&f->fe2, "");
    send_record(f->red0, 0, 2, "cd");
    fe_assert(&f->fe2, "");
    /* Only a checkpoint that took the guest past them moves on. */
    set_in_pos(f->ser2, 11);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_COMMITTED);
    fe_assert(&f->fe2, "lm");
}

static void test_redirector_backpressure(void **state)
{
    Fixture *f = *state;
    const size_t kept_max = 1024 * 1024;
    g_autofree char *chunk = g_malloc(PROXY_FRAME_MAX + 1);
    uint64_t pos = 0;
    ChardevStreamState st;

    add_redirectors();
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    f->fe2.capacity = 2 * kept_max;
    memset(chunk, 'k', PROXY_FRAME_MAX);
    chunk[PROXY_FRAME_MAX] = '\0';
    for (; pos < kept_max; pos += PROXY_FRAME_MAX) {
        send_record(f->red0, 0, pos, chunk);
    }
    assert_int_equal(f->fe2.held->len, kept_max);
    g_byte_array_set_size(f->fe2.held, 0);

    /*
     * Everything the guest took is kept (a checkpoint may rewind to
     * it), so the limit is reached: further records wait in red0.
     */
    send_record(f->red0, 0, pos, "next");
    fe_assert(&f->fe2, "");
    /* A checkpoint past the kept bytes frees them, and reading resumes. */
    set_in_pos(f->ser2, kept_max);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_COMMITTED);
    fe_assert(&f->fe2, "next");
    chardev_get_stream_state(f->ser2, &st);
    assert_int_equal(st.in_pos, kept_max + 4);
}

static void test_redirector_own_input(void **state)
{
    Fixture *f = *state;

    add_redirectors();
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    /* ser2's own client is not heard while the redirector is on. */
    input(f->ser2, "local");
    fe_assert(&f->fe2, "");
    send_record(f->red0, 0, 0, "mirrored");
    fe_assert(&f->fe2, "mirrored");

    /* Once alone it is, and the mirror's records no longer are. */
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_ALONE);
    fe_assert(&f->fe2, "local");
    send_record(f->red0, 0, 8, "late");
    input(f->ser2, "!");
    fe_assert(&f->fe2, "!");
}

static void test_redirector_output(void **state)
{
    Fixture *f = *state;

    add_redirectors();
    chardev_set_stream_state(f->ser2, &(ChardevStreamState) {
        .in_pos = 1, .out_pos = 100, .epoch = 3 });
    output(f->ser2, "reply");
    assert_records(f->red1, "3:100:reply;");
    assert_ring(f->ser2, "");
    chardev_next_epoch(f->ser2);
    output(f->ser2, "!");
    assert_records(f->red1, "4:105:!;");
    assert_ring(f->ser2, "");

    colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_ALONE);
    output(f->ser2, "still");
    assert_records(f->red1, "4:106:still;");
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_ALONE);
    output(f->ser2, "direct");
    assert_ring(f->ser2, "direct");
    assert_records(f->red1, "");
}

static void test_redirector_status_off(void **state)
{
    Fixture *f = *state;

    add("filter-redirector,id=r0,chardev=ser2,queue=tx,indev=red0,"
        "status=off");
    add("filter-redirector,id=r1,chardev=ser2,queue=rx,outdev=red1,"
        "status=off");
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    send_record(f->red0, 0, 0, "abc");
    input(f->ser2, "own");
    fe_assert(&f->fe2, "own");
    output(f->ser2, "out");
    assert_ring(f->ser2, "out");
    assert_records(f->red1, "");
}

static void test_redirector_bad_record(void **state)
{
    Fixture *f = *state;
    static const uint8_t bad[PROXY_FRAME_HEADER] = { 0xff, 0xff };

    add_redirectors();
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    send_record(f->red0, 0, 0, "ok");
    assert_int_equal(chardev_ringbuf_input(f->red0, bad, sizeof(bad)),
                     sizeof(bad));
    send_record(f->red0, 0, 2, "lost");
    fe_assert(&f->fe2, "ok");
    /* The guest's own client takes over as usual. */
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_ALONE);
    input(f->ser2, "x");
    fe_assert(&f->fe2, "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mirror_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mirror_output_and_status,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirector_waits_for_start,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirector_positions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirector_gap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirector_backpressure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirector_own_input, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirector_output, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirector_status_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redirector_bad_record, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
