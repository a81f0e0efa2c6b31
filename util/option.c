/*
 * Parser for "key=value,key=value" option strings.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/option.h"

typedef struct Opt {
    char *key;
    char *value;
} Opt;

struct OptList {
    GArray *opts;       /* of Opt, in the order given */
};

static void opt_clear(void *data)
{
    Opt *opt = data;

    g_free(opt->key);
    g_free(opt->value);
}

static OptList *opts_new(void)
{
    OptList *list = g_new0(OptList, 1);

    list->opts = g_array_new(false, true, sizeof(Opt));
    g_array_set_clear_func(list->opts, opt_clear);
    return list;
}

void opts_free(OptList *opts)
{
    if (!opts) {
        return;
    }
    g_array_free(opts->opts, true);
    g_free(opts);
}

static const Opt *opts_find(const OptList *opts, const char *key)
{
    guint i;

    for (i = 0; i < opts->opts->len; i++) {
        const Opt *opt = &g_array_index(opts->opts, Opt, i);

        if (strcmp(opt->key, key) == 0) {
            return opt;
        }
    }
    return NULL;
}

/*
 * Read a value starting at *pos up to the next single ',' or the end of
 * the string, turning ",," into ','.  Leaves *pos at the separator.
 */
static char *opts_read_value(const char **pos)
{
    GString *value = g_string_new(NULL);
    const char *p = *pos;

    for (;;) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(value, ',');
            p += 2;
        } else if (*p == ',' || *p == '\0') {
            break;
        } else {
            g_string_append_c(value, *p++);
        }
    }
    *pos = p;
    return g_string_free(value, false);
}

static bool opts_add(OptList *opts, const char *key, char *value,
                     Error **errp)
{
    Opt opt;

    if (opts_find(opts, key)) {
        error_setg(errp, "Duplicate parameter '%s'", key);
        g_free(value);
        return false;
    }
    opt.key = g_strdup(key);
    opt.value = value;
    g_array_append_val(opts->opts, opt);
    return true;
}

static void opts_error_empty(const char *str, const char *at, Error **errp)
{
    if (at == str) {
        error_setg(errp, "Empty parameter at the start of '%s'", str);
    } else {
        error_setg(errp, "Empty parameter after '%.*s'",
                   (int)(at - str - 1), str);
    }
}

/*
 * Parse the element starting at *pos (not at the end of the string) and
 * leave *pos after it and its separating ','.
 */
static bool opts_parse_element(OptList *opts, const char *str,
                               const char **pos, const char *implied_key,
                               Error **errp)
{
    const char *start = *pos;
    const char *eq = start + strcspn(start, "=,");
    g_autofree char *key = NULL;
    const char *p;

    if (eq == start && *eq != '=') {
        opts_error_empty(str, start, errp);
        return false;
    }
    if (*eq == '=') {
        if (eq == start) {
            g_autofree char *bad = NULL;

            p = eq + 1;
            bad = opts_read_value(&p);
            error_setg(errp, "Parameter name missing before '=%s'", bad);
            return false;
        }
        key = g_strndup(start, eq - start);
        p = eq + 1;
    } else if (implied_key) {
        key = g_strdup(implied_key);
        p = start;
    } else {
        key = g_strndup(start, eq - start);
        error_setg(errp, "Expected '=' after parameter '%s'", key);
        return false;
    }
    if (!opts_add(opts, key, opts_read_value(&p), errp)) {
        return false;
    }
    if (*p == ',') {
        p++;
        if (*p == '\0') {
            opts_error_empty(str, p, errp);
            return false;
        }
    }
    *pos = p;
    return true;
}

OptList *opts_parse(const char *str, const char *implied_key, Error **errp)
{
    g_autoptr(OptList) opts = opts_new();
    const char *pos = str;

    while (*pos) {
        /* Only the first element may stand for the implied key. */
        const char *implied = pos == str ? implied_key : NULL;

        if (!opts_parse_element(opts, str, &pos, implied, errp)) {
            return NULL;
        }
    }
    return g_steal_pointer(&opts);
}

const char *opts_get(const OptList *opts, const char *key)
{
    const Opt *opt = opts_find(opts, key);

    return opt ? opt->value : NULL;
}

bool opts_has(const OptList *opts, const char *key)
{
    return opts_find(opts, key) != NULL;
}

size_t opts_count(const OptList *opts)
{
    return opts->opts->len;
}

const char *opts_key_at(const OptList *opts, size_t idx)
{
    if (idx >= opts->opts->len) {
        return NULL;
    }
    return g_array_index(opts->opts, Opt, idx).key;
}

bool opts_check_keys(const OptList *opts, const char *const *allowed,
                     Error **errp)
{
    guint i;

    for (i = 0; i < opts->opts->len; i++) {
        const char *key = g_array_index(opts->opts, Opt, i).key;

        if (!allowed || !g_strv_contains((const char *const *)allowed,
                                         key)) {
            error_setg(errp, "Invalid parameter '%s'", key);
            return false;
        }
    }
    return true;
}

bool parse_option_bool(const char *name, const char *value, bool *ret,
                       Error **errp)
{
    static const char *const yes[] = { "on", "yes", "true", NULL };
    static const char *const no[] = { "off", "no", "false", NULL };

    if (g_strv_contains(yes, value)) {
        *ret = true;
        return true;
    }
    if (g_strv_contains(no, value)) {
        *ret = false;
        return true;
    }
    error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
    return false;
}

bool parse_option_number(const char *name, const char *value,
                         uint64_t *ret, Error **errp)
{
    unsigned long long number;
    char *end;

    /* strtoull() would skip blanks and negate "-1" into a huge value. */
    if (!isdigit((unsigned char)value[0])) {
        error_setg(errp, "Parameter '%s' expects a number", name);
        return false;
    }
    errno = 0;
    number = strtoull(value, &end, 0);
    if (*end != '\0') {
        error_setg(errp, "Parameter '%s' expects a number", name);
        return false;
    }
    if (errno == ERANGE) {
        error_setg(errp, "Value '%s' is too large for parameter '%s'",
                   value, name);
        return false;
    }
    *ret = number;
    return true;
}

/* Multiplier for a size suffix, or 0 when c is not one. */
static uint64_t size_suffix_multiplier(char c)
{
    static const char suffixes[] = "bkmgtpe";
    const char *s = strchr(suffixes, g_ascii_tolower(c));

    if (!c || !s) {
        return 0;
    }
    return 1ULL << (10 * (s - suffixes));
}

/* 0, -EINVAL or -ERANGE, like the strto* family. */
static int parse_size(const char *value, uint64_t *ret)
{
    unsigned long long integer;
    double fraction = 0;
    uint64_t mult = 1;
    const char *p;
    char *end;

    if (!isdigit((unsigned char)value[0])) {
        return -EINVAL;
    }
    errno = 0;
    if (g_ascii_strncasecmp(value, "0x", 2) == 0) {
        /* Hex is taken as a plain byte count, without fraction or suffix. */
        integer = strtoull(value, &end, 16);
        if (end == value + 2 || *end) {
            return -EINVAL;
        }
        if (errno == ERANGE) {
            return -ERANGE;
        }
        *ret = integer;
        return 0;
    }
    integer = strtoull(value, &end, 10);
    if (errno == ERANGE) {
        return -ERANGE;
    }
    p = end;
    if (*p == '.') {
        double scale = 0.1;

        if (!isdigit((unsigned char)p[1])) {
            return -EINVAL;
        }
        for (p++; isdigit((unsigned char)*p); p++) {
            fraction += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p) {
        mult = size_suffix_multiplier(*p);
        if (!mult || p[1]) {
            return -EINVAL;
        }
    }
    if (fraction != 0 && mult == 1) {
        return -EINVAL;     /* fractions of a byte */
    }
    if (integer > UINT64_MAX / mult) {
        return -ERANGE;
    }
    integer *= mult;
    /* fraction < 1, so this is below mult and can only overflow here. */
    mult = (uint64_t)(fraction * mult);
    if (integer > UINT64_MAX - mult) {
        return -ERANGE;
    }
    *ret = integer + mult;
    return 0;
}

bool parse_option_size(const char *name, const char *value,
                       uint64_t *ret, Error **errp)
{
    ERRP_GUARD();
    int err = parse_size(value, ret);

    if (err == -ERANGE) {
        error_setg(errp, "Value '%s' is out of range for parameter '%s'",
                   value, name);
        return false;
    }
    if (err) {
        error_setg(errp, "Parameter '%s' expects a non-negative number "
                   "below 2^64", name);
        error_append_hint(errp, "Optional suffix k, M, G, T, P or E means "
                          "kilo-, mega-, giga-, tera-, peta-\n"
                          "and exabytes, respectively.\n");
        return false;
    }
    return true;
}

bool opts_get_bool(const OptList *opts, const char *key, bool def,
                   bool *value, Error **errp)
{
    const char *str = opts_get(opts, key);

    if (!str) {
        *value = def;
        return true;
    }
    return parse_option_bool(key, str, value, errp);
}

bool opts_get_number(const OptList *opts, const char *key, uint64_t def,
                     uint64_t *value, Error **errp)
{
    const char *str = opts_get(opts, key);

    if (!str) {
        *value = def;
        return true;
    }
    return parse_option_number(key, str, value, errp);
}

bool opts_get_size(const OptList *opts, const char *key, uint64_t def,
                   uint64_t *value, Error **errp)
{
    const char *str = opts_get(opts, key);

    if (!str) {
        *value = def;
        return true;
    }
    return parse_option_size(key, str, value, errp);
}
