/*
 * Bitmaps stored in arrays of unsigned long.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <glib.h>

#include "util/bitmap.h"

/* Mask of the bits at and above position start % BITS_PER_LONG. */
#define FIRST_WORD_MASK(start) (~0UL << ((start) % BITS_PER_LONG))
/* Mask of the bits of the last word that belong to an nbits-bit map. */
#define LAST_WORD_MASK(nbits) (~0UL >> (-(nbits) % BITS_PER_LONG))

unsigned long *bitmap_new(size_t nbits)
{
    return g_new0(unsigned long, BITS_TO_LONGS(nbits));
}

void bitmap_free(unsigned long *map)
{
    g_free(map);
}

void set_bit(size_t nr, unsigned long *map)
{
    map[BIT_WORD(nr)] |= BIT_MASK(nr);
}

void clear_bit(size_t nr, unsigned long *map)
{
    map[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

bool test_bit(size_t nr, const unsigned long *map)
{
    return map[BIT_WORD(nr)] & BIT_MASK(nr);
}

bool test_and_set_bit(size_t nr, unsigned long *map)
{
    bool old = test_bit(nr, map);

    set_bit(nr, map);
    return old;
}

void set_bit_atomic(size_t nr, unsigned long *map)
{
    __atomic_fetch_or(&map[BIT_WORD(nr)], BIT_MASK(nr), __ATOMIC_SEQ_CST);
}

void clear_bit_atomic(size_t nr, unsigned long *map)
{
    __atomic_fetch_and(&map[BIT_WORD(nr)], ~BIT_MASK(nr), __ATOMIC_SEQ_CST);
}

bool test_and_clear_bit_atomic(size_t nr, unsigned long *map)
{
    unsigned long old = __atomic_fetch_and(&map[BIT_WORD(nr)], ~BIT_MASK(nr),
                                           __ATOMIC_SEQ_CST);

    return old & BIT_MASK(nr);
}

/*
 * Walk the words covered by [start, start + nbits), calling op with each
 * word and the mask of the covered bits in it.
 */
typedef void WordOp(unsigned long *word, unsigned long mask);

static void bitmap_for_range(unsigned long *map, size_t start, size_t nbits,
                             WordOp *op)
{
    size_t end = start + nbits;
    size_t idx = BIT_WORD(start);
    unsigned long mask = FIRST_WORD_MASK(start);

    if (nbits == 0) {
        return;
    }
    while (idx < BIT_WORD(end - 1)) {
        op(&map[idx++], mask);
        mask = ~0UL;
    }
    op(&map[idx], mask & LAST_WORD_MASK(end));
}

static void word_set(unsigned long *word, unsigned long mask)
{
    *word |= mask;
}

static void word_clear(unsigned long *word, unsigned long mask)
{
    *word &= ~mask;
}

static void word_set_atomic(unsigned long *word, unsigned long mask)
{
    __atomic_fetch_or(word, mask, __ATOMIC_SEQ_CST);
}

void bitmap_set(unsigned long *map, size_t start, size_t nbits)
{
    bitmap_for_range(map, start, nbits, word_set);
}

void bitmap_clear(unsigned long *map, size_t start, size_t nbits)
{
    bitmap_for_range(map, start, nbits, word_clear);
}

void bitmap_set_atomic(unsigned long *map, size_t start, size_t nbits)
{
    bitmap_for_range(map, start, nbits, word_set_atomic);
}

bool bitmap_test_and_clear_atomic(unsigned long *map, size_t start,
                                  size_t nbits)
{
    size_t end = start + nbits;
    size_t idx = BIT_WORD(start);
    unsigned long mask = FIRST_WORD_MASK(start);
    unsigned long seen = 0;

    if (nbits == 0) {
        return false;
    }
    for (;;) {
        if (idx == BIT_WORD(end - 1)) {
            mask &= LAST_WORD_MASK(end);
        }
        if (mask == ~0UL) {
            seen |= __atomic_exchange_n(&map[idx], 0, __ATOMIC_SEQ_CST);
        } else {
            seen |= __atomic_fetch_and(&map[idx], ~mask, __ATOMIC_SEQ_CST)
                    & mask;
        }
        if (idx == BIT_WORD(end - 1)) {
            break;
        }
        idx++;
        mask = ~0UL;
    }
    return seen != 0;
}

void bitmap_zero(unsigned long *map, size_t nbits)
{
    memset(map, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

void bitmap_fill(unsigned long *map, size_t nbits)
{
    size_t words = BITS_TO_LONGS(nbits);

    if (words == 0) {
        return;
    }
    memset(map, 0xff, words * sizeof(unsigned long));
    map[words - 1] &= LAST_WORD_MASK(nbits);
}

void bitmap_copy(unsigned long *dst, const unsigned long *src, size_t nbits)
{
    memcpy(dst, src, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

bool bitmap_empty(const unsigned long *map, size_t nbits)
{
    return find_first_bit(map, nbits) == nbits;
}

bool bitmap_full(const unsigned long *map, size_t nbits)
{
    return find_first_zero_bit(map, nbits) == nbits;
}

bool bitmap_equal(const unsigned long *a, const unsigned long *b,
                  size_t nbits)
{
    size_t full = nbits / BITS_PER_LONG;
    size_t i;

    for (i = 0; i < full; i++) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    if (nbits % BITS_PER_LONG) {
        return !((a[full] ^ b[full]) & LAST_WORD_MASK(nbits));
    }
    return true;
}

size_t bitmap_count_one(const unsigned long *map, size_t nbits)
{
    size_t full = nbits / BITS_PER_LONG;
    size_t count = 0;
    size_t i;

    for (i = 0; i < full; i++) {
        count += __builtin_popcountl(map[i]);
    }
    if (nbits % BITS_PER_LONG) {
        count += __builtin_popcountl(map[full] & LAST_WORD_MASK(nbits));
    }
    return count;
}

/*
 * Shared scan: invert flips every word so that looking for a zero bit
 * becomes looking for a set bit.
 */
static size_t find_next(const unsigned long *map, size_t size,
                        size_t offset, unsigned long invert)
{
    size_t idx;
    unsigned long word;

    if (offset >= size) {
        return size;
    }
    idx = BIT_WORD(offset);
    word = (map[idx] ^ invert) & FIRST_WORD_MASK(offset);
    for (;;) {
        if (idx == BIT_WORD(size - 1)) {
            word &= LAST_WORD_MASK(size);
        }
        if (word) {
            return idx * BITS_PER_LONG + __builtin_ctzl(word);
        }
        if (idx == BIT_WORD(size - 1)) {
            return size;
        }
        word = map[++idx] ^ invert;
    }
}

size_t find_next_bit(const unsigned long *map, size_t size, size_t offset)
{
    return find_next(map, size, offset, 0);
}

size_t find_next_zero_bit(const unsigned long *map, size_t size,
                          size_t offset)
{
    return find_next(map, size, offset, ~0UL);
}

size_t find_first_bit(const unsigned long *map, size_t size)
{
    return find_next(map, size, 0, 0);
}

size_t find_first_zero_bit(const unsigned long *map, size_t size)
{
    return find_next(map, size, 0, ~0UL);
}
