/*
 * What the generated trace headers and event tables build on.
 *
 * This header is included by every file that uses trace points, so it
 * stays free of GLib and of the rest of the project.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRACE_EVENT_H
#define TRACE_EVENT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest event name tracetool.py accepts. */
#define TRACE_EVENT_NAME_MAX 128

typedef struct TraceEvent {
    const char *name;
    /*
     * Non-zero while the event is enabled: the only thing a trace_NAME()
     * call tests before returning, so a disabled event costs one load and
     * one branch predicted not taken.
     */
    uint16_t *dstate;
    /* Compiled with a backend that can be switched at run time (log). */
    bool sstate;
    /* Assigned when the group is registered: unique within the process. */
    uint32_t id;
} TraceEvent;

/* The events of one generated table, NULL-terminated. */
typedef struct TraceEventGroup {
    const char *name;
    TraceEvent *const *events;
    struct TraceEventGroup *next;
} TraceEventGroup;

/*
 * Relaxed atomic: a plain load on every common host, but free of data
 * races with the monitor thread that switches events on and off.
 */
static inline bool trace_dstate_get(const uint16_t *dstate)
{
    return __builtin_expect(__atomic_load_n(dstate, __ATOMIC_RELAXED) != 0,
                            0);
}

/*
 * The log backend: print "TID@SECONDS.MICROS:name " followed by fmt
 * (which ends with a newline) to the trace file or stderr, in a single
 * write so concurrent lines never interleave.
 */
void trace_log_event(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Called by each generated table at start-up. */
void trace_event_register_group(TraceEventGroup *group);

#endif /* TRACE_EVENT_H */
