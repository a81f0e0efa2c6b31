/*
 * TEST_REQUIRE: skip a cmocka test case, naming what it needs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-require.h"

void test_require_unmet(const char *requirement, const char *file, int line)
{
    /*
     * One fixed form, on the stream cmocka reports the case on, so the
     * line sits just before the case's "[  SKIPPED ]".
     */
    print_message("SKIP: needs %s\n", requirement);
    _skip(file, line);
    /* _skip() longjmps out of the case, or exits outside of one. */
    abort();
}
