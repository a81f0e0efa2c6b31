/*
 * The main event loop: file descriptor handlers, timers and bottom halves,
 * all dispatched from the default GMainContext.
 *
 * Everything here runs in the thread that iterates the loop (the thread
 * calling main_loop_wait() or main_loop_run()), except the functions
 * marked "any thread".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_MAIN_LOOP_H
#define UTIL_MAIN_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define NANOSECONDS_PER_SECOND 1000000000LL

/* Idempotent; binds the loop to the default GMainContext. */
void main_loop_init(void);
/* Run one iteration; with nonblocking=false sleep until something fires. */
void main_loop_wait(bool nonblocking);
/* Iterate until main_loop_quit() is called. */
void main_loop_run(void);
/* Make main_loop_run() return after the current iteration.  Any thread. */
void main_loop_quit(void);
/* True while main_loop_run() is iterating and no quit is pending. */
bool main_loop_is_running(void);

typedef void IOHandler(void *opaque);

/*
 * Watch fd for readability (fd_read) and/or writability (fd_write).
 * Calling it again for the same fd replaces the handlers; passing both
 * as NULL removes the watch.  Handlers may add or remove watches,
 * including their own, from inside a callback.
 */
void main_loop_set_fd_handler(int fd, IOHandler *fd_read,
                              IOHandler *fd_write, void *opaque);

typedef enum ClockType {
    CLOCK_TYPE_REALTIME,    /* monotonic, unaffected by date changes */
    CLOCK_TYPE_HOST,        /* wall clock, may jump */
    CLOCK_TYPE__MAX,
} ClockType;

int64_t clock_get_ns(ClockType type);
int64_t clock_get_ms(ClockType type);

#define SCALE_NS 1
#define SCALE_US 1000
#define SCALE_MS 1000000

typedef void TimerCB(void *opaque);
typedef struct Timer Timer;

/*
 * A timer fires once, in the main loop, when the clock reaches its
 * deadline.  The scale converts timer_mod() arguments to nanoseconds.
 */
Timer *timer_new_full(ClockType type, int scale, TimerCB *cb, void *opaque);
Timer *timer_new_ns(ClockType type, TimerCB *cb, void *opaque);
Timer *timer_new_us(ClockType type, TimerCB *cb, void *opaque);
Timer *timer_new_ms(ClockType type, TimerCB *cb, void *opaque);
/* Arm (or re-arm) to fire when clock_get_ns(type) >= expire_ns. */
void timer_mod_ns(Timer *timer, int64_t expire_ns);
/* Arm at an absolute time in the timer's scale (clock_get_ns / scale). */
void timer_mod(Timer *timer, int64_t expire_time);
/* Disarm; a deleted timer does not fire.  Safe on an idle timer. */
void timer_del(Timer *timer);
bool timer_pending(Timer *timer);
/* Deadline in ns, or -1 when not pending. */
int64_t timer_expire_time_ns(Timer *timer);
/* Disarm and free; NULL is allowed. */
void timer_free(Timer *timer);

typedef void BHFunc(void *opaque);
typedef struct BH BH;

/*
 * A bottom half runs its callback once in the main loop thread after
 * bh_schedule(); scheduling an already scheduled BH is a no-op.
 */
BH *bh_new(BHFunc *cb, void *opaque);
void bh_schedule(BH *bh);                       /* any thread */
void bh_cancel(BH *bh);                         /* any thread */
/* Cancel and free; may be called from inside the BH's own callback. */
void bh_delete(BH *bh);
/* Run cb(opaque) once in the main loop thread; any thread. */
void bh_schedule_oneshot(BHFunc *cb, void *opaque);

#endif /* UTIL_MAIN_LOOP_H */
