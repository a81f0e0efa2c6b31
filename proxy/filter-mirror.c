/*
 * filter-mirror and filter-redirector on a chardev (QEMU has them on a
 * netdev).  QEMU's queue names keep their meaning from the backend's
 * side: queue=tx is what the backend sends to the frontend (the
 * client's input to the guest), queue=rx what the frontend sends to the
 * backend (the guest's output).
 *
 *   filter-mirror,chardev=C,outdev=O[,queue=tx|rx|all]
 *       copies the chosen streams, as position-tagged records
 *       (include/proxy/frame.h), to O; the bytes go on unchanged.
 *   filter-redirector,chardev=C,queue=tx,indev=I
 *       the frontend's input comes from the records read on I instead
 *       of C's backend, each byte at its stream position.
 *   filter-redirector,chardev=C,queue=rx,outdev=O
 *       the frontend's output goes to O as records instead of to C's
 *       backend.
 *
 * On a COLO secondary the redirectors switch themselves off when it
 * takes over (COLO_EVENT_ALONE), so its guest then talks to C's own
 * backend, where clients reconnect.
 *
 * Input kept by the input redirector: every byte from the oldest one a
 * checkpoint may still rewind to (the guest's in_pos after the last
 * committed checkpoint) up to what arrived.  Bytes the guest took are
 * kept, because loading a checkpoint can move in_pos back to them;
 * bytes before the new in_pos are dropped then.  Input the primary's
 * guest took before a checkpoint is therefore never given again, and
 * input it has not taken is never lost.
 *
 * BQL held throughout.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "migration/colo.h"
#include "proxy-int.h"
#include "proxy/frame.h"
#include "trace/trace.h"

/* Input the redirector keeps before it stops reading its indev. */
#define REDIRECTOR_INPUT_MAX    (1024 * 1024)

typedef enum FilterQueue {
    FILTER_QUEUE_RX = 1,
    FILTER_QUEUE_TX = 2,
    FILTER_QUEUE_ALL = 3,
} FilterQueue;

typedef struct ProxyFilter {
    ProxyObject obj;
    Chardev *chr;           /* the chardev filtered (QEMU's netdev) */
    Chardev *indev;
    Chardev *outdev;
    FilterQueue queue;
    bool on;                /* QEMU's status property */
    uint64_t dropped;       /* records that did not fit outdev */

    /* Redirector with indev: the kept input (see above). */
    ProxyFrameReader reader;
    GByteArray *input;
    uint64_t input_base;    /* stream position of input->data[0] */
    bool colo_active;       /* between COLO start and takeover */
} ProxyFilter;

static const char *filter_name(const ProxyFilter *f)
{
    return f->obj.id;
}

/* Send @len bytes at @pos as records; count what did not fit. */
static void filter_send_records(ProxyFilter *f, uint64_t pos,
                                const uint8_t *buf, int len)
{
    uint8_t rec[PROXY_FRAME_HEADER + PROXY_FRAME_MAX];
    ChardevStreamState st;

    chardev_get_stream_state(f->chr, &st);
    while (len > 0) {
        uint32_t n = MIN(len, PROXY_FRAME_MAX);
        size_t size = proxy_frame_encode(rec, st.epoch, pos, buf, n);

        if (!chardev_write_all(f->outdev, rec, size)) {
            f->dropped += n;
            trace_colo_filter_drop(filter_name(f), pos, n, f->dropped);
        }
        pos += n;
        buf += n;
        len -= n;
    }
}

static bool filter_parse_queue(const OptList *opts, bool required,
                               FilterQueue *queue, Error **errp)
{
    const char *q = opts_get(opts, "queue");

    if (!q) {
        if (required) {
            error_setg(errp, "Parameter 'queue' is missing");
            return false;
        }
        *queue = FILTER_QUEUE_ALL;
    } else if (!strcmp(q, "all")) {
        *queue = FILTER_QUEUE_ALL;
    } else if (!strcmp(q, "rx")) {
        *queue = FILTER_QUEUE_RX;
    } else if (!strcmp(q, "tx")) {
        *queue = FILTER_QUEUE_TX;
    } else {
        error_setg(errp, "Parameter 'queue' does not accept value '%s'", q);
        return false;
    }
    return true;
}

static bool filter_parse_status(const OptList *opts, bool *on, Error **errp)
{
    const char *st = opts_get(opts, "status");

    if (!st || !strcmp(st, "on")) {
        *on = true;
    } else if (!strcmp(st, "off")) {
        *on = false;
    } else {
        error_setg(errp, "Invalid value for netfilter status, should be "
                   "'on' or 'off'");
        return false;
    }
    return true;
}

/* ---- filter-mirror ---- */

static bool mirror_output(void *opaque, uint64_t pos, const uint8_t *buf,
                          int len)
{
    ProxyFilter *f = opaque;

    if (f->on && (f->queue & FILTER_QUEUE_RX)) {
        filter_send_records(f, pos, buf, len);
    }
    return false;
}

static void mirror_input(void *opaque, uint64_t pos, const uint8_t *buf,
                         int len)
{
    ProxyFilter *f = opaque;

    if (f->on && (f->queue & FILTER_QUEUE_TX)) {
        trace_colo_filter_mirror(filter_name(f), pos, len);
        filter_send_records(f, pos, buf, len);
    }
}

static const ChardevFilterOps mirror_ops = {
    .output = mirror_output,
    .input = mirror_input,
};

static ProxyObject *mirror_create(const char *id, const OptList *opts,
                                  Error **errp)
{
    g_autofree ProxyFilter *f = g_new0(ProxyFilter, 1);

    if (!proxy_get_chardev(opts, "chardev", false, &f->chr, errp) ||
        !proxy_get_chardev(opts, "outdev", false, &f->outdev, errp) ||
        !filter_parse_queue(opts, false, &f->queue, errp) ||
        !filter_parse_status(opts, &f->on, errp)) {
        return NULL;
    }
    if (f->outdev == f->chr) {
        error_setg(errp, "filter-mirror: 'outdev' must not be the "
                   "filtered chardev '%s'", chardev_id(f->chr));
        return NULL;
    }
    chardev_filter_add(f->chr, &mirror_ops, f);
    return &g_steal_pointer(&f)->obj;
}

static void mirror_free(ProxyObject *obj)
{
    ProxyFilter *f = (ProxyFilter *)obj;

    chardev_filter_remove(f->chr, f);
    g_free(f);
}

const ProxyObjectType filter_mirror_type = {
    .name = "filter-mirror",
    .keys = (const char *const[]) {
        "chardev", "outdev", "queue", "status", NULL
    },
    .create = mirror_create,
    .free = mirror_free,
};

/* ---- filter-redirector ---- */

/* Give the guest what it has room for, from its own in_pos on. */
static void redirector_deliver(ProxyFilter *f)
{
    ChardevStreamState st;
    int room;

    if (!f->on || !f->colo_active) {
        return;
    }
    while ((room = chardev_filter_input_room(f->chr)) > 0) {
        uint64_t off, n;

        chardev_get_stream_state(f->chr, &st);
        if (st.in_pos < f->input_base) {
            return;     /* bytes missing: only a checkpoint moves past */
        }
        off = st.in_pos - f->input_base;
        if (off >= f->input->len) {
            return;
        }
        n = MIN((uint64_t)room, f->input->len - off);
        chardev_filter_inject(f->chr, f->input->data + off, n);
    }
}

/* A checkpoint set in_pos: what lies before it is never needed again. */
static void redirector_trim(ProxyFilter *f)
{
    ChardevStreamState st;
    uint64_t drop;

    chardev_get_stream_state(f->chr, &st);
    if (st.in_pos <= f->input_base) {
        return;
    }
    drop = MIN(st.in_pos - f->input_base, (uint64_t)f->input->len);
    g_byte_array_remove_range(f->input, 0, drop);
    f->input_base = st.in_pos;
    trace_colo_filter_realign(filter_name(f), st.in_pos, f->input->len);
    chardev_accept_input(f->indev);
}

static void redirector_record(void *opaque, uint32_t epoch, uint64_t pos,
                              const uint8_t *buf, uint32_t len)
{
    ProxyFilter *f = opaque;
    uint64_t end = f->input_base + f->input->len;

    if (!f->on) {
        return;     /* switched off: the guest reads its own backend */
    }
    if (f->input->len == 0 || pos > end) {
        if (pos > end && f->input->len) {
            trace_colo_filter_gap(filter_name(f), end, pos);
        }
        /* Start (again) here: bytes before pos cannot arrive any more. */
        g_byte_array_set_size(f->input, 0);
        f->input_base = pos;
        end = pos;
    }
    if (pos + len <= end) {
        return;     /* already here */
    }
    g_byte_array_append(f->input, buf + (end - pos), pos + len - end);
    redirector_deliver(f);
}

static int redirector_can_read(void *opaque)
{
    ProxyFilter *f = opaque;

    return f->input->len < REDIRECTOR_INPUT_MAX ? 65536 : 0;
}

static void redirector_read(void *opaque, const uint8_t *buf, int size)
{
    ProxyFilter *f = opaque;

    bool was_broken = f->reader.broken;

    if (!proxy_frame_reader_feed(&f->reader, buf, size, redirector_record,
                                 f) && !was_broken) {
        trace_colo_filter_bad_record(filter_name(f), chardev_id(f->indev));
    }
}

static void redirector_event(void *opaque, CharEvent event)
{
    ProxyFilter *f = opaque;

    proxy_frame_reader_reset(&f->reader);
}

static bool redirector_output(void *opaque, uint64_t pos,
                              const uint8_t *buf, int len)
{
    ProxyFilter *f = opaque;

    if (!f->on) {
        return false;
    }
    filter_send_records(f, pos, buf, len);
    return true;
}

static void redirector_input_ready(void *opaque)
{
    redirector_deliver(opaque);
}

static void redirector_stream_loaded(void *opaque)
{
    ProxyFilter *f = opaque;

    if (f->indev) {
        redirector_trim(f);
    }
}

static const ChardevFilterOps redirector_in_ops = {
    .input_ready = redirector_input_ready,
    .stream_loaded = redirector_stream_loaded,
};

static const ChardevFilterOps redirector_out_ops = {
    .output = redirector_output,
};

static void redirector_set_on(ProxyFilter *f, bool on)
{
    f->on = on;
    if (f->indev) {
        chardev_filter_own_input(f->chr, f, on);
        if (!on) {
            g_byte_array_set_size(f->input, 0);
        }
    }
    trace_colo_filter_status(filter_name(f), on);
}

static void redirector_colo_event(void *opaque, COLOMode mode,
                                  ColoEvent event)
{
    ProxyFilter *f = opaque;

    if (mode != COLO_MODE_SECONDARY || !f->on) {
        return;
    }
    switch (event) {
    case COLO_EVENT_START:
    case COLO_EVENT_COMMITTED:
        f->colo_active = true;
        if (f->indev) {
            redirector_trim(f);
            redirector_deliver(f);
        }
        break;
    case COLO_EVENT_ALONE:
        f->colo_active = false;
        redirector_set_on(f, false);
        break;
    default:
        break;
    }
}

static bool redirector_check(ProxyFilter *f, Error **errp)
{
    if (!f->indev && !f->outdev) {
        error_setg(errp, "filter redirector needs 'indev' or 'outdev' at "
                   "least one property set");
        return false;
    }
    if (f->indev == f->outdev) {
        error_setg(errp, "'indev' and 'outdev' could not be same for "
                   "filter redirector");
        return false;
    }
    if (f->indev == f->chr || f->outdev == f->chr) {
        error_setg(errp, "filter-redirector: 'indev' and 'outdev' must not "
                   "be the filtered chardev '%s'", chardev_id(f->chr));
        return false;
    }
    if ((f->queue == FILTER_QUEUE_TX && (!f->indev || f->outdev)) ||
        (f->queue == FILTER_QUEUE_RX && (!f->outdev || f->indev)) ||
        f->queue == FILTER_QUEUE_ALL) {
        error_setg(errp, "filter-redirector on a chardev takes queue=tx "
                   "with 'indev' or queue=rx with 'outdev'");
        return false;
    }
    if (f->indev && chardev_in_use(f->indev)) {
        error_setg(errp, "Device '%s' is in use", chardev_id(f->indev));
        return false;
    }
    return true;
}

static ProxyObject *redirector_create(const char *id, const OptList *opts,
                                      Error **errp)
{
    g_autofree ProxyFilter *f = g_new0(ProxyFilter, 1);
    bool on;

    if (!proxy_get_chardev(opts, "chardev", false, &f->chr, errp) ||
        !proxy_get_chardev(opts, "indev", true, &f->indev, errp) ||
        !proxy_get_chardev(opts, "outdev", true, &f->outdev, errp) ||
        !filter_parse_queue(opts, true, &f->queue, errp) ||
        !filter_parse_status(opts, &on, errp) ||
        !redirector_check(f, errp)) {
        return NULL;
    }
    /* The registry sets its own copy once this returns. */
    f->obj.id = (char *)id;
    if (f->indev) {
        f->input = g_byte_array_new();
        chardev_filter_add(f->chr, &redirector_in_ops, f);
        chardev_set_handlers(f->indev, redirector_can_read, redirector_read,
                             redirector_event, f);
    } else {
        chardev_filter_add(f->chr, &redirector_out_ops, f);
    }
    redirector_set_on(f, on);
    colo_add_event_handler(redirector_colo_event, f);
    return &g_steal_pointer(&f)->obj;
}

static void redirector_free(ProxyObject *obj)
{
    ProxyFilter *f = (ProxyFilter *)obj;

    colo_remove_event_handler(redirector_colo_event, f);
    if (f->indev) {
        chardev_set_handlers(f->indev, NULL, NULL, NULL, NULL);
        g_byte_array_unref(f->input);
    }
    chardev_filter_remove(f->chr, f);
    g_free(f);
}

const ProxyObjectType filter_redirector_type = {
    .name = "filter-redirector",
    .keys = (const char *const[]) {
        "chardev", "indev", "outdev", "queue", "status", NULL
    },
    .create = redirector_create,
    .free = redirector_free,
};
