/*
 * The socket backend: a unix or tcp server that serves one client at a
 * time, or a client that connects at start (and optionally reconnects).
 *
 * As in QEMU, a server stops accepting while it has a client: a second
 * client's connection waits in the listen backlog and is accepted when
 * the first one leaves.  Output written while no client is connected is
 * dropped.  The frontend hears CHR_EVENT_OPENED when a client arrives
 * and CHR_EVENT_CLOSED when it leaves.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "char-internal.h"
#include "trace/trace.h"
#include "util/error-report.h"
#include "util/sockets.h"

typedef struct SocketChardev {
    Chardev parent;
    SockAddr addr;
    char *desc;             /* the address, for messages and traces */
    bool server;
    bool wait;              /* server: wait for a client before starting */
    uint64_t reconnect_s;   /* client: retry period, 0 = never */
    int listen_fd;
    int fd;                 /* the connected peer, or -1 */
    SocketFile file;        /* the unix socket file we bound */
    Timer *reconnect_timer;
} SocketChardev;

static void socket_accept(void *opaque);

static void socket_watch_listener(SocketChardev *s, bool on)
{
    if (s->listen_fd >= 0) {
        main_loop_set_fd_handler(s->listen_fd, on ? socket_accept : NULL,
                                 NULL, s);
    }
}

static bool socket_attach(SocketChardev *s, int fd, Error **errp)
{
    if (!socket_set_nonblock(fd, true, errp)) {
        close(fd);
        return false;
    }
    s->fd = fd;
    socket_watch_listener(s, false);
    chardev_attach_fds(&s->parent, fd, fd, true);
    trace_char_socket_connected(s->parent.id, s->desc);
    chardev_set_opened(&s->parent, true);
    return true;
}

static void socket_disconnect(SocketChardev *s, const char *reason)
{
    if (s->fd < 0) {
        return;
    }
    trace_char_socket_disconnected(s->parent.id, reason);
    chardev_attach_fds(&s->parent, -1, -1, true);
    close(s->fd);
    s->fd = -1;
    chardev_set_opened(&s->parent, false);
    if (s->server) {
        /* A client waiting in the backlog is accepted right away. */
        socket_watch_listener(s, true);
    } else if (s->reconnect_s) {
        timer_mod(s->reconnect_timer,
                  clock_get_ms(CLOCK_TYPE_REALTIME) + s->reconnect_s * 1000);
    }
}

static bool socket_accept_one(SocketChardev *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            warn_report("chardev %s: accept failed: %s", s->parent.id,
                        g_strerror(errno));
        }
        return false;
    }
    return socket_attach(s, fd, NULL);
}

static void socket_accept(void *opaque)
{
    SocketChardev *s = opaque;

    if (s->fd < 0) {
        socket_accept_one(s);
    }
}

static bool socket_connect_now(SocketChardev *s, Error **errp)
{
    int fd = socket_connect(&s->addr, errp);

    return fd >= 0 && socket_attach(s, fd, errp);
}

static void socket_reconnect(void *opaque)
{
    SocketChardev *s = opaque;
    Error *err = NULL;

    if (s->fd >= 0) {
        return;
    }
    if (!socket_connect_now(s, &err)) {
        trace_char_socket_reconnect_failed(s->parent.id,
                                           error_get_pretty(err));
        error_free(err);
        timer_mod(s->reconnect_timer,
                  clock_get_ms(CLOCK_TYPE_REALTIME) + s->reconnect_s * 1000);
    }
}

static void socket_input_eof(Chardev *c)
{
    socket_disconnect((SocketChardev *)c, "end of file");
}

static void socket_output_error(Chardev *c)
{
    bool broken;

    /* The failed fd may already have been replaced by a new client. */
    mutex_lock(&c->out_lock);
    broken = c->out_broken;
    mutex_unlock(&c->out_lock);
    if (broken) {
        socket_disconnect((SocketChardev *)c, "write failed");
    }
}

static bool socket_listen_now(SocketChardev *s, Error **errp)
{
    /* Backlog 1: one client served, the next one queued. */
    s->listen_fd = socket_listen_owned(&s->addr, 1, &s->file, errp);
    if (s->listen_fd < 0) {
        return false;
    }
    if (!socket_set_nonblock(s->listen_fd, true, errp) ||
        !sock_addr_update_from_fd(&s->addr, s->listen_fd, errp)) {
        return false;
    }
    g_free(s->desc);
    s->desc = sock_addr_to_str(&s->addr);
    trace_char_socket_listen(s->parent.id, s->desc);
    socket_watch_listener(s, true);
    return true;
}

/* Fill in s->addr from path= or host=/port=. */
static bool socket_parse_addr(SocketChardev *s, const OptList *opts,
                              Error **errp)
{
    const char *path = opts_get(opts, "path");
    const char *host = opts_get(opts, "host");
    const char *port = opts_get(opts, "port");

    if (path && (host || port)) {
        error_setg(errp, "chardev: socket: 'path' cannot be combined with "
                   "'host' or 'port'");
        return false;
    }
    if (path) {
        s->addr.type = SOCK_ADDR_TYPE_UNIX;
        s->addr.path = g_strdup(path);
    } else if (host) {
        if (!port) {
            error_setg(errp, "chardev: socket: no port given");
            return false;
        }
        s->addr.type = SOCK_ADDR_TYPE_INET;
        s->addr.host = g_strdup(host);
        s->addr.port = g_strdup(port);
    } else if (port) {
        error_setg(errp, "chardev: socket: no host given");
        return false;
    } else {
        error_setg(errp, "chardev: socket: 'path' or 'host' is required");
        return false;
    }
    s->desc = sock_addr_to_str(&s->addr);
    return true;
}

static bool socket_parse_mode(SocketChardev *s, const OptList *opts,
                              Error **errp)
{
    if (!opts_get_bool(opts, "server", false, &s->server, errp) ||
        !opts_get_bool(opts, "wait", true, &s->wait, errp) ||
        !opts_get_number(opts, "reconnect", 0, &s->reconnect_s, errp)) {
        return false;
    }
    if (s->server && opts_has(opts, "reconnect")) {
        error_setg(errp, "'reconnect' option is incompatible with socket "
                   "in server listen mode");
        return false;
    }
    if (!s->server && opts_has(opts, "wait")) {
        error_setg(errp, "'wait' option is incompatible with socket in "
                   "client connect mode");
        return false;
    }
    if (s->reconnect_s > 24 * 3600) {
        error_setg(errp, "Parameter 'reconnect' must be at most 86400 "
                   "seconds");
        return false;
    }
    return true;
}

static bool socket_open(Chardev *c, const OptList *opts, Error **errp)
{
    SocketChardev *s = (SocketChardev *)c;
    Error *err = NULL;

    s->listen_fd = -1;
    s->fd = -1;
    if (!socket_parse_addr(s, opts, errp) ||
        !socket_parse_mode(s, opts, errp)) {
        goto fail;
    }
    if (s->server) {
        if (!socket_listen_now(s, errp)) {
            goto fail;
        }
        return true;
    }
    s->reconnect_timer = timer_new_ms(CLOCK_TYPE_REALTIME, socket_reconnect,
                                      s);
    if (socket_connect_now(s, &err)) {
        return true;
    }
    if (!s->reconnect_s) {
        error_propagate(errp, err);
        goto fail;
    }
    /* With reconnect=N a peer that is not there yet is not an error. */
    warn_report("chardev %s: %s; retrying every %" PRIu64 " s", c->id,
                error_get_pretty(err), s->reconnect_s);
    error_free(err);
    timer_mod(s->reconnect_timer,
              clock_get_ms(CLOCK_TYPE_REALTIME) + s->reconnect_s * 1000);
    return true;

fail:
    c->cls->close(c);
    return false;
}

static void socket_close(Chardev *c)
{
    SocketChardev *s = (SocketChardev *)c;

    chardev_attach_fds(c, -1, -1, true);
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (s->listen_fd >= 0) {
        socket_watch_listener(s, false);
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    socket_file_remove(&s->addr, &s->file);
    timer_free(s->reconnect_timer);
    s->reconnect_timer = NULL;
    sock_addr_clear(&s->addr);
    g_free(s->desc);
    s->desc = NULL;
}

static char *socket_address(const Chardev *c)
{
    const SocketChardev *s = (const SocketChardev *)c;

    return sock_addr_to_str(&s->addr);
}

/* Block until @s has a client or @abort_fd is readable. */
static bool socket_wait_client(SocketChardev *s, int abort_fd, Error **errp)
{
    info_report("waiting for connection on: disconnected:%s,server=on",
                s->desc);
    while (s->fd < 0) {
        if (socket_wait_readable(s->listen_fd, abort_fd, errp) <= 0) {
            return false;
        }
        socket_accept_one(s);
    }
    return true;
}

typedef struct WaitState {
    int abort_fd;
    bool ok;
    Error **errp;
} WaitState;

static void socket_wait_one(Chardev *c, void *opaque)
{
    WaitState *w = opaque;
    SocketChardev *s = (SocketChardev *)c;

    if (w->ok && c->cls == &chardev_socket_class && s->server && s->wait &&
        s->fd < 0) {
        w->ok = socket_wait_client(s, w->abort_fd, w->errp);
    }
    if (c->cls == &chardev_socket_class) {
        /* Only the first wait counts, as at QEMU start-up. */
        s->wait = false;
    }
}

bool chardev_wait_for_clients(int abort_fd, Error **errp)
{
    WaitState w = { .abort_fd = abort_fd, .ok = true, .errp = errp };

    chardev_foreach(socket_wait_one, &w);
    return w.ok;
}

static const char *const socket_keys[] = {
    "path", "host", "port", "server", "wait", "reconnect", NULL
};

const ChardevClass chardev_socket_class = {
    .name = "socket",
    .instance_size = sizeof(SocketChardev),
    .keys = socket_keys,
    .open = socket_open,
    .close = socket_close,
    .input_eof = socket_input_eof,
    .output_error = socket_output_error,
    .address = socket_address,
};
