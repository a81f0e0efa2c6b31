/*
 * Creating chardevs from -chardev option strings and from the legacy
 * specs of -serial and -qtest.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "char-internal.h"
#include "util/error-report.h"
#include "util/sockets.h"

/* Quote a value for the option syntax: ',' becomes ",,". */
static char *opts_escape(const char *value)
{
    GString *s = g_string_new(NULL);

    for (const char *p = value; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ',');
        }
    }
    return g_string_free(s, false);
}

/*
 * QEMU still accepts "server", "noserver", "wait" and "nowait" without a
 * value in socket specs ("unix:PATH,server,nowait"); rewrite them into
 * key=value form.  The first element (the implied key) is left alone.
 * With @warn, say so as QEMU does for -chardev.
 */
static char *expand_short_bools(const char *str, bool warn)
{
    static const char *const names[] = { "server", "wait", NULL };
    GString *out = g_string_new(NULL);
    const char *p = str;
    bool first = true;

    while (*p) {
        const char *end = p;
        g_autofree char *elem = NULL;
        const char *key = NULL;
        bool on = true;

        while (*end && !(*end == ',' && end[1] != ',')) {
            end += *end == ',' ? 2 : 1;
        }
        elem = g_strndup(p, end - p);
        for (size_t i = 0; !first && names[i]; i++) {
            if (strcmp(elem, names[i]) == 0 ||
                (g_str_has_prefix(elem, "no") &&
                 strcmp(elem + 2, names[i]) == 0)) {
                key = names[i];
                on = strcmp(elem, names[i]) == 0;
            }
        }
        if (key && warn) {
            warn_report("short-form boolean option '%s' deprecated; "
                        "please use %s=%s instead", elem, key,
                        on ? "on" : "off");
        }
        if (key) {
            g_string_append_printf(out, "%s=%s", key, on ? "on" : "off");
        } else {
            g_string_append(out, elem);
        }
        if (*end == ',') {
            g_string_append_c(out, ',');
            end++;
        }
        p = end;
        first = false;
    }
    return g_string_free(out, false);
}

/* QEMU's identifier rule: a letter, then letters, digits, '-', '.', '_'. */
static bool id_is_valid(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool check_id(const char *id, Error **errp)
{
    if (!id_is_valid(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, "
                          "'-', '.', '_', starting with a letter.\n");
        return false;
    }
    return true;
}

/* Keys every backend accepts, then the backend's own. */
static bool check_keys(const ChardevClass *cls, const OptList *opts,
                       Error **errp)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();

    g_ptr_array_add(keys, (gpointer)"backend");
    g_ptr_array_add(keys, (gpointer)"id");
    for (size_t i = 0; cls->keys && cls->keys[i]; i++) {
        g_ptr_array_add(keys, (gpointer)cls->keys[i]);
    }
    g_ptr_array_add(keys, NULL);
    return opts_check_keys(opts, (const char *const *)keys->pdata, errp);
}

Chardev *chardev_new_from_opts(const char *optarg, Error **errp)
{
    g_autoptr(OptList) opts = NULL;
    g_autofree char *expanded = NULL;
    const ChardevClass *cls;
    const char *id, *backend;

    if (!optarg || !*optarg) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    expanded = expand_short_bools(optarg, true);
    opts = opts_parse(expanded, "backend", errp);
    if (!opts) {
        return NULL;
    }
    id = opts_get(opts, "id");
    if (!id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    if (!check_id(id, errp)) {
        return NULL;
    }
    backend = opts_get(opts, "backend");
    if (!backend) {
        error_setg(errp, "chardev: \"%s\" missing backend", id);
        return NULL;
    }
    cls = chardev_class_find(backend);
    if (!cls) {
        error_setg(errp, "'%s' is not a valid char driver name", backend);
        return NULL;
    }
    if (!check_keys(cls, opts, errp)) {
        return NULL;
    }
    return chardev_create(cls, id, opts, errp);
}

/*
 * "unix:PATH,opts" and "tcp:HOST:PORT,opts" become socket options; the
 * address goes through the same parser as -qmp so both read alike.
 */
static Chardev *legacy_socket(const char *label, const char *spec,
                              Error **errp)
{
    static const char *const keys[] = {
        "addr", "server", "wait", "reconnect", NULL
    };
    g_autofree char *expanded = expand_short_bools(spec, false);
    g_autoptr(OptList) opts = opts_parse(expanded, "addr", errp);
    g_autoptr(GString) s = g_string_new("socket");
    g_autoptr(OptList) sopts = NULL;
    SockAddr addr = { 0 };

    if (!opts || !opts_check_keys(opts, keys, errp)) {
        return NULL;
    }
    if (!opts_get(opts, "addr")) {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        return NULL;
    }
    if (!sock_addr_parse(opts_get(opts, "addr"), &addr, errp)) {
        return NULL;
    }
    /* Rebuild as -chardev syntax, doubling commas inside values. */
    if (addr.type == SOCK_ADDR_TYPE_UNIX) {
        g_autofree char *p = opts_escape(addr.path);

        g_string_append_printf(s, ",path=%s", p);
    } else {
        g_autofree char *h = opts_escape(addr.host);
        g_autofree char *p = opts_escape(addr.port);

        g_string_append_printf(s, ",host=%s,port=%s", h, p);
    }
    for (size_t i = 1; keys[i]; i++) {
        const char *v = opts_get(opts, keys[i]);

        if (v) {
            g_autofree char *e = opts_escape(v);

            g_string_append_printf(s, ",%s=%s", keys[i], e);
        }
    }
    sock_addr_clear(&addr);
    sopts = opts_parse(s->str, "backend", errp);
    return sopts ? chardev_create(&chardev_socket_class, label, sopts, errp)
                 : NULL;
}

Chardev *chardev_new_legacy(const char *label, const char *spec,
                            Error **errp)
{
    if (!spec) {
        error_setg(errp, "missing character device specification");
        return NULL;
    }
    if (g_str_has_prefix(spec, "chardev:")) {
        Chardev *c = chardev_find(spec + strlen("chardev:"));

        if (!c) {
            error_setg(errp, "chardev '%s' not found",
                       spec + strlen("chardev:"));
        }
        return c;
    }
    if (strcmp(spec, "stdio") == 0 || strcmp(spec, "null") == 0) {
        g_autoptr(OptList) opts = opts_parse("", NULL, errp);

        return opts ? chardev_create(chardev_class_find(spec), label, opts,
                                     errp)
                    : NULL;
    }
    if (g_str_has_prefix(spec, "file:")) {
        /* The path is everything after "file:", commas included. */
        g_autofree char *p = opts_escape(spec + strlen("file:"));
        g_autofree char *s = g_strdup_printf("path=%s", p);
        g_autoptr(OptList) opts = opts_parse(s, NULL, errp);

        return opts ? chardev_create(&chardev_file_class, label, opts, errp)
                    : NULL;
    }
    if (g_str_has_prefix(spec, "unix:") || g_str_has_prefix(spec, "tcp:")) {
        return legacy_socket(label, spec, errp);
    }
    error_setg(errp, "'%s' is not a valid char driver", spec);
    return NULL;
}
