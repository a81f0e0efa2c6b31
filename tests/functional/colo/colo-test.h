/*
 * Shared steps of the COLO functional tests: the pairs they start (the
 * dirtier guest under an accelerator that runs guest code, or qtest),
 * guest RAM snapshots, and the checks that every test makes on the
 * processes at the end.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_FUNCTIONAL_COLO_TEST_H
#define TESTS_FUNCTIONAL_COLO_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "colo-helpers.h"
#include "accel-test.h"
#include "test-require.h"

#define MIB ((uint64_t)1024 * 1024)
/* The first byte the dirtier changes. */
#define DIRTY_START (1 * MIB)
/* Guest RAM of every pair. */
#define COLO_RAM_MIB 32
#define COLO_RAM_SIZE (COLO_RAM_MIB * MIB)
/* A checkpoint delay no test waits for: checkpoints only when asked. */
#define COLO_DELAY_NEVER 3600000

/*
 * Start a pair (not migrated yet): qtest (@accel NULL), or the dirtier
 * guest under @accel on the primary, which has printed its first 'B' on
 * return.
 */
void colo_test_start(ColoPair *pair, const char *accel,
                     ColoPairOpts *opts);
/* Start, migrate, wait for 'colo' on both sides. */
void colo_test_enter(ColoPair *pair, const char *accel,
                     ColoPairOpts *opts);

/* Assert the run state of @vm. */
void colo_assert_runstate(QmpTestProc *vm, const char *expected);
/* Assert the status of the last migration of @vm. */
void colo_assert_migration(QmpTestProc *vm, const char *expected);

/*
 * Drop the queued events called @name, then wait for the next one;
 * used to catch the start of a checkpoint (STOP) that happens now.
 */
void colo_drain_events(QmpTestProc *vm, const char *name);

/*
 * Wait until the guest of @vm runs: after a takeover the guest is
 * restarted once the migration has completed, not before.
 */
void colo_wait_running(QmpTestProc *vm);

/* [0, @size) of a qtest guest's RAM, read in one go; g_free() it. */
uint8_t *colo_ram_snapshot(QtestClient *qt, uint64_t size);

/*
 * The survivor of a failover runs its guest: qtest RAM accesses work
 * (@guest false), or the dirtier prints more 'B's, and after stop its
 * RAM holds the dirtier's pattern.
 */
void colo_assert_guest_alive(QmpTestProc *vm, QtestClient *qt, bool guest);

/*
 * Tell @vm it lost its peer and check it left COLO as @mode by
 * request: x-colo-lost-heartbeat returns {}, MIGRATION completed,
 * query-colo-status none/@mode/request, the guest running.  A
 * COLO_EXIT event must have come (with @exit_reason, or either
 * request or error when NULL: an error may be noticed first).
 */
void colo_failover(QmpTestProc *vm, const char *mode,
                   const char *exit_reason);

/*
 * quit, expect exit status 0, free: no hang, no signal, no sanitizer
 * report (qmptest_free() aborts on one).
 */
void colo_quit_clean(QmpTestProc **vm);

#endif /* TESTS_FUNCTIONAL_COLO_TEST_H */
