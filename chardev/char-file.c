/*
 * The file backend (output only, truncated on open unless append=on, as
 * QEMU) and the null backend (output discarded, never any input).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "char-internal.h"

typedef struct FileChardev {
    Chardev parent;
    int fd;
} FileChardev;

static bool file_open(Chardev *c, const OptList *opts, Error **errp)
{
    FileChardev *f = (FileChardev *)c;
    const char *path = opts_get(opts, "path");
    bool append;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK;

    if (!path) {
        error_setg(errp, "chardev: file: no filename given");
        return false;
    }
    if (!opts_get_bool(opts, "append", false, &append, errp)) {
        return false;
    }
    flags |= append ? O_APPEND : O_TRUNC;
    f->fd = open(path, flags, 0666);
    if (f->fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    chardev_attach_fds(c, -1, f->fd, false);
    c->opened = true;
    return true;
}

static void file_close(Chardev *c)
{
    FileChardev *f = (FileChardev *)c;

    chardev_attach_fds(c, -1, -1, false);
    close(f->fd);
}

static const char *const file_keys[] = { "path", "append", NULL };

const ChardevClass chardev_file_class = {
    .name = "file",
    .instance_size = sizeof(FileChardev),
    .keys = file_keys,
    .open = file_open,
    .close = file_close,
};

static bool null_open(Chardev *c, const OptList *opts, Error **errp)
{
    c->opened = true;
    return true;
}

/* Output to null is taken, not dropped: there is simply nowhere to go. */
static ssize_t null_write_raw(Chardev *c, const uint8_t *buf, size_t len)
{
    return len;
}

const ChardevClass chardev_null_class = {
    .name = "null",
    .instance_size = sizeof(Chardev),
    .open = null_open,
    .write_raw = null_write_raw,
};
