/*
 * Output visitor: builds a jansson value from a QAPI C object.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_JSON_OUTPUT_VISITOR_H
#define QAPI_JSON_OUTPUT_VISITOR_H

#include <jansson.h>

#include "qapi/visitor.h"

/*
 * visit_complete(v, result) stores the built value in *@result (a new
 * reference owned by the caller).
 */
Visitor *json_output_visitor_new(json_t **result);

#endif /* QAPI_JSON_OUTPUT_VISITOR_H */
