/*
 * What chardev backends share with the generic layer in char.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CHARDEV_CHAR_INTERNAL_H
#define CHARDEV_CHAR_INTERNAL_H

#include <sys/types.h>

#include "chardev/char.h"
#include "util/main-loop.h"
#include "util/option.h"
#include "util/thread.h"

typedef struct ChardevClass {
    const char *name;
    size_t instance_size;           /* the backend's struct, Chardev first */
    const char *const *keys;        /* options besides "backend" and "id" */
    /* Parse the backend's options and open it. */
    bool (*open)(Chardev *c, const OptList *opts, Error **errp);
    /* Release what open() acquired; the generic layer closes nothing. */
    void (*close)(Chardev *c);
    /*
     * Take what it can of @buf now, never blocking; return the count or
     * -1 with errno set.  Called with out_lock held.  NULL: write to
     * out_fd.
     */
    ssize_t (*write_raw)(Chardev *c, const uint8_t *buf, size_t len);
    /* Input reached end of file (or failed).  NULL: stop reading. */
    void (*input_eof)(Chardev *c);
    /* Output failed for good (peer gone).  Main loop.  May be NULL. */
    void (*output_error)(Chardev *c);
    /* The frontend can take input again (after in_fd work). May be NULL. */
    void (*accept_input)(Chardev *c);
    /* For chardev_socket_address(); may be NULL. */
    char *(*address)(const Chardev *c);
} ChardevClass;

struct Chardev {
    /* Written once by chardev_create(), before anyone else sees it. */
    char *id;
    const ChardevClass *cls;

    /* Protected by the BQL (the frontend sets them, input uses them). */
    CharCanReadFn *fe_can_read;
    CharReadFn *fe_read;
    CharEventFn *fe_event;
    void *fe_opaque;

    /* Protected by the BQL; in_fd and in_paused change under out_lock too. */
    bool opened;            /* a peer exists: OPENED was (or will be) sent */
    int in_fd;              /* read when the frontend has room; -1: none */
    bool in_paused;         /* frontend full: in_fd not watched */

    /*
     * vCPU threads write while the main loop flushes, so the output side
     * has a lock of its own; the BQL covers everything else.
     * Protects: out_fd, out_is_socket, out_broken, wbuf, out_watched,
     * dropped.  out_fd and out_is_socket also change only with the BQL
     * held (chardev_attach_fds()), so BQL holders may read them without
     * out_lock.
     */
    Mutex out_lock;
    int out_fd;             /* -1: output is discarded (and counted) */
    bool out_is_socket;     /* send(MSG_NOSIGNAL): no SIGPIPE */
    bool out_broken;        /* a write failed for good: drop until reset */
    GByteArray *wbuf;       /* accepted but not yet written */
    bool out_watched;       /* the write handler is armed */
    uint64_t dropped;
    /* Created with the chardev; bh_schedule() is thread-safe. */
    BH *out_error_bh;

    /*
     * Protected by the BQL: the filters (ChardevFilter, in order), the
     * one that owns the input (NULL: the backend feeds the frontend),
     * and the stream positions (written by frontend output, which holds
     * the BQL in every thread).
     */
    GArray *filters;
    void *input_owner;
    ChardevStreamState stream;
};

typedef struct ChardevFilter {
    const ChardevFilterOps *ops;
    void *opaque;
} ChardevFilter;

extern const ChardevClass chardev_stdio_class;
extern const ChardevClass chardev_file_class;
extern const ChardevClass chardev_null_class;
extern const ChardevClass chardev_socket_class;
extern const ChardevClass chardev_ringbuf_class;

const ChardevClass *chardev_class_find(const char *name);

/* Allocate, open and register under @id; NULL with errp set. */
Chardev *chardev_create(const ChardevClass *cls, const char *id,
                        const OptList *opts, Error **errp);

/*
 * Switch the fds the generic layer reads and writes (-1 for none).
 * Pending output is dropped (and counted) when out_fd changes.  BQL.
 */
void chardev_attach_fds(Chardev *c, int in_fd, int out_fd, bool is_socket);

/* Record whether a peer exists and tell the frontend on a change. */
void chardev_set_opened(Chardev *c, bool opened);

/* Re-evaluate which fds are watched for what.  BQL. */
void chardev_update_watches(Chardev *c);

/*
 * Frontend accessors for backends that produce input themselves.  The
 * room is 0 while a filter owns the input; delivering moves in_pos and
 * shows the bytes to the filters first.
 */
int chardev_frontend_room(Chardev *c);
void chardev_frontend_deliver(Chardev *c, const uint8_t *buf, int len);

/* char-filter.c: let the filters take frontend output (true: taken). */
bool chardev_filters_take_output(Chardev *c, const uint8_t *buf, int len);
/* The frontend has room again: tell the input owner. */
void chardev_filters_input_ready(Chardev *c);
void chardev_filters_free(Chardev *c);

/* Write out what is buffered, waiting at most @timeout_ms in total. */
void chardev_flush_blocking(Chardev *c, int timeout_ms);

/* Iterate over every chardev (for the socket layer's wait). */
void chardev_foreach(void (*fn)(Chardev *c, void *opaque), void *opaque);

#endif /* CHARDEV_CHAR_INTERNAL_H */
