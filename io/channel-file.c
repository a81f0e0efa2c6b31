/*
 * File channels.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "channel-impl.h"

static ssize_t file_readv(QIOChannel *ioc, const struct iovec *iov,
                          size_t niov)
{
    if (ioc->rfd < 0) {
        return -EBADF;
    }
    return qio_channel_fd_readv(ioc->rfd, iov, niov);
}

static ssize_t file_writev(QIOChannel *ioc, const struct iovec *iov,
                           size_t niov)
{
    if (ioc->wfd < 0) {
        return -EBADF;
    }
    return qio_channel_fd_writev(ioc->wfd, iov, niov);
}

static int file_close(QIOChannel *ioc, Error **errp)
{
    int fd = ioc->rfd >= 0 ? ioc->rfd : ioc->wfd;

    ioc->rfd = ioc->wfd = -1;
    if (close(fd) < 0) {
        error_setg_errno(errp, errno, "Unable to close file");
        return -1;
    }
    return 0;
}

static const QIOChannelOps file_ops = {
    .type = "file",
    .readv = file_readv,
    .writev = file_writev,
    .close = file_close,
};

QIOChannel *qio_channel_file_new_fd(int fd)
{
    QIOChannel *ioc = g_new(QIOChannel, 1);
    int flags = fcntl(fd, F_GETFL);
    int mode;

    if (flags < 0) {
        g_error("fcntl(%d, F_GETFL): %s", fd, g_strerror(errno));
    }
    mode = flags & O_ACCMODE;
    qio_channel_init(ioc, &file_ops,
                     mode == O_WRONLY ? -1 : fd,
                     mode == O_RDONLY ? -1 : fd, NULL);
    return ioc;
}

QIOChannel *qio_channel_file_new_path(const char *path, int flags,
                                      mode_t mode, Error **errp)
{
    int fd;

    do {
        fd = open(path, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Unable to open %s", path);
        return NULL;
    }
    return qio_channel_file_new_fd(fd);
}

bool qio_channel_is_file(QIOChannel *ioc)
{
    return ioc->ops == &file_ops;
}
