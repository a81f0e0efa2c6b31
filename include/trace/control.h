/*
 * Run-time control of trace events: lookup, patterns, -trace options.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRACE_CONTROL_H
#define TRACE_CONTROL_H

#include <stdio.h>
#include "qapi/error.h"
#include "trace/event.h"

/* Iterate over every registered event, or those matching a glob. */
typedef struct TraceEventIter {
    TraceEventGroup *group;
    size_t index;
    const char *pattern;
} TraceEventIter;

/* pattern may be NULL (all events); it must outlive the iteration. */
void trace_event_iter_init(TraceEventIter *iter, const char *pattern);
TraceEvent *trace_event_iter_next(TraceEventIter *iter);

/* The event with exactly this name, or NULL. */
TraceEvent *trace_event_find(const char *name);
/* Names with a '*' are globs ('?' matches one character inside them). */
bool trace_event_is_pattern(const char *str);
size_t trace_event_count(void);

static inline const char *trace_event_get_name(const TraceEvent *ev)
{
    return ev->name;
}

/* Whether the event can be enabled at all (compiled with the log backend). */
static inline bool trace_event_get_state_static(const TraceEvent *ev)
{
    return ev->sstate;
}

static inline bool trace_event_get_state_dynamic(const TraceEvent *ev)
{
    return trace_dstate_get(ev->dstate);
}

/* No effect on events whose static state is false. */
void trace_event_set_state_dynamic(TraceEvent *ev, bool enable);

/*
 * Enable the events matching line, or disable them when line starts
 * with '-'.  An exact name that does not exist or cannot be traced gets
 * a warning, as a typo on the command line should not go unnoticed.
 * Returns the number of events changed.
 */
size_t trace_enable_events(const char *line);

/* One pattern per line as above; blank lines and '#' comments skipped. */
bool trace_enable_events_from_file(const char *path, Error **errp);

/* Print the name of every event, one a line. */
void trace_list_events(FILE *f);

/*
 * -trace PATTERN | enable=PATTERN | events=FILE | file=PATH; keys may be
 * combined ("enable=qmp_*,file=/tmp/t.log") and the option repeated.
 * "-trace help" lists the events on stdout and exits the process.
 */
bool trace_opt_parse(const char *optarg, Error **errp);

/* Open the trace file given with file=, if any.  Call once after parsing. */
bool trace_init_backends(Error **errp);

/* Close the trace file (output goes back to stderr) and forget file=. */
void trace_cleanup(void);

#endif /* TRACE_CONTROL_H */
