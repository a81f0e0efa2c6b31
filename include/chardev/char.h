/*
 * Character devices: byte streams between a device model (the frontend)
 * and the host (stdio, a file, a socket...).
 *
 * Threads: creation, handlers and cleanup run in the main loop thread
 * with the BQL held.  chardev_write() may also be called from a vCPU
 * thread holding the BQL; it never blocks: what the backend cannot take
 * at once is kept in a bounded buffer flushed from the main loop, and
 * anything beyond that (or written while no peer is connected) is
 * dropped and counted, as QEMU does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qapi/error.h"

typedef struct Chardev Chardev;

/* How many bytes the frontend can take now; 0 pauses input. */
typedef int CharCanReadFn(void *opaque);
/* Deliver @size bytes, never more than the last CharCanReadFn allowed. */
typedef void CharReadFn(void *opaque, const uint8_t *buf, int size);

typedef enum CharEvent {
    CHR_EVENT_OPENED,   /* a peer is connected (or the backend opened) */
    CHR_EVENT_CLOSED,   /* the peer went away */
} CharEvent;

typedef void CharEventFn(void *opaque, CharEvent event);

/* Bytes chardev_write() keeps for a slow peer before it drops output. */
#define CHARDEV_WRITE_BUFFER_MAX (64 * 1024)

/*
 * -chardev BACKEND,id=ID,...:
 *   stdio,id=ID[,signal=on|off]
 *   file,id=ID,path=PATH[,append=on|off]     (truncates unless append=on)
 *   null,id=ID
 *   socket,id=ID,path=PATH[,server=on|off][,wait=on|off][,reconnect=N]
 *   socket,id=ID,host=HOST,port=PORT[,...as above]
 *   ringbuf,id=ID[,size=SIZE]  (output kept in memory, power of two)
 * server defaults to off, wait to on (servers only), reconnect (clients
 * only: retry every N seconds after a failed or lost connection) to 0.
 * QEMU's short forms "server" and "nowait" are accepted with a warning.
 * The chardev is registered under ID; errors name the bad part, with
 * QEMU's texts where QEMU has one.
 */
Chardev *chardev_new_from_opts(const char *optarg, Error **errp);

/*
 * Legacy specs used by -serial and -qtest: "stdio", "file:PATH" (PATH
 * taken literally), "null", "unix:PATH[,server=on|off][,wait=on|off]",
 * "tcp:HOST:PORT[,server=on|off][,wait=on|off]" (both also with
 * reconnect=N, and the short forms "server"/"nowait" silently, as QEMU),
 * "chardev:ID" (an existing chardev, returned as is).  New chardevs get
 * @label as id.
 */
Chardev *chardev_new_legacy(const char *label, const char *spec,
                            Error **errp);

Chardev *chardev_find(const char *id);
const char *chardev_id(const Chardev *c);
/* The backend's name: "stdio", "file", "null", "socket", "ringbuf". */
const char *chardev_driver(const Chardev *c);

/*
 * Attach a frontend; all callbacks NULL detaches it.  Without a read
 * callback no input is consumed.  When the backend is already open the
 * event callback gets CHR_EVENT_OPENED before this returns, so a
 * frontend never misses the open state.
 */
void chardev_set_handlers(Chardev *c, CharCanReadFn *can_read,
                          CharReadFn *read, CharEventFn *event,
                          void *opaque);

/*
 * True while a frontend is attached.  A second frontend must not take
 * over: fail with QEMU's "Device '%s' is in use" instead.
 */
bool chardev_in_use(const Chardev *c);

/*
 * The frontend sends @len bytes: through the filters, then to the
 * backend.  Returns how many were taken (written, buffered or taken by
 * a filter): @len unless some were dropped because no peer is
 * connected, the buffer is full or the output failed; -1 on a bad
 * argument.  BQL held, any thread; never blocks.
 */
int chardev_write(Chardev *c, const uint8_t *buf, int len);

/*
 * The frontend calls this once it can take input again after its
 * CharCanReadFn returned 0, so that the backend resumes reading.
 * Any thread with the BQL held.
 */
void chardev_accept_input(Chardev *c);

/*
 * True while the backend is open: a socket has a peer; file, null and
 * ringbuf always; stdio until stdin reaches end of file (output to
 * stdout carries on after that, as in QEMU).
 */
bool chardev_is_connected(const Chardev *c);
/* Bytes dropped so far by chardev_write(). */
uint64_t chardev_dropped_bytes(const Chardev *c);
/* Bytes waiting in the write buffer. */
size_t chardev_pending_bytes(const Chardev *c);

/*
 * For a socket chardev: its address as "unix:PATH" or "tcp:HOST:PORT"
 * (for a server given port=0, with the port the kernel chose).  NULL
 * for other backends.  Caller frees.
 */
char *chardev_socket_address(const Chardev *c);

/*
 * ringbuf backend: move up to @len bytes of kept output into @buf and
 * return how many.  -1 for other backends.
 */
int chardev_ringbuf_read(Chardev *c, uint8_t *buf, int len);

/*
 * ringbuf backend: queue @len bytes of input for the frontend (at most
 * the ring size may wait) and deliver what it has room for now; the rest
 * follows as it calls chardev_accept_input().  Returns the bytes queued,
 * -1 for other backends.  BQL.
 */
int chardev_ringbuf_input(Chardev *c, const uint8_t *buf, int len);

/*
 * Block until every socket server created with wait=on has a client,
 * as QEMU waits before starting the machine.  Returns false with errp
 * unset when @abort_fd (e.g. a signalfd; -1 for none) became readable,
 * false with errp set on a poll failure.  Main thread, BQL held.
 */
bool chardev_wait_for_clients(int abort_fd, Error **errp);

/*
 * Filters and stream positions (the COLO proxy, docs/colo.md).
 *
 * A frontend's two byte streams have positions: in_pos counts the bytes
 * delivered to the frontend, out_pos the bytes it wrote, both since the
 * chardev was created.  epoch is a number the output comparison raises
 * at every checkpoint.  They are part of the frontend's device state
 * (the UART saves them when filters are attached), so that a COLO
 * secondary continues both streams at exactly the primary's positions.
 *
 * Filters sit between the frontend and the backend, in the order they
 * were added.  Every callback runs with the BQL held, in the thread that
 * moved the bytes (a vCPU for output, the main loop for input).
 */
typedef struct ChardevStreamState {
    uint64_t in_pos;
    uint64_t out_pos;
    uint32_t epoch;
} ChardevStreamState;

typedef struct ChardevFilterOps {
    /*
     * The frontend wrote @len bytes starting at stream position @pos.
     * Return true to take them: neither later filters nor the backend
     * see them.  NULL: output is not looked at.
     */
    bool (*output)(void *opaque, uint64_t pos, const uint8_t *buf, int len);
    /* @len bytes at input position @pos reach the frontend. May be NULL. */
    void (*input)(void *opaque, uint64_t pos, const uint8_t *buf, int len);
    /*
     * For the filter that owns the input (chardev_filter_own_input()):
     * the frontend has room again or the positions changed.  May be NULL.
     */
    void (*input_ready)(void *opaque);
    /* chardev_set_stream_state() replaced the positions.  May be NULL. */
    void (*stream_loaded)(void *opaque);
} ChardevFilterOps;

/* Attach a filter behind those already there; @opaque identifies it. */
void chardev_filter_add(Chardev *c, const ChardevFilterOps *ops,
                        void *opaque);
/* Detach the filter added with @opaque (giving up input it owned). */
void chardev_filter_remove(Chardev *c, void *opaque);
bool chardev_has_filters(const Chardev *c);

/*
 * While a filter owns the input (@own), the backend is not read at all
 * (what arrives waits in the kernel) and the frontend gets only what the
 * filter injects.  Giving it back resumes reading the backend.
 */
void chardev_filter_own_input(Chardev *c, void *opaque, bool own);
/* How many bytes the frontend takes now (0 when it has no room). */
int chardev_filter_input_room(Chardev *c);
/*
 * Deliver @len bytes, at most chardev_filter_input_room(), to the
 * frontend as input at the current in_pos.
 */
void chardev_filter_inject(Chardev *c, const uint8_t *buf, int len);

void chardev_get_stream_state(const Chardev *c, ChardevStreamState *st);
void chardev_set_stream_state(Chardev *c, const ChardevStreamState *st);
/* Raise the epoch by one and return the new value. */
uint32_t chardev_next_epoch(Chardev *c);

/*
 * Send to the backend past every filter (what a filter releases to
 * the outside).  Same contract as chardev_write().
 */
int chardev_write_backend(Chardev *c, const uint8_t *buf, int len);
/*
 * Send all @len bytes or none (a framed record must never be cut):
 * false when no peer is connected or the write buffer lacks room.
 */
bool chardev_write_all(Chardev *c, const uint8_t *buf, int len);

/*
 * Close and free one chardev, removing a socket file it created.  Output
 * still buffered gets up to half a second to drain.  NULL allowed.
 */
void chardev_free(Chardev *c);
/* Close and free every chardev, removing the socket files we created. */
void chardev_cleanup_all(void);

#endif /* CHARDEV_CHAR_H */
