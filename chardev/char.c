/*
 * Generic chardev layer: the registry, frontend plumbing, input with
 * backpressure and the bounded output buffer.
 *
 * Output: chardev_write() is called by device models from vCPU threads.
 * It writes what the fd takes without blocking and keeps the rest, up to
 * CHARDEV_WRITE_BUFFER_MAX bytes, for a main-loop write handler; beyond
 * that, and whenever no peer is connected, bytes are dropped and counted,
 * so a guest can never stall on a slow or absent reader.
 *
 * Input: the main loop reads in_fd only while the frontend has room, and
 * never more than it has room for.  When the frontend is full the fd is
 * no longer watched (the kernel buffers meanwhile) until the frontend
 * calls chardev_accept_input().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "char-internal.h"
#include "trace/trace.h"
#include "util/error-report.h"

/*
 * In creation order, so cleanup runs in a predictable order.  Protected
 * by the BQL.  NULL until the first chardev is created; from then on it
 * lives as long as the process (cleanup empties it).
 */
static GPtrArray *chardevs;

static void chardevs_init_once(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        chardevs = g_ptr_array_new();
        g_once_init_leave(&done, 1);
    }
}

static const ChardevClass *const chardev_classes[] = {
    &chardev_stdio_class,
    &chardev_file_class,
    &chardev_null_class,
    &chardev_socket_class,
    &chardev_ringbuf_class,
};

const ChardevClass *chardev_class_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(chardev_classes); i++) {
        if (strcmp(chardev_classes[i]->name, name) == 0) {
            return chardev_classes[i];
        }
    }
    return NULL;
}

Chardev *chardev_find(const char *id)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *c = g_ptr_array_index(chardevs, i);

        if (strcmp(c->id, id) == 0) {
            return c;
        }
    }
    return NULL;
}

void chardev_foreach(void (*fn)(Chardev *c, void *opaque), void *opaque)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        fn(g_ptr_array_index(chardevs, i), opaque);
    }
}

const char *chardev_id(const Chardev *c)
{
    return c->id;
}

const char *chardev_driver(const Chardev *c)
{
    return c->cls->name;
}

static void chardev_output_error_bh(void *opaque)
{
    Chardev *c = opaque;

    if (c->cls->output_error) {
        c->cls->output_error(c);
    }
}

static void chardev_release(Chardev *c)
{
    chardev_filters_free(c);
    bh_delete(c->out_error_bh);
    g_byte_array_unref(c->wbuf);
    mutex_destroy(&c->out_lock);
    g_free(c->id);
    g_free(c);
}

/*
 * write() to a pipe or FIFO whose reader left must fail with EPIPE, not
 * kill the VM (sockets use MSG_NOSIGNAL, but stdout and file: cannot).
 */
static void chardev_ignore_sigpipe(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        signal(SIGPIPE, SIG_IGN);
    }
}

Chardev *chardev_create(const ChardevClass *cls, const char *id,
                        const OptList *opts, Error **errp)
{
    Chardev *c;

    chardev_ignore_sigpipe();

    if (chardev_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", id);
        return NULL;
    }
    c = g_malloc0(cls->instance_size);
    c->id = g_strdup(id);
    c->cls = cls;
    c->in_fd = -1;
    c->out_fd = -1;
    mutex_init(&c->out_lock);
    c->wbuf = g_byte_array_new();
    c->out_error_bh = bh_new(chardev_output_error_bh, c);
    if (!cls->open(c, opts, errp)) {
        chardev_release(c);
        return NULL;
    }
    chardevs_init_once();
    g_ptr_array_add(chardevs, c);
    trace_chardev_new(c->id, cls->name);
    return c;
}

static void chardev_send_event(Chardev *c, CharEvent event)
{
    trace_chardev_event(c->id, event == CHR_EVENT_OPENED ? "opened"
                                                         : "closed");
    if (c->fe_event) {
        c->fe_event(c->fe_opaque, event);
    }
}

void chardev_set_opened(Chardev *c, bool opened)
{
    if (c->opened == opened) {
        return;
    }
    c->opened = opened;
    chardev_send_event(c, opened ? CHR_EVENT_OPENED : CHR_EVENT_CLOSED);
}

bool chardev_is_connected(const Chardev *c)
{
    return c->opened;
}

int chardev_filter_input_room(Chardev *c)
{
    int room;

    if (!c->fe_read) {
        return 0;
    }
    room = c->fe_can_read ? c->fe_can_read(c->fe_opaque) : 4096;
    return room > 0 ? room : 0;
}

int chardev_frontend_room(Chardev *c)
{
    return c->input_owner ? 0 : chardev_filter_input_room(c);
}

void chardev_frontend_deliver(Chardev *c, const uint8_t *buf, int len)
{
    uint64_t pos = c->stream.in_pos;

    if (!c->fe_read || len <= 0) {
        return;
    }
    c->stream.in_pos += len;
    for (guint i = 0; c->filters && i < c->filters->len; i++) {
        ChardevFilter *f = &g_array_index(c->filters, ChardevFilter, i);

        if (f->ops->input) {
            f->ops->input(f->opaque, pos, buf, len);
        }
    }
    c->fe_read(c->fe_opaque, buf, len);
}

static void chardev_update_watches_locked(Chardev *c);

/* Reads per readiness callback on a socket, to bound one dispatch. */
#define CHARDEV_READS_PER_DISPATCH 4

/*
 * One read of at most what the frontend has room for.  Returns false
 * when there is nothing more to read now (or the input ended).
 */
static bool chardev_read_once(Chardev *c, bool nonblock)
{
    uint8_t buf[16384];
    int room = chardev_frontend_room(c);
    size_t want;
    ssize_t n;

    if (room == 0) {
        trace_chardev_input_pause(c->id);
        c->in_paused = true;
        chardev_update_watches(c);
        return false;
    }
    want = MIN((size_t)room, sizeof(buf));
    do {
        n = nonblock ? recv(c->in_fd, buf, want, MSG_DONTWAIT)
                     : read(c->in_fd, buf, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        return false;
    }
    if (n <= 0) {
        trace_chardev_input_eof(c->id, n < 0 ? g_strerror(errno) : "eof");
        if (c->cls->input_eof) {
            c->cls->input_eof(c);
        } else {
            chardev_attach_fds(c, -1, c->out_fd, c->out_is_socket);
        }
        return false;
    }
    chardev_frontend_deliver(c, buf, n);
    return (size_t)n == want;
}

static void chardev_fd_read(void *opaque)
{
    Chardev *c = opaque;
    /* stdin stays blocking, so only a socket may be read more than once. */
    bool is_socket = c->out_is_socket && c->in_fd == c->out_fd;
    int reads = is_socket ? CHARDEV_READS_PER_DISPATCH : 1;

    while (reads-- > 0 && c->in_fd >= 0 && !c->in_paused &&
           chardev_read_once(c, is_socket)) {
        /* keep going while full reads suggest more is waiting */
    }
}

/* Output failed for good: drop what is pending, let the backend know. */
static void chardev_out_broken_locked(Chardev *c, int err)
{
    trace_chardev_output_error(c->id, g_strerror(err), c->wbuf->len);
    /* A socket peer leaving is routine; a file or stdout failing is not. */
    if (!c->out_is_socket && !c->cls->write_raw) {
        warn_report("chardev %s: output failed: %s; dropping further "
                    "output", c->id, g_strerror(err));
    }
    c->dropped += c->wbuf->len;
    g_byte_array_set_size(c->wbuf, 0);
    c->out_broken = true;
    bh_schedule(c->out_error_bh);
}

static ssize_t chardev_write_raw_locked(Chardev *c, const uint8_t *buf,
                                        size_t len)
{
    ssize_t n;

    if (c->cls->write_raw) {
        return c->cls->write_raw(c, buf, len);
    }
    do {
        if (c->out_is_socket) {
            n = send(c->out_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            n = write(c->out_fd, buf, len);
        }
    } while (n < 0 && errno == EINTR);
    return n;
}

/* Write from the buffer; false when the fd failed for good. */
static bool chardev_flush_locked(Chardev *c)
{
    while (c->wbuf->len > 0) {
        ssize_t n = chardev_write_raw_locked(c, c->wbuf->data, c->wbuf->len);

        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n <= 0) {
            chardev_out_broken_locked(c, n < 0 ? errno : EPIPE);
            return false;
        }
        g_byte_array_remove_range(c->wbuf, 0, n);
    }
    trace_chardev_flush(c->id, c->wbuf->len);
    return true;
}

static void chardev_fd_write(void *opaque)
{
    Chardev *c = opaque;

    mutex_lock(&c->out_lock);
    chardev_flush_locked(c);
    chardev_update_watches_locked(c);
    mutex_unlock(&c->out_lock);
}

static bool chardev_can_output_locked(const Chardev *c)
{
    return !c->out_broken && (c->out_fd >= 0 || c->cls->write_raw);
}

/*
 * Watches are recomputed from state rather than toggled, so every path
 * that changes in_fd, in_paused, out_fd or wbuf ends with one call.
 * Input fields are BQL-protected; the output side is read under out_lock
 * (callers of the output path hold it, the others take it here).
 */
static void chardev_update_watches_locked(Chardev *c)
{
    bool want_read = c->in_fd >= 0 && !c->in_paused;
    bool want_write = c->out_fd >= 0 && c->wbuf->len > 0 && !c->out_broken;

    if (c->in_fd >= 0 && c->in_fd == c->out_fd) {
        main_loop_set_fd_handler(c->in_fd,
                                 want_read ? chardev_fd_read : NULL,
                                 want_write ? chardev_fd_write : NULL, c);
    } else {
        if (c->in_fd >= 0) {
            main_loop_set_fd_handler(c->in_fd,
                                     want_read ? chardev_fd_read : NULL,
                                     NULL, c);
        }
        if (c->out_fd >= 0 && want_write != c->out_watched) {
            main_loop_set_fd_handler(c->out_fd, NULL,
                                     want_write ? chardev_fd_write : NULL,
                                     c);
        }
    }
    c->out_watched = want_write;
}

void chardev_update_watches(Chardev *c)
{
    mutex_lock(&c->out_lock);
    chardev_update_watches_locked(c);
    mutex_unlock(&c->out_lock);
}

static void chardev_unwatch(Chardev *c)
{
    if (c->in_fd >= 0) {
        main_loop_set_fd_handler(c->in_fd, NULL, NULL, NULL);
    }
    if (c->out_fd >= 0 && c->out_fd != c->in_fd) {
        main_loop_set_fd_handler(c->out_fd, NULL, NULL, NULL);
    }
    c->out_watched = false;
}

void chardev_attach_fds(Chardev *c, int in_fd, int out_fd, bool is_socket)
{
    mutex_lock(&c->out_lock);
    chardev_unwatch(c);
    if (out_fd != c->out_fd) {
        c->dropped += c->wbuf->len;
        g_byte_array_set_size(c->wbuf, 0);
        c->out_broken = false;
    }
    c->in_fd = in_fd;
    c->in_paused = false;
    c->out_fd = out_fd;
    c->out_is_socket = is_socket;
    chardev_update_watches_locked(c);
    mutex_unlock(&c->out_lock);
}

int chardev_write(Chardev *c, const uint8_t *buf, int len)
{
    if (!c || !buf || len < 0) {
        return -1;
    }
    if (chardev_filters_take_output(c, buf, len)) {
        return len;
    }
    return chardev_write_backend(c, buf, len);
}

bool chardev_write_all(Chardev *c, const uint8_t *buf, int len)
{
    bool room;

    mutex_lock(&c->out_lock);
    room = chardev_can_output_locked(c) && c->opened &&
           c->wbuf->len + (size_t)len <= CHARDEV_WRITE_BUFFER_MAX;
    mutex_unlock(&c->out_lock);
    /* Only the BQL holder writes, so the room cannot shrink meanwhile. */
    return room && chardev_write_backend(c, buf, len) == len;
}

int chardev_write_backend(Chardev *c, const uint8_t *buf, int len)
{
    size_t done = 0, keep;

    if (!c || !buf || len < 0) {
        return -1;
    }
    mutex_lock(&c->out_lock);
    if (chardev_can_output_locked(c) && c->wbuf->len == 0) {
        ssize_t n = chardev_write_raw_locked(c, buf, len);

        if (n >= 0) {
            done = n;
        } else if (errno != EAGAIN) {
            chardev_out_broken_locked(c, errno);
        }
    }
    keep = 0;
    if (chardev_can_output_locked(c)) {
        keep = MIN(len - done, CHARDEV_WRITE_BUFFER_MAX - c->wbuf->len);
        g_byte_array_append(c->wbuf, buf + done, keep);
    }
    if (done + keep < (size_t)len) {
        c->dropped += len - done - keep;
        trace_chardev_write_drop(c->id, len - done - keep, c->dropped);
    }
    if (keep && !c->out_watched) {
        chardev_update_watches_locked(c);
    }
    mutex_unlock(&c->out_lock);
    return done + keep;
}

void chardev_flush_blocking(Chardev *c, int timeout_ms)
{
    int64_t deadline = clock_get_ms(CLOCK_TYPE_REALTIME) + timeout_ms;

    mutex_lock(&c->out_lock);
    while (c->out_fd >= 0 && c->wbuf->len > 0 && chardev_flush_locked(c) &&
           c->wbuf->len > 0) {
        int64_t left = deadline - clock_get_ms(CLOCK_TYPE_REALTIME);
        struct pollfd pfd = { .fd = c->out_fd, .events = POLLOUT };

        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            break;
        }
    }
    mutex_unlock(&c->out_lock);
}

uint64_t chardev_dropped_bytes(const Chardev *c)
{
    Chardev *mc = (Chardev *)c;
    uint64_t n;

    mutex_lock(&mc->out_lock);
    n = c->dropped;
    mutex_unlock(&mc->out_lock);
    return n;
}

size_t chardev_pending_bytes(const Chardev *c)
{
    Chardev *mc = (Chardev *)c;
    size_t n;

    mutex_lock(&mc->out_lock);
    n = c->wbuf->len;
    mutex_unlock(&mc->out_lock);
    return n;
}

void chardev_set_handlers(Chardev *c, CharCanReadFn *can_read,
                          CharReadFn *read, CharEventFn *event,
                          void *opaque)
{
    c->fe_can_read = can_read;
    c->fe_read = read;
    c->fe_event = event;
    c->fe_opaque = opaque;
    c->in_paused = false;
    chardev_update_watches(c);
    /* A frontend attaching to an open backend must learn it is open. */
    if (c->opened && event) {
        chardev_send_event(c, CHR_EVENT_OPENED);
    }
    if (c->cls->accept_input) {
        c->cls->accept_input(c);
    }
}

bool chardev_in_use(const Chardev *c)
{
    return c->fe_can_read || c->fe_read || c->fe_event || c->fe_opaque;
}

void chardev_accept_input(Chardev *c)
{
    if (c->in_paused) {
        trace_chardev_input_resume(c->id);
        c->in_paused = false;
        chardev_update_watches(c);
    }
    if (c->cls->accept_input) {
        c->cls->accept_input(c);
    }
    chardev_filters_input_ready(c);
}

char *chardev_socket_address(const Chardev *c)
{
    return c->cls->address ? c->cls->address(c) : NULL;
}

void chardev_free(Chardev *c)
{
    if (!c) {
        return;
    }
    trace_chardev_free(c->id);
    if (chardevs) {
        g_ptr_array_remove(chardevs, c);
    }
    chardev_flush_blocking(c, 500);
    chardev_unwatch(c);
    if (c->cls->close) {
        c->cls->close(c);
    }
    chardev_release(c);
}

void chardev_cleanup_all(void)
{
    /* chardev_free() takes each one out of the array. */
    while (chardevs && chardevs->len > 0) {
        chardev_free(g_ptr_array_index(chardevs, chardevs->len - 1));
    }
}
