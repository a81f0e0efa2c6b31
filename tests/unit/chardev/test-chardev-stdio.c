/*
 * Tests for the stdio backend.  Each case runs in a child process whose
 * stdin and stdout are pipes held by the test, so the test's own stdio
 * (and terminal) are never touched.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <termios.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>

#include "chardev/char.h"
#include "util/main-loop.h"
#include "test-require.h"

/* Child-side checks: no cmocka there, a failed check is an exit code. */
#define CHILD_CHECK(cond, code) do { if (!(cond)) { _exit(code); } } while (0)

typedef struct ChildFrontend {
    GString *in;
    int closed;
} ChildFrontend;

static int child_can_read(void *opaque)
{
    return 3;       /* small on purpose: input arrives in pieces */
}

static void child_read(void *opaque, const uint8_t *buf, int size)
{
    ChildFrontend *fe = opaque;

    CHILD_CHECK(size > 0 && size <= 3, 20);
    g_string_append_len(fe->in, (const char *)buf, size);
}

static void child_event(void *opaque, CharEvent event)
{
    ChildFrontend *fe = opaque;

    if (event == CHR_EVENT_CLOSED) {
        fe->closed++;
    }
}

/* Echo stdin back until it ends, between two markers. */
static void child_echo(void)
{
    ChildFrontend fe = { .in = g_string_new(NULL) };
    Error *err = NULL;
    Chardev *c;
    int flags;

    main_loop_init();
    c = chardev_new_from_opts("stdio,id=s", &err);
    CHILD_CHECK(c, 10);
    CHILD_CHECK(!chardev_new_from_opts("stdio,id=t", &err), 11);
    CHILD_CHECK(strcmp(error_get_pretty(err), "cannot use stdio by "
                       "multiple character devices") == 0, 12);
    error_free(err);
    flags = fcntl(STDOUT_FILENO, F_GETFL);
    CHILD_CHECK(flags & O_NONBLOCK, 13);
    chardev_set_handlers(c, child_can_read, child_read, child_event, &fe);
    CHILD_CHECK(chardev_write(c, (const uint8_t *)"<", 1) == 1, 14);
    while (!fe.closed) {
        main_loop_wait(false);
    }
    /* Output still works after stdin ended. */
    chardev_write(c, (const uint8_t *)fe.in->str, fe.in->len);
    chardev_write(c, (const uint8_t *)">", 1);
    chardev_cleanup_all();
    flags = fcntl(STDOUT_FILENO, F_GETFL);
    CHILD_CHECK(!(flags & O_NONBLOCK), 15);
    _exit(0);
}

/* Flood stdout, which nobody reads until we exit: no write may block. */
static void child_flood(void)
{
    static uint8_t chunk[4096];
    uint64_t accepted = 0;
    Chardev *c;
    char line[64];

    main_loop_init();
    memset(chunk, 'x', sizeof(chunk));
    c = chardev_new_from_opts("stdio,id=s", NULL);
    CHILD_CHECK(c, 10);
    for (int i = 0; i < 1024; i++) {
        int n = chardev_write(c, chunk, sizeof(chunk));

        CHILD_CHECK(n >= 0, 11);
        accepted += n;
    }
    CHILD_CHECK(chardev_dropped_bytes(c) > 0, 12);
    CHILD_CHECK(accepted + chardev_dropped_bytes(c) == 1024 * 4096, 13);
    CHILD_CHECK(chardev_pending_bytes(c) <= CHARDEV_WRITE_BUFFER_MAX, 14);
    /* Tell the parent how much it should find, on stderr. */
    snprintf(line, sizeof(line), "%" G_GUINT64_FORMAT "\n", accepted);
    CHILD_CHECK(write(STDERR_FILENO, line, strlen(line)) > 0, 15);
    chardev_free(c);
    _exit(0);
}

/* stdin and stdout on a terminal: raw while open, restored after. */
static void child_tty(void)
{
    struct termios before, during, after;
    Chardev *c;

    main_loop_init();
    CHILD_CHECK(tcgetattr(STDIN_FILENO, &before) == 0, 10);
    CHILD_CHECK(before.c_lflag & ICANON, 11);
    c = chardev_new_from_opts("stdio,id=s,signal=off", NULL);
    CHILD_CHECK(c, 12);
    CHILD_CHECK(tcgetattr(STDIN_FILENO, &during) == 0, 13);
    CHILD_CHECK(!(during.c_lflag & (ICANON | ECHO | ISIG)), 14);
    CHILD_CHECK(!(during.c_iflag & ICRNL), 15);
    CHILD_CHECK(during.c_oflag & OPOST, 16);
    chardev_cleanup_all();
    CHILD_CHECK(tcgetattr(STDIN_FILENO, &after) == 0, 17);
    CHILD_CHECK(after.c_lflag == before.c_lflag, 18);
    CHILD_CHECK(after.c_iflag == before.c_iflag, 19);

    /* signal=on (the default) keeps ^C working. */
    c = chardev_new_from_opts("stdio,id=s", NULL);
    CHILD_CHECK(c, 20);
    CHILD_CHECK(tcgetattr(STDIN_FILENO, &during) == 0, 21);
    CHILD_CHECK(during.c_lflag & ISIG, 22);
    CHILD_CHECK(!(during.c_lflag & ICANON), 23);
    /* Restored on exit() too, without chardev_cleanup_all(). */
    exit(0);
}

typedef struct Child {
    pid_t pid;
    int in;         /* write end of the child's stdin */
    int out;        /* read end of its stdout */
    int err;        /* read end of its stderr */
} Child;

static Child spawn(void (*fn)(void))
{
    int in[2], out[2], err[2];
    Child ch;

    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    ch.pid = fork();
    assert_true(ch.pid >= 0);
    if (ch.pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        close(err[0]), close(err[1]);
        fn();
    }
    close(in[0]), close(out[1]), close(err[1]);
    ch.in = in[1];
    ch.out = out[0];
    ch.err = err[0];
    return ch;
}

static GString *read_all(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[65536];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(s, buf, n);
    }
    close(fd);
    return s;
}

static void wait_ok(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_echo(void **state)
{
    Child ch = spawn(child_echo);
    g_autoptr(GString) out = NULL;
    g_autoptr(GString) err = NULL;

    assert_int_equal(write(ch.in, "hello world", 11), 11);
    close(ch.in);
    out = read_all(ch.out);
    err = read_all(ch.err);
    wait_ok(ch.pid);
    assert_string_equal(out->str, "<hello world>");
}

static void test_stdout_never_blocks(void **state)
{
    Child ch = spawn(child_flood);
    g_autoptr(GString) err = NULL;
    g_autoptr(GString) out = NULL;
    uint64_t accepted;

    close(ch.in);
    /* Only once the child has written everything do we start reading. */
    err = read_all(ch.err);
    accepted = g_ascii_strtoull(err->str, NULL, 10);
    assert_true(accepted > 0 && accepted < 1024 * 4096);
    out = read_all(ch.out);
    wait_ok(ch.pid);
    /* Exit flushes what it can; never more than was accepted. */
    assert_true(out->len <= accepted);
    assert_true(out->len > 0);
    for (gsize i = 0; i < out->len; i++) {
        assert_int_equal(out->str[i], 'x');
    }
}

/* A pty master whose slave can be opened, or -1 with nothing left open. */
static int open_pty_master(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);

    if (master >= 0 && (grantpt(master) < 0 || unlockpt(master) < 0)) {
        close(master);
        return -1;
    }
    return master;
}

static void test_tty_raw_mode(void **state)
{
    struct termios t;
    int master = open_pty_master();
    int slave, status;
    pid_t pid;

    TEST_REQUIRE(master >= 0, "a pseudo-terminal (posix_openpt)");
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(slave, STDIN_FILENO);
        dup2(slave, STDOUT_FILENO);
        close(slave);
        close(master);
        child_tty();
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The exit() path put the terminal back as well. */
    assert_int_equal(tcgetattr(slave, &t), 0);
    assert_true(t.c_lflag & ICANON);
    close(slave);
    close(master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_stdout_never_blocks),
        cmocka_unit_test(test_tty_raw_mode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
