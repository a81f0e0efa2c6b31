/*
 * Migrations that do not succeed, and what each side does then:
 *   - cancelled while memory is being copied: the source's guest goes
 *     on running, the destination fails and exits with status 1;
 *   - the destination killed mid-stream: the source's migration fails
 *     with a reason, its guest goes on running;
 *   - the link gone silent (nothing closed): both sides notice within
 *     x-heartbeat-timeout, the source fails and runs on, the
 *     destination exits with status 1;
 *   - a corrupt or truncated stream, a destination with a different
 *     machine: the destination explains and exits with status 1, never
 *     by a signal.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "fault-proxy.h"
#include "migration-test.h"
#include "serial-test.h"

#define RAM_MIB 32
#define RAM_SIZE (RAM_MIB * MIB)
/* A migration at this rate stays active for half a minute at least. */
#define CRAWL_BANDWIDTH (1 * MIB)

/* ---- a source that is slow to finish, and its destination ---- */

typedef struct Slow {
    QmpTestProc *src, *dst;
    QtestClient *src_qt, *dst_qt;
    const char *accel;      /* the dirtier's accelerator; NULL: qtest */
} Slow;

static void slow_start(Slow *s, const char *accel)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *uri = NULL;

    *s = (Slow){ .accel = accel };
    if (accel) {
        s->src = mig_start_dirtier_source(accel, RAM_MIB, NULL);
        s->dst = mig_start_dest(accel, RAM_MIB, NULL, "defer");
    } else {
        s->src = migtest_start_source_qtest(args, &s->src_qt);
        assert_non_null(s->src);
        /* Non-zero pages: zero ones cost next to nothing to send. */
        assert_true(migtest_fill_ram(s->src_qt, RAM_SIZE, 2));
        s->dst = migtest_start_dest_qtest(args, "defer", &s->dst_qt);
        assert_non_null(s->dst);
    }
    assert_true(migtest_set_parameter(s->src, "max-bandwidth",
                                      CRAWL_BANDWIDTH));
    uri = migtest_incoming_tcp(s->dst);
    assert_non_null(uri);
    assert_true(migtest_migrate(s->src, uri));
    assert_true(migtest_wait_status(s->src, "active", MIGTEST_TIMEOUT_MS));
}

static void slow_free(Slow *s)
{
    qtest_client_free(s->src_qt);
    qtest_client_free(s->dst_qt);
    qmptest_free(s->src);
    qmptest_free(s->dst);
}

/* The source's guest runs as it did before the migration began. */
static void assert_source_alive(Slow *s)
{
    mig_assert_runstate(s->src, "running");
    if (s->accel) {
        assert_true(serial_wait_more_chars(s->src, 'B', 2,
                                           QMPTEST_TIMEOUT_MS));
    } else {
        uint8_t v;

        /* Memory is still reachable and writable. */
        assert_true(qtest_writeb(s->src_qt, 0x1000, 0x5a));
        assert_true(qtest_readb(s->src_qt, 0x1000, &v));
        assert_int_equal(v, 0x5a);
    }
}

/*
 * The destination gave up: it exits with status 1, and the events it
 * sent before exiting end with MIGRATION failed.
 */
static void assert_dest_failed(QmpTestProc *dst)
{
    assert_true(migtest_wait_exit_status(dst, 1, MIGTEST_TIMEOUT_MS));
    assert_true(migtest_wait_status(dst, "failed", QMPTEST_TIMEOUT_MS));
    assert_non_null(strstr(qmptest_stderr(dst), "load of migration failed"));
}

static void run_cancel(const char *accel)
{
    Slow s;
    g_autofree char *status = NULL;

    slow_start(&s, accel);
    assert_true(migtest_cancel(s.src));
    assert_true(migtest_wait_status(s.src, "cancelled", MIGTEST_TIMEOUT_MS));
    status = migtest_query_status(s.src);
    assert_string_equal(status, "cancelled");
    assert_source_alive(&s);
    assert_dest_failed(s.dst);
    /* A second cancel, with nothing to cancel, is harmless. */
    assert_true(migtest_cancel(s.src));
    assert_int_equal(qmptest_quit(s.src, QMPTEST_TIMEOUT_MS), 0);
    slow_free(&s);
}

static void test_cancel_qtest(void **state) { run_cancel(NULL); }

static void test_cancel_guest(void **state)
{
    run_cancel(accel_test_accel(state));
}

static void run_dest_killed(const char *accel)
{
    Slow s;
    g_autofree char *desc = NULL;

    slow_start(&s, accel);
    assert_true(qmptest_signal(s.dst, SIGKILL));
    assert_true(migtest_wait_status(s.src, "failed", MIGTEST_TIMEOUT_MS));
    desc = migtest_query_error(s.src);
    assert_non_null(desc);
    assert_true(strlen(desc) > 0);
    print_message("error-desc: %s\n", desc);
    assert_source_alive(&s);
    assert_int_equal(qmptest_quit(s.src, QMPTEST_TIMEOUT_MS), 0);
    slow_free(&s);
}

/*
 * The link goes silent mid-stream: a fault proxy stops forwarding in
 * @dirs once 1 MiB has crossed, and closes nothing.  With a return
 * path the source's heartbeats go unanswered; without one its writes
 * stop once the socket buffers are full.  Either way, within
 * x-heartbeat-timeout the source fails (its guest running on) and the
 * destination gives up its load and exits with status 1.  With only
 * the forward direction silent, whichever side's wait ends first
 * decides what the source reports: its own timeout, or the
 * destination's failure arriving on the return path.  Nothing
 * measures time: each side's verdict is awaited with the usual
 * deadline.
 */
static void run_stall(unsigned dirs, bool return_path)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *uri = NULL, *desc = NULL, *state = NULL;
    g_autoptr(FaultProxy) proxy = NULL;
    QtestClient *src_qt = NULL, *dst_qt = NULL;
    QmpTestProc *src, *dst;

    src = migtest_start_source_qtest(args, &src_qt);
    assert_non_null(src);
    assert_true(migtest_fill_ram(src_qt, RAM_SIZE, 3));
    dst = migtest_start_dest_qtest(args, "defer", &dst_qt);
    assert_non_null(dst);
    assert_true(migtest_set_heartbeat(src, 200, 1500));
    assert_true(migtest_set_heartbeat(dst, 200, 1500));
    /* Slow enough to be still under way when the link goes silent. */
    assert_true(migtest_set_parameter(src, "max-bandwidth", 4 * MIB));
    if (return_path) {
        assert_true(migtest_set_capability(src, "return-path", true));
    }
    uri = migtest_incoming_tcp(dst);
    assert_non_null(uri);
    proxy = fault_proxy_new(uri, false);
    assert_non_null(proxy);
    fault_proxy_stall_after(proxy, FAULT_DIR_FORWARD, MIB, dirs);
    assert_true(migtest_migrate(src, fault_proxy_uri(proxy)));

    assert_true(migtest_wait_status(src, "failed", MIGTEST_TIMEOUT_MS));
    desc = migtest_query_error(src);
    assert_non_null(desc);
    print_message("source: %s\n", desc);
    if (dirs == FAULT_STALL_FORWARD) {
        /*
         * The return path still carries: the destination, timing out
         * first, may say so there before the source's own wait ends.
         */
        if (!strstr(desc, "Timed out") &&
            !strstr(desc, "Sibling indicated error")) {
            fail_msg("source error '%s'", desc);
        }
    } else {
        assert_non_null(strstr(desc, "Timed out"));
    }
    state = migtest_runstate(src);
    assert_string_equal(state, "running");
    assert_true(migtest_wait_exit_status(dst, 1, MIGTEST_TIMEOUT_MS));
    print_message("destination: %s", qmptest_stderr(dst));
    assert_non_null(strstr(qmptest_stderr(dst), "load of migration failed"));
    if (dirs & FAULT_STALL_FORWARD) {
        /* It heard nothing more and gave up by itself. */
        assert_non_null(strstr(qmptest_stderr(dst), "Timed out reading"));
    }
    /* Nothing was closed by the proxy: the silence was noticed. */
    assert_false(fault_proxy_was_cut(proxy));
    assert_int_equal(qmptest_quit(src, QMPTEST_TIMEOUT_MS), 0);
    qtest_client_free(src_qt);
    qtest_client_free(dst_qt);
    qmptest_free(src);
    qmptest_free(dst);
}

static void test_stall_both(void **state)
{
    run_stall(FAULT_STALL_BOTH, true);
}
static void test_stall_forward(void **state)
{
    run_stall(FAULT_STALL_FORWARD, true);
}
static void test_stall_backward(void **state)
{
    run_stall(FAULT_STALL_BACKWARD, true);
}
static void test_stall_no_return_path(void **state)
{
    run_stall(FAULT_STALL_BOTH, false);
}

static void test_dest_killed_qtest(void **state) { run_dest_killed(NULL); }

static void test_dest_killed_guest(void **state)
{
    run_dest_killed(accel_test_accel(state));
}

/* ---- broken streams ---- */

/* A finished stream in a file, and the source that wrote it. */
typedef struct Saved {
    QmpTestProc *src;
    QtestClient *qt;
    char *path;
    gchar *data;
    gsize len;
} Saved;

static void saved_make(Saved *sv, const char *src_args)
{
    g_autofree char *uri = NULL;

    sv->src = migtest_start_source_qtest(src_args, &sv->qt);
    assert_non_null(sv->src);
    assert_true(migtest_fill_ram(sv->qt, RAM_SIZE, 3));
    sv->path = mig_tmp_path(sv->src, "good");
    uri = g_strdup_printf("file:%s", sv->path);
    assert_true(migtest_migrate(sv->src, uri));
    assert_true(migtest_wait_status(sv->src, "completed",
                                    MIGTEST_TIMEOUT_MS));
    assert_true(g_file_get_contents(sv->path, &sv->data, &sv->len, NULL));
    assert_true(sv->len > RAM_SIZE / 2);
}

static void saved_free(Saved *sv)
{
    /* The source is not disturbed by what happens to its stream. */
    mig_assert_runstate(sv->src, "postmigrate");
    assert_int_equal(qmptest_quit(sv->src, QMPTEST_TIMEOUT_MS), 0);
    qtest_client_free(sv->qt);
    qmptest_free(sv->src);
    g_free(sv->path);
    g_free(sv->data);
}

/* Where @needle first occurs in the stream, failing the test if not. */
static gsize find_bytes(const Saved *sv, const void *needle, gsize n)
{
    const char *at = memmem(sv->data, sv->len, needle, n);

    assert_non_null(at);
    return at - sv->data;
}

/* Write @len bytes of @data as @name in the source's directory. */
static char *write_variant(const Saved *sv, const char *name,
                           const char *data, gsize len)
{
    char *path = mig_tmp_path(sv->src, name);

    assert_true(g_file_set_contents(path, data, len, NULL));
    return path;
}

/*
 * Load @path on a fresh destination through "file:" or "exec:cat";
 * it must fail, say why on stderr, and exit with status 1.
 */
static void expect_load_failure(const char *path, bool exec,
                                const char *dst_args, const char *expect)
{
    g_autofree char *incoming = g_strdup_printf("%s%s",
                                                exec ? "exec:cat " : "file:",
                                                path);
    g_autofree char *args = g_strdup_printf("-accel qtest %s", dst_args);
    g_autoptr(QmpTestProc) dst = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    const char *err;

    /*
     * No QMP: a file: destination may be done before a monitor would
     * be reachable, and the exit is all there is to check.
     */
    assert_true(g_shell_parse_argv(args, NULL, &argv, NULL));
    for (size_t i = 0; argv[i]; i++) {
        g_ptr_array_add(all, argv[i]);
    }
    g_ptr_array_add(all, "-incoming");
    g_ptr_array_add(all, incoming);
    g_ptr_array_add(all, NULL);
    dst = qmptest_startv((const char *const *)all->pdata, QMPTEST_NO_QMP);
    assert_non_null(dst);
    assert_true(migtest_wait_exit_status(dst, 1, MIGTEST_TIMEOUT_MS));
    err = qmptest_stderr(dst);
    print_message("%s: %s", incoming, err);
    assert_non_null(strstr(err, "load of migration failed: "));
    if (expect && !strcasestr(err, expect)) {
        fail_msg("stderr does not mention '%s': %s", expect, err);
    }
}

static void test_corrupt_stream(void **state)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    static const char ram_id[] = "\x03ram";
    static const char block_id[] = "\x06pc.ram";
    Saved sv = { 0 };
    g_autofree char *bad = NULL;
    gsize at;

    saved_make(&sv, args);

    /* Not a stream at all: the magic is wrong. */
    bad = g_memdup2(sv.data, sv.len);
    bad[0] ^= 0xff;
    {
        g_autofree char *p = write_variant(&sv, "magic", bad, sv.len);

        expect_load_failure(p, false, args, NULL);
        expect_load_failure(p, true, args, NULL);
    }

    /* The RAM section's name: no such section here. */
    memcpy(bad, sv.data, sv.len);
    at = find_bytes(&sv, ram_id, sizeof(ram_id) - 1);
    bad[at + 2] = 'b';
    {
        g_autofree char *p = write_variant(&sv, "section", bad, sv.len);

        expect_load_failure(p, false, args, "rbm");
    }

    /* The first RAM record (MEM_SIZE) with an unknown flag. */
    memcpy(bad, sv.data, sv.len);
    bad[at + 4 + 8 + 7] ^= 0x40;
    {
        g_autofree char *p = write_variant(&sv, "flags", bad, sv.len);

        expect_load_failure(p, true, args, "flags");
    }

    /* The RAM block's length in the setup record, doubled. */
    memcpy(bad, sv.data, sv.len);
    at = find_bytes(&sv, block_id, sizeof(block_id) - 1) + 7;
    bad[at + 3] ^= 0x01;
    {
        g_autofree char *p = write_variant(&sv, "length", bad, sv.len);

        expect_load_failure(p, false, args, "pc.ram");
    }
    saved_free(&sv);
}

/*
 * Bits flipped at random in the stream's head (header, configuration,
 * the RAM section's setup) and tail (device and vCPU state, the end of
 * the stream, its description): each load either succeeds (a flipped
 * bit of a register is just a different value) or fails cleanly, never
 * by a signal.
 */
static void test_random_corruption(void **state)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *qtest_args = g_strdup_printf("-accel qtest -m %uM",
                                                  RAM_MIB);
    g_autoptr(GRand) rand = g_rand_new_with_seed(0xc0ffee);
    g_autofree char *bad = NULL;
    Saved sv = { 0 };

    saved_make(&sv, args);
    bad = g_malloc(sv.len);
    for (int round = 0; round < 16; round++) {
        g_autofree char *name = g_strdup_printf("random-%d", round);
        g_autofree char *path = NULL;
        g_autofree char *incoming = NULL;
        g_autofree char *end = NULL;
        g_autoptr(QmpTestProc) dst = NULL;

        memcpy(bad, sv.data, sv.len);
        for (int i = 0; i < 4; i++) {
            /* Even rounds: the head; odd rounds: the last 16 KiB. */
            gsize at = round % 2 ? sv.len - 1 - g_rand_int_range(rand, 0,
                                                                16384)
                                 : g_rand_int_range(rand, 0, 128);

            bad[at] ^= 1 << g_rand_int_range(rand, 0, 8);
        }
        path = write_variant(&sv, name, bad, sv.len);
        incoming = g_strdup_printf("exec:cat %s", path);
        dst = migtest_start_dest(qtest_args, "defer");
        assert_non_null(dst);
        assert_true(migtest_incoming(dst, incoming));
        end = migtest_wait_end(dst, MIGTEST_TIMEOUT_MS);
        print_message("round %d: %s\n", round, end ? end : "exited");
        if (end && !strcmp(end, "completed")) {
            assert_int_equal(qmptest_quit(dst, QMPTEST_TIMEOUT_MS), 0);
        } else {
            assert_true(migtest_wait_exit_status(dst, 1,
                                                 MIGTEST_TIMEOUT_MS));
        }
    }
    saved_free(&sv);
}

static void test_truncated_stream(void **state)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    static const char ram_id[] = "\x03ram";
    Saved sv = { 0 };
    gsize cuts[7];

    saved_make(&sv, args);
    /*
     * Every cut lies before the end of the memory pages (device state
     * and the description after them are far smaller than a quarter
     * of the stream): nothing, inside the header, inside the first
     * section, right after the RAM section's header, in the pages.
     */
    cuts[0] = 0;
    cuts[1] = 3;
    cuts[2] = 8;
    cuts[3] = 40;
    cuts[4] = find_bytes(&sv, ram_id, sizeof(ram_id) - 1) + 12;
    cuts[5] = sv.len / 2;
    cuts[6] = sv.len / 4 * 3;
    for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++) {
        g_autofree char *name = g_strdup_printf("cut-%zu", i);
        g_autofree char *p = write_variant(&sv, name, sv.data, cuts[i]);

        expect_load_failure(p, i % 2, args, "end of stream");
    }
    saved_free(&sv);
}

static void test_mismatch(void **state)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *bigger = g_strdup_printf("-m %uM", RAM_MIB * 2);
    g_autofree char *smp = g_strdup_printf("-m %uM -smp 2", RAM_MIB);
    Saved sv = { 0 };

    saved_make(&sv, args);
    expect_load_failure(sv.path, false, bigger, "RAM size");
    expect_load_failure(sv.path, true, smp, "vCPU count");
    saved_free(&sv);
}

/*
 * A destination that refuses the stream (its RAM is larger), with the
 * return path on: whether the source is still writing when the
 * destination gives up or has sent everything and waits for its
 * answer, it fails and runs its guest again.
 */
static void test_refused_return_path(void **state)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *bigger = g_strdup_printf("-accel qtest -m %uM",
                                              RAM_MIB * 2);
    g_autofree char *uri = NULL;
    g_autofree char *desc = NULL;
    g_autoptr(QmpTestProc) src = NULL;
    g_autoptr(QmpTestProc) dst = NULL;
    QtestClient *qt = NULL;

    src = migtest_start_source_qtest(args, &qt);
    assert_non_null(src);
    dst = migtest_start_dest(bigger, "defer");
    assert_non_null(dst);
    uri = migtest_incoming_tcp(dst);
    assert_non_null(uri);
    assert_true(migtest_set_capability(src, "return-path", true));
    assert_true(migtest_migrate(src, uri));
    assert_dest_failed(dst);
    assert_non_null(strstr(qmptest_stderr(dst), "RAM size"));
    assert_true(migtest_wait_status(src, "failed", MIGTEST_TIMEOUT_MS));
    desc = migtest_query_error(src);
    assert_non_null(desc);
    print_message("error-desc: %s\n", desc);
    mig_assert_runstate(src, "running");
    qtest_client_free(qt);
    assert_int_equal(qmptest_quit(src, QMPTEST_TIMEOUT_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_qtest),
        cmocka_unit_test(test_dest_killed_qtest),
        cmocka_unit_test(test_stall_both),
        cmocka_unit_test(test_stall_forward),
        cmocka_unit_test(test_stall_backward),
        cmocka_unit_test(test_stall_no_return_path),
        cmocka_unit_test(test_corrupt_stream),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_truncated_stream),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_refused_return_path),
    };
    const struct CMUnitTest guest_tests[] = {
        cmocka_unit_test(test_cancel_guest),
        cmocka_unit_test(test_dest_killed_guest),
    };
    int failed;

    failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += accel_test_run_group("migration-failure-guest", guest_tests,
                                   G_N_ELEMENTS(guest_tests), NULL, NULL);
    return failed;
}
