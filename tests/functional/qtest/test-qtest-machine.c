/*
 * The machine under the qtest accelerator: run states through QMP
 * (stop, cont, query-status, STOP and RESUME events) with qtest working
 * in every state, and -machine dumpdtb=FILE.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/wait.h>
#include <libfdt.h>

#include "qtest-fixture.h"

static int setup(void **state)
{
    return qtest_fixture_start(state, 64, NULL);
}

static int setup_paused(void **state)
{
    return qtest_fixture_start(state, 64, "-S");
}

static int teardown(void **state)
{
    return qtest_fixture_stop(state);
}

static void assert_status(QmpTestClient *c, const char *status, bool running)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "{'execute': 'query-status'}");
    json_t *ret = qmptest_return(r);

    assert_non_null(ret);
    assert_string_equal(json_string_value(json_object_get(ret, "status")),
                        status);
    assert_true(json_is_boolean(json_object_get(ret, "running")));
    assert_int_equal(json_boolean_value(json_object_get(ret, "running")),
                     running);
    assert_true(json_is_false(json_object_get(ret, "singlestep")));
}

static void assert_empty_return(QmpTestClient *c, const char *cmd)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "{'execute': '%s'}", cmd);
    json_t *ret = qmptest_return(r);

    assert_true(json_is_object(ret));
    assert_int_equal(json_object_size(ret), 0);
}

static void expect_event(QmpTestClient *c, const char *name)
{
    qmptest_auto_json json_t *ev = qmptest_wait_event(c, name,
                                                      QMPTEST_TIMEOUT_MS);

    assert_non_null(ev);
    assert_non_null(json_object_get(ev, "timestamp"));
    /* STOP and RESUME carry no data, as in QEMU. */
    assert_null(json_object_get(ev, "data"));
}

/* qtest works whatever the run state. */
static void assert_qtest_works(QtestClient *qt, uint8_t val)
{
    assert_qtest_reply(qt, "OK", "writeb 0x5000 0x%x", val);
    assert_true(qtest_dirty_log_sync(qt));
    {
        g_autofree char *want = g_strdup_printf("OK 0x%016x", val);

        assert_qtest_reply(qt, want, "readb 0x5000");
    }
}

static void test_stop_cont(void **state)
{
    QtestFixture *f = *state;
    QmpTestClient *c = qmptest_client(f->vm);

    assert_status(c, "running", true);
    assert_qtest_works(f->qt, 1);

    assert_empty_return(c, "stop");
    expect_event(c, "STOP");
    assert_status(c, "paused", false);
    assert_qtest_works(f->qt, 2);
    /* Stopping a stopped VM does nothing, and sends no event. */
    assert_empty_return(c, "stop");
    assert_status(c, "paused", false);

    assert_empty_return(c, "cont");
    expect_event(c, "RESUME");
    assert_status(c, "running", true);
    assert_qtest_works(f->qt, 3);
    assert_empty_return(c, "cont");
    assert_int_equal(qmptest_event_count(c), 0);

    /* Several rounds, as a migration test would do. */
    for (int i = 0; i < 5; i++) {
        assert_empty_return(c, "stop");
        expect_event(c, "STOP");
        assert_empty_return(c, "cont");
        expect_event(c, "RESUME");
    }
    assert_int_equal(qmptest_event_count(c), 0);
    assert_int_equal(qmptest_quit(f->vm, QMPTEST_TIMEOUT_MS), 0);
}

static void test_start_paused(void **state)
{
    QtestFixture *f = *state;
    QmpTestClient *c = qmptest_client(f->vm);

    assert_status(c, "prelaunch", false);
    assert_qtest_works(f->qt, 4);
    assert_empty_return(c, "cont");
    expect_event(c, "RESUME");
    assert_status(c, "running", true);
    assert_qtest_works(f->qt, 5);
}

static void check_fdt(const void *fdt, size_t len)
{
    int mem, cpus, node, n = 0;
    const fdt32_t *reg;

    assert_int_equal(fdt_check_full(fdt, len), 0);
    mem = fdt_path_offset(fdt, "/memory@0");
    assert_true(mem >= 0);
    reg = fdt_getprop(fdt, mem, "reg", NULL);
    assert_non_null(reg);
    assert_int_equal(fdt32_to_cpu(reg[3]), 256 * MiB);
    cpus = fdt_path_offset(fdt, "/cpus");
    assert_true(cpus >= 0);
    fdt_for_each_subnode(node, fdt, cpus) {
        n++;
    }
    assert_int_equal(n, 3);
    assert_true(fdt_path_offset(fdt, "/serial@3f8") >= 0);
}

static void check_dtc(const char *path)
{
    const char *argv[] = { "dtc", "-I", "dtb", "-O", "dts", path, NULL };
    g_autofree char *dtc = g_find_program_in_path("dtc");
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    if (!dtc) {
        print_message("dtc is not installed: not decompiling\n");
        return;
    }
    assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH,
                             NULL, NULL, &out, &err, &status, NULL));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_non_null(strstr(out, "reg = <0x00 0x00 0x00 0x10000000>;"));
    assert_non_null(strstr(out, "cpu@2 {"));
    assert_non_null(strstr(out, "stdout-path = \"/serial@3f8\";"));
}

/* dumpdtb writes the tree and exits 0, as QEMU does. */
static void test_dumpdtb(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "-accel qtest -m 256M -smp 3 -machine colo-x86,dumpdtb=@TMPDIR@/m.dtb",
        QMPTEST_NO_QMP);
    g_autofree char *path = NULL;
    g_autofree char *blob = NULL;
    gsize len;
    int status;

    assert_non_null(vm);
    status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    path = g_build_filename(qmptest_tmpdir(vm), "m.dtb", NULL);
    assert_true(g_file_get_contents(path, &blob, &len, NULL));
    assert_true(len <= 0x7000);
    check_fdt(blob, len);
    check_dtc(path);
}

/* -qtest chardev:ID serves the protocol on a -chardev. */
static void test_named_chardev(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "-accel qtest -m 16M "
        "-chardev socket,id=qt0,path=@TMPDIR@/named.sock,server=on,wait=off "
        "-qtest chardev:qt0", QMPTEST_DEFAULT);
    g_autofree char *path = NULL;
    g_autoptr(QtestClient) qt = NULL;

    assert_non_null(vm);
    path = g_build_filename(qmptest_tmpdir(vm), "named.sock", NULL);
    qt = qtest_connect(vm, path, QMPTEST_TIMEOUT_MS);
    assert_non_null(qt);
    assert_qtest_works(qt, 6);
    assert_qtest_reply_prefix(qt, "FAIL readb: ", "readb 0x1000000");
}

/* A -qtest spec that cannot be opened stops start-up with one line. */
static void test_bad_spec(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "-accel qtest -qtest bogus:thing", QMPTEST_NO_QMP);
    int status;

    assert_non_null(vm);
    status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(qmptest_stderr(vm), "-qtest bogus:thing: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_cont, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_paused, setup_paused,
                                        teardown),
        cmocka_unit_test(test_dumpdtb),
        cmocka_unit_test(test_named_chardev),
        cmocka_unit_test(test_bad_spec),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
