/*
 * Auto-converge: a guest that dirties memory faster than the migration
 * can send it never gets close enough to finish, unless its vCPUs are
 * slowed down.
 *
 * The dirtier guest, under each accelerator that runs guest code here
 * (accel-test.h), rewrites all of its 255 MiB every pass.
 * The test first measures how long a pass takes on this host (T), then
 * picks the bandwidth so that sending all the memory once takes about
 * four passes (S = 4T), and a downtime limit that lets the migration
 * finish only once less than a quarter of the memory is dirty after a
 * round of sending (limit = S / 4).  Without throttling the whole memory
 * is dirty again after every round, whatever the host's speed, so the
 * migration cannot finish; with the guest slowed to 99%, a pass takes
 * 100T and a round leaves about 4% dirty.  Only the outcome is checked:
 * the deadlines are generous.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "migration-test.h"
#include "serial-test.h"

#define RAM_MIB 256
#define RAM_SIZE (RAM_MIB * MIB)
#define DIRTY_SIZE (RAM_SIZE - DIRTY_START)
/* Passes the migration is given to finish without auto-converge. */
#define PASSES_WITHOUT 5
#define MEASURED_PASSES 4
#define MAX_BANDWIDTH (1024 * MIB)

typedef struct Tuning {
    uint64_t bandwidth;     /* bytes/s */
    uint64_t downtime_ms;
} Tuning;

static Tuning tune(QmpTestProc *src)
{
    int64_t t0, t1;
    double pass_s, send_s;
    Tuning t;

    assert_true(serial_wait_more_chars(src, 'B', 1, QMPTEST_TIMEOUT_MS));
    t0 = g_get_monotonic_time();
    assert_true(serial_wait_more_chars(src, 'B', MEASURED_PASSES,
                                       4 * QMPTEST_TIMEOUT_MS));
    t1 = g_get_monotonic_time();
    pass_s = (t1 - t0) / 1e6 / MEASURED_PASSES;
    t.bandwidth = MIN(MAX_BANDWIDTH, MAX(MIB, DIRTY_SIZE / (4 * pass_s)));
    send_s = (double)DIRTY_SIZE / t.bandwidth;
    t.downtime_ms = MAX(1, send_s * 1000 / 4);
    print_message("dirtier pass %.3f s; max-bandwidth %" PRIu64
                  " B/s; downtime-limit %" PRIu64 " ms\n", pass_s,
                  t.bandwidth, t.downtime_ms);
    return t;
}

static QmpTestProc *start_dest_listening(const char *accel, char **uri)
{
    QmpTestProc *dst = mig_start_dest(accel, RAM_MIB, NULL, "defer");

    *uri = migtest_unix_uri(dst);
    assert_true(migtest_incoming(dst, *uri));
    return dst;
}

static int64_t throttle_of(json_t *info)
{
    json_t *v = json_object_get(info, "cpu-throttle-percentage");

    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/*
 * Follow the migration to its end, reading query-migrate twice a
 * second; the final status, and in *@max_throttle the highest throttle
 * seen.  The throttle only moves once per pass, and a pass takes
 * seconds here.
 */
static char *follow(QmpTestProc *src, int timeout_ms, int64_t *max_throttle)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    *max_throttle = 0;
    while (g_get_monotonic_time() < deadline) {
        qmptest_auto_json json_t *info = migtest_query(src);
        const char *status;

        assert_non_null(info);
        *max_throttle = MAX(*max_throttle, throttle_of(info));
        status = json_string_value(json_object_get(info, "status"));
        if (migtest_status_is_final(status)) {
            return g_strdup(status);
        }
        /* A pause that keeps reading what the monitor sends. */
        assert_false(qmptest_wait_closed(qmptest_client(src), 500));
    }
    return NULL;
}

static void test_auto_converge(void **state)
{
    const char *accel = accel_test_accel(state);
    g_autoptr(QmpTestProc) src = NULL;
    g_autoptr(QmpTestProc) dst1 = NULL;
    g_autoptr(QmpTestProc) dst2 = NULL;
    g_autofree char *uri1 = NULL, *uri2 = NULL, *status = NULL;
    qmptest_auto_json json_t *info = NULL;
    int64_t max_throttle;
    Tuning t;

    src = mig_start_dirtier_source(accel, RAM_MIB, NULL);
    t = tune(src);
    assert_true(migtest_set_parameter(src, "max-bandwidth", t.bandwidth));
    assert_true(migtest_set_parameter(src, "downtime-limit", t.downtime_ms));
    assert_true(migtest_set_parameter(src, "cpu-throttle-initial", 50));
    assert_true(migtest_set_parameter(src, "cpu-throttle-increment", 25));

    /* Without auto-converge: still copying after several passes. */
    dst1 = start_dest_listening(accel, &uri1);
    assert_true(migtest_migrate(src, uri1));
    assert_true(migtest_wait_pass(src, PASSES_WITHOUT, 4 * MIGTEST_TIMEOUT_MS));
    info = migtest_query(src);
    assert_string_equal(json_string_value(json_object_get(info, "status")),
                        "active");
    assert_int_equal(throttle_of(info), 0);
    assert_true(migtest_cancel(src));
    assert_true(migtest_wait_status(src, "cancelled", MIGTEST_TIMEOUT_MS));
    assert_true(migtest_wait_exit_status(dst1, 1, MIGTEST_TIMEOUT_MS));
    mig_assert_runstate(src, "running");

    /* With it: the guest is slowed down and the migration completes. */
    assert_true(migtest_set_capability(src, "auto-converge", true));
    dst2 = start_dest_listening(accel, &uri2);
    assert_true(migtest_migrate(src, uri2));
    status = follow(src, 6 * MIGTEST_TIMEOUT_MS, &max_throttle);
    print_message("ended %s; highest throttle %" PRId64 "%%\n",
                  status ? status : "(timeout)", max_throttle);
    assert_non_null(status);
    assert_string_equal(status, "completed");
    assert_true(max_throttle >= 50);
    g_free(status);
    status = migtest_wait_end(dst2, MIGTEST_TIMEOUT_MS);
    assert_string_equal(status, "completed");
    mig_check_dirtier_dest(dst2, RAM_SIZE, 1);
    assert_int_equal(qmptest_quit(dst2, QMPTEST_TIMEOUT_MS), 0);
    assert_int_equal(qmptest_quit(src, QMPTEST_TIMEOUT_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_converge),
    };

    return accel_test_run_group("migration-converge", tests,
                                G_N_ELEMENTS(tests), NULL, NULL);
}
