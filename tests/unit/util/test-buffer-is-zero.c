/*
 * Tests for buffer_is_zero(), every implementation the CPU supports,
 * against a byte-by-byte reference.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "util/buffer-is-zero.h"

#define MAX_LEN 300
#define MAX_ALIGN 64

static const size_t alignments[] = { 0, 1, 3, 7, 8, 15, 16, 31, 32, 33, 63 };

static bool reference_is_zero(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Nonzero bytes surround the range so that reading outside it would
 * change the answer.
 */
static void check_all_positions(unsigned char *base, size_t align,
                                size_t len)
{
    unsigned char *buf = base + MAX_ALIGN + align;

    memset(base, 0xa5, MAX_ALIGN * 3 + MAX_LEN);
    memset(buf, 0, len);
    assert_true(reference_is_zero(buf, len));
    if (!buffer_is_zero(buf, len)) {
        fail_msg("%s: zero buffer len %zu align %zu reported nonzero",
                 buffer_is_zero_accel_name(), len, align);
    }
    for (size_t pos = 0; pos < len; pos++) {
        for (unsigned val = 1; val <= 0x80; val <<= 7) {
            buf[pos] = val;
            if (buffer_is_zero(buf, len)) {
                fail_msg("%s: byte %zu = 0x%x of len %zu align %zu missed",
                         buffer_is_zero_accel_name(), pos, val, len,
                         align);
            }
            buf[pos] = 0;
        }
    }
}

static void test_all_lengths_and_positions(void **state)
{
    g_autofree unsigned char *base = g_malloc(MAX_ALIGN * 3 + MAX_LEN);
    g_autoptr(GString) visited = g_string_new(NULL);

    buffer_is_zero_reset_accel();
    do {
        g_string_append_printf(visited, "%s ", buffer_is_zero_accel_name());
        for (size_t a = 0; a < G_N_ELEMENTS(alignments); a++) {
            for (size_t len = 0; len <= MAX_LEN; len++) {
                check_all_positions(base, alignments[a], len);
            }
        }
    } while (buffer_is_zero_next_accel());
    assert_string_equal(buffer_is_zero_accel_name(), "int");
#if defined(__x86_64__)
    /* SSE2 is part of x86-64, so the vector path was exercised. */
    assert_non_null(strstr(visited->str, "sse2 "));
    if (__builtin_cpu_supports("avx2")) {
        assert_string_equal(visited->str, "avx2 sse2 int ");
    }
#endif
    buffer_is_zero_reset_accel();
}

/* Exact-size heap blocks: ASan reports any read past the end. */
static void test_exact_allocations(void **state)
{
    buffer_is_zero_reset_accel();
    do {
        for (size_t len = 0; len <= MAX_LEN; len++) {
            unsigned char *buf = g_malloc0(len ? len : 1);

            assert_true(buffer_is_zero(buf, len));
            if (len) {
                buf[len - 1] = 1;
                assert_false(buffer_is_zero(buf, len));
            }
            g_free(buf);
        }
    } while (buffer_is_zero_next_accel());
    buffer_is_zero_reset_accel();
}

static void test_large_buffer(void **state)
{
    const size_t size = 1 << 20;
    g_autofree unsigned char *buf = g_malloc0(size + MAX_ALIGN);
    static const size_t spots[] = { 0, 1, 4095, 4096, 65537, (1 << 20) - 1 };

    buffer_is_zero_reset_accel();
    do {
        for (size_t a = 0; a < G_N_ELEMENTS(alignments); a++) {
            unsigned char *p = buf + alignments[a];

            assert_true(buffer_is_zero(p, size));
            for (size_t s = 0; s < G_N_ELEMENTS(spots); s++) {
                p[spots[s]] = 0x10;
                assert_false(buffer_is_zero(p, size));
                p[spots[s]] = 0;
            }
        }
    } while (buffer_is_zero_next_accel());
    buffer_is_zero_reset_accel();
}

static void test_null_with_zero_length(void **state)
{
    assert_true(buffer_is_zero(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_lengths_and_positions),
        cmocka_unit_test(test_exact_allocations),
        cmocka_unit_test(test_large_buffer),
        cmocka_unit_test(test_null_with_zero_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
