/*
 * The records the COLO proxy sends between hosts over a chardev: the
 * primary's mirrored input to the secondary, the secondary's output to
 * the primary's comparer.  A byte stream cannot say where its bytes
 * belong, so each run of bytes travels with its stream position and
 * epoch:
 *
 *     be32 length   payload bytes, 1..PROXY_FRAME_MAX
 *     be32 epoch    the sender's stream epoch (ChardevStreamState)
 *     be64 pos      stream position of the first payload byte
 *     payload
 *
 * A reader that meets a length out of bounds stops taking records
 * until the connection is reset (the next record boundary is lost).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PROXY_FRAME_H
#define PROXY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define PROXY_FRAME_HEADER  16
#define PROXY_FRAME_MAX     4096

/*
 * Encode one record of @len (1..PROXY_FRAME_MAX) bytes into @out, which
 * has room for PROXY_FRAME_HEADER + @len bytes; returns the record's
 * size.
 */
size_t proxy_frame_encode(uint8_t *out, uint32_t epoch, uint64_t pos,
                          const uint8_t *buf, uint32_t len);

typedef void ProxyFrameFn(void *opaque, uint32_t epoch, uint64_t pos,
                          const uint8_t *buf, uint32_t len);

typedef struct ProxyFrameReader {
    uint8_t header[PROXY_FRAME_HEADER];
    size_t header_got;
    uint32_t len;
    uint32_t epoch;
    uint64_t pos;
    uint8_t payload[PROXY_FRAME_MAX];
    size_t payload_got;
    bool broken;            /* a bad length: ignore input until reset */
    uint64_t records;
} ProxyFrameReader;

/* Forget any partial record (a new connection starts clean). */
void proxy_frame_reader_reset(ProxyFrameReader *r);

/*
 * Take @len bytes of the stream, calling @fn for each complete record.
 * Returns false when the stream is (or just became) broken.
 */
bool proxy_frame_reader_feed(ProxyFrameReader *r, const uint8_t *buf,
                             size_t len, ProxyFrameFn *fn, void *opaque);

#endif /* PROXY_FRAME_H */
