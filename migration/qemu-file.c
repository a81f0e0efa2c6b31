/*
 * QEMUFile: buffered big-endian stream over a QIOChannel.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/uio.h>
#include <glib.h>

#include "io/channel-buffer.h"
#include "io/channel.h"
#include "migration/qemu-file.h"
#include "trace/trace.h"
#include "util/main-loop.h"

#define NS_PER_WINDOW ((int64_t)QEMU_FILE_RATE_WINDOW_MS * 1000000)

/*
 * A QEMUFile belongs to one thread at a time (the one reading or writing
 * the stream), so its members need no lock.  Two may be changed from
 * other threads while the owner works: shutdown (to wake it) and
 * rate_limit (max-bandwidth changed by the monitor), hence their atomic
 * accesses.
 */
struct QEMUFile {
    QIOChannel *ioc;
    bool writable;
    bool is_return_path;    /* does not own the channel */
    bool eof;               /* the channel reported end of file */
    int shutdown;           /* set by any thread, read atomically */

    /*
     * Output: iov[0, niov) is waiting to be written; the bytes put by
     * copy are buf[0, len), the others are the caller's memory
     * (qemu_put_buffer_async(), on a buffer channel).
     * Input: buf[pos, len) has been read from the channel, not consumed.
     */
    uint8_t *buf;           /* QEMU_FILE_BUF_SIZE bytes, not cleared */
    size_t pos;
    size_t len;
    struct iovec iov[QEMU_FILE_IOV_MAX];
    unsigned int niov;
    bool by_reference;      /* output to memory: async puts are not copied */

    uint64_t transferred;

    int64_t rate_limit;     /* atomic; bytes per window, 0 = none */
    int64_t rate_used;
    int64_t window_start;   /* ns, per clock() */
    QEMUFileClockFn *clock;
    void *clock_opaque;

    int last_error;
    Error *last_error_obj;
};

static bool qemu_file_is_shut_down(QEMUFile *f)
{
    return g_atomic_int_get(&f->shutdown);
}

static int64_t qemu_file_default_clock(void *opaque)
{
    return clock_get_ns(CLOCK_TYPE_REALTIME);
}

static QEMUFile *qemu_file_new(QIOChannel *ioc, bool writable)
{
    QEMUFile *f = g_new0(QEMUFile, 1);

    f->buf = g_malloc(QEMU_FILE_BUF_SIZE);
    f->ioc = qio_channel_ref(ioc);
    f->writable = writable;
    f->by_reference = writable && qio_channel_is_buffer(ioc);
    f->clock = qemu_file_default_clock;
    f->window_start = f->clock(NULL);
    return f;
}

QEMUFile *qemu_file_new_output(QIOChannel *ioc)
{
    return qemu_file_new(ioc, true);
}

QEMUFile *qemu_file_new_input(QIOChannel *ioc)
{
    return qemu_file_new(ioc, false);
}

QEMUFile *qemu_file_get_return_path(QEMUFile *f)
{
    QEMUFile *rp;

    if (!qio_channel_is_duplex(f->ioc)) {
        return NULL;
    }
    rp = qemu_file_new(f->ioc, !f->writable);
    rp->is_return_path = true;
    return rp;
}

bool qemu_file_is_writable(QEMUFile *f)
{
    return f->writable;
}

QIOChannel *qemu_file_get_ioc(QEMUFile *f)
{
    return f->ioc;
}

/* Errors */

void qemu_file_set_error_obj(QEMUFile *f, int ret, Error *err)
{
    if (f->last_error || ret >= 0) {
        error_free(err);
        return;
    }
    f->last_error = ret;
    f->last_error_obj = err;
    trace_qemu_file_error(f, ret, err ? error_get_pretty(err) : "");
}

void qemu_file_set_error(QEMUFile *f, int ret)
{
    qemu_file_set_error_obj(f, ret, NULL);
}

/* Record a failure described by a message. */
static void G_GNUC_PRINTF(3, 4)
qemu_file_fail(QEMUFile *f, int ret, const char *fmt, ...)
{
    Error *err = NULL;
    g_autofree char *msg = NULL;
    va_list ap;

    if (f->last_error) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(&err, "%s", msg);
    qemu_file_set_error_obj(f, ret, err);
}

/*
 * A shut-down file counts as failed at once, even before its user's
 * next I/O records the channel's error: a sender whose rate limit
 * keeps it from writing must still see it.
 */
int qemu_file_get_error(QEMUFile *f)
{
    if (!f->last_error && qemu_file_is_shut_down(f)) {
        return -EIO;
    }
    return f->last_error;
}

int qemu_file_get_error_obj(QEMUFile *f, Error **errp)
{
    int ret = qemu_file_get_error(f);

    if (ret && errp) {
        if (f->last_error_obj) {
            error_propagate(errp, error_copy(f->last_error_obj));
        } else if (!f->last_error) {
            error_setg(errp, "Stream was shut down");
        } else {
            error_setg_errno(errp, -ret, "Stream error");
        }
    }
    return ret;
}

/* Channel failures: the channel's message, and the errno we report. */
static void qemu_file_channel_error(QEMUFile *f, Error *err)
{
    if (qemu_file_is_shut_down(f)) {
        error_prepend(&err, "Stream was shut down: ");
    }
    qemu_file_set_error_obj(f, -EIO, err);
}

/* Output */

void qemu_fflush(QEMUFile *f)
{
    Error *err = NULL;

    if (!f->writable || f->last_error || f->niov == 0) {
        return;
    }
    if (qio_channel_writev_all(f->ioc, f->iov, f->niov, &err) < 0) {
        qemu_file_channel_error(f, err);
    }
    f->len = 0;
    f->niov = 0;
}

/*
 * Room for @n more bytes in the buffer (@n is 0 for a put by
 * reference) and for one more iovec, flushing when needed.
 */
static bool qemu_file_put_ok(QEMUFile *f, size_t n)
{
    if (f->last_error) {
        return false;
    }
    if (!f->writable) {
        qemu_file_fail(f, -EINVAL, "Write to an input stream");
        return false;
    }
    if (f->len + n > QEMU_FILE_BUF_SIZE || f->niov == QEMU_FILE_IOV_MAX) {
        qemu_fflush(f);
    }
    return !f->last_error;
}

/* @n bytes at @p are next in the stream: a new iovec, or the last one grown. */
static void qemu_file_add_iov(QEMUFile *f, const uint8_t *p, size_t n)
{
    struct iovec *last = f->niov ? &f->iov[f->niov - 1] : NULL;

    if (last && (const uint8_t *)last->iov_base + last->iov_len == p) {
        last->iov_len += n;
    } else {
        f->iov[f->niov++] = (struct iovec) { (void *)p, n };
    }
}

static void qemu_file_account_put(QEMUFile *f, size_t n)
{
    f->transferred += n;
    f->rate_used += n;
}

void qemu_put_buffer(QEMUFile *f, const uint8_t *buf, size_t size)
{
    while (size > 0) {
        size_t chunk = MIN(size, QEMU_FILE_BUF_SIZE);

        if (!qemu_file_put_ok(f, chunk)) {
            return;
        }
        memcpy(f->buf + f->len, buf, chunk);
        qemu_file_add_iov(f, f->buf + f->len, chunk);
        f->len += chunk;
        qemu_file_account_put(f, chunk);
        buf += chunk;
        size -= chunk;
    }
}

void qemu_put_buffer_async(QEMUFile *f, const uint8_t *buf, size_t size)
{
    if (!f->by_reference) {
        qemu_put_buffer(f, buf, size);
        return;
    }
    if (size == 0 || !qemu_file_put_ok(f, 0)) {
        return;
    }
    qemu_file_add_iov(f, buf, size);
    qemu_file_account_put(f, size);
}

void qemu_put_byte(QEMUFile *f, int v)
{
    uint8_t b = v;

    qemu_put_buffer(f, &b, 1);
}

void qemu_put_be16(QEMUFile *f, unsigned int v)
{
    uint8_t b[2] = { v >> 8, v };

    qemu_put_buffer(f, b, sizeof(b));
}

void qemu_put_be32(QEMUFile *f, unsigned int v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

    qemu_put_buffer(f, b, sizeof(b));
}

void qemu_put_be64(QEMUFile *f, uint64_t v)
{
    qemu_put_be32(f, v >> 32);
    qemu_put_be32(f, (uint32_t)v);
}

void qemu_put_counted_string(QEMUFile *f, const char *str)
{
    size_t len = strlen(str);

    if (len > 255) {
        qemu_file_fail(f, -EINVAL,
                       "String '%.32s...' is too long for the stream", str);
        return;
    }
    qemu_put_byte(f, len);
    qemu_put_buffer(f, (const uint8_t *)str, len);
}

/* Input */

/*
 * Read more into the buffer, moving the unconsumed bytes to the front.
 * Returns the number of bytes added; 0 at end of stream or on error.
 */
static size_t qemu_file_fill(QEMUFile *f)
{
    Error *err = NULL;
    ssize_t n;

    if (f->last_error || f->eof) {
        return 0;
    }
    if (f->writable) {
        qemu_file_fail(f, -EINVAL, "Read from an output stream");
        return 0;
    }
    if (f->pos > 0) {
        memmove(f->buf, f->buf + f->pos, f->len - f->pos);
        f->len -= f->pos;
        f->pos = 0;
    }
    if (f->len == QEMU_FILE_BUF_SIZE) {
        return 0;
    }
    n = qio_channel_read(f->ioc, (char *)f->buf + f->len,
                         QEMU_FILE_BUF_SIZE - f->len, &err);
    if (n == QIO_CHANNEL_ERR_BLOCK) {
        /* A non-blocking channel: wait for one byte. */
        int r = qio_channel_read_all_eof(f->ioc, (char *)f->buf + f->len,
                                         1, &err);
        n = r < 0 ? -1 : r;
    }
    if (n < 0) {
        qemu_file_channel_error(f, err);
        return 0;
    }
    if (n == 0) {
        f->eof = true;
        return 0;
    }
    f->len += n;
    return n;
}

/*
 * Make @size bytes (<= the buffer) from the read position available.
 * At the end of the stream, sets the error only when @must.
 */
static bool qemu_file_need(QEMUFile *f, size_t size, bool must)
{
    while (f->len - f->pos < size) {
        if (qemu_file_fill(f) == 0) {
            if (must && !f->last_error) {
                qemu_file_fail(f, -EIO, "Unexpected end of stream (%zu of "
                               "%zu bytes available at offset %" PRIu64 ")",
                               f->len - f->pos, size, f->transferred);
            }
            return false;
        }
    }
    return !f->last_error;
}

size_t qemu_get_buffer(QEMUFile *f, uint8_t *buf, size_t size)
{
    size_t done = 0;

    while (done < size) {
        size_t chunk = MIN(size - done, QEMU_FILE_BUF_SIZE);

        if (!qemu_file_need(f, chunk, true)) {
            memset(buf, 0, size);
            return 0;
        }
        memcpy(buf + done, f->buf + f->pos, chunk);
        f->pos += chunk;
        f->transferred += chunk;
        done += chunk;
    }
    return size;
}

int qemu_get_byte(QEMUFile *f)
{
    uint8_t b;

    qemu_get_buffer(f, &b, 1);
    return b;
}

unsigned int qemu_get_be16(QEMUFile *f)
{
    uint8_t b[2];

    qemu_get_buffer(f, b, sizeof(b));
    return (b[0] << 8) | b[1];
}

unsigned int qemu_get_be32(QEMUFile *f)
{
    uint8_t b[4];

    qemu_get_buffer(f, b, sizeof(b));
    return ((unsigned int)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
}

uint64_t qemu_get_be64(QEMUFile *f)
{
    uint8_t b[8];
    uint64_t v = 0;

    qemu_get_buffer(f, b, sizeof(b));
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

size_t qemu_get_counted_string(QEMUFile *f, char buf[256])
{
    size_t len = qemu_get_byte(f);

    if (qemu_get_buffer(f, (uint8_t *)buf, len) != len) {
        len = 0;
    }
    buf[len] = '\0';
    return len;
}

size_t qemu_peek_buffer(QEMUFile *f, uint8_t **buf, size_t size,
                        size_t offset)
{
    size_t avail;

    if (offset > QEMU_FILE_BUF_SIZE || size > QEMU_FILE_BUF_SIZE - offset) {
        qemu_file_fail(f, -EINVAL, "Peek of %zu bytes at offset %zu is "
                       "beyond the stream buffer", size, offset);
    }
    if (f->last_error) {
        *buf = f->buf + f->pos;
        return 0;
    }
    qemu_file_need(f, offset + size, false);
    *buf = f->buf + f->pos + offset;
    if (f->last_error) {
        return 0;
    }
    avail = f->len - f->pos;
    return avail <= offset ? 0 : MIN(avail - offset, size);
}

int qemu_peek_byte(QEMUFile *f, int offset)
{
    uint8_t *p;

    if (offset < 0) {
        return -1;
    }
    if (qemu_peek_buffer(f, &p, 1, offset) != 1) {
        return -1;
    }
    return *p;
}

size_t qemu_file_buffered(QEMUFile *f, uint8_t **buf)
{
    *buf = f->buf + f->pos;
    return f->last_error ? 0 : f->len - f->pos;
}

void qemu_file_skip(QEMUFile *f, size_t size)
{
    if (f->last_error) {
        return;
    }
    if (size > f->len - f->pos) {
        qemu_file_fail(f, -EINVAL, "Skip of %zu bytes beyond the %zu "
                       "available", size, f->len - f->pos);
        return;
    }
    f->pos += size;
    f->transferred += size;
}

uint64_t qemu_file_transferred(QEMUFile *f)
{
    return f->transferred;
}

/* Rate limiting */

void qemu_file_set_rate_limit(QEMUFile *f, int64_t bytes_per_sec)
{
    int64_t per_window = bytes_per_sec /
                         (1000 / QEMU_FILE_RATE_WINDOW_MS);

    /* A tiny non-zero limit must not turn into "unlimited". */
    __atomic_store_n(&f->rate_limit, bytes_per_sec > 0 ? MAX(per_window, 1)
                                                       : 0,
                     __ATOMIC_RELAXED);
}

static int64_t qemu_file_rate_limit_per_window(QEMUFile *f)
{
    return __atomic_load_n(&f->rate_limit, __ATOMIC_RELAXED);
}

int64_t qemu_file_get_rate_limit(QEMUFile *f)
{
    return qemu_file_rate_limit_per_window(f) *
           (1000 / QEMU_FILE_RATE_WINDOW_MS);
}

void qemu_file_reset_rate_limit(QEMUFile *f)
{
    f->rate_used = 0;
    f->window_start = f->clock(f->clock_opaque);
}

bool qemu_file_rate_limit(QEMUFile *f)
{
    int64_t limit = qemu_file_rate_limit_per_window(f);
    int64_t now;

    if (f->last_error || qemu_file_is_shut_down(f)) {
        return true;
    }
    if (!limit) {
        return false;
    }
    now = f->clock(f->clock_opaque);
    if (now - f->window_start >= NS_PER_WINDOW) {
        f->rate_used = 0;
        f->window_start = now;
    }
    return f->rate_used >= limit;
}

void qemu_file_acct_rate_limit(QEMUFile *f, int64_t len)
{
    f->rate_used += len;
}

int64_t qemu_file_rate_limit_used(QEMUFile *f)
{
    return f->rate_used;
}

void qemu_file_set_clock(QEMUFile *f, QEMUFileClockFn *clock, void *opaque)
{
    f->clock = clock ? clock : qemu_file_default_clock;
    f->clock_opaque = opaque;
    f->window_start = f->clock(f->clock_opaque);
}

/* Shutdown and close */

int qemu_file_shutdown(QEMUFile *f)
{
    trace_qemu_file_shutdown(f);
    g_atomic_int_set(&f->shutdown, 1);
    if (qio_channel_shutdown(f->ioc, QIO_CHANNEL_SHUTDOWN_BOTH, NULL) < 0) {
        return -EIO;
    }
    return 0;
}

int qemu_fclose_errp(QEMUFile *f, Error **errp)
{
    Error *err = NULL;
    int ret;

    if (!f) {
        return 0;
    }
    qemu_fflush(f);
    ret = qemu_file_get_error_obj(f, errp);
    if (!f->is_return_path && qio_channel_close(f->ioc, &err) < 0) {
        if (!ret) {
            ret = -EIO;
            error_propagate(errp, err);
        } else {
            error_free(err);
        }
    }
    error_free(f->last_error_obj);
    qio_channel_unref(f->ioc);
    g_free(f->buf);
    g_free(f);
    return ret;
}

int qemu_fclose(QEMUFile *f)
{
    return qemu_fclose_errp(f, NULL);
}
