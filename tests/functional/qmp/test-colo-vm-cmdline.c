/*
 * colo-vm's command line: good options start it, bad ones fail with one
 * clear line naming the option and exit status 1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/wait.h>

#include "config-host.h"
#include "kvm-test.h"
#include "qmp-assert.h"
#include "serial-test.h"

typedef struct BadOption {
    const char *args;
    const char *message;    /* the whole first line of stderr */
} BadOption;

static const BadOption bad_options[] = {
    { "-foo", "colo-vm: -foo: invalid option" },
    { "--foo", "colo-vm: --foo: invalid option" },
    { "-", "colo-vm: -: unexpected argument (see -help)" },
    { "disk.img", "colo-vm: disk.img: unexpected argument (see -help)" },
    { "-qmp", "colo-vm: -qmp: requires an argument" },
    { "--trace", "colo-vm: --trace: requires an argument" },
    { "-msg", "colo-vm: -msg: requires an argument" },
    { "-name", "colo-vm: -name: requires an argument" },
    { "-msg timestamp=maybe",
      "colo-vm: -msg timestamp=maybe: Parameter 'timestamp' expects 'on' "
      "or 'off'" },
    { "-msg foo=on", "colo-vm: -msg foo=on: Invalid parameter 'foo'" },
    { "-name vm1,bar=1", "colo-vm: -name vm1,bar=1: Invalid parameter 'bar'" },
    { "-name vm1,debug-threads=sure",
      "colo-vm: -name vm1,debug-threads=sure: Parameter 'debug-threads' "
      "expects 'on' or 'off'" },
    { "-qmp unix:@TMPDIR@/q.sock",
      "colo-vm: -qmp unix:@TMPDIR@/q.sock: only server mode is supported, "
      "add server=on" },
    { "-qmp unix:@TMPDIR@/q.sock,server=off",
      "colo-vm: -qmp unix:@TMPDIR@/q.sock,server=off: only server mode is "
      "supported, add server=on" },
    { "-qmp unix:@TMPDIR@/q.sock,server=on,wait=maybe",
      "colo-vm: -qmp unix:@TMPDIR@/q.sock,server=on,wait=maybe: "
      "Parameter 'wait' expects 'on' or 'off'" },
    { "-qmp unix:@TMPDIR@/q.sock,server=on,wait=off,bogus=1",
      "colo-vm: -qmp unix:@TMPDIR@/q.sock,server=on,wait=off,bogus=1: "
      "Invalid parameter 'bogus'" },
    { "-qmp server=on,wait=off",
      "colo-vm: -qmp server=on,wait=off: missing address "
      "(unix:PATH or tcp:HOST:PORT)" },
    { "-qmp unix:@TMPDIR@/no/such/dir/q.sock,server=on,wait=off",
      "colo-vm: -qmp unix:@TMPDIR@/no/such/dir/q.sock,server=on,wait=off: "
      "Failed to bind socket to @TMPDIR@/no/such/dir/q.sock: "
      "No such file or directory" },
};

/* Messages whose tail comes from other layers: check the prefix only. */
static const BadOption bad_prefixes[] = {
    { "-qmp foo,server=on,wait=off", "colo-vm: -qmp foo,server=on,wait=off: " },
    { "-qmp tcp:localhost,server=on,wait=off",
      "colo-vm: -qmp tcp:localhost,server=on,wait=off: " },
    { "-qmp tcp:127.0.0.1:99999,server=on,wait=off",
      "colo-vm: -qmp tcp:127.0.0.1:99999,server=on,wait=off: " },
    { "-trace enable=foo,bar=1", "colo-vm: -trace enable=foo,bar=1: " },
    { "-trace events=@TMPDIR@/missing",
      "colo-vm: -trace events=@TMPDIR@/missing: " },
};

static char *expand(const char *s, QmpTestProc *vm)
{
    g_auto(GStrv) parts = g_strsplit(s, "@TMPDIR@", -1);

    return g_strjoinv(qmptest_tmpdir(vm), parts);
}

/* Run colo-vm with @args; check exit 1 and return stderr's first line. */
static char *run_failing(const char *args, QmpTestProc **vmp)
{
    QmpTestProc *vm = qmptest_start(args, QMPTEST_NO_QMP);
    const char *err;
    int status;

    assert_non_null(vm);
    status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    err = qmptest_stderr(vm);
    *vmp = vm;
    /* One line, nothing else. */
    assert_true(*err != '\0');
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    return g_strndup(err, strcspn(err, "\n"));
}

static void test_bad_options(void **state)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_options); i++) {
        g_autoptr(QmpTestProc) vm = NULL;
        g_autofree char *line = run_failing(bad_options[i].args, &vm);
        g_autofree char *want = expand(bad_options[i].message, vm);

        assert_string_equal(line, want);
        assert_string_equal(qmptest_stdout(vm), "");
    }
}

static void test_bad_option_prefixes(void **state)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_prefixes); i++) {
        g_autoptr(QmpTestProc) vm = NULL;
        g_autofree char *line = run_failing(bad_prefixes[i].args, &vm);
        g_autofree char *want = expand(bad_prefixes[i].message, vm);

        assert_true(g_str_has_prefix(line, want));
        assert_true(strlen(line) > strlen(want));
    }
}

static void test_second_qmp_fails_cleans_first(void **state)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autofree char *line = run_failing(
        "-qmp unix:@TMPDIR@/first.sock,server=on,wait=off "
        "-qmp unix:@TMPDIR@/first.sock/x,server=on,wait=off", &vm);
    g_autofree char *first = g_strdup_printf("%s/first.sock",
                                             qmptest_tmpdir(vm));

    assert_true(g_str_has_prefix(line, "colo-vm: -qmp unix:"));
    assert_false(g_file_test(first, G_FILE_TEST_EXISTS));
}

static void test_version(void **state)
{
    static const char *const spellings[] = { "-version", "--version" };

    for (size_t i = 0; i < G_N_ELEMENTS(spellings); i++) {
        g_autoptr(QmpTestProc) vm = qmptest_start(spellings[i],
                                                  QMPTEST_NO_QMP);
        int status;

        assert_non_null(vm);
        status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_true(g_str_has_prefix(qmptest_stdout(vm), "colo-vm version "));
        assert_string_equal(qmptest_stderr(vm), "");
    }
}

static void test_help(void **state)
{
    static const char *const spellings[] = { "-h", "-help", "--help" };

    for (size_t i = 0; i < G_N_ELEMENTS(spellings); i++) {
        g_autoptr(QmpTestProc) vm = qmptest_start(spellings[i],
                                                  QMPTEST_NO_QMP);
        int status;

        assert_non_null(vm);
        status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_true(g_str_has_prefix(qmptest_stdout(vm), "usage: colo-vm"));
        assert_non_null(strstr(qmptest_stdout(vm), "-qmp"));
    }
}

/* -accel help: the accelerators, the ones that run guest code first. */
static void test_accel_help(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start("-accel help", QMPTEST_NO_QMP);
    int status;

    assert_non_null(vm);
    status = qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(qmptest_stdout(vm),
                        "Accelerators supported in colo-vm binary:\n"
                        "kvm\ntcg\nqtest\n");
}

/*
 * No -accel (COLO_VM_ARGS says -accel qtest for this suite, so it is
 * left out): kvm where /dev/kvm is usable, else tcg with one line that
 * says why.  The machine runs its guest either way.
 */
static void test_default_accel(void **state)
{
    g_autofree char *args = g_strdup(g_getenv("COLO_VM_ARGS"));
    g_autofree char *guest = g_build_filename(g_getenv("COLO_GUEST_DIR"),
                                              "dirtier.elf", NULL);
    g_autofree char *cmd = g_strdup_printf("-m 16M -kernel %s -serial stdio",
                                           guest);
    g_autoptr(QmpTestProc) vm = NULL;
    const char *err;

    g_unsetenv("COLO_VM_ARGS");
    vm = qmptest_start(cmd, QMPTEST_DEFAULT);
    if (args) {
        g_setenv("COLO_VM_ARGS", args, true);
    }
    assert_non_null(vm);
    assert_true(serial_wait_char_count(vm, 'B', 1, QMPTEST_TIMEOUT_MS));
    err = qmptest_stderr(vm);
    if (kvm_test_usable()) {
        assert_null(strstr(err, "using tcg"));
    } else {
        g_autofree char *line = g_strdup(err);

        *strchrnul(line, '\n') = '\0';
        print_message("%s\n", line);
        assert_true(g_str_has_prefix(line, "colo-vm: no usable KVM ("));
        assert_true(g_str_has_suffix(line, "): using tcg"));
    }
    assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
}

static void test_good_options(void **state)
{
    /* Double dashes, -name, -msg and -trace all accepted together. */
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "--name primary,process=colo-primary,debug-threads=on "
        "-msg timestamp=on --msg timestamp=off "
        "-trace enable=qmp_command_dispatch", QMPTEST_DEFAULT);
    qmptest_auto_json json_t *r = NULL;
    int status;

    assert_non_null(vm);
    r = qmptest_cmd(qmptest_client(vm), "{'execute': 'query-version'}");
    assert_non_null(qmptest_return(r));
    if (CONFIG_TRACE_LOG) {
        /* Without the log backend, -trace is accepted but prints nothing. */
        assert_true(qmptest_wait_stderr(vm, "qmp_command_dispatch",
                                        QMPTEST_TIMEOUT_MS));
        assert_non_null(strstr(qmptest_stderr(vm), "name=query-version"));
    }
    status = qmptest_quit(vm, QMPTEST_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bad_option_prefixes),
        cmocka_unit_test(test_second_qmp_fails_cleans_first),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_accel_help),
        cmocka_unit_test(test_default_accel),
        cmocka_unit_test(test_good_options),
    };

    return cmocka_run_group_tests_name("colo-vm-cmdline", tests, NULL, NULL);
}
