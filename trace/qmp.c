/*
 * QMP commands trace-event-get-state, trace-event-set-state and
 * trace-event-list.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include "qapi/error.h"
#include "qapi/qapi-commands.h"
#include "qapi/util.h"
#include "trace/control.h"
#include "trace/trace.h"

/* There are no vCPU-specific events: any index names a missing vCPU. */
static bool trace_qmp_check_vcpu(bool has_vcpu, int64_t vcpu, Error **errp)
{
    if (has_vcpu) {
        error_setg(errp, "invalid vCPU index %" PRId64, vcpu);
        return false;
    }
    return true;
}

/*
 * An exact name must exist; unless ignore_unavailable, every event the
 * name selects must be switchable, so a command either applies to all of
 * them or to none.
 */
static bool trace_qmp_check_events(const char *name, bool ignore_unavailable,
                                   Error **errp)
{
    TraceEventIter iter;
    TraceEvent *ev;

    if (!trace_event_is_pattern(name) && !trace_event_find(name)) {
        error_setg(errp, "unknown event \"%s\"", name);
        return false;
    }
    if (ignore_unavailable) {
        return true;
    }
    /* An event name is a glob that matches only itself. */
    trace_event_iter_init(&iter, name);
    while ((ev = trace_event_iter_next(&iter))) {
        if (!trace_event_get_state_static(ev)) {
            error_setg(errp, "event \"%s\" is disabled", ev->name);
            return false;
        }
    }
    return true;
}

static TraceEventInfo *trace_qmp_event_info(const TraceEvent *ev)
{
    TraceEventInfo *info = g_new0(TraceEventInfo, 1);

    info->name = g_strdup(trace_event_get_name(ev));
    if (!trace_event_get_state_static(ev)) {
        info->state = TRACE_EVENT_STATE_UNAVAILABLE;
    } else if (trace_event_get_state_dynamic(ev)) {
        info->state = TRACE_EVENT_STATE_ENABLED;
    } else {
        info->state = TRACE_EVENT_STATE_DISABLED;
    }
    info->vcpu = false;
    return info;
}

static TraceEventInfoList *trace_qmp_list(const char *pattern)
{
    TraceEventInfoList *head = NULL, **tail = &head;
    TraceEventIter iter;
    TraceEvent *ev;

    trace_event_iter_init(&iter, pattern);
    while ((ev = trace_event_iter_next(&iter))) {
        QAPI_LIST_APPEND(tail, trace_qmp_event_info(ev));
    }
    return head;
}

TraceEventInfoList *qmp_trace_event_get_state(const char *name,
                                              bool has_vcpu, int64_t vcpu,
                                              Error **errp)
{
    if (!trace_qmp_check_vcpu(has_vcpu, vcpu, errp) ||
        !trace_qmp_check_events(name, true, errp)) {
        return NULL;
    }
    return trace_qmp_list(name);
}

void qmp_trace_event_set_state(const char *name, bool enable,
                               bool has_ignore_unavailable,
                               bool ignore_unavailable,
                               bool has_vcpu, int64_t vcpu, Error **errp)
{
    TraceEventIter iter;
    TraceEvent *ev;
    unsigned count = 0;

    if (!trace_qmp_check_vcpu(has_vcpu, vcpu, errp) ||
        !trace_qmp_check_events(name, has_ignore_unavailable &&
                                ignore_unavailable, errp)) {
        return;
    }
    trace_event_iter_init(&iter, name);
    while ((ev = trace_event_iter_next(&iter))) {
        if (trace_event_get_state_static(ev)) {
            trace_event_set_state_dynamic(ev, enable);
            count++;
        }
    }
    trace_qmp_trace_event_set_state(name, enable, count);
}

TraceEventInfoList *qmp_trace_event_list(Error **errp)
{
    return trace_qmp_list(NULL);
}
