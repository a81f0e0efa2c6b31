/*
 * qtest protocol commands: parse one request line, act on guest RAM or
 * the port I/O space, and format the reply.
 *
 * The replies follow QEMU's qtest byte for byte where QEMU succeeds.
 * Where QEMU asserts (malformed numbers, missing arguments, zero-sized
 * reads) or writes to unassigned memory, we answer "FAIL reason" and
 * the connection stays usable: a test must never be able to crash the
 * process it is testing.  docs/qtest.md lists the differences.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qapi/error.h"
#include "system/ioport.h"
#include "system/qtest.h"
#include "system/ram.h"
#include "trace/trace.h"

#include "qtest-int.h"

#define QTEST_MAX_WORDS 4

/* Long words (hex data) are cut in error messages. */
const char *qtest_quote_word(const char *word, char *buf, size_t size)
{
    if (strlen(word) < size) {
        return word;
    }
    g_snprintf(buf, size, "%.*s...", (int)(size - 4), word);
    return buf;
}

bool qtest_parse_u64(const char *what, const char *word, uint64_t *val,
                     Error **errp)
{
    char buf[QTEST_QUOTE_MAX];
    char *end;

    /* strtoull() would accept leading blanks and a minus sign. */
    if (!g_ascii_isdigit(word[0])) {
        goto bad;
    }
    errno = 0;
    *val = strtoull(word, &end, 0);
    if (errno == 0 && *end == '\0') {
        return true;
    }
bad:
    error_setg(errp, "%s '%s' is not a valid number", what,
               qtest_quote_word(word, buf, sizeof(buf)));
    return false;
}

static bool parse_bounded(const char *what, const char *word, uint64_t max,
                          uint64_t *val, Error **errp)
{
    if (!qtest_parse_u64(what, word, val, errp)) {
        return false;
    }
    if (*val > max) {
        error_setg(errp, "%s 0x%" PRIx64 " is larger than 0x%" PRIx64,
                   what, *val, max);
        return false;
    }
    return true;
}

/* The value of an access of @width bytes (1, 2, 4 or 8). */
static bool parse_value(const char *word, unsigned width, uint64_t *val,
                        Error **errp)
{
    uint64_t max = width == 8 ? UINT64_MAX : (1ULL << (width * 8)) - 1;

    return parse_bounded("value", word, max, val, errp);
}

static bool parse_size(const char *word, uint64_t *size, Error **errp)
{
    return parse_bounded("size", word, QTEST_MAX_ACCESS, size, errp);
}

/*
 * Guest RAM is little-endian whatever the host: assemble values a byte
 * at a time.
 */
static uint64_t load_le(const uint8_t *buf, unsigned width)
{
    uint64_t val = 0;

    for (unsigned i = 0; i < width; i++) {
        val |= (uint64_t)buf[i] << (8 * i);
    }
    return val;
}

static void store_le(uint8_t *buf, uint64_t val, unsigned width)
{
    for (unsigned i = 0; i < width; i++) {
        buf[i] = val >> (8 * i);
    }
}

static bool cmd_mem_read(const QtestCmd *cmd, char **args, GString *reply,
                         Error **errp)
{
    uint8_t buf[8];
    uint64_t addr;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !ram_read(addr, buf, cmd->width, errp)) {
        return false;
    }
    g_string_append_printf(reply, "OK 0x%016" PRIx64,
                           load_le(buf, cmd->width));
    return true;
}

static bool cmd_mem_write(const QtestCmd *cmd, char **args, GString *reply,
                          Error **errp)
{
    uint8_t buf[8];
    uint64_t addr, val;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !parse_value(args[1], cmd->width, &val, errp)) {
        return false;
    }
    store_le(buf, val, cmd->width);
    if (!ram_write(addr, buf, cmd->width, errp)) {
        return false;
    }
    g_string_append(reply, "OK");
    return true;
}

static bool parse_nonzero_size(const char *word, uint64_t *size,
                               Error **errp)
{
    if (!parse_size(word, size, errp)) {
        return false;
    }
    if (*size == 0) {
        error_setg(errp, "size must not be zero");
        return false;
    }
    return true;
}

static void append_hex(GString *reply, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t start = reply->len;
    char *out;

    g_string_set_size(reply, start + 2 * len);
    out = reply->str + start;
    for (size_t i = 0; i < len; i++) {
        *out++ = digits[buf[i] >> 4];
        *out++ = digits[buf[i] & 0xf];
    }
}

static bool cmd_read(const QtestCmd *cmd, char **args, GString *reply,
                     Error **errp)
{
    g_autofree uint8_t *buf = NULL;
    uint64_t addr, size;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !parse_nonzero_size(args[1], &size, errp)) {
        return false;
    }
    buf = g_malloc(size);
    if (!ram_read(addr, buf, size, errp)) {
        return false;
    }
    g_string_append(reply, "OK 0x");
    append_hex(reply, buf, size);
    return true;
}

/*
 * "0x" then at most 2 * @size hex digits; like QEMU, missing trailing
 * bytes are zero (and an odd last digit is ignored).
 */
static bool parse_hex_data(const char *word, uint8_t *buf, uint64_t size,
                           Error **errp)
{
    size_t ndigits;

    if (word[0] != '0' || (word[1] != 'x' && word[1] != 'X')) {
        error_setg(errp, "data must start with 0x");
        return false;
    }
    word += 2;
    ndigits = strlen(word);
    if (ndigits > 2 * size) {
        error_setg(errp, "%zu hex digits do not fit in %" PRIu64 " bytes",
                   ndigits, size);
        return false;
    }
    memset(buf, 0, size);
    for (size_t i = 0; i < ndigits; i++) {
        int nib = g_ascii_xdigit_value(word[i]);

        if (nib < 0) {
            error_setg(errp, "invalid hex digit '%c' in data", word[i]);
            return false;
        }
        if (i / 2 < size && (i | 1) < ndigits) {
            buf[i / 2] |= nib << (i % 2 ? 0 : 4);
        }
    }
    return true;
}

static bool cmd_write(const QtestCmd *cmd, char **args, GString *reply,
                      Error **errp)
{
    g_autofree uint8_t *buf = NULL;
    uint64_t addr, size;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !parse_nonzero_size(args[1], &size, errp)) {
        return false;
    }
    buf = g_malloc(size);
    if (!parse_hex_data(args[2], buf, size, errp) ||
        !ram_write(addr, buf, size, errp)) {
        return false;
    }
    g_string_append(reply, "OK");
    return true;
}

static bool cmd_memset(const QtestCmd *cmd, char **args, GString *reply,
                       Error **errp)
{
    uint64_t addr, size, val;

    /* No buffer is involved: any range inside RAM is fine. */
    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !qtest_parse_u64("size", args[1], &size, errp) ||
        !parse_value(args[2], 1, &val, errp)) {
        return false;
    }
    if (size && !ram_memset(addr, val, size, errp)) {
        return false;
    }
    g_string_append(reply, "OK");
    return true;
}

static bool cmd_b64read(const QtestCmd *cmd, char **args, GString *reply,
                        Error **errp)
{
    g_autofree uint8_t *buf = NULL;
    g_autofree char *b64 = NULL;
    uint64_t addr, size;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !parse_size(args[1], &size, errp)) {
        return false;
    }
    buf = g_malloc(size ? size : 1);
    if (size && !ram_read(addr, buf, size, errp)) {
        return false;
    }
    b64 = g_base64_encode(buf, size);
    g_string_append_printf(reply, "OK %s", b64);
    return true;
}

/*
 * g_base64_decode() skips characters it does not know, so the text is
 * checked first: groups of four from the alphabet, '=' only as padding.
 */
static bool check_base64(const char *text, Error **errp)
{
    size_t len = strlen(text);
    size_t pad = 0;

    if (len % 4) {
        error_setg(errp, "base64 data length %zu is not a multiple of 4",
                   len);
        return false;
    }
    while (pad < 2 && pad < len && text[len - 1 - pad] == '=') {
        pad++;
    }
    for (size_t i = 0; i < len - pad; i++) {
        if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '/') {
            error_setg(errp, "invalid base64 character '%c'", text[i]);
            return false;
        }
    }
    return true;
}

static bool cmd_b64write(const QtestCmd *cmd, char **args, GString *reply,
                         Error **errp)
{
    g_autofree uint8_t *buf = NULL;
    uint64_t addr, size;
    gsize len;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !parse_nonzero_size(args[1], &size, errp) ||
        !check_base64(args[2], errp)) {
        return false;
    }
    buf = g_base64_decode(args[2], &len);
    if (len != size) {
        /* QEMU writes the shorter of the two; a mismatch is a bug. */
        error_setg(errp, "data length mismatch (told %" PRIu64
                   ", found %zu)", size, (size_t)len);
        return false;
    }
    if (!ram_write(addr, buf, size, errp)) {
        return false;
    }
    g_string_append(reply, "OK");
    return true;
}

static bool parse_port(const char *word, unsigned width, uint16_t *port,
                       Error **errp)
{
    uint64_t val;

    if (!parse_bounded("port", word, 0x10000 - width, &val, errp)) {
        return false;
    }
    *port = val;
    return true;
}

static bool cmd_port_in(const QtestCmd *cmd, char **args, GString *reply,
                        Error **errp)
{
    uint16_t port;

    if (!parse_port(args[0], cmd->width, &port, errp)) {
        return false;
    }
    g_string_append_printf(reply, "OK 0x%04" PRIx64,
                           ioport_read(port, cmd->width));
    return true;
}

static bool cmd_port_out(const QtestCmd *cmd, char **args, GString *reply,
                         Error **errp)
{
    uint16_t port;
    uint64_t val;

    if (!parse_port(args[0], cmd->width, &port, errp) ||
        !parse_value(args[1], cmd->width, &val, errp)) {
        return false;
    }
    ioport_write(port, val, cmd->width);
    g_string_append(reply, "OK");
    return true;
}

static bool cmd_endianness(const QtestCmd *cmd, char **args, GString *reply,
                           Error **errp)
{
    g_string_append(reply, "OK little");
    return true;
}

static const QtestCmd qtest_cmds[] = {
    { "readb", "ADDR", 1, 1, cmd_mem_read },
    { "readw", "ADDR", 1, 2, cmd_mem_read },
    { "readl", "ADDR", 1, 4, cmd_mem_read },
    { "readq", "ADDR", 1, 8, cmd_mem_read },
    { "writeb", "ADDR VALUE", 2, 1, cmd_mem_write },
    { "writew", "ADDR VALUE", 2, 2, cmd_mem_write },
    { "writel", "ADDR VALUE", 2, 4, cmd_mem_write },
    { "writeq", "ADDR VALUE", 2, 8, cmd_mem_write },
    { "read", "ADDR SIZE", 2, 0, cmd_read },
    { "write", "ADDR SIZE 0xDATA", 3, 0, cmd_write },
    { "memset", "ADDR SIZE VALUE", 3, 0, cmd_memset },
    { "b64read", "ADDR SIZE", 2, 0, cmd_b64read },
    { "b64write", "ADDR SIZE B64DATA", 3, 0, cmd_b64write },
    { "inb", "PORT", 1, 1, cmd_port_in },
    { "inw", "PORT", 1, 2, cmd_port_in },
    { "inl", "PORT", 1, 4, cmd_port_in },
    { "outb", "PORT VALUE", 2, 1, cmd_port_out },
    { "outw", "PORT VALUE", 2, 2, cmd_port_out },
    { "outl", "PORT VALUE", 2, 4, cmd_port_out },
    { "endianness", "", 0, 0, cmd_endianness },
    { "dirty_log", "start|stop|sync", 1, 0, qtest_cmd_dirty_log },
    { "dirty_pages", "ADDR SIZE", 2, 0, qtest_cmd_dirty_pages },
    { "dirty_clear", "ADDR SIZE", 2, 0, qtest_cmd_dirty_clear },
};

static const QtestCmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(qtest_cmds); i++) {
        if (strcmp(qtest_cmds[i].name, name) == 0) {
            return &qtest_cmds[i];
        }
    }
    return NULL;
}

/*
 * Split @line at runs of blanks.  Returns the number of words, or
 * QTEST_MAX_WORDS + 1 when there are more than fit.
 */
static unsigned split_words(char *line, char **words)
{
    unsigned n = 0;
    char *p = line;

    for (;;) {
        p += strspn(p, " \t");
        if (!*p) {
            return n;
        }
        if (n == QTEST_MAX_WORDS) {
            return n + 1;
        }
        words[n++] = p;
        p += strcspn(p, " \t");
        if (*p) {
            *p++ = '\0';
        }
    }
}

/* Error texts never hold newlines; make sure the reply stays one line. */
static void append_fail(GString *reply, const char *name, const char *msg)
{
    size_t start = reply->len;

    g_string_append(reply, "FAIL ");
    if (name) {
        g_string_append_printf(reply, "%s: ", name);
    }
    g_string_append(reply, msg);
    for (size_t i = start; i < reply->len; i++) {
        if (reply->str[i] == '\n' || reply->str[i] == '\r') {
            reply->str[i] = ' ';
        }
    }
}

void qtest_handle_line(char *line, GString *reply)
{
    char *words[QTEST_MAX_WORDS];
    unsigned nwords = split_words(line, words);
    char buf[QTEST_QUOTE_MAX];
    const QtestCmd *cmd;
    Error *err = NULL;

    if (nwords == 0) {
        append_fail(reply, NULL, "empty command");
        goto out;
    }
    cmd = find_cmd(words[0]);
    if (!cmd) {
        /* QEMU's text */
        g_string_append_printf(reply, "FAIL Unknown command '%s'",
                               qtest_quote_word(words[0], buf, sizeof(buf)));
        goto out;
    }
    trace_qtest_command(cmd->name);
    if (nwords != cmd->nargs + 1) {
        g_autofree char *msg = g_strdup_printf(
            "wrong number of arguments (usage: %s%s%s)", cmd->name,
            *cmd->usage ? " " : "", cmd->usage);

        append_fail(reply, cmd->name, msg);
        goto out;
    }
    if (!cmd->fn(cmd, words + 1, reply, &err)) {
        trace_qtest_command_failed(cmd->name, error_get_pretty(err));
        append_fail(reply, cmd->name, error_get_pretty(err));
        error_free(err);
    }
out:
    g_string_append_c(reply, '\n');
}
