/*
 * Fixture and assertions shared by the qtest functional tests: a
 * colo-vm under the qtest accelerator, with a QMP and a qtest
 * connection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_FUNCTIONAL_QTEST_FIXTURE_H
#define TESTS_FUNCTIONAL_QTEST_FIXTURE_H

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "qmp-test.h"
#include "qtest-client.h"

#define MiB ((uint64_t)1024 * 1024)
#define PAGE_SIZE ((uint64_t)4096)

typedef struct QtestFixture {
    QmpTestProc *vm;
    QtestClient *qt;
    uint64_t ram_size;
} QtestFixture;

/* Start colo-vm -accel qtest -m @ram_mib M @extra_args. */
static inline int qtest_fixture_start(void **state, unsigned ram_mib,
                                      const char *extra_args)
{
    g_autofree char *args = g_strdup_printf("-m %uM %s", ram_mib,
                                            extra_args ? extra_args : "");
    QtestFixture *f = g_new0(QtestFixture, 1);

    f->qt = qtest_start(args, &f->vm);
    if (!f->qt) {
        g_free(f);
        return -1;
    }
    f->ram_size = ram_mib * MiB;
    *state = f;
    return 0;
}

static inline int qtest_fixture_stop(void **state)
{
    QtestFixture *f = *state;

    qtest_client_free(f->qt);
    qmptest_free(f->vm);
    g_free(f);
    return 0;
}

/* The reply to @request is exactly @expected. */
#define assert_qtest_reply(qt, expected, ...) do {                    \
        g_autofree char *r_ = qtest_cmd((qt), __VA_ARGS__);           \
        assert_non_null(r_);                                          \
        assert_string_equal(r_, (expected));                          \
    } while (0)

/* The reply to @request starts with @prefix. */
#define assert_qtest_reply_prefix(qt, prefix, ...) do {               \
        g_autofree char *r_ = qtest_cmd((qt), __VA_ARGS__);           \
        assert_non_null(r_);                                          \
        if (!g_str_has_prefix(r_, (prefix))) {                        \
            fail_msg("reply '%s' does not start with '%s'", r_,       \
                     (prefix));                                       \
        }                                                             \
    } while (0)

/* Fill @buf with bytes from a fixed seed (reproducible failures). */
static inline void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    GRand *rand = g_rand_new_with_seed(seed);

    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = g_rand_int(rand);

        memcpy(buf + i, &v, MIN(4, len - i));
    }
    g_rand_free(rand);
}

#endif /* TESTS_FUNCTIONAL_QTEST_FIXTURE_H */
