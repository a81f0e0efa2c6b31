/*
 * Error reporting for functions that can fail.
 *
 * Convention: a function that can fail takes "Error **errp" as its last
 * parameter and also returns bool (true on success), a pointer (NULL on
 * failure) or a negative errno, so callers can branch without looking at
 * *errp.  errp may be:
 *   - NULL: the caller does not care about the details;
 *   - &error_abort: failure is a programming error, abort with a message;
 *   - &error_fatal: failure ends the process (command-line parsing);
 *   - the address of a local "Error *err = NULL": the caller handles it.
 * An error is reported once, where it is finally handled; code that only
 * passes it on never prints it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_ERROR_H
#define QAPI_ERROR_H

#include <stdbool.h>
#include <glib.h>

typedef struct Error Error;

/* Classes a QMP client sees in {"error": {"class": ...}}. */
typedef enum ErrorClass {
    ERROR_CLASS_GENERIC_ERROR,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
    ERROR_CLASS__MAX,
} ErrorClass;

extern Error *error_abort;
extern Error *error_fatal;

const char *error_class_str(ErrorClass cls);
const char *error_get_pretty(const Error *err);
ErrorClass error_get_class(const Error *err);
Error *error_copy(const Error *err);
void error_free(Error *err);
void error_free_or_abort(Error **errp);

#define error_setg(errp, ...) \
    error_setg_internal((errp), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define error_set(errp, cls, ...) \
    error_set_internal((errp), __FILE__, __LINE__, __func__, (cls), \
                       __VA_ARGS__)
#define error_setg_errno(errp, os_errno, ...) \
    error_setg_errno_internal((errp), __FILE__, __LINE__, __func__, \
                              (os_errno), __VA_ARGS__)

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);
void error_set_internal(Error **errp, const char *src, int line,
                        const char *func, ErrorClass cls,
                        const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);
void error_setg_errno_internal(Error **errp, const char *src, int line,
                               const char *func, int os_errno,
                               const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);

/*
 * Move local_err into *dst_errp.  If *dst_errp already holds an error the
 * first one wins and local_err is freed, so the root cause is kept.
 */
void error_propagate(Error **dst_errp, Error *local_err);
void error_propagate_prepend(Error **dst_errp, Error *local_err,
                             const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Prefix the message of *errp, if any: "fmt...: old message". */
void error_prepend(Error *const *errp, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Add a hint printed after the message by error_report_err(). */
void error_append_hint(Error *const *errp, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* Print err (with its hint) through error_report() and free it. */
void error_report_err(Error *err);
void warn_report_err(Error *err);

/*
 * ERRP_GUARD() makes errp safe to dereference in the current function:
 * when the caller passed NULL or &error_fatal, errp is pointed at a local
 * Error * and the error is handed on when the function returns.  Use it in
 * functions that look at *errp or call error_prepend()/error_append_hint().
 */
typedef struct ErrorPropagator {
    Error *local_err;
    Error **errp;
} ErrorPropagator;

static inline void error_propagator_cleanup(ErrorPropagator *prop)
{
    error_propagate(prop->errp, prop->local_err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ErrorPropagator, error_propagator_cleanup)

#define ERRP_GUARD()                                                  \
    g_auto(ErrorPropagator) _auto_errp_prop = { .errp = errp };       \
    do {                                                              \
        if (!errp || errp == &error_fatal) {                          \
            errp = &_auto_errp_prop.local_err;                        \
        }                                                             \
    } while (0)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Error, error_free)

#endif /* QAPI_ERROR_H */
