/*
 * Filters between a chardev's frontend and its backend, and the stream
 * positions they work with (include/chardev/char.h).
 *
 * Output written by the frontend passes the filters in order until one
 * takes it; input delivered to the frontend is shown to every filter
 * first.  At most one filter owns the input: the backend is then not
 * read, and the owner injects bytes when the frontend has room.
 *
 * Everything here runs with the BQL held.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "char-internal.h"
#include "trace/trace.h"

void chardev_filter_add(Chardev *c, const ChardevFilterOps *ops,
                        void *opaque)
{
    ChardevFilter f = { .ops = ops, .opaque = opaque };

    if (!c->filters) {
        c->filters = g_array_new(false, false, sizeof(ChardevFilter));
    }
    g_array_append_val(c->filters, f);
    trace_chardev_filter_add(c->id, c->filters->len);
}

void chardev_filter_remove(Chardev *c, void *opaque)
{
    chardev_filter_own_input(c, opaque, false);
    for (guint i = 0; c->filters && i < c->filters->len; i++) {
        if (g_array_index(c->filters, ChardevFilter, i).opaque == opaque) {
            g_array_remove_index(c->filters, i);
            trace_chardev_filter_remove(c->id, c->filters->len);
            return;
        }
    }
}

bool chardev_has_filters(const Chardev *c)
{
    return c->filters && c->filters->len > 0;
}

void chardev_filters_free(Chardev *c)
{
    if (c->filters) {
        g_array_free(c->filters, true);
        c->filters = NULL;
    }
    c->input_owner = NULL;
}

void chardev_filter_own_input(Chardev *c, void *opaque, bool own)
{
    if (own) {
        c->input_owner = opaque;
    } else if (c->input_owner == opaque) {
        c->input_owner = NULL;
        /* The backend may have paused while the owner held the input. */
        chardev_accept_input(c);
    }
}

void chardev_filter_inject(Chardev *c, const uint8_t *buf, int len)
{
    chardev_frontend_deliver(c, buf, len);
}

bool chardev_filters_take_output(Chardev *c, const uint8_t *buf, int len)
{
    uint64_t pos = c->stream.out_pos;

    c->stream.out_pos += len;
    for (guint i = 0; c->filters && i < c->filters->len; i++) {
        ChardevFilter *f = &g_array_index(c->filters, ChardevFilter, i);

        if (f->ops->output && f->ops->output(f->opaque, pos, buf, len)) {
            return true;
        }
    }
    return false;
}

void chardev_filters_input_ready(Chardev *c)
{
    for (guint i = 0; c->input_owner && c->filters &&
         i < c->filters->len; i++) {
        ChardevFilter *f = &g_array_index(c->filters, ChardevFilter, i);

        if (f->opaque == c->input_owner && f->ops->input_ready) {
            f->ops->input_ready(f->opaque);
            return;
        }
    }
}

void chardev_get_stream_state(const Chardev *c, ChardevStreamState *st)
{
    *st = c->stream;
}

void chardev_set_stream_state(Chardev *c, const ChardevStreamState *st)
{
    c->stream = *st;
    trace_chardev_stream_loaded(c->id, st->in_pos, st->out_pos, st->epoch);
    for (guint i = 0; c->filters && i < c->filters->len; i++) {
        ChardevFilter *f = &g_array_index(c->filters, ChardevFilter, i);

        if (f->ops->stream_loaded) {
            f->ops->stream_loaded(f->opaque);
        }
    }
}

uint32_t chardev_next_epoch(Chardev *c)
{
    return ++c->stream.epoch;
}
