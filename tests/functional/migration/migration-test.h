/*
 * Shared steps of the migration functional tests: the machines on each
 * side, the guest writes a qtest source receives while it migrates,
 * and the checks made on the destination afterwards.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_FUNCTIONAL_MIGRATION_TEST_H
#define TESTS_FUNCTIONAL_MIGRATION_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "accel-test.h"
#include "kvm-test.h"
#include "migration-helpers.h"
#include "qmp-test.h"
#include "qtest-client.h"
#include "test-require.h"

#define MIB ((uint64_t)1024 * 1024)
/* The first byte the dirtier changes. */
#define DIRTY_START (1 * MIB)

/* How the stream travels. */
typedef enum MigTransport {
    MIG_TCP,        /* destination: -incoming tcp:... on its command line */
    MIG_UNIX,       /* destination: -incoming defer, then migrate-incoming */
    MIG_EXEC,       /* "exec:cat > FILE", then -incoming "exec:cat FILE" */
    MIG_FILE,       /* "file:FILE" on both sides */
} MigTransport;

/*
 * The dirtier guest under @accel ("kvm", "tcg"), @ram_mib MiB, serial on
 * stdout, with the bandwidth unlimited and a generous downtime limit;
 * returns once it has printed its first 'B'.
 */
QmpTestProc *mig_start_dirtier_source(const char *accel, unsigned ram_mib,
                                      const char *extra);
/*
 * "-accel @accel -m N -serial stdio @extra" destination (@extra may be
 * NULL), no guest of its own.
 */
QmpTestProc *mig_start_dest(const char *accel, unsigned ram_mib,
                            const char *extra, const char *incoming);

/*
 * A file in the test's own temporary directory (removed with it);
 * g_free() the path.
 */
char *mig_tmp_path(QmpTestProc *owner, const char *name);

/*
 * Guest writes through qtest while @src migrates: each write is
 * followed by query-status, so a write acknowledged while the guest
 * still ran is known to precede the switchover and must reach the
 * destination.  The last write, seen to be followed by a stopped
 * guest, may or may not have been sent.
 */
typedef struct MigWriter {
    QtestClient *qt;
    QmpTestProc *src;
    GRand *rand;
    uint64_t ram_size;
    unsigned writes;        /* acknowledged while the guest ran */
    bool ambiguous;         /* the last write raced the switchover */
    uint64_t last_addr;
    uint64_t last_old;
    uint64_t last_new;
} MigWriter;

void mig_writer_init(MigWriter *w, QtestClient *qt, QmpTestProc *src,
                     uint64_t ram_size);
/*
 * Write until @count writes were made (0: no limit) or the source's
 * guest stopped (switchover) or its migration ended; false when a
 * qtest or QMP request failed.
 */
bool mig_writer_run(MigWriter *w, unsigned count, int timeout_ms);
/*
 * After the switchover: settle the last write on the source to what
 * the destination got, if it is one of the two values it could be.
 */
bool mig_writer_settle(MigWriter *w, QtestClient *dst_qt);
void mig_writer_cleanup(MigWriter *w);

/*
 * Destination of a dirtier migration on @nparts vCPUs: stop, check the
 * RAM pattern of [1 MiB, @ram_size), cont, and see the guest print more
 * 'B's.
 */
void mig_check_dirtier_dest(QmpTestProc *dst, uint64_t ram_size,
                            unsigned nparts);

/* Assert the run state of @vm. */
void mig_assert_runstate(QmpTestProc *vm, const char *expected);

#endif /* TESTS_FUNCTIONAL_MIGRATION_TEST_H */
