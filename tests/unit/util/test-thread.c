/*
 * Tests for threads, mutexes, condition variables, semaphores and events.
 *
 * Waits that are expected to succeed have no deadline; only the
 * "times out" cases use short timeouts, so the tests do not depend on
 * scheduling speed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "util/thread.h"

static void *return_own_name(void *arg)
{
    return thread_get_name();
}

static void test_thread_name_and_join(void **state)
{
    Thread t;
    char *name;

    thread_create(&t, "worker", return_own_name, NULL, THREAD_JOINABLE);
    name = thread_join(&t);
    assert_string_equal(name, "worker");
    g_free(name);
}

static void test_thread_name_truncated(void **state)
{
    Thread t;
    char *name;

    thread_create(&t, "colo-checkpoint-sender", return_own_name, NULL,
                  THREAD_JOINABLE);
    name = thread_join(&t);
    assert_int_equal(strlen(name), THREAD_NAME_MAX);
    assert_string_equal(name, "colo-checkpoint");
    g_free(name);
}

static void *return_arg_plus_one(void *arg)
{
    return (void *)((uintptr_t)arg + 1);
}

static void test_thread_join_returns_value(void **state)
{
    Thread t;

    thread_create(&t, NULL, return_arg_plus_one, (void *)41,
                  THREAD_JOINABLE);
    assert_int_equal((uintptr_t)thread_join(&t), 42);
}

typedef struct DetachedCheck {
    Event done;
    bool was_self;
    Thread self_seen;
} DetachedCheck;

static void *detached_fn(void *arg)
{
    DetachedCheck *dc = arg;
    Thread me;

    thread_get_self(&me);
    dc->was_self = thread_is_self(&me);
    dc->self_seen = me;
    event_set(&dc->done);
    return NULL;
}

static void test_thread_detached(void **state)
{
    DetachedCheck dc = { .was_self = false };
    Thread t;

    event_init(&dc.done, false);
    thread_create(&t, "detached", detached_fn, &dc, THREAD_DETACHED);
    event_wait(&dc.done);
    assert_true(dc.was_self);
    assert_false(thread_is_self(&dc.self_seen));
    event_destroy(&dc.done);
}

#define N_COUNTERS 4
#define N_INCREMENTS 100000

typedef struct Counter {
    Mutex lock;
    long value;
} Counter;

static void *increment_many(void *arg)
{
    Counter *c = arg;

    for (int i = 0; i < N_INCREMENTS; i++) {
        mutex_lock(&c->lock);
        c->value++;
        mutex_unlock(&c->lock);
    }
    return NULL;
}

static void test_mutex_excludes(void **state)
{
    Counter c = { .value = 0 };
    Thread t[N_COUNTERS];

    mutex_init(&c.lock);
    for (int i = 0; i < N_COUNTERS; i++) {
        thread_create(&t[i], "incr", increment_many, &c, THREAD_JOINABLE);
    }
    for (int i = 0; i < N_COUNTERS; i++) {
        thread_join(&t[i]);
    }
    assert_int_equal(c.value, (long)N_COUNTERS * N_INCREMENTS);
    mutex_destroy(&c.lock);
}

static void *trylock_from_thread(void *arg)
{
    Mutex *m = arg;
    intptr_t ret = mutex_trylock(m);

    if (ret == 0) {
        mutex_unlock(m);
    }
    return (void *)ret;
}

static void test_mutex_trylock(void **state)
{
    Mutex m;
    Thread t;

    mutex_init(&m);
    mutex_lock(&m);
    thread_create(&t, "trylock", trylock_from_thread, &m, THREAD_JOINABLE);
    assert_int_equal((intptr_t)thread_join(&t), -EBUSY);
    mutex_unlock(&m);
    thread_create(&t, "trylock", trylock_from_thread, &m, THREAD_JOINABLE);
    assert_int_equal((intptr_t)thread_join(&t), 0);
    assert_int_equal(mutex_trylock(&m), 0);
    mutex_unlock(&m);
    mutex_destroy(&m);
}

typedef struct Mailbox {
    Mutex lock;
    Cond cond;
    int value;
    bool full;
} Mailbox;

static void *mailbox_post(void *arg)
{
    Mailbox *mb = arg;

    mutex_lock(&mb->lock);
    mb->value = 7;
    mb->full = true;
    cond_signal(&mb->cond);
    mutex_unlock(&mb->lock);
    return NULL;
}

static void test_cond_wait_signal(void **state)
{
    Mailbox mb = { .full = false };
    Thread t;

    mutex_init(&mb.lock);
    cond_init(&mb.cond);
    mutex_lock(&mb.lock);
    thread_create(&t, "poster", mailbox_post, &mb, THREAD_JOINABLE);
    while (!mb.full) {
        cond_wait(&mb.cond, &mb.lock);
    }
    assert_int_equal(mb.value, 7);
    mutex_unlock(&mb.lock);
    thread_join(&t);
    cond_destroy(&mb.cond);
    mutex_destroy(&mb.lock);
}

static void test_cond_timedwait_times_out(void **state)
{
    Mutex m;
    Cond c;
    gint64 start;

    mutex_init(&m);
    cond_init(&c);
    mutex_lock(&m);
    start = g_get_monotonic_time();
    assert_false(cond_timedwait(&c, &m, 20));
    assert_true(g_get_monotonic_time() - start >= 20 * 1000);
    /* The error-checking mutex aborts if we no longer own it. */
    mutex_unlock(&m);
    cond_destroy(&c);
    mutex_destroy(&m);
}

static void test_cond_timedwait_signalled(void **state)
{
    Mailbox mb = { .full = false };
    Thread t;
    bool signalled = true;

    mutex_init(&mb.lock);
    cond_init(&mb.cond);
    mutex_lock(&mb.lock);
    thread_create(&t, "poster", mailbox_post, &mb, THREAD_JOINABLE);
    /* A huge timeout: only a signal can end these waits in practice. */
    while (!mb.full && signalled) {
        signalled = cond_timedwait(&mb.cond, &mb.lock, 600 * 1000);
    }
    assert_true(signalled);
    assert_int_equal(mb.value, 7);
    mutex_unlock(&mb.lock);
    thread_join(&t);
    cond_destroy(&mb.cond);
    mutex_destroy(&mb.lock);
}

static void test_semaphore_counts(void **state)
{
    Semaphore sem;

    semaphore_init(&sem, 2);
    semaphore_wait(&sem);
    assert_int_equal(semaphore_timedwait(&sem, 0), 0);
    assert_int_equal(semaphore_timedwait(&sem, 0), -1);
    assert_int_equal(semaphore_timedwait(&sem, 20), -1);
    semaphore_post(&sem);
    semaphore_post(&sem);
    assert_int_equal(semaphore_timedwait(&sem, 20), 0);
    semaphore_wait(&sem);
    assert_int_equal(semaphore_timedwait(&sem, 0), -1);
    semaphore_destroy(&sem);
}

#define N_POSTS 1000

static void *post_many(void *arg)
{
    Semaphore *sem = arg;

    for (int i = 0; i < N_POSTS; i++) {
        semaphore_post(sem);
    }
    return NULL;
}

static void test_semaphore_cross_thread(void **state)
{
    Semaphore sem;
    Thread t;

    semaphore_init(&sem, 0);
    thread_create(&t, "poster", post_many, &sem, THREAD_JOINABLE);
    for (int i = 0; i < N_POSTS; i++) {
        if (i % 2) {
            semaphore_wait(&sem);
        } else {
            assert_int_equal(semaphore_timedwait(&sem, 600 * 1000), 0);
        }
    }
    thread_join(&t);
    /* Every post was consumed exactly once. */
    assert_int_equal(semaphore_timedwait(&sem, 0), -1);
    semaphore_destroy(&sem);
}

static void test_event_stays_set(void **state)
{
    Event ev;

    event_init(&ev, false);
    assert_false(event_is_set(&ev));
    assert_false(event_timedwait(&ev, 10));
    event_set(&ev);
    event_wait(&ev);
    event_wait(&ev);
    assert_true(event_timedwait(&ev, 0));
    assert_true(event_is_set(&ev));
    event_reset(&ev);
    assert_false(event_is_set(&ev));
    assert_false(event_timedwait(&ev, 10));
    event_destroy(&ev);

    event_init(&ev, true);
    event_wait(&ev);
    event_destroy(&ev);
}

#define N_WAITERS 4

typedef struct Gate {
    Event open;
    Semaphore arrived;
    Semaphore passed;
} Gate;

static void *wait_at_gate(void *arg)
{
    Gate *g = arg;

    semaphore_post(&g->arrived);
    event_wait(&g->open);
    semaphore_post(&g->passed);
    return NULL;
}

static void test_event_wakes_all_waiters(void **state)
{
    Gate g;
    Thread t[N_WAITERS];

    event_init(&g.open, false);
    semaphore_init(&g.arrived, 0);
    semaphore_init(&g.passed, 0);
    for (int i = 0; i < N_WAITERS; i++) {
        thread_create(&t[i], "waiter", wait_at_gate, &g, THREAD_JOINABLE);
    }
    for (int i = 0; i < N_WAITERS; i++) {
        semaphore_wait(&g.arrived);
    }
    /* Nobody gets through before the event is set. */
    assert_int_equal(semaphore_timedwait(&g.passed, 20), -1);
    event_set(&g.open);
    for (int i = 0; i < N_WAITERS; i++) {
        thread_join(&t[i]);
        semaphore_wait(&g.passed);
    }
    event_destroy(&g.open);
    semaphore_destroy(&g.arrived);
    semaphore_destroy(&g.passed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_name_and_join),
        cmocka_unit_test(test_thread_name_truncated),
        cmocka_unit_test(test_thread_join_returns_value),
        cmocka_unit_test(test_thread_detached),
        cmocka_unit_test(test_mutex_excludes),
        cmocka_unit_test(test_mutex_trylock),
        cmocka_unit_test(test_cond_wait_signal),
        cmocka_unit_test(test_cond_timedwait_times_out),
        cmocka_unit_test(test_cond_timedwait_signalled),
        cmocka_unit_test(test_semaphore_counts),
        cmocka_unit_test(test_semaphore_cross_thread),
        cmocka_unit_test(test_event_stays_set),
        cmocka_unit_test(test_event_wakes_all_waiters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
