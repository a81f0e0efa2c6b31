/*
 * QEMUFile: a buffered, big-endian byte stream on top of a QIOChannel,
 * the transport of the migration stream.
 *
 * A QEMUFile goes one way only: output (put_*) or input (get_*).  Errors
 * are sticky: the first one is kept (a negative errno plus an Error
 * object) and from then on every get returns 0 and every put does
 * nothing, so a protocol step can issue many calls and check
 * qemu_file_get_error() once at the end.  Reads block on the channel;
 * the end of the stream in the middle of an item is the error -EIO
 * "Unexpected end of stream".
 *
 * One QEMUFile is used by one thread at a time, except
 * qemu_file_shutdown(), which any thread may call to wake the user.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_QEMU_FILE_H
#define MIGRATION_QEMU_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qapi/error.h"

typedef struct QIOChannel QIOChannel;
typedef struct QEMUFile QEMUFile;

/*
 * Size of the internal buffer: output is written, and input read, up to
 * this much at a time.  Large writes and reads, and long runs of pages
 * for the loader to copy at once, are what lets a migration approach
 * the speed of a plain socket copy (docs/migration.md, Benchmark).
 */
#define QEMU_FILE_BUF_SIZE (1024 * 1024)

/* Output is written with one writev() of at most this many pieces. */
#define QEMU_FILE_IOV_MAX 256

/* Length of the rate limit's accounting window. */
#define QEMU_FILE_RATE_WINDOW_MS 100

/* Both take a reference on @ioc, dropped by qemu_fclose(). */
QEMUFile *qemu_file_new_output(QIOChannel *ioc);
QEMUFile *qemu_file_new_input(QIOChannel *ioc);

/*
 * A new QEMUFile for the reverse direction of @f's channel (input for
 * an output file and vice versa), or NULL when the channel is not
 * duplex.  It shares the channel: closing it does not close the
 * channel (the original file does), but qemu_file_shutdown() on either
 * shuts the channel down for both.
 */
QEMUFile *qemu_file_get_return_path(QEMUFile *f);

/*
 * Flush, close the channel (unless @f is a return path) and free @f.
 * No other thread may be using the channel any more (shut it down and
 * wait for that thread first).
 * Returns the first error seen on @f (negative errno), else the
 * channel's close error, else 0.  NULL is allowed (returns 0).
 */
int qemu_fclose(QEMUFile *f);
/* Same, and the description of that error goes to @errp. */
int qemu_fclose_errp(QEMUFile *f, Error **errp);

/* Write out everything buffered (output files; no-op otherwise). */
void qemu_fflush(QEMUFile *f);

bool qemu_file_is_writable(QEMUFile *f);
/* The channel, without a new reference. */
QIOChannel *qemu_file_get_ioc(QEMUFile *f);

void qemu_put_byte(QEMUFile *f, int v);
void qemu_put_be16(QEMUFile *f, unsigned int v);
void qemu_put_be32(QEMUFile *f, unsigned int v);
void qemu_put_be64(QEMUFile *f, uint64_t v);
void qemu_put_buffer(QEMUFile *f, const uint8_t *buf, size_t size);
/*
 * The same, for memory that stays as it is until the next flush (at the
 * latest qemu_fflush() or qemu_fclose()): on a file whose channel is a
 * buffer channel it is not copied into the file's buffer but written
 * from @buf at the flush, one copy fewer.  On other channels (sockets:
 * a kernel copy from memory this process has not touched can cost more
 * than the copy saved) it is copied like qemu_put_buffer().
 */
void qemu_put_buffer_async(QEMUFile *f, const uint8_t *buf, size_t size);
/* u8 length + bytes; @str must be at most 255 bytes long. */
void qemu_put_counted_string(QEMUFile *f, const char *str);

/* After an error (or at the end of the stream) these return 0. */
int qemu_get_byte(QEMUFile *f);
unsigned int qemu_get_be16(QEMUFile *f);
unsigned int qemu_get_be32(QEMUFile *f);
uint64_t qemu_get_be64(QEMUFile *f);
/* Returns @size, or 0 after an error (@buf is then zero-filled). */
size_t qemu_get_buffer(QEMUFile *f, uint8_t *buf, size_t size);
/*
 * u8 length + bytes into @buf, NUL-terminated.  Returns the length, or
 * 0 on error (then @buf is "").
 */
size_t qemu_get_counted_string(QEMUFile *f, char buf[256]);

/*
 * Look ahead without consuming: the byte @offset bytes past the read
 * position (0 <= offset < QEMU_FILE_BUF_SIZE), or -1 when the stream
 * ends before it or an error is pending.  Reaching the end of the
 * stream while peeking is not an error by itself: it becomes one when
 * a get needs the missing bytes.
 */
int qemu_peek_byte(QEMUFile *f, int offset);
/*
 * Make @size bytes starting @offset bytes past the read position
 * available without consuming them; *@buf points into the internal
 * buffer (valid until the next call on @f).  Returns how many bytes
 * are available (less than @size only at the end of the stream or on
 * error).  @offset + @size must not exceed QEMU_FILE_BUF_SIZE.
 */
size_t qemu_peek_buffer(QEMUFile *f, uint8_t **buf, size_t size,
                        size_t offset);
/*
 * The bytes already read from the channel and not consumed yet, without
 * reading more: *@buf points at them (valid until the next call on @f
 * other than this one).  0 after an error.
 */
size_t qemu_file_buffered(QEMUFile *f, uint8_t **buf);
/* Consume @size bytes already made available by a peek. */
void qemu_file_skip(QEMUFile *f, size_t size);

/*
 * 0 or the first error (negative errno); -EIO ("Stream was shut down")
 * once qemu_file_shutdown() was called on @f, even before any I/O.
 */
int qemu_file_get_error(QEMUFile *f);
/*
 * Like qemu_file_get_error(); when there is an error and @errp is not
 * NULL, also stores a copy of its Error object (or a generic one from
 * the errno when none was given).
 */
int qemu_file_get_error_obj(QEMUFile *f, Error **errp);
/* Record @ret (negative errno) unless an error is already recorded. */
void qemu_file_set_error(QEMUFile *f, int ret);
/* Same, with a description; takes ownership of @err (may be NULL). */
void qemu_file_set_error_obj(QEMUFile *f, int ret, Error *err);

/* Bytes put (output) or got (input) so far, buffered ones included. */
uint64_t qemu_file_transferred(QEMUFile *f);

/*
 * Output bandwidth limit in bytes per second, 0 for none.  The budget
 * is bytes_per_sec / 10 per window of QEMU_FILE_RATE_WINDOW_MS; a new
 * window starts when the previous one has elapsed (checked by
 * qemu_file_rate_limit()) or on qemu_file_reset_rate_limit().
 */
void qemu_file_set_rate_limit(QEMUFile *f, int64_t bytes_per_sec);
int64_t qemu_file_get_rate_limit(QEMUFile *f);
/* True when the current window's budget is spent (or on error). */
bool qemu_file_rate_limit(QEMUFile *f);
/* Start a new window now. */
void qemu_file_reset_rate_limit(QEMUFile *f);
/* Count @len bytes sent outside @f against the current window. */
void qemu_file_acct_rate_limit(QEMUFile *f, int64_t len);
/* Bytes counted in the current window. */
int64_t qemu_file_rate_limit_used(QEMUFile *f);
/*
 * Replace the clock that measures windows (nanoseconds; default: the
 * realtime clock), so tests can drive the windows without sleeping.
 */
typedef int64_t QEMUFileClockFn(void *opaque);
void qemu_file_set_clock(QEMUFile *f, QEMUFileClockFn *clock, void *opaque);

/*
 * Shut the channel down in both directions so that a thread blocked
 * reading or writing @f (or its return path) returns at once with an
 * error.  Any thread.  Returns 0 or a negative errno.
 */
int qemu_file_shutdown(QEMUFile *f);

#endif /* MIGRATION_QEMU_FILE_H */
