/*
 * COLO without failures: a primary and a secondary enter COLO and
 * checkpoint; query-colo-status before, during and after; the
 * checkpoint delay changed while they run; x-colo set on one side only;
 * quit while in COLO.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "colo-test.h"
#include "serial-test.h"

/* The colo object of query-migrate is complete and plausible. */
static void assert_stats(QmpTestProc *vm, const char *mode, int64_t min)
{
    qmptest_auto_json json_t *colo = colo_stats(vm);
    json_t *count = json_object_get(colo, "checkpoint-count");

    assert_non_null(colo);
    assert_string_equal(json_string_value(json_object_get(colo, "mode")),
                        mode);
    assert_true(json_is_integer(count));
    assert_true(json_integer_value(count) >= min);
    assert_true(json_is_integer(json_object_get(colo, "last-pause-time")));
    assert_true(json_integer_value(
                    json_object_get(colo, "average-pause-time")) >= 0);
    if (!strcmp(mode, "primary")) {
        /* Every checkpoint sends at least its messages and an EOS. */
        json_t *bytes = json_object_get(colo, "checkpoint-bytes");

        assert_true(json_is_integer(bytes));
        assert_true(json_integer_value(bytes) >= min * 8);
        assert_null(json_object_get(colo, "last-commit-time"));
    } else {
        assert_null(json_object_get(colo, "checkpoint-bytes"));
    }
}

/* @accel: the dirtier under it, or NULL: qtest. */
static void run_checkpoints(const char *accel)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = 200 };

    colo_test_start(&pair, accel, &opts);
    /* Before: nothing, on either side. */
    assert_true(colo_status_is(pair.primary, "none", "none", "none"));
    assert_true(colo_status_is(pair.secondary, "none", "none", "none"));
    assert_null(colo_stats(pair.primary));

    assert_true(colo_pair_migrate(&pair));
    assert_true(colo_pair_wait_colo(&pair, COLO_TIMEOUT_MS));
    /* During. */
    assert_true(colo_status_is(pair.primary, "primary", "none", "none"));
    assert_true(colo_status_is(pair.secondary, "secondary", "none", "none"));
    colo_assert_migration(pair.primary, "colo");
    colo_assert_migration(pair.secondary, "colo");

    /* Each checkpoint stops and restarts the primary's guest. */
    assert_true(colo_wait_stop_resume(pair.primary, 3, COLO_TIMEOUT_MS));
    assert_true(colo_wait_checkpoints(pair.primary, 3, COLO_TIMEOUT_MS));
    assert_true(colo_wait_checkpoints(pair.secondary, 3, COLO_TIMEOUT_MS));
    assert_stats(pair.primary, "primary", 3);
    assert_stats(pair.secondary, "secondary", 3);
    if (accel) {
        /* Both guests run between checkpoints. */
        assert_true(serial_wait_more_chars(pair.primary, 'B', 2,
                                           COLO_TIMEOUT_MS));
        assert_true(serial_wait_more_chars(pair.secondary, 'B', 2,
                                           COLO_TIMEOUT_MS));
    }
    assert_true(colo_proc_alive(pair.primary));
    assert_true(colo_proc_alive(pair.secondary));

    /*
     * quit in the middle of COLO: no hang, no crash, no leak; the
     * qtest pair ends its primary with SIGTERM instead.
     */
    colo_quit_clean(&pair.secondary);
    if (accel) {
        colo_quit_clean(&pair.primary);
    } else {
        int status;

        assert_true(qmptest_signal(pair.primary, SIGTERM));
        status = qmptest_wait_exit(pair.primary, QMPTEST_TIMEOUT_MS);
        if (status != 0) {
            fail_msg("SIGTERM: status 0x%x\n%s", status,
                     qmptest_stderr(pair.primary));
        }
    }
    colo_pair_free(&pair);
}

static void test_checkpoints_qtest(void **state) { run_checkpoints(NULL); }

static void test_checkpoints_guest(void **state)
{
    run_checkpoints(accel_test_accel(state));
}

static int64_t stat_int(QmpTestProc *vm, const char *member)
{
    qmptest_auto_json json_t *colo = colo_stats(vm);
    json_t *v = json_object_get(colo, member);

    if (!json_is_integer(v)) {
        fail_msg("query-migrate's colo object has no integer %s", member);
    }
    return json_integer_value(v);
}

/*
 * The qtest primary writes memory between checkpoints, the secondary's
 * guest writes its own; after each checkpoint (one is taken whenever
 * x-checkpoint-delay is set) the secondary's memory is the primary's.
 * @lean: x-colo-lean on the secondary, so the pages its guest wrote
 * come from the primary with the checkpoint: the primary counts them
 * as extra pages, and the secondary holds no copy of RAM.
 */
static void run_ram_rounds(bool lean)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = COLO_DELAY_NEVER,
                          .lean = lean };
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x636f6c6f);
    int64_t extra = 0;

    colo_test_enter(&pair, NULL, &opts);
    for (int round = 1; round <= 4; round++) {
        uint64_t pages = COLO_RAM_SIZE / QTEST_CLIENT_PAGE_SIZE;

        if (round == 1) {
            assert_true(migtest_fill_ram(pair.pqt, COLO_RAM_SIZE, round));
        }
        for (int i = 0; i < 256; i++) {
            uint64_t addr = g_rand_int_range(rand, 0, pages) *
                            QTEST_CLIENT_PAGE_SIZE;

            assert_true(qtest_writeq(pair.pqt, addr + 8 * round,
                                     g_rand_int(rand) | 1ull << 40));
            if (round % 2 == 0) {
                addr = g_rand_int_range(rand, 0, pages) *
                       QTEST_CLIENT_PAGE_SIZE;
                assert_true(qtest_writeq(pair.sqt, addr, 0xdeadbeef));
            }
        }
        assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                          COLO_DELAY_NEVER));
        assert_true(colo_wait_checkpoints(pair.primary, round,
                                          COLO_TIMEOUT_MS));
        assert_true(colo_wait_checkpoints(pair.secondary, round,
                                          COLO_TIMEOUT_MS));
        if (!migtest_ram_equal(pair.pqt, pair.sqt, COLO_RAM_SIZE)) {
            fail_msg("after checkpoint %d the secondary's memory differs",
                     round);
        }
        if (lean) {
            int64_t now = stat_int(pair.primary, "extra-pages");

            /*
             * 256 random pages on each side overlap by a few at most:
             * most of the secondary's are extra.
             */
            if (round % 2 == 0 ? now - extra < 200 : now != extra) {
                fail_msg("round %d: %" PRId64 " extra pages, %" PRId64
                         " before", round, now, extra);
            }
            extra = now;
            /* The staging area keeps 1/64 of RAM at most. */
            assert_true(stat_int(pair.secondary, "cache-bytes") <
                        COLO_RAM_SIZE / 16);
        } else {
            qmptest_auto_json json_t *colo = colo_stats(pair.primary);

            assert_null(json_object_get(colo, "extra-pages"));
            assert_true(stat_int(pair.secondary, "cache-bytes") >=
                        COLO_RAM_SIZE);
        }
    }
    assert_int_equal(colo_checkpoint_count(pair.primary), 4);
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

static void test_ram_rounds_qtest(void **state) { run_ram_rounds(false); }
static void test_ram_rounds_lean_qtest(void **state) { run_ram_rounds(true); }

/*
 * Commands that do not fit COLO are refused without disturbing it: a
 * second migrate, a capability change; two failover requests in a row
 * run one takeover, the second is refused.
 */
static void test_commands_during_colo(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = 100 };
    QmpTestClient *c;
    qmptest_auto_json json_t *r = NULL, *r2 = NULL;
    int64_t count;

    colo_test_enter(&pair, NULL, &opts);
    c = qmptest_client(pair.primary);
    r = qmptest_cmd(c, "{'execute': 'migrate', 'arguments': "
                    "{'uri': '%s'}}", pair.listen_uri);
    assert_non_null(r);
    assert_null(qmptest_return(r));
    print_message("migrate in COLO: %s\n", qmptest_error_desc(r));
    json_decref(r);
    r = qmptest_cmd(c, "{'execute': 'migrate-set-capabilities', "
                    "'arguments': {'capabilities': [{'capability': "
                    "'x-colo', 'state': false}]}}");
    assert_non_null(r);
    assert_null(qmptest_return(r));
    print_message("x-colo off in COLO: %s\n", qmptest_error_desc(r));
    json_decref(r);
    r = NULL;
    count = colo_checkpoint_count(pair.primary);
    assert_true(colo_wait_checkpoints(pair.primary, count + 2,
                                      COLO_TIMEOUT_MS));

    /* Two requests back to back on the secondary. */
    c = qmptest_client(pair.secondary);
    assert_true(qmptest_send(c, "{'execute': 'x-colo-lost-heartbeat'}"));
    assert_true(qmptest_send(c, "{'execute': 'x-colo-lost-heartbeat'}"));
    r = qmptest_wait_reply(c, COLO_TIMEOUT_MS);
    r2 = qmptest_wait_reply(c, COLO_TIMEOUT_MS);
    assert_non_null(r);
    assert_non_null(r2);
    assert_non_null(qmptest_return(r));
    assert_null(qmptest_return(r2));
    print_message("second request: %s\n", qmptest_error_desc(r2));
    assert_true(migtest_wait_status(pair.secondary, "completed",
                                    COLO_TIMEOUT_MS));
    assert_true(colo_status_is(pair.secondary, "none", "secondary",
                               "request"));
    colo_wait_running(pair.secondary);
    colo_failover(pair.primary, "primary", NULL);
    colo_wait_running(pair.primary);
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

/*
 * migrate_cancel while in COLO: whatever it answers, the primary must
 * stay responsive, take over when told, and quit cleanly.
 */
static void test_cancel_during_colo(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = 100 };
    qmptest_auto_json json_t *r = NULL;
    g_autofree char *status = NULL;

    colo_test_enter(&pair, NULL, &opts);
    assert_true(colo_wait_checkpoints(pair.primary, 2, COLO_TIMEOUT_MS));
    r = qmptest_cmd(qmptest_client(pair.primary),
                    "{'execute': 'migrate_cancel'}");
    assert_non_null(r);
    print_message("migrate_cancel in COLO: %s\n",
                  qmptest_return(r) ? "{}" : qmptest_error_desc(r));
    status = migtest_wait_end(pair.primary, COLO_TIMEOUT_MS);
    print_message("primary migration ends: %s\n", status ? status : "never");
    assert_non_null(status);
    assert_true(colo_wait_exit_event(pair.primary, "primary", NULL,
                                     COLO_TIMEOUT_MS));
    assert_true(colo_wait_exit_event(pair.secondary, "secondary", "error",
                                     COLO_TIMEOUT_MS));
    assert_true(colo_status_is(pair.primary, "none", "none", "none"));
    colo_wait_running(pair.primary);
    /* The secondary waits to be told, then runs alone. */
    assert_true(colo_status_is(pair.secondary, "secondary", "none", "none"));
    colo_failover(pair.secondary, "secondary", "none");
    colo_assert_guest_alive(pair.secondary, pair.sqt, false);
    assert_true(colo_proc_alive(pair.primary));
    assert_true(colo_proc_alive(pair.secondary));
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

/* query-colo-status and the failover command before any migration. */
static void test_status_before(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start("-accel qtest -m 16M", 0);
    qmptest_auto_json json_t *r = NULL;

    assert_non_null(vm);
    assert_true(colo_status_is(vm, "none", "none", "none"));
    r = colo_lost_heartbeat(vm);
    assert_non_null(r);
    assert_string_equal(qmptest_error_class(r), "GenericError");
    assert_string_equal(qmptest_error_desc(r),
                        "The feature 'colo' is not enabled");
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

/*
 * x-checkpoint-delay takes effect at once: from "never" to 50 ms, the
 * checkpoints come (the old delay would have meant an hour), and back
 * to "never", at most the one under way and the one the change asks
 * for complete.
 */
static void test_delay_change(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = COLO_DELAY_NEVER };
    int64_t before, after;

    colo_test_enter(&pair, NULL, &opts);
    assert_int_equal(colo_checkpoint_count(pair.primary), 0);
    assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                      50));
    assert_true(colo_wait_checkpoints(pair.primary, 5, COLO_TIMEOUT_MS));
    assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                      COLO_DELAY_NEVER));
    before = colo_checkpoint_count(pair.primary);
    /* The change takes one more checkpoint, after any under way. */
    /* Plenty of round trips in which a 50 ms timer would fire again. */
    for (int i = 0; i < 200; i++) {
        uint8_t v;

        assert_true(qtest_readb(pair.pqt, 0x1000, &v));
    }
    assert_true(colo_wait_checkpoints(pair.secondary, before,
                                      COLO_TIMEOUT_MS));
    after = colo_checkpoint_count(pair.primary);
    print_message("checkpoints: %" PRId64 " then %" PRId64 "\n", before,
                  after);
    assert_true(after <= before + 2);
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

/*
 * x-colo on the primary only: the secondary refuses the stream and
 * exits with status 1; the primary's migration fails, its guest runs.
 */
static void test_colo_primary_only(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .no_colo_secondary = true };
    uint64_t v;

    colo_test_start(&pair, NULL, &opts);
    assert_true(colo_pair_migrate(&pair));
    assert_true(migtest_wait_status(pair.primary, "failed", COLO_TIMEOUT_MS) ||
                !"the primary's migration did not fail");
    assert_true(migtest_wait_exit_status(pair.secondary, 1, COLO_TIMEOUT_MS));
    print_message("secondary: %s", qmptest_stderr(pair.secondary));
    assert_non_null(strstr(qmptest_stderr(pair.secondary), "x-colo"));
    colo_assert_runstate(pair.primary, "running");
    assert_true(qtest_writeq(pair.pqt, 0x3000, 42));
    assert_true(qtest_readq(pair.pqt, 0x3000, &v));
    assert_true(v == 42);
    assert_true(colo_status_is(pair.primary, "none", "none", "none"));
    colo_quit_clean(&pair.primary);
    colo_pair_free(&pair);
}

/*
 * x-colo on the secondary only: the stream asks for no COLO, so it is
 * an ordinary migration that completes; neither side enters COLO.
 */
static void test_colo_secondary_only(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .no_colo_primary = true };

    colo_test_start(&pair, NULL, &opts);
    assert_true(colo_pair_migrate(&pair));
    assert_true(migtest_wait_status(pair.primary, "completed",
                                    COLO_TIMEOUT_MS));
    assert_true(migtest_wait_status(pair.secondary, "completed",
                                    COLO_TIMEOUT_MS));
    assert_true(colo_status_is(pair.primary, "none", "none", "none"));
    assert_true(colo_status_is(pair.secondary, "none", "none", "none"));
    assert_null(colo_stats(pair.primary));
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_before),
        cmocka_unit_test(test_checkpoints_qtest),
        cmocka_unit_test(test_ram_rounds_qtest),
        cmocka_unit_test(test_ram_rounds_lean_qtest),
        cmocka_unit_test(test_delay_change),
        cmocka_unit_test(test_commands_during_colo),
        cmocka_unit_test(test_cancel_during_colo),
        cmocka_unit_test(test_colo_primary_only),
        cmocka_unit_test(test_colo_secondary_only),
    };

    const struct CMUnitTest guest_tests[] = {
        cmocka_unit_test(test_checkpoints_guest),
    };
    int failed;

    failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += accel_test_run_group("colo-basic-guest", guest_tests,
                                   G_N_ELEMENTS(guest_tests), NULL, NULL);
    return failed;
}
