/*
 * Tests for colo-compare on ringbuf chardevs, with COLO simulated by
 * colo_notify_event(): "ser" is the primary guest's serial port and its
 * client at once (chardev_write() plays the guest's UART, what the
 * comparer releases lands in ser's ring), "sec" carries the secondary's
 * records in (chardev_ringbuf_input()).
 *
 * colo_checkpoint_request() does nothing outside COLO, so a request
 * shows only as the cause a later committed checkpoint is counted under
 * in x-query-colo-compare.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "chardev/char.h"
#include "migration/colo.h"
#include "proxy/colo-proxy.h"
#include "proxy/frame.h"
#include "qapi/qapi-commands.h"
#include "util/bql.h"
#include "util/main-loop.h"
#include "util/sockets.h"

/* Generous: only a broken wakeup should ever get near it. */
#define WAIT_DEADLINE_MS 10000

typedef struct Fixture {
    Chardev *ser;
    Chardev *sec;
    ColoCompareInfoList *info;
    char *tmpdir;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    main_loop_init();
    bql_lock();
    f->ser = chardev_new_from_opts("ringbuf,id=ser,size=65536",
                                   &error_abort);
    f->sec = chardev_new_from_opts("ringbuf,id=sec,size=65536",
                                   &error_abort);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    colo_proxy_cleanup();
    chardev_cleanup_all();
    bql_unlock();
    qapi_free_ColoCompareInfoList(f->info);
    if (f->tmpdir) {
        rmdir(f->tmpdir);
        g_free(f->tmpdir);
    }
    g_free(f);
    return 0;
}

static void add_compare(const char *extra)
{
    g_autofree char *opts =
        g_strdup_printf("colo-compare,id=c0,primary_in=ser,"
                        "secondary_in=sec,outdev=ser%s", extra);

    assert_true(colo_proxy_object_add(opts, &error_abort));
}

static void event(ColoEvent ev)
{
    colo_notify_event(COLO_MODE_PRIMARY, ev);
}

/* A checkpoint the comparer did not ask for, as the timer takes one. */
static void checkpoint(void)
{
    event(COLO_EVENT_CHECKPOINT);
    event(COLO_EVENT_COMMITTED);
}

/* The primary guest writes @s to its serial port. */
static void guest_write(Fixture *f, const char *s)
{
    assert_int_equal(chardev_write(f->ser, (const uint8_t *)s, strlen(s)),
                     strlen(s));
}

/* The secondary's redirector sends @s at @pos in @epoch. */
static void sec_send(Fixture *f, uint32_t epoch, uint64_t pos,
                     const char *s)
{
    uint8_t rec[PROXY_FRAME_HEADER + PROXY_FRAME_MAX];
    size_t n = proxy_frame_encode(rec, epoch, pos, (const uint8_t *)s,
                                  strlen(s));

    assert_int_equal(chardev_ringbuf_input(f->sec, rec, n), n);
}

/* What reached the client since the last call is exactly @expect. */
static void assert_released(Fixture *f, const char *expect)
{
    uint8_t buf[65536];
    int n = chardev_ringbuf_read(f->ser, buf, sizeof(buf));

    assert_true(n >= 0);
    if ((size_t)n != strlen(expect) || memcmp(buf, expect, n)) {
        fail_msg("released \"%.*s\", expected \"%s\"", n, (char *)buf,
                 expect);
    }
}

/* x-query-colo-compare's only entry, valid until the next call. */
static ColoCompareInfo *stats(Fixture *f)
{
    qapi_free_ColoCompareInfoList(f->info);
    f->info = qmp_x_query_colo_compare(&error_abort);
    assert_non_null(f->info);
    assert_null(f->info->next);
    assert_string_equal(f->info->value->id, "c0");
    return f->info->value;
}

static ChardevStreamState stream(Fixture *f)
{
    ChardevStreamState st;

    chardev_get_stream_state(f->ser, &st);
    return st;
}

static void test_passthrough_before_start(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    info = stats(f);
    assert_false(info->active);
    assert_int_equal(info->mode, COLO_COMPARE_MODE_COMPARE);

    guest_write(f, "boot\n");
    assert_released(f, "boot\n");
    /* Records mean nothing yet, nor do the secondary's own events. */
    sec_send(f, 0, 5, "zzz");
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    guest_write(f, "ok");
    assert_released(f, "ok");
    /* Nor a checkpoint taken outside COLO. */
    checkpoint();
    guest_write(f, "!");
    assert_released(f, "!");

    info = stats(f);
    assert_false(info->active);
    assert_int_equal(info->released_alone, 8);
    assert_int_equal(info->released_match, 0);
    assert_int_equal(info->released_checkpoint, 0);
    assert_int_equal(info->checkpoints_timer, 0);
    assert_int_equal(info->held, 0);
    assert_false(info->has_last_divergence_offset);
    assert_int_equal(stream(f).out_pos, 8);
    assert_int_equal(stream(f).epoch, 0);
}

static void test_match_releases(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    guest_write(f, "boot\n");
    assert_released(f, "boot\n");
    event(COLO_EVENT_START);
    assert_true(stats(f)->active);

    /* The primary first: held until the secondary says the same. */
    guest_write(f, "hello");
    assert_released(f, "");
    assert_int_equal(stats(f)->held, 5);
    sec_send(f, 0, 5, "hello");
    assert_released(f, "hello");
    assert_int_equal(stats(f)->held, 0);

    /* The secondary first: released as the primary catches up. */
    sec_send(f, 0, 10, "world");
    assert_released(f, "");
    guest_write(f, "wor");
    assert_released(f, "wor");
    guest_write(f, "ld");
    assert_released(f, "ld");

    /* Only a prefix matched so far: the rest waits for its record. */
    guest_write(f, "abcdef");
    sec_send(f, 0, 15, "abc");
    assert_released(f, "abc");
    assert_int_equal(stats(f)->held, 3);
    sec_send(f, 0, 18, "d");
    assert_released(f, "d");
    sec_send(f, 0, 19, "ef");
    assert_released(f, "ef");

    /* Overlapping records: the part already there is not taken twice. */
    sec_send(f, 0, 21, "xy");
    sec_send(f, 0, 21, "xyz");
    sec_send(f, 0, 15, "abcdef");      /* all of it compared already */
    guest_write(f, "xyz");
    assert_released(f, "xyz");
    guest_write(f, "q");
    assert_released(f, "");
    sec_send(f, 0, 24, "q");
    assert_released(f, "q");

    info = stats(f);
    assert_true(info->active);
    assert_int_equal(info->released_alone, 5);
    assert_int_equal(info->released_match, 20);
    assert_int_equal(info->released_checkpoint, 0);
    assert_int_equal(info->held, 0);
    assert_false(info->has_last_divergence_offset);
    assert_int_equal(info->checkpoints_divergence, 0);
}

static void test_divergence(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "hello world");
    sec_send(f, 0, 0, "hello there");
    /* Nothing past the last equal byte. */
    assert_released(f, "hello ");
    info = stats(f);
    assert_true(info->has_last_divergence_offset);
    assert_int_equal(info->last_divergence_offset, 6);
    assert_int_equal(info->held, 5);

    /* Held from now on, matching or not. */
    guest_write(f, "!!");
    sec_send(f, 0, 11, "!!");
    assert_released(f, "");
    assert_int_equal(stats(f)->held, 7);

    /* The checkpoint covers everything up to the cut. */
    event(COLO_EVENT_CHECKPOINT);
    assert_int_equal(stream(f).epoch, 1);
    assert_int_equal(stream(f).out_pos, 13);
    assert_released(f, "");
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "world!!");
    info = stats(f);
    assert_int_equal(info->checkpoints_divergence, 1);
    assert_int_equal(info->checkpoints_timeout, 0);
    assert_int_equal(info->checkpoints_timer, 0);
    assert_int_equal(info->released_checkpoint, 7);
    assert_int_equal(info->released_match, 6);
    assert_int_equal(info->held, 0);

    /* Compared again, in the new epoch only. */
    guest_write(f, "next");
    sec_send(f, 0, 13, "next");
    assert_released(f, "");
    sec_send(f, 1, 13, "next");
    assert_released(f, "next");

    /* A second difference, the first byte already wrong. */
    guest_write(f, "A");
    sec_send(f, 1, 17, "B");
    assert_released(f, "");
    assert_int_equal(stats(f)->last_divergence_offset, 17);
    checkpoint();
    assert_released(f, "A");
    assert_int_equal(stream(f).epoch, 2);
    info = stats(f);
    assert_int_equal(info->checkpoints_divergence, 2);
    assert_int_equal(info->released_match, 10);
    assert_int_equal(info->released_checkpoint, 8);
}

static void test_secondary_output_lost(void **state)
{
    Fixture *f = *state;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "abcdef");
    sec_send(f, 0, 0, "ab");
    assert_released(f, "ab");
    /* "cd" never arrives: what follows cannot be matched. */
    sec_send(f, 0, 4, "ef");
    assert_released(f, "");
    assert_int_equal(stats(f)->last_divergence_offset, 2);
    checkpoint();
    assert_released(f, "cdef");
    assert_int_equal(stats(f)->checkpoints_divergence, 1);

    /* A gap after bytes still waiting for the primary's. */
    guest_write(f, "g");
    sec_send(f, 1, 6, "ghi");
    assert_released(f, "g");
    sec_send(f, 1, 10, "kl");
    assert_int_equal(stats(f)->last_divergence_offset, 9);
    guest_write(f, "hijkl");
    assert_released(f, "");
    checkpoint();
    assert_released(f, "hijkl");
    assert_int_equal(stats(f)->checkpoints_divergence, 2);
}

static void test_future_epoch_record(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "abc");
    sec_send(f, 0, 0, "ab");
    assert_released(f, "ab");
    event(COLO_EVENT_CHECKPOINT);
    /*
     * The secondary applied the checkpoint and runs on before the
     * primary heard so: its record of the new epoch must wait.
     */
    sec_send(f, 1, 3, "def");
    assert_released(f, "");
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "c");
    guest_write(f, "def");
    assert_released(f, "def");

    info = stats(f);
    assert_int_equal(info->checkpoints_timer, 1);
    assert_int_equal(info->checkpoints_divergence, 0);
    assert_int_equal(info->released_match, 5);
    assert_int_equal(info->released_checkpoint, 1);
    assert_false(info->has_last_divergence_offset);
}

static void test_buffer_mode(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    assert_true(colo_proxy_object_add("colo-compare,id=c0,primary_in=ser,"
                                      "outdev=ser,mode=buffer",
                                      &error_abort));
    guest_write(f, "pre");
    assert_released(f, "pre");
    event(COLO_EVENT_START);
    assert_true(stats(f)->active);
    guest_write(f, "one");
    assert_released(f, "");
    /* A commit without a cut releases nothing. */
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "");

    event(COLO_EVENT_CHECKPOINT);
    guest_write(f, "two");              /* after the cut */
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "one");
    assert_int_equal(stats(f)->held, 3);
    guest_write(f, "three");
    checkpoint();
    assert_released(f, "twothree");
    guest_write(f, "four");
    assert_released(f, "");

    info = stats(f);
    assert_int_equal(info->mode, COLO_COMPARE_MODE_BUFFER);
    assert_int_equal(info->checkpoints_timer, 2);
    assert_int_equal(info->released_checkpoint, 11);
    assert_int_equal(info->released_match, 0);
    assert_int_equal(info->released_alone, 3);
    assert_int_equal(info->held, 4);
}

static void test_buffer_mode_ignores_secondary(void **state)
{
    Fixture *f = *state;

    add_compare(",mode=buffer");
    event(COLO_EVENT_START);
    guest_write(f, "abc");
    sec_send(f, 0, 0, "abc");
    assert_released(f, "");
    checkpoint();
    assert_released(f, "abc");
    assert_int_equal(stats(f)->released_match, 0);
}

static void test_alone(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "held");
    event(COLO_EVENT_CHECKPOINT);       /* a cut that never commits */
    assert_released(f, "");
    event(COLO_EVENT_ALONE);
    assert_released(f, "held");
    assert_false(stats(f)->active);

    guest_write(f, "more");
    assert_released(f, "more");
    event(COLO_EVENT_COMMITTED);
    sec_send(f, 1, 8, "xx");
    guest_write(f, "!");
    assert_released(f, "!");

    info = stats(f);
    assert_int_equal(info->released_alone, 9);
    assert_int_equal(info->checkpoints_timer, 0);
    assert_int_equal(info->held, 0);

    /* A later COLO session compares again. */
    event(COLO_EVENT_START);
    guest_write(f, "yy");
    assert_released(f, "");
    sec_send(f, stream(f).epoch, 9, "yy");
    assert_released(f, "yy");
}

static void fence_cb(void *opaque)
{
    *(bool *)opaque = true;
}

/*
 * Run the main loop until the comparer's scan (expired_scan_cycle=1)
 * ran when a byte written at @written_ms had waited more than
 * compare_timeout=1.  Timers fire in deadline order, and the scan
 * re-arms itself one millisecond after each run: so once a timer due
 * at written_ms + 3 fired, the scan has run at written_ms + 2 or later.
 */
static void run_scan_after(int64_t written_ms)
{
    bool fired = false;
    Timer *fence = timer_new_ms(CLOCK_TYPE_REALTIME, fence_cb, &fired);
    int64_t deadline = clock_get_ms(CLOCK_TYPE_REALTIME) + WAIT_DEADLINE_MS;

    timer_mod(fence, written_ms + 3);
    while (!fired && clock_get_ms(CLOCK_TYPE_REALTIME) < deadline) {
        main_loop_wait(false);
    }
    timer_free(fence);
    assert_true(fired);
}

static void test_compare_timeout(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare(",compare_timeout=1,expired_scan_cycle=1");
    event(COLO_EVENT_START);
    guest_write(f, "t");
    run_scan_after(clock_get_ms(CLOCK_TYPE_REALTIME));
    assert_released(f, "");

    checkpoint();
    assert_released(f, "t");
    info = stats(f);
    assert_int_equal(info->checkpoints_timeout, 1);
    assert_int_equal(info->checkpoints_timer, 0);
    assert_int_equal(info->checkpoints_divergence, 0);
    assert_int_equal(info->released_checkpoint, 1);
    assert_false(info->has_last_divergence_offset);
}

/*
 * The secondary's output from before a checkpoint may arrive while it
 * is under way.  A difference there is covered by that checkpoint: it
 * must not ask for another one.
 */
static void test_divergence_during_checkpoint(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "abc");
    event(COLO_EVENT_CHECKPOINT);
    sec_send(f, 0, 0, "abX");
    assert_released(f, "ab");
    assert_int_equal(stats(f)->last_divergence_offset, 2);
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "c");
    /* Compared again right away. */
    guest_write(f, "d");
    sec_send(f, 1, 3, "d");
    assert_released(f, "d");

    /* The next checkpoint is the timer's, not one asked for. */
    checkpoint();
    info = stats(f);
    assert_int_equal(info->checkpoints_timer, 2);
    assert_int_equal(info->checkpoints_divergence, 0);
    assert_int_equal(info->released_match, 3);
    assert_int_equal(info->released_checkpoint, 1);
}

/*
 * The secondary ran past the cut in the epoch the checkpoint ends, and
 * a record of that abandoned part went missing: nothing to ask for.
 */
static void test_lost_past_cut_during_checkpoint(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "abc");
    event(COLO_EVENT_CHECKPOINT);
    sec_send(f, 0, 0, "abc");
    sec_send(f, 0, 3, "de");
    sec_send(f, 0, 9, "x");
    assert_released(f, "abc");
    event(COLO_EVENT_COMMITTED);
    guest_write(f, "fg");
    sec_send(f, 1, 3, "fg");
    assert_released(f, "fg");
    checkpoint();
    info = stats(f);
    assert_int_equal(info->checkpoints_timer, 2);
    assert_int_equal(info->checkpoints_divergence, 0);
    assert_int_equal(info->released_match, 5);
}

/*
 * The primary's guest resumes before its checkpoint is committed: what
 * it writes then is past the cut, of the next epoch.  Even where the
 * secondary's output of the ending epoch says the same, it is held
 * until the commit and compared with the secondary's next epoch.
 */
static void test_output_past_cut_waits_for_commit(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "abc");
    event(COLO_EVENT_CHECKPOINT);
    guest_write(f, "de");
    sec_send(f, 0, 0, "abcde");
    assert_released(f, "abc");
    assert_int_equal(stats(f)->held, 2);
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "");
    sec_send(f, 1, 3, "dX");
    assert_released(f, "d");
    assert_int_equal(stats(f)->last_divergence_offset, 4);
    /* The divergence's checkpoint, the guest again running early. */
    event(COLO_EVENT_CHECKPOINT);
    guest_write(f, "f");
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "e");
    sec_send(f, 2, 5, "f");
    assert_released(f, "f");
    info = stats(f);
    assert_int_equal(info->checkpoints_timer, 1);
    assert_int_equal(info->checkpoints_divergence, 1);
    assert_int_equal(info->released_match, 5);
    assert_int_equal(info->released_checkpoint, 1);
}

/* In buffer mode output past the cut waits for the next commit. */
static void test_buffer_mode_past_cut(void **state)
{
    Fixture *f = *state;

    add_compare(",mode=buffer");
    event(COLO_EVENT_START);
    guest_write(f, "ab");
    event(COLO_EVENT_CHECKPOINT);
    guest_write(f, "cd");
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "ab");
    checkpoint();
    assert_released(f, "cd");
}

/* Likewise for output that waits longer than compare_timeout. */
static void test_timeout_during_checkpoint(void **state)
{
    Fixture *f = *state;
    ColoCompareInfo *info;

    add_compare(",compare_timeout=1,expired_scan_cycle=1");
    event(COLO_EVENT_START);
    guest_write(f, "t");
    event(COLO_EVENT_CHECKPOINT);
    run_scan_after(clock_get_ms(CLOCK_TYPE_REALTIME));
    event(COLO_EVENT_COMMITTED);
    assert_released(f, "t");
    checkpoint();
    info = stats(f);
    assert_int_equal(info->checkpoints_timer, 2);
    assert_int_equal(info->checkpoints_timeout, 0);
}

static void test_malformed_record(void **state)
{
    Fixture *f = *state;
    static const uint8_t zero_len[PROXY_FRAME_HEADER] = { 0 };

    add_compare("");
    event(COLO_EVENT_START);
    guest_write(f, "abc");
    assert_int_equal(chardev_ringbuf_input(f->sec, zero_len,
                                           sizeof(zero_len)),
                     sizeof(zero_len));
    /* The record boundary is lost: nothing after it is believed. */
    sec_send(f, 0, 0, "abc");
    assert_released(f, "");
    checkpoint();
    assert_released(f, "abc");
    guest_write(f, "d");
    sec_send(f, 1, 3, "d");
    assert_released(f, "");
    assert_int_equal(stats(f)->held, 1);
    assert_int_equal(stats(f)->released_match, 0);
    /* Output still flows, at checkpoints. */
    checkpoint();
    assert_released(f, "d");
}

/*
 * Over a socket, a new connection (CLOSED, then OPENED) starts the
 * reader afresh after a malformed record.
 */
static int connect_sec(const char *path)
{
    g_autofree char *str = g_strdup_printf("unix:%s", path);
    SockAddr addr;
    int fd;

    assert_true(sock_addr_parse(str, &addr, &error_abort));
    fd = socket_connect(&addr, &error_abort);
    sock_addr_clear(&addr);
    return fd;
}

static void send_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        assert_true(n > 0);
        buf += n;
        len -= n;
    }
}

static void send_record(int fd, uint32_t epoch, uint64_t pos, const char *s)
{
    uint8_t rec[PROXY_FRAME_HEADER + PROXY_FRAME_MAX];

    send_all(fd, rec, proxy_frame_encode(rec, epoch, pos,
                                         (const uint8_t *)s, strlen(s)));
}

static void test_malformed_record_reconnect(void **state)
{
    Fixture *f = *state;
    static const uint8_t zero_len[PROXY_FRAME_HEADER] = { 0 };
    g_autofree char *path = NULL, *opts = NULL;
    uint8_t buf[64];
    int64_t deadline;
    int fd, n = 0;

    f->tmpdir = g_dir_make_tmp("proxy-compare-XXXXXX", NULL);
    assert_non_null(f->tmpdir);
    path = g_build_filename(f->tmpdir, "sec.sock", NULL);
    opts = g_strdup_printf("socket,id=sock,path=%s,server=on,wait=off",
                           path);
    chardev_new_from_opts(opts, &error_abort);
    assert_true(colo_proxy_object_add("colo-compare,id=c0,primary_in=ser,"
                                      "secondary_in=sock,outdev=ser",
                                      &error_abort));
    event(COLO_EVENT_START);
    guest_write(f, "abcdef");

    /* A bad record, then one that would match if it were believed. */
    fd = connect_sec(path);
    send_all(fd, zero_len, sizeof(zero_len));
    send_record(fd, 0, 0, "abc");
    close(fd);

    /*
     * One client at a time: the second is served once the first one's
     * bytes and its end were read.
     */
    fd = connect_sec(path);
    send_record(fd, 0, 0, "ab");
    deadline = clock_get_ms(CLOCK_TYPE_REALTIME) + WAIT_DEADLINE_MS;
    while (stats(f)->held == 6 &&
           clock_get_ms(CLOCK_TYPE_REALTIME) < deadline) {
        main_loop_wait(false);
    }
    close(fd);
    n = chardev_ringbuf_read(f->ser, buf, sizeof(buf));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "ab", 2);
    assert_int_equal(stats(f)->released_match, 2);
}

static void test_hold_limit(void **state)
{
    Fixture *f = *state;
    g_autofree uint8_t *chunk = g_malloc(64 * 1024);
    const size_t limit = 4 * 1024 * 1024;
    ColoCompareInfo *info;
    uint64_t cut;

    add_compare("");
    event(COLO_EVENT_START);
    memset(chunk, 'x', 64 * 1024);
    for (size_t done = 0; done < limit; done += 64 * 1024) {
        assert_int_equal(chardev_write(f->ser, chunk, 64 * 1024),
                         64 * 1024);
    }
    assert_int_equal(stats(f)->held, limit);
    assert_int_equal(stats(f)->dropped, 0);
    /* Beyond the limit: taken from the guest, dropped and counted. */
    guest_write(f, "overflow");
    guest_write(f, "!");
    info = stats(f);
    assert_int_equal(info->held, limit);
    assert_int_equal(info->dropped, 9);
    assert_released(f, "");

    /* The checkpoint releases what was held and skips the hole. */
    event(COLO_EVENT_CHECKPOINT);
    cut = stream(f).out_pos;
    assert_int_equal(cut, limit + 9);
    event(COLO_EVENT_COMMITTED);
    info = stats(f);
    assert_int_equal(info->released_checkpoint, limit);
    assert_int_equal(info->held, 0);
    assert_int_equal(info->dropped, 9);
    assert_int_equal(info->checkpoints_timeout, 1);
    chardev_ringbuf_read(f->ser, chunk, 64 * 1024);

    /* Comparison resumes after the hole. */
    guest_write(f, "ok");
    sec_send(f, 1, cut, "ok");
    assert_released(f, "ok");
    assert_int_equal(stats(f)->dropped, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_passthrough_before_start,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_releases, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_divergence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secondary_output_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_future_epoch_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_buffer_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_mode_ignores_secondary,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_divergence_during_checkpoint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_past_cut_during_checkpoint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_output_past_cut_waits_for_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_mode_past_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timeout_during_checkpoint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_record_reconnect,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_limit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
