/*
 * The envelope of a QMP event, and where events go: the layers that
 * emit them sit below the QMP server, so it registers itself here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/time.h>

#include "qapi/qapi-events.h"
#include "qapi/qmp-dispatch.h"

json_t *qmp_event_build_dict(const char *name)
{
    struct timeval tv;

    /* Wall-clock time: clients correlate events with their own logs. */
    gettimeofday(&tv, NULL);
    /* QEMU's member order, for clients that compare text. */
    return json_pack("{s:{s:I, s:I}, s:s}",
                     "timestamp",
                     "seconds", (json_int_t)tv.tv_sec,
                     "microseconds", (json_int_t)tv.tv_usec,
                     "event", name);
}

/*
 * Set at start-up and cleared at exit by the main thread (the monitor,
 * or a test), while no other thread emits; read without a lock in
 * between.  Emitting itself needs the BQL (see util/bql.h).
 */
static QAPIEventEmitter *event_emitter;

void qapi_event_set_emitter(QAPIEventEmitter *emitter)
{
    event_emitter = emitter;
}

void qapi_event_emit(QAPIEvent event, json_t *event_obj)
{
    if (event_emitter) {
        event_emitter(event, event_obj);
    }
}
