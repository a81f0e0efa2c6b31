/*
 * Bottom halves: callbacks run once by the main loop thread, scheduled
 * from any thread.
 *
 * Scheduled BHs wait in a queue protected by a mutex; scheduling wakes
 * the main context so a loop sleeping in poll() picks them up at once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "util/main-loop.h"
#include "main-loop-internal.h"

struct BH {
    /* Written by bh_new() (or the oneshot setup) before it is shared. */
    BHFunc *cb;
    void *opaque;
    bool oneshot;           /* freed by the loop after it runs */
    bool scheduled;         /* in the queue; protected by BHState.lock */
    GList link;             /* queue node; protected by BHState.lock */
};

typedef struct BHState {
    /*
     * Protects: queue, and each BH's scheduled and link.  Callbacks run
     * without it, so a callback may schedule or delete any BH.  A
     * static GMutex needs no init.
     */
    GMutex lock;
    GQueue queue;           /* of BH, in scheduling order */
} BHState;

static BHState bh_state = {
    .queue = G_QUEUE_INIT,
};

static BHState *bh_get_state(void)
{
    return &bh_state;
}

BH *bh_new(BHFunc *cb, void *opaque)
{
    BH *bh = g_new0(BH, 1);

    bh->cb = cb;
    bh->opaque = opaque;
    bh->link.data = bh;
    return bh;
}

void bh_schedule(BH *bh)
{
    BHState *s = bh_get_state();
    bool queued = false;

    g_mutex_lock(&s->lock);
    if (!bh->scheduled) {
        bh->scheduled = true;
        g_queue_push_tail_link(&s->queue, &bh->link);
        queued = true;
    }
    g_mutex_unlock(&s->lock);
    if (queued) {
        g_main_context_wakeup(main_loop_context());
    }
}

void bh_cancel(BH *bh)
{
    BHState *s = bh_get_state();

    g_mutex_lock(&s->lock);
    if (bh->scheduled) {
        g_queue_unlink(&s->queue, &bh->link);
        bh->scheduled = false;
    }
    g_mutex_unlock(&s->lock);
}

void bh_delete(BH *bh)
{
    if (bh) {
        bh_cancel(bh);
        g_free(bh);
    }
}

void bh_schedule_oneshot(BHFunc *cb, void *opaque)
{
    BH *bh = bh_new(cb, opaque);

    bh->oneshot = true;
    bh_schedule(bh);
}

static bool bh_queue_empty(BHState *s)
{
    bool empty;

    g_mutex_lock(&s->lock);
    empty = g_queue_is_empty(&s->queue);
    g_mutex_unlock(&s->lock);
    return empty;
}

static gboolean bh_source_prepare(GSource *source, gint *timeout)
{
    bool ready = !bh_queue_empty(bh_get_state());

    *timeout = ready ? 0 : -1;
    return ready;
}

static gboolean bh_source_check(GSource *source)
{
    return !bh_queue_empty(bh_get_state());
}

static BH *bh_pop(BHState *s)
{
    GList *link;
    BH *bh = NULL;

    g_mutex_lock(&s->lock);
    link = g_queue_pop_head_link(&s->queue);
    if (link) {
        bh = link->data;
        bh->scheduled = false;
    }
    g_mutex_unlock(&s->lock);
    return bh;
}

/*
 * Run at most the BHs queued when dispatch started: one that schedules
 * itself again waits for the next iteration instead of starving fds and
 * timers.  A callback may delete its own BH, so nothing touches bh after
 * the call unless it is a oneshot, which only the loop can free.
 */
static gboolean bh_source_dispatch(GSource *source, GSourceFunc unused,
                                   gpointer unused_data)
{
    BHState *s = bh_get_state();
    guint budget;
    BH *bh;

    g_mutex_lock(&s->lock);
    budget = g_queue_get_length(&s->queue);
    g_mutex_unlock(&s->lock);

    while (budget-- > 0 && (bh = bh_pop(s))) {
        bool oneshot = bh->oneshot;

        bh->cb(bh->opaque);
        if (oneshot) {
            g_free(bh);
        }
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs bh_source_funcs = {
    .prepare = bh_source_prepare,
    .check = bh_source_check,
    .dispatch = bh_source_dispatch,
};

void bh_source_attach(GMainContext *ctx)
{
    GSource *source = g_source_new(&bh_source_funcs, sizeof(GSource));

    g_source_set_name(source, "bottom-halves");
    g_source_attach(source, ctx);
    g_source_unref(source);
}
