/*
 * query-qmp-schema: the generated introspection data, as JSON.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qapi/json-input-visitor.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-introspect.h"

/* The command takes no arguments: reject any, with the usual texts. */
static bool check_no_arguments(json_t *args, Error **errp)
{
    Visitor *v;
    bool ok = false;

    if (!args) {
        return true;
    }
    v = json_input_visitor_new(args);
    if (visit_start_struct(v, NULL, NULL, 0, errp)) {
        ok = visit_check_struct(v, errp);
        visit_end_struct(v, NULL);
    }
    visit_free(v);
    return ok;
}

void qmp_query_qmp_schema(json_t *args, json_t **ret, Error **errp)
{
    json_error_t jerr;
    json_t *schema;

    if (!check_no_arguments(args, errp)) {
        return;
    }
    schema = json_loads(qmp_schema_json, 0, &jerr);
    if (!schema) {
        /* The text is generated at build time: this is a build bug. */
        error_setg(errp, "Introspection data is corrupt: %s (line %d)",
                   jerr.text, jerr.line);
        return;
    }
    *ret = schema;
}
