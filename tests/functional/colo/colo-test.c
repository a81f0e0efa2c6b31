/*
 * Shared steps of the COLO functional tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <sys/wait.h>

#include "colo-test.h"
#include "serial-test.h"

void colo_test_start(ColoPair *pair, const char *accel,
                     ColoPairOpts *opts)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *kernel = NULL;

    opts->ram_mib = opts->ram_mib ? opts->ram_mib : COLO_RAM_MIB;
    opts->qtest = !accel;
    opts->accel = accel;
    if (accel) {
        assert_non_null(dir);
        kernel = g_strdup_printf("%s/dirtier.elf", dir);
        opts->kernel = kernel;
    }
    assert_true(colo_pair_start(pair, opts));
    opts->kernel = NULL;
    if (accel) {
        assert_true(migtest_set_parameter(pair->primary, "max-bandwidth",
                                          MIGTEST_BANDWIDTH_UNLIMITED));
        /* Enough for any host to copy the whole RAM in one go. */
        assert_true(migtest_set_parameter(pair->primary, "downtime-limit",
                                          2000));
        assert_true(serial_wait_char_count(pair->primary, 'B', 1,
                                           QMPTEST_TIMEOUT_MS));
    }
}

void colo_test_enter(ColoPair *pair, const char *accel,
                     ColoPairOpts *opts)
{
    colo_test_start(pair, accel, opts);
    assert_true(colo_pair_migrate(pair));
    assert_true(colo_pair_wait_colo(pair, COLO_TIMEOUT_MS));
}

void colo_assert_runstate(QmpTestProc *vm, const char *expected)
{
    g_autofree char *state = migtest_runstate(vm);

    assert_non_null(state);
    assert_string_equal(state, expected);
}

void colo_assert_migration(QmpTestProc *vm, const char *expected)
{
    g_autofree char *status = migtest_query_status(vm);

    assert_non_null(status);
    assert_string_equal(status, expected);
}

void colo_drain_events(QmpTestProc *vm, const char *name)
{
    QmpTestClient *c = qmptest_client(vm);

    for (;;) {
        qmptest_auto_json json_t *ev = qmptest_wait_event(c, name, 0);

        if (!ev) {
            return;
        }
    }
}

uint8_t *colo_ram_snapshot(QtestClient *qt, uint64_t size)
{
    uint8_t *buf = g_malloc(size);

    assert_true(size <= QTEST_CLIENT_MAX_ACCESS);
    assert_true(qtest_bufread(qt, 0, buf, size));
    return buf;
}

void colo_wait_running(QmpTestProc *vm)
{
    int64_t deadline = qmptest_deadline(COLO_TIMEOUT_MS);

    for (;;) {
        g_autofree char *state = migtest_runstate(vm);

        assert_non_null(state);
        if (!strcmp(state, "running")) {
            return;
        }
        if (g_get_monotonic_time() > deadline) {
            fail_msg("the guest did not run again: run state '%s'", state);
        }
        g_usleep(20 * 1000);
    }
}

void colo_assert_guest_alive(QmpTestProc *vm, QtestClient *qt, bool guest)
{
    colo_wait_running(vm);
    if (guest) {
        g_autofree char *why = NULL;
        qmptest_auto_json json_t *r = NULL;

        assert_true(serial_wait_more_chars(vm, 'B', 2, QMPTEST_TIMEOUT_MS));
        r = qmptest_cmd(qmptest_client(vm), "{'execute': 'stop'}");
        assert_non_null(qmptest_return(r));
        if (!migtest_check_dirtier_ram(vm, COLO_RAM_SIZE, DIRTY_START, 1,
                                       &why)) {
            fail_msg("guest RAM after failover: %s", why);
        }
        json_decref(r);
        r = qmptest_cmd(qmptest_client(vm), "{'execute': 'cont'}");
        assert_non_null(qmptest_return(r));
        assert_true(serial_wait_more_chars(vm, 'B', 1, QMPTEST_TIMEOUT_MS));
    } else {
        uint64_t v;

        assert_true(qtest_writeq(qt, 0x2000, 0x1122334455667788ull));
        assert_true(qtest_readq(qt, 0x2000, &v));
        assert_true(v == 0x1122334455667788ull);
    }
}

void colo_failover(QmpTestProc *vm, const char *mode,
                   const char *exit_reason)
{
    qmptest_auto_json json_t *r = colo_lost_heartbeat(vm);
    qmptest_auto_json json_t *again = NULL;
    qmptest_auto_json json_t *stats = NULL;

    assert_non_null(r);
    if (!qmptest_return(r)) {
        fail_msg("x-colo-lost-heartbeat on the %s: %s", mode,
                 qmptest_error_desc(r));
    }
    if (!exit_reason) {
        /* A dead peer may be noticed before the request arrives. */
        qmptest_auto_json json_t *ev = qmptest_wait_event(
            qmptest_client(vm), "COLO_EXIT", COLO_TIMEOUT_MS);
        json_t *data = json_object_get(ev, "data");
        const char *why = json_string_value(json_object_get(data, "reason"));

        assert_non_null(ev);
        assert_string_equal(json_string_value(json_object_get(data, "mode")),
                            mode);
        if (g_strcmp0(why, "request") && g_strcmp0(why, "error")) {
            fail_msg("COLO_EXIT reason '%s'", why);
        }
    } else if (strcmp(exit_reason, "none")) {
        assert_true(colo_wait_exit_event(vm, mode, exit_reason,
                                         COLO_TIMEOUT_MS));
    }
    assert_true(migtest_wait_status(vm, "completed", COLO_TIMEOUT_MS));
    colo_assert_migration(vm, "completed");
    assert_true(colo_status_is(vm, "none", mode, "request"));
    /* The counters stay readable after COLO. */
    stats = colo_stats(vm);
    assert_non_null(stats);
    assert_string_equal(json_string_value(json_object_get(stats, "mode")),
                        mode);
    /* Out of COLO now: a second request is refused. */
    again = colo_lost_heartbeat(vm);
    assert_non_null(again);
    assert_null(qmptest_return(again));
    assert_string_equal(qmptest_error_class(again), "GenericError");
    assert_true(colo_proc_alive(vm));
}

void colo_quit_clean(QmpTestProc **vm)
{
    int status;

    if (!*vm) {
        return;
    }
    status = qmptest_quit(*vm, QMPTEST_TIMEOUT_MS);
    if (status != 0) {
        fail_msg("quit: status 0x%x%s\n%s", status,
                 WIFSIGNALED(status) ? " (signal)" : "",
                 qmptest_stderr(*vm));
    }
    g_clear_pointer(vm, qmptest_free);
}
