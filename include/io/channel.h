/*
 * I/O channels: a refcounted byte stream over a socket, a file, a
 * command's pipes or a memory buffer, with one API for all of them.
 *
 * Blocking I/O waits in poll() on the channel's file descriptor together
 * with an internal wake-up descriptor, so qio_channel_shutdown() from any
 * thread makes a thread blocked in a read or a write return promptly,
 * whatever kind of descriptor the channel has.  The descriptors a channel
 * owns are always switched to O_NONBLOCK; "blocking mode" is the
 * channel's behaviour, not the descriptor's.
 *
 * Threads: one thread may read while another writes on the same channel
 * (a duplex socket used as a migration stream plus its return path).  Two
 * threads reading (or two writing) at the same time interleave their data
 * and are not supported.  qio_channel_shutdown() and qio_channel_close()
 * may be called from any thread at any time: close first wakes and waits
 * out any thread inside a read or write on the channel (which then fails
 * with "Channel is closed"), and only then releases the descriptors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_CHANNEL_H
#define IO_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <glib.h>
#include "qapi/error.h"

typedef struct QIOChannel QIOChannel;

/* Returned by the non-_all read/write calls in non-blocking mode. */
#define QIO_CHANNEL_ERR_BLOCK -2

typedef enum QIOChannelShutdown {
    QIO_CHANNEL_SHUTDOWN_READ = 1,
    QIO_CHANNEL_SHUTDOWN_WRITE = 2,
    QIO_CHANNEL_SHUTDOWN_BOTH = 3,
} QIOChannelShutdown;

typedef enum QIOChannelFeature {
    /* qio_channel_shutdown() wakes blocked I/O (true for every channel) */
    QIO_CHANNEL_FEATURE_SHUTDOWN,
    /*
     * Reads and writes go to the same peer in opposite directions and may
     * run in two threads at once (sockets), so a return path can be
     * opened on the same channel.
     */
    QIO_CHANNEL_FEATURE_DUPLEX,
} QIOChannelFeature;

/*
 * A new channel has one reference; the last unref closes it (an error
 * from that close only goes to the trace: call qio_channel_close() first
 * to see it).
 */
QIOChannel *qio_channel_ref(QIOChannel *ioc);
void qio_channel_unref(QIOChannel *ioc);          /* NULL is allowed */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QIOChannel, qio_channel_unref)

/* A name for traces and error messages ("migration-source", ...). */
void qio_channel_set_name(QIOChannel *ioc, const char *name);
const char *qio_channel_get_name(QIOChannel *ioc);
/* The kind of channel: "socket", "file", "command" or "buffer". */
const char *qio_channel_get_type(QIOChannel *ioc);

bool qio_channel_has_feature(QIOChannel *ioc, QIOChannelFeature feature);
bool qio_channel_has_feature_shutdown(QIOChannel *ioc);
bool qio_channel_is_duplex(QIOChannel *ioc);

/*
 * Read into / write from the vector.  Returns the number of bytes moved
 * (> 0; a write may be partial), 0 at end of file (reads only),
 * QIO_CHANNEL_ERR_BLOCK in non-blocking mode when nothing can be moved
 * now, or -1 with errp set on error, including after the direction was
 * shut down or the channel closed.  niov == 0 or a total length of 0
 * returns 0 at once.
 */
ssize_t qio_channel_readv(QIOChannel *ioc, const struct iovec *iov,
                          size_t niov, Error **errp);
ssize_t qio_channel_writev(QIOChannel *ioc, const struct iovec *iov,
                           size_t niov, Error **errp);
ssize_t qio_channel_read(QIOChannel *ioc, char *buf, size_t len,
                         Error **errp);
ssize_t qio_channel_write(QIOChannel *ioc, const char *buf, size_t len,
                          Error **errp);

/*
 * The _all variants move every byte, waiting for the descriptor even in
 * non-blocking mode.
 *
 * read_all_eof: 1 when everything was read, 0 on a clean end of file
 * before the first byte, -1 on error (end of file after some bytes is an
 * error: "Unexpected end-of-file before all data were read").
 * read_all, readv_all, write_all, writev_all: 0 or -1; for reads any end
 * of file is an error.
 */
int qio_channel_readv_all_eof(QIOChannel *ioc, const struct iovec *iov,
                              size_t niov, Error **errp);
int qio_channel_readv_all(QIOChannel *ioc, const struct iovec *iov,
                          size_t niov, Error **errp);
int qio_channel_read_all_eof(QIOChannel *ioc, char *buf, size_t len,
                             Error **errp);
int qio_channel_read_all(QIOChannel *ioc, char *buf, size_t len,
                         Error **errp);
int qio_channel_writev_all(QIOChannel *ioc, const struct iovec *iov,
                           size_t niov, Error **errp);
int qio_channel_write_all(QIOChannel *ioc, const char *buf, size_t len,
                          Error **errp);

/*
 * Bound each wait of blocking I/O: a read or write whose descriptor stays
 * not ready for @ms milliseconds fails ("Timed out reading from NAME:
 * nothing arrived for MS ms", or "writing to NAME: the peer took
 * nothing for ..."), and qio_channel_timed_out() becomes true.  Every
 * bit of progress starts a new wait, so a slow peer is not a dead one.
 * 0 (the default) waits forever.  Any thread; applies from the next
 * wait on, in both directions.
 */
void qio_channel_set_timeout(QIOChannel *ioc, int ms);
int qio_channel_get_timeout(QIOChannel *ioc);
/* Has a read or write on @ioc failed by its timeout? */
bool qio_channel_timed_out(QIOChannel *ioc);

/* New channels are blocking.  Never fails today; errp for the future. */
bool qio_channel_set_blocking(QIOChannel *ioc, bool enabled, Error **errp);
bool qio_channel_is_blocking(QIOChannel *ioc);

/*
 * Permanently stop reading and/or writing.  Any thread.  A thread blocked
 * in the shut-down direction returns -1 ("Channel was shut down")
 * promptly, and so does every later call in that direction.  For sockets
 * shutdown(2) is called too, so the peer sees end of file.  Returns 0, or
 * -1 with errp set when the channel is already closed.
 */
int qio_channel_shutdown(QIOChannel *ioc, QIOChannelShutdown how,
                         Error **errp);

/*
 * Release the descriptors (for a command: close the pipes and reap the
 * child, see qio_channel_command_new_spawn()).  A thread blocked in I/O
 * on the channel is woken first.  Later I/O fails with "Channel is
 * closed"; closing twice is a no-op returning 0.  Returns 0 or -1 with
 * errp set.
 */
int qio_channel_close(QIOChannel *ioc, Error **errp);

/*
 * The descriptor to watch in the main loop (for a command opened O_RDWR:
 * the read side), or -1 for a buffer or a closed channel.  It is in
 * O_NONBLOCK mode; do not read or write it directly.
 */
int qio_channel_get_fd(QIOChannel *ioc);

/* The constructors and type-specific calls, so one include is enough. */
#include "io/channel-socket.h"
#include "io/channel-file.h"
#include "io/channel-command.h"
#include "io/channel-buffer.h"

#endif /* IO_CHANNEL_H */
