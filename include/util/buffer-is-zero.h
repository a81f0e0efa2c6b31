/*
 * Fast check that a memory range holds only zero bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_BUFFER_IS_ZERO_H
#define UTIL_BUFFER_IS_ZERO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when all len bytes at buf are zero (len 0 is zero).  Any length
 * and alignment; uses SIMD when the CPU has it.
 */
bool buffer_is_zero(const void *buf, size_t len);

/*
 * For tests: switch to the next slower implementation the CPU supports
 * (false when the plain C one is already in use), name the current one,
 * and go back to the best one.
 */
bool buffer_is_zero_next_accel(void);
const char *buffer_is_zero_accel_name(void);
void buffer_is_zero_reset_accel(void);

#endif /* UTIL_BUFFER_IS_ZERO_H */
