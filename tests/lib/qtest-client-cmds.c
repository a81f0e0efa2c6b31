/*
 * qtest test client: typed requests and the parsing of their replies.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qtest-client.h"

/* Bytes moved per request by the memory helpers. */
#define QTEST_CLIENT_CHUNK (16 * 1024 * 1024)

/* "0x" and hex digits, nothing else, into @val. */
static bool parse_reply_u64(const char *text, uint64_t *val)
{
    char *end;

    if (!text || strncmp(text, "0x", 2) != 0 || !g_ascii_isxdigit(text[2])) {
        goto bad;
    }
    errno = 0;
    *val = strtoull(text, &end, 16);
    if (errno == 0 && *end == '\0') {
        return true;
    }
bad:
    if (text) {
        g_printerr("qtest: malformed value in reply '%.80s'\n", text);
    }
    return false;
}

static bool mem_read(QtestClient *qt, const char *cmd, uint64_t addr,
                     unsigned width, uint64_t *val)
{
    const char *text = qtest_cmd_ok(qt, "%s 0x%" PRIx64, cmd, addr);

    if (!parse_reply_u64(text, val)) {
        return false;
    }
    if (width < 8 && *val >> (8 * width)) {
        g_printerr("qtest: %s returned 0x%" PRIx64 ", too wide\n", cmd, *val);
        return false;
    }
    return true;
}

#define DEFINE_MEM_READ(name, type, width)                              \
    bool qtest_##name(QtestClient *qt, uint64_t addr, type *val)        \
    {                                                                   \
        uint64_t v;                                                     \
                                                                        \
        if (!mem_read(qt, #name, addr, width, &v)) {                    \
            return false;                                               \
        }                                                               \
        *val = v;                                                       \
        return true;                                                    \
    }

DEFINE_MEM_READ(readb, uint8_t, 1)
DEFINE_MEM_READ(readw, uint16_t, 2)
DEFINE_MEM_READ(readl, uint32_t, 4)
DEFINE_MEM_READ(readq, uint64_t, 8)

#define DEFINE_MEM_WRITE(name, type)                                    \
    bool qtest_##name(QtestClient *qt, uint64_t addr, type val)         \
    {                                                                   \
        return qtest_cmd_ok(qt, #name " 0x%" PRIx64 " 0x%" PRIx64,      \
                            addr, (uint64_t)val) != NULL;               \
    }

DEFINE_MEM_WRITE(writeb, uint8_t)
DEFINE_MEM_WRITE(writew, uint16_t)
DEFINE_MEM_WRITE(writel, uint32_t)
DEFINE_MEM_WRITE(writeq, uint64_t)

static bool parse_hex_bytes(const char *text, uint8_t *buf, size_t len)
{
    if (!text || strncmp(text, "0x", 2) != 0 ||
        strlen(text + 2) != 2 * len) {
        g_printerr("qtest: read reply has the wrong length\n");
        return false;
    }
    text += 2;
    for (size_t i = 0; i < len; i++) {
        int hi = g_ascii_xdigit_value(text[2 * i]);
        int lo = g_ascii_xdigit_value(text[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            g_printerr("qtest: read reply has a bad hex digit\n");
            return false;
        }
        buf[i] = hi << 4 | lo;
    }
    return true;
}

bool qtest_memread(QtestClient *qt, uint64_t addr, void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = MIN(len - done, QTEST_CLIENT_CHUNK);
        const char *text = qtest_cmd_ok(qt, "read 0x%" PRIx64 " %zu",
                                        addr + done, n);

        if (!parse_hex_bytes(text, (uint8_t *)buf + done, n)) {
            return false;
        }
        done += n;
    }
    return true;
}

static char *hex_encode(const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = g_malloc(2 * len + 1);

    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[buf[i] >> 4];
        hex[2 * i + 1] = digits[buf[i] & 0xf];
    }
    hex[2 * len] = '\0';
    return hex;
}

bool qtest_memwrite(QtestClient *qt, uint64_t addr, const void *buf,
                    size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = MIN(len - done, QTEST_CLIENT_CHUNK);
        g_autofree char *hex = hex_encode((const uint8_t *)buf + done, n);

        if (!qtest_cmd_ok(qt, "write 0x%" PRIx64 " %zu 0x%s", addr + done,
                          n, hex)) {
            return false;
        }
        done += n;
    }
    return true;
}

bool qtest_bufread(QtestClient *qt, uint64_t addr, void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = MIN(len - done, QTEST_CLIENT_CHUNK);
        const char *text = qtest_cmd_ok(qt, "b64read 0x%" PRIx64 " %zu",
                                        addr + done, n);
        g_autofree uint8_t *data = NULL;
        gsize got;

        if (!text) {
            return false;
        }
        data = g_base64_decode(text, &got);
        if (got != n) {
            g_printerr("qtest: b64read returned %zu bytes instead of %zu\n",
                       (size_t)got, n);
            return false;
        }
        memcpy((uint8_t *)buf + done, data, n);
        done += n;
    }
    return true;
}

bool qtest_bufwrite(QtestClient *qt, uint64_t addr, const void *buf,
                    size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = MIN(len - done, QTEST_CLIENT_CHUNK);
        g_autofree char *b64 = g_base64_encode((const uint8_t *)buf + done,
                                               n);

        if (!qtest_cmd_ok(qt, "b64write 0x%" PRIx64 " %zu %s", addr + done,
                          n, b64)) {
            return false;
        }
        done += n;
    }
    return true;
}

bool qtest_memset(QtestClient *qt, uint64_t addr, uint8_t val, uint64_t len)
{
    return qtest_cmd_ok(qt, "memset 0x%" PRIx64 " %" PRIu64 " 0x%02x",
                        addr, len, val) != NULL;
}

static bool port_in(QtestClient *qt, const char *cmd, uint16_t port,
                    unsigned width, uint32_t *val)
{
    const char *text = qtest_cmd_ok(qt, "%s 0x%x", cmd, port);
    uint64_t v;

    if (!parse_reply_u64(text, &v)) {
        return false;
    }
    if (v >> (8 * width)) {
        g_printerr("qtest: %s returned 0x%" PRIx64 ", too wide\n", cmd, v);
        return false;
    }
    *val = v;
    return true;
}

#define DEFINE_PORT_IN(name, type, width)                               \
    bool qtest_##name(QtestClient *qt, uint16_t port, type *val)        \
    {                                                                   \
        uint32_t v;                                                     \
                                                                        \
        if (!port_in(qt, #name, port, width, &v)) {                     \
            return false;                                               \
        }                                                               \
        *val = v;                                                       \
        return true;                                                    \
    }

DEFINE_PORT_IN(inb, uint8_t, 1)
DEFINE_PORT_IN(inw, uint16_t, 2)
DEFINE_PORT_IN(inl, uint32_t, 4)

#define DEFINE_PORT_OUT(name, type)                                     \
    bool qtest_##name(QtestClient *qt, uint16_t port, type val)         \
    {                                                                   \
        return qtest_cmd_ok(qt, #name " 0x%x 0x%" PRIx32, port,         \
                            (uint32_t)val) != NULL;                     \
    }

DEFINE_PORT_OUT(outb, uint8_t)
DEFINE_PORT_OUT(outw, uint16_t)
DEFINE_PORT_OUT(outl, uint32_t)

bool qtest_dirty_log_start(QtestClient *qt)
{
    return qtest_cmd_ok(qt, "dirty_log start") != NULL;
}

bool qtest_dirty_log_stop(QtestClient *qt)
{
    return qtest_cmd_ok(qt, "dirty_log stop") != NULL;
}

bool qtest_dirty_log_sync(QtestClient *qt)
{
    return qtest_cmd_ok(qt, "dirty_log sync") != NULL;
}

/* "COUNT[ IDX,IDX,...]" */
static bool parse_dirty_reply(const char *text, uint64_t *count,
                              GArray *pages)
{
    const char *p = text;
    char *end;

    errno = 0;
    *count = g_ascii_isdigit(*p) ? strtoull(p, &end, 10) : 0;
    if (!g_ascii_isdigit(*p) || errno) {
        goto bad;
    }
    p = end;
    if (*count && *p++ != ' ') {
        goto bad;
    }
    while (*p) {
        uint64_t page;

        if (!g_ascii_isdigit(*p)) {
            goto bad;
        }
        page = strtoull(p, &end, 10);
        g_array_append_val(pages, page);
        p = end;
        if (*p == ',') {
            p++;
        } else if (*p) {
            goto bad;
        }
    }
    if (pages->len > *count || (*count && !pages->len)) {
        goto bad;
    }
    return true;
bad:
    g_printerr("qtest: malformed dirty_pages reply '%.80s'\n", text);
    return false;
}

bool qtest_dirty_pages(QtestClient *qt, uint64_t addr, uint64_t len,
                       uint64_t *count, GArray **pages)
{
    const char *text = qtest_cmd_ok(qt, "dirty_pages 0x%" PRIx64
                                    " 0x%" PRIx64, addr, len);
    GArray *list = g_array_new(false, false, sizeof(uint64_t));

    if (!text || !parse_dirty_reply(text, count, list)) {
        g_array_unref(list);
        return false;
    }
    if (pages) {
        *pages = list;
    } else {
        g_array_unref(list);
    }
    return true;
}

GArray *qtest_dirty_pages_all(QtestClient *qt, uint64_t addr, uint64_t len)
{
    GArray *all = g_array_new(false, false, sizeof(uint64_t));
    uint64_t start = 0;     /* pages from @addr already covered */

    for (;;) {
        uint64_t off = start * QTEST_CLIENT_PAGE_SIZE;
        g_autoptr(GArray) pages = NULL;
        uint64_t count;

        if (!qtest_dirty_pages(qt, addr + off, len - off, &count, &pages)) {
            g_array_unref(all);
            return NULL;
        }
        for (guint i = 0; i < pages->len; i++) {
            uint64_t page = start + g_array_index(pages, uint64_t, i);

            g_array_append_val(all, page);
        }
        if (count == pages->len) {
            return all;
        }
        /* Capped (so the list is not empty): go on after its last page. */
        start += g_array_index(pages, uint64_t, pages->len - 1) + 1;
    }
}

bool qtest_dirty_clear(QtestClient *qt, uint64_t addr, uint64_t len)
{
    return qtest_cmd_ok(qt, "dirty_clear 0x%" PRIx64 " 0x%" PRIx64,
                        addr, len) != NULL;
}

int qtest_ram_compare(QtestClient *a, QtestClient *b, uint64_t addr,
                      uint64_t len, uint64_t *first_diff)
{
    g_autofree uint8_t *buf_a = g_malloc(MIN(len, QTEST_CLIENT_CHUNK));
    g_autofree uint8_t *buf_b = g_malloc(MIN(len, QTEST_CLIENT_CHUNK));

    for (uint64_t done = 0; done < len;) {
        size_t n = MIN(len - done, QTEST_CLIENT_CHUNK);

        if (!qtest_bufread(a, addr + done, buf_a, n) ||
            !qtest_bufread(b, addr + done, buf_b, n)) {
            return -1;
        }
        if (memcmp(buf_a, buf_b, n) != 0) {
            size_t i = 0;
            uint64_t diff;

            while (buf_a[i] == buf_b[i]) {
                i++;
            }
            diff = addr + done + i;
            g_printerr("qtest: RAM differs at 0x%" PRIx64 " (page 0x%"
                       PRIx64 "): 0x%02x vs 0x%02x\n", diff,
                       diff / QTEST_CLIENT_PAGE_SIZE, buf_a[i], buf_b[i]);
            if (first_diff) {
                *first_diff = diff;
            }
            return 1;
        }
        done += n;
    }
    return 0;
}
