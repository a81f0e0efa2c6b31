/*
 * A key-value service on the serial port, polled, one request per line:
 *
 *     SET key value   -> OK             (the value is the rest of the line)
 *     GET key         -> value | NOT_FOUND
 *     DEL key         -> OK | NOT_FOUND
 *     COUNT           -> the number of keys stored, in decimal
 *     PING            -> PONG
 *     PING token      -> PONG token     (the token has no spaces)
 *     anything else   -> ERR            (also: line, key or value too long,
 *                                        table full)
 *
 * It prints "READY" when it starts.  Lines end with '\n'; a '\r' before
 * it is ignored.  Keys have no spaces.  It holds up to 4096 keys of up
 * to 31 bytes with values of up to 64 bytes; a line may hold 127 bytes.
 *
 * The byte 0x18 (CAN) anywhere in the input discards the partial line
 * received so far, and gets no reply.  A client that reconnects sends
 * CAN and then "PING <fresh token>", and skips every line until its
 * PONG: a half line left by an earlier connection cannot merge with its
 * own first request, and replies meant for the earlier connection are
 * never taken for its own.
 *
 * Built with -DKV_DIVERGE (kv-diverge.elf), a successful SET replies
 * "OK <n>" instead, n being how many times the guest read the UART's
 * line status while waiting for that request's bytes.  That count
 * depends on timing, so two copies of the guest given the same input
 * print different replies, which output comparison must notice.  Every
 * other reply is that of kv.elf.
 *
 * Lookups must stay fast under a software CPU, so the keys are found
 * through a hash table (FNV-1a, open addressing with linear probing)
 * whose slots hold the index of an entry.  Entries are kept dense in
 * [0, kv_count): DEL moves the last entry into the hole.  The slot array
 * is twice as large as the entry array, so probes stay short and an
 * empty slot always ends them; DEL shifts later slots of the same run
 * back instead of leaving tombstones.  Both arrays live in .bss (about
 * 0.5 MiB, see guest.ld), zeroed by the loader at boot and reset.
 *
 * Only vCPU 0 serves; the others halt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

#define KV_ENTRIES          4096
#define KV_SLOTS            8192    /* a power of two, > KV_ENTRIES */
#define KV_SLOT_MASK        (KV_SLOTS - 1)
#define KV_KEY_MAX          32      /* including the terminating NUL */
#define KV_VALUE_MAX        65      /* including the terminating NUL */
#define KV_LINE_MAX         128     /* including the terminating NUL */

#define KV_CAN              '\x18'

/* "SET <key> <value>\r" must fit. */
_Static_assert(KV_LINE_MAX >= 4 + KV_KEY_MAX + KV_VALUE_MAX + 1,
               "a SET of the longest key and value must fit in a line");
/* A slot holds an entry index + 1 in 16 bits; 0 is an empty slot. */
_Static_assert(KV_ENTRIES < 0xffff && KV_SLOTS >= 2 * KV_ENTRIES &&
               (KV_SLOTS & KV_SLOT_MASK) == 0,
               "slots: a power of two, at least twice the entries");

typedef struct KvEntry {
    uint32_t hash;
    char key[KV_KEY_MAX];
    char value[KV_VALUE_MAX];
} KvEntry;

static KvEntry entries[KV_ENTRIES];
static uint16_t slots[KV_SLOTS];
static unsigned kv_count;

/* Replies built from parts ("PONG token", "OK n", a count). */
static char reply_buf[KV_LINE_MAX + 16];

static bool str_equal(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* 32-bit FNV-1a. */
static uint32_t kv_hash(const char *key)
{
    uint32_t h = 2166136261u;

    for (; *key; key++) {
        h ^= (uint8_t)*key;
        h *= 16777619u;
    }
    return h;
}

/*
 * The slot that holds @key, or the empty slot that ends its probe run
 * when @key is absent.  There always is one: at most half the slots are
 * in use.
 */
static uint16_t *kv_find_slot(const char *key, uint32_t hash)
{
    uint32_t i = hash & KV_SLOT_MASK;

    while (slots[i]) {
        KvEntry *e = &entries[slots[i] - 1];

        if (e->hash == hash && str_equal(e->key, key)) {
            break;
        }
        i = (i + 1) & KV_SLOT_MASK;
    }
    return &slots[i];
}

static KvEntry *kv_lookup(const char *key)
{
    uint16_t *slot = kv_find_slot(key, kv_hash(key));

    return *slot ? &entries[*slot - 1] : NULL;
}

/*
 * Empty slot @hole without breaking any probe run through it: each
 * later slot of the run whose home is not between the hole and itself
 * moves back into the hole, which moves to where it was.
 */
static void kv_slot_remove(uint32_t hole)
{
    uint32_t j = hole;

    for (;;) {
        uint32_t home;

        j = (j + 1) & KV_SLOT_MASK;
        if (!slots[j]) {
            break;
        }
        home = entries[slots[j] - 1].hash & KV_SLOT_MASK;
        if (((j - home) & KV_SLOT_MASK) >= ((j - hole) & KV_SLOT_MASK)) {
            slots[hole] = slots[j];
            hole = j;
        }
    }
    slots[hole] = 0;
}

static const char *kv_set(const char *key, const char *value)
{
    uint32_t hash;
    uint16_t *slot;
    KvEntry *e;

    if (strlen(key) >= KV_KEY_MAX || strlen(value) >= KV_VALUE_MAX) {
        return "ERR";
    }
    hash = kv_hash(key);
    slot = kv_find_slot(key, hash);
    if (*slot) {
        e = &entries[*slot - 1];
    } else if (kv_count == KV_ENTRIES) {
        return "ERR";
    } else {
        e = &entries[kv_count++];
        e->hash = hash;
        memcpy(e->key, key, strlen(key) + 1);
        *slot = kv_count;
    }
    memcpy(e->value, value, strlen(value) + 1);
    return "OK";
}

static const char *kv_del(const char *key)
{
    uint16_t *slot = kv_find_slot(key, kv_hash(key));
    unsigned idx;
    KvEntry *last;

    if (!*slot) {
        return "NOT_FOUND";
    }
    idx = *slot - 1;
    kv_slot_remove(slot - slots);
    /* Keep the entries dense: the last one fills the hole. */
    last = &entries[--kv_count];
    if (idx != kv_count) {
        *kv_find_slot(last->key, last->hash) = idx + 1;
        entries[idx] = *last;
    }
    return "OK";
}

/* Writes @n in decimal at @buf, NUL-terminated. */
static void format_uint(char *buf, unsigned n)
{
    char digits[10];
    unsigned len = 0;

    do {
        digits[len++] = '0' + n % 10;
        n /= 10;
    } while (n);
    while (len) {
        *buf++ = digits[--len];
    }
    *buf = '\0';
}

/* "@prefix @word" in reply_buf; @word is shorter than a line. */
static const char *reply_with(const char *prefix, const char *word)
{
    size_t plen = strlen(prefix);

    memcpy(reply_buf, prefix, plen);
    reply_buf[plen] = ' ';
    memcpy(reply_buf + plen + 1, word, strlen(word) + 1);
    return reply_buf;
}

/* @n in decimal in reply_buf, after "@prefix " unless @prefix is NULL. */
static const char *reply_uint(const char *prefix, unsigned n)
{
    char *p = reply_buf;

    if (prefix) {
        memcpy(p, prefix, strlen(prefix));
        p += strlen(prefix);
        *p++ = ' ';
    }
    format_uint(p, n);
    return reply_buf;
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

static const char *kv_handle_set(char *args, unsigned polls)
{
    char *value;
    char *key = split_word(args, &value);
    const char *r;

    if (!*key || !value) {
        return "ERR";
    }
    r = kv_set(key, value);
#ifdef KV_DIVERGE
    if (str_equal(r, "OK")) {
        return reply_uint("OK", polls);
    }
#endif
    return r;
}

/* @polls: line status reads while the line arrived (see KV_DIVERGE). */
static const char *kv_handle(char *line, unsigned polls)
{
    char *args;
    char *cmd = split_word(line, &args);

    if (!args) {
        if (str_equal(cmd, "PING")) {
            return "PONG";
        }
        if (str_equal(cmd, "COUNT")) {
            return reply_uint(NULL, kv_count);
        }
        return "ERR";
    }
    if (!*args) {
        return "ERR";
    }
    if (str_equal(cmd, "SET")) {
        return kv_handle_set(args, polls);
    }
    if (has_space(args)) {
        return "ERR";
    }
    if (str_equal(cmd, "PING")) {
        return reply_with("PONG", args);
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

/* uart_getc() that also counts the line status reads it took. */
static char kv_getc(unsigned *polls)
{
    for (;;) {
        (*polls)++;
        if (inb(UART_LSR) & UART_LSR_DR) {
            return (char)inb(UART_RBR);
        }
        cpu_relax();
    }
}

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    char line[KV_LINE_MAX];
    unsigned len = 0, polls = 0;
    bool overlong = false;

    if (cpu_index != 0) {
        cpu_halt_forever();
    }
    /*
     * With the FIFO the chardev hands over up to 16 bytes at a time
     * instead of one, which makes long batches of requests several times
     * faster under tcg.
     */
    outb(UART_FCR, UART_FCR_FE | UART_FCR_RFR);
    uart_puts("READY\n");
    for (;;) {
        char c = kv_getc(&polls);

        if (c == KV_CAN) {
            len = 0;
            overlong = false;
            polls = 0;
        } else if (c == '\n') {
            if (len && line[len - 1] == '\r') {
                len--;
            }
            line[len] = '\0';
            reply(overlong ? "ERR" : kv_handle(line, polls));
            len = 0;
            overlong = false;
            polls = 0;
        } else if (len < KV_LINE_MAX - 1) {
            line[len++] = c;
        } else {
            /* Drop the rest of the line; it gets ERR when it ends. */
            overlong = true;
        }
    }
}
