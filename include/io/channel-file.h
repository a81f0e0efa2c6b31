/*
 * File channels: a regular file, a FIFO, a pipe end or a character
 * device, read and written sequentially.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_CHANNEL_FILE_H
#define IO_CHANNEL_FILE_H

#include <sys/types.h>
#include "io/channel.h"

/*
 * open(path, flags | O_CLOEXEC, mode) and wrap the descriptor; flags'
 * access mode decides whether the channel reads, writes or both.
 * Failure: "Unable to open PATH: REASON".
 */
QIOChannel *qio_channel_file_new_path(const char *path, int flags,
                                      mode_t mode, Error **errp);
/*
 * Wrap fd (the channel owns it and closes it).  Its access mode is taken
 * from fcntl(F_GETFL); writing to a pipe whose reader is gone is an
 * error, never SIGPIPE.  Aborts if fd is not an open descriptor.
 */
QIOChannel *qio_channel_file_new_fd(int fd);
bool qio_channel_is_file(QIOChannel *ioc);

#endif /* IO_CHANNEL_FILE_H */
