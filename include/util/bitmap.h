/*
 * Bitmaps stored in arrays of unsigned long.
 *
 * Bit nr lives in word nr / BITS_PER_LONG at position nr % BITS_PER_LONG.
 * Bits past the requested size in the last word are kept clear by the
 * range functions, so whole-word scans and counts stay exact.
 * The plain functions are not thread-safe; the *_atomic ones may race
 * with each other on the same bitmap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_BITMAP_H
#define UTIL_BITMAP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITS_PER_LONG (sizeof(unsigned long) * CHAR_BIT)
#define BITS_TO_LONGS(nr) (((nr) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define BIT_WORD(nr) ((nr) / BITS_PER_LONG)
#define BIT_MASK(nr) (1UL << ((nr) % BITS_PER_LONG))

/* Allocate a zeroed bitmap of nbits bits; free with bitmap_free(). */
unsigned long *bitmap_new(size_t nbits);
void bitmap_free(unsigned long *map);

void set_bit(size_t nr, unsigned long *map);
void clear_bit(size_t nr, unsigned long *map);
bool test_bit(size_t nr, const unsigned long *map);
/* Safe against concurrent set_bit_atomic/clear_bit_atomic on map. */
void set_bit_atomic(size_t nr, unsigned long *map);
void clear_bit_atomic(size_t nr, unsigned long *map);
/* Clear bit nr and return whether it was set, atomically. */
bool test_and_clear_bit_atomic(size_t nr, unsigned long *map);
bool test_and_set_bit(size_t nr, unsigned long *map);

/* Set or clear the nbits bits starting at start. */
void bitmap_set(unsigned long *map, size_t start, size_t nbits);
void bitmap_clear(unsigned long *map, size_t start, size_t nbits);
/* Atomic bitmap_set(): concurrent writers may share words. */
void bitmap_set_atomic(unsigned long *map, size_t start, size_t nbits);
/*
 * Atomically clear the nbits bits starting at start; return true if any
 * of them was set.  Each word is exchanged atomically, so a bit set
 * concurrently is either reported here or left set for the next call.
 */
bool bitmap_test_and_clear_atomic(unsigned long *map, size_t start,
                                  size_t nbits);

void bitmap_zero(unsigned long *map, size_t nbits);
/* Set bits 0..nbits-1; bits past nbits in the last word stay clear. */
void bitmap_fill(unsigned long *map, size_t nbits);
void bitmap_copy(unsigned long *dst, const unsigned long *src, size_t nbits);
bool bitmap_empty(const unsigned long *map, size_t nbits);
bool bitmap_full(const unsigned long *map, size_t nbits);
bool bitmap_equal(const unsigned long *a, const unsigned long *b,
                  size_t nbits);
/* Number of set bits among the first nbits. */
size_t bitmap_count_one(const unsigned long *map, size_t nbits);

/*
 * Index of the first set (or clear) bit at or after offset, or size when
 * there is none.
 */
size_t find_next_bit(const unsigned long *map, size_t size, size_t offset);
size_t find_next_zero_bit(const unsigned long *map, size_t size,
                          size_t offset);
size_t find_first_bit(const unsigned long *map, size_t size);
size_t find_first_zero_bit(const unsigned long *map, size_t size);

#endif /* UTIL_BITMAP_H */
