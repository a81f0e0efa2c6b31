/*
 * Dealloc visitor: frees a QAPI C object, also a partly built one.
 * The generated qapi_free_Foo() functions use it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_DEALLOC_VISITOR_H
#define QAPI_DEALLOC_VISITOR_H

#include "qapi/visitor.h"

Visitor *dealloc_visitor_new(void);

#endif /* QAPI_DEALLOC_VISITOR_H */
