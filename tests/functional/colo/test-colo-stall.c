/*
 * A link that goes silent: the fault proxy between the primary and the
 * secondary stops forwarding (one direction or both) without closing
 * anything, as a frozen peer or a link that drops every packet would.
 * Between checkpoints the heartbeat notices; inside a checkpoint the
 * bound on every read and write does.  Either way each side must report
 * it as it reports a closed link (COLO_EXIT with reason error, the
 * reason on stderr), wait with its guest as the failure found it
 * (docs/colo.md, "Leaving COLO"), and take over alone when told
 * x-colo-lost-heartbeat.
 *
 * The timeout is short (STALL_TIMEOUT_MS); nothing here measures time:
 * every wait is for an event, with the usual generous deadline.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "colo-test.h"

#define STALL_INTERVAL_MS 200
#define STALL_TIMEOUT_MS 1500

/* Fill byte of the memory image the stalled checkpoint carries. */
#define NEW_IMAGE 0xbb

static void stall_pair_enter(ColoPair *pair)
{
    ColoPairOpts opts = { .via_proxy = true,
                          .checkpoint_delay = COLO_DELAY_NEVER,
                          .heartbeat_interval = STALL_INTERVAL_MS,
                          .heartbeat_timeout = STALL_TIMEOUT_MS };

    colo_test_enter(pair, NULL, &opts);
}

/* @vm left COLO by itself, says why, and waits with its guest @runstate. */
static void assert_noticed(QmpTestProc *vm, const char *mode,
                           const char *runstate)
{
    assert_true(colo_wait_exit_event(vm, mode, "error", COLO_TIMEOUT_MS));
    /* Reported as a closed link is, with the reason: the silence. */
    assert_true(qmptest_wait_stderr(vm, "Timed out", COLO_TIMEOUT_MS));
    print_message("%s: %s", mode, qmptest_stderr(vm));
    assert_true(colo_proc_alive(vm));
    /* Still in COLO for QEMU's query: it waits for a decision. */
    assert_true(colo_status_is(vm, mode, "none", "none"));
    colo_assert_migration(vm, "colo");
    colo_assert_runstate(vm, runstate);
}

/* Every byte of the guest memory of @qt is @v. */
static void assert_ram_filled(QtestClient *qt, uint8_t v)
{
    g_autofree uint8_t *ram = colo_ram_snapshot(qt, COLO_RAM_SIZE);

    for (uint64_t i = 0; i < COLO_RAM_SIZE; i++) {
        if (ram[i] != v) {
            fail_msg("byte 0x%" PRIx64 " of guest memory is 0x%02x, "
                     "expected 0x%02x", i, ram[i], v);
        }
    }
}

/* Both take over alone, as after a cut link. */
static void take_over_both(ColoPair *pair)
{
    colo_failover(pair->primary, "primary", "none");
    colo_failover(pair->secondary, "secondary", "none");
}

/* Both guests run (qtest writes work), then both processes quit. */
static void finish(ColoPair *pair)
{
    colo_assert_guest_alive(pair->primary, pair->pqt, false);
    colo_assert_guest_alive(pair->secondary, pair->sqt, false);
    colo_quit_clean(&pair->primary);
    colo_quit_clean(&pair->secondary);
    colo_pair_free(pair);
}

/*
 * Between checkpoints: heartbeats flow, then the link goes silent in
 * @dirs.  A side that stops hearing from its peer (or whose heartbeat
 * is not answered) gives up; the other one, no longer hearing it,
 * follows.  Both guests run on.
 */
static void run_idle(unsigned dirs)
{
    ColoPair pair;

    stall_pair_enter(&pair);
    /* A few heartbeats go through first (each is 9 + 8 bytes). */
    assert_true(fault_proxy_wait_bytes(
        pair.proxy, FAULT_DIR_BACKWARD,
        fault_proxy_bytes(pair.proxy, FAULT_DIR_BACKWARD) + 3 * 8,
        COLO_TIMEOUT_MS));
    fault_proxy_stall_now(pair.proxy, dirs);
    assert_noticed(pair.primary, "primary", "running");
    assert_noticed(pair.secondary, "secondary", "running");
    assert_int_equal(colo_checkpoint_count(pair.primary), 0);
    assert_int_equal(colo_checkpoint_count(pair.secondary), 0);
    assert_false(fault_proxy_is_closed(pair.proxy));
    take_over_both(&pair);
    finish(&pair);
}

static void test_idle_both(void **s) { run_idle(FAULT_STALL_BOTH); }
static void test_idle_forward(void **s) { run_idle(FAULT_STALL_FORWARD); }
static void test_idle_backward(void **s) { run_idle(FAULT_STALL_BACKWARD); }

/*
 * Inside a checkpoint: the primary's memory changes whole, a checkpoint
 * starts, and once 1 MiB of it has crossed (well inside its 32 MiB of
 * memory: the primary's guest is stopped by then) the link goes silent
 * in @dirs.
 */
static void run_mid(unsigned dirs)
{
    ColoPair pair;
    uint64_t start;

    stall_pair_enter(&pair);
    assert_true(qtest_memset(pair.pqt, 0, NEW_IMAGE, COLO_RAM_SIZE));
    start = fault_proxy_bytes(pair.proxy, FAULT_DIR_FORWARD);
    fault_proxy_stall_after(pair.proxy, FAULT_DIR_FORWARD, start + MIB,
                            dirs);
    /* Setting the delay takes a checkpoint at once. */
    assert_true(migtest_set_parameter(pair.primary, "x-checkpoint-delay",
                                      COLO_DELAY_NEVER));
    assert_true(fault_proxy_wait_stalled(
        pair.proxy, dirs & FAULT_STALL_FORWARD ? FAULT_DIR_FORWARD
                                               : FAULT_DIR_BACKWARD,
        COLO_TIMEOUT_MS));
    /* The primary stopped for the checkpoint and never got it through. */
    assert_noticed(pair.primary, "primary", "colo");
    if (dirs & FAULT_STALL_FORWARD) {
        /* The secondary waits for the rest of it: nothing applied. */
        assert_noticed(pair.secondary, "secondary", "colo");
        assert_int_equal(colo_checkpoint_count(pair.secondary), 0);
    } else {
        /*
         * It got all of it, applied it and restarted its guest; its
         * vmstate-loaded never arrived.  Then no heartbeat came.
         */
        assert_noticed(pair.secondary, "secondary", "running");
        assert_int_equal(colo_checkpoint_count(pair.secondary), 1);
    }
    assert_int_equal(colo_checkpoint_count(pair.primary), 0);
    assert_false(fault_proxy_is_closed(pair.proxy));
    take_over_both(&pair);
    /* Never a torn checkpoint: the old image, or the whole new one. */
    assert_ram_filled(pair.sqt, dirs & FAULT_STALL_FORWARD ? 0 : NEW_IMAGE);
    assert_ram_filled(pair.pqt, NEW_IMAGE);
    finish(&pair);
}

static void test_mid_both(void **s) { run_mid(FAULT_STALL_BOTH); }
static void test_mid_forward(void **s) { run_mid(FAULT_STALL_FORWARD); }
static void test_mid_backward(void **s) { run_mid(FAULT_STALL_BACKWARD); }

/* x-heartbeat-interval and -timeout of query-migrate-parameters. */
static void assert_heartbeat_params(QmpTestProc *vm, int64_t interval,
                                    int64_t timeout)
{
    qmptest_auto_json json_t *p = qmptest_cmd(
        qmptest_client(vm), "{'execute': 'query-migrate-parameters'}");
    json_t *ret = qmptest_return(p);

    assert_non_null(ret);
    assert_int_equal(json_integer_value(
        json_object_get(ret, "x-heartbeat-interval")), interval);
    assert_int_equal(json_integer_value(
        json_object_get(ret, "x-heartbeat-timeout")), timeout);
}

/* migrate-set-parameters @args fails with @desc. */
static void assert_set_error(QmpTestProc *vm, const char *args,
                             const char *desc)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm), "{'execute': 'migrate-set-parameters', "
        "'arguments': %s}", args);

    assert_non_null(r);
    assert_null(qmptest_return(r));
    assert_string_equal(qmptest_error_desc(r), desc);
}

/* The heartbeat parameters: defaults, QEMU-style range errors. */
static void test_parameters(void **s)
{
    QtestClient *qt = NULL;
    QmpTestProc *vm = migtest_start_source_qtest("-m 32M", &qt);

    assert_non_null(vm);
    qtest_client_free(qt);
    assert_heartbeat_params(vm, 1000, 5000);
    assert_set_error(vm, "{'x-heartbeat-interval': 0}",
                     "Parameter 'x-heartbeat-interval' expects an integer "
                     "in the range of 1 to 3600000 ms");
    assert_set_error(vm, "{'x-heartbeat-timeout': 3600001}",
                     "Parameter 'x-heartbeat-timeout' expects an integer "
                     "in the range of 1 to 3600000 ms");
    assert_set_error(vm, "{'x-heartbeat-interval': 5000}",
                     "Parameter 'x-heartbeat-timeout' expects a value "
                     "greater than x-heartbeat-interval (5000 ms)");
    assert_heartbeat_params(vm, 1000, 5000);
    /* Checked together: both at once is fine. */
    assert_true(migtest_set_heartbeat(vm, 5000, 20000));
    assert_heartbeat_params(vm, 5000, 20000);
    colo_quit_clean(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_idle_both),
        cmocka_unit_test(test_idle_forward),
        cmocka_unit_test(test_idle_backward),
        cmocka_unit_test(test_mid_forward),
        cmocka_unit_test(test_mid_backward),
        cmocka_unit_test(test_mid_both),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
