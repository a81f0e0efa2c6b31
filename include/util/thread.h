/*
 * Threads and synchronisation primitives on top of pthreads.
 *
 * Failures of the underlying pthread calls are programming errors (bad
 * argument, destroyed object) and abort with a message.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_THREAD_H
#define UTIL_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define THREAD_JOINABLE 0
#define THREAD_DETACHED 1

/* Longest thread name the kernel keeps; longer names are truncated. */
#define THREAD_NAME_MAX 15

typedef struct Thread {
    pthread_t thread;
} Thread;

typedef struct Mutex {
    pthread_mutex_t lock;
} Mutex;

typedef struct Cond {
    pthread_cond_t cond;
} Cond;

typedef struct Semaphore {
    pthread_mutex_t lock;       /* protects count */
    pthread_cond_t cond;        /* signalled when count goes up */
    unsigned int count;
} Semaphore;

typedef struct Event {
    pthread_mutex_t lock;       /* protects set */
    pthread_cond_t cond;        /* broadcast when set becomes true */
    bool set;
} Event;

/*
 * Start fn(arg) in a new thread named name (at most THREAD_NAME_MAX
 * characters are kept).  mode is THREAD_JOINABLE or THREAD_DETACHED.
 */
void thread_create(Thread *thread, const char *name,
                   void *(*fn)(void *), void *arg, int mode);
/* Wait for a joinable thread and return what its function returned. */
void *thread_join(Thread *thread);
void thread_get_self(Thread *thread);
bool thread_is_self(const Thread *thread);
/* Name of the calling thread as the kernel knows it (caller frees). */
char *thread_get_name(void);

void mutex_init(Mutex *mutex);
void mutex_destroy(Mutex *mutex);
void mutex_lock(Mutex *mutex);
/* Returns 0 when the lock was taken, -EBUSY when it is held. */
int mutex_trylock(Mutex *mutex);
void mutex_unlock(Mutex *mutex);

/* Condition variables measure timeouts on the monotonic clock. */
void cond_init(Cond *cond);
void cond_destroy(Cond *cond);
void cond_signal(Cond *cond);
void cond_broadcast(Cond *cond);
void cond_wait(Cond *cond, Mutex *mutex);
/* Returns false on timeout (the mutex is held again either way). */
bool cond_timedwait(Cond *cond, Mutex *mutex, int ms);

void semaphore_init(Semaphore *sem, unsigned int init);
void semaphore_destroy(Semaphore *sem);
void semaphore_post(Semaphore *sem);
void semaphore_wait(Semaphore *sem);
/* Returns 0 after taking a unit, -1 when ms passed first. */
int semaphore_timedwait(Semaphore *sem, int ms);

/*
 * A manual-reset event: once set, every event_wait() returns at once
 * until event_reset().
 */
void event_init(Event *ev, bool init);
void event_destroy(Event *ev);
void event_set(Event *ev);
void event_reset(Event *ev);
void event_wait(Event *ev);
/* Returns false when ms passed without the event being set. */
bool event_timedwait(Event *ev, int ms);
bool event_is_set(Event *ev);

#endif /* UTIL_THREAD_H */
