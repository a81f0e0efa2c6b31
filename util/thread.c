/*
 * Threads, mutexes, condition variables, semaphores and events.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>

#include "util/thread.h"

static void __attribute__((noreturn)) thread_die(int err, const char *what)
{
    fprintf(stderr, "thread: %s failed: %s\n", what, strerror(err));
    abort();
}

static void thread_check(int err, const char *what)
{
    if (err) {
        thread_die(err, what);
    }
}

/*
 * Absolute deadline ms from now on CLOCK_MONOTONIC, the clock our
 * condition variables are bound to, so date changes do not shorten or
 * stretch waits.
 */
static void deadline_after_ms(struct timespec *ts, int ms)
{
    if (ms < 0) {
        ms = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    thread_check(pthread_condattr_init(&attr), "pthread_condattr_init");
    thread_check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC),
                 "pthread_condattr_setclock");
    thread_check(pthread_cond_init(cond, &attr), "pthread_cond_init");
    pthread_condattr_destroy(&attr);
}

/* Returns false on timeout. */
static bool monotonic_cond_wait_until(pthread_cond_t *cond,
                                      pthread_mutex_t *lock,
                                      const struct timespec *deadline)
{
    int err = pthread_cond_timedwait(cond, lock, deadline);

    if (err == ETIMEDOUT) {
        return false;
    }
    thread_check(err, "pthread_cond_timedwait");
    return true;
}

typedef struct ThreadStart {
    void *(*fn)(void *);
    void *arg;
    char *name;
} ThreadStart;

static void *thread_start(void *opaque)
{
    ThreadStart *start = opaque;
    void *(*fn)(void *) = start->fn;
    void *arg = start->arg;

    /*
     * Naming from inside the thread avoids racing with a detached thread
     * that has already exited by the time the creator could name it.
     */
    if (start->name) {
        pthread_setname_np(pthread_self(), start->name);
    }
    g_free(start->name);
    g_free(start);
    return fn(arg);
}

void thread_create(Thread *thread, const char *name,
                   void *(*fn)(void *), void *arg, int mode)
{
    ThreadStart *start = g_new0(ThreadStart, 1);
    pthread_attr_t attr;

    start->fn = fn;
    start->arg = arg;
    start->name = name ? g_strndup(name, THREAD_NAME_MAX) : NULL;

    thread_check(pthread_attr_init(&attr), "pthread_attr_init");
    if (mode == THREAD_DETACHED) {
        thread_check(pthread_attr_setdetachstate(&attr,
                                                 PTHREAD_CREATE_DETACHED),
                     "pthread_attr_setdetachstate");
    }
    thread_check(pthread_create(&thread->thread, &attr, thread_start, start),
                 "pthread_create");
    pthread_attr_destroy(&attr);
}

void *thread_join(Thread *thread)
{
    void *ret;

    thread_check(pthread_join(thread->thread, &ret), "pthread_join");
    return ret;
}

void thread_get_self(Thread *thread)
{
    thread->thread = pthread_self();
}

bool thread_is_self(const Thread *thread)
{
    return pthread_equal(pthread_self(), thread->thread);
}

char *thread_get_name(void)
{
    char buf[THREAD_NAME_MAX + 1] = "";

    thread_check(pthread_getname_np(pthread_self(), buf, sizeof(buf)),
                 "pthread_getname_np");
    return g_strdup(buf);
}

void mutex_init(Mutex *mutex)
{
    pthread_mutexattr_t attr;

    /* Error checking turns lock misuse into an abort instead of a hang. */
    thread_check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    thread_check(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK),
                 "pthread_mutexattr_settype");
    thread_check(pthread_mutex_init(&mutex->lock, &attr),
                 "pthread_mutex_init");
    pthread_mutexattr_destroy(&attr);
}

void mutex_destroy(Mutex *mutex)
{
    thread_check(pthread_mutex_destroy(&mutex->lock), "pthread_mutex_destroy");
}

void mutex_lock(Mutex *mutex)
{
    thread_check(pthread_mutex_lock(&mutex->lock), "pthread_mutex_lock");
}

int mutex_trylock(Mutex *mutex)
{
    int err = pthread_mutex_trylock(&mutex->lock);

    if (err == EBUSY) {
        return -EBUSY;
    }
    thread_check(err, "pthread_mutex_trylock");
    return 0;
}

void mutex_unlock(Mutex *mutex)
{
    thread_check(pthread_mutex_unlock(&mutex->lock), "pthread_mutex_unlock");
}

void cond_init(Cond *cond)
{
    monotonic_cond_init(&cond->cond);
}

void cond_destroy(Cond *cond)
{
    thread_check(pthread_cond_destroy(&cond->cond), "pthread_cond_destroy");
}

void cond_signal(Cond *cond)
{
    thread_check(pthread_cond_signal(&cond->cond), "pthread_cond_signal");
}

void cond_broadcast(Cond *cond)
{
    thread_check(pthread_cond_broadcast(&cond->cond),
                 "pthread_cond_broadcast");
}

void cond_wait(Cond *cond, Mutex *mutex)
{
    thread_check(pthread_cond_wait(&cond->cond, &mutex->lock),
                 "pthread_cond_wait");
}

bool cond_timedwait(Cond *cond, Mutex *mutex, int ms)
{
    struct timespec deadline;

    deadline_after_ms(&deadline, ms);
    return monotonic_cond_wait_until(&cond->cond, &mutex->lock, &deadline);
}

void semaphore_init(Semaphore *sem, unsigned int init)
{
    thread_check(pthread_mutex_init(&sem->lock, NULL), "pthread_mutex_init");
    monotonic_cond_init(&sem->cond);
    sem->count = init;
}

void semaphore_destroy(Semaphore *sem)
{
    thread_check(pthread_cond_destroy(&sem->cond), "pthread_cond_destroy");
    thread_check(pthread_mutex_destroy(&sem->lock), "pthread_mutex_destroy");
}

void semaphore_post(Semaphore *sem)
{
    pthread_mutex_lock(&sem->lock);
    if (sem->count == UINT_MAX) {
        thread_die(EOVERFLOW, "semaphore_post");
    }
    sem->count++;
    pthread_cond_signal(&sem->cond);
    pthread_mutex_unlock(&sem->lock);
}

void semaphore_wait(Semaphore *sem)
{
    pthread_mutex_lock(&sem->lock);
    while (sem->count == 0) {
        thread_check(pthread_cond_wait(&sem->cond, &sem->lock),
                     "pthread_cond_wait");
    }
    sem->count--;
    pthread_mutex_unlock(&sem->lock);
}

int semaphore_timedwait(Semaphore *sem, int ms)
{
    struct timespec deadline;
    int ret = 0;

    deadline_after_ms(&deadline, ms);
    pthread_mutex_lock(&sem->lock);
    while (sem->count == 0) {
        if (!monotonic_cond_wait_until(&sem->cond, &sem->lock, &deadline)) {
            break;
        }
    }
    /* A post may land right at the deadline: take it rather than lose it. */
    if (sem->count > 0) {
        sem->count--;
    } else {
        ret = -1;
    }
    pthread_mutex_unlock(&sem->lock);
    return ret;
}

void event_init(Event *ev, bool init)
{
    thread_check(pthread_mutex_init(&ev->lock, NULL), "pthread_mutex_init");
    monotonic_cond_init(&ev->cond);
    ev->set = init;
}

void event_destroy(Event *ev)
{
    thread_check(pthread_cond_destroy(&ev->cond), "pthread_cond_destroy");
    thread_check(pthread_mutex_destroy(&ev->lock), "pthread_mutex_destroy");
}

void event_set(Event *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->set = true;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

void event_reset(Event *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->set = false;
    pthread_mutex_unlock(&ev->lock);
}

void event_wait(Event *ev)
{
    pthread_mutex_lock(&ev->lock);
    while (!ev->set) {
        thread_check(pthread_cond_wait(&ev->cond, &ev->lock),
                     "pthread_cond_wait");
    }
    pthread_mutex_unlock(&ev->lock);
}

bool event_timedwait(Event *ev, int ms)
{
    struct timespec deadline;
    bool set;

    deadline_after_ms(&deadline, ms);
    pthread_mutex_lock(&ev->lock);
    while (!ev->set) {
        if (!monotonic_cond_wait_until(&ev->cond, &ev->lock, &deadline)) {
            break;
        }
    }
    set = ev->set;
    pthread_mutex_unlock(&ev->lock);
    return set;
}

bool event_is_set(Event *ev)
{
    bool set;

    pthread_mutex_lock(&ev->lock);
    set = ev->set;
    pthread_mutex_unlock(&ev->lock);
    return set;
}
