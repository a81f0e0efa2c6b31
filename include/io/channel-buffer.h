/*
 * Buffer channels: an in-memory byte queue.  Writes append at the end,
 * reads consume from a read position; reading at the end is end of file.
 * Used to build or replay a stream in memory (tests, COLO checkpoints).
 * Reads and writes are serialised by a lock, so one thread may fill the
 * buffer while another drains it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_CHANNEL_BUFFER_H
#define IO_CHANNEL_BUFFER_H

#include <stdint.h>
#include "io/channel.h"

/* initial: bytes to preallocate (0 is fine); the buffer grows as needed. */
QIOChannel *qio_channel_buffer_new(size_t initial);
bool qio_channel_is_buffer(QIOChannel *ioc);

/*
 * Everything written so far (from offset 0, including what has been read
 * already); *len gets its size.  The pointer is valid until the next
 * write, set_data, reset or the channel's end.  Aborts on another type.
 */
const uint8_t *qio_channel_buffer_data(QIOChannel *ioc, size_t *len);
/* Replace the contents with a copy of data and rewind. */
void qio_channel_buffer_set_data(QIOChannel *ioc, const void *data,
                                 size_t len);
/* Read again from offset 0. */
void qio_channel_buffer_rewind(QIOChannel *ioc);
/* Drop the contents (the allocation is kept) and rewind. */
void qio_channel_buffer_reset(QIOChannel *ioc);
/* Bytes not read yet. */
size_t qio_channel_buffer_pending(QIOChannel *ioc);

#endif /* IO_CHANNEL_BUFFER_H */
