/*
 * Socket channels.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

#include "channel-impl.h"
#include "trace/trace.h"

static ssize_t socket_readv(QIOChannel *ioc, const struct iovec *iov,
                            size_t niov)
{
    struct msghdr msg = {
        .msg_iov = (struct iovec *)iov,
        .msg_iovlen = niov,
    };
    ssize_t ret = recvmsg(ioc->rfd, &msg, 0);

    return ret < 0 ? -errno : ret;
}

static ssize_t socket_writev(QIOChannel *ioc, const struct iovec *iov,
                             size_t niov)
{
    struct msghdr msg = {
        .msg_iov = (struct iovec *)iov,
        .msg_iovlen = niov,
    };
    /* A peer that went away must give EPIPE, not kill us. */
    ssize_t ret = sendmsg(ioc->wfd, &msg, MSG_NOSIGNAL);

    return ret < 0 ? -errno : ret;
}

static void socket_shutdown(QIOChannel *ioc, QIOChannelShutdown how)
{
    int sock_how = how == QIO_CHANNEL_SHUTDOWN_READ ? SHUT_RD :
                   how == QIO_CHANNEL_SHUTDOWN_WRITE ? SHUT_WR : SHUT_RDWR;

    /* ENOTCONN when the peer is gone already: nothing left to stop. */
    if (shutdown(ioc->rfd, sock_how) < 0) {
        trace_qio_channel_socket_shutdown_error(ioc, g_strerror(errno));
    }
}

static int socket_close(QIOChannel *ioc, Error **errp)
{
    int fd = ioc->rfd;

    ioc->rfd = ioc->wfd = -1;
    if (close(fd) < 0) {
        error_setg_errno(errp, errno, "Unable to close socket");
        return -1;
    }
    return 0;
}

static const QIOChannelOps socket_ops = {
    .type = "socket",
    .duplex = true,
    .readv = socket_readv,
    .writev = socket_writev,
    .shutdown = socket_shutdown,
    .close = socket_close,
};

QIOChannel *qio_channel_socket_new_fd(int fd, Error **errp)
{
    QIOChannel *ioc;
    int type;
    socklen_t len = sizeof(type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        error_setg_errno(errp, errno, "File descriptor %d is not a socket",
                         fd);
        close(fd);
        return NULL;
    }
    if (type != SOCK_STREAM) {
        error_setg(errp, "File descriptor %d is not a stream socket", fd);
        close(fd);
        return NULL;
    }
    ioc = g_new(QIOChannel, 1);
    qio_channel_init(ioc, &socket_ops, fd, fd, NULL);
    return ioc;
}

QIOChannel *qio_channel_socket_connect_sync(const SockAddr *addr,
                                            Error **errp)
{
    int fd = socket_connect(addr, errp);

    if (fd < 0) {
        return NULL;
    }
    return qio_channel_socket_new_fd(fd, errp);
}

bool qio_channel_is_socket(QIOChannel *ioc)
{
    return ioc->ops == &socket_ops;
}
