/*
 * qtest test client: one request line, one reply line.
 *
 * Requests can be large (a "write" of 16 MiB is 32 MiB of hex), so
 * sending never blocks: while the socket is full we keep reading, and
 * every wait polls with the request's deadline while collecting the
 * child's output.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-test-int.h"
#include "qtest-client.h"

struct QtestClient {
    QmpTestProc *proc;      /* watched while waiting; may be NULL */
    int fd;
    bool eof;
    GString *rbuf;
    size_t rpos;            /* start of the unread part of rbuf */
    size_t scanned;         /* bytes after rpos known to hold no newline */
    char *last;             /* last reply line */
    int timeout_ms;
    /*
     * A request timed out: its reply may still come and would be taken
     * for the next one's, so the connection is no longer usable.
     */
    bool out_of_sync;
};

/* Longest reply: a read of the server's maximum, in hex. */
#define QTEST_CLIENT_MAX_LINE (2 * QTEST_CLIENT_MAX_ACCESS + 64)
/* Requests are cut to this length in error messages. */
#define QTEST_CLIENT_QUOTE 64

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, saved;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        return fd;
    }
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

QtestClient *qtest_connect(QmpTestProc *proc, const char *path,
                           int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    QtestClient *qt;
    int fd;

    if (g_str_has_prefix(path, "unix:")) {
        path += strlen("unix:");
    }
    while ((fd = connect_unix(path)) < 0) {
        if (errno != ENOENT && errno != ECONNREFUSED) {
            g_printerr("qtest: connect %s: %s\n", path, g_strerror(errno));
            return NULL;
        }
        if (proc && qmptest_proc_try_reap(proc)) {
            g_printerr("qtest: colo-vm exited before %s was ready:\n%s\n",
                       path, qmptest_stderr(proc));
            return NULL;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("qtest: %s not ready in time\n", path);
            return NULL;
        }
        /* Back off 20 ms, still collecting the child's output. */
        qmptest_proc_poll(proc, -1, 0,
                          MIN(deadline, g_get_monotonic_time() + 20000));
    }
    qt = g_new0(QtestClient, 1);
    qt->proc = proc;
    qt->fd = fd;
    qt->rbuf = g_string_new(NULL);
    qt->timeout_ms = QMPTEST_TIMEOUT_MS;
    return qt;
}

QtestClient *qtest_connect_proc(QmpTestProc *proc)
{
    g_autofree char *path = g_build_filename(qmptest_tmpdir(proc),
                                             QTEST_SOCKET_NAME, NULL);

    return qtest_connect(proc, path, QMPTEST_TIMEOUT_MS);
}

QtestClient *qtest_start(const char *extra_args, QmpTestProc **proc)
{
    g_autofree char *args = g_strdup_printf("%s %s", QTEST_ARGS,
                                            extra_args ? extra_args : "");
    QtestClient *qt;

    *proc = qmptest_start(args, QMPTEST_DEFAULT);
    if (!*proc) {
        return NULL;
    }
    qt = qtest_connect_proc(*proc);
    if (!qt) {
        qmptest_free(*proc);
        *proc = NULL;
    }
    return qt;
}

void qtest_client_free(QtestClient *qt)
{
    if (!qt) {
        return;
    }
    close(qt->fd);
    g_string_free(qt->rbuf, true);
    g_free(qt->last);
    g_free(qt);
}

void qtest_set_timeout(QtestClient *qt, int timeout_ms)
{
    qt->timeout_ms = timeout_ms;
}

const char *qtest_last_reply(const QtestClient *qt)
{
    return qt->last;
}

/* Read what is available; false on end of connection or error. */
static bool fill_rbuf(QtestClient *qt)
{
    char chunk[65536];

    for (;;) {
        ssize_t n = recv(qt->fd, chunk, sizeof(chunk), 0);

        if (n > 0) {
            g_string_append_len(qt->rbuf, chunk, n);
            if (qt->rbuf->len - qt->rpos > QTEST_CLIENT_MAX_LINE) {
                g_printerr("qtest: reply line too long\n");
                qt->eof = true;
                return false;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        qt->eof = true;
        return false;
    }
}

/* Take one complete line out of rbuf; NULL if none yet. */
static char *take_line(QtestClient *qt)
{
    char *start = qt->rbuf->str + qt->rpos;
    size_t avail = qt->rbuf->len - qt->rpos;
    char *nl = memchr(start + qt->scanned, '\n', avail - qt->scanned);
    char *line;

    if (!nl) {
        qt->scanned = avail;
        return NULL;
    }
    qt->scanned = 0;
    if (qt->rpos == 0 && nl == qt->rbuf->str + qt->rbuf->len - 1) {
        /* The buffer holds exactly one line: hand it over, no copy. */
        g_string_truncate(qt->rbuf, qt->rbuf->len - 1);
        line = g_string_free(qt->rbuf, false);
        qt->rbuf = g_string_new(NULL);
        return line;
    }
    line = g_strndup(start, nl - start);
    qt->rpos += nl - start + 1;
    if (qt->rpos == qt->rbuf->len) {
        g_string_truncate(qt->rbuf, 0);
        qt->rpos = 0;
    } else if (qt->rpos > 1024 * 1024) {
        /* Pipelined replies: do not let consumed bytes pile up. */
        g_string_erase(qt->rbuf, 0, qt->rpos);
        qt->rpos = 0;
    }
    return line;
}

/* Wait for the next line and keep it in qt->last; false on timeout/EOF. */
static bool wait_line(QtestClient *qt, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    for (;;) {
        char *line = take_line(qt);
        short rev;

        if (line) {
            g_free(qt->last);
            qt->last = line;
            return true;
        }
        if (qt->eof) {
            g_printerr("qtest: connection closed\n");
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("qtest: no reply in time\n");
            qt->out_of_sync = true;
            return false;
        }
        rev = qmptest_proc_poll(qt->proc, qt->fd, POLLIN, deadline);
        if (rev & (POLLIN | POLLHUP | POLLERR)) {
            fill_rbuf(qt);
        }
    }
}

char *qtest_wait_reply(QtestClient *qt, int timeout_ms)
{
    return wait_line(qt, timeout_ms) ? g_strdup(qt->last) : NULL;
}

bool qtest_send_raw(QtestClient *qt, const void *buf, size_t len)
{
    int64_t deadline = qmptest_deadline(qt->timeout_ms);
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(qt->fd, p, len, MSG_NOSIGNAL);
        short rev;

        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            g_printerr("qtest: send: %s\n", g_strerror(errno));
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("qtest: send timed out\n");
            qt->out_of_sync = true;
            return false;
        }
        /* Keep reading while we wait, so neither side can block forever. */
        rev = qmptest_proc_poll(qt->proc, qt->fd, POLLOUT | POLLIN,
                                deadline);
        if ((rev & (POLLIN | POLLHUP | POLLERR)) && !fill_rbuf(qt)) {
            g_printerr("qtest: connection closed while sending\n");
            return false;
        }
    }
    return true;
}

/*
 * Send the line in @req (a newline is added) and wait for the reply;
 * returns it borrowed from qt->last, or NULL.
 */
static const char *request(QtestClient *qt, GString *req)
{
    g_string_append_c(req, '\n');
    g_clear_pointer(&qt->last, g_free);
    if (qt->out_of_sync) {
        g_printerr("qtest: an earlier request timed out, not sending more\n");
        return NULL;
    }
    if (!qtest_send_raw(qt, req->str, req->len) ||
        !wait_line(qt, qt->timeout_ms)) {
        return NULL;
    }
    return qt->last;
}

char *qtest_cmd(QtestClient *qt, const char *fmt, ...)
{
    g_autoptr(GString) req = g_string_new(NULL);
    va_list ap;

    va_start(ap, fmt);
    g_string_vprintf(req, fmt, ap);
    va_end(ap);
    return g_strdup(request(qt, req));
}

/* The text after "OK " of the reply to @req, or NULL (explained). */
static const char *request_ok(QtestClient *qt, GString *req)
{
    const char *reply = request(qt, req);
    int cut = MIN(req->len - 1, QTEST_CLIENT_QUOTE);
    const char *more = req->len - 1 > QTEST_CLIENT_QUOTE ? "..." : "";

    if (!reply) {
        g_printerr("qtest: no reply to '%.*s%s'\n", cut, req->str, more);
        return NULL;
    }
    if (strncmp(reply, "OK", 2) != 0 || (reply[2] && reply[2] != ' ')) {
        g_printerr("qtest: '%.*s%s' failed: %.200s\n", cut, req->str, more,
                   reply);
        return NULL;
    }
    return reply + 2 + (reply[2] == ' ');
}

const char *qtest_cmd_ok(QtestClient *qt, const char *fmt, ...)
{
    g_autoptr(GString) req = g_string_new(NULL);
    va_list ap;

    va_start(ap, fmt);
    g_string_vprintf(req, fmt, ap);
    va_end(ap);
    return request_ok(qt, req);
}
