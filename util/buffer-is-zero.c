/*
 * Fast check that a memory range holds only zero bytes.
 *
 * Each implementation reads the possibly unaligned first and last vector
 * with unaligned loads and everything in between with aligned loads; the
 * overlap between them is harmless because we only OR bytes together.
 * Short buffers go to the plain C version, which has no minimum length.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "util/buffer-is-zero.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef uint64_t __attribute__((may_alias)) alias_u64;

/* Below this many bytes no vector version is worth its setup. */
#define VECTOR_MIN_LEN 64

static bool buffer_zero_bytes(const unsigned char *p, size_t len)
{
    unsigned char acc = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static bool buffer_zero_int(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    const alias_u64 *w, *end;
    uint64_t head, tail, acc;

    if (len < 2 * sizeof(uint64_t)) {
        return buffer_zero_bytes(p, len);
    }
    memcpy(&head, p, sizeof(head));
    memcpy(&tail, p + len - sizeof(tail), sizeof(tail));
    acc = head | tail;
    w = (const alias_u64 *)(((uintptr_t)p + 8) & ~(uintptr_t)7);
    end = (const alias_u64 *)(((uintptr_t)p + len) & ~(uintptr_t)7);
    while (acc == 0 && w + 4 <= end) {
        acc = w[0] | w[1] | w[2] | w[3];
        w += 4;
    }
    while (acc == 0 && w < end) {
        acc = *w++;
    }
    return acc == 0;
}

#if defined(__x86_64__)

static inline bool vec128_is_zero(__m128i v)
{
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()))
           == 0xffff;
}

/* Needs len >= 16.  SSE2 is part of the x86-64 baseline. */
static bool buffer_zero_sse2(const void *buf, size_t len)
{
    const char *p = buf;
    const __m128i *v = (const __m128i *)(((uintptr_t)p + 16) &
                                         ~(uintptr_t)15);
    const __m128i *end = (const __m128i *)(((uintptr_t)p + len) &
                                           ~(uintptr_t)15);
    __m128i acc = _mm_or_si128(
        _mm_loadu_si128((const __m128i *)p),
        _mm_loadu_si128((const __m128i *)(p + len - 16)));

    if (!vec128_is_zero(acc)) {
        return false;
    }
    for (; v + 4 <= end; v += 4) {
        acc = _mm_or_si128(_mm_or_si128(v[0], v[1]),
                           _mm_or_si128(v[2], v[3]));
        if (!vec128_is_zero(acc)) {
            return false;
        }
    }
    for (; v < end; v++) {
        acc = _mm_or_si128(acc, *v);
    }
    return vec128_is_zero(acc);
}

/* Needs len >= 32. */
static bool __attribute__((target("avx2")))
buffer_zero_avx2(const void *buf, size_t len)
{
    const char *p = buf;
    const __m256i *v = (const __m256i *)(((uintptr_t)p + 32) &
                                         ~(uintptr_t)31);
    const __m256i *end = (const __m256i *)(((uintptr_t)p + len) &
                                           ~(uintptr_t)31);
    __m256i acc = _mm256_or_si256(
        _mm256_loadu_si256((const __m256i *)p),
        _mm256_loadu_si256((const __m256i *)(p + len - 32)));

    if (!_mm256_testz_si256(acc, acc)) {
        return false;
    }
    for (; v + 4 <= end; v += 4) {
        acc = _mm256_or_si256(_mm256_or_si256(v[0], v[1]),
                              _mm256_or_si256(v[2], v[3]));
        if (!_mm256_testz_si256(acc, acc)) {
            return false;
        }
    }
    for (; v < end; v++) {
        acc = _mm256_or_si256(acc, *v);
    }
    return _mm256_testz_si256(acc, acc);
}

#endif /* __x86_64__ */

typedef bool BufferZeroFn(const void *buf, size_t len);

typedef struct BufferZeroAccel {
    const char *name;
    BufferZeroFn *fn;
    bool (*supported)(void);
} BufferZeroAccel;

static bool accel_always(void)
{
    return true;
}

#if defined(__x86_64__)
static bool accel_avx2_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#endif

/* Best first. */
static const BufferZeroAccel accels[] = {
#if defined(__x86_64__)
    { "avx2", buffer_zero_avx2, accel_avx2_supported },
    { "sse2", buffer_zero_sse2, accel_always },
#endif
    { "int", buffer_zero_int, accel_always },
};

#define N_ACCELS (sizeof(accels) / sizeof(accels[0]))

/*
 * Index into accels of the implementation in use.  Chosen once at load
 * time; buffer_is_zero_next_accel() only moves it down, for tests.
 * Read without a lock: the constructor runs before any other thread,
 * and the tests that move it run single-threaded.
 */
static size_t accel_index;

static void __attribute__((constructor)) buffer_zero_select_accel(void)
{
    size_t i = 0;

    while (!accels[i].supported()) {
        i++;
    }
    accel_index = i;
}

bool buffer_is_zero_next_accel(void)
{
    size_t i = accel_index + 1;

    while (i < N_ACCELS && !accels[i].supported()) {
        i++;
    }
    if (i >= N_ACCELS) {
        return false;
    }
    accel_index = i;
    return true;
}

void buffer_is_zero_reset_accel(void)
{
    buffer_zero_select_accel();
}

const char *buffer_is_zero_accel_name(void)
{
    return accels[accel_index].name;
}

bool buffer_is_zero(const void *buf, size_t len)
{
    if (len < VECTOR_MIN_LEN) {
        return buffer_zero_int(buf, len);
    }
    return accels[accel_index].fn(buf, len);
}
