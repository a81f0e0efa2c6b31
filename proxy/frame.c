/*
 * Encoding and incremental decoding of the COLO proxy's records
 * (include/proxy/frame.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "proxy/frame.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

size_t proxy_frame_encode(uint8_t *out, uint32_t epoch, uint64_t pos,
                          const uint8_t *buf, uint32_t len)
{
    g_assert(len >= 1 && len <= PROXY_FRAME_MAX);
    put_be32(out, len);
    put_be32(out + 4, epoch);
    put_be32(out + 8, pos >> 32);
    put_be32(out + 12, (uint32_t)pos);
    memcpy(out + PROXY_FRAME_HEADER, buf, len);
    return PROXY_FRAME_HEADER + len;
}

void proxy_frame_reader_reset(ProxyFrameReader *r)
{
    r->header_got = 0;
    r->payload_got = 0;
    r->broken = false;
}

/* The header is complete: check it and start the payload. */
static bool proxy_frame_header_done(ProxyFrameReader *r)
{
    r->len = get_be32(r->header);
    r->epoch = get_be32(r->header + 4);
    r->pos = (uint64_t)get_be32(r->header + 8) << 32 |
             get_be32(r->header + 12);
    if (r->len < 1 || r->len > PROXY_FRAME_MAX) {
        r->broken = true;
        return false;
    }
    r->payload_got = 0;
    return true;
}

bool proxy_frame_reader_feed(ProxyFrameReader *r, const uint8_t *buf,
                             size_t len, ProxyFrameFn *fn, void *opaque)
{
    while (len > 0 && !r->broken) {
        size_t n;

        if (r->header_got < PROXY_FRAME_HEADER) {
            n = MIN(len, PROXY_FRAME_HEADER - r->header_got);
            memcpy(r->header + r->header_got, buf, n);
            r->header_got += n;
            buf += n;
            len -= n;
            if (r->header_got == PROXY_FRAME_HEADER &&
                !proxy_frame_header_done(r)) {
                break;
            }
            continue;
        }
        n = MIN(len, r->len - r->payload_got);
        memcpy(r->payload + r->payload_got, buf, n);
        r->payload_got += n;
        buf += n;
        len -= n;
        if (r->payload_got == r->len) {
            r->header_got = 0;
            r->records++;
            fn(opaque, r->epoch, r->pos, r->payload, r->len);
        }
    }
    return !r->broken;
}
