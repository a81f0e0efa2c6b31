/*
 * Serial port helpers for tests: waits on colo-vm's stdout and a line
 * client for a socket chardev.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-test-int.h"
#include "serial-test.h"

/* Bounds what a misbehaving guest can make a test buffer. */
#define SERIAL_LINE_MAX (64 * 1024)

struct SerialConn {
    QmpTestProc *proc;
    int fd;                 /* -1 once the peer closed */
    GString *in;            /* received, not yet returned as lines */
};

static unsigned count_char(const char *s, char c)
{
    unsigned n = 0;

    for (; *s; s++) {
        n += *s == c;
    }
    return n;
}

unsigned serial_count_char(QmpTestProc *proc, char c)
{
    return count_char(qmptest_stdout(proc), c);
}

bool serial_wait_char_count(QmpTestProc *proc, char c, unsigned count,
                            int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    while (serial_count_char(proc, c) < count) {
        if (g_get_monotonic_time() >= deadline || proc->out_fd < 0) {
            g_printerr("serial: waited for %u '%c', got %u; stdout: %.200s\n",
                       count, c, serial_count_char(proc, c),
                       qmptest_stdout(proc));
            return false;
        }
        qmptest_proc_poll(proc, -1, 0, deadline);
    }
    return true;
}

bool serial_wait_more_chars(QmpTestProc *proc, char c, unsigned more,
                            int timeout_ms)
{
    return serial_wait_char_count(proc, c,
                                  serial_count_char(proc, c) + more,
                                  timeout_ms);
}

bool serial_wait_stdout(QmpTestProc *proc, const char *needle,
                        int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    while (!strstr(qmptest_stdout(proc), needle)) {
        if (g_get_monotonic_time() >= deadline || proc->out_fd < 0) {
            g_printerr("serial: no \"%s\" on stdout: %.200s\n", needle,
                       qmptest_stdout(proc));
            return false;
        }
        qmptest_proc_poll(proc, -1, 0, deadline);
    }
    return true;
}

static int try_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

SerialConn *serial_connect(QmpTestProc *proc, const char *path,
                           int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    SerialConn *conn;
    int fd;

    /* The listener appears once colo-vm has parsed its command line. */
    while ((fd = try_connect(path)) < 0) {
        if ((errno != ENOENT && errno != ECONNREFUSED) ||
            g_get_monotonic_time() >= deadline || qmptest_exited(proc)) {
            g_printerr("serial: cannot connect to %s: %s\n", path,
                       g_strerror(errno));
            return NULL;
        }
        qmptest_proc_poll(proc, -1, 0,
                          MIN(deadline, qmptest_deadline(20)));
    }
    conn = g_new0(SerialConn, 1);
    conn->proc = proc;
    conn->fd = fd;
    conn->in = g_string_new(NULL);
    return conn;
}

void serial_conn_free(SerialConn *conn)
{
    if (!conn) {
        return;
    }
    if (conn->fd >= 0) {
        close(conn->fd);
    }
    g_string_free(conn->in, TRUE);
    g_free(conn);
}

bool serial_conn_send(SerialConn *conn, const char *text)
{
    size_t len = strlen(text), done = 0;
    int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);

    while (conn->fd >= 0 && done < len) {
        ssize_t n = send(conn->fd, text + done, len - done, MSG_NOSIGNAL);

        if (n > 0) {
            done += n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (g_get_monotonic_time() >= deadline) {
                break;
            }
            qmptest_proc_poll(conn->proc, conn->fd, POLLOUT, deadline);
        } else {
            g_printerr("serial: send: %s\n", g_strerror(errno));
            break;
        }
    }
    return done == len;
}

/* Read what is available; false once the peer closed or failed. */
static bool fill(SerialConn *conn)
{
    char buf[4096];
    ssize_t n;

    for (;;) {
        n = recv(conn->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            g_string_append_len(conn->in, buf, n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return true;
        }
        close(conn->fd);
        conn->fd = -1;
        return false;
    }
}

char *serial_conn_read_line(SerialConn *conn, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    char *nl, *line;

    while (!(nl = memchr(conn->in->str, '\n', conn->in->len))) {
        if (conn->fd < 0 || conn->in->len > SERIAL_LINE_MAX ||
            g_get_monotonic_time() >= deadline) {
            g_printerr("serial: no complete line; have \"%.200s\"\n",
                       conn->in->str);
            return NULL;
        }
        if (qmptest_proc_poll(conn->proc, conn->fd, POLLIN, deadline)) {
            fill(conn);
        }
    }
    line = g_strndup(conn->in->str, nl - conn->in->str);
    g_string_erase(conn->in, 0, nl - conn->in->str + 1);
    if (*line && line[strlen(line) - 1] == '\r') {
        line[strlen(line) - 1] = '\0';
    }
    return line;
}

char *serial_conn_request(SerialConn *conn, const char *line,
                          int timeout_ms)
{
    g_autofree char *text = g_strconcat(line, "\n", NULL);

    if (!serial_conn_send(conn, text)) {
        return NULL;
    }
    return serial_conn_read_line(conn, timeout_ms);
}
