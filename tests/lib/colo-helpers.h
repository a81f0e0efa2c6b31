/*
 * COLO from a test: a primary and a secondary colo-vm with the x-colo
 * capability, migrated once (directly or through a fault proxy) until
 * both report MIGRATION 'colo', then checkpoints counted, failover
 * requested and query-colo-status read on either side.
 *
 * Both processes get the same -m, -smp and -accel.  The secondary is
 * started with "-incoming defer", gets its capabilities, then listens
 * on tcp:127.0.0.1:0; the helpers read the real port back.
 *
 * Checkpoints are counted with the checkpoint-count member of
 * query-migrate's colo object.  Every wait has a deadline; failures
 * return false / NULL / -1 with the reason on stderr.
 *
 * Example:
 *     ColoPair pair;
 *     ColoPairOpts opts = { .ram_mib = 64, .qtest = true };
 *     assert_true(colo_pair_start(&pair, &opts));
 *     assert_true(colo_pair_migrate(&pair));
 *     assert_true(colo_pair_wait_colo(&pair, COLO_TIMEOUT_MS));
 *     assert_true(colo_wait_checkpoints(pair.primary, 3, COLO_TIMEOUT_MS));
 *     colo_pair_free(&pair);
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_COLO_HELPERS_H
#define TESTS_LIB_COLO_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "fault-proxy.h"
#include "migration-helpers.h"
#include "qmp-test.h"
#include "qtest-client.h"

/* A precopy plus a few checkpoints, under sanitizers, on a busy host. */
#define COLO_TIMEOUT_MS MIGTEST_TIMEOUT_MS

typedef struct ColoPairOpts {
    unsigned ram_mib;           /* -m, both sides (default 32) */
    unsigned smp;               /* -smp when non-zero */
    bool qtest;                 /* qtest accelerator, qtest connections */
    const char *accel;          /* otherwise -accel (NULL: the default) */
    const char *kernel;         /* a guest: -kernel for the primary */
    const char *extra;          /* more options for both sides, or NULL */
    /* More options for one side (e.g. its serial port and -object). */
    const char *primary_extra;
    const char *secondary_extra;
    bool own_serial;            /* the extras give -serial: no stdio */
    bool no_colo_primary;       /* leave x-colo off on the primary */
    bool no_colo_secondary;     /* leave x-colo off on the secondary */
    bool lean;                  /* x-colo-lean on the secondary */
    bool via_proxy;             /* migrate through a fault proxy */
    bool record;                /* the proxy keeps a copy of the bytes */
    uint64_t checkpoint_delay;  /* x-checkpoint-delay (ms) if non-zero */
    /* Both sides: x-heartbeat-interval and -timeout (ms) if non-zero. */
    uint32_t heartbeat_interval;
    uint32_t heartbeat_timeout;
} ColoPairOpts;

/*
 * Heartbeat settings that keep an idle link silent for as long as any
 * test runs: for tests that find messages by their byte offsets.
 */
#define COLO_HEARTBEAT_SILENT_INTERVAL 3599000
#define COLO_HEARTBEAT_SILENT_TIMEOUT  3600000

typedef struct ColoPair {
    QmpTestProc *primary, *secondary;
    QtestClient *pqt, *sqt;     /* qtest only */
    FaultProxy *proxy;          /* via_proxy only */
    char *listen_uri;           /* where the secondary listens */
    uint64_t ram_size;
} ColoPair;

/*
 * Start both processes, set events (+ x-colo unless told otherwise)
 * and x-checkpoint-delay, make the secondary listen, and create the
 * proxy if asked.  Nothing is migrated yet.  On failure everything
 * started is freed and false returned.
 */
bool colo_pair_start(ColoPair *pair, const ColoPairOpts *opts);
/* migrate the primary to the secondary (or to the proxy). */
bool colo_pair_migrate(ColoPair *pair);
/* Wait for MIGRATION 'colo' on both sides. */
bool colo_pair_wait_colo(ColoPair *pair, int timeout_ms);
/*
 * Wire the COLO proxy (docs/colo.md) around the guest's serial port,
 * with unix sockets in @dir: the primary serves clients on DIR/p.sock,
 * the secondary on DIR/s.sock (read only after a takeover), and the
 * mirror and comparer channels are DIR/m.sock and DIR/c.sock.
 * @compare_opts (e.g. "mode=buffer") is added to colo-compare's options.
 * Sets primary_extra, secondary_extra and own_serial of @opts to strings
 * returned in *@pextra and *@sextra for the caller to g_free().
 */
void colo_pair_proxy_args(ColoPairOpts *opts, const char *dir,
                          const char *compare_opts, char **pextra,
                          char **sextra);

/* Remove @dir and the sockets a killed process left in it. */
void remove_socket_dir(const char *dir);

/* Kill what still runs, free everything (sanitizer reports abort). */
void colo_pair_free(ColoPair *pair);

/* query-migrate's colo object (new reference) or NULL when absent. */
json_t *colo_stats(QmpTestProc *vm);
/* Its checkpoint-count, or -1 when absent. */
int64_t colo_checkpoint_count(QmpTestProc *vm);
/*
 * Poll query-migrate (every 20 ms) until checkpoint-count >= @count.
 */
bool colo_wait_checkpoints(QmpTestProc *vm, int64_t count, int timeout_ms);

/*
 * Wait for @n STOP/RESUME event pairs on @vm (each checkpoint stops and
 * restarts the guest).  Other events stay queued.
 */
bool colo_wait_stop_resume(QmpTestProc *vm, unsigned n, int timeout_ms);

/* x-colo-lost-heartbeat; the reply (new reference) or NULL. */
json_t *colo_lost_heartbeat(QmpTestProc *vm);

/*
 * query-colo-status compared with the expected values: true when equal,
 * the mismatch on stderr otherwise.
 */
bool colo_status_is(QmpTestProc *vm, const char *mode, const char *last_mode,
                    const char *reason);

/*
 * Wait for COLO_EXIT and check its mode and reason (NULL: any); the
 * reason seen is printed on mismatch.
 */
bool colo_wait_exit_event(QmpTestProc *vm, const char *mode,
                          const char *reason, int timeout_ms);

/*
 * The process is still running and was not killed by a signal (a
 * process reaped earlier must have exited with status 0).
 */
bool colo_proc_alive(QmpTestProc *vm);

#endif /* TESTS_LIB_COLO_HELPERS_H */
