/*
 * Tests for command channels: reading a child's stdout, feeding its
 * stdin, exit statuses reported by close, shutdown waking a reader, and
 * no child ever left unreaped.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "io-test.h"

static QIOChannel *spawn_sh(const char *cmd, int flags, Error **errp)
{
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

    return qio_channel_command_new_spawn(argv, flags, errp);
}

/* The child of a closed channel is gone, not a zombie. */
static void assert_reaped(pid_t pid)
{
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_read_stdout(void **state)
{
    QIOChannel *ioc = spawn_sh("printf 'hello world'", O_RDONLY,
                               &error_abort);
    pid_t pid = qio_channel_command_get_pid(ioc);
    char buf[11];

    assert_true(qio_channel_is_command(ioc));
    assert_true(pid > 0);
    assert_int_equal(qio_channel_read_all_eof(ioc, buf, 11, &error_abort), 1);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(qio_channel_read_all_eof(ioc, buf, 1, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    assert_int_equal(qio_channel_command_get_pid(ioc), -1);
    assert_reaped(pid);
    qio_channel_unref(ioc);
}

/* "exec:cat > FILE": write, close, and the file holds every byte. */
static void test_write_stdin(void **state)
{
    g_autofree char *path = g_strdup_printf("%s/test-io-command-%d",
                                            g_get_tmp_dir(), (int)getpid());
    g_autofree char *cmd = g_strdup_printf("cat > '%s'", path);
    const size_t len = 3 * 1024 * 1024;
    g_autofree char *data = g_malloc(len);
    g_autofree char *back = NULL;
    gsize back_len;
    QIOChannel *ioc;

    for (size_t i = 0; i < len; i++) {
        data[i] = (char)(i * 31 + 5);
    }
    ioc = spawn_sh(cmd, O_WRONLY, &error_abort);
    assert_int_equal(qio_channel_write_all(ioc, data, len, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    qio_channel_unref(ioc);
    assert_true(g_file_get_contents(path, &back, &back_len, NULL));
    assert_int_equal(back_len, len);
    assert_memory_equal(back, data, len);
    unlink(path);
}

static void test_exit_status(void **state)
{
    QIOChannel *ioc = spawn_sh("exit 3", O_RDONLY, &error_abort);
    Error *err = NULL;
    char c;

    assert_int_equal(qio_channel_read(ioc, &c, 1, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &err), -1);
    assert_error_text(err, "Command exited with status 3");
    qio_channel_unref(ioc);

    ioc = spawn_sh("kill -TERM $$", O_RDONLY, &error_abort);
    assert_int_equal(qio_channel_read(ioc, &c, 1, &error_abort), 0);
    err = NULL;
    assert_int_equal(qio_channel_close(ioc, &err), -1);
    assert_error_text(err, "Command was killed by signal 15");
    qio_channel_unref(ioc);
}

/* The last unref closes and reaps too. */
static void test_unref_reaps(void **state)
{
    QIOChannel *ioc = spawn_sh("exit 1", O_WRONLY, &error_abort);
    pid_t pid = qio_channel_command_get_pid(ioc);

    qio_channel_unref(ioc);
    assert_reaped(pid);
}

/* Stopping reading early makes the child die of SIGPIPE: no error. */
static void test_early_close_reader(void **state)
{
    /* Directly, and through a shell that reports it as status 141. */
    const char *cmds[] = { "exec yes", "yes; exit $?" };

    for (int i = 0; i < G_N_ELEMENTS(cmds); i++) {
        QIOChannel *ioc = spawn_sh(cmds[i], O_RDONLY, &error_abort);
        pid_t pid = qio_channel_command_get_pid(ioc);
        char buf[4];

        assert_int_equal(qio_channel_read_all(ioc, buf, 4, &error_abort), 0);
        assert_memory_equal(buf, "y\ny\n", 4);
        assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
        assert_reaped(pid);
        qio_channel_unref(ioc);
    }
}

/*
 * A parent ignoring SIGPIPE (as colo-vm does) still gives its commands
 * the default, so an abandoned writer dies instead of complaining.
 */
static void test_child_sigpipe_default(void **state)
{
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    QIOChannel *ioc;
    char buf[2];

    sigaction(SIGPIPE, &ign, &old);
    ioc = spawn_sh("exec yes", O_RDONLY, &error_abort);
    assert_int_equal(qio_channel_read_all(ioc, buf, 2, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    qio_channel_unref(ioc);
    sigaction(SIGPIPE, &old, NULL);
}

/*
 * One command's pipe must not leak into another child: if it did, the
 * first cat would never see end of file and would be killed at close.
 */
static void test_pipes_not_inherited(void **state)
{
    QIOChannel *first = spawn_sh("cat > /dev/null", O_WRONLY, &error_abort);
    QIOChannel *second = spawn_sh("exec sleep 1000", O_RDONLY, &error_abort);
    Error *err = NULL;

    qio_channel_command_set_exit_grace(first, IO_TEST_DEADLINE_MS);
    assert_int_equal(qio_channel_write_all(first, "data", 4, &error_abort),
                     0);
    assert_int_equal(qio_channel_close(first, &error_abort), 0);
    qio_channel_unref(first);
    qio_channel_command_set_exit_grace(second, 0);
    assert_int_equal(qio_channel_close(second, &err), -1);
    error_free(err);
    qio_channel_unref(second);
}

/* Writing to a child that exited: EPIPE, not a dead process. */
static void test_write_after_exit(void **state)
{
    QIOChannel *ioc = spawn_sh("exit 0", O_WRONLY, &error_abort);
    g_autofree char *data = g_malloc0(1024 * 1024);
    Error *err = NULL;

    assert_int_equal(qio_channel_write_all(ioc, data, 1024 * 1024, &err), -1);
    assert_error_text(err, "Unable to write to command: Broken pipe");
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    qio_channel_unref(ioc);
}

/* A child that ignores end of file is killed after the grace period. */
static void test_stuck_child_killed(void **state)
{
    QIOChannel *ioc = spawn_sh("exec sleep 1000", O_RDONLY, &error_abort);
    pid_t pid = qio_channel_command_get_pid(ioc);
    Error *err = NULL;

    qio_channel_command_set_exit_grace(ioc, 50);
    assert_int_equal(qio_channel_close(ioc, &err), -1);
    assert_error_text(err, "Command did not exit after its pipes were "
                      "closed; killed it");
    assert_reaped(pid);
    qio_channel_unref(ioc);
}

/*
 * A reader blocked on the child's stdout is woken by shutdown; closing
 * then ends the child's stdin, so cat exits cleanly.
 */
static void test_shutdown_wakes_reader(void **state)
{
    const char *argv[] = { "cat", NULL };
    QIOChannel *ioc = qio_channel_command_new_spawn(argv, O_RDWR,
                                                    &error_abort);
    pid_t pid = qio_channel_command_get_pid(ioc);
    BlockedIO blocked;
    char buf[3];

    /* Both directions work before the shutdown. */
    assert_int_equal(qio_channel_write_all(ioc, "abc", 3, &error_abort), 0);
    assert_int_equal(qio_channel_read_all(ioc, buf, 3, &error_abort), 0);
    assert_memory_equal(buf, "abc", 3);

    blocked_io_start(&blocked, ioc, false, 16);
    assert_int_equal(qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_BOTH,
                                          &error_abort), 0);
    blocked_io_finish_shut_down(&blocked);
    assert_int_equal(qio_channel_close(ioc, &error_abort), 0);
    assert_reaped(pid);
    qio_channel_unref(ioc);
}

/* A writer blocked on a child that never reads its stdin. */
static void test_shutdown_wakes_writer(void **state)
{
    QIOChannel *ioc = spawn_sh("exec sleep 1000", O_WRONLY, &error_abort);
    BlockedIO blocked;
    Error *err = NULL;

    blocked_io_start(&blocked, ioc, true, 4 * 1024 * 1024);
    assert_int_equal(qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_WRITE,
                                          &error_abort), 0);
    blocked_io_finish_shut_down(&blocked);
    qio_channel_command_set_exit_grace(ioc, 0);
    assert_int_equal(qio_channel_close(ioc, &err), -1);
    error_free(err);
    qio_channel_unref(ioc);
}

static void test_spawn_errors(void **state)
{
    const char *missing[] = { "/nonexistent/program", NULL };
    const char *empty[] = { NULL };
    Error *err = NULL;

    assert_null(qio_channel_command_new_spawn(missing, O_RDONLY, &err));
    assert_error_prefix(err, "Unable to run command '/nonexistent/program': ");
    err = NULL;
    assert_null(qio_channel_command_new_spawn(empty, O_RDONLY, &err));
    assert_error_text(err, "Command is empty");
    err = NULL;
    assert_null(qio_channel_command_new_spawn(missing, O_ACCMODE, &err));
    assert_error_text(err, "Command channel flags must be O_RDONLY, "
                      "O_WRONLY or O_RDWR");
}

/* A command the shell cannot find: status 127 at close. */
static void test_shell_command_not_found(void **state)
{
    QIOChannel *ioc = spawn_sh("exec /nonexistent/cmd 2>/dev/null",
                               O_RDONLY, &error_abort);
    Error *err = NULL;
    char c;

    assert_int_equal(qio_channel_read_all_eof(ioc, &c, 1, &error_abort), 0);
    assert_int_equal(qio_channel_close(ioc, &err), -1);
    assert_error_text(err, "Command exited with status 127");
    qio_channel_unref(ioc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_stdout),
        cmocka_unit_test(test_write_stdin),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_unref_reaps),
        cmocka_unit_test(test_early_close_reader),
        cmocka_unit_test(test_child_sigpipe_default),
        cmocka_unit_test(test_pipes_not_inherited),
        cmocka_unit_test(test_write_after_exit),
        cmocka_unit_test(test_stuck_child_killed),
        cmocka_unit_test(test_shutdown_wakes_reader),
        cmocka_unit_test(test_shutdown_wakes_writer),
        cmocka_unit_test(test_spawn_errors),
        cmocka_unit_test(test_shell_command_not_found),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
