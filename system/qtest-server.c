/*
 * qtest connection layer: assemble request lines from the chardev, run
 * them, and send the replies in order without losing any.
 *
 * chardev_write() never blocks and drops what does not fit in its
 * bounded buffer, but a qtest reply may be much larger than that (a
 * 64 MiB "read" is 128 MiB of hex).  So replies go through our own
 * queue, handed to the chardev only as fast as its buffer drains; while
 * a reply is queued we stop reading requests, so a client that sends
 * faster than it reads cannot make us buffer without bound.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "chardev/char.h"
#include "system/qtest.h"
#include "trace/trace.h"
#include "util/main-loop.h"

#include "qtest-int.h"

/* Bytes taken from the chardev per read callback. */
#define QTEST_READ_CHUNK (64 * 1024)
/* Retry period while the chardev's write buffer is full. */
#define QTEST_FLUSH_RETRY_MS 1

/* Main loop only (chardev handlers, its timer): protected by the BQL. */
typedef struct QtestServer {
    Chardev *chr;
    GByteArray *in;         /* received bytes not yet run */
    size_t scanned;         /* bytes of @in known to hold no newline */
    bool discarding;        /* skipping the rest of an overlong line */
    GString *out;           /* replies not yet given to the chardev */
    size_t out_pos;         /* bytes of @out already given */
    Timer *flush_timer;
} QtestServer;

static QtestServer *qtest_server;

static size_t out_pending(const QtestServer *s)
{
    return s->out->len - s->out_pos;
}

static void reset_buffers(QtestServer *s)
{
    g_byte_array_set_size(s->in, 0);
    s->scanned = 0;
    s->discarding = false;
    g_string_truncate(s->out, 0);
    s->out_pos = 0;
    timer_del(s->flush_timer);
}

/* Give the chardev what fits; true when the queue is empty. */
static bool flush_output(QtestServer *s)
{
    while (out_pending(s)) {
        size_t used = chardev_pending_bytes(s->chr);
        size_t room = used < CHARDEV_WRITE_BUFFER_MAX ?
                      CHARDEV_WRITE_BUFFER_MAX - used : 0;
        size_t n = MIN(room, out_pending(s));
        int written;

        if (!n) {
            timer_mod(s->flush_timer,
                      clock_get_ms(CLOCK_TYPE_REALTIME) +
                      QTEST_FLUSH_RETRY_MS);
            return false;
        }
        written = chardev_write(s->chr,
                                (const uint8_t *)s->out->str + s->out_pos,
                                n);
        if (written < 0 || (size_t)written < n) {
            /* The peer went away: nobody will read the rest. */
            trace_qtest_output_dropped(out_pending(s));
            break;
        }
        s->out_pos += n;
    }
    g_string_truncate(s->out, 0);
    s->out_pos = 0;
    return true;
}

static void run_line(QtestServer *s, char *line, size_t len)
{
    if (len && line[len - 1] == '\r') {
        line[--len] = '\0';
    }
    trace_qtest_request(len);
    if (memchr(line, '\0', len)) {
        g_string_append(s->out, "FAIL line contains a NUL byte\n");
        return;
    }
    qtest_handle_line(line, s->out);
}

/* Run every complete line received, until a reply has to wait. */
static void process_input(QtestServer *s)
{
    size_t start = 0;

    while (!out_pending(s) || flush_output(s)) {
        uint8_t *data = s->in->data + start;
        size_t avail = s->in->len - start;
        uint8_t *nl = memchr(data + s->scanned, '\n', avail - s->scanned);
        size_t len = nl ? (size_t)(nl - data) : avail;

        if (len > QTEST_MAX_LINE && !s->discarding) {
            trace_qtest_line_too_long(len);
            s->discarding = true;
        }
        if (!nl) {
            s->scanned = s->discarding ? 0 : avail;
            start = s->discarding ? s->in->len : start;
            break;
        }
        s->scanned = 0;
        start += len + 1;
        if (s->discarding) {
            s->discarding = false;
            g_string_append_printf(s->out, "FAIL line too long (more than"
                                   " %d bytes)\n", QTEST_MAX_LINE);
            continue;
        }
        *nl = '\0';
        run_line(s, (char *)data, len);
    }
    g_byte_array_remove_range(s->in, 0, start);
}

static void flush_timer_cb(void *opaque)
{
    QtestServer *s = opaque;

    if (!flush_output(s)) {
        return;
    }
    process_input(s);
    if (!out_pending(s)) {
        chardev_accept_input(s->chr);
    }
}

static int qtest_can_read(void *opaque)
{
    QtestServer *s = opaque;

    return out_pending(s) ? 0 : QTEST_READ_CHUNK;
}

static void qtest_read(void *opaque, const uint8_t *buf, int size)
{
    QtestServer *s = opaque;

    g_byte_array_append(s->in, buf, size);
    process_input(s);
}

static void qtest_event(void *opaque, CharEvent event)
{
    QtestServer *s = opaque;

    /* Each connection starts from a clean slate. */
    reset_buffers(s);
    trace_qtest_connection(event == CHR_EVENT_OPENED ? "opened" : "closed");
}

bool qtest_server_init(const char *spec, Error **errp)
{
    QtestServer *s;
    Chardev *chr;

    if (qtest_server) {
        error_setg(errp, "only one qtest server is supported");
        return false;
    }
    chr = chardev_new_legacy("qtest", spec, errp);
    if (!chr) {
        return false;
    }
    s = g_new0(QtestServer, 1);
    s->chr = chr;
    s->in = g_byte_array_new();
    s->out = g_string_new(NULL);
    s->flush_timer = timer_new_ms(CLOCK_TYPE_REALTIME, flush_timer_cb, s);
    qtest_server = s;
    chardev_set_handlers(chr, qtest_can_read, qtest_read, qtest_event, s);
    return true;
}

void qtest_server_cleanup(void)
{
    QtestServer *s = qtest_server;

    if (!s) {
        return;
    }
    chardev_set_handlers(s->chr, NULL, NULL, NULL, NULL);
    timer_free(s->flush_timer);
    g_byte_array_unref(s->in);
    g_string_free(s->out, true);
    g_free(s);
    qtest_server = NULL;
}
