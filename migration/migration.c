/*
 * Migration state shared by both sides and the source's QMP commands:
 * `migrate`, `migrate_cancel` and `query-migrate`; the thread that does
 * the work is in migration-source.c.
 *
 * Locking: the monitor runs with the BQL; the migration threads take
 * it only for run state changes, device state and events.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>

#include "migration/colo.h"
#include "migration/migration-int.h"
#include "migration/migration.h"
#include "migration/options.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"
#include "system/cpus.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/main-loop.h"
#include "util/sockets.h"
#include "util/thread.h"

MigrationState *migration_current;

static MigrationState *mig(void)
{
    g_assert(migration_current);
    return migration_current;
}

void migration_send_event(MigrationStatus status)
{
    g_assert(bql_locked());
    if (migrate_events()) {
        qapi_event_send_migration(status);
    }
}

/*
 * The BQL makes each change and its event one step: events leave in
 * the order of the changes.  The compare-and-swap stays atomic for the
 * readers that do not hold the BQL (migration_state_get()).
 */
bool migration_set_state(int *state, MigrationStatus old,
                         MigrationStatus new_state)
{
    int expected = old;

    g_assert(bql_locked());
    if (!__atomic_compare_exchange_n(state, &expected, new_state, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        return false;
    }
    trace_migration_set_state(MigrationStatus_str(old),
                              MigrationStatus_str(new_state));
    migration_send_event(new_state);
    return true;
}

MigrationStatus migration_state_get(MigrationState *s)
{
    return __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
}

MigrationStatus migration_status(void)
{
    return migration_current ? migration_state_get(migration_current) : MIGRATION_STATUS_NONE;
}

static bool status_is_running(MigrationStatus st)
{
    switch (st) {
    case MIGRATION_STATUS_SETUP:
    case MIGRATION_STATUS_ACTIVE:
    case MIGRATION_STATUS_POSTCOPY_ACTIVE:
    case MIGRATION_STATUS_POSTCOPY_PAUSED:
    case MIGRATION_STATUS_POSTCOPY_RECOVER:
    case MIGRATION_STATUS_PRE_SWITCHOVER:
    case MIGRATION_STATUS_DEVICE:
    case MIGRATION_STATUS_WAIT_UNPLUG:
    case MIGRATION_STATUS_CANCELLING:
    case MIGRATION_STATUS_COLO:
        return true;
    default:
        return false;
    }
}

bool migration_is_running(void)
{
    return status_is_running(migration_status());
}

bool migration_is_active(void)
{
    MigrationStatus st = migration_status();

    return st == MIGRATION_STATUS_SETUP || st == MIGRATION_STATUS_ACTIVE;
}

QEMUFile *migration_outgoing_file(void)
{
    return migration_current ? migration_current->to_dst : NULL;
}

/* Keep the first error only: later ones are its consequences. */
void migration_record_error(MigrationState *s, const Error *err)
{
    mutex_lock(&s->lock);
    if (!s->error && err) {
        s->error = error_copy(err);
    }
    mutex_unlock(&s->lock);
}

/* Wake every thread of the migration that may be blocked. */
void migration_kick_threads(MigrationState *s)
{
    mutex_lock(&s->lock);
    if (s->ioc) {
        qio_channel_shutdown(s->ioc, QIO_CHANNEL_SHUTDOWN_BOTH, NULL);
    }
    mutex_unlock(&s->lock);
    semaphore_post(&s->wake);
    semaphore_post(&s->rp_done);
}

void migration_bandwidth_changed(void)
{
    MigrationState *s = migration_current;

    if (!s) {
        return;
    }
    mutex_lock(&s->lock);
    if (s->to_dst) {
        qemu_file_set_rate_limit(s->to_dst, migrate_max_bandwidth());
    }
    mutex_unlock(&s->lock);
}

void migration_channel_set_timeout(QIOChannel *ioc)
{
    qio_channel_set_timeout(ioc, migrate_heartbeat_timeout());
}

void migration_timeout_changed(void)
{
    MigrationState *s = migration_current;

    if (s) {
        mutex_lock(&s->lock);
        if (s->ioc) {
            migration_channel_set_timeout(s->ioc);
        }
        mutex_unlock(&s->lock);
    }
    migration_incoming_timeout_changed();
}

/*
 * QEMU's destination refuses a PING without a return path, so none is
 * sent then; the stream itself is busy enough during precopy for the
 * destination's reads to be bounded.
 */
void migration_heartbeat(MigrationState *s)
{
    int64_t now = migration_now_ms();

    if (!s->rp_thread_created ||
        now - s->ping_ms < (int64_t)migrate_heartbeat_interval()) {
        return;
    }
    s->ping_ms = now;
    s->ping_value++;
    trace_migration_heartbeat(s->ping_value);
    qemu_savevm_send_ping(s->to_dst, s->ping_value);
}

/* ---- connecting ---- */

bool migration_uri_split(const char *uri, MigrationTransport *transport,
                         const char **rest)
{
    if (g_str_has_prefix(uri, "tcp:") || g_str_has_prefix(uri, "unix:")) {
        *transport = MIGRATION_TRANSPORT_SOCKET;
        *rest = uri;
    } else if (g_str_has_prefix(uri, "exec:")) {
        *transport = MIGRATION_TRANSPORT_EXEC;
        *rest = uri + strlen("exec:");
    } else if (g_str_has_prefix(uri, "file:")) {
        *transport = MIGRATION_TRANSPORT_FILE;
        *rest = uri + strlen("file:");
    } else {
        return false;
    }
    return true;
}

void migration_cleanup_bh(void *opaque)
{
    MigrationState *s = opaque;

    if (s->thread_created) {
        thread_join(&s->thread);
        s->thread_created = false;
    }
}

int64_t migration_now_ms(void)
{
    return clock_get_ms(CLOCK_TYPE_REALTIME);
}

/* ---- QMP ---- */

/* Drop what the last migration left, before a new one starts. */
static void migration_reset(MigrationState *s)
{
    migration_cleanup_bh(s);
    /* Its BH must not join the thread this migration is about to start. */
    bh_cancel(s->cleanup_bh);
    mutex_lock(&s->lock);
    error_free(s->error);
    s->error = NULL;
    s->start_ms = migration_now_ms();
    s->setup_time = 0;
    s->total_time = 0;
    s->downtime = 0;
    s->expected_downtime = migrate_downtime_limit();
    s->mbps = 0;
    s->transferred = 0;
    mutex_unlock(&s->lock);
    s->rp_shut_ok = false;
    s->rp_failed = 0;
    s->vm_was_running = false;
    s->last_sync_count = 0;
    s->ping_ms = migration_now_ms();
    s->ping_value = 1;          /* the PING of the setup */
    while (semaphore_timedwait(&s->wake, 0) == 0) {
        /* drain */
    }
    while (semaphore_timedwait(&s->rp_done, 0) == 0) {
        /* drain */
    }
    ram_stats_reset();
}

static bool migrate_prepare(MigrationState *s, bool blk, bool inc,
                            bool resume, Error **errp)
{
    if (resume) {
        error_setg(errp, "Cannot resume if there is no paused migration");
        return false;
    }
    if (status_is_running(migration_state_get(s))) {
        error_setg(errp, "There's a migration process in progress");
        return false;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        error_setg(errp, "Guest is waiting for an incoming migration");
        return false;
    }
    if (runstate_check(RUN_STATE_POSTMIGRATE)) {
        error_setg(errp, "Can't migrate the vm that was paused due to "
                   "previous migration");
        return false;
    }
    if (blk || inc) {
        if (migrate_colo()) {
            error_setg(errp, "No disk migration is required in COLO mode");
        } else {
            error_setg(errp, "Capability 'block' is not supported by "
                       "colo-vm");
        }
        return false;
    }
    return true;
}

void qmp_migrate(const char *uri, bool has_blk, bool blk, bool has_inc,
                 bool inc, bool has_detach, bool detach, bool has_resume,
                 bool resume, Error **errp)
{
    MigrationState *s = mig();
    MigrationTransport transport;
    const char *rest;
    Error *err = NULL;

    if (!migrate_prepare(s, has_blk && blk, has_inc && inc,
                         has_resume && resume, errp)) {
        return;
    }
    migration_reset(s);
    __atomic_store_n(&s->state, MIGRATION_STATUS_NONE, __ATOMIC_SEQ_CST);
    migration_set_state(&s->state, MIGRATION_STATUS_NONE,
                        MIGRATION_STATUS_SETUP);

    if (!migration_uri_split(uri, &transport, &rest)) {
        error_setg(errp, "Parameter 'uri' expects a valid migration "
                   "protocol");
        migration_set_state(&s->state, MIGRATION_STATUS_SETUP,
                            MIGRATION_STATUS_FAILED);
        return;
    }
    if (transport == MIGRATION_TRANSPORT_SOCKET) {
        SockAddr addr = { 0 };

        /* A malformed address fails now; connecting happens later. */
        if (!sock_addr_parse(rest, &addr, &err)) {
            migration_record_error(s, err);
            migration_set_state(&s->state, MIGRATION_STATUS_SETUP,
                                MIGRATION_STATUS_FAILED);
            error_propagate(errp, err);
            return;
        }
        sock_addr_clear(&addr);
    }
    g_free(s->uri);
    s->uri = g_strdup(uri);
    trace_migration_start(uri);
    thread_create(&s->thread, "live_migration", migration_thread, s,
                  THREAD_JOINABLE);
    s->thread_created = true;
}

void qmp_migrate_cancel(Error **errp)
{
    MigrationState *s = mig();
    MigrationStatus st;

    do {
        st = migration_state_get(s);
        if (!status_is_running(st) || st == MIGRATION_STATUS_CANCELLING) {
            return;
        }
    } while (!migration_set_state(&s->state, st,
                                  MIGRATION_STATUS_CANCELLING));
    trace_migration_cancel(MigrationStatus_str(st));
    migration_kick_threads(s);
}

static MigrationStats *ram_info(MigrationState *s, MigrationStatus st)
{
    MigrationStats *ram = g_new0(MigrationStats, 1);
    RAMStats rs;

    ram_get_stats(&rs);
    mutex_lock(&s->lock);
    ram->mbps = s->mbps;
    mutex_unlock(&s->lock);
    /* The RAM section's bytes, as QEMU: precopy-bytes + downtime-bytes. */
    ram->transferred = rs.transferred;
    ram->total = ram_total_size();
    ram->remaining = st == MIGRATION_STATUS_COMPLETED ? 0 : rs.remaining;
    ram->duplicate = rs.duplicate;
    ram->normal = rs.normal;
    ram->normal_bytes = rs.normal_bytes;
    ram->dirty_pages_rate = rs.dirty_pages_rate;
    ram->dirty_sync_count = rs.dirty_sync_count;
    ram->page_size = TARGET_PAGE_SIZE;
    ram->pages_per_second = rs.pages_per_second;
    ram->precopy_bytes = rs.precopy_bytes;
    ram->downtime_bytes = rs.downtime_bytes;
    return ram;
}

static void time_info(MigrationState *s, MigrationInfo *info,
                      MigrationStatus st)
{
    mutex_lock(&s->lock);
    info->has_setup_time = true;
    info->setup_time = s->setup_time;
    info->has_total_time = true;
    if (st == MIGRATION_STATUS_COMPLETED) {
        info->total_time = s->total_time;
        info->has_downtime = true;
        info->downtime = s->downtime;
    } else {
        info->total_time = migration_now_ms() - s->start_ms;
        info->has_expected_downtime = true;
        info->expected_downtime = s->expected_downtime;
    }
    mutex_unlock(&s->lock);
}

/* The source's view, as QEMU reports it for each status. */
static void fill_source_info(MigrationState *s, MigrationInfo *info)
{
    MigrationStatus st = migration_state_get(s);

    switch (st) {
    case MIGRATION_STATUS_NONE:
        return;
    case MIGRATION_STATUS_ACTIVE:
    case MIGRATION_STATUS_CANCELLING:
    case MIGRATION_STATUS_COMPLETED:
        time_info(s, info, st);
        info->ram = ram_info(s, st);
        if (st != MIGRATION_STATUS_COMPLETED && cpu_throttle_active()) {
            info->has_cpu_throttle_percentage = true;
            info->cpu_throttle_percentage = cpu_throttle_get_percentage();
        }
        break;
    case MIGRATION_STATUS_FAILED:
        mutex_lock(&s->lock);
        if (s->error) {
            info->error_desc = g_strdup(error_get_pretty(s->error));
        }
        mutex_unlock(&s->lock);
        break;
    default:
        break;
    }
    info->has_status = true;
    info->status = st;
}

MigrationInfo *qmp_query_migrate(Error **errp)
{
    MigrationInfo *info = g_new0(MigrationInfo, 1);

    fill_source_info(mig(), info);
    migration_incoming_fill_info(info);
    /* COLO adds its checkpoint counters on either side. */
    info->colo = colo_checkpoint_stats();
    return info;
}

/* ---- process ---- */

void migration_init(void)
{
    MigrationState *s;

    if (migration_current) {
        return;
    }
    s = g_new0(MigrationState, 1);
    mutex_init(&s->lock);
    semaphore_init(&s->wake, 0);
    semaphore_init(&s->rp_done, 0);
    s->cleanup_bh = bh_new(migration_cleanup_bh, s);
    s->expected_downtime = MIGRATE_DEFAULT_DOWNTIME_LIMIT_MS;
    migrate_options_reset();
    migration_incoming_init();
    migration_current = s;
    /* Before the machine: "ram" is the stream's first section. */
    ram_mig_init();
}

void migration_shutdown(void)
{
    MigrationState *s = migration_current;

    g_assert(bql_locked());
    if (!s) {
        return;
    }
    /* Wake the COLO threads first: they would wait for a takeover. */
    colo_shutdown();
    qmp_migrate_cancel(NULL);
    if (s->thread_created) {
        /* The thread may need the BQL to finish. */
        bql_unlock();
        thread_join(&s->thread);
        bql_lock();
        s->thread_created = false;
    }
    migration_incoming_shutdown();
    ram_mig_cleanup();
    bh_delete(s->cleanup_bh);
    semaphore_destroy(&s->wake);
    semaphore_destroy(&s->rp_done);
    mutex_destroy(&s->lock);
    error_free(s->error);
    g_free(s->uri);
    g_free(s);
    migration_current = NULL;
}
