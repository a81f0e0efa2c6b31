/*
 * Migration from a test: start a source and a destination colo-vm,
 * migrate between them, follow the MIGRATION events and query-migrate on
 * each side, and compare the guest RAM the two ends hold.
 *
 * Both ends get the events capability as soon as their QMP connection
 * is up, so every status change after that arrives as an event.  A
 * destination started with "-incoming URI" on the command line may have
 * begun (or finished) loading before the capability is set; wait for it
 * with migtest_wait_end(), which reads query-migrate.
 *
 * Every wait has a deadline; failures return false / NULL and are
 * explained on stderr, so the caller's assertion marks the failing step.
 *
 * Example:
 *     g_autoptr(QmpTestProc) src = migtest_start_source("-m 64M ...");
 *     g_autoptr(QmpTestProc) dst = migtest_start_dest("-m 64M ...",
 *                                                     "defer");
 *     g_autofree char *uri = migtest_unix_uri(dst);
 *     assert_true(migtest_incoming(dst, uri));
 *     assert_true(migtest_migrate(src, uri));
 *     assert_true(migtest_wait_status(src, "completed",
 *                                     MIGTEST_TIMEOUT_MS));
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_MIGRATION_HELPERS_H
#define TESTS_LIB_MIGRATION_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "qmp-test.h"
#include "qtest-client.h"

/* A whole migration under sanitizers on a loaded host takes a while. */
#define MIGTEST_TIMEOUT_MS (3 * QMPTEST_TIMEOUT_MS)

/* max-bandwidth for "as fast as the channel goes": 100 GiB/s. */
#define MIGTEST_BANDWIDTH_UNLIMITED (100ull * 1024 * 1024 * 1024)

/*
 * Start a source with @args (qmptest_start() syntax, "@TMPDIR@"
 * allowed) and enable the events capability.  NULL on failure.
 */
QmpTestProc *migtest_start_source(const char *args);

/*
 * Start a destination with @args plus "-incoming @incoming" ("defer",
 * or a URI; "@TMPDIR@" is expanded in both) and enable the events
 * capability.  NULL on failure.
 */
QmpTestProc *migtest_start_dest(const char *args, const char *incoming);

/*
 * The same pair under the qtest accelerator, each with a qtest
 * connection in *@qt (the caller frees both with qtest_client_free()).
 */
QmpTestProc *migtest_start_source_qtest(const char *args, QtestClient **qt);
QmpTestProc *migtest_start_dest_qtest(const char *args, const char *incoming,
                                      QtestClient **qt);

/* "unix:<tmpdir of @dst>/mig.sock". */
char *migtest_unix_uri(QmpTestProc *dst);
/*
 * Where a listening destination can be reached, from the
 * socket-address member of its query-migrate: "tcp:HOST:PORT" (the
 * real port when it was asked to listen on port 0) or "unix:PATH";
 * g_free() it.  NULL when it does not listen.
 */
char *migtest_listen_uri(QmpTestProc *dst);
/*
 * migrate-incoming on loopback tcp port 0; the URI to migrate to
 * (g_free() it), or NULL.
 */
char *migtest_incoming_tcp(QmpTestProc *dst);

/* migrate-set-capabilities for one capability; true on success. */
bool migtest_set_capability(QmpTestProc *vm, const char *cap, bool on);
/* migrate-set-parameters with one integer parameter. */
bool migtest_set_parameter(QmpTestProc *vm, const char *name, uint64_t v);
/*
 * migrate-set-parameters x-heartbeat-interval and x-heartbeat-timeout
 * in one command (each is checked against the other).
 */
bool migtest_set_heartbeat(QmpTestProc *vm, uint32_t interval,
                           uint32_t timeout);
/* migrate-incoming @uri; true when it returned {}. */
bool migtest_incoming(QmpTestProc *dst, const char *uri);
/*
 * migrate @uri; true when it returned {}.  From now on the waits below
 * skip the events of earlier migrations on @src (so does
 * migtest_incoming() on @dst).
 */
bool migtest_migrate(QmpTestProc *src, const char *uri);
/* migrate_cancel; true when it returned {}. */
bool migtest_cancel(QmpTestProc *src);

/* query-migrate's return object (new reference), or NULL. */
json_t *migtest_query(QmpTestProc *vm);
/* Its "status" member ("none" when absent); g_free() it. */
char *migtest_query_status(QmpTestProc *vm);
/* Its "error-desc" member, or NULL; g_free() it. */
char *migtest_query_error(QmpTestProc *vm);
/* completed, failed and cancelled: nothing follows them. */
bool migtest_status_is_final(const char *status);

/*
 * Wait for a MIGRATION event with @status.  Events with other statuses
 * are consumed; a final status other than @status ends the wait with
 * false (and the error-desc of query-migrate on stderr).
 */
bool migtest_wait_status(QmpTestProc *vm, const char *status,
                         int timeout_ms);
/*
 * Wait until the migration on @vm reaches a final status, reading
 * query-migrate every 100 ms: this works without the events
 * capability, e.g. on a destination that loaded its stream from the
 * command line before QMP was up.  The final status (g_free() it), or
 * NULL on timeout or when the process exited first.
 */
char *migtest_wait_end(QmpTestProc *vm, int timeout_ms);
/* Wait for a MIGRATION_PASS event with pass >= @pass. */
bool migtest_wait_pass(QmpTestProc *vm, int64_t pass, int timeout_ms);

/*
 * Wait for @vm to exit; true when it exited by itself with status
 * @expected (never by a signal).  On mismatch its stderr is printed.
 */
bool migtest_wait_exit_status(QmpTestProc *vm, int expected, int timeout_ms);

/* query-status: the run state (g_free() it), or NULL. */
char *migtest_runstate(QmpTestProc *vm);

/*
 * Fill guest RAM [0, @size) through qtest with a pattern that differs
 * from page to page and from @seed to @seed (no page is zero).  Runs
 * in large memset requests plus a scattering of pages of random bytes,
 * so gigabytes take seconds.
 */
bool migtest_fill_ram(QtestClient *qt, uint64_t size, uint32_t seed);

/*
 * Byte-for-byte comparison of [0, @size) on the two ends: true when
 * equal; the first difference is reported on stderr.
 */
bool migtest_ram_equal(QtestClient *a, QtestClient *b, uint64_t size);

/*
 * pmemsave [0, @size) of @vm into its temporary directory and check
 * the dirtier's pattern on [@start, @size) for @nparts vCPUs.  On
 * failure, false with the reason in *@why (g_free() it).
 */
bool migtest_check_dirtier_ram(QmpTestProc *vm, uint64_t size,
                               uint64_t start, unsigned nparts, char **why);

#endif /* TESTS_LIB_MIGRATION_HELPERS_H */
