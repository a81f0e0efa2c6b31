/*
 * What QMP says and allows at each stage of a real migration between
 * two processes: query-migrate's members at each status, the commands
 * refused while a migration runs, max-bandwidth applied to a migration
 * in progress, a migration that cannot connect, and new migrations
 * after a failed, a cancelled and a completed one.  (Argument checks
 * that need no migration in flight are in test-migration-qmp.)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "migration-test.h"

#define RAM_MIB 32
#define RAM_SIZE (RAM_MIB * MIB)
#define CRAWL_BANDWIDTH (1 * MIB)

/* Every member of MigrationStats, in schema order. */
static const char *const ram_members[] = {
    "transferred", "remaining", "total", "duplicate", "skipped", "normal",
    "normal-bytes", "dirty-pages-rate", "mbps", "dirty-sync-count",
    "postcopy-requests", "page-size", "multifd-bytes", "pages-per-second",
    "precopy-bytes", "downtime-bytes", "postcopy-bytes",
    "dirty-sync-missed-zero-copy",
};

/* @info has exactly the members listed (NULL-terminated). */
static void assert_members(json_t *info, const char *const *names)
{
    size_t n = 0;

    for (; names[n]; n++) {
        if (!json_object_get(info, names[n])) {
            fail_msg("query-migrate lacks '%s': %s", names[n],
                     json_dumps(info, JSON_COMPACT));
        }
    }
    if (json_object_size(info) != n) {
        fail_msg("query-migrate has unexpected members: %s",
                 json_dumps(info, JSON_COMPACT));
    }
}

static void assert_ram_stats(json_t *ram)
{
    assert_true(json_is_object(ram));
    assert_int_equal(json_object_size(ram), G_N_ELEMENTS(ram_members));
    for (size_t i = 0; i < G_N_ELEMENTS(ram_members); i++) {
        json_t *v = json_object_get(ram, ram_members[i]);

        if (!json_is_number(v)) {
            fail_msg("ram.%s missing or not a number", ram_members[i]);
        }
    }
    assert_int_equal(json_integer_value(json_object_get(ram, "total")),
                     RAM_SIZE);
    assert_int_equal(json_integer_value(json_object_get(ram, "page-size")),
                     4096);
}

static int64_t ram_stat(json_t *ram, const char *name)
{
    return json_integer_value(json_object_get(ram, name));
}

/*
 * QEMU's counters add up: every byte of RAM sent is counted as sent
 * while the guest ran, while it was stopped, or in postcopy.
 */
static void assert_ram_bytes_add_up(json_t *ram)
{
    int64_t transferred = ram_stat(ram, "transferred");

    assert_int_equal(ram_stat(ram, "precopy-bytes") +
                     ram_stat(ram, "downtime-bytes") +
                     ram_stat(ram, "postcopy-bytes"), transferred);
    assert_true(ram_stat(ram, "downtime-bytes") <= transferred);
    assert_int_equal(ram_stat(ram, "postcopy-bytes"), 0);
}

/* @cmd (a JSON request) fails with GenericError and @desc. */
static void assert_refused(QmpTestProc *vm, const char *cmd, const char *desc)
{
    qmptest_auto_json json_t *r = qmptest_cmd(qmptest_client(vm), "%s", cmd);

    assert_non_null(r);
    assert_non_null(qmptest_error_class(r));
    assert_string_equal(qmptest_error_class(r), "GenericError");
    assert_string_equal(qmptest_error_desc(r), desc);
}

static void test_lifecycle(void **state)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *uri = NULL;
    QtestClient *src_qt = NULL, *dst_qt = NULL;
    g_autoptr(QmpTestProc) src = NULL;
    g_autoptr(QmpTestProc) dst = NULL;
    json_t *info;

    src = migtest_start_source_qtest(args, &src_qt);
    assert_non_null(src);
    dst = migtest_start_dest_qtest(args, "defer", &dst_qt);
    assert_non_null(dst);

    /* Nothing started yet: no status at all, on either side. */
    info = migtest_query(src);
    assert_int_equal(json_object_size(info), 0);
    json_decref(info);

    mig_assert_runstate(dst, "inmigrate");
    uri = migtest_incoming_tcp(dst);
    assert_non_null(uri);

    /* Active, and slow enough to look at. */
    assert_true(migtest_fill_ram(src_qt, RAM_SIZE, 4));
    assert_true(migtest_set_parameter(src, "max-bandwidth",
                                      CRAWL_BANDWIDTH));
    assert_true(migtest_migrate(src, uri));
    assert_true(migtest_wait_status(src, "active", MIGTEST_TIMEOUT_MS));
    info = migtest_query(src);
    assert_members(info, (const char *const[]){
        "status", "total-time", "setup-time", "expected-downtime", "ram",
        NULL });
    assert_string_equal(json_string_value(json_object_get(info, "status")),
                        "active");
    assert_ram_stats(json_object_get(info, "ram"));
    assert_ram_bytes_add_up(json_object_get(info, "ram"));
    /*
     * Nothing dirties memory during this migration: as in QEMU, the
     * estimate stays at the downtime limit (300 ms by default) rather
     * than remaining memory over a crawling bandwidth.
     */
    assert_int_equal(ram_stat(json_object_get(info, "ram"),
                              "dirty-pages-rate"), 0);
    assert_int_equal(json_integer_value(json_object_get(info,
                                                        "expected-downtime")),
                     300);
    json_decref(info);
    mig_assert_runstate(src, "running");

    /* Not while it runs: another migrate, new capabilities. */
    assert_refused(src, "{'execute': 'migrate', 'arguments': "
                   "{'uri': 'unix:/nonexistent'}}",
                   "There's a migration process in progress");
    assert_refused(src, "{'execute': 'migrate-set-capabilities', "
                   "'arguments': {'capabilities': [{'capability': "
                   "'auto-converge', 'state': true}]}}",
                   "There's a migration process in progress");

    /* The destination is loading. */
    assert_true(migtest_wait_status(dst, "active", MIGTEST_TIMEOUT_MS));
    {
        g_autofree char *st = migtest_query_status(dst);

        assert_string_equal(st, "active");
    }

    /* max-bandwidth applies at once: lifted, the migration finishes. */
    assert_true(migtest_set_parameter(src, "max-bandwidth",
                                      MIGTEST_BANDWIDTH_UNLIMITED));
    assert_true(migtest_wait_status(src, "completed", MIGTEST_TIMEOUT_MS));
    info = migtest_query(src);
    assert_members(info, (const char *const[]){
        "status", "total-time", "setup-time", "downtime", "ram", NULL });
    assert_ram_stats(json_object_get(info, "ram"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(info, "ram"),
                                           "remaining")), 0);
    assert_ram_bytes_add_up(json_object_get(info, "ram"));
    /* The switch-over sent the last of it with the guest stopped. */
    assert_true(ram_stat(json_object_get(info, "ram"), "downtime-bytes") >
                0);
    json_decref(info);
    mig_assert_runstate(src, "postmigrate");
    assert_true(migtest_wait_status(dst, "completed", MIGTEST_TIMEOUT_MS));
    mig_assert_runstate(dst, "running");
    assert_true(migtest_ram_equal(src_qt, dst_qt, RAM_SIZE));

    /* The destination can migrate on. */
    assert_true(migtest_migrate(dst, "exec:cat > /dev/null"));
    assert_true(migtest_wait_status(dst, "completed", MIGTEST_TIMEOUT_MS));

    qtest_client_free(src_qt);
    qtest_client_free(dst_qt);
    assert_int_equal(qmptest_quit(dst, QMPTEST_TIMEOUT_MS), 0);
    assert_int_equal(qmptest_quit(src, QMPTEST_TIMEOUT_MS), 0);
}

/* Failed and cancelled migrations show only status (and error-desc). */
static void test_failed_and_cancelled(void **state)
{
    g_autoptr(QmpTestProc) src = NULL;
    g_autoptr(QmpTestProc) dst = NULL;
    QtestClient *qt = NULL;
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *qtest_args = g_strdup_printf("-accel qtest -m %uM",
                                                  RAM_MIB);
    g_autofree char *dead = NULL;
    g_autofree char *uri = NULL;
    json_t *info;

    src = migtest_start_source_qtest(args, &qt);
    assert_non_null(src);
    dead = g_strdup_printf("unix:%s/nobody.sock", qmptest_tmpdir(src));

    /* Nobody listens: failed, with a reason; the guest still runs. */
    assert_true(migtest_migrate(src, dead));
    assert_true(migtest_wait_status(src, "failed", MIGTEST_TIMEOUT_MS));
    info = migtest_query(src);
    assert_members(info, (const char *const[]){ "status", "error-desc",
                                                NULL });
    print_message("error-desc: %s\n",
                  json_string_value(json_object_get(info, "error-desc")));
    json_decref(info);
    mig_assert_runstate(src, "running");

    /* Cancelled: status alone; and a new migration may follow. */
    assert_true(migtest_fill_ram(qt, RAM_SIZE, 5));
    assert_true(migtest_set_parameter(src, "max-bandwidth",
                                      CRAWL_BANDWIDTH));
    dst = migtest_start_dest(qtest_args, "defer");
    assert_non_null(dst);
    uri = migtest_unix_uri(dst);
    assert_true(migtest_incoming(dst, uri));
    assert_true(migtest_migrate(src, uri));
    assert_true(migtest_wait_status(src, "active", MIGTEST_TIMEOUT_MS));
    assert_true(migtest_cancel(src));
    assert_true(migtest_wait_status(src, "cancelled", MIGTEST_TIMEOUT_MS));
    info = migtest_query(src);
    assert_members(info, (const char *const[]){ "status", NULL });
    json_decref(info);
    mig_assert_runstate(src, "running");
    assert_true(migtest_wait_exit_status(dst, 1, MIGTEST_TIMEOUT_MS));

    /*
     * A paused guest: every byte goes while it is stopped, and is
     * counted as downtime, within what was transferred.
     */
    {
        qmptest_auto_json json_t *r = qmptest_cmd(qmptest_client(src),
                                                  "{'execute': 'stop'}");

        assert_non_null(qmptest_return(r));
    }
    assert_true(migtest_set_parameter(src, "max-bandwidth",
                                      MIGTEST_BANDWIDTH_UNLIMITED));
    assert_true(migtest_migrate(src, "exec:cat > /dev/null"));
    assert_true(migtest_wait_status(src, "completed", MIGTEST_TIMEOUT_MS));
    info = migtest_query(src);
    assert_ram_bytes_add_up(json_object_get(info, "ram"));
    assert_int_equal(ram_stat(json_object_get(info, "ram"),
                              "precopy-bytes"), 0);
    assert_true(ram_stat(json_object_get(info, "ram"), "transferred") >=
                RAM_SIZE);
    json_decref(info);
    qtest_client_free(qt);
    assert_int_equal(qmptest_quit(src, QMPTEST_TIMEOUT_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_failed_and_cancelled),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
