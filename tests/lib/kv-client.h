/*
 * A client for the key-value guest (tests/guest/kv.c) that survives
 * losing its connection: the service may move from one address to
 * another (a COLO primary dies, its secondary takes over) or the link
 * may break, and the client reconnects and goes on where it was.
 *
 * It is given a list of addresses ("unix:PATH" or "tcp:HOST:PORT") and
 * connects to the first that serves, trying them round robin: after a
 * connection breaks it starts with the address after the one that
 * broke.  On every connection it first sends CAN, which makes the guest
 * drop a half line a previous connection may have left, and
 * "PING <token>" with a token it never used before, and discards every
 * line until "PONG <token>": replies meant for a previous connection
 * come before that PONG and are never taken for its own.  A connection
 * that does not answer within the reply timeout is dropped and the next
 * address is tried.
 *
 * Requests go out in batches, pipelined: all lines are written while
 * the replies are read, in order.  When the connection breaks or a
 * reply does not come within the reply timeout, the client reconnects
 * and sends again every request of the batch whose reply it has not
 * got, until the batch's deadline.
 *
 * What it guarantees: a batch call returns true only with one reply
 * per request, the i-th reply being the guest's answer to the i-th
 * request on the connection that delivered it; it returns false only
 * once the deadline has passed (or a request is malformed).  No call
 * blocks past its deadline: every wait is a poll() with a timeout, and
 * the only sleep is a short back-off after every address has failed.
 *
 * What it assumes:
 *   - requests are idempotent (SET, GET, PING, COUNT are; DEL is not,
 *     a resent DEL may answer NOT_FOUND): a request whose reply was
 *     lost is sent again, so the guest may have run it twice;
 *   - the service answers every line with exactly one line, in order,
 *     and serves one connection at a time (the colo-vm socket chardev
 *     does), so nothing of an older connection arrives after the PONG;
 *   - request lines contain neither '\n' nor CAN;
 *   - a tcp HOST is numeric or resolves at once (getaddrinfo() is the
 *     one call without a deadline).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_KV_CLIENT_H
#define TESTS_LIB_KV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef struct KvClient KvClient;

/*
 * A client for @addresses (NULL-terminated, at least one), not yet
 * connected: the first batch connects.  @reply_timeout_ms bounds the
 * wait for a connect, the handshake's PONG and each reply.
 */
KvClient *kv_client_new(const char *const *addresses, int reply_timeout_ms);
/* Close the connection and free.  NULL is ok. */
void kv_client_free(KvClient *client);

/*
 * Send the @n lines of @requests (without "\n") and store the reply to
 * each in @replies[i] (g_free() them), reconnecting and resending as
 * needed until @deadline (a g_get_monotonic_time() value, see
 * qmptest_deadline()).  On false, the reason is on stderr and the
 * replies not received are NULL.
 */
bool kv_client_batch(KvClient *client, const char *const *requests,
                     size_t n, char **replies, int64_t deadline);
/* One request: its reply (g_free() it), or NULL when @deadline passed. */
char *kv_client_request(KvClient *client, const char *request,
                        int64_t deadline);

/* Connections made after the first one, over the client's life. */
unsigned kv_client_reconnects(const KvClient *client);
/* Requests written again because their reply was lost. */
unsigned kv_client_resent(const KvClient *client);
/* The address of the current connection, or NULL when there is none. */
const char *kv_client_address(const KvClient *client);
/* Drop the connection now (the next batch reconnects). */
void kv_client_disconnect(KvClient *client);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KvClient, kv_client_free)

#endif /* TESTS_LIB_KV_CLIENT_H */
