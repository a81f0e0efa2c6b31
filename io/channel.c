/*
 * The generic channel: references, shutdown, closing, and the waiting
 * and looping around each type's single non-blocking I/O attempt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "channel-impl.h"
#include "trace/trace.h"

static void wake_fd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t ret;

    /* A full counter still reads as readable, so EAGAIN is harmless. */
    do {
        ret = write(fd, &one, sizeof(one));
    } while (ret < 0 && errno == EINTR);
}

void qio_channel_fd_set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0) {
        g_error("fcntl(%d, F_GETFL): %s", fd, g_strerror(errno));
    }
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        g_error("fcntl(%d, F_SETFL): %s", fd, g_strerror(errno));
    }
}

void qio_channel_init(QIOChannel *ioc, const QIOChannelOps *ops,
                      int rfd, int wfd, void *opaque)
{
    memset(ioc, 0, sizeof(*ioc));
    ioc->ops = ops;
    ioc->refcount = 1;
    ioc->blocking = true;
    ioc->rfd = rfd;
    ioc->wfd = wfd;
    ioc->opaque = opaque;
    ioc->wake_rfd = -1;
    ioc->wake_wfd = -1;
    mutex_init(&ioc->io_lock);
    cond_init(&ioc->io_idle);
    if (rfd >= 0) {
        qio_channel_fd_set_nonblock(rfd);
    }
    if (wfd >= 0 && wfd != rfd) {
        qio_channel_fd_set_nonblock(wfd);
    }
    trace_qio_channel_new(ioc, ops->type, rfd, wfd);
}

QIOChannel *qio_channel_ref(QIOChannel *ioc)
{
    g_atomic_int_inc(&ioc->refcount);
    return ioc;
}

void qio_channel_unref(QIOChannel *ioc)
{
    Error *err = NULL;

    if (!ioc || !g_atomic_int_dec_and_test(&ioc->refcount)) {
        return;
    }
    if (qio_channel_close(ioc, &err) < 0) {
        /* Nobody is left to tell: the trace keeps the reason. */
        trace_qio_channel_close_error(ioc, error_get_pretty(err));
        error_free(err);
    }
    trace_qio_channel_free(ioc);
    if (ioc->ops->finalize) {
        ioc->ops->finalize(ioc);
    }
    if (ioc->wake_rfd >= 0) {
        close(ioc->wake_rfd);
    }
    if (ioc->wake_wfd >= 0) {
        close(ioc->wake_wfd);
    }
    cond_destroy(&ioc->io_idle);
    mutex_destroy(&ioc->io_lock);
    g_free(ioc->name);
    g_free(ioc);
}

void qio_channel_set_name(QIOChannel *ioc, const char *name)
{
    g_free(ioc->name);
    ioc->name = g_strdup(name);
}

const char *qio_channel_get_name(QIOChannel *ioc)
{
    return ioc->name ? ioc->name : ioc->ops->type;
}

const char *qio_channel_get_type(QIOChannel *ioc)
{
    return ioc->ops->type;
}

bool qio_channel_has_feature(QIOChannel *ioc, QIOChannelFeature feature)
{
    switch (feature) {
    case QIO_CHANNEL_FEATURE_SHUTDOWN:
        return true;
    case QIO_CHANNEL_FEATURE_DUPLEX:
        return ioc->ops->duplex;
    }
    return false;
}

bool qio_channel_has_feature_shutdown(QIOChannel *ioc)
{
    return qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_SHUTDOWN);
}

bool qio_channel_is_duplex(QIOChannel *ioc)
{
    return qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_DUPLEX);
}

bool qio_channel_set_blocking(QIOChannel *ioc, bool enabled, Error **errp)
{
    g_atomic_int_set(&ioc->blocking, enabled);
    return true;
}

bool qio_channel_is_blocking(QIOChannel *ioc)
{
    return g_atomic_int_get(&ioc->blocking);
}

void qio_channel_set_timeout(QIOChannel *ioc, int ms)
{
    g_atomic_int_set(&ioc->timeout_ms, ms > 0 ? ms : 0);
}

int qio_channel_get_timeout(QIOChannel *ioc)
{
    return g_atomic_int_get(&ioc->timeout_ms);
}

bool qio_channel_timed_out(QIOChannel *ioc)
{
    return g_atomic_int_get(&ioc->timed_out);
}

int qio_channel_get_fd(QIOChannel *ioc)
{
    if (g_atomic_int_get(&ioc->closed)) {
        return -1;
    }
    return ioc->rfd >= 0 ? ioc->rfd : ioc->wfd;
}

/*
 * Mark directions shut down and wake whoever waits on them.  Caller holds
 * io_lock, which orders this against channel_wait() creating a wake fd.
 */
static void channel_stop(QIOChannel *ioc, int how)
{
    /* The flag first: a woken thread must see it when it checks. */
    g_atomic_int_or((guint *)&ioc->shutdown_mask, how);
    if ((how & QIO_CHANNEL_SHUTDOWN_READ) && ioc->wake_rfd >= 0) {
        wake_fd_signal(ioc->wake_rfd);
    }
    if ((how & QIO_CHANNEL_SHUTDOWN_WRITE) && ioc->wake_wfd >= 0) {
        wake_fd_signal(ioc->wake_wfd);
    }
}

int qio_channel_shutdown(QIOChannel *ioc, QIOChannelShutdown how,
                         Error **errp)
{
    int ret = 0;

    /* Under io_lock so that close() cannot free the descriptor meanwhile. */
    mutex_lock(&ioc->io_lock);
    if (g_atomic_int_get(&ioc->closed)) {
        error_setg(errp, "Channel is closed");
        ret = -1;
    } else {
        trace_qio_channel_shutdown(ioc, qio_channel_get_name(ioc), how);
        channel_stop(ioc, how);
        if (ioc->ops->shutdown) {
            ioc->ops->shutdown(ioc, how);
        }
    }
    mutex_unlock(&ioc->io_lock);
    return ret;
}

/*
 * Closing while another thread is in I/O on the channel behaves like a
 * shutdown for that thread: it is woken, fails, and only then do the
 * descriptors go.
 */
int qio_channel_close(QIOChannel *ioc, Error **errp)
{
    mutex_lock(&ioc->io_lock);
    if (g_atomic_int_get(&ioc->closed)) {
        mutex_unlock(&ioc->io_lock);
        return 0;
    }
    g_atomic_int_set(&ioc->closed, true);
    trace_qio_channel_close(ioc, qio_channel_get_name(ioc));
    channel_stop(ioc, QIO_CHANNEL_SHUTDOWN_BOTH);
    while (ioc->io_active > 0) {
        cond_wait(&ioc->io_idle, &ioc->io_lock);
    }
    mutex_unlock(&ioc->io_lock);
    return ioc->ops->close(ioc, errp);
}

static bool channel_usable(QIOChannel *ioc, bool write, Error **errp)
{
    int bit = write ? QIO_CHANNEL_SHUTDOWN_WRITE : QIO_CHANNEL_SHUTDOWN_READ;

    if (g_atomic_int_get(&ioc->closed)) {
        error_setg(errp, "Channel is closed");
        return false;
    }
    if (g_atomic_int_get(&ioc->shutdown_mask) & bit) {
        error_setg(errp, "Channel was shut down");
        return false;
    }
    return true;
}

/*
 * The eventfd that wakes a waiter in this direction, created the first
 * time somebody has to wait (most channels never do, and a failure here
 * is an I/O error rather than a failure to create the channel).  -1 with
 * errp set on failure, -2 when the direction is already shut down.
 */
static int channel_wake_fd(QIOChannel *ioc, bool write, Error **errp)
{
    int *wake = write ? &ioc->wake_wfd : &ioc->wake_rfd;
    int bit = write ? QIO_CHANNEL_SHUTDOWN_WRITE : QIO_CHANNEL_SHUTDOWN_READ;
    int fd;

    mutex_lock(&ioc->io_lock);
    if (*wake < 0) {
        *wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (*wake < 0) {
            error_setg_errno(errp, errno, "Unable to wait on %s channel",
                             ioc->ops->type);
            mutex_unlock(&ioc->io_lock);
            return -1;
        }
    }
    /* A shutdown before the fd existed signalled nothing: check now. */
    fd = g_atomic_int_get(&ioc->shutdown_mask) & bit ? -2 : *wake;
    mutex_unlock(&ioc->io_lock);
    return fd;
}

static void channel_timeout_error(QIOChannel *ioc, bool write, int ms,
                                  Error **errp)
{
    g_atomic_int_set(&ioc->timed_out, true);
    trace_qio_channel_timeout(ioc, qio_channel_get_name(ioc),
                              write ? "write" : "read", ms);
    if (write) {
        error_setg(errp, "Timed out writing to %s: the peer took nothing "
                   "for %d ms", qio_channel_get_name(ioc), ms);
    } else {
        error_setg(errp, "Timed out reading from %s: nothing arrived for "
                   "%d ms", qio_channel_get_name(ioc), ms);
    }
}

/*
 * Sleep until the descriptor is ready or the direction is shut down, or
 * fail once the channel's timeout has passed without either.
 */
static bool channel_wait(QIOChannel *ioc, bool write, Error **errp)
{
    int wake = channel_wake_fd(ioc, write, errp);
    int timeout = qio_channel_get_timeout(ioc);
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout * 1000;
    struct pollfd pfd[2] = {
        { .fd = write ? ioc->wfd : ioc->rfd,
          .events = write ? POLLOUT : POLLIN },
        { .fd = wake, .events = POLLIN },
    };
    int ret;

    if (wake == -1) {
        return false;
    }
    if (wake == -2) {
        return true;    /* the caller's next check reports the shutdown */
    }
    for (;;) {
        int left = -1;

        if (timeout > 0) {
            int64_t us = deadline - g_get_monotonic_time();

            /* Round up: poll(0) would only look, never wait. */
            left = us > 0 ? (int)((us + 999) / 1000) : 0;
        }
        ret = poll(pfd, 2, left);
        if (ret > 0) {
            return true;
        }
        if (ret == 0) {
            channel_timeout_error(ioc, write, timeout, errp);
            return false;
        }
        if (errno != EINTR) {
            error_setg_errno(errp, errno, "Unable to wait on %s channel",
                             ioc->ops->type);
            return false;
        }
    }
}

static size_t iov_total(const struct iovec *iov, size_t niov)
{
    size_t total = 0;

    for (size_t i = 0; i < niov; i++) {
        total += iov[i].iov_len;
    }
    return total;
}

/* Enter I/O, unless the channel is closed (then errp is set). */
static bool channel_io_begin(QIOChannel *ioc, Error **errp)
{
    bool ok;

    mutex_lock(&ioc->io_lock);
    ok = !g_atomic_int_get(&ioc->closed);
    if (ok) {
        ioc->io_active++;
    } else {
        error_setg(errp, "Channel is closed");
    }
    mutex_unlock(&ioc->io_lock);
    return ok;
}

static void channel_io_end(QIOChannel *ioc)
{
    mutex_lock(&ioc->io_lock);
    if (--ioc->io_active == 0) {
        cond_broadcast(&ioc->io_idle);
    }
    mutex_unlock(&ioc->io_lock);
}

static ssize_t channel_io_active(QIOChannel *ioc, bool write,
                                 const struct iovec *iov, size_t niov,
                                 bool wait, Error **errp)
{
    ssize_t ret;

    for (;;) {
        if (!channel_usable(ioc, write, errp)) {
            return -1;
        }
        ret = write ? ioc->ops->writev(ioc, iov, niov)
                    : ioc->ops->readv(ioc, iov, niov);
        if (ret > 0) {
            return ret;
        }
        /*
         * A shutdown racing with the attempt shows up as end of file or
         * EPIPE from shutdown(2): report it as what it is.
         */
        if (ret != -EAGAIN && ret != -EWOULDBLOCK && ret != -EINTR &&
            !channel_usable(ioc, write, errp)) {
            return -1;
        }
        if (ret == 0) {
            return 0;
        }
        if (ret == -EINTR) {
            continue;
        }
        if (ret != -EAGAIN && ret != -EWOULDBLOCK) {
            error_setg_errno(errp, (int)-ret, "Unable to %s %s",
                             write ? "write to" : "read from",
                             ioc->ops->type);
            return -1;
        }
        if (!wait) {
            return QIO_CHANNEL_ERR_BLOCK;
        }
        if (!channel_wait(ioc, write, errp)) {
            return -1;
        }
    }
}

static ssize_t channel_io(QIOChannel *ioc, bool write,
                          const struct iovec *iov, size_t niov, bool wait,
                          Error **errp)
{
    ssize_t ret;

    if (iov_total(iov, niov) == 0) {
        return 0;
    }
    if (!channel_io_begin(ioc, errp)) {
        return -1;
    }
    /* Longer vectors fail with EINVAL; a short transfer is allowed. */
    niov = MIN(niov, IOV_MAX);
    ret = channel_io_active(ioc, write, iov, niov, wait, errp);
    channel_io_end(ioc);
    return ret;
}

ssize_t qio_channel_readv(QIOChannel *ioc, const struct iovec *iov,
                          size_t niov, Error **errp)
{
    return channel_io(ioc, false, iov, niov, qio_channel_is_blocking(ioc),
                      errp);
}

ssize_t qio_channel_writev(QIOChannel *ioc, const struct iovec *iov,
                           size_t niov, Error **errp)
{
    return channel_io(ioc, true, iov, niov, qio_channel_is_blocking(ioc),
                      errp);
}

ssize_t qio_channel_read(QIOChannel *ioc, char *buf, size_t len,
                         Error **errp)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };

    return qio_channel_readv(ioc, &iov, 1, errp);
}

ssize_t qio_channel_write(QIOChannel *ioc, const char *buf, size_t len,
                          Error **errp)
{
    struct iovec iov = { .iov_base = (char *)buf, .iov_len = len };

    return qio_channel_writev(ioc, &iov, 1, errp);
}

/* Drop done bytes from the front of *iov, skipping emptied entries. */
static void iov_advance(struct iovec **iov, size_t *niov, size_t done)
{
    while (*niov > 0 && (done > 0 || (*iov)->iov_len == 0)) {
        size_t step = MIN(done, (*iov)->iov_len);

        /* An empty entry may carry a NULL base: no arithmetic on it. */
        if (step) {
            (*iov)->iov_base = (char *)(*iov)->iov_base + step;
            (*iov)->iov_len -= step;
        }
        done -= step;
        if ((*iov)->iov_len == 0) {
            (*iov)++;
            (*niov)--;
        }
    }
}

int qio_channel_readv_all_eof(QIOChannel *ioc, const struct iovec *iov,
                              size_t niov, Error **errp)
{
    g_autofree struct iovec *copy = g_memdup2(iov, niov * sizeof(*iov));
    struct iovec *cur = copy;
    bool partial = false;

    iov_advance(&cur, &niov, 0);
    while (niov > 0) {
        ssize_t ret = channel_io(ioc, false, cur, niov, true, errp);

        if (ret < 0) {
            return -1;
        }
        if (ret == 0) {
            if (!partial) {
                return 0;
            }
            error_setg(errp,
                       "Unexpected end-of-file before all data were read");
            return -1;
        }
        partial = true;
        iov_advance(&cur, &niov, ret);
    }
    return 1;
}

int qio_channel_readv_all(QIOChannel *ioc, const struct iovec *iov,
                          size_t niov, Error **errp)
{
    int ret = qio_channel_readv_all_eof(ioc, iov, niov, errp);

    if (ret == 0) {
        error_setg(errp, "Unexpected end-of-file before all data were read");
        return -1;
    }
    return ret < 0 ? -1 : 0;
}

int qio_channel_read_all_eof(QIOChannel *ioc, char *buf, size_t len,
                             Error **errp)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };

    return qio_channel_readv_all_eof(ioc, &iov, 1, errp);
}

int qio_channel_read_all(QIOChannel *ioc, char *buf, size_t len,
                         Error **errp)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };

    return qio_channel_readv_all(ioc, &iov, 1, errp);
}

int qio_channel_writev_all(QIOChannel *ioc, const struct iovec *iov,
                           size_t niov, Error **errp)
{
    g_autofree struct iovec *copy = g_memdup2(iov, niov * sizeof(*iov));
    struct iovec *cur = copy;

    iov_advance(&cur, &niov, 0);
    while (niov > 0) {
        ssize_t ret = channel_io(ioc, true, cur, niov, true, errp);

        if (ret < 0) {
            return -1;
        }
        iov_advance(&cur, &niov, ret);
    }
    return 0;
}

int qio_channel_write_all(QIOChannel *ioc, const char *buf, size_t len,
                          Error **errp)
{
    struct iovec iov = { .iov_base = (char *)buf, .iov_len = len };

    return qio_channel_writev_all(ioc, &iov, 1, errp);
}

ssize_t qio_channel_fd_readv(int fd, const struct iovec *iov, size_t niov)
{
    ssize_t ret = readv(fd, iov, (int)niov);

    return ret < 0 ? -errno : ret;
}

/*
 * A write to a pipe without a reader raises SIGPIPE, which would kill
 * the process.  Block it for this thread around the write and swallow
 * the one the write raised, so the failure is just EPIPE.
 */
ssize_t qio_channel_fd_writev(int fd, const struct iovec *iov, size_t niov)
{
    sigset_t pipe_set, old_set, pending;
    bool was_pending;
    ssize_t ret;
    int err;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);

    ret = writev(fd, iov, (int)niov);
    err = errno;
    if (ret < 0 && err == EPIPE && !was_pending) {
        struct timespec zero = { 0 };

        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
            /* retry */
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return ret < 0 ? -err : ret;
}
