/*
 * The reconnecting key-value client (kv-client.h).
 *
 * One connection at a time, non-blocking, driven by poll() with a
 * deadline.  A batch is a loop of "connect if needed, then exchange
 * until every reply is in or the connection is dropped"; any trouble on
 * a connection (end of file, error, a reply or PONG overdue, an
 * overlong line) drops it, because its byte stream can no longer be
 * matched with the requests: the next connection's handshake resyncs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kv-client.h"

/* Bounds what a misbehaving service can make the client buffer. */
#define KV_CLIENT_LINE_MAX      (64 * 1024)
/* Request text queued ahead of the socket. */
#define KV_CLIENT_OUT_CHUNK     (16 * 1024)
/* The pause after every address failed, before the next round. */
#define KV_CLIENT_BACKOFF_US    (20 * 1000)
#define KV_CLIENT_CAN           "\x18"

struct KvClient {
    char **addresses;       /* NULL-terminated */
    unsigned naddresses;
    unsigned next;          /* the address the next connect tries first */
    int64_t reply_timeout_us;
    int fd;                 /* -1 while not connected */
    int current;            /* index of the connected address, or -1 */
    GString *in;            /* received, not yet taken as lines */
    uint32_t nonce;         /* makes tokens differ between clients */
    unsigned tokens;        /* tokens used */
    unsigned connects;
    unsigned resent;
    char *last_error;       /* why the last connect attempt failed */
};

static void kv_client_set_error(KvClient *c, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void kv_client_set_error(KvClient *c, const char *fmt, ...)
{
    va_list ap;

    g_free(c->last_error);
    va_start(ap, fmt);
    c->last_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static int64_t remaining_ms(int64_t deadline)
{
    int64_t left = deadline - g_get_monotonic_time();

    return left <= 0 ? 0 : (left + 999) / 1000;
}

/* Wait for @events on @fd until @deadline; 0 on timeout. */
static short wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int64_t ms = remaining_ms(deadline);
    int rc;

    do {
        rc = poll(&pfd, 1, (int)MIN(ms, INT_MAX));
    } while (rc < 0 && errno == EINTR);
    return rc > 0 ? pfd.revents : 0;
}

/* Non-blocking connect, finished within @deadline; -1 with errno set. */
static int connect_sockaddr(const struct sockaddr *sa, socklen_t len,
                            int64_t deadline)
{
    int fd = socket(sa->sa_family,
                    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int err = 0;
    socklen_t errlen = sizeof(err);

    if (fd < 0) {
        return -1;
    }
    if (connect(fd, sa, len) == 0) {
        return fd;
    }
    if (errno != EINPROGRESS) {
        err = errno;
    } else if (!wait_fd(fd, POLLOUT, deadline)) {
        err = ETIMEDOUT;
    } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0) {
        err = errno;
    }
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int connect_unix(KvClient *c, const char *path, int64_t deadline)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        kv_client_set_error(c, "unix:%s: path too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = connect_sockaddr((struct sockaddr *)&sa, sizeof(sa), deadline);
    if (fd < 0) {
        kv_client_set_error(c, "unix:%s: %s", path, g_strerror(errno));
    }
    return fd;
}

/* @hostport: "HOST:PORT" or "[V6]:PORT". */
static int connect_tcp(KvClient *c, const char *hostport, int64_t deadline)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM };
    const char *colon = strrchr(hostport, ':');
    g_autofree char *host = NULL;
    struct addrinfo *res = NULL;
    int fd = -1, rc;

    if (!colon || colon == hostport || !colon[1]) {
        kv_client_set_error(c, "tcp:%s: not HOST:PORT", hostport);
        return -1;
    }
    if (hostport[0] == '[' && colon[-1] == ']') {
        host = g_strndup(hostport + 1, colon - hostport - 2);
    } else {
        host = g_strndup(hostport, colon - hostport);
    }
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc) {
        kv_client_set_error(c, "tcp:%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_sockaddr(ai->ai_addr, ai->ai_addrlen, deadline);
        if (fd < 0) {
            kv_client_set_error(c, "tcp:%s: %s", hostport,
                                g_strerror(errno));
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int connect_address(KvClient *c, const char *address,
                           int64_t deadline)
{
    if (g_str_has_prefix(address, "unix:")) {
        return connect_unix(c, address + strlen("unix:"), deadline);
    }
    if (g_str_has_prefix(address, "tcp:")) {
        return connect_tcp(c, address + strlen("tcp:"), deadline);
    }
    kv_client_set_error(c, "%s: neither unix:PATH nor tcp:HOST:PORT",
                        address);
    return -1;
}

void kv_client_disconnect(KvClient *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    c->current = -1;
    g_string_truncate(c->in, 0);
}

/* Drop the connection after trouble, saying why. */
static void kv_client_drop(KvClient *c, const char *why)
{
    g_printerr("kv-client: dropping the connection to %s: %s\n",
               c->addresses[c->current], why);
    kv_client_disconnect(c);
}

/* Read what is there; false once the peer closed or failed. */
static bool conn_fill(KvClient *c)
{
    char buf[4096];

    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

        if (n > 0) {
            g_string_append_len(c->in, buf, n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return n < 0 && errno == EAGAIN;
        }
    }
}

/* The next complete line received (without "\n", "\r"), or NULL. */
static char *conn_take_line(KvClient *c)
{
    char *nl = memchr(c->in->str, '\n', c->in->len);
    size_t len;
    char *line;

    if (!nl) {
        return NULL;
    }
    len = nl - c->in->str;
    line = g_strndup(c->in->str, len);
    g_string_erase(c->in, 0, len + 1);
    if (len && line[len - 1] == '\r') {
        line[len - 1] = '\0';
    }
    return line;
}

/* Write @len bytes of @buf that the socket takes now; -1 on error. */
static ssize_t conn_write(KvClient *c, const char *buf, size_t len)
{
    ssize_t n;

    do {
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        return 0;
    }
    return n;
}

/*
 * CAN, then "PING <fresh token>"; every line before "PONG <token>" is
 * left over from an earlier connection and discarded.
 */
static bool kv_client_handshake(KvClient *c, int64_t deadline)
{
    g_autofree char *token = g_strdup_printf("%08x.%u", c->nonce,
                                             ++c->tokens);
    g_autofree char *ping = g_strdup_printf(KV_CLIENT_CAN "PING %s\n",
                                            token);
    g_autofree char *pong = g_strdup_printf("PONG %s", token);
    size_t off = 0;

    while (off < strlen(ping)) {
        ssize_t n = conn_write(c, ping + off, strlen(ping) - off);

        if (n < 0) {
            kv_client_set_error(c, "%s: send: %s", c->addresses[c->current],
                                g_strerror(errno));
            return false;
        }
        off += n;
        if (off < strlen(ping) && !wait_fd(c->fd, POLLOUT, deadline)) {
            kv_client_set_error(c, "%s: cannot send the PING",
                                c->addresses[c->current]);
            return false;
        }
    }
    for (;;) {
        g_autofree char *line = conn_take_line(c);

        if (line && !strcmp(line, pong)) {
            return true;
        }
        if (line) {
            continue;
        }
        if (c->in->len > KV_CLIENT_LINE_MAX ||
            !wait_fd(c->fd, POLLIN, deadline) || !conn_fill(c)) {
            kv_client_set_error(c, "%s: no \"%s\"",
                                c->addresses[c->current], pong);
            return false;
        }
    }
}

/* Connect to address @idx and shake hands, within the reply timeout. */
static bool kv_client_try(KvClient *c, unsigned idx, int64_t deadline)
{
    int64_t until = MIN(deadline,
                        g_get_monotonic_time() + c->reply_timeout_us);

    c->fd = connect_address(c, c->addresses[idx], until);
    if (c->fd < 0) {
        return false;
    }
    c->current = idx;
    if (!kv_client_handshake(c, until)) {
        kv_client_disconnect(c);
        return false;
    }
    c->next = (idx + 1) % c->naddresses;
    if (c->connects++) {
        g_printerr("kv-client: reconnected to %s\n", c->addresses[idx]);
    }
    return true;
}

/*
 * Try the addresses round robin, from the one after the last that
 * served, pausing briefly after each full round, until @deadline.
 */
static bool kv_client_connect(KvClient *c, int64_t deadline)
{
    for (;;) {
        for (unsigned i = 0; i < c->naddresses; i++) {
            unsigned idx = c->next;

            c->next = (c->next + 1) % c->naddresses;
            if (kv_client_try(c, idx, deadline)) {
                return true;
            }
            if (g_get_monotonic_time() >= deadline) {
                g_printerr("kv-client: no address serves; last error: %s\n",
                           c->last_error ? c->last_error : "none");
                return false;
            }
        }
        g_usleep(MIN(KV_CLIENT_BACKOFF_US,
                     MAX(deadline - g_get_monotonic_time(), 0)));
    }
}

/* Where a batch stands; the replies of [0, done) are in. */
typedef struct KvBatch {
    const char *const *requests;
    size_t n;
    char **replies;
    size_t done;
    size_t queued_max;      /* requests [0, queued_max) were queued once */
} KvBatch;

/*
 * Send b's requests from the first unanswered one and collect replies
 * until all are in (true) or the connection is dropped (false).
 */
static bool kv_client_exchange(KvClient *c, KvBatch *b, int64_t deadline)
{
    g_autoptr(GString) out = g_string_new(NULL);
    size_t out_off = 0, next = b->done;
    int64_t reply_by = g_get_monotonic_time() + c->reply_timeout_us;

    for (;;) {
        short revents;
        char *line;

        while ((line = conn_take_line(c))) {
            b->replies[b->done++] = line;
            reply_by = g_get_monotonic_time() + c->reply_timeout_us;
            if (b->done == b->n) {
                return true;
            }
        }
        if (out_off == out->len) {
            g_string_truncate(out, 0);
            out_off = 0;
        }
        for (; next < b->n && out->len < KV_CLIENT_OUT_CHUNK; next++) {
            c->resent += next < b->queued_max;
            g_string_append(out, b->requests[next]);
            g_string_append_c(out, '\n');
        }
        b->queued_max = MAX(b->queued_max, next);
        if (c->in->len > KV_CLIENT_LINE_MAX) {
            kv_client_drop(c, "overlong reply");
            return false;
        }
        revents = wait_fd(c->fd, POLLIN | (out_off < out->len ? POLLOUT : 0),
                          MIN(deadline, reply_by));
        if (!revents) {
            g_autofree char *why = g_strdup_printf(
                "no reply to request %zu (\"%.60s\") in time", b->done,
                b->requests[b->done]);

            kv_client_drop(c, why);
            return false;
        }
        if ((revents & (POLLIN | POLLHUP | POLLERR)) && !conn_fill(c)) {
            /* Replies that came with the end of file still count. */
            while (b->done < b->n && (line = conn_take_line(c))) {
                b->replies[b->done++] = line;
            }
            if (b->done == b->n) {
                kv_client_disconnect(c);
                return true;
            }
            kv_client_drop(c, "closed by the peer");
            return false;
        }
        if (revents & POLLOUT) {
            ssize_t n = conn_write(c, out->str + out_off,
                                   out->len - out_off);

            if (n < 0) {
                kv_client_drop(c, g_strerror(errno));
                return false;
            }
            out_off += n;
        }
    }
}

static bool request_ok(const char *request)
{
    if (strchr(request, '\n') || strchr(request, KV_CLIENT_CAN[0])) {
        g_printerr("kv-client: a request may not hold '\\n' or CAN: "
                   "\"%s\"\n", request);
        return false;
    }
    return true;
}

bool kv_client_batch(KvClient *c, const char *const *requests, size_t n,
                     char **replies, int64_t deadline)
{
    KvBatch b = { .requests = requests, .n = n, .replies = replies };

    for (size_t i = 0; i < n; i++) {
        replies[i] = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!request_ok(requests[i])) {
            return false;
        }
    }
    while (b.done < n) {
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("kv-client: deadline passed with %zu of %zu replies\n",
                       b.done, n);
            return false;
        }
        if (c->fd < 0 && !kv_client_connect(c, deadline)) {
            return false;
        }
        if (kv_client_exchange(c, &b, deadline)) {
            break;
        }
    }
    return true;
}

char *kv_client_request(KvClient *c, const char *request, int64_t deadline)
{
    char *reply = NULL;

    return kv_client_batch(c, &request, 1, &reply, deadline) ? reply : NULL;
}

KvClient *kv_client_new(const char *const *addresses, int reply_timeout_ms)
{
    KvClient *c = g_new0(KvClient, 1);

    g_assert(addresses && addresses[0] && reply_timeout_ms > 0);
    c->addresses = g_strdupv((char **)addresses);
    c->naddresses = g_strv_length(c->addresses);
    c->reply_timeout_us = (int64_t)reply_timeout_ms * 1000;
    c->fd = -1;
    c->current = -1;
    c->in = g_string_new(NULL);
    c->nonce = g_random_int();
    return c;
}

void kv_client_free(KvClient *c)
{
    if (!c) {
        return;
    }
    kv_client_disconnect(c);
    g_string_free(c->in, TRUE);
    g_strfreev(c->addresses);
    g_free(c->last_error);
    g_free(c);
}

unsigned kv_client_reconnects(const KvClient *c)
{
    return c->connects ? c->connects - 1 : 0;
}

unsigned kv_client_resent(const KvClient *c)
{
    return c->resent;
}

const char *kv_client_address(const KvClient *c)
{
    return c->current >= 0 ? c->addresses[c->current] : NULL;
}
