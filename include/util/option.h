/*
 * Parser for option strings such as "unix:/tmp/q.sock,server=on,wait=off".
 *
 * Syntax: elements separated by ',', each "key=value"; ",," inside a
 * value stands for a literal comma.  When an implied key is given, a
 * first element without '=' is the value of that key.  Keys must be
 * unique and non-empty.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_OPTION_H
#define UTIL_OPTION_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "qapi/error.h"

typedef struct OptList OptList;

/* Return the parsed list, or NULL with errp set. implied_key may be NULL. */
OptList *opts_parse(const char *str, const char *implied_key, Error **errp);
void opts_free(OptList *opts);

/* The value of key, or NULL when absent.  Owned by opts. */
const char *opts_get(const OptList *opts, const char *key);
bool opts_has(const OptList *opts, const char *key);
/* Number of key=value pairs. */
size_t opts_count(const OptList *opts);
/* The idx-th key in the order given, or NULL past the end. */
const char *opts_key_at(const OptList *opts, size_t idx);

/*
 * Typed getters: when key is absent store def and succeed; when the
 * value does not parse fail with an error naming the key and leave
 * *value untouched.
 * bool: on/off, yes/no, true/false.
 * number: decimal, 0x hex or 0 octal unsigned 64-bit.
 * size: a number with an optional B/K/M/G/T/P/E suffix (powers of 1024),
 * e.g. "64K", "1.5G".
 */
bool opts_get_bool(const OptList *opts, const char *key, bool def,
                   bool *value, Error **errp);
bool opts_get_number(const OptList *opts, const char *key, uint64_t def,
                     uint64_t *value, Error **errp);
bool opts_get_size(const OptList *opts, const char *key, uint64_t def,
                   uint64_t *value, Error **errp);

/* Fail naming the first key that is not in the NULL-terminated allowed. */
bool opts_check_keys(const OptList *opts, const char *const *allowed,
                     Error **errp);

/* Parsers for single values, shared with other option syntaxes. */
bool parse_option_bool(const char *name, const char *value, bool *ret,
                       Error **errp);
bool parse_option_number(const char *name, const char *value,
                         uint64_t *ret, Error **errp);
bool parse_option_size(const char *name, const char *value,
                       uint64_t *ret, Error **errp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OptList, opts_free)

#endif /* UTIL_OPTION_H */
