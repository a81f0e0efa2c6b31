/*
 * Clocks and timers dispatched by the main loop.
 *
 * Each clock keeps its pending timers in a list sorted by deadline; one
 * GSource computes the poll timeout from the list heads and fires what
 * has expired.  GLib only sleeps in whole milliseconds, so the timeout is
 * rounded up and the deadline itself is compared in nanoseconds: a timer
 * never fires early.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <time.h>

#include "util/main-loop.h"
#include "main-loop-internal.h"

struct Timer {
    /* Written by timer_new_full() before the timer is shared. */
    ClockType type;
    int scale;
    TimerCB *cb;
    void *opaque;
    /* Protected by TimerState.lock. */
    int64_t expire_ns;      /* valid while pending */
    bool pending;
    Timer *next;            /* in the clock's list */
};

typedef struct TimerState {
    /*
     * Protects: the lists, and each Timer's expire_ns, pending and next,
     * so that any thread may arm or delete a timer.  Callbacks run
     * without it.  A static GMutex needs no init.
     */
    GMutex lock;
    Timer *active[CLOCK_TYPE__MAX];     /* protected by lock */
} TimerState;

static TimerState timer_state = {
    .active = { NULL },
};

static TimerState *timer_get_state(void)
{
    return &timer_state;
}

int64_t clock_get_ns(ClockType type)
{
    struct timespec ts;

    clock_gettime(type == CLOCK_TYPE_HOST ? CLOCK_REALTIME : CLOCK_MONOTONIC,
                  &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

int64_t clock_get_ms(ClockType type)
{
    return clock_get_ns(type) / SCALE_MS;
}

Timer *timer_new_full(ClockType type, int scale, TimerCB *cb, void *opaque)
{
    Timer *timer = g_new0(Timer, 1);

    g_assert(type >= 0 && type < CLOCK_TYPE__MAX);
    g_assert(scale > 0);
    timer->type = type;
    timer->scale = scale;
    timer->cb = cb;
    timer->opaque = opaque;
    return timer;
}

Timer *timer_new_ns(ClockType type, TimerCB *cb, void *opaque)
{
    return timer_new_full(type, SCALE_NS, cb, opaque);
}

Timer *timer_new_us(ClockType type, TimerCB *cb, void *opaque)
{
    return timer_new_full(type, SCALE_US, cb, opaque);
}

Timer *timer_new_ms(ClockType type, TimerCB *cb, void *opaque)
{
    return timer_new_full(type, SCALE_MS, cb, opaque);
}

static void timer_unlink_locked(TimerState *s, Timer *timer)
{
    Timer **link = &s->active[timer->type];

    if (!timer->pending) {
        return;
    }
    while (*link != timer) {
        link = &(*link)->next;
    }
    *link = timer->next;
    timer->next = NULL;
    timer->pending = false;
}

void timer_mod_ns(Timer *timer, int64_t expire_ns)
{
    TimerState *s = timer_get_state();
    Timer **link;
    bool new_head;

    g_mutex_lock(&s->lock);
    timer_unlink_locked(s, timer);
    link = &s->active[timer->type];
    /* Equal deadlines keep arming order, so they fire first-in first. */
    while (*link && (*link)->expire_ns <= expire_ns) {
        link = &(*link)->next;
    }
    timer->expire_ns = expire_ns;
    timer->pending = true;
    timer->next = *link;
    *link = timer;
    new_head = s->active[timer->type] == timer;
    g_mutex_unlock(&s->lock);

    /* A loop asleep in another thread must recompute its timeout. */
    if (new_head) {
        g_main_context_wakeup(main_loop_context());
    }
}

void timer_mod(Timer *timer, int64_t expire_time)
{
    int64_t ns;

    if (__builtin_mul_overflow(expire_time, (int64_t)timer->scale, &ns)) {
        ns = expire_time < 0 ? INT64_MIN : INT64_MAX;
    }
    timer_mod_ns(timer, ns);
}

void timer_del(Timer *timer)
{
    TimerState *s = timer_get_state();

    g_mutex_lock(&s->lock);
    timer_unlink_locked(s, timer);
    g_mutex_unlock(&s->lock);
}

bool timer_pending(Timer *timer)
{
    TimerState *s = timer_get_state();
    bool pending;

    g_mutex_lock(&s->lock);
    pending = timer->pending;
    g_mutex_unlock(&s->lock);
    return pending;
}

int64_t timer_expire_time_ns(Timer *timer)
{
    TimerState *s = timer_get_state();
    int64_t expire;

    g_mutex_lock(&s->lock);
    expire = timer->pending ? timer->expire_ns : -1;
    g_mutex_unlock(&s->lock);
    return expire;
}

void timer_free(Timer *timer)
{
    if (timer) {
        timer_del(timer);
        g_free(timer);
    }
}

/* Nanoseconds until the earliest deadline, 0 if expired, -1 if none. */
static int64_t timers_next_deadline_ns(TimerState *s)
{
    int64_t best = -1;
    int type;

    g_mutex_lock(&s->lock);
    for (type = 0; type < CLOCK_TYPE__MAX; type++) {
        Timer *head = s->active[type];
        int64_t delta;

        if (!head) {
            continue;
        }
        delta = head->expire_ns - clock_get_ns(type);
        delta = delta < 0 ? 0 : delta;
        if (best < 0 || delta < best) {
            best = delta;
        }
    }
    g_mutex_unlock(&s->lock);
    return best;
}

static gboolean timer_source_prepare(GSource *source, gint *timeout)
{
    int64_t ns = timers_next_deadline_ns(timer_get_state());
    int64_t ms;

    if (ns < 0) {
        *timeout = -1;
        return FALSE;
    }
    ms = (ns + SCALE_MS - 1) / SCALE_MS;
    *timeout = ms > G_MAXINT ? G_MAXINT : (gint)ms;
    return ns == 0;
}

static gboolean timer_source_check(GSource *source)
{
    return timers_next_deadline_ns(timer_get_state()) == 0;
}

/* Unlink and return the head of type's list if it has expired. */
static Timer *timer_pop_expired(TimerState *s, int type)
{
    Timer *timer;

    g_mutex_lock(&s->lock);
    timer = s->active[type];
    if (timer && timer->expire_ns <= clock_get_ns(type)) {
        timer_unlink_locked(s, timer);
    } else {
        timer = NULL;
    }
    g_mutex_unlock(&s->lock);
    return timer;
}

/*
 * Callbacks run unlocked and may re-arm, delete or free any timer,
 * themselves included, so the list is re-read after each one.
 */
static gboolean timer_source_dispatch(GSource *source, GSourceFunc unused,
                                      gpointer unused_data)
{
    TimerState *s = timer_get_state();
    int type;

    for (type = 0; type < CLOCK_TYPE__MAX; type++) {
        Timer *timer;

        while ((timer = timer_pop_expired(s, type))) {
            timer->cb(timer->opaque);
        }
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_source_prepare,
    .check = timer_source_check,
    .dispatch = timer_source_dispatch,
};

void timer_source_attach(GMainContext *ctx)
{
    GSource *source = g_source_new(&timer_source_funcs, sizeof(GSource));

    g_source_set_name(source, "timers");
    g_source_attach(source, ctx);
    g_source_unref(source);
}
