/*
 * QMP listeners: the sockets named by -qmp options.
 *
 * Each listener accepts any number of clients, each becoming a session
 * of its own.  Unix socket files are created here and removed here when
 * the listener closes, provided the file is still the one we bound.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "monitor-internal.h"
#include "trace/trace.h"
#include "util/error-report.h"
#include "util/main-loop.h"
#include "util/option.h"
#include "util/sockets.h"

typedef struct QmpListener {
    SockAddr addr;
    char *desc;             /* the address, for messages and traces */
    int fd;
    bool wait;              /* wait=on: a client must come before start */
    unsigned accepted;
    SocketFile file;        /* the unix socket file we bound */
} QmpListener;

/* Main thread, BQL held: created at start-up, freed at exit. */
typedef struct QmpListenerSet {
    GList *listeners;       /* QmpListener *; protected by the BQL */
} QmpListenerSet;

static QmpListenerSet qmp_listeners;

static void listener_free(QmpListener *l)
{
    if (l->fd >= 0) {
        main_loop_set_fd_handler(l->fd, NULL, NULL, NULL);
        close(l->fd);
    }
    socket_file_remove(&l->addr, &l->file);
    trace_qmp_listener_close(l->desc);
    sock_addr_clear(&l->addr);
    g_free(l->desc);
    g_free(l);
}

static char *peer_name(int fd, const QmpListener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];

    if (l->addr.type == SOCK_ADDR_TYPE_UNIX) {
        return g_strdup(l->desc);
    }
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return g_strdup("tcp:?");
    }
    return g_strdup_printf("tcp:%s:%s", host, port);
}

/* Accept one pending client; false when there was none. */
static bool listener_accept_one(QmpListener *l)
{
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    g_autofree char *peer = NULL;

    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            /* EMFILE and the like: report, the listener stays. */
            warn_report("QMP %s: accept failed: %s", l->desc,
                        g_strerror(errno));
        }
        return false;
    }
    peer = peer_name(fd, l);
    l->accepted++;
    monitor_qmp_session_new(fd, peer);
    return true;
}

static void listener_accept(void *opaque)
{
    listener_accept_one(opaque);
}

static bool listener_open(QmpListener *l, Error **errp)
{
    l->fd = socket_listen_owned(&l->addr, 16, &l->file, errp);
    if (l->fd < 0) {
        return false;
    }
    if (!socket_set_nonblock(l->fd, true, errp)) {
        return false;
    }
    if (l->addr.type == SOCK_ADDR_TYPE_INET &&
        !sock_addr_update_from_fd(&l->addr, l->fd, errp)) {
        return false;
    }
    g_free(l->desc);
    l->desc = sock_addr_to_str(&l->addr);
    return true;
}

/* Check the option string and fill in @l's address and mode. */
static bool listener_parse(QmpListener *l, const char *optarg, Error **errp)
{
    static const char *const keys[] = { "addr", "server", "wait", NULL };
    g_autoptr(OptList) opts = opts_parse(optarg, "addr", errp);
    const char *addr;
    bool server;

    if (!opts || !opts_check_keys(opts, keys, errp)) {
        return false;
    }
    addr = opts_get(opts, "addr");
    if (!addr || !*addr) {
        error_setg(errp, "missing address (unix:PATH or tcp:HOST:PORT)");
        return false;
    }
    if (!opts_get_bool(opts, "server", false, &server, errp) ||
        !opts_get_bool(opts, "wait", true, &l->wait, errp)) {
        return false;
    }
    if (!server) {
        error_setg(errp, "only server mode is supported, add server=on");
        return false;
    }
    if (!sock_addr_parse(addr, &l->addr, errp)) {
        return false;
    }
    l->desc = g_strdup(addr);
    return true;
}

bool monitor_qmp_add(const char *optarg, Error **errp)
{
    QmpListener *l = g_new0(QmpListener, 1);

    l->fd = -1;
    if (!listener_parse(l, optarg, errp) || !listener_open(l, errp)) {
        listener_free(l);
        return false;
    }
    trace_qmp_listener_open(l->desc, l->wait);
    qmp_listeners.listeners = g_list_append(qmp_listeners.listeners, l);
    main_loop_set_fd_handler(l->fd, listener_accept, NULL, l);
    return true;
}

/* Block until @l has a client or @abort_fd is readable. */
static bool listener_wait(QmpListener *l, int abort_fd, Error **errp)
{
    info_report("waiting for connection on: %s,server=on", l->desc);
    while (l->accepted == 0) {
        if (socket_wait_readable(l->fd, abort_fd, errp) <= 0) {
            return false;
        }
        listener_accept_one(l);
    }
    return true;
}

bool monitor_qmp_wait_for_clients(int abort_fd, Error **errp)
{
    for (GList *it = qmp_listeners.listeners; it; it = it->next) {
        QmpListener *l = it->data;

        if (l->wait && !listener_wait(l, abort_fd, errp)) {
            return false;
        }
    }
    return true;
}

void monitor_qmp_close_listeners(void)
{
    g_list_free_full(qmp_listeners.listeners,
                     (GDestroyNotify)listener_free);
    qmp_listeners.listeners = NULL;
}
