/*
 * Serial output and input, the device tree reader and the few string
 * functions a freestanding compiler may call.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

void uart_putc(char c)
{
    /* The transmit register may still hold the previous byte. */
    while (!(inb(UART_LSR) & UART_LSR_THRE)) {
        cpu_relax();
    }
    outb(UART_THR, (uint8_t)c);
}

void uart_puts(const char *s)
{
    while (*s) {
        uart_putc(*s++);
    }
}

char uart_getc(void)
{
    while (!(inb(UART_LSR) & UART_LSR_DR)) {
        cpu_relax();
    }
    return (char)inb(UART_RBR);
}

/* The flattened device tree (devicetree specification, chapter 5). */
#define FDT_MAGIC           0xd00dfeedu
#define FDT_BEGIN_NODE      1u
#define FDT_END_NODE        2u
#define FDT_PROP            3u
#define FDT_NOP             4u
#define FDT_END             9u
/* The machine places the tree in [0x9000, 0x10000). */
#define FDT_MAX_SIZE        0x7000u

typedef struct FdtCursor {
    const uint8_t *blob;
    uint32_t pos;           /* offset of the next token */
    uint32_t limit;         /* end of the structure block */
    const char *strings;
    uint32_t strings_size;
} FdtCursor;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static uint32_t align4(uint32_t n)
{
    return (n + 3) & ~3u;
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* "memory" or "memory@<unit address>". */
static bool is_memory_node(const char *name)
{
    static const char prefix[] = "memory";
    size_t i;

    for (i = 0; i < sizeof(prefix) - 1; i++) {
        if (name[i] != prefix[i]) {
            return false;
        }
    }
    return name[i] == '\0' || name[i] == '@';
}

/* A string of the strings block, or NULL when it is not terminated. */
static const char *fdt_string(const FdtCursor *c, uint32_t off)
{
    uint32_t i;

    for (i = off; i < c->strings_size; i++) {
        if (c->strings[i] == '\0') {
            return c->strings + off;
        }
    }
    return NULL;
}

/* Reads @cells big-endian 32-bit cells (1 or 2) as one number. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
    uint64_t v = 0;
    uint32_t i;

    for (i = 0; i < cells; i++) {
        v = v << 32 | be32(p + 4 * i);
    }
    return v;
}

static uint64_t reg_end(const uint8_t *val, uint32_t len,
                        uint32_t addr_cells, uint32_t size_cells)
{
    uint32_t entry = 4 * (addr_cells + size_cells);
    uint64_t end = 0;
    uint32_t off;

    for (off = 0; off + entry <= len; off += entry) {
        uint64_t base = read_cells(val + off, addr_cells);
        uint64_t size = read_cells(val + off + 4 * addr_cells, size_cells);

        if (base + size > end) {
            end = base + size;
        }
    }
    return end;
}

static bool fdt_open(FdtCursor *c, const uint8_t *blob)
{
    uint32_t total = be32(blob + 4);
    uint32_t off_struct = be32(blob + 8);
    uint32_t off_strings = be32(blob + 12);
    uint32_t size_strings = be32(blob + 32);
    uint32_t size_struct = be32(blob + 36);

    if (be32(blob) != FDT_MAGIC || be32(blob + 20) < 17 ||
        total > FDT_MAX_SIZE || off_struct > total ||
        size_struct > total - off_struct || off_strings > total ||
        size_strings > total - off_strings) {
        return false;
    }
    c->blob = blob;
    c->pos = off_struct;
    c->limit = off_struct + size_struct;
    c->strings = (const char *)blob + off_strings;
    c->strings_size = size_strings;
    return true;
}

uint64_t fdt_memory_end(const void *fdt)
{
    FdtCursor c;
    uint32_t addr_cells = 2, size_cells = 1;    /* the specified defaults */
    unsigned depth = 0;
    bool in_memory = false;
    uint64_t end = 0;

    if (!fdt_open(&c, fdt)) {
        return 0;
    }
    while (c.pos + 4 <= c.limit) {
        uint32_t token = be32(c.blob + c.pos);

        c.pos += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)c.blob + c.pos;
            uint32_t len = 0;

            while (c.pos + len < c.limit && name[len]) {
                len++;
            }
            if (c.pos + len >= c.limit) {
                return 0;
            }
            c.pos += align4(len + 1);
            depth++;
            in_memory = depth == 2 && is_memory_node(name);
        } else if (token == FDT_END_NODE) {
            if (depth == 0) {
                return 0;
            }
            in_memory = false;
            if (--depth == 0) {
                return end;
            }
        } else if (token == FDT_PROP) {
            uint32_t len, nameoff;
            const uint8_t *val;
            const char *name;

            if (c.pos + 8 > c.limit) {
                return 0;
            }
            len = be32(c.blob + c.pos);
            nameoff = be32(c.blob + c.pos + 4);
            val = c.blob + c.pos + 8;
            if (len > c.limit - c.pos - 8) {
                return 0;
            }
            c.pos += 8 + align4(len);
            name = fdt_string(&c, nameoff);
            if (!name) {
                return 0;
            }
            if (depth == 1 && len == 4 && str_eq(name, "#address-cells")) {
                addr_cells = be32(val);
            } else if (depth == 1 && len == 4 &&
                       str_eq(name, "#size-cells")) {
                size_cells = be32(val);
            } else if (in_memory && str_eq(name, "reg")) {
                uint64_t e;

                if (addr_cells < 1 || addr_cells > 2 || size_cells < 1 ||
                    size_cells > 2) {
                    return 0;
                }
                e = reg_end(val, len, addr_cells, size_cells);
                end = e > end ? e : end;
            }
        } else if (token == FDT_END) {
            return end;
        } else if (token != FDT_NOP) {
            return 0;
        }
    }
    return 0;
}

void *memset(void *s, int c, size_t n)
{
    uint8_t *p = s;

    while (n--) {
        *p++ = (uint8_t)c;
    }
    return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;

    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x - *y;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n]) {
        n++;
    }
    return n;
}
