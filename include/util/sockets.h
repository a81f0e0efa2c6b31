/*
 * Socket addresses in "tcp:HOST:PORT" / "unix:PATH" form, and listening
 * and connecting on them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_SOCKETS_H
#define UTIL_SOCKETS_H

#include <stdbool.h>
#include <sys/types.h>
#include "qapi/error.h"

typedef enum SockAddrType {
    SOCK_ADDR_TYPE_INET,
    SOCK_ADDR_TYPE_UNIX,
} SockAddrType;

/*
 * For SOCK_ADDR_TYPE_INET host and port are set (host may be "" meaning
 * every address for listen, localhost for connect); for
 * SOCK_ADDR_TYPE_UNIX path is set.  Unused members are NULL.
 */
typedef struct SockAddr {
    SockAddrType type;
    char *host;
    char *port;
    char *path;
} SockAddr;

/*
 * Parse "tcp:HOST:PORT", "tcp:[IPV6]:PORT", "tcp::PORT" or "unix:PATH"
 * into *addr (which the caller clears with sock_addr_clear()).  On
 * failure *addr is left cleared.
 */
bool sock_addr_parse(const char *str, SockAddr *addr, Error **errp);
void sock_addr_clear(SockAddr *addr);
/* The address in the syntax sock_addr_parse() accepts (caller frees). */
char *sock_addr_to_str(const SockAddr *addr);

/*
 * Return a listening socket (close-on-exec) or -1.  tcp sockets get
 * SO_REUSEADDR; with port "0" the kernel picks a free port, which
 * sock_addr_update_from_fd() reports.  A unix socket file is neither
 * removed before binding nor after closing: the caller owns it.
 */
int socket_listen(const SockAddr *addr, int backlog, Error **errp);
/* Return a connected, blocking, close-on-exec socket or -1. */
int socket_connect(const SockAddr *addr, Error **errp);
bool socket_set_nonblock(int fd, bool on, Error **errp);

/*
 * Replace addr's port with the tcp port fd is bound to (use after
 * socket_listen() with port "0").  Unix addresses are left untouched.
 */
bool sock_addr_update_from_fd(SockAddr *addr, int fd, Error **errp);
/* The tcp port fd is bound to, or -1 with errp set. */
int socket_get_bound_port(int fd, Error **errp);

/*
 * The unix socket file a listener bound, remembered by identity so that
 * closing removes that file and never one somebody has put there since.
 */
typedef struct SocketFile {
    bool owned;
    dev_t dev;
    ino_t ino;
} SocketFile;

/*
 * socket_listen() for a server that owns its address: a stale unix socket
 * file is removed first (as QEMU does), and @file records the new one.
 */
int socket_listen_owned(const SockAddr *addr, int backlog, SocketFile *file,
                        Error **errp);
/* Remove the file recorded in @file if it is still ours; forget it. */
void socket_file_remove(const SockAddr *addr, SocketFile *file);

/*
 * Block until @fd is readable (1) or @abort_fd, if >= 0, is (0); -1 with
 * @errp set if poll() fails.  For servers that must wait for a first
 * client before anything else runs (wait=on).
 */
int socket_wait_readable(int fd, int abort_fd, Error **errp);

#endif /* UTIL_SOCKETS_H */
