/*
 * Assertions on QMP replies shared by the QMP functional tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_FUNCTIONAL_QMP_ASSERT_H
#define TESTS_FUNCTIONAL_QMP_ASSERT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "qmp-test.h"

/* The transports every protocol test runs over. */
static unsigned qmp_transport_unix G_GNUC_UNUSED = QMPTEST_DEFAULT;
static unsigned qmp_transport_tcp G_GNUC_UNUSED = QMPTEST_TCP;

/* @reply is an error of @cls whose description is exactly @desc. */
#define assert_qmp_error(reply, cls, desc) do {                       \
        json_t *r_ = (reply);                                         \
        assert_non_null(r_);                                          \
        assert_null(qmptest_return(r_));                              \
        assert_string_equal(qmptest_error_class(r_), (cls));          \
        assert_string_equal(qmptest_error_desc(r_), (desc));          \
    } while (0)

/* Same, for descriptions that quote input or parser details. */
#define assert_qmp_error_prefix(reply, cls, prefix) do {              \
        json_t *r_ = (reply);                                         \
        assert_non_null(r_);                                          \
        assert_string_equal(qmptest_error_class(r_), (cls));          \
        assert_non_null(qmptest_error_desc(r_));                      \
        assert_true(g_str_has_prefix(qmptest_error_desc(r_), (prefix))); \
    } while (0)

/* @reply is {"return": {}} */
#define assert_qmp_empty_return(reply) do {                           \
        json_t *r_ = (reply);                                         \
        assert_non_null(r_);                                          \
        assert_true(json_is_object(qmptest_return(r_)));              \
        assert_int_equal(json_object_size(qmptest_return(r_)), 0);    \
    } while (0)

/* Start colo-vm for a fixture; the transport comes from the prestate. */
static inline int qmp_fixture_start(void **state, unsigned extra_flags)
{
    unsigned flags = *state ? *(unsigned *)*state : 0;
    QmpTestProc *vm = qmptest_start(NULL, flags | extra_flags);

    if (!vm) {
        return -1;
    }
    *state = vm;
    return 0;
}

static inline int qmp_fixture_stop(void **state)
{
    qmptest_free(*state);
    return 0;
}

#endif /* TESTS_FUNCTIONAL_QMP_ASSERT_H */
