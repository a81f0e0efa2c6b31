/*
 * Socket channels: connected stream sockets (tcp or unix), duplex.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_CHANNEL_SOCKET_H
#define IO_CHANNEL_SOCKET_H

#include "io/channel.h"
#include "util/sockets.h"

/*
 * Wrap a connected stream socket; the channel owns fd from now on (also
 * on failure, when fd is closed).  Writes use MSG_NOSIGNAL: a vanished
 * peer is an error, never SIGPIPE.
 */
QIOChannel *qio_channel_socket_new_fd(int fd, Error **errp);
/* Connect (blocking) to addr and wrap the socket. */
QIOChannel *qio_channel_socket_connect_sync(const SockAddr *addr,
                                            Error **errp);
bool qio_channel_is_socket(QIOChannel *ioc);

#endif /* IO_CHANNEL_SOCKET_H */
