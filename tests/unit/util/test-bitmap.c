/*
 * Tests for bitmaps, checked against a bool-array model.
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

#include "util/bitmap.h"
#include "util/thread.h"

/* Sizes around word boundaries and not multiples of 64. */
static const size_t sizes[] = { 1, 2, 63, 64, 65, 127, 128, 129, 200, 1000 };

static void assert_matches_model(const unsigned long *map,
                                 const bool *model, size_t nbits)
{
    size_t count = 0;

    for (size_t i = 0; i < nbits; i++) {
        if (test_bit(i, map) != model[i]) {
            fail_msg("bit %zu of %zu: expected %d", i, nbits, model[i]);
        }
        count += model[i];
    }
    assert_int_equal(bitmap_count_one(map, nbits), count);
}

static void test_new_is_zero(void **state)
{
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
        unsigned long *map = bitmap_new(sizes[s]);

        assert_true(bitmap_empty(map, sizes[s]));
        assert_int_equal(bitmap_count_one(map, sizes[s]), 0);
        assert_int_equal(find_first_bit(map, sizes[s]), sizes[s]);
        assert_int_equal(find_first_zero_bit(map, sizes[s]), 0);
        bitmap_free(map);
    }
    bitmap_free(NULL);
}

static void test_set_clear_single(void **state)
{
    size_t nbits = 130;
    unsigned long *map = bitmap_new(nbits);
    static const size_t bits[] = { 0, 1, 63, 64, 65, 127, 128, 129 };

    for (size_t i = 0; i < G_N_ELEMENTS(bits); i++) {
        set_bit(bits[i], map);
        assert_true(test_bit(bits[i], map));
    }
    assert_int_equal(bitmap_count_one(map, nbits), G_N_ELEMENTS(bits));
    clear_bit(64, map);
    assert_false(test_bit(64, map));
    assert_true(test_bit(63, map));
    assert_true(test_bit(65, map));
    assert_false(test_and_set_bit(64, map));
    assert_true(test_and_set_bit(64, map));
    assert_true(test_and_clear_bit_atomic(64, map));
    assert_false(test_and_clear_bit_atomic(64, map));
    set_bit_atomic(2, map);
    assert_true(test_bit(2, map));
    clear_bit_atomic(2, map);
    assert_false(test_bit(2, map));
    bitmap_free(map);
}

/* Every range [start, start + len) of a 200-bit map against the model. */
static void test_set_clear_ranges(void **state)
{
    const size_t nbits = 200;
    unsigned long *map = bitmap_new(nbits);
    bool model[200];

    for (size_t start = 0; start <= nbits; start += 7) {
        for (size_t len = 0; start + len <= nbits; len += 5) {
            bitmap_zero(map, nbits);
            memset(model, 0, sizeof(model));
            bitmap_set(map, start, len);
            memset(model + start, 1, len);
            assert_matches_model(map, model, nbits);

            bitmap_fill(map, nbits);
            memset(model, 1, sizeof(model));
            bitmap_clear(map, start, len);
            memset(model + start, 0, len);
            assert_matches_model(map, model, nbits);

            bitmap_zero(map, nbits);
            memset(model, 0, sizeof(model));
            bitmap_set_atomic(map, start, len);
            memset(model + start, 1, len);
            assert_matches_model(map, model, nbits);
        }
    }
    bitmap_free(map);
}

static void test_fill_keeps_tail_clear(void **state)
{
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
        size_t nbits = sizes[s];
        unsigned long *map = bitmap_new(nbits);
        size_t words = BITS_TO_LONGS(nbits);

        bitmap_fill(map, nbits);
        assert_int_equal(bitmap_count_one(map, nbits), nbits);
        assert_true(bitmap_full(map, nbits));
        assert_int_equal(find_first_zero_bit(map, nbits), nbits);
        /* Whole-word popcount sees no bits past the end. */
        size_t total = 0;
        for (size_t w = 0; w < words; w++) {
            total += __builtin_popcountl(map[w]);
        }
        assert_int_equal(total, nbits);
        bitmap_zero(map, nbits);
        assert_true(bitmap_empty(map, nbits));
        bitmap_free(map);
    }
}

static void test_count_ignores_bits_past_size(void **state)
{
    unsigned long map[2] = { ~0UL, ~0UL };

    assert_int_equal(bitmap_count_one(map, 70), 70);
    assert_int_equal(bitmap_count_one(map, 64), 64);
    assert_int_equal(bitmap_count_one(map, 3), 3);
    assert_int_equal(bitmap_count_one(map, 0), 0);
    assert_true(bitmap_full(map, 70));
    map[1] = 0;
    assert_int_equal(find_next_zero_bit(map, 70, 0), 64);
    /* Garbage past the size must not be found. */
    map[1] = ~0UL << 6;
    assert_int_equal(find_next_bit(map, 70, 64), 70);
    assert_true(bitmap_equal(map, (unsigned long[2]){ ~0UL, 0 }, 70));
    assert_false(bitmap_equal(map, (unsigned long[2]){ ~0UL, 0 }, 71));
}

static void test_find_next(void **state)
{
    const size_t nbits = 300;
    unsigned long *map = bitmap_new(nbits);
    static const size_t bits[] = { 0, 5, 63, 64, 130, 191, 192, 299 };
    size_t i, pos;

    for (i = 0; i < G_N_ELEMENTS(bits); i++) {
        set_bit(bits[i], map);
    }
    assert_int_equal(find_first_bit(map, nbits), 0);
    /* Walking with find_next_bit visits exactly the set bits. */
    for (i = 0, pos = find_first_bit(map, nbits); pos < nbits;
         pos = find_next_bit(map, nbits, pos + 1), i++) {
        assert_true(i < G_N_ELEMENTS(bits));
        assert_int_equal(pos, bits[i]);
    }
    assert_int_equal(i, G_N_ELEMENTS(bits));
    assert_int_equal(find_next_bit(map, nbits, 300), 300);
    assert_int_equal(find_next_bit(map, nbits, 1000), 300);
    assert_int_equal(find_next_bit(map, 299, 193), 299);
    assert_int_equal(find_next_bit(map, nbits, 193), 299);

    bitmap_fill(map, nbits);
    for (i = 0; i < G_N_ELEMENTS(bits); i++) {
        clear_bit(bits[i], map);
    }
    for (i = 0, pos = find_first_zero_bit(map, nbits); pos < nbits;
         pos = find_next_zero_bit(map, nbits, pos + 1), i++) {
        assert_int_equal(pos, bits[i]);
    }
    assert_int_equal(i, G_N_ELEMENTS(bits));
    assert_int_equal(find_next_zero_bit(map, nbits, 65), 130);
    bitmap_free(map);
}

static void test_test_and_clear_atomic(void **state)
{
    const size_t nbits = 250;
    unsigned long *map = bitmap_new(nbits);

    assert_false(bitmap_test_and_clear_atomic(map, 0, nbits));
    set_bit(70, map);
    set_bit(130, map);
    set_bit(10, map);
    assert_false(bitmap_test_and_clear_atomic(map, 71, 59));
    assert_false(bitmap_test_and_clear_atomic(map, 70, 0));
    assert_true(bitmap_test_and_clear_atomic(map, 60, 80));
    assert_false(test_bit(70, map));
    assert_false(test_bit(130, map));
    /* Bits outside the range are untouched. */
    assert_true(test_bit(10, map));
    assert_int_equal(bitmap_count_one(map, nbits), 1);
    bitmap_fill(map, nbits);
    assert_true(bitmap_test_and_clear_atomic(map, 64, 128));
    assert_int_equal(bitmap_count_one(map, nbits), nbits - 128);
    assert_int_equal(find_first_zero_bit(map, nbits), 64);
    assert_int_equal(find_next_bit(map, nbits, 64), 192);
    bitmap_free(map);
}

static void test_copy_equal(void **state)
{
    const size_t nbits = 129;
    unsigned long *a = bitmap_new(nbits);
    unsigned long *b = bitmap_new(nbits);

    bitmap_set(a, 3, 100);
    assert_false(bitmap_equal(a, b, nbits));
    bitmap_copy(b, a, nbits);
    assert_true(bitmap_equal(a, b, nbits));
    clear_bit(128, a);
    set_bit(128, b);
    assert_false(bitmap_equal(a, b, nbits));
    assert_true(bitmap_equal(a, b, 128));
    bitmap_free(a);
    bitmap_free(b);
}

/*
 * Writers share every word: thread i sets bits i, i + N, i + 2N, ...,
 * so a non-atomic read-modify-write would lose bits.
 */
#define N_WRITERS 8
#define SHARED_BITS 100003

typedef struct Writer {
    unsigned long *map;
    size_t first;
} Writer;

static void *set_interleaved(void *arg)
{
    Writer *w = arg;

    for (size_t nr = w->first; nr < SHARED_BITS; nr += N_WRITERS) {
        set_bit_atomic(nr, w->map);
    }
    return NULL;
}

static void test_set_bit_atomic_concurrent(void **state)
{
    unsigned long *map = bitmap_new(SHARED_BITS);
    Writer w[N_WRITERS];
    Thread t[N_WRITERS];

    for (int i = 0; i < N_WRITERS; i++) {
        w[i].map = map;
        w[i].first = i;
        thread_create(&t[i], "bitmap-writer", set_interleaved, &w[i],
                      THREAD_JOINABLE);
    }
    for (int i = 0; i < N_WRITERS; i++) {
        thread_join(&t[i]);
    }
    assert_int_equal(bitmap_count_one(map, SHARED_BITS), SHARED_BITS);
    assert_true(bitmap_full(map, SHARED_BITS));
    bitmap_free(map);
}

/*
 * A producer sets one bit at a time and waits until a consumer, polling
 * with bitmap_test_and_clear_atomic() on another thread, has taken it.
 * A lost set would leave the consumer polling forever (test timeout); a
 * clear outside the range would remove the producer's guard bit.
 */
#define HARVEST_BITS 300
#define HARVEST_ROUNDS 2000
#define GUARD_BIT (HARVEST_BITS - 1)

typedef struct Harvest {
    unsigned long *map;
    Semaphore taken;
    size_t taken_count;
} Harvest;

static void *harvest(void *arg)
{
    Harvest *h = arg;

    while (h->taken_count < HARVEST_ROUNDS) {
        if (bitmap_test_and_clear_atomic(h->map, 0, GUARD_BIT)) {
            h->taken_count++;
            semaphore_post(&h->taken);
        }
    }
    return NULL;
}

static void test_harvest_concurrent(void **state)
{
    Harvest h = { .map = bitmap_new(HARVEST_BITS) };
    Thread consumer;

    semaphore_init(&h.taken, 0);
    set_bit_atomic(GUARD_BIT, h.map);
    thread_create(&consumer, "harvest", harvest, &h, THREAD_JOINABLE);
    for (size_t round = 0; round < HARVEST_ROUNDS; round++) {
        set_bit_atomic((round * 37) % GUARD_BIT, h.map);
        semaphore_wait(&h.taken);
    }
    thread_join(&consumer);
    assert_int_equal(h.taken_count, HARVEST_ROUNDS);
    assert_int_equal(bitmap_count_one(h.map, HARVEST_BITS), 1);
    assert_true(test_bit(GUARD_BIT, h.map));
    semaphore_destroy(&h.taken);
    bitmap_free(h.map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_zero),
        cmocka_unit_test(test_set_clear_single),
        cmocka_unit_test(test_set_clear_ranges),
        cmocka_unit_test(test_fill_keeps_tail_clear),
        cmocka_unit_test(test_count_ignores_bits_past_size),
        cmocka_unit_test(test_find_next),
        cmocka_unit_test(test_test_and_clear_atomic),
        cmocka_unit_test(test_copy_equal),
        cmocka_unit_test(test_set_bit_atomic_concurrent),
        cmocka_unit_test(test_harvest_concurrent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
