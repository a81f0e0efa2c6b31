/*
 * Listening for incoming stream connections from the main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_NET_LISTENER_H
#define IO_NET_LISTENER_H

#include "io/channel.h"
#include "util/sockets.h"

typedef struct QIONetListener QIONetListener;

/*
 * Called in the main loop thread for each accepted connection with a new
 * blocking socket channel.  The callback borrows client: it takes a
 * reference (qio_channel_ref) to keep it.  It may call
 * qio_net_listener_free() on its own listener.
 */
typedef void QIONetListenerFunc(QIOChannel *client, void *opaque);

/*
 * Listen on addr (tcp port "0" picks a free port: see
 * qio_net_listener_get_address()) and accept in the main loop (which
 * main_loop_init() must have set up).  A stale unix socket file is
 * replaced; the file is removed again by qio_net_listener_free().
 * Main loop thread only.
 */
QIONetListener *qio_net_listener_open(const SockAddr *addr,
                                      QIONetListenerFunc *func,
                                      void *opaque, Error **errp);
/* The address listened on, with the real port for tcp. */
const SockAddr *qio_net_listener_get_address(QIONetListener *listener);
/* Stop accepting, close, remove a unix socket file; NULL is allowed. */
void qio_net_listener_free(QIONetListener *listener);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QIONetListener, qio_net_listener_free)

#endif /* IO_NET_LISTENER_H */
