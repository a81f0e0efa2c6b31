/*
 * Event recording for the system unit tests: they are the emitter of
 * QAPI events instead of a QMP server.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "qapi/qmp-dispatch.h"
#include "system-test.h"
#include "util/main-loop.h"

static GPtrArray *events;      /* json_t *, owned */

static void event_unref(gpointer obj)
{
    json_decref(obj);
}

static void test_event_record(int event, json_t *event_obj)
{
    if (!events) {
        events = g_ptr_array_new_with_free_func(event_unref);
    }
    g_ptr_array_add(events, json_incref(event_obj));
}

void test_events_clear(void)
{
    if (events) {
        g_ptr_array_set_size(events, 0);
    }
}

unsigned test_events_count(void)
{
    return events ? events->len : 0;
}

const char *test_event_name(unsigned i)
{
    if (i >= test_events_count()) {
        return NULL;
    }
    return json_string_value(json_object_get(g_ptr_array_index(events, i),
                                             "event"));
}

json_t *test_event_data(unsigned i)
{
    if (i >= test_events_count()) {
        return NULL;
    }
    return json_object_get(g_ptr_array_index(events, i), "data");
}

char *test_events_joined(void)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < test_events_count(); i++) {
        g_string_append_printf(s, "%s%s", i ? " " : "", test_event_name(i));
    }
    return g_string_free(s, false);
}

void test_run_bhs(void)
{
    /* One iteration dispatches every BH already scheduled; a second
     * catches those the first ones scheduled. */
    main_loop_wait(true);
    main_loop_wait(true);
}

/* Before main(): the first event of a test is recorded too. */
static void __attribute__((constructor)) test_events_init(void)
{
    qapi_event_set_emitter(test_event_record);
}

static void __attribute__((destructor)) test_events_free(void)
{
    if (events) {
        g_ptr_array_free(events, true);
        events = NULL;
    }
}
