/*
 * Failover: one side of a COLO pair is killed with SIGKILL and the
 * other is told x-colo-lost-heartbeat; it must leave COLO by request
 * and run on alone.  Killed between checkpoints, and in the middle of
 * one (right after the primary stopped its guest for it).
 *
 * The qtest variants also check which memory the secondary resumes
 * with: the primary's at the last checkpoint the secondary completely
 * received, never a mixture of two checkpoints, and never what the
 * secondary's own guest wrote before that checkpoint.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "colo-test.h"
#include "serial-test.h"

/* Fill byte of the second memory image (every page the same). */
#define IMAGE_B 0xbb

/*
 * With no checkpoint under way (delay "never"), give the primary's
 * guest a new memory image A and let the secondary's guest scribble
 * over part of its own memory; then have one checkpoint taken (setting
 * x-checkpoint-delay takes one at once) and wait for its end on both
 * sides.  Returns A.
 */
static uint8_t *checkpoint_image_a(ColoPair *pair)
{
    int64_t base = colo_checkpoint_count(pair->primary);
    uint8_t *a;

    assert_true(base >= 0);
    assert_true(migtest_fill_ram(pair->pqt, COLO_RAM_SIZE, 7));
    /* What the secondary's guest wrote is undone by the checkpoint. */
    assert_true(qtest_memset(pair->sqt, 0, 0x5a, 4 * MIB));
    assert_true(qtest_writeq(pair->sqt, COLO_RAM_SIZE - 8, 0x5a5a));
    a = colo_ram_snapshot(pair->pqt, COLO_RAM_SIZE);
    assert_true(migtest_set_parameter(pair->primary, "x-checkpoint-delay",
                                      COLO_DELAY_NEVER));
    assert_true(colo_wait_checkpoints(pair->primary, base + 1,
                                      COLO_TIMEOUT_MS));
    assert_true(colo_wait_checkpoints(pair->secondary, base + 1,
                                      COLO_TIMEOUT_MS));
    return a;
}

/* The secondary's memory is entirely @a, or with @b_ok entirely B. */
static void assert_secondary_image(ColoPair *pair, const uint8_t *a,
                                   bool b_ok)
{
    g_autofree uint8_t *got = colo_ram_snapshot(pair->sqt, COLO_RAM_SIZE);
    bool is_a = !memcmp(got, a, COLO_RAM_SIZE);
    bool is_b = true;

    for (uint64_t i = 0; i < COLO_RAM_SIZE && is_b; i++) {
        is_b = got[i] == IMAGE_B;
    }
    if (is_a || (b_ok && is_b)) {
        print_message("secondary resumed with image %s\n", is_a ? "A" : "B");
        return;
    }
    for (uint64_t i = 0; i < COLO_RAM_SIZE; i++) {
        if (got[i] != a[i]) {
            fail_msg("secondary memory differs from the checkpoint at 0x%"
                     PRIx64 ": 0x%02x, A has 0x%02x", i, got[i], a[i]);
        }
    }
}

/* Kill the primary, fail over to the secondary (@accel NULL: qtest). */
static void run_primary_dies(const char *accel, bool mid_checkpoint)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = accel ? 300
                                                    : COLO_DELAY_NEVER };
    g_autofree uint8_t *a = NULL;

    colo_test_enter(&pair, accel, &opts);
    if (!accel) {
        a = checkpoint_image_a(&pair);
    } else {
        assert_true(colo_wait_checkpoints(pair.secondary, 2,
                                          COLO_TIMEOUT_MS));
    }
    if (mid_checkpoint) {
        if (!accel) {
            /* A checkpoint carrying B starts; it may or may not land. */
            assert_true(qtest_memset(pair.pqt, 0, IMAGE_B, COLO_RAM_SIZE));
            colo_drain_events(pair.primary, "STOP");
            assert_true(migtest_set_parameter(pair.primary,
                                              "x-checkpoint-delay",
                                              COLO_DELAY_NEVER));
        } else {
            colo_drain_events(pair.primary, "STOP");
        }
        qmptest_auto_json json_t *stop = qmptest_wait_event(
            qmptest_client(pair.primary), "STOP", COLO_TIMEOUT_MS);
        assert_non_null(stop);
    }
    qmptest_kill(pair.primary);
    colo_failover(pair.secondary, "secondary", NULL);
    if (!accel) {
        assert_secondary_image(&pair, a, mid_checkpoint);
    }
    colo_assert_guest_alive(pair.secondary, pair.sqt, accel != NULL);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

static void test_primary_dies_qtest(void **s)
{
    run_primary_dies(NULL, false);
}
static void test_primary_dies_mid_qtest(void **s)
{
    run_primary_dies(NULL, true);
}
static void test_primary_dies_guest(void **s)
{
    run_primary_dies(accel_test_accel(s), false);
}
static void test_primary_dies_mid_guest(void **s)
{
    run_primary_dies(accel_test_accel(s), true);
}

/* Kill the secondary, fail over to the primary (@accel NULL: qtest). */
static void run_secondary_dies(const char *accel, bool mid_checkpoint)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = 200 };
    g_autofree uint8_t *before = NULL;

    colo_test_enter(&pair, accel, &opts);
    assert_true(colo_wait_checkpoints(pair.primary, 2, COLO_TIMEOUT_MS));
    if (mid_checkpoint) {
        colo_drain_events(pair.primary, "STOP");
        qmptest_auto_json json_t *stop = qmptest_wait_event(
            qmptest_client(pair.primary), "STOP", COLO_TIMEOUT_MS);
        assert_non_null(stop);
    } else {
        assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                          COLO_DELAY_NEVER));
    }
    if (!accel) {
        before = colo_ram_snapshot(pair.pqt, COLO_RAM_SIZE);
    }
    qmptest_kill(pair.secondary);
    colo_failover(pair.primary, "primary", NULL);
    if (!accel) {
        /* The primary's memory is its own: nothing was rolled back. */
        g_autofree uint8_t *after = colo_ram_snapshot(pair.pqt,
                                                      COLO_RAM_SIZE);

        assert_memory_equal(before, after, COLO_RAM_SIZE);
    }
    colo_assert_guest_alive(pair.primary, pair.pqt, accel != NULL);
    colo_quit_clean(&pair.primary);
    colo_pair_free(&pair);
}

static void test_secondary_dies_qtest(void **s)
{
    run_secondary_dies(NULL, false);
}
static void test_secondary_dies_mid_qtest(void **s)
{
    run_secondary_dies(NULL, true);
}
static void test_secondary_dies_guest(void **s)
{
    run_secondary_dies(accel_test_accel(s), false);
}
static void test_secondary_dies_mid_guest(void **s)
{
    run_secondary_dies(accel_test_accel(s), true);
}

/*
 * x-colo-lost-heartbeat while the peer is still alive and checkpoints
 * follow one another (delay 1 ms): the request lands inside one, on
 * the secondary possibly while it applies it (the takeover then waits
 * for the end of the load).  The side told leaves COLO by request; the
 * other sees its peer go, leaves COLO with an error, and takes over
 * when told as well.  Neither may hang or crash.
 */
static void run_heartbeat_busy(bool on_secondary)
{
    ColoPair pair;
    ColoPairOpts opts = { .checkpoint_delay = 1 };
    QmpTestProc *told, *other;
    const char *told_mode = on_secondary ? "secondary" : "primary";
    const char *other_mode = on_secondary ? "primary" : "secondary";

    colo_test_enter(&pair, NULL, &opts);
    told = on_secondary ? pair.secondary : pair.primary;
    other = on_secondary ? pair.primary : pair.secondary;
    assert_true(colo_wait_checkpoints(pair.secondary, 5, COLO_TIMEOUT_MS));
    colo_drain_events(pair.primary, "STOP");
    qmptest_auto_json json_t *stop = qmptest_wait_event(
        qmptest_client(pair.primary), "STOP", COLO_TIMEOUT_MS);
    assert_non_null(stop);
    colo_failover(told, told_mode, "request");
    assert_true(colo_wait_exit_event(other, other_mode, "error",
                                     COLO_TIMEOUT_MS));
    assert_true(colo_status_is(other, other_mode, "none", "none"));
    colo_failover(other, other_mode, "none");
    colo_assert_guest_alive(pair.primary, pair.pqt, false);
    colo_assert_guest_alive(pair.secondary, pair.sqt, false);
    colo_quit_clean(&pair.primary);
    colo_quit_clean(&pair.secondary);
    colo_pair_free(&pair);
}

static void test_heartbeat_busy_secondary(void **s)
{
    run_heartbeat_busy(true);
}
static void test_heartbeat_busy_primary(void **s)
{
    run_heartbeat_busy(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primary_dies_qtest),
        cmocka_unit_test(test_primary_dies_mid_qtest),
        cmocka_unit_test(test_secondary_dies_qtest),
        cmocka_unit_test(test_secondary_dies_mid_qtest),
        cmocka_unit_test(test_heartbeat_busy_secondary),
        cmocka_unit_test(test_heartbeat_busy_primary),
    };
    const struct CMUnitTest guest_tests[] = {
        cmocka_unit_test(test_primary_dies_guest),
        cmocka_unit_test(test_primary_dies_mid_guest),
        cmocka_unit_test(test_secondary_dies_guest),
        cmocka_unit_test(test_secondary_dies_mid_guest),
    };
    int failed;

    failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += accel_test_run_group("colo-failover-guest", guest_tests,
                                   G_N_ELEMENTS(guest_tests), NULL, NULL);
    return failed;
}
