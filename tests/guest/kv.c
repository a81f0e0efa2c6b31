/*
 * A key-value service on the serial port, polled, one request per line:
 *
 *     SET key value   -> OK             (the value is the rest of the line)
 *     GET key         -> value | NOT_FOUND
 *     DEL key         -> OK | NOT_FOUND
 *     PING            -> PONG
 *     anything else   -> ERR            (also: line, key or value too long,
 *                                        table full)
 *
 * It prints "READY" when it starts.  Lines end with '\n'; a '\r' before
 * it is ignored.  Keys have no spaces.  Only vCPU 0 serves; the others
 * halt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

#define KV_ENTRIES          64
#define KV_KEY_MAX          32      /* including the terminating NUL */
#define KV_VALUE_MAX        64
#define KV_LINE_MAX         128

typedef struct KvEntry {
    char key[KV_KEY_MAX];
    char value[KV_VALUE_MAX];
    bool used;
} KvEntry;

static KvEntry table[KV_ENTRIES];

static bool str_equal(const char *a, const char *b)
{
    return strlen(a) == strlen(b) && !memcmp(a, b, strlen(a));
}

static KvEntry *kv_lookup(const char *key)
{
    unsigned i;

    for (i = 0; i < KV_ENTRIES; i++) {
        if (table[i].used && str_equal(table[i].key, key)) {
            return &table[i];
        }
    }
    return NULL;
}

static const char *kv_set(const char *key, const char *value)
{
    KvEntry *e = kv_lookup(key);
    unsigned i;

    if (strlen(key) >= KV_KEY_MAX || strlen(value) >= KV_VALUE_MAX) {
        return "ERR";
    }
    for (i = 0; !e && i < KV_ENTRIES; i++) {
        if (!table[i].used) {
            e = &table[i];
        }
    }
    if (!e) {
        return "ERR";
    }
    memcpy(e->key, key, strlen(key) + 1);
    memcpy(e->value, value, strlen(value) + 1);
    e->used = true;
    return "OK";
}

static const char *kv_del(const char *key)
{
    KvEntry *e = kv_lookup(key);

    if (!e) {
        return "NOT_FOUND";
    }
    e->used = false;
    return "OK";
}

/*
 * Splits "WORD rest" in place: returns the first word and points @rest
 * after the single space that ends it (NULL when there is none).
 */
static char *split_word(char *line, char **rest)
{
    char *p = line;

    while (*p && *p != ' ') {
        p++;
    }
    if (*p == ' ') {
        *p = '\0';
        *rest = p + 1;
    } else {
        *rest = NULL;
    }
    return line;
}

static bool has_space(const char *s)
{
    for (; *s; s++) {
        if (*s == ' ') {
            return true;
        }
    }
    return false;
}

static const char *kv_handle(char *line)
{
    char *args, *value;
    char *cmd = split_word(line, &args);
    char *key;

    if (str_equal(cmd, "PING") && !args) {
        return "PONG";
    }
    if (!args || !*args) {
        return "ERR";
    }
    if (str_equal(cmd, "SET")) {
        key = split_word(args, &value);
        return *key && value ? kv_set(key, value) : "ERR";
    }
    if (has_space(args)) {
        return "ERR";
    }
    if (str_equal(cmd, "GET")) {
        KvEntry *e = kv_lookup(args);

        return e ? e->value : "NOT_FOUND";
    }
    if (str_equal(cmd, "DEL")) {
        return kv_del(args);
    }
    return "ERR";
}

static void reply(const char *s)
{
    uart_puts(s);
    uart_putc('\n');
}

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    char line[KV_LINE_MAX];
    unsigned len = 0;
    bool overlong = false;

    if (cpu_index != 0) {
        cpu_halt_forever();
    }
    uart_puts("READY\n");
    for (;;) {
        char c = uart_getc();

        if (c == '\n') {
            if (len && line[len - 1] == '\r') {
                len--;
            }
            line[len] = '\0';
            reply(overlong ? "ERR" : kv_handle(line));
            len = 0;
            overlong = false;
        } else if (len < KV_LINE_MAX - 1) {
            line[len++] = c;
        } else {
            /* Drop the rest of the line; it gets ERR when it ends. */
            overlong = true;
        }
    }
}
