/*
 * The log backend: one line per event, "TID@SECONDS.MICROS:name args".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "qapi/error.h"
#include "trace/event.h"
#include "trace/log.h"

/*
 * Protects: trace_log_fd, and trace_log_path's changes.  It orders each
 * write against trace_log_open/close, so a line is never written to a
 * descriptor that is being closed (or reused by an unrelated open).  It
 * is only taken by enabled events.  A static GMutex needs no init.
 */
static GMutex trace_log_lock;
static int trace_log_fd = STDERR_FILENO;    /* protected by the lock */
/*
 * Written under the lock, from the main thread only (command line,
 * start-up, exit), which is also the only reader: it reads it without.
 */
static char *trace_log_path;

void trace_log_set_file(const char *path)
{
    g_mutex_lock(&trace_log_lock);
    g_free(trace_log_path);
    trace_log_path = g_strdup(path);
    g_mutex_unlock(&trace_log_lock);
}

const char *trace_log_get_file(void)
{
    return trace_log_path;
}

static void trace_log_switch_fd(int fd)
{
    int old;

    g_mutex_lock(&trace_log_lock);
    old = trace_log_fd;
    trace_log_fd = fd;
    g_mutex_unlock(&trace_log_lock);
    if (old != STDERR_FILENO) {
        close(old);
    }
}

bool trace_log_open(Error **errp)
{
    int fd;

    if (!trace_log_path) {
        return true;
    }
    /* O_APPEND: lines from other processes sharing the file stay whole. */
    fd = open(trace_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
              O_CLOEXEC, 0644);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open trace file '%s'",
                         trace_log_path);
        return false;
    }
    trace_log_switch_fd(fd);
    return true;
}

void trace_log_close(void)
{
    trace_log_switch_fd(STDERR_FILENO);
}

/* One writev per line: lines from several threads never interleave. */
static void trace_log_write(struct iovec *iov, int iovcnt)
{
    g_mutex_lock(&trace_log_lock);
    while (iovcnt) {
        ssize_t n = writev(trace_log_fd, iov, iovcnt);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;      /* nowhere to report it: drop the line */
        }
        /* A short write (full disk, signal): go on with the rest. */
        while (iovcnt && (size_t)n >= iov->iov_len) {
            n -= iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= n;
        }
    }
    g_mutex_unlock(&trace_log_lock);
}

void trace_log_event(const char *name, const char *fmt, ...)
{
    /* Event names are at most TRACE_EVENT_NAME_MAX characters. */
    char prefix[64 + TRACE_EVENT_NAME_MAX];
    char body_buf[512];
    g_autofree char *heap_body = NULL;
    struct iovec iov[2];
    struct timespec now;
    va_list ap;
    int prefix_len, body_len;
    int saved_errno = errno;    /* tracing must not disturb the caller */

    clock_gettime(CLOCK_REALTIME, &now);
    prefix_len = snprintf(prefix, sizeof(prefix), "%ld@%lld.%06ld:%s%s",
                          (long)syscall(SYS_gettid), (long long)now.tv_sec,
                          now.tv_nsec / 1000, name,
                          fmt[0] == '\n' ? "" : " ");
    va_start(ap, fmt);
    body_len = vsnprintf(body_buf, sizeof(body_buf), fmt, ap);
    va_end(ap);
    iov[0].iov_base = prefix;
    iov[0].iov_len = MIN((size_t)MAX(prefix_len, 0), sizeof(prefix) - 1);
    iov[1].iov_base = body_buf;
    iov[1].iov_len = MAX(body_len, 0);
    if (body_len >= (int)sizeof(body_buf)) {
        va_start(ap, fmt);
        heap_body = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        iov[1].iov_base = heap_body;
        iov[1].iov_len = strlen(heap_body);
    }
    trace_log_write(iov, 2);
    errno = saved_errno;
}
