/*
 * Shared pieces of the channel tests: a thread doing one blocking read or
 * write, and a wait until such a thread sleeps in the kernel.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_IO_IO_TEST_H
#define TESTS_UNIT_IO_IO_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "io/channel.h"
#include "util/thread.h"

/* Anything that should happen "promptly" gets this long before failing. */
#define IO_TEST_DEADLINE_MS 60000

typedef struct BlockedIO {
    QIOChannel *ioc;
    bool write;
    size_t len;
    Event started;
    pid_t tid;
    int ret;
    char *error;
    Thread thread;
} BlockedIO;

static inline void *blocked_io_run(void *opaque)
{
    BlockedIO *b = opaque;
    g_autofree char *buf = g_malloc0(b->len);
    Error *err = NULL;

    b->tid = (pid_t)syscall(SYS_gettid);
    event_set(&b->started);
    if (b->write) {
        b->ret = qio_channel_write_all(b->ioc, buf, b->len, &err);
    } else {
        b->ret = qio_channel_read_all(b->ioc, buf, b->len, &err);
    }
    if (err) {
        b->error = g_strdup(error_get_pretty(err));
        error_free(err);
    }
    return NULL;
}

/*
 * Wait until thread tid sleeps in the kernel, which for the threads
 * above means inside poll().  Only makes the tests check what they claim
 * (a thread really blocked); a thread not yet asleep would still get
 * the right result.
 */
static inline void wait_thread_sleeping(pid_t tid)
{
    g_autofree char *path = g_strdup_printf("/proc/self/task/%d/stat",
                                            (int)tid);
    int64_t deadline = g_get_monotonic_time() + IO_TEST_DEADLINE_MS * 1000;

    while (g_get_monotonic_time() < deadline) {
        g_autofree char *stat = NULL;
        const char *paren;

        if (g_file_get_contents(path, &stat, NULL, NULL) &&
            (paren = strrchr(stat, ')')) && paren[1] == ' ' &&
            paren[2] == 'S') {
            return;
        }
        g_usleep(1000);
    }
    fail_msg("thread %d never went to sleep", (int)tid);
}

/* Start a thread blocked in one read_all/write_all of len bytes. */
static inline void blocked_io_start(BlockedIO *b, QIOChannel *ioc,
                                    bool write, size_t len)
{
    *b = (BlockedIO) { .ioc = ioc, .write = write, .len = len };
    event_init(&b->started, false);
    thread_create(&b->thread, "blocked-io", blocked_io_run, b,
                  THREAD_JOINABLE);
    event_wait(&b->started);
    wait_thread_sleeping(b->tid);
}

/* Join the thread and check it failed with "Channel was shut down". */
static inline void blocked_io_finish_shut_down(BlockedIO *b)
{
    thread_join(&b->thread);
    assert_int_equal(b->ret, -1);
    assert_non_null(b->error);
    assert_string_equal(b->error, "Channel was shut down");
    g_free(b->error);
    event_destroy(&b->started);
}

static inline void assert_error_text(Error *err, const char *text)
{
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), text);
    error_free(err);
}

static inline void assert_error_prefix(Error *err, const char *prefix)
{
    assert_non_null(err);
    if (!g_str_has_prefix(error_get_pretty(err), prefix)) {
        fail_msg("error '%s' does not start with '%s'",
                 error_get_pretty(err), prefix);
    }
    error_free(err);
}

#endif /* TESTS_UNIT_IO_IO_TEST_H */
