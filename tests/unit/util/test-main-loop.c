/*
 * Tests for the main loop: fd handlers, timers, bottom halves, quit.
 *
 * Waits are event-driven: the loop blocks until the thing under test
 * happens, so a broken wakeup shows up as a test timeout, and no test
 * relies on how fast anything runs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <glib.h>

#include "util/main-loop.h"
#include "util/thread.h"

static void run_until(const int *flag)
{
    while (!g_atomic_int_get(flag)) {
        main_loop_wait(false);
    }
}

/* Drain whatever is ready without blocking. */
static void run_ready(void)
{
    for (int i = 0; i < 10; i++) {
        main_loop_wait(true);
    }
}

typedef struct PipeCtx {
    int fds[2];
    int reads;
    int writes;
    char last;
} PipeCtx;

static void pipe_ctx_init(PipeCtx *p)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(pipe(p->fds), 0);
}

static void pipe_ctx_close(PipeCtx *p)
{
    main_loop_set_fd_handler(p->fds[0], NULL, NULL, NULL);
    main_loop_set_fd_handler(p->fds[1], NULL, NULL, NULL);
    close(p->fds[0]);
    close(p->fds[1]);
}

static void read_one(void *opaque)
{
    PipeCtx *p = opaque;

    assert_int_equal(read(p->fds[0], &p->last, 1), 1);
    p->reads++;
}

static void test_fd_read_handler(void **state)
{
    PipeCtx p;

    main_loop_init();
    main_loop_init();       /* idempotent */
    pipe_ctx_init(&p);
    main_loop_set_fd_handler(p.fds[0], read_one, NULL, &p);
    run_ready();
    assert_int_equal(p.reads, 0);
    assert_int_equal(write(p.fds[1], "x", 1), 1);
    run_until(&p.reads);
    assert_int_equal(p.last, 'x');
    assert_int_equal(write(p.fds[1], "yz", 2), 2);
    while (p.reads < 3) {
        main_loop_wait(false);
    }
    assert_int_equal(p.last, 'z');
    /* Removed: data arriving now is not consumed. */
    main_loop_set_fd_handler(p.fds[0], NULL, NULL, NULL);
    assert_int_equal(write(p.fds[1], "w", 1), 1);
    run_ready();
    assert_int_equal(p.reads, 3);
    pipe_ctx_close(&p);
}

static void count_write(void *opaque)
{
    PipeCtx *p = opaque;

    p->writes++;
    /* Level-triggered: stop watching or it fires on every iteration. */
    main_loop_set_fd_handler(p->fds[1], NULL, NULL, NULL);
}

static void test_fd_write_handler(void **state)
{
    PipeCtx p;

    pipe_ctx_init(&p);
    main_loop_set_fd_handler(p.fds[1], NULL, count_write, &p);
    run_until(&p.writes);
    run_ready();
    assert_int_equal(p.writes, 1);
    pipe_ctx_close(&p);
}

typedef struct SelfRemove {
    int fds[2];
    int reads;
    int writes;
} SelfRemove;

static void self_remove_read(void *opaque)
{
    SelfRemove *s = opaque;

    s->reads++;
    main_loop_set_fd_handler(s->fds[0], NULL, NULL, NULL);
}

static void self_remove_write(void *opaque)
{
    SelfRemove *s = opaque;

    s->writes++;
}

/*
 * A socket that is readable and writable: the read handler removes the
 * watch, so the write handler of the same dispatch must not run.
 */
static void test_fd_handler_removes_itself(void **state)
{
    SelfRemove s = { .reads = 0 };

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s.fds), 0);
    assert_int_equal(write(s.fds[1], "x", 1), 1);
    main_loop_set_fd_handler(s.fds[0], self_remove_read, self_remove_write,
                             &s);
    run_until(&s.reads);
    run_ready();
    assert_int_equal(s.reads, 1);
    assert_int_equal(s.writes, 0);
    close(s.fds[0]);
    close(s.fds[1]);
}

typedef struct Pair {
    PipeCtx a;
    PipeCtx b;
    int calls;
} Pair;

static void remove_both_and_close(void *opaque)
{
    Pair *pair = opaque;

    pair->calls++;
    pipe_ctx_close(&pair->a);
    pipe_ctx_close(&pair->b);
}

/*
 * Both fds are ready in the same iteration; whichever runs first removes
 * the other and closes both, so exactly one handler runs.
 */
static void test_fd_handler_removes_other(void **state)
{
    Pair pair = { .calls = 0 };

    pipe_ctx_init(&pair.a);
    pipe_ctx_init(&pair.b);
    assert_int_equal(write(pair.a.fds[1], "a", 1), 1);
    assert_int_equal(write(pair.b.fds[1], "b", 1), 1);
    main_loop_set_fd_handler(pair.a.fds[0], remove_both_and_close, NULL,
                             &pair);
    main_loop_set_fd_handler(pair.b.fds[0], remove_both_and_close, NULL,
                             &pair);
    run_until(&pair.calls);
    run_ready();
    assert_int_equal(pair.calls, 1);
}

static void replaced_read(void *opaque)
{
    PipeCtx *p = opaque;

    read_one(p);
    p->writes += 100;
    main_loop_set_fd_handler(p->fds[0], NULL, NULL, NULL);
}

static void replacing_read(void *opaque)
{
    PipeCtx *p = opaque;

    read_one(p);
    main_loop_set_fd_handler(p->fds[0], replaced_read, NULL, p);
}

static void test_fd_handler_replaces_itself(void **state)
{
    PipeCtx p;

    pipe_ctx_init(&p);
    main_loop_set_fd_handler(p.fds[0], replacing_read, NULL, &p);
    assert_int_equal(write(p.fds[1], "12", 2), 2);
    while (p.reads < 2) {
        main_loop_wait(false);
    }
    assert_int_equal(p.last, '2');
    assert_int_equal(p.writes, 100);
    pipe_ctx_close(&p);
}

#define N_ORDERED 5

typedef struct TimerLog {
    int order[N_ORDERED];
    int fired;
    int64_t deadline[N_ORDERED];
    int64_t fired_at[N_ORDERED];
    ClockType clock;
} TimerLog;

typedef struct TimerSlot {
    TimerLog *log;
    int id;
} TimerSlot;

static void log_timer(void *opaque)
{
    TimerSlot *slot = opaque;
    TimerLog *log = slot->log;

    log->fired_at[slot->id] = clock_get_ns(log->clock);
    log->order[log->fired++] = slot->id;
}

static void check_timers_in_order(ClockType clock)
{
    /* Deadlines in ms, deliberately armed out of order. */
    static const int delay_ms[N_ORDERED] = { 40, 10, 30, 20, 50 };
    static const int expected[N_ORDERED] = { 1, 3, 2, 0, 4 };
    TimerLog log = { .fired = 0, .clock = clock };
    TimerSlot slots[N_ORDERED];
    Timer *timers[N_ORDERED];
    int64_t now = clock_get_ns(clock);

    for (int i = 0; i < N_ORDERED; i++) {
        slots[i] = (TimerSlot){ &log, i };
        timers[i] = timer_new_ns(clock, log_timer, &slots[i]);
        log.deadline[i] = now + delay_ms[i] * SCALE_MS;
        timer_mod_ns(timers[i], log.deadline[i]);
        assert_true(timer_pending(timers[i]));
        assert_int_equal(timer_expire_time_ns(timers[i]), log.deadline[i]);
    }
    while (log.fired < N_ORDERED) {
        main_loop_wait(false);
    }
    for (int i = 0; i < N_ORDERED; i++) {
        assert_int_equal(log.order[i], expected[i]);
        /* Never early, to the nanosecond. */
        assert_true(log.fired_at[i] >= log.deadline[i]);
        assert_false(timer_pending(timers[i]));
        assert_int_equal(timer_expire_time_ns(timers[i]), -1);
        timer_free(timers[i]);
    }
}

static void test_timers_fire_in_order_realtime(void **state)
{
    check_timers_in_order(CLOCK_TYPE_REALTIME);
}

static void test_timers_fire_in_order_host(void **state)
{
    check_timers_in_order(CLOCK_TYPE_HOST);
}

static void test_clocks(void **state)
{
    int64_t a = clock_get_ns(CLOCK_TYPE_REALTIME);
    int64_t b = clock_get_ns(CLOCK_TYPE_REALTIME);
    int64_t host_ms = clock_get_ms(CLOCK_TYPE_HOST);

    assert_true(b >= a);
    /* The host clock is the wall clock. */
    assert_true(llabs(host_ms - g_get_real_time() / 1000) < 60 * 1000);
}

static void set_flag(void *opaque)
{
    g_atomic_int_set((int *)opaque, 1);
}

static void test_timer_del_prevents_firing(void **state)
{
    int deleted_fired = 0, later_fired = 0, freed_fired = 0;
    Timer *deleted = timer_new_ms(CLOCK_TYPE_REALTIME, set_flag,
                                  &deleted_fired);
    Timer *freed = timer_new_ms(CLOCK_TYPE_REALTIME, set_flag, &freed_fired);
    Timer *later = timer_new_ms(CLOCK_TYPE_REALTIME, set_flag, &later_fired);
    int64_t now_ms = clock_get_ms(CLOCK_TYPE_REALTIME);

    timer_mod(deleted, now_ms + 5);
    timer_mod(freed, now_ms + 5);
    timer_mod(later, now_ms + 30);
    timer_del(deleted);
    timer_del(deleted);     /* deleting twice is harmless */
    timer_free(freed);
    assert_false(timer_pending(deleted));
    run_until(&later_fired);
    assert_false(deleted_fired);
    assert_false(freed_fired);
    timer_free(deleted);
    timer_free(later);
    timer_free(NULL);
}

static void test_timer_mod_rearms(void **state)
{
    int fired = 0, guard = 0;
    Timer *t = timer_new_us(CLOCK_TYPE_REALTIME, set_flag, &fired);
    Timer *g = timer_new_ms(CLOCK_TYPE_REALTIME, set_flag, &guard);
    int64_t now_ms = clock_get_ms(CLOCK_TYPE_REALTIME);

    /* Moved from before the guard to after it: only the guard fires. */
    timer_mod(t, now_ms * 1000 + 5000);
    timer_mod(g, now_ms + 20);
    timer_mod_ns(t, clock_get_ns(CLOCK_TYPE_REALTIME) +
                 3600 * NANOSECONDS_PER_SECOND);
    run_until(&guard);
    assert_false(fired);
    assert_true(timer_pending(t));
    /* A deadline in the past fires on the next iteration. */
    timer_mod_ns(t, 0);
    run_until(&fired);
    timer_free(t);
    timer_free(g);
}

typedef struct Periodic {
    Timer *timer;
    int count;
    int done;
} Periodic;

static void periodic_cb(void *opaque)
{
    Periodic *p = opaque;

    if (++p->count == 5) {
        /* Free our own timer from inside its callback. */
        timer_free(p->timer);
        p->timer = NULL;
        p->done = 1;
        return;
    }
    timer_mod_ns(p->timer, clock_get_ns(CLOCK_TYPE_REALTIME) + SCALE_MS);
}

static void test_timer_rearm_and_free_in_callback(void **state)
{
    Periodic p = { .count = 0 };

    p.timer = timer_new_ns(CLOCK_TYPE_REALTIME, periodic_cb, &p);
    timer_mod_ns(p.timer, clock_get_ns(CLOCK_TYPE_REALTIME));
    run_until(&p.done);
    assert_int_equal(p.count, 5);
}

typedef struct BHRun {
    Thread main_thread;
    int ran;
    int ran_in_main;
    int quit_after;
} BHRun;

static void bh_record(void *opaque)
{
    BHRun *r = opaque;

    r->ran_in_main = thread_is_self(&r->main_thread);
    if (++r->ran == r->quit_after) {
        main_loop_quit();
    }
}

static void *schedule_bh_from_thread(void *opaque)
{
    bh_schedule(opaque);
    return NULL;
}

static void test_bh_from_other_thread(void **state)
{
    BHRun r = { .ran = 0, .quit_after = 1 };
    BH *bh = bh_new(bh_record, &r);
    Thread t;

    thread_get_self(&r.main_thread);
    thread_create(&t, "scheduler", schedule_bh_from_thread, bh,
                  THREAD_JOINABLE);
    /* Blocks in poll with nothing else to do: only a wakeup ends it. */
    main_loop_run();
    thread_join(&t);
    assert_int_equal(r.ran, 1);
    assert_true(r.ran_in_main);
    assert_false(main_loop_is_running());
    bh_delete(bh);
}

#define N_ONESHOTS 100

static void *schedule_oneshots(void *opaque)
{
    for (int i = 0; i < N_ONESHOTS; i++) {
        bh_schedule_oneshot(bh_record, opaque);
    }
    return NULL;
}

static void test_bh_oneshot_from_thread(void **state)
{
    BHRun r = { .ran = 0, .quit_after = N_ONESHOTS };
    Thread t;

    thread_get_self(&r.main_thread);
    thread_create(&t, "oneshots", schedule_oneshots, &r, THREAD_JOINABLE);
    main_loop_run();
    thread_join(&t);
    assert_int_equal(r.ran, N_ONESHOTS);
    assert_true(r.ran_in_main);
}

static void test_bh_cancel(void **state)
{
    int cancelled_ran = 0, sentinel_ran = 0;
    BH *cancelled = bh_new(set_flag, &cancelled_ran);
    BH *sentinel = bh_new(set_flag, &sentinel_ran);

    bh_schedule(cancelled);
    bh_schedule(cancelled);     /* no-op while scheduled */
    bh_cancel(cancelled);
    bh_schedule(sentinel);
    run_until(&sentinel_ran);
    run_ready();
    assert_false(cancelled_ran);
    bh_cancel(cancelled);       /* cancelling an idle BH is harmless */
    bh_delete(cancelled);
    bh_delete(sentinel);
    bh_delete(NULL);
}

typedef struct SelfDelete {
    BH *bh;
    int runs;
} SelfDelete;

static void bh_delete_self(void *opaque)
{
    SelfDelete *sd = opaque;

    sd->runs++;
    bh_delete(sd->bh);
}

static void bh_reschedule_self(void *opaque)
{
    SelfDelete *sd = opaque;

    if (++sd->runs < 3) {
        bh_schedule(sd->bh);
    }
}

static void test_bh_delete_and_reschedule_in_callback(void **state)
{
    SelfDelete del = { .runs = 0 };
    SelfDelete again = { .runs = 0 };

    del.bh = bh_new(bh_delete_self, &del);
    bh_schedule(del.bh);
    run_until(&del.runs);
    run_ready();
    assert_int_equal(del.runs, 1);

    again.bh = bh_new(bh_reschedule_self, &again);
    bh_schedule(again.bh);
    while (again.runs < 3) {
        main_loop_wait(false);
    }
    run_ready();
    assert_int_equal(again.runs, 3);
    bh_delete(again.bh);
}

static void *quit_from_thread(void *opaque)
{
    main_loop_quit();
    return NULL;
}

static void test_quit_from_other_thread(void **state)
{
    Thread t;

    thread_create(&t, "quitter", quit_from_thread, NULL, THREAD_JOINABLE);
    main_loop_run();
    thread_join(&t);

    /* A quit issued before running still ends the next run. */
    main_loop_quit();
    main_loop_run();
    assert_false(main_loop_is_running());
}

typedef struct ArmFromThread {
    Timer *timer;
} ArmFromThread;

static void quit_cb(void *opaque)
{
    g_atomic_int_set((int *)opaque, 1);
    main_loop_quit();
}

static void *arm_timer_from_thread(void *opaque)
{
    ArmFromThread *a = opaque;

    timer_mod_ns(a->timer, clock_get_ns(CLOCK_TYPE_REALTIME));
    return NULL;
}

static void test_timer_armed_from_other_thread(void **state)
{
    int fired = 0;
    ArmFromThread a = {
        .timer = timer_new_ns(CLOCK_TYPE_REALTIME, quit_cb, &fired),
    };
    Thread t;

    thread_create(&t, "armer", arm_timer_from_thread, &a, THREAD_JOINABLE);
    main_loop_run();
    thread_join(&t);
    assert_true(fired);
    timer_free(a.timer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_read_handler),
        cmocka_unit_test(test_fd_write_handler),
        cmocka_unit_test(test_fd_handler_removes_itself),
        cmocka_unit_test(test_fd_handler_removes_other),
        cmocka_unit_test(test_fd_handler_replaces_itself),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_timers_fire_in_order_realtime),
        cmocka_unit_test(test_timers_fire_in_order_host),
        cmocka_unit_test(test_timer_del_prevents_firing),
        cmocka_unit_test(test_timer_mod_rearms),
        cmocka_unit_test(test_timer_rearm_and_free_in_callback),
        cmocka_unit_test(test_bh_from_other_thread),
        cmocka_unit_test(test_bh_oneshot_from_thread),
        cmocka_unit_test(test_bh_cancel),
        cmocka_unit_test(test_bh_delete_and_reschedule_in_callback),
        cmocka_unit_test(test_quit_from_other_thread),
        cmocka_unit_test(test_timer_armed_from_other_thread),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
