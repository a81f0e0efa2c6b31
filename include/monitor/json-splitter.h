/*
 * Splitting a byte stream into top-level JSON values.
 *
 * The splitter does not parse: it tracks strings (with escapes) and the
 * nesting of {} and [] just well enough to see where each top-level
 * value ends, then hands the value's text to a callback that parses it
 * with a real JSON library.  Values over a size or depth bound are
 * reported once and skipped up to their end, so one bad request does
 * not take the connection down.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_JSON_SPLITTER_H
#define MONITOR_JSON_SPLITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "qapi/error.h"

/* Defaults used by the QMP server. */
#define JSON_SPLITTER_MAX_SIZE (1024 * 1024)
#define JSON_SPLITTER_MAX_DEPTH 1024

/*
 * Called once per top-level value: either @text/@len is the complete
 * value and @err is NULL, or @err (owned by the callee) says why the
 * input was rejected.  The callback may not free the splitter.
 */
typedef void JsonSplitterEmit(void *opaque, const char *text, size_t len,
                              Error *err);

typedef struct JsonSplitter JsonSplitter;

JsonSplitter *json_splitter_new(JsonSplitterEmit *emit, void *opaque,
                                size_t max_size, unsigned max_depth);
void json_splitter_free(JsonSplitter *js);

/* Consume @len bytes; the callback runs for every value they complete. */
void json_splitter_feed(JsonSplitter *js, const char *buf, size_t len);

/*
 * End of input: a pending bare scalar ("3") is complete now; anything
 * else unfinished is dropped.
 */
void json_splitter_flush(JsonSplitter *js);

/* Bytes of the value in progress (0 between values). */
size_t json_splitter_pending(const JsonSplitter *js);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonSplitter, json_splitter_free)

#endif /* MONITOR_JSON_SPLITTER_H */
