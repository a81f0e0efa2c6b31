/*
 * Buffer channels: an in-memory byte queue.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "channel-impl.h"
#include "util/thread.h"

typedef struct BufferState {
    /*
     * Protects: data, size, capacity, offset (a writer and a reader may
     * be different threads).  qio_channel_buffer_data() returns data
     * outside the lock: the caller must not write meanwhile.
     */
    Mutex lock;
    uint8_t *data;              /* protected by lock */
    size_t size;                /* protected by lock; bytes written */
    size_t capacity;            /* protected by lock */
    size_t offset;              /* protected by lock; read position */
} BufferState;

static BufferState *buffer_state(QIOChannel *ioc)
{
    g_assert(qio_channel_is_buffer(ioc));
    return ioc->opaque;
}

static ssize_t buffer_readv(QIOChannel *ioc, const struct iovec *iov,
                            size_t niov)
{
    BufferState *s = ioc->opaque;
    size_t done = 0;

    mutex_lock(&s->lock);
    for (size_t i = 0; i < niov && s->offset < s->size; i++) {
        size_t n = MIN(iov[i].iov_len, s->size - s->offset);

        if (n == 0) {
            continue;
        }
        memcpy(iov[i].iov_base, s->data + s->offset, n);
        s->offset += n;
        done += n;
    }
    mutex_unlock(&s->lock);
    return done;
}

/* Caller holds the lock. */
static void buffer_reserve(BufferState *s, size_t extra)
{
    size_t need = s->size + extra;

    if (need < s->size) {
        g_error("buffer channel: size overflow");
    }
    if (need > s->capacity) {
        s->capacity = MAX(need, MAX(s->capacity * 2, 4096));
        s->data = g_realloc(s->data, s->capacity);
    }
}

static ssize_t buffer_writev(QIOChannel *ioc, const struct iovec *iov,
                             size_t niov)
{
    BufferState *s = ioc->opaque;
    size_t done = 0;

    mutex_lock(&s->lock);
    for (size_t i = 0; i < niov; i++) {
        /* An empty entry may have a NULL base, which memcpy refuses. */
        if (iov[i].iov_len == 0) {
            continue;
        }
        buffer_reserve(s, iov[i].iov_len);
        memcpy(s->data + s->size, iov[i].iov_base, iov[i].iov_len);
        s->size += iov[i].iov_len;
        done += iov[i].iov_len;
    }
    mutex_unlock(&s->lock);
    return done;
}

static int buffer_close(QIOChannel *ioc, Error **errp)
{
    return 0;
}

static void buffer_finalize(QIOChannel *ioc)
{
    BufferState *s = ioc->opaque;

    mutex_destroy(&s->lock);
    g_free(s->data);
    g_free(s);
}

static const QIOChannelOps buffer_ops = {
    .type = "buffer",
    .readv = buffer_readv,
    .writev = buffer_writev,
    .close = buffer_close,
    .finalize = buffer_finalize,
};

QIOChannel *qio_channel_buffer_new(size_t initial)
{
    BufferState *s = g_new0(BufferState, 1);
    QIOChannel *ioc = g_new(QIOChannel, 1);

    mutex_init(&s->lock);
    s->capacity = initial;
    s->data = initial ? g_malloc(initial) : NULL;
    qio_channel_init(ioc, &buffer_ops, -1, -1, s);
    return ioc;
}

bool qio_channel_is_buffer(QIOChannel *ioc)
{
    return ioc->ops == &buffer_ops;
}

const uint8_t *qio_channel_buffer_data(QIOChannel *ioc, size_t *len)
{
    BufferState *s = buffer_state(ioc);

    mutex_lock(&s->lock);
    *len = s->size;
    mutex_unlock(&s->lock);
    return s->data;
}

void qio_channel_buffer_set_data(QIOChannel *ioc, const void *data,
                                 size_t len)
{
    BufferState *s = buffer_state(ioc);

    mutex_lock(&s->lock);
    s->size = 0;
    s->offset = 0;
    buffer_reserve(s, len);
    if (len) {
        memcpy(s->data, data, len);
    }
    s->size = len;
    mutex_unlock(&s->lock);
}

void qio_channel_buffer_rewind(QIOChannel *ioc)
{
    BufferState *s = buffer_state(ioc);

    mutex_lock(&s->lock);
    s->offset = 0;
    mutex_unlock(&s->lock);
}

void qio_channel_buffer_reset(QIOChannel *ioc)
{
    BufferState *s = buffer_state(ioc);

    mutex_lock(&s->lock);
    s->offset = 0;
    s->size = 0;
    mutex_unlock(&s->lock);
}

size_t qio_channel_buffer_pending(QIOChannel *ioc)
{
    BufferState *s = buffer_state(ioc);
    size_t pending;

    mutex_lock(&s->lock);
    pending = s->size - s->offset;
    mutex_unlock(&s->lock);
    return pending;
}

