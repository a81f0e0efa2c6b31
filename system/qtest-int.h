/*
 * qtest internals shared by the connection layer (qtest-server.c) and
 * the command layer (qtest-protocol.c, qtest-dirty.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_QTEST_INT_H
#define SYSTEM_QTEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "qapi/error.h"

typedef struct QtestCmd QtestCmd;

/*
 * A command's handler gets its arguments (the words after the name,
 * already counted) and appends "OK..." without the newline to @reply,
 * or fails leaving @reply untouched.
 */
typedef bool QtestCmdFn(const QtestCmd *cmd, char **args, GString *reply,
                        Error **errp);

struct QtestCmd {
    const char *name;
    const char *usage;      /* the arguments, for error messages */
    unsigned nargs;
    unsigned width;         /* access size of readb..q, inb..l, ... */
    QtestCmdFn *fn;
};

/*
 * Run one request.  @line has no line terminator, is NUL-terminated and
 * is modified (split into words).  The reply line, "OK..." or
 * "FAIL...", ending with '\n', is appended to @reply.  Main loop, BQL.
 */
void qtest_handle_line(char *line, GString *reply);

/* Words longer than this are cut in error messages. */
#define QTEST_QUOTE_MAX 40
/* @word, or its start followed by "..." in @buf when it is long. */
const char *qtest_quote_word(const char *word, char *buf, size_t size);
/* A whole word in C syntax (decimal, 0x hex, 0 octal); @what names it. */
bool qtest_parse_u64(const char *what, const char *word, uint64_t *val,
                     Error **errp);

/* The dirty-logging extension (qtest-dirty.c). */
QtestCmdFn qtest_cmd_dirty_log;
QtestCmdFn qtest_cmd_dirty_pages;
QtestCmdFn qtest_cmd_dirty_clear;

#endif /* SYSTEM_QTEST_INT_H */
