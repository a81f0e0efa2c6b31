/*
 * The ringbuf backend: output is kept in memory, the oldest bytes giving
 * way to the newest once the ring is full (QEMU's ringbuf), and input
 * can be fed in with chardev_ringbuf_input().  Tests use it to drive
 * device models without file descriptors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "char-internal.h"

#define RINGBUF_DEFAULT_SIZE (64 * 1024)

typedef struct RingbufChardev {
    Chardev parent;
    /* ring and size are written by open, before the chardev is shared. */
    uint8_t *ring;
    size_t size;            /* a power of two */
    /* The output side: protected by parent.out_lock (see write_raw). */
    uint64_t prod;          /* total bytes written */
    uint64_t cons;          /* total bytes read back */
    /* The input side: protected by the BQL. */
    GByteArray *input;      /* fed in, not yet taken by the frontend */
    bool delivering;        /* the frontend may ask for more from inside */
} RingbufChardev;

static bool ringbuf_open(Chardev *c, const OptList *opts, Error **errp)
{
    RingbufChardev *r = (RingbufChardev *)c;
    uint64_t size;

    if (!opts_get_size(opts, "size", RINGBUF_DEFAULT_SIZE, &size, errp)) {
        return false;
    }
    if (size == 0 || (size & (size - 1)) != 0) {
        error_setg(errp, "size of ringbuf chardev must be power of two");
        return false;
    }
    if (size > 1024 * 1024 * 1024) {
        error_setg(errp, "size of ringbuf chardev must be at most 1G");
        return false;
    }
    r->size = size;
    r->ring = g_malloc(size);
    r->input = g_byte_array_new();
    c->opened = true;
    return true;
}

static void ringbuf_close(Chardev *c)
{
    RingbufChardev *r = (RingbufChardev *)c;

    g_free(r->ring);
    g_byte_array_unref(r->input);
}

/* Called with out_lock held, which is what guards the ring. */
static ssize_t ringbuf_write_raw(Chardev *c, const uint8_t *buf, size_t len)
{
    RingbufChardev *r = (RingbufChardev *)c;

    for (size_t i = 0; i < len; i++) {
        r->ring[r->prod++ & (r->size - 1)] = buf[i];
        if (r->prod - r->cons > r->size) {
            r->cons = r->prod - r->size;
        }
    }
    return len;
}

int chardev_ringbuf_read(Chardev *c, uint8_t *buf, int len)
{
    RingbufChardev *r = (RingbufChardev *)c;
    int n = 0;

    if (c->cls != &chardev_ringbuf_class || len < 0) {
        return -1;
    }
    mutex_lock(&c->out_lock);
    while (n < len && r->cons < r->prod) {
        buf[n++] = r->ring[r->cons++ & (r->size - 1)];
    }
    mutex_unlock(&c->out_lock);
    return n;
}

/* Hand queued input to the frontend as far as it has room. */
static void ringbuf_accept_input(Chardev *c)
{
    RingbufChardev *r = (RingbufChardev *)c;

    if (r->delivering) {
        return;
    }
    r->delivering = true;
    while (r->input->len > 0) {
        int n = MIN((guint)chardev_frontend_room(c), r->input->len);
        g_autofree uint8_t *chunk = NULL;

        if (n == 0) {
            break;
        }
        /* Take the bytes out first: the callback may queue more input. */
        chunk = g_memdup2(r->input->data, n);
        g_byte_array_remove_range(r->input, 0, n);
        chardev_frontend_deliver(c, chunk, n);
    }
    r->delivering = false;
}

int chardev_ringbuf_input(Chardev *c, const uint8_t *buf, int len)
{
    RingbufChardev *r = (RingbufChardev *)c;
    int n;

    if (c->cls != &chardev_ringbuf_class || len < 0) {
        return -1;
    }
    n = MIN((size_t)len, r->size - MIN(r->size, r->input->len));
    g_byte_array_append(r->input, buf, n);
    ringbuf_accept_input(c);
    return n;
}

static const char *const ringbuf_keys[] = { "size", NULL };

const ChardevClass chardev_ringbuf_class = {
    .name = "ringbuf",
    .instance_size = sizeof(RingbufChardev),
    .keys = ringbuf_keys,
    .open = ringbuf_open,
    .close = ringbuf_close,
    .write_raw = ringbuf_write_raw,
    .accept_input = ringbuf_accept_input,
};
