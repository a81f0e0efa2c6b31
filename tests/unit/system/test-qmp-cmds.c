/*
 * The run-state QMP handlers called directly: QEMU 7.2's behaviour in
 * every state, and pmemsave's checks of the range and the file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qapi/qapi-commands.h"
#include "system-test.h"
#include "system/accel.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "util/bql.h"

#define MiB (1024 * 1024ULL)

static char *tmpdir;

static const AccelOps fake_accel = { .name = "fake-qmp" };

static int setup(void **state)
{
    runstate_init();
    test_events_clear();
    assert_true(accel_select("fake-qmp", &error_abort));
    ram_block_add("pc.ram", 0, 4 * MiB, &error_abort);
    return 0;
}

static int teardown(void **state)
{
    ram_block_remove_all();
    accel_reset_current();
    runstate_cleanup();
    return 0;
}

static void assert_status(RunState state)
{
    g_autoptr(StatusInfo) info = qmp_query_status(&error_abort);

    assert_int_equal(info->status, state);
    assert_int_equal(info->running, state == RUN_STATE_RUNNING);
    assert_false(info->singlestep);
}

static void assert_error(Error *err, const char *desc)
{
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), desc);
    error_free(err);
}

static void test_stop_cont(void **state)
{
    g_autofree char *events = NULL;

    assert_status(RUN_STATE_PRELAUNCH);
    /* stop before the start does nothing; cont starts. */
    qmp_stop(&error_abort);
    assert_status(RUN_STATE_PRELAUNCH);
    qmp_cont(&error_abort);
    assert_status(RUN_STATE_RUNNING);
    qmp_cont(&error_abort);
    qmp_stop(&error_abort);
    assert_status(RUN_STATE_PAUSED);
    qmp_stop(&error_abort);
    qmp_cont(&error_abort);
    assert_status(RUN_STATE_RUNNING);
    events = test_events_joined();
    assert_string_equal(events, "RESUME STOP RESUME");
}

static void test_cont_refused(void **state)
{
    Error *err = NULL;

    assert_true(runstate_set(RUN_STATE_RUNNING, &error_abort));
    assert_true(runstate_set(RUN_STATE_INTERNAL_ERROR, &error_abort));
    qmp_cont(&err);
    assert_error(err, "Resetting the Virtual Machine is required");
    assert_status(RUN_STATE_INTERNAL_ERROR);

    /* After a reset the stopped VM is in prelaunch and may start. */
    qmp_system_reset(&error_abort);
    assert_status(RUN_STATE_PRELAUNCH);
    qmp_cont(&error_abort);
    assert_status(RUN_STATE_RUNNING);

    assert_true(runstate_set(RUN_STATE_SHUTDOWN, &error_abort));
    err = NULL;
    qmp_cont(&err);
    assert_error(err, "Resetting the Virtual Machine is required");

    runstate_init();
    assert_true(runstate_set(RUN_STATE_FINISH_MIGRATE, &error_abort));
    err = NULL;
    qmp_cont(&err);
    assert_error(err, "Migration is not finalized yet");
}

/* During an incoming migration stop and cont only choose what happens
 * when it completes. */
static void test_inmigrate(void **state)
{
    assert_true(runstate_set(RUN_STATE_INMIGRATE, &error_abort));
    qmp_stop(&error_abort);
    assert_false(vm_get_autostart());
    qmp_cont(&error_abort);
    assert_true(vm_get_autostart());
    assert_status(RUN_STATE_INMIGRATE);
    qmp_system_reset(&error_abort);
    assert_status(RUN_STATE_INMIGRATE);
    assert_int_equal(test_events_count(), 1);
    assert_string_equal(test_event_name(0), "RESET");
}

static void test_pmemsave(void **state)
{
    g_autofree char *path = g_build_filename(tmpdir, "mem", NULL);
    g_autofree char *empty = g_build_filename(tmpdir, "empty", NULL);
    g_autofree char *contents = NULL;
    uint8_t *host = ram_gpa_to_host(0, 4 * MiB);
    gsize len;

    for (uint64_t i = 0; i < 4 * MiB; i++) {
        host[i] = i * 7 + (i >> 12);
    }
    qmp_pmemsave(MiB + 3, 2 * MiB, path, &error_abort);
    assert_true(g_file_get_contents(path, &contents, &len, NULL));
    assert_int_equal(len, 2 * MiB);
    assert_memory_equal(contents, host + MiB + 3, len);

    /* The whole of RAM, and nothing at all. */
    qmp_pmemsave(0, 4 * MiB, path, &error_abort);
    assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    qmp_pmemsave(4 * MiB, 0, empty, &error_abort);
    g_free(contents);
    contents = NULL;
    assert_true(g_file_get_contents(empty, &contents, &len, NULL));
    assert_int_equal(len, 0);
}

static void test_pmemsave_errors(void **state)
{
    g_autofree char *path = g_build_filename(tmpdir, "bad", NULL);
    g_autofree char *nodir = g_build_filename(tmpdir, "no", "file", NULL);
    g_autofree char *open_err = g_strdup_printf(
        "Could not open '%s': No such file or directory", nodir);
    static const struct {
        int64_t addr, size;
        const char *desc;
    } bad[] = {
        { 0, 4 * MiB + 1,
          "Invalid addr 0x0000000000000000/size 4194305 specified" },
        { 4 * MiB, 1,
          "Invalid addr 0x0000000000400000/size 1 specified" },
        { -1, 4096,
          "Invalid addr 0xffffffffffffffff/size 4096 specified" },
        { 0, -5, "Invalid addr 0x0000000000000000/size -5 specified" },
        { 4096, INT64_MAX,
          "Invalid addr 0x0000000000001000/size 9223372036854775807 "
          "specified" },
    };
    Error *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        qmp_pmemsave(bad[i].addr, bad[i].size, path, &err);
        assert_error(err, bad[i].desc);
        err = NULL;
        /* A bad range creates no file. */
        assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    }
    qmp_pmemsave(0, 4096, nodir, &err);
    assert_error(err, open_err);
}

static void remove_tmp_file(const char *name)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);

    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_cont, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cont_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inmigrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmemsave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmemsave_errors, setup,
                                        teardown),
    };
    g_autoptr(GError) gerr = NULL;
    int ret;

    tmpdir = g_dir_make_tmp("test-qmp-cmds-XXXXXX", &gerr);
    assert_non_null(tmpdir);
    accel_register(&fake_accel);
    bql_lock();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    bql_unlock();
    remove_tmp_file("mem");
    remove_tmp_file("empty");
    rmdir(tmpdir);
    g_free(tmpdir);
    return ret;
}
