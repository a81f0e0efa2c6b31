/*
 * Accepting stream connections in the main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

#include "io/net-listener.h"
#include "util/main-loop.h"
#include "trace/trace.h"

#define NET_LISTENER_BACKLOG 16

struct QIONetListener {
    SockAddr addr;
    SocketFile file;
    int fd;
    QIONetListenerFunc *func;
    void *opaque;
    /* Set around the callback, which may free the listener. */
    bool dispatching;
    bool free_pending;
};

static void net_listener_release(QIONetListener *listener)
{
    sock_addr_clear(&listener->addr);
    g_free(listener);
}

static void net_listener_accept(void *opaque)
{
    QIONetListener *listener = opaque;
    QIOChannel *client;
    Error *err = NULL;
    int fd;

    do {
        fd = accept4(listener->fd, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        /* EAGAIN: another accept won the race; others are transient. */
        trace_qio_net_listener_accept_error(listener, g_strerror(errno));
        return;
    }
    client = qio_channel_socket_new_fd(fd, &err);
    if (!client) {
        trace_qio_net_listener_accept_error(listener,
                                            error_get_pretty(err));
        error_free(err);
        return;
    }
    trace_qio_net_listener_accept(listener, client);
    listener->dispatching = true;
    listener->func(client, listener->opaque);
    listener->dispatching = false;
    qio_channel_unref(client);
    if (listener->free_pending) {
        net_listener_release(listener);
    }
}

QIONetListener *qio_net_listener_open(const SockAddr *addr,
                                      QIONetListenerFunc *func,
                                      void *opaque, Error **errp)
{
    QIONetListener *listener = g_new0(QIONetListener, 1);
    g_autofree char *str = NULL;

    listener->addr.type = addr->type;
    listener->addr.host = g_strdup(addr->host);
    listener->addr.port = g_strdup(addr->port);
    listener->addr.path = g_strdup(addr->path);
    listener->func = func;
    listener->opaque = opaque;
    listener->fd = socket_listen_owned(&listener->addr, NET_LISTENER_BACKLOG,
                                       &listener->file, errp);
    if (listener->fd < 0) {
        net_listener_release(listener);
        return NULL;
    }
    if (!sock_addr_update_from_fd(&listener->addr, listener->fd, errp) ||
        !socket_set_nonblock(listener->fd, true, errp)) {
        close(listener->fd);
        socket_file_remove(&listener->addr, &listener->file);
        net_listener_release(listener);
        return NULL;
    }
    str = sock_addr_to_str(&listener->addr);
    trace_qio_net_listener_open(listener, str);
    main_loop_set_fd_handler(listener->fd, net_listener_accept, NULL,
                             listener);
    return listener;
}

const SockAddr *qio_net_listener_get_address(QIONetListener *listener)
{
    return &listener->addr;
}

void qio_net_listener_free(QIONetListener *listener)
{
    if (!listener || listener->fd < 0) {
        return;
    }
    trace_qio_net_listener_free(listener);
    main_loop_set_fd_handler(listener->fd, NULL, NULL, NULL);
    close(listener->fd);
    listener->fd = -1;
    socket_file_remove(&listener->addr, &listener->file);
    if (listener->dispatching) {
        listener->free_pending = true;
        return;
    }
    net_listener_release(listener);
}
