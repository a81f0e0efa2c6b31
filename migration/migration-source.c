/*
 * The source side of a migration: the "live_migration" thread that
 * connects, sends the stream while the guest runs, stops the guest for
 * the switchover and sends the rest, and the "return path" thread that
 * reads the destination's messages.
 *
 * Both run without the BQL and take it only to change the run state,
 * save devices and send events.  Once the migration thread has set a
 * final status it never takes the BQL again, so the main thread may
 * join it while holding the BQL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "io/channel-command.h"
#include "io/channel-file.h"
#include "io/channel-socket.h"
#include "migration/colo.h"
#include "migration/migration-int.h"
#include "migration/migration.h"
#include "migration/options.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "qapi/qapi-events.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/sockets.h"

/* Window over which the bandwidth is measured, as the rate limit's. */
#define BANDWIDTH_WINDOW_MS QEMU_FILE_RATE_WINDOW_MS
/* A window that carried no more than this says nothing of the downtime. */
#define EXPECTED_DOWNTIME_MIN_BYTES 10000

/* ---- connecting ---- */

static QIOChannel *connect_uri(const char *uri, Error **errp)
{
    MigrationTransport transport;
    const char *rest;
    QIOChannel *ioc = NULL;

    if (!migration_uri_split(uri, &transport, &rest)) {
        error_setg(errp, "unknown migration protocol: %s", uri);
        return NULL;
    }
    switch (transport) {
    case MIGRATION_TRANSPORT_SOCKET: {
        SockAddr addr = { 0 };

        if (sock_addr_parse(rest, &addr, errp)) {
            ioc = qio_channel_socket_connect_sync(&addr, errp);
        }
        sock_addr_clear(&addr);
        break;
    }
    case MIGRATION_TRANSPORT_EXEC: {
        const char *argv[] = { "/bin/sh", "-c", rest, NULL };

        ioc = qio_channel_command_new_spawn(argv, O_WRONLY, errp);
        break;
    }
    case MIGRATION_TRANSPORT_FILE:
        ioc = qio_channel_file_new_path(rest, O_WRONLY | O_CREAT | O_TRUNC,
                                        0600, errp);
        break;
    }
    if (ioc) {
        qio_channel_set_name(ioc, "migration-outgoing");
        migration_channel_set_timeout(ioc);
    }
    return ioc;
}

/* ---- return path ---- */

/* Payload length of each message type the source understands. */
static const int rp_msg_len[MIG_RP_MSG_MAX] = {
    [MIG_RP_MSG_SHUT] = 4,
    [MIG_RP_MSG_PONG] = 4,
};

static const char *rp_msg_name(unsigned type)
{
    switch (type) {
    case MIG_RP_MSG_SHUT:
        return "SHUT";
    case MIG_RP_MSG_PONG:
        return "PONG";
    default:
        return "INVALID";
    }
}

/*
 * Read one message.  1 on SHUT (the last message), 0 to go on, -1 on
 * error with @errp set.
 */
static int rp_read_message(MigrationState *s, QEMUFile *f, Error **errp)
{
    unsigned type = qemu_get_be16(f);
    unsigned len = qemu_get_be16(f);
    uint8_t buf[4];
    uint32_t value;

    if (qemu_file_get_error_obj(f, errp)) {
        error_prepend(errp, "Return path: failed reading a message: ");
        return -1;
    }
    if (type == MIG_RP_MSG_INVALID || type >= MIG_RP_MSG_MAX) {
        error_setg(errp, "Received invalid message 0x%04x length 0x%04x",
                   type, len);
        return -1;
    }
    if (len != (unsigned)rp_msg_len[type]) {
        error_setg(errp, "Received '%s' message (0x%04x) with "
                   "incorrect length %u expecting %d",
                   rp_msg_name(type), type, len, rp_msg_len[type]);
        return -1;
    }
    if (qemu_get_buffer(f, buf, len) != len) {
        if (qemu_file_get_error_obj(f, errp)) {
            error_prepend(errp, "Failed reading data for message 0x%04x: ",
                          type);
        } else {
            error_setg(errp, "Failed reading data for message 0x%04x",
                       type);
        }
        return -1;
    }
    value = ((uint32_t)buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) |
            buf[3];
    trace_migration_rp_message(rp_msg_name(type), value);
    if (type == MIG_RP_MSG_PONG) {
        return 0;
    }
    if (value) {
        error_setg(errp, "Sibling indicated error %u", value);
        return -1;
    }
    s->rp_shut_ok = true;
    return 1;
}

static void *rp_thread_fn(void *opaque)
{
    MigrationState *s = opaque;
    Error *err = NULL;
    int ret;

    do {
        ret = rp_read_message(s, s->from_dst, &err);
    } while (ret == 0);

    if (ret < 0) {
        /* After a cancel the read error is only its echo. */
        if (migration_state_get(s) != MIGRATION_STATUS_CANCELLING) {
            migration_record_error(s, err);
        }
        error_free(err);
        __atomic_store_n(&s->rp_failed, 1, __ATOMIC_SEQ_CST);
        /* The migration thread may be blocked writing: wake it. */
        migration_kick_threads(s);
    }
    semaphore_post(&s->rp_done);
    return NULL;
}

static bool rp_start(MigrationState *s, Error **errp)
{
    s->from_dst = qemu_file_get_return_path(s->to_dst);
    if (!s->from_dst) {
        error_setg(errp, "Unable to open return-path: the channel is "
                   "not bidirectional");
        return false;
    }
    thread_create(&s->rp_thread, "return path", rp_thread_fn, s,
                  THREAD_JOINABLE);
    s->rp_thread_created = true;
    return true;
}

/*
 * Wait for the destination's verdict.  The semaphore is also posted by
 * a cancel, so look at the outcome rather than at the wake-up.
 */
static bool rp_wait_shut(MigrationState *s, Error **errp)
{
    semaphore_wait(&s->rp_done);
    if (s->rp_shut_ok) {
        return true;
    }
    if (migration_state_get(s) == MIGRATION_STATUS_CANCELLING) {
        error_setg(errp, "Migration was cancelled");
    } else {
        error_setg(errp, "The destination did not confirm the load");
    }
    return false;
}

/* ---- the migration thread ---- */

/*
 * One MIGRATION_PASS per dirty-log sync the RAM section made.  BQL held:
 * the syncs happen under it too, so the count cannot move meanwhile.
 */
static void announce_passes(MigrationState *s)
{
    RAMStats st;

    g_assert(bql_locked());
    ram_get_stats(&st);
    if (st.dirty_sync_count == s->last_sync_count) {
        return;
    }
    s->last_sync_count = st.dirty_sync_count;
    trace_migration_pass(st.dirty_sync_count);
    if (migrate_events()) {
        qapi_event_send_migration_pass(st.dirty_sync_count);
    }
}

static bool migration_open(MigrationState *s, Error **errp)
{
    QIOChannel *ioc = connect_uri(s->uri, errp);
    QEMUFile *f;

    if (!ioc) {
        return false;
    }
    f = qemu_file_new_output(ioc);
    qemu_file_set_rate_limit(f, migrate_max_bandwidth());
    mutex_lock(&s->lock);
    s->ioc = ioc;
    s->to_dst = f;
    mutex_unlock(&s->lock);
    /* A cancel that came while connecting found no channel to shut. */
    if (migration_state_get(s) == MIGRATION_STATUS_CANCELLING) {
        qio_channel_shutdown(ioc, QIO_CHANNEL_SHUTDOWN_BOTH, NULL);
    }
    if ((migrate_return_path() || migrate_colo()) && !rp_start(s, errp)) {
        return false;
    }
    return true;
}

static bool migration_setup(MigrationState *s, Error **errp)
{
    QEMUFile *f = s->to_dst;
    int ret;

    qemu_savevm_state_header(f);
    if (s->rp_thread_created) {
        qemu_savevm_send_open_return_path(f);
        qemu_savevm_send_ping(f, 1);
    }
    if (migrate_colo()) {
        qemu_savevm_send_colo_enable(f);
    }
    bql_lock();
    s->setup_done = true;
    ret = qemu_savevm_state_setup(f, errp);
    if (ret == 0) {
        announce_passes(s);
    }
    bql_unlock();
    if (ret < 0) {
        return false;
    }
    mutex_lock(&s->lock);
    s->setup_time = migration_now_ms() - s->start_ms;
    s->transferred = qemu_file_transferred(f);
    mutex_unlock(&s->lock);
    return true;
}

/*
 * Bandwidth over the last window: sets the switchover threshold.
 *
 * The expected downtime is QEMU's estimate: what the last dirty-log
 * sync found dirty, sent at this window's bandwidth.  Like QEMU it is
 * only recomputed once the guest has been seen dirtying memory and the
 * window carried more than EXPECTED_DOWNTIME_MIN_BYTES; until then it
 * stays at the downtime limit the migration started with.
 */
static void update_window(MigrationState *s, int64_t elapsed_ms,
                          uint64_t bytes, uint64_t pending)
{
    double bandwidth = (double)bytes / elapsed_ms;     /* bytes per ms */
    RAMStats rs;

    ram_get_stats(&rs);
    s->threshold = bandwidth * migrate_downtime_limit();
    mutex_lock(&s->lock);
    s->mbps = bandwidth * 8.0 / 1000.0;
    if (rs.dirty_pages_rate && bytes > EXPECTED_DOWNTIME_MIN_BYTES) {
        s->expected_downtime = rs.dirty_bytes_last_sync / bandwidth;
    }
    s->transferred = qemu_file_transferred(s->to_dst);
    mutex_unlock(&s->lock);
    trace_migration_bandwidth(bytes, elapsed_ms, s->threshold, pending);
}

/*
 * Copy memory while the guest runs until what is left fits the
 * downtime limit.  True when it is time to switch over.
 */
static bool migration_iterate(MigrationState *s, Error **errp)
{
    QEMUFile *f = s->to_dst;
    int64_t window_start = migration_now_ms();
    uint64_t window_bytes = qemu_file_transferred(f);
    uint64_t pending = 0;

    s->threshold = 0;
    qemu_file_reset_rate_limit(f);
    while (migration_state_get(s) == MIGRATION_STATUS_ACTIVE) {
        int64_t elapsed;

        if (qemu_file_get_error_obj(f, errp) ||
            __atomic_load_n(&s->rp_failed, __ATOMIC_SEQ_CST)) {
            if (!*errp) {
                error_setg(errp, "The return path failed");
            }
            return false;
        }
        migration_heartbeat(s);
        qemu_savevm_state_pending_estimate(&pending);
        if (pending <= s->threshold) {
            /* The exact count syncs the dirty log: that needs the BQL. */
            bql_lock();
            qemu_savevm_state_pending_exact(&pending);
            announce_passes(s);
            bql_unlock();
            if (pending <= s->threshold) {
                return true;
            }
        }
        if (qemu_savevm_state_iterate(f) < 0) {
            if (!qemu_file_get_error_obj(f, errp)) {
                error_setg(errp, "Failed to send the VM state");
            }
            return false;
        }
        elapsed = migration_now_ms() - window_start;
        if (elapsed < BANDWIDTH_WINDOW_MS && qemu_file_rate_limit(f)) {
            semaphore_timedwait(&s->wake, BANDWIDTH_WINDOW_MS - elapsed);
            elapsed = migration_now_ms() - window_start;
        }
        if (elapsed >= BANDWIDTH_WINDOW_MS) {
            uint64_t bytes = qemu_file_transferred(f);

            update_window(s, elapsed, bytes - window_bytes, pending);
            window_start = migration_now_ms();
            window_bytes = bytes;
            qemu_file_reset_rate_limit(f);
        }
    }
    error_setg(errp, "Migration was cancelled");
    return false;
}

/* Stop the guest and send the rest, devices included. */
static bool migration_complete(MigrationState *s, int64_t *stop_ms,
                               Error **errp)
{
    int ret;

    bql_lock();
    *stop_ms = migration_now_ms();
    s->vm_was_running = runstate_is_running();
    ret = vm_stop_force_state(RUN_STATE_FINISH_MIGRATE);
    if (ret < 0) {
        error_setg(errp, "Failed to stop the VM for the switchover: %s",
                   g_strerror(-ret));
    } else if (migration_state_get(s) != MIGRATION_STATUS_ACTIVE) {
        error_setg(errp, "Migration was cancelled");
        ret = -ECANCELED;
    } else {
        ret = qemu_savevm_state_complete_precopy(s->to_dst, errp);
        /* The final pass synced the dirty log once more. */
        announce_passes(s);
    }
    bql_unlock();
    if (ret < 0) {
        return false;
    }
    qemu_fflush(s->to_dst);
    mutex_lock(&s->lock);
    s->transferred = qemu_file_transferred(s->to_dst);
    mutex_unlock(&s->lock);
    if (qemu_file_get_error_obj(s->to_dst, errp)) {
        return false;
    }
    return !s->rp_thread_created || rp_wait_shut(s, errp);
}

/* Close the channel; after a success its close error still matters. */
static bool close_files(MigrationState *s, Error **errp)
{
    QEMUFile *to_dst, *from_dst;
    QIOChannel *ioc;
    int ret;

    if (s->rp_thread_created) {
        /* Without its SHUT the return path may still be reading. */
        if (!s->rp_shut_ok) {
            qemu_file_shutdown(s->to_dst);
        }
        thread_join(&s->rp_thread);
        s->rp_thread_created = false;
    }
    mutex_lock(&s->lock);
    to_dst = s->to_dst;
    from_dst = s->from_dst;
    s->transferred = to_dst ? qemu_file_transferred(to_dst) : s->transferred;
    ioc = s->ioc;
    s->to_dst = NULL;
    s->from_dst = NULL;
    s->ioc = NULL;
    mutex_unlock(&s->lock);
    qemu_fclose(from_dst);
    ret = qemu_fclose_errp(to_dst, errp);
    qio_channel_unref(ioc);
    return ret == 0;
}

/* The guest runs again if the migration had stopped it. */
static void resume_guest(MigrationState *s)
{
    Error *err = NULL;

    if (!runstate_check(RUN_STATE_FINISH_MIGRATE)) {
        return;
    }
    /* The process is ending: nothing would run the guest any more. */
    if (system_shutdown_requested(NULL)) {
        runstate_set(RUN_STATE_POSTMIGRATE, NULL);
        return;
    }
    if (s->vm_was_running) {
        if (!vm_start(&err)) {
            error_report_err(err);
        }
    } else {
        runstate_set(RUN_STATE_POSTMIGRATE, NULL);
    }
}

/*
 * Move from whatever status the migration is in to a final one; a
 * cancel may change the status under our feet, so retry.  @done_ok:
 * the destination has everything, and completing beats a late cancel
 * (resuming here as well would leave two running copies of the guest).
 */
static MigrationStatus set_final_state(MigrationState *s, bool done_ok)
{
    for (;;) {
        MigrationStatus st = migration_state_get(s);
        MigrationStatus final = done_ok ? MIGRATION_STATUS_COMPLETED :
                                st == MIGRATION_STATUS_CANCELLING ?
                                MIGRATION_STATUS_CANCELLED :
                                MIGRATION_STATUS_FAILED;

        if (migration_set_state(&s->state, st, final)) {
            return final;
        }
    }
}

static void migration_fail(MigrationState *s, Error *err)
{
    /* Before the kick, whose echoes would otherwise come first. */
    if (migration_state_get(s) != MIGRATION_STATUS_CANCELLING) {
        migration_record_error(s, err);
    }
    migration_kick_threads(s);
    close_files(s, NULL);
    bql_lock();
    if (s->setup_done) {
        qemu_savevm_state_cleanup();
        s->setup_done = false;
    }
    cpu_throttle_stop();
    resume_guest(s);
    if (set_final_state(s, false) == MIGRATION_STATUS_FAILED) {
        if (!err) {
            error_setg(&err, "Migration failed");
        }
        migration_record_error(s, err);
        error_report("%s", error_get_pretty(s->error));
    }
    bql_unlock();
    error_free(err);
}

/* The final mbps: the whole stream over the time after setup, as QEMU. */
static void migration_succeed(MigrationState *s, int64_t stop_ms)
{
    int64_t end = migration_now_ms();
    int64_t transfer_time;

    bql_lock();
    qemu_savevm_state_cleanup();
    s->setup_done = false;
    cpu_throttle_stop();
    mutex_lock(&s->lock);
    s->downtime = end - stop_ms;
    s->total_time = end - s->start_ms;
    transfer_time = s->total_time - s->setup_time;
    if (transfer_time > 0) {
        s->mbps = (double)s->transferred * 8.0 / 1000.0 / transfer_time;
    }
    mutex_unlock(&s->lock);
    set_final_state(s, true);
    runstate_set(RUN_STATE_POSTMIGRATE, NULL);
    bql_unlock();
}

/*
 * x-colo: after the first full copy (the destination has confirmed it
 * on the return path) the migration thread becomes the COLO checkpoint
 * loop, and the migration ends only when COLO does.  The live sections
 * stay set up until then: checkpoints send the pages dirtied since the
 * previous one.
 */
static void migration_colo(MigrationState *s)
{
    migrate_start_colo_process(s);
    close_files(s, NULL);
    mutex_lock(&s->lock);
    s->total_time = migration_now_ms() - s->start_ms;
    mutex_unlock(&s->lock);
    bql_lock();
    qemu_savevm_state_cleanup();
    s->setup_done = false;
    /* A takeover completed it; anything else (cancel, quit) did not. */
    if (migration_state_get(s) != MIGRATION_STATUS_COMPLETED) {
        set_final_state(s, false);
    }
    bql_unlock();
}

void *migration_thread(void *opaque)
{
    MigrationState *s = opaque;
    Error *err = NULL;
    int64_t stop_ms = 0;
    bool active;

    trace_migration_thread_start(s->uri);
    if (!migration_open(s, &err) || !migration_setup(s, &err)) {
        goto fail;
    }
    bql_lock();
    active = migration_set_state(&s->state, MIGRATION_STATUS_SETUP,
                                 MIGRATION_STATUS_ACTIVE);
    bql_unlock();
    if (!active) {
        error_setg(&err, "Migration was cancelled");
        goto fail;
    }
    if (!migration_iterate(s, &err) ||
        !migration_complete(s, &stop_ms, &err)) {
        goto fail;
    }
    if (migrate_colo()) {
        migration_colo(s);
        goto out;
    }
    if (!close_files(s, &err)) {
        goto fail;
    }
    migration_succeed(s, stop_ms);
    goto out;

fail:
    migration_fail(s, err);
out:
    trace_migration_thread_end(MigrationStatus_str(migration_state_get(s)));
    bh_schedule(s->cleanup_bh);
    return NULL;
}
