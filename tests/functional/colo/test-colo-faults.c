/*
 * The link between the primary and the secondary breaks at each of the
 * seven steps of a checkpoint.  The pair talks through a fault proxy;
 * a first, clean run records where the messages of the first checkpoint
 * lie in each direction, and each later run cuts the connection just
 * before one message would be delivered.  Both sides must notice (COLO
 * exit with reason error), stay up, report their state as QEMU does,
 * and take over alone when told x-colo-lost-heartbeat.
 *
 * Heartbeats are off here (an interval longer than any run): each one
 * would shift the offsets below.  test-colo-stall has them on.
 *
 * Where the cuts go: the secondary's return path carries the return
 * path messages of the precopy (a fixed prefix), then only be32 COLO
 * messages: checkpoint-ready, then checkpoint-reply, vmstate-received,
 * vmstate-loaded per checkpoint.  The migration stream is silent once
 * both sides are in COLO with the checkpoint delay set to "never", so
 * its length then marks where the first checkpoint-request will go;
 * vmstate-send follows it, then the memory of the checkpoint (the same
 * length in every run: a qtest guest changes no memory by itself), then
 * vmstate-size.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "colo-test.h"

enum {
    MSG_READY, MSG_REQUEST, MSG_REPLY, MSG_SEND, MSG_SIZE, MSG_RECEIVED,
    MSG_LOADED,
};

static const struct {
    const char *name;
    FaultDir dir;
} steps[] = {
    [MSG_READY] = { "checkpoint-ready", FAULT_DIR_BACKWARD },
    [MSG_REQUEST] = { "checkpoint-request", FAULT_DIR_FORWARD },
    [MSG_REPLY] = { "checkpoint-reply", FAULT_DIR_BACKWARD },
    [MSG_SEND] = { "vmstate-send", FAULT_DIR_FORWARD },
    [MSG_SIZE] = { "vmstate-size", FAULT_DIR_FORWARD },
    [MSG_RECEIVED] = { "vmstate-received", FAULT_DIR_BACKWARD },
    [MSG_LOADED] = { "vmstate-loaded", FAULT_DIR_BACKWARD },
};

/* What the clean run found. */
typedef struct Layout {
    bool known;
    uint64_t rp_prefix;     /* return path bytes before checkpoint-ready */
    uint64_t ram_len;       /* memory part of the first checkpoint */
    GBytes *first;          /* request + send + memory of the first one */
} Layout;

static Layout layout;

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64_at(const uint8_t *p)
{
    return (uint64_t)be32_at(p) << 32 | be32_at(p + 4);
}

/*
 * Length of the precopy return path messages at the start of @d (be16
 * type SHUT 1 or PONG 2, be16 length 4, 4 bytes), which a COLO message
 * (be32 < 7, so a type 0 here) ends.
 */
static uint64_t rp_prefix_len(const uint8_t *d, size_t len)
{
    size_t off = 0;

    while (off + 8 <= len) {
        unsigned type = d[off] << 8 | d[off + 1];
        unsigned n = d[off + 2] << 8 | d[off + 3];

        if ((type != 1 && type != 2) || n != 4) {
            break;
        }
        off += 8;
    }
    return off;
}

/* Wait until the return path carried checkpoint-ready; its offset. */
static uint64_t wait_ready(ColoPair *pair)
{
    int64_t deadline = qmptest_deadline(COLO_TIMEOUT_MS);

    while (g_get_monotonic_time() < deadline) {
        g_autoptr(GBytes) b = fault_proxy_data(pair->proxy,
                                               FAULT_DIR_BACKWARD);
        gsize len;
        const uint8_t *d = g_bytes_get_data(b, &len);
        uint64_t off = rp_prefix_len(d, len);

        if (len >= off + 4) {
            assert_int_equal(len, off + 4);
            assert_int_equal(be32_at(d + off), MSG_READY);
            return off;
        }
        fault_proxy_wait_bytes(pair->proxy, FAULT_DIR_BACKWARD, len + 1,
                               100);
    }
    fail_msg("no checkpoint-ready on the return path");
    return 0;
}

/*
 * Walk the checkpoints of the migration stream from @off: request,
 * send, memory, size + be64 n, n bytes, and the next request.  The
 * memory part is found as the first vmstate-size whose announced
 * device state ends exactly where another checkpoint begins (or where
 * the recording ends, for the last).  Returns how many were complete.
 */
static unsigned parse_checkpoints(const uint8_t *d, size_t len, size_t off,
                                  uint64_t *first_ram_len)
{
    unsigned n = 0;

    while (off + 8 <= len && be32_at(d + off) == MSG_REQUEST) {
        size_t ram = off + 8, p, end = 0;

        assert_int_equal(be32_at(d + off + 4), MSG_SEND);
        for (p = ram; p + 12 <= len; p++) {
            uint64_t size;

            if (be32_at(d + p) != MSG_SIZE) {
                continue;
            }
            size = be64_at(d + p + 4);
            if (size == 0 || size > len - p - 12) {
                continue;
            }
            end = p + 12 + size;
            if (end == len || (end + 8 <= len &&
                               be32_at(d + end) == MSG_REQUEST &&
                               be32_at(d + end + 4) == MSG_SEND)) {
                break;
            }
            end = 0;
        }
        if (!end) {
            break;
        }
        if (n == 0) {
            *first_ram_len = p - ram;
        }
        n++;
        off = end;
    }
    return n;
}

/* The clean run: three checkpoints through the proxy, recorded. */
static void learn_layout(void)
{
    ColoPair pair;
    ColoPairOpts opts = { .via_proxy = true, .record = true,
                          .checkpoint_delay = COLO_DELAY_NEVER,
                          .heartbeat_interval = COLO_HEARTBEAT_SILENT_INTERVAL,
                          .heartbeat_timeout = COLO_HEARTBEAT_SILENT_TIMEOUT };
    g_autoptr(GBytes) fwd = NULL, bwd = NULL;
    const uint8_t *f, *b;
    gsize flen, blen;
    uint64_t start;
    unsigned n;

    if (layout.known) {
        return;
    }
    colo_test_enter(&pair, NULL, &opts);
    layout.rp_prefix = wait_ready(&pair);
    start = fault_proxy_bytes(pair.proxy, FAULT_DIR_FORWARD);
    assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                      100));
    assert_true(colo_wait_checkpoints(pair.primary, 4, COLO_TIMEOUT_MS));
    fwd = fault_proxy_data(pair.proxy, FAULT_DIR_FORWARD);
    bwd = fault_proxy_data(pair.proxy, FAULT_DIR_BACKWARD);
    f = g_bytes_get_data(fwd, &flen);
    b = g_bytes_get_data(bwd, &blen);

    /* The return path: ready, then reply/received/loaded triples. */
    assert_true(blen >= layout.rp_prefix + 4 + 3 * 12);
    for (uint64_t i = 0; layout.rp_prefix + 4 + i * 4 + 4 <= blen; i++) {
        static const uint32_t cycle[] = { MSG_REPLY, MSG_RECEIVED,
                                          MSG_LOADED };

        assert_int_equal(be32_at(b + layout.rp_prefix + 4 + i * 4),
                         cycle[i % 3]);
    }
    n = parse_checkpoints(f, flen, start, &layout.ram_len);
    print_message("return path prefix %" PRIu64 ", stream %" PRIu64
                  " bytes before COLO, first checkpoint memory %" PRIu64
                  " bytes, %u checkpoints parsed\n", layout.rp_prefix,
                  start, layout.ram_len, n);
    assert_true(n >= 3);
    layout.first = g_bytes_new(f + start, 8 + layout.ram_len);
    layout.known = true;
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

static void test_clean_run(void **state)
{
    learn_layout();
}

static void assert_left_colo(QmpTestProc *vm, const char *mode)
{
    assert_true(colo_wait_exit_event(vm, mode, "error", COLO_TIMEOUT_MS));
    assert_true(colo_proc_alive(vm));
    /* Still in COLO as far as QEMU's query is concerned: it waits. */
    assert_true(colo_status_is(vm, mode, "none", "none"));
}

/* Fill byte of the memory image the first checkpoint carries. */
#define NEW_IMAGE 0xbb

/* Every byte of @vm's guest memory is @v (the precopy image is zero). */
static void assert_ram_filled(QmpTestProc *vm, QtestClient *qt, uint8_t v)
{
    g_autofree uint8_t *ram = colo_ram_snapshot(qt, COLO_RAM_SIZE);

    for (uint64_t i = 0; i < COLO_RAM_SIZE; i++) {
        if (ram[i] != v) {
            fail_msg("pid %d: byte 0x%" PRIx64 " of guest memory is 0x%02x, "
                     "expected 0x%02x", (int)qmptest_pid(vm), i, ram[i], v);
        }
    }
}

/*
 * While it waits for x-colo-lost-heartbeat, a side's guest is as the
 * failure found it (docs/colo.md, "Leaving COLO"): the primary's runs
 * until checkpoint-reply arrives and again from vmstate-loaded on
 * (before checkpoint-ready it has not run since the precopy stopped it:
 * finish-migrate); the secondary's is stopped from checkpoint-request
 * until it has handed vmstate-loaded to its socket.  Cut before
 * vmstate-received, the secondary applies the checkpoint and then
 * tries to send vmstate-loaded on a connection that is being torn
 * down: whether that write still succeeds (guest running) or fails
 * (guest stopped) depends on when the reset reaches it.
 */
static void assert_waiting_runstate(ColoPair *pair, unsigned step)
{
    g_autofree char *sec = migtest_runstate(pair->secondary);

    colo_assert_runstate(pair->primary,
                         step == MSG_READY ? "finish-migrate" :
                         step <= MSG_REPLY ? "running" : "colo");
    assert_non_null(sec);
    if (step == MSG_RECEIVED) {
        if (strcmp(sec, "running") && strcmp(sec, "colo")) {
            fail_msg("secondary run state '%s'", sec);
        }
    } else {
        assert_string_equal(sec, step <= MSG_REQUEST ||
                                 step == MSG_LOADED ? "running" : "colo");
    }
}

static void run_cut(unsigned step)
{
    ColoPair pair;
    ColoPairOpts opts = { .via_proxy = true, .record = true,
                          .checkpoint_delay = COLO_DELAY_NEVER,
                          .heartbeat_interval = COLO_HEARTBEAT_SILENT_INTERVAL,
                          .heartbeat_timeout = COLO_HEARTBEAT_SILENT_TIMEOUT };
    FaultDir dir = steps[step].dir;
    uint64_t start = 0, limit;

    learn_layout();
    colo_test_start(&pair, NULL, &opts);
    if (step == MSG_READY) {
        limit = layout.rp_prefix;
        fault_proxy_cut_after(pair.proxy, dir, limit);
        assert_true(colo_pair_migrate(&pair));
    } else {
        assert_true(colo_pair_migrate(&pair));
        assert_true(colo_pair_wait_colo(&pair, COLO_TIMEOUT_MS));
        assert_int_equal(wait_ready(&pair), layout.rp_prefix);
        start = fault_proxy_bytes(pair.proxy, FAULT_DIR_FORWARD);
        switch (step) {
        case MSG_REQUEST: limit = start; break;
        case MSG_SEND: limit = start + 4; break;
        case MSG_SIZE: limit = start + 8 + layout.ram_len; break;
        default:
            limit = layout.rp_prefix + 4 * (step == MSG_REPLY ? 1 :
                                            step == MSG_RECEIVED ? 2 : 3);
        }
        fault_proxy_cut_after(pair.proxy, dir, limit);
        if (step != MSG_SIZE) {
            /*
             * The checkpoint carries a new memory image (the size step
             * needs the memory part of the clean run, so not there).
             */
            assert_true(qtest_memset(pair.pqt, 0, NEW_IMAGE, COLO_RAM_SIZE));
        }
        assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                          100));
    }
    assert_true(fault_proxy_wait_closed(pair.proxy, COLO_TIMEOUT_MS));
    assert_true(fault_proxy_was_cut(pair.proxy));
    assert_int_equal(fault_proxy_bytes(pair.proxy, dir), limit);
    if (step == MSG_SIZE) {
        g_autoptr(GBytes) fwd = fault_proxy_data(pair.proxy,
                                                 FAULT_DIR_FORWARD);
        g_autoptr(GBytes) part = g_bytes_new_from_bytes(fwd, start,
                                                        8 + layout.ram_len);

        /* The cut lands where the clean run had vmstate-size. */
        assert_true(g_bytes_equal(part, layout.first));
    }
    print_message("cut before %s (%s byte %" PRIu64 ")\n", steps[step].name,
                  dir == FAULT_DIR_FORWARD ? "stream" : "return path",
                  limit);

    assert_left_colo(pair.primary, "primary");
    assert_left_colo(pair.secondary, "secondary");
    assert_waiting_runstate(&pair, step);
    /*
     * The primary completed no checkpoint; the secondary counts the
     * one it applied, even when vmstate-loaded could not go out.
     */
    assert_int_equal(colo_checkpoint_count(pair.primary), 0);
    assert_int_equal(colo_checkpoint_count(pair.secondary),
                     step >= MSG_RECEIVED ? 1 : 0);
    /* Each side takes over alone. */
    colo_failover(pair.primary, "primary", "none");
    colo_failover(pair.secondary, "secondary", "none");
    if (step != MSG_READY && step != MSG_SIZE) {
        /*
         * The secondary applies a checkpoint it received whole (it
         * had sent vmstate-received), and only such a one.
         */
        assert_ram_filled(pair.secondary, pair.sqt,
                          step >= MSG_RECEIVED ? NEW_IMAGE : 0);
        assert_ram_filled(pair.primary, pair.pqt, NEW_IMAGE);
    }
    colo_assert_guest_alive(pair.primary, pair.pqt, false);
    colo_assert_guest_alive(pair.secondary, pair.sqt, false);
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

/*
 * After the link broke, both sides wait for x-colo-lost-heartbeat; quit
 * (on one) and SIGTERM (on the other) must still end them cleanly.
 */
static void test_cut_then_quit(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .via_proxy = true,
                          .checkpoint_delay = 50 };
    int status;

    colo_test_enter(&pair, NULL, &opts);
    assert_true(colo_wait_checkpoints(pair.primary, 2, COLO_TIMEOUT_MS));
    fault_proxy_cut_now(pair.proxy);
    assert_true(fault_proxy_wait_closed(pair.proxy, COLO_TIMEOUT_MS));
    assert_left_colo(pair.primary, "primary");
    assert_left_colo(pair.secondary, "secondary");
    colo_quit_clean(&pair.primary);
    assert_true(qmptest_signal(pair.secondary, SIGTERM));
    status = qmptest_wait_exit(pair.secondary, QMPTEST_TIMEOUT_MS);
    if (status != 0) {
        fail_msg("SIGTERM: status 0x%x\n%s", status,
                 qmptest_stderr(pair.secondary));
    }
    colo_pair_free(&pair);
}

/*
 * A malformed message instead of a good one: the side that reads it
 * leaves COLO with an error (after saying why) and neither side
 * crashes.  The other side may not notice by itself (its peer simply
 * stops answering); both take over when told.
 */
static void run_corrupt(FaultDir dir, unsigned step, const void *bytes,
                        size_t len, size_t at, const char *why)
{
    ColoPair pair;
    ColoPairOpts opts = { .via_proxy = true, .record = true,
                          .checkpoint_delay = COLO_DELAY_NEVER,
                          .heartbeat_interval = COLO_HEARTBEAT_SILENT_INTERVAL,
                          .heartbeat_timeout = COLO_HEARTBEAT_SILENT_TIMEOUT };
    QmpTestProc *reader;
    uint64_t off;

    learn_layout();
    colo_test_enter(&pair, NULL, &opts);
    assert_int_equal(wait_ready(&pair), layout.rp_prefix);
    off = dir == FAULT_DIR_FORWARD ?
          fault_proxy_bytes(pair.proxy, FAULT_DIR_FORWARD) +
          (step == MSG_SIZE ? 8 + layout.ram_len : 0) :
          layout.rp_prefix + 4;
    fault_proxy_corrupt(pair.proxy, dir, off + at, bytes, len);
    assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                      COLO_DELAY_NEVER));
    reader = dir == FAULT_DIR_FORWARD ? pair.secondary : pair.primary;
    assert_true(colo_wait_exit_event(reader, dir == FAULT_DIR_FORWARD ?
                                     "secondary" : "primary", "error",
                                     COLO_TIMEOUT_MS));
    assert_true(qmptest_wait_stderr(reader, why, COLO_TIMEOUT_MS));
    print_message("%s", qmptest_stderr(reader));
    assert_true(colo_proc_alive(pair.primary));
    assert_true(colo_proc_alive(pair.secondary));
    if (dir == FAULT_DIR_FORWARD) {
        colo_failover(pair.secondary, "secondary", "none");
        colo_failover(pair.primary, "primary", NULL);
    } else {
        colo_failover(pair.primary, "primary", "none");
        colo_failover(pair.secondary, "secondary", NULL);
    }
    colo_assert_guest_alive(pair.primary, pair.pqt, false);
    colo_assert_guest_alive(pair.secondary, pair.sqt, false);
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

/* An unknown message where checkpoint-request should be. */
static void test_bad_request(void **state)
{
    static const uint8_t msg[4] = { 0, 0, 0, 99 };

    run_corrupt(FAULT_DIR_FORWARD, MSG_REQUEST, msg, 4, 0, "COLO message");
}

/* A message out of order (vmstate-loaded) instead of checkpoint-reply. */
static void test_bad_reply(void **state)
{
    static const uint8_t msg[4] = { 0, 0, 0, MSG_LOADED };

    run_corrupt(FAULT_DIR_BACKWARD, MSG_REPLY, msg, 4, 0, "COLO message");
}

/* An absurd device state size: refused before anything is allocated. */
static void test_bad_size(void **state)
{
    static const uint8_t huge[8] = { 0x40, 0, 0, 0, 0, 0, 0, 0 };

    run_corrupt(FAULT_DIR_FORWARD, MSG_SIZE, huge, 8, 4, "COLO");
}

/* A device state size too small: its load fails, cleanly. */
static void test_short_size(void **state)
{
    static const uint8_t small[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };

    run_corrupt(FAULT_DIR_FORWARD, MSG_SIZE, small, 8, 4, "COLO");
}

static void test_cut_ready(void **s) { run_cut(MSG_READY); }
static void test_cut_request(void **s) { run_cut(MSG_REQUEST); }
static void test_cut_reply(void **s) { run_cut(MSG_REPLY); }
static void test_cut_send(void **s) { run_cut(MSG_SEND); }
static void test_cut_size(void **s) { run_cut(MSG_SIZE); }
static void test_cut_received(void **s) { run_cut(MSG_RECEIVED); }
static void test_cut_loaded(void **s) { run_cut(MSG_LOADED); }

static int teardown(void **state)
{
    g_clear_pointer(&layout.first, g_bytes_unref);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_run),
        cmocka_unit_test(test_cut_ready),
        cmocka_unit_test(test_cut_request),
        cmocka_unit_test(test_cut_reply),
        cmocka_unit_test(test_cut_send),
        cmocka_unit_test(test_cut_size),
        cmocka_unit_test(test_cut_received),
        cmocka_unit_test(test_cut_loaded),
        cmocka_unit_test(test_cut_then_quit),
        cmocka_unit_test(test_bad_request),
        cmocka_unit_test(test_bad_reply),
        cmocka_unit_test(test_bad_size),
        cmocka_unit_test(test_short_size),
    };

    return cmocka_run_group_tests(tests, NULL, teardown);
}
