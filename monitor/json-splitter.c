/*
 * Splitting a byte stream into top-level JSON values.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "monitor/json-splitter.h"
#include "trace/trace.h"

typedef enum SplitterMode {
    SPLIT_IDLE,         /* between values, skipping whitespace */
    SPLIT_VALUE,        /* inside a string, {} or [] */
    SPLIT_SCALAR,       /* a bare top-level number, keyword or junk */
    SPLIT_DISCARD,      /* skipping the rest of a rejected value */
} SplitterMode;

struct JsonSplitter {
    JsonSplitterEmit *emit;
    void *opaque;
    size_t max_size;
    unsigned max_depth;

    SplitterMode mode;
    unsigned depth;
    bool in_string;
    char quote;             /* the quote that opened the string */
    bool escape;
    bool discard_scalar;    /* SPLIT_DISCARD of a bare scalar */
    GString *value;
};

JsonSplitter *json_splitter_new(JsonSplitterEmit *emit, void *opaque,
                                size_t max_size, unsigned max_depth)
{
    JsonSplitter *js = g_new0(JsonSplitter, 1);

    js->emit = emit;
    js->opaque = opaque;
    js->max_size = max_size;
    js->max_depth = max_depth;
    js->value = g_string_new("");
    return js;
}

void json_splitter_free(JsonSplitter *js)
{
    if (js) {
        g_string_free(js->value, true);
        g_free(js);
    }
}

size_t json_splitter_pending(const JsonSplitter *js)
{
    return js->value->len;
}

static void reset(JsonSplitter *js, SplitterMode mode)
{
    g_string_truncate(js->value, 0);
    js->mode = mode;
    js->depth = 0;
    js->in_string = false;
    js->escape = false;
    js->discard_scalar = false;
}

static void emit_value(JsonSplitter *js)
{
    g_autofree char *text = NULL;
    size_t len = js->value->len;

    /* Reset first: the callback sees a splitter ready for the next value. */
    text = g_string_free(js->value, false);
    js->value = g_string_new("");
    reset(js, SPLIT_IDLE);
    js->emit(js->opaque, text, len, NULL);
}

/*
 * Report a bad value.  With @skip_rest the remainder of the value (up
 * to where its nesting closes) is skipped silently; otherwise scanning
 * starts afresh with the next byte.
 */
static void emit_error(JsonSplitter *js, bool skip_rest, const char *fmt,
                       ...) G_GNUC_PRINTF(3, 4);
static void emit_error(JsonSplitter *js, bool skip_rest, const char *fmt,
                       ...)
{
    Error *err = NULL;
    g_autofree char *msg = NULL;
    va_list ap;
    unsigned depth = js->depth;
    bool in_string = js->in_string, escape = js->escape;
    char quote = js->quote;
    bool scalar = js->mode == SPLIT_SCALAR;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_monitor_json_split_error(msg, js->value->len, depth);
    reset(js, SPLIT_IDLE);
    if (skip_rest && (depth > 0 || in_string || scalar)) {
        js->mode = SPLIT_DISCARD;
        js->depth = depth;
        js->in_string = in_string;
        js->quote = quote;
        js->escape = escape;
        js->discard_scalar = scalar;
    }
    error_setg(&err, "%s", msg);
    js->emit(js->opaque, NULL, 0, err);
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Where a bare scalar such as 123 or true ends. */
static bool ends_scalar(char c)
{
    return is_json_space(c) || strchr("{}[],:\"'", c) != NULL;
}

/* One byte inside a string: track escapes and the closing quote. */
static void scan_string_byte(JsonSplitter *js, unsigned char c)
{
    if (js->escape) {
        js->escape = false;
    } else if (c == '\\') {
        js->escape = true;
    } else if (c == js->quote) {
        js->in_string = false;
    }
}

static void open_string(JsonSplitter *js, char quote)
{
    js->in_string = true;
    js->quote = quote;
}

/*
 * Append one string byte.  QEMU also accepts 'single-quoted' strings;
 * they are rewritten as JSON strings so that the parser accepts them:
 * the quotes become ", a " inside becomes \", and \' becomes '.
 */
static void append_string_byte(JsonSplitter *js, unsigned char c)
{
    bool escaped = js->escape;

    scan_string_byte(js, c);
    if (escaped && c == '\'') {
        js->value->str[js->value->len - 1] = '\'';
    } else if (!js->in_string) {
        g_string_append_c(js->value, '"');
    } else if (c == '"' && !escaped) {
        g_string_append(js->value, "\\\"");
    } else {
        g_string_append_c(js->value, c);
    }
}

static void scan_discard(JsonSplitter *js, unsigned char c)
{
    if (js->discard_scalar) {
        if (ends_scalar(c)) {
            reset(js, SPLIT_IDLE);
        }
        return;
    }
    if (js->in_string) {
        if (c < 0x20) {
            /* Same resync point as for a value being collected. */
            reset(js, SPLIT_IDLE);
            return;
        }
        scan_string_byte(js, c);
        if (!js->in_string && js->depth == 0) {
            reset(js, SPLIT_IDLE);      /* end of a rejected string */
        }
        return;
    }
    if (c == '"' || c == '\'') {
        open_string(js, c);
    } else if (c == '{' || c == '[') {
        js->depth++;
    } else if ((c == '}' || c == ']') && js->depth > 0) {
        if (--js->depth == 0) {
            reset(js, SPLIT_IDLE);
        }
    }
}

static void scan_structure(JsonSplitter *js, unsigned char c)
{
    if (c == '"' || c == '\'') {
        open_string(js, c);
        c = '"';
    } else if (c == '{' || c == '[') {
        if (++js->depth > js->max_depth) {
            emit_error(js, true, "JSON nesting depth limit exceeded");
            return;
        }
    } else if (c == '}' || c == ']') {
        if (js->depth == 0) {
            emit_error(js, false, "JSON parse error, expecting value");
            return;
        }
        js->depth--;
    } else if (js->depth == 0 && is_json_space(c)) {
        return;
    } else if (js->depth == 0) {
        js->mode = SPLIT_SCALAR;
    }
    g_string_append_c(js->value, c);
    if (js->mode == SPLIT_SCALAR) {
        return;
    }
    if (js->depth == 0 && !js->in_string) {
        emit_value(js);         /* the closing bracket of a value */
    } else {
        js->mode = SPLIT_VALUE;
    }
}

static void scan_byte(JsonSplitter *js, unsigned char c)
{
    if (js->mode == SPLIT_DISCARD) {
        scan_discard(js, c);
        return;
    }
    if (js->mode == SPLIT_SCALAR && ends_scalar(c)) {
        emit_value(js);
        /* The delimiter starts the next value (or is whitespace). */
    } else if (js->mode == SPLIT_SCALAR) {
        g_string_append_c(js->value, c);
        goto check_size;
    }
    if (js->in_string) {
        if (c < 0x20) {
            /* JSON strings cannot hold raw control characters: resync. */
            emit_error(js, false, "JSON parse error, control character "
                       "0x%02x in string", c);
            return;
        }
        append_string_byte(js, c);
        if (!js->in_string && js->depth == 0) {
            emit_value(js);
            return;
        }
    } else {
        scan_structure(js, c);
    }

check_size:
    if (js->value->len > js->max_size) {
        emit_error(js, true, "JSON token size limit exceeded");
    }
}

void json_splitter_feed(JsonSplitter *js, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        scan_byte(js, (unsigned char)buf[i]);
    }
}

void json_splitter_flush(JsonSplitter *js)
{
    if (js->mode == SPLIT_SCALAR) {
        emit_value(js);
    } else {
        reset(js, SPLIT_IDLE);
    }
}
