/*
 * Error objects: creation, propagation, reporting.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qapi/error.h"
#include "util/error-report.h"

struct Error {
    char *msg;
    ErrorClass err_class;
    const char *src;
    const char *func;
    int line;
    GString *hint;
};

/*
 * Only the addresses of these two matter: they are sentinels that tell
 * error_handle() to abort or exit instead of storing the error.
 */
Error *error_abort;
Error *error_fatal;

static const char *const error_class_names[ERROR_CLASS__MAX] = {
    [ERROR_CLASS_GENERIC_ERROR] = "GenericError",
    [ERROR_CLASS_COMMAND_NOT_FOUND] = "CommandNotFound",
    [ERROR_CLASS_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [ERROR_CLASS_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [ERROR_CLASS_KVM_MISSING_CAP] = "KVMMissingCap",
};

const char *error_class_str(ErrorClass cls)
{
    if (cls < 0 || cls >= ERROR_CLASS__MAX) {
        return "GenericError";
    }
    return error_class_names[cls];
}

static void error_handle(Error **errp, Error *err)
{
    if (errp == &error_abort) {
        fprintf(stderr, "Unexpected error in %s() at %s:%d:\n",
                err->func, err->src, err->line);
        error_report("%s", error_get_pretty(err));
        if (err->hint) {
            fputs(err->hint->str, stderr);
        }
        abort();
    }
    if (errp == &error_fatal) {
        error_report_err(err);
        exit(1);
    }
    if (!errp) {
        error_free(err);
        return;
    }
    /*
     * Setting an error over an existing one is a bug in the caller: the
     * first error is the root cause and must not be lost silently.
     */
    g_assert(*errp == NULL);
    *errp = err;
}

static void error_setv(Error **errp, const char *src, int line,
                       const char *func, ErrorClass cls,
                       const char *fmt, va_list ap, const char *suffix)
{
    Error *err;
    int saved_errno = errno;

    if (!errp) {
        return;
    }
    g_assert(*errp == NULL || errp == &error_abort || errp == &error_fatal);

    err = g_new0(Error, 1);
    err->msg = g_strdup_vprintf(fmt, ap);
    if (suffix) {
        char *full = g_strdup_printf("%s: %s", err->msg, suffix);
        g_free(err->msg);
        err->msg = full;
    }
    err->err_class = cls;
    err->src = src;
    err->line = line;
    err->func = func;

    error_handle(errp, err);
    errno = saved_errno;
}

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_setv(errp, src, line, func, ERROR_CLASS_GENERIC_ERROR, fmt, ap,
               NULL);
    va_end(ap);
}

void error_set_internal(Error **errp, const char *src, int line,
                        const char *func, ErrorClass cls,
                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_setv(errp, src, line, func, cls, fmt, ap, NULL);
    va_end(ap);
}

void error_setg_errno_internal(Error **errp, const char *src, int line,
                               const char *func, int os_errno,
                               const char *fmt, ...)
{
    va_list ap;
    int saved_errno = errno;

    va_start(ap, fmt);
    error_setv(errp, src, line, func, ERROR_CLASS_GENERIC_ERROR, fmt, ap,
               os_errno != 0 ? g_strerror(os_errno) : NULL);
    va_end(ap);
    errno = saved_errno;
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

ErrorClass error_get_class(const Error *err)
{
    return err->err_class;
}

Error *error_copy(const Error *err)
{
    Error *copy = g_new0(Error, 1);

    copy->msg = g_strdup(err->msg);
    copy->err_class = err->err_class;
    copy->src = err->src;
    copy->line = err->line;
    copy->func = err->func;
    if (err->hint) {
        copy->hint = g_string_new(err->hint->str);
    }
    return copy;
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        if (err->hint) {
            g_string_free(err->hint, TRUE);
        }
        g_free(err);
    }
}

void error_free_or_abort(Error **errp)
{
    g_assert(errp && *errp);
    error_free(*errp);
    *errp = NULL;
}

void error_propagate(Error **dst_errp, Error *local_err)
{
    if (!local_err) {
        return;
    }
    if (dst_errp == &error_abort || dst_errp == &error_fatal) {
        error_handle(dst_errp, local_err);
        return;
    }
    if (dst_errp && !*dst_errp) {
        *dst_errp = local_err;
    } else {
        error_free(local_err);
    }
}

static void error_vprepend(Error *const *errp, const char *fmt, va_list ap)
{
    Error *err;
    char *prefix;
    char *msg;

    if (!errp) {
        return;
    }
    err = *errp;
    if (!err) {
        return;
    }
    prefix = g_strdup_vprintf(fmt, ap);
    msg = g_strconcat(prefix, err->msg, NULL);
    g_free(prefix);
    g_free(err->msg);
    err->msg = msg;
}

void error_prepend(Error *const *errp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vprepend(errp, fmt, ap);
    va_end(ap);
}

void error_propagate_prepend(Error **dst_errp, Error *local_err,
                             const char *fmt, ...)
{
    va_list ap;

    if (local_err && dst_errp != &error_abort && dst_errp != &error_fatal &&
        dst_errp && !*dst_errp) {
        va_start(ap, fmt);
        error_vprepend(&local_err, fmt, ap);
        va_end(ap);
    }
    error_propagate(dst_errp, local_err);
}

void error_append_hint(Error *const *errp, const char *fmt, ...)
{
    va_list ap;
    Error *err;

    /*
     * Hints added behind &error_fatal or &error_abort would be lost: the
     * error was already reported.  ERRP_GUARD() avoids that case.
     */
    if (!errp || !*errp) {
        return;
    }
    err = *errp;
    if (!err->hint) {
        err->hint = g_string_new(NULL);
    }
    va_start(ap, fmt);
    g_string_append_vprintf(err->hint, fmt, ap);
    va_end(ap);
}

void error_report_err(Error *err)
{
    error_report("%s", error_get_pretty(err));
    if (err->hint) {
        fputs(err->hint->str, stderr);
    }
    error_free(err);
}

void warn_report_err(Error *err)
{
    warn_report("%s", error_get_pretty(err));
    if (err->hint) {
        fputs(err->hint->str, stderr);
    }
    error_free(err);
}
