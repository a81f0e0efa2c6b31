/*
 * Trace event registry and the -trace command-line option.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config-host.h"
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qapi/error.h"
#include "trace/control.h"
#include "trace/log.h"
#include "util/error-report.h"
#include "util/option.h"

/*
 * Groups register from constructors, before main() and before any other
 * thread exists, so the list needs no lock; it is never modified later.
 */
static TraceEventGroup *trace_groups;
static TraceEventGroup **trace_groups_tail = &trace_groups;
static uint32_t trace_next_id;

/*
 * The binary's own events (trace/trace.c) are in libutil.a, whose members
 * are only linked when something refers to them.  Trace points do not
 * when no backend needs the dstate (dtrace only), so refer to the table
 * here; its constructor then registers it like any other group.
 */
extern TraceEventGroup tracegroup_main;
static TraceEventGroup *const tracegroup_main_ref __attribute__((used)) =
    &tracegroup_main;

void trace_event_register_group(TraceEventGroup *group)
{
    for (TraceEvent *const *ev = group->events; *ev; ev++) {
        (*ev)->id = trace_next_id++;
    }
    group->next = NULL;
    *trace_groups_tail = group;
    trace_groups_tail = &group->next;
}

void trace_event_iter_init(TraceEventIter *iter, const char *pattern)
{
    iter->group = trace_groups;
    iter->index = 0;
    iter->pattern = pattern;
}

TraceEvent *trace_event_iter_next(TraceEventIter *iter)
{
    while (iter->group) {
        TraceEvent *ev = iter->group->events[iter->index];

        if (!ev) {
            iter->group = iter->group->next;
            iter->index = 0;
            continue;
        }
        iter->index++;
        if (!iter->pattern ||
            g_pattern_match_simple(iter->pattern, ev->name)) {
            return ev;
        }
    }
    return NULL;
}

TraceEvent *trace_event_find(const char *name)
{
    TraceEventIter iter;
    TraceEvent *ev;

    trace_event_iter_init(&iter, NULL);
    while ((ev = trace_event_iter_next(&iter))) {
        if (strcmp(ev->name, name) == 0) {
            return ev;
        }
    }
    return NULL;
}

bool trace_event_is_pattern(const char *str)
{
    return strchr(str, '*') != NULL;
}

size_t trace_event_count(void)
{
    TraceEventIter iter;
    size_t n = 0;

    trace_event_iter_init(&iter, NULL);
    while (trace_event_iter_next(&iter)) {
        n++;
    }
    return n;
}

void trace_event_set_state_dynamic(TraceEvent *ev, bool enable)
{
    if (ev->sstate) {
        __atomic_store_n(ev->dstate, enable ? 1 : 0, __ATOMIC_RELAXED);
    }
}

static size_t trace_enable_exact(const char *name, bool enable)
{
    TraceEvent *ev = trace_event_find(name);

    if (!ev) {
        warn_report("trace event '%s' does not exist", name);
        return 0;
    }
    if (!trace_event_get_state_static(ev)) {
        warn_report("trace event '%s' is not traceable", name);
        return 0;
    }
    trace_event_set_state_dynamic(ev, enable);
    return 1;
}

size_t trace_enable_events(const char *line)
{
    bool enable = line[0] != '-';
    const char *pattern = enable ? line : line + 1;
    TraceEventIter iter;
    TraceEvent *ev;
    size_t n = 0;

    if (!trace_event_is_pattern(pattern)) {
        return trace_enable_exact(pattern, enable);
    }
    trace_event_iter_init(&iter, pattern);
    while ((ev = trace_event_iter_next(&iter))) {
        if (trace_event_get_state_static(ev)) {
            trace_event_set_state_dynamic(ev, enable);
            n++;
        }
    }
    return n;
}

bool trace_enable_events_from_file(const char *path, Error **errp)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) gerr = NULL;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        error_setg(errp, "Cannot read trace events file: %s", gerr->message);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        g_strstrip(*line);
        if (**line && **line != '#') {
            trace_enable_events(*line);
        }
    }
    return true;
}

void trace_list_events(FILE *f)
{
    TraceEventIter iter;
    TraceEvent *ev;

    trace_event_iter_init(&iter, NULL);
    while ((ev = trace_event_iter_next(&iter))) {
        fprintf(f, "%s\n", ev->name);
    }
}

static const char *const trace_opt_keys[] = {
    "enable", "events", "file", NULL
};

/* Like opts_check_keys(), but names every unknown key at once. */
static bool trace_opt_check_keys(const OptList *opts, Error **errp)
{
    g_autoptr(GString) bad = g_string_new(NULL);
    size_t nbad = 0;
    const char *key;

    for (size_t i = 0; (key = opts_key_at(opts, i)); i++) {
        if (!g_strv_contains(trace_opt_keys, key)) {
            g_string_append_printf(bad, "%s'%s'", nbad ? ", " : "", key);
            nbad++;
        }
    }
    if (nbad) {
        error_setg(errp, "Invalid parameter%s %s (expected enable, events "
                   "or file)", nbad > 1 ? "s" : "", bad->str);
        return false;
    }
    return true;
}

bool trace_opt_parse(const char *optarg, Error **errp)
{
    g_autoptr(OptList) opts = opts_parse(optarg, "enable", errp);
    const char *value;

    if (!opts || !trace_opt_check_keys(opts, errp)) {
        return false;
    }
    if (opts_count(opts) == 0) {
        error_setg(errp, "-trace needs an event pattern, events=FILE or "
                   "file=PATH");
        return false;
    }
    if (opts_has(opts, "file") && !*opts_get(opts, "file")) {
        error_setg(errp, "Parameter 'file' expects a file name");
        return false;
    }
    value = opts_get(opts, "events");
    if (value && !trace_enable_events_from_file(value, errp)) {
        return false;
    }
    value = opts_get(opts, "enable");
    if (value && (!strcmp(value, "help") || !strcmp(value, "?"))) {
        /* Like -device help: answer the question and stop. */
        trace_list_events(stdout);
        exit(0);
    }
    if (value) {
        trace_enable_events(value);
    }
    /* Last, so an option with an error leaves the file unchanged. */
    if (opts_has(opts, "file")) {
        trace_log_set_file(opts_get(opts, "file"));
    }
    return true;
}

bool trace_init_backends(Error **errp)
{
    const char *path = trace_log_get_file();

    if (path && !CONFIG_TRACE_LOG) {
        error_setg(errp, "-trace file=%s: option not supported by the "
                   "selected tracing backends", path);
        return false;
    }
    return trace_log_open(errp);
}

void trace_cleanup(void)
{
    trace_log_close();
    trace_log_set_file(NULL);
}
