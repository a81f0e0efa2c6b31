/*
 * Executing one QMP request: validate its shape, find the command, run
 * its marshaller and build the response.  Texts are QEMU's, as clients
 * match on them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qapi/qmp-dispatch.h"
#include "trace/trace.h"

json_t *qmp_error_response(Error *err)
{
    json_t *error = json_pack("{s:s, s:s}",
                              "class",
                              error_class_str(error_get_class(err)),
                              "desc", error_get_pretty(err));
    json_t *resp = json_object();

    json_object_set_new(resp, "error", error);
    error_free(err);
    return resp;
}

/*
 * Check the members of a request.  "exec-oob" is only known when the
 * client enabled out-of-band execution; otherwise it is as unexpected
 * as any other member.  Returns the command name and sets *oob.
 */
static const char *check_request(json_t *request, bool allow_oob,
                                 bool *oob, Error **errp)
{
    const char *key, *command = NULL;
    json_t *value;

    json_object_foreach(request, key, value) {
        bool is_exec = !strcmp(key, "execute");
        bool is_oob = allow_oob && !strcmp(key, "exec-oob");

        if (is_exec || is_oob) {
            if (!json_is_string(value)) {
                error_setg(errp, "QMP input member '%s' must be a string",
                           key);
                return NULL;
            }
            if (command) {
                error_setg(errp, "QMP input member 'execute' clashes "
                           "with 'exec-oob'");
                return NULL;
            }
            command = json_string_value(value);
            *oob = is_oob;
        } else if (!strcmp(key, "arguments")) {
            if (!json_is_object(value)) {
                error_setg(errp, "QMP input member 'arguments' must be an "
                           "object");
                return NULL;
            }
        } else if (strcmp(key, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!command) {
        error_setg(errp, "QMP input lacks member 'execute'");
    }
    return command;
}

static const QmpCommand *find_runnable(const QmpCommandList *cmds,
                                       const char *name, bool oob,
                                       Error **errp)
{
    const QmpCommand *cmd = qmp_find_command(cmds, name);

    if (!cmd) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "The command %s has not been found", name);
        return NULL;
    }
    if (!cmd->enabled) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Command %s has been disabled%s%s", name,
                  cmd->disable_reason ? ": " : "",
                  cmd->disable_reason ? cmd->disable_reason : "");
        return NULL;
    }
    if (oob && !(cmd->options & QCO_ALLOW_OOB)) {
        error_setg(errp, "The command %s does not support OOB", name);
        return NULL;
    }
    return cmd;
}

/* Run the request; NULL and *errp set on failure. */
static json_t *dispatch_request(const QmpCommandList *cmds,
                                json_t *request, bool allow_oob,
                                bool *no_response, Error **errp)
{
    const QmpCommand *cmd;
    const char *name;
    json_t *ret = NULL;
    Error *err = NULL;
    bool oob = false;

    if (!json_is_object(request)) {
        error_setg(errp, "QMP input must be a JSON object");
        return NULL;
    }
    name = check_request(request, allow_oob, &oob, errp);
    if (!name) {
        return NULL;
    }
    cmd = find_runnable(cmds, name, oob, errp);
    if (!cmd) {
        return NULL;
    }
    trace_qmp_dispatch_command(name, oob);
    cmd->fn(json_object_get(request, "arguments"), &ret, &err);
    if (err) {
        trace_qmp_dispatch_failed(name, error_get_pretty(err));
        /* A failing marshaller must not leave a half-built result. */
        json_decref(ret);
        error_propagate(errp, err);
        return NULL;
    }
    if (!qmp_has_success_response(cmd)) {
        json_decref(ret);
        *no_response = true;
        return NULL;
    }
    return ret ? ret : json_object();
}

json_t *qmp_dispatch(const QmpCommandList *cmds, json_t *request,
                     bool allow_oob)
{
    Error *err = NULL;
    bool no_response = false;
    json_t *ret = dispatch_request(cmds, request, allow_oob, &no_response,
                                   &err);
    json_t *resp, *id;

    if (no_response) {
        return NULL;
    }
    if (err) {
        resp = qmp_error_response(err);
    } else {
        resp = json_object();
        json_object_set_new(resp, "return", ret);
    }
    id = json_is_object(request) ? json_object_get(request, "id") : NULL;
    if (id) {
        json_object_set(resp, "id", id);
    }
    return resp;
}
