/*
 * Input visitor: fills a QAPI C object from a jansson value.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_JSON_INPUT_VISITOR_H
#define QAPI_JSON_INPUT_VISITOR_H

#include <jansson.h>

#include "qapi/visitor.h"

/* @root is borrowed and must outlive the visitor. */
Visitor *json_input_visitor_new(json_t *root);

#endif /* QAPI_JSON_INPUT_VISITOR_H */
