/*
 * Socket addresses and listening/connecting sockets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util/sockets.h"

#define SOCK_ADDR_SYNTAX "expected tcp:HOST:PORT or unix:PATH"

void sock_addr_clear(SockAddr *addr)
{
    g_clear_pointer(&addr->host, g_free);
    g_clear_pointer(&addr->port, g_free);
    g_clear_pointer(&addr->path, g_free);
    addr->type = SOCK_ADDR_TYPE_INET;
}

static bool port_is_valid(const char *port)
{
    size_t len = strlen(port);

    /* Five digits at most, so the value below cannot overflow. */
    if (len == 0 || len > 5 || strspn(port, "0123456789") != len) {
        return false;
    }
    return atoi(port) <= 65535;
}

/* str is the part after "tcp:". */
static bool sock_addr_parse_inet(const char *full, const char *str,
                                 SockAddr *addr, Error **errp)
{
    const char *host_end;
    const char *port;
    const char *host = str;

    if (*str == '[') {
        host = str + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            error_setg(errp, "Missing ']' after IPv6 address in '%s'", full);
            return false;
        }
        if (host_end[1] != ':') {
            error_setg(errp, "Port missing in '%s'", full);
            return false;
        }
        port = host_end + 2;
    } else {
        host_end = strchr(str, ':');
        if (!host_end) {
            error_setg(errp, "Port missing in '%s'", full);
            return false;
        }
        port = host_end + 1;
        if (strchr(port, ':')) {
            error_setg(errp, "IPv6 address must be in brackets in '%s'",
                       full);
            error_append_hint(errp, "Use tcp:[ADDRESS]:PORT\n");
            return false;
        }
    }
    if (*port == '\0') {
        error_setg(errp, "Port missing in '%s'", full);
        return false;
    }
    if (!port_is_valid(port)) {
        error_setg(errp, "Invalid port '%s' in '%s': expected a number "
                   "from 0 to 65535", port, full);
        return false;
    }
    addr->type = SOCK_ADDR_TYPE_INET;
    addr->host = g_strndup(host, host_end - host);
    addr->port = g_strdup(port);
    return true;
}

static bool sock_addr_parse_unix(const char *full, const char *path,
                                 SockAddr *addr, Error **errp)
{
    struct sockaddr_un sun;

    if (*path == '\0') {
        error_setg(errp, "Path missing in '%s'", full);
        return false;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        error_append_hint(errp, "Path must be less than %zu bytes\n",
                          sizeof(sun.sun_path));
        return false;
    }
    addr->type = SOCK_ADDR_TYPE_UNIX;
    addr->path = g_strdup(path);
    return true;
}

bool sock_addr_parse(const char *str, SockAddr *addr, Error **errp)
{
    ERRP_GUARD();

    memset(addr, 0, sizeof(*addr));
    if (g_str_has_prefix(str, "tcp:")) {
        return sock_addr_parse_inet(str, str + 4, addr, errp);
    }
    if (g_str_has_prefix(str, "unix:")) {
        return sock_addr_parse_unix(str, str + 5, addr, errp);
    }
    error_setg(errp, "Invalid socket address '%s': " SOCK_ADDR_SYNTAX, str);
    return false;
}

char *sock_addr_to_str(const SockAddr *addr)
{
    if (addr->type == SOCK_ADDR_TYPE_UNIX) {
        return g_strdup_printf("unix:%s", addr->path);
    }
    if (strchr(addr->host, ':')) {
        return g_strdup_printf("tcp:[%s]:%s", addr->host, addr->port);
    }
    return g_strdup_printf("tcp:%s:%s", addr->host, addr->port);
}

bool socket_set_nonblock(int fd, bool on, Error **errp)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0) {
        error_setg_errno(errp, errno, "Cannot get flags of fd %d", fd);
        return false;
    }
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (fcntl(fd, F_SETFL, flags) < 0) {
        error_setg_errno(errp, errno, "Cannot set O_NONBLOCK on fd %d", fd);
        return false;
    }
    return true;
}

static bool sock_addr_fill_unix(const SockAddr *addr, struct sockaddr_un *sun,
                                Error **errp)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (!addr->path || strlen(addr->path) >= sizeof(sun->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long",
                   addr->path ? addr->path : "");
        return false;
    }
    strcpy(sun->sun_path, addr->path);
    return true;
}

static int socket_listen_unix(const SockAddr *addr, int backlog,
                              Error **errp)
{
    struct sockaddr_un sun;
    int fd;

    if (!sock_addr_fill_unix(addr, &sun, errp)) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s",
                         addr->path);
        close(fd);
        return -1;
    }
    if (listen(fd, backlog) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on socket %s",
                         addr->path);
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * connect() interrupted by a signal goes on in the background; wait for
 * it to finish instead of reporting EINTR or calling connect() again.
 */
static int connect_uninterrupted(int fd, const struct sockaddr *sa,
                                 socklen_t salen)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    socklen_t len = sizeof(int);
    int err = 0;

    if (connect(fd, sa, salen) == 0) {
        return 0;
    }
    if (errno != EINTR) {
        return -1;
    }
    while (poll(&pfd, 1, -1) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        return -1;
    }
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

static int socket_connect_unix(const SockAddr *addr, Error **errp)
{
    struct sockaddr_un sun;
    int fd;

    if (!sock_addr_fill_unix(addr, &sun, errp)) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return -1;
    }
    if (connect_uninterrupted(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        error_setg_errno(errp, errno, "Failed to connect to '%s'",
                         addr->path);
        close(fd);
        return -1;
    }
    return fd;
}

static struct addrinfo *sock_addr_resolve(const char *host, const char *port,
                                          bool passive, Error **errp)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = (passive ? AI_PASSIVE : 0) | AI_NUMERICSERV,
    };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);

    if (rc != 0) {
        error_setg(errp, "address resolution failed for %s:%s: %s",
                   host ? host : "", port, gai_strerror(rc));
        return NULL;
    }
    return res;
}

/* Bind and listen on one resolved address; -1 with errno on failure. */
static int socket_listen_ai(const struct addrinfo *ai, int backlog)
{
    static const int on = 1;
    static const int off;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
    int saved;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    /* "::" serves IPv4 clients too when the host allows dual stack. */
    if (ai->ai_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        listen(fd, backlog) == 0) {
        return fd;
    }
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static int socket_listen_inet(const SockAddr *addr, int backlog,
                              Error **errp)
{
    const char *host = addr->host && *addr->host ? addr->host : NULL;
    struct addrinfo *res;
    struct addrinfo *ai;
    int fd = -1;
    int err = 0;

    res = sock_addr_resolve(host, addr->port, true, errp);
    if (!res) {
        return -1;
    }
    /*
     * With no host, prefer the IPv6 wildcard (dual stack) and fall back
     * to the IPv4 one on hosts without IPv6.
     */
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (ai = res; ai && fd < 0; ai = ai->ai_next) {
            if (!host && (ai->ai_family == AF_INET6) != (pass == 0)) {
                continue;
            }
            if (host && pass == 1) {
                break;
            }
            fd = socket_listen_ai(ai, backlog);
            if (fd < 0) {
                err = errno;
            }
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        error_setg_errno(errp, err, "Failed to listen on '%s:%s'",
                         host ? host : "", addr->port);
    }
    return fd;
}

static int socket_connect_ai(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
    int saved;

    if (fd < 0) {
        return -1;
    }
    if (connect_uninterrupted(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        return fd;
    }
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static int socket_connect_inet(const SockAddr *addr, Error **errp)
{
    const char *host = addr->host && *addr->host ? addr->host : "localhost";
    struct addrinfo *res;
    struct addrinfo *ai;
    int fd = -1;
    int err = 0;

    res = sock_addr_resolve(host, addr->port, false, errp);
    if (!res) {
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket_connect_ai(ai);
        if (fd < 0) {
            err = errno;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        error_setg_errno(errp, err, "Failed to connect to '%s:%s'",
                         host, addr->port);
    }
    return fd;
}

int socket_listen(const SockAddr *addr, int backlog, Error **errp)
{
    if (addr->type == SOCK_ADDR_TYPE_UNIX) {
        return socket_listen_unix(addr, backlog, errp);
    }
    return socket_listen_inet(addr, backlog, errp);
}

int socket_connect(const SockAddr *addr, Error **errp)
{
    if (addr->type == SOCK_ADDR_TYPE_UNIX) {
        return socket_connect_unix(addr, errp);
    }
    return socket_connect_inet(addr, errp);
}

int socket_get_bound_port(int fd, Error **errp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        error_setg_errno(errp, errno, "Cannot get address of fd %d", fd);
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    error_setg(errp, "Socket fd %d is not a TCP socket", fd);
    return -1;
}

bool sock_addr_update_from_fd(SockAddr *addr, int fd, Error **errp)
{
    int port;

    if (addr->type == SOCK_ADDR_TYPE_UNIX) {
        return true;
    }
    port = socket_get_bound_port(fd, errp);
    if (port < 0) {
        return false;
    }
    g_free(addr->port);
    addr->port = g_strdup_printf("%d", port);
    return true;
}

static bool socket_file_remove_stale(const char *path, Error **errp)
{
    struct stat st;

    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        return true;    /* absent, or not a socket: bind() will say */
    }
    if (unlink(path) < 0) {
        error_setg_errno(errp, errno, "Failed to unlink socket %s", path);
        return false;
    }
    return true;
}

int socket_listen_owned(const SockAddr *addr, int backlog, SocketFile *file,
                        Error **errp)
{
    struct stat st;
    int fd;

    *file = (SocketFile) {};
    if (addr->type == SOCK_ADDR_TYPE_UNIX &&
        !socket_file_remove_stale(addr->path, errp)) {
        return -1;
    }
    fd = socket_listen(addr, backlog, errp);
    if (fd >= 0 && addr->type == SOCK_ADDR_TYPE_UNIX &&
        stat(addr->path, &st) == 0) {
        file->owned = true;
        file->dev = st.st_dev;
        file->ino = st.st_ino;
    }
    return fd;
}

void socket_file_remove(const SockAddr *addr, SocketFile *file)
{
    struct stat st;

    if (file->owned && stat(addr->path, &st) == 0 &&
        st.st_dev == file->dev && st.st_ino == file->ino) {
        unlink(addr->path);
    }
    file->owned = false;
}

int socket_wait_readable(int fd, int abort_fd, Error **errp)
{
    struct pollfd pfd[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = abort_fd, .events = POLLIN },
    };

    for (;;) {
        if (poll(pfd, abort_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "poll failed");
            return -1;
        }
        if (abort_fd >= 0 && pfd[1].revents) {
            return 0;
        }
        if (pfd[0].revents) {
            return 1;
        }
    }
}
