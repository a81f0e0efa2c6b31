/*
 * A TCP proxy on 127.0.0.1 that can break the connection it carries.
 *
 * The proxy listens on a free loopback port, accepts one connection,
 * connects to the target and forwards bytes both ways from its own
 * thread.  A test points a migration at the proxy instead of the
 * destination, and then either lets everything through, or has both
 * sides cut (shut down and closed) at a chosen point:
 *   - fault_proxy_cut_after(): once a direction has carried exactly N
 *     bytes, the next byte in that direction is not delivered and both
 *     sides are cut (the peer "disappears" just before sending it);
 *   - fault_proxy_cut_now(): at once.
 * It can also overwrite bytes at a given offset as they pass
 * (fault_proxy_corrupt()), to deliver a malformed message, or stall
 * one or both directions (fault_proxy_stall_now(),
 * fault_proxy_stall_after()): stop forwarding while keeping both
 * connections open, as a frozen peer or a link that drops every packet
 * would, so that neither side sees an end of file or an error.
 * The proxy counts the bytes each direction carried and can keep a copy
 * of them, so a test can find where each message of a clean run lay and
 * cut a second, identical run at that point.
 *
 * No call blocks for longer than its timeout: the proxy thread never
 * waits on the test, and the test only waits with a deadline.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_FAULT_PROXY_H
#define TESTS_LIB_FAULT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef enum FaultDir {
    FAULT_DIR_FORWARD,      /* from the connecting side to the target */
    FAULT_DIR_BACKWARD,     /* from the target back */
    FAULT_DIR__MAX,
} FaultDir;

typedef struct FaultProxy FaultProxy;

/*
 * Listen on 127.0.0.1:<free port> and start the thread, which will
 * connect to @target ("tcp:HOST:PORT") when a client arrives.  With
 * @record, every byte carried is also kept (fault_proxy_data()).  NULL,
 * with the reason on stderr, on failure.
 */
FaultProxy *fault_proxy_new(const char *target, bool record);
/* Cut both sides if not done yet, stop the thread, free.  NULL is ok. */
void fault_proxy_free(FaultProxy *p);

/* "tcp:127.0.0.1:PORT": where to point the client. */
const char *fault_proxy_uri(const FaultProxy *p);

/*
 * Let @nbytes bytes through in @dir (counted from the start of the
 * connection), then cut both sides when more arrive in that direction.
 * If the direction already carried more, cut at once.
 */
void fault_proxy_cut_after(FaultProxy *p, FaultDir dir, uint64_t nbytes);
/* Cut both sides now (thread-safe; returns without waiting). */
void fault_proxy_cut_now(FaultProxy *p);

/*
 * Replace the @len bytes at offset @offset of @dir (counted from the
 * start of the connection) by @bytes as they pass through.  Must be
 * called before those bytes arrive; up to 8 replacements per direction.
 */
void fault_proxy_corrupt(FaultProxy *p, FaultDir dir, uint64_t offset,
                         const void *bytes, size_t len);

/* Masks of directions for the stall calls. */
#define FAULT_STALL_FORWARD  (1u << FAULT_DIR_FORWARD)
#define FAULT_STALL_BACKWARD (1u << FAULT_DIR_BACKWARD)
#define FAULT_STALL_BOTH     (FAULT_STALL_FORWARD | FAULT_STALL_BACKWARD)

/*
 * Stop forwarding in the directions of @dirs now: what was delivered
 * stays delivered, nothing more is read or written in them, and both
 * connections stay open until fault_proxy_cut_now() or
 * fault_proxy_free().  Thread-safe; returns without waiting.
 */
void fault_proxy_stall_now(FaultProxy *p, unsigned dirs);
/*
 * Stall the directions of @dirs once @dir has delivered @nbytes
 * (counted from the start of the connection).  When @dir is one of
 * @dirs it delivers exactly @nbytes; otherwise it goes on, and the
 * others stop as soon as it got there.  If it already did, stall now.
 * One stall may be pending at a time.
 */
void fault_proxy_stall_after(FaultProxy *p, FaultDir dir, uint64_t nbytes,
                             unsigned dirs);
/* Wait up to @timeout_ms until @dir is stalled. */
bool fault_proxy_wait_stalled(FaultProxy *p, FaultDir dir, int timeout_ms);

/* Bytes delivered so far in @dir. */
uint64_t fault_proxy_bytes(FaultProxy *p, FaultDir dir);
/* True once both sides were cut (by request, or because one closed). */
bool fault_proxy_is_closed(FaultProxy *p);
/* True when the proxy cut the connection itself (not a peer's close). */
bool fault_proxy_was_cut(FaultProxy *p);

/* Wait up to @timeout_ms until @dir carried at least @nbytes. */
bool fault_proxy_wait_bytes(FaultProxy *p, FaultDir dir, uint64_t nbytes,
                            int timeout_ms);
/* Wait up to @timeout_ms until the connection is gone. */
bool fault_proxy_wait_closed(FaultProxy *p, int timeout_ms);

/*
 * A copy of the bytes delivered so far in @dir (with @record only;
 * otherwise empty).  g_bytes_unref() it.
 */
GBytes *fault_proxy_data(FaultProxy *p, FaultDir dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FaultProxy, fault_proxy_free)

#endif /* TESTS_LIB_FAULT_PROXY_H */
