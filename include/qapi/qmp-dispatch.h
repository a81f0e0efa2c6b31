/*
 * QMP command registry and dispatch.
 *
 * The generated qmp_init_marshal() registers one marshaller per schema
 * command; the monitor hands each parsed request to qmp_dispatch() and
 * sends back whatever it returns.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_QMP_DISPATCH_H
#define QAPI_QMP_DISPATCH_H

#include <stdbool.h>
#include <jansson.h>

#include "qapi/error.h"

/*
 * A marshaller: validates and converts @args (a JSON object, borrowed; may
 * be NULL when the request had no "arguments"), calls the qmp_* handler
 * and stores the JSON result in *@ret (a new reference) on success.
 */
typedef void QmpCommandFunc(json_t *args, json_t **ret, Error **errp);

typedef enum QmpCommandOptions {
    QCO_NO_OPTIONS = 0,
    QCO_NO_SUCCESS_RESP = 1u << 0,
    QCO_ALLOW_OOB = 1u << 1,
    QCO_ALLOW_PRECONFIG = 1u << 2,
} QmpCommandOptions;

/* Schema features that change how a command is treated. */
typedef enum QmpSpecialFeature {
    QAPI_DEPRECATED = 1u << 0,
    QAPI_UNSTABLE = 1u << 1,
} QmpSpecialFeature;

typedef struct QmpCommand {
    const char *name;
    QmpCommandFunc *fn;
    QmpCommandOptions options;
    unsigned special_features;
    bool enabled;
    const char *disable_reason;
} QmpCommand;

typedef struct QmpCommandList QmpCommandList;

QmpCommandList *qmp_command_list_new(void);
void qmp_command_list_free(QmpCommandList *cmds);

void qmp_register_command(QmpCommandList *cmds, const char *name,
                          QmpCommandFunc *fn, QmpCommandOptions options,
                          unsigned special_features);
const QmpCommand *qmp_find_command(const QmpCommandList *cmds,
                                   const char *name);
void qmp_disable_command(QmpCommandList *cmds, const char *name,
                         const char *disable_reason);
void qmp_enable_command(QmpCommandList *cmds, const char *name);
bool qmp_command_is_enabled(const QmpCommand *cmd);
bool qmp_has_success_response(const QmpCommand *cmd);

typedef void QmpCommandVisitFunc(const QmpCommand *cmd, void *opaque);
/* Visits the commands in registration order. */
void qmp_for_each_command(const QmpCommandList *cmds,
                          QmpCommandVisitFunc *fn, void *opaque);

/*
 * Execute one request.  @request is the parsed JSON value the client sent
 * (any type; borrowed).  Returns the response object to send, with "id"
 * copied from the request: {"return": ...} or {"error": {"class", "desc"}}.
 * Returns NULL only for a successful command registered with
 * QCO_NO_SUCCESS_RESP.  Never aborts on bad input.
 */
json_t *qmp_dispatch(const QmpCommandList *cmds, json_t *request,
                     bool allow_oob);

/* {"error": {"class": ..., "desc": ...}}; takes ownership of @err. */
json_t *qmp_error_response(Error *err);

/* {"event": @name, "timestamp": {"seconds": ..., "microseconds": ...}} */
json_t *qmp_event_build_dict(const char *name);

/*
 * Where the generated qapi_event_send_*() functions deliver an event:
 * @event_obj is borrowed.  The QMP server sets one at start-up; a
 * program without it (a unit test, a fuzzer) may set its own, and with
 * none set events are dropped.  Set before any thread may emit.
 */
typedef void QAPIEventEmitter(int event, json_t *event_obj);
void qapi_event_set_emitter(QAPIEventEmitter *emitter);

#endif /* QAPI_QMP_DISPATCH_H */
