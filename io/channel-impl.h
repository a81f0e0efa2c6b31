/*
 * What every channel type provides to the generic channel code.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_CHANNEL_IMPL_H
#define IO_CHANNEL_IMPL_H

#include "io/channel.h"
#include "util/thread.h"

typedef struct QIOChannelOps {
    const char *type;
    bool duplex;
    /*
     * One attempt, never waiting: bytes moved, 0 at end of file, or a
     * negative errno (-EAGAIN when the descriptor is not ready).  The
     * generic code sets errp from the errno.
     */
    ssize_t (*readv)(QIOChannel *ioc, const struct iovec *iov, size_t niov);
    ssize_t (*writev)(QIOChannel *ioc, const struct iovec *iov, size_t niov);
    /* Extra work for a shutdown (shutdown(2) for sockets); may be NULL. */
    void (*shutdown)(QIOChannel *ioc, QIOChannelShutdown how);
    /* Release the descriptors; 0 or -1 with errp set. */
    int (*close)(QIOChannel *ioc, Error **errp);
    /* Free the type's state after close; may be NULL. */
    void (*finalize)(QIOChannel *ioc);
} QIOChannelOps;

/*
 * A channel may be used by two threads at once (a reader and a writer
 * on a socket, or an I/O thread and one that shuts it down), so every
 * member says how it is shared.
 */
struct QIOChannel {
    /* Written once by qio_channel_init(), before the channel is shared. */
    const QIOChannelOps *ops;
    int refcount;               /* atomic */
    int shutdown_mask;          /* atomic, QIOChannelShutdown bits; set
                                 * under io_lock (see channel_stop()) */
    int blocking;               /* atomic bool */
    int closed;                 /* atomic bool; set under io_lock */
    int timeout_ms;             /* atomic: a wait's bound, 0 = none */
    int timed_out;              /* atomic bool: a wait hit the bound */
    /* Owner's thread only: set before the channel is handed out. */
    char *name;
    /*
     * Descriptors polled for reads and writes (-1 when none).  Written
     * at init; read without a lock by calls counted in io_active, which
     * close() waits for before the type's close releases them.
     */
    int rfd;
    int wfd;
    /*
     * eventfds shutdown() signals, one per direction; -1 until needed.
     * Protected by io_lock; closed only when the last reference goes.
     */
    int wake_rfd;
    int wake_wfd;
    /*
     * Protects: wake_rfd, wake_wfd, io_active, and orders the setting
     * of closed and shutdown_mask against a waiter creating a wake fd.
     * io_idle (with io_lock) is signalled when io_active drops to 0.
     * Calls inside a type's I/O or waiting in poll() are counted in
     * io_active; close() waits for them to leave before the descriptors
     * go, so a descriptor number is never used after it may have been
     * reused.
     */
    Mutex io_lock;
    Cond io_idle;
    int io_active;              /* protected by io_lock */
    void *opaque;               /* the type's state; its own locking */
};

/* Initialise the generic part (one reference, blocking, wake fds). */
void qio_channel_init(QIOChannel *ioc, const QIOChannelOps *ops,
                      int rfd, int wfd, void *opaque);
/* Set O_NONBLOCK, as every descriptor a channel waits on must be. */
void qio_channel_fd_set_nonblock(int fd);

/* readv/writev on a pipe or file descriptor without raising SIGPIPE. */
ssize_t qio_channel_fd_readv(int fd, const struct iovec *iov, size_t niov);
ssize_t qio_channel_fd_writev(int fd, const struct iovec *iov, size_t niov);

#endif /* IO_CHANNEL_IMPL_H */
