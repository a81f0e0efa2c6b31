/*
 * QMP test library: connections, requests, replies and events.
 *
 * The server writes one JSON object per line, so replies are split on
 * newlines; requests may be anything, including broken JSON.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-test-int.h"

struct QmpTestClient {
    QmpTestProc *proc;
    int fd;
    bool eof;
    GString *rbuf;
    size_t rpos;            /* start of the unparsed part of rbuf */
    GQueue events;          /* json_t *, oldest first */
    GQueue replies;         /* replies that came while waiting for events */
    json_t *greeting;
};

/* Largest reply line accepted (query-qmp-schema is big, but not this). */
#define MAX_LINE (64 * 1024 * 1024)

void qmptest_json_cleanup(json_t **obj)
{
    json_decref(*obj);
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *hostport)
{
    g_autofree char *host = g_strdup(hostport);
    char *colon = strrchr(host, ':');
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int fd = -1;

    if (!colon) {
        errno = EINVAL;
        return -1;
    }
    *colon = '\0';
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
        errno = EINVAL;
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (fd >= 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int connect_address(const char *address)
{
    if (g_str_has_prefix(address, "unix:")) {
        return connect_unix(address + 5);
    }
    if (g_str_has_prefix(address, "tcp:")) {
        return connect_tcp(address + 4);
    }
    errno = EINVAL;
    return -1;
}

/* Try until the listener exists; the child may still be starting. */
static int connect_retry(QmpTestProc *proc, const char *address,
                         int64_t deadline)
{
    for (;;) {
        int fd = connect_address(address);

        if (fd >= 0) {
            return fd;
        }
        if (errno != ENOENT && errno != ECONNREFUSED) {
            g_printerr("qmptest: connect %s: %s\n", address,
                       g_strerror(errno));
            return -1;
        }
        if (proc && qmptest_proc_try_reap(proc)) {
            g_printerr("qmptest: colo-vm exited before %s was ready\n",
                       address);
            return -1;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("qmptest: %s not ready in time\n", address);
            return -1;
        }
        /* Back off 20 ms, still collecting output and noticing exit. */
        qmptest_proc_poll(proc, -1, 0,
                          MIN(deadline, g_get_monotonic_time() + 20000));
    }
}

/* Read what is available; false on end of connection or error. */
static bool fill_rbuf(QmpTestClient *c)
{
    char chunk[65536];

    for (;;) {
        ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);

        if (n > 0) {
            g_string_append_len(c->rbuf, chunk, n);
            if (c->rbuf->len - c->rpos > MAX_LINE) {
                g_printerr("qmptest: reply too long\n");
                c->eof = true;
                return false;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return true;
        }
        c->eof = true;
        return false;
    }
}

/* Take one complete line out of rbuf and parse it; NULL if none yet. */
static json_t *take_message(QmpTestClient *c, bool *bad)
{
    char *nl;

    /*
     * Consumed lines are skipped with rpos and cut off only now and
     * then: erasing each one would copy megabytes per message.
     */
    if (c->rpos > c->rbuf->len / 2) {
        g_string_erase(c->rbuf, 0, c->rpos);
        c->rpos = 0;
    }
    while ((nl = memchr(c->rbuf->str + c->rpos, '\n',
                        c->rbuf->len - c->rpos))) {
        const char *start = c->rbuf->str + c->rpos;
        g_autofree char *line = g_strndup(start, nl - start);
        json_error_t jerr;
        json_t *msg;

        c->rpos = nl + 1 - c->rbuf->str;
        g_strstrip(line);
        if (!*line) {
            continue;
        }
        msg = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        if (!msg || !json_is_object(msg)) {
            g_printerr("qmptest: server sent bad JSON (%s): %s\n",
                       jerr.text, line);
            json_decref(msg);
            *bad = true;
            return NULL;
        }
        return msg;
    }
    return NULL;
}

/* The next message of any kind, or NULL on deadline/end/bad data. */
static json_t *read_message(QmpTestClient *c, int64_t deadline)
{
    for (;;) {
        bool bad = false;
        json_t *msg = take_message(c, &bad);

        if (msg || bad) {
            return msg;
        }
        if (c->eof) {
            return NULL;
        }
        if (g_get_monotonic_time() >= deadline) {
            return NULL;
        }
        if (qmptest_proc_poll(c->proc, c->fd, POLLIN, deadline)) {
            fill_rbuf(c);
        }
    }
}

static bool is_event(json_t *msg)
{
    return json_object_get(msg, "event") != NULL;
}

QmpTestClient *qmptest_client_open(QmpTestProc *proc, const char *address,
                                   bool negotiate, int64_t deadline)
{
    QmpTestClient *c;
    int fd = connect_retry(proc, address, deadline);

    if (fd < 0) {
        return NULL;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    c = g_new0(QmpTestClient, 1);
    c->proc = proc;
    c->fd = fd;
    c->rbuf = g_string_new("");
    g_queue_init(&c->events);
    g_queue_init(&c->replies);
    c->greeting = read_message(c, deadline);
    if (!c->greeting || !json_object_get(c->greeting, "QMP")) {
        g_printerr("qmptest: no QMP greeting from %s\n", address);
        qmptest_client_free(c);
        return NULL;
    }
    if (negotiate && !qmptest_negotiate(c)) {
        qmptest_client_free(c);
        return NULL;
    }
    return c;
}

void qmptest_client_free(QmpTestClient *c)
{
    if (!c) {
        return;
    }
    close(c->fd);
    g_string_free(c->rbuf, true);
    g_queue_clear_full(&c->events, (GDestroyNotify)json_decref);
    g_queue_clear_full(&c->replies, (GDestroyNotify)json_decref);
    json_decref(c->greeting);
    g_free(c);
}

QmpTestClient *qmptest_connect(QmpTestProc *proc, const char *address,
                               bool negotiate)
{
    QmpTestClient *c;

    c = qmptest_client_open(proc, address ? address : proc->address,
                            negotiate, qmptest_deadline(QMPTEST_TIMEOUT_MS));
    if (c) {
        g_ptr_array_add(proc->clients, c);
    }
    return c;
}

void qmptest_client_close(QmpTestClient *c)
{
    if (c->proc) {
        if (c->proc->main_client == c) {
            c->proc->main_client = NULL;
        }
        g_ptr_array_remove(c->proc->clients, c);   /* frees it */
    } else {
        qmptest_client_free(c);
    }
}

json_t *qmptest_greeting(const QmpTestClient *c)
{
    return c->greeting;
}

bool qmptest_negotiate(QmpTestClient *c)
{
    qmptest_auto_json json_t *r =
        qmptest_cmd(c, "{'execute': 'qmp_capabilities'}");
    json_t *ret = qmptest_return(r);

    if (!json_is_object(ret) || json_object_size(ret) != 0) {
        g_printerr("qmptest: qmp_capabilities failed\n");
        return false;
    }
    return true;
}

bool qmptest_send_raw(QmpTestClient *c, const void *buf, size_t len)
{
    const char *p = buf;
    int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);

    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        short rev;

        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("qmptest: send timed out\n");
            return false;
        }
        /* Keep reading while we wait, so neither side can block forever. */
        rev = qmptest_proc_poll(c->proc, c->fd, POLLOUT | POLLIN, deadline);
        if ((rev & (POLLIN | POLLHUP)) && !fill_rbuf(c)) {
            return false;
        }
    }
    return true;
}

/* Turn ' into " (and \' into ') so tests can write JSON in C literals. */
static char *unquote_format(const char *fmt)
{
    GString *s = g_string_sized_new(strlen(fmt));

    for (const char *p = fmt; *p; p++) {
        if (p[0] == '\\' && p[1] == '\'') {
            g_string_append_c(s, '\'');
            p++;
        } else {
            g_string_append_c(s, *p == '\'' ? '"' : *p);
        }
    }
    return g_string_free(s, false);
}

static bool send_vformat(QmpTestClient *c, const char *fmt, va_list ap)
{
    g_autofree char *f = unquote_format(fmt);
    g_autofree char *text = g_strdup_vprintf(f, ap);

    return qmptest_send_raw(c, text, strlen(text));
}

bool qmptest_send(QmpTestClient *c, const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = send_vformat(c, fmt, ap);
    va_end(ap);
    return ok;
}

json_t *qmptest_wait_reply(QmpTestClient *c, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    json_t *msg = g_queue_pop_head(&c->replies);

    if (msg) {
        return msg;
    }
    while ((msg = read_message(c, deadline))) {
        if (!is_event(msg)) {
            return msg;
        }
        g_queue_push_tail(&c->events, msg);
    }
    g_printerr("qmptest: no reply (%s)\n",
               c->eof ? "connection closed" : "timeout");
    return NULL;
}

json_t *qmptest_cmd(QmpTestClient *c, const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = send_vformat(c, fmt, ap);
    va_end(ap);
    return ok ? qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS) : NULL;
}

json_t *qmptest_cmd_json(QmpTestClient *c, json_t *request)
{
    g_autofree char *text = json_dumps(request, JSON_COMPACT);

    if (!text || !qmptest_send_raw(c, text, strlen(text))) {
        return NULL;
    }
    return qmptest_wait_reply(c, QMPTEST_TIMEOUT_MS);
}

static json_t *take_queued_event(QmpTestClient *c, const char *name)
{
    for (GList *l = c->events.head; l; l = l->next) {
        json_t *ev = l->data;

        if (g_strcmp0(json_string_value(json_object_get(ev, "event")),
                      name) == 0) {
            g_queue_delete_link(&c->events, l);
            return ev;
        }
    }
    return NULL;
}

json_t *qmptest_wait_event(QmpTestClient *c, const char *name,
                           int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    json_t *msg = take_queued_event(c, name);

    while (!msg && (msg = read_message(c, deadline))) {
        /* Keep replies for qmptest_wait_reply(): nothing is lost. */
        g_queue_push_tail(is_event(msg) ? &c->events : &c->replies, msg);
        msg = take_queued_event(c, name);
    }
    if (!msg) {
        g_printerr("qmptest: no %s event\n", name);
    }
    return msg;
}

unsigned qmptest_event_count(const QmpTestClient *c)
{
    return c->events.length;
}

bool qmptest_wait_closed(QmpTestClient *c, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    json_t *msg;

    while ((msg = read_message(c, deadline))) {
        g_queue_push_tail(is_event(msg) ? &c->events : &c->replies, msg);
    }
    return c->eof;
}

json_t *qmptest_return(json_t *reply)
{
    return json_object_get(reply, "return");
}

const char *qmptest_error_class(json_t *reply)
{
    return json_string_value(
        json_object_get(json_object_get(reply, "error"), "class"));
}

const char *qmptest_error_desc(json_t *reply)
{
    return json_string_value(
        json_object_get(json_object_get(reply, "error"), "desc"));
}

int qmptest_quit(QmpTestProc *proc, int timeout_ms)
{
    if (proc->main_client && !proc->reaped) {
        qmptest_send(proc->main_client, "{'execute': 'quit'}");
    }
    return qmptest_wait_exit(proc, timeout_ms);
}
