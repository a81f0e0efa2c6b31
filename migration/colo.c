/*
 * COLO: the checkpoint protocol between the primary (the former
 * migration source, in its "live_migration" thread) and the secondary
 * (the former destination, in its "COLO incoming" thread), and the
 * takeover when one of them is declared dead.
 *
 * One checkpoint, as the two sides see it (P -> S on the migration
 * stream, S -> P on the return path; each word is a be32 COLOMessage):
 *
 *   P                                   S
 *   checkpoint-request  ------------->  stop VM (run state colo)
 *                       <-------------  checkpoint-reply
 *   stop VM (colo)
 *   vmstate-send        ------------->
 *   dirty RAM sections + EOF ------->   into the RAM cache, not guest RAM
 *   vmstate-size, be64 N, N bytes -->   device state into a buffer
 *                       <-------------  vmstate-received
 *                                       commit: RAM cache -> guest RAM,
 *                                       then load the device state
 *                       <-------------  vmstate-loaded
 *   resume VM                           resume VM
 *
 * Guest RAM and devices on the secondary change only once every byte of
 * a checkpoint is here, so a checkpoint cut short is never half applied.
 *
 * Between checkpoints the primary sends the stream's PING every
 * x-heartbeat-interval and the secondary answers with a PONG on the
 * return path; every read and write waits at most x-heartbeat-timeout
 * (the channel's own bound), so a silent peer fails a step as a closed
 * connection does.
 *
 * When a side loses its peer (any send or receive fails, or times out)
 * it sends COLO_EXIT with reason error and waits for
 * x-colo-lost-heartbeat before it runs alone: it cannot tell a dead peer
 * from a broken link, and two VMs running alone would diverge.
 * Meanwhile its VM stays as the failure found it: still running if the
 * failure came between checkpoints, stopped in the colo run state if it
 * came in the middle of one (the exact table is in docs/colo.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "io/channel-buffer.h"
#include "io/channel-socket.h"
#include "migration/colo-dirty.h"
#include "migration/colo-int.h"
#include "migration/colo-ram.h"
#include "migration/colo.h"
#include "migration/failover.h"
#include "migration/migration.h"
#include "migration/migration-int.h"
#include "migration/options.h"
#include "migration/qemu-file.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/thread.h"

/* Device state is usually small; the buffer grows when it is not. */
#define COLO_BUFFER_BASE_SIZE (256 * 1024)

/*
 * The most memory the primary stages a checkpoint's RAM in.  While its
 * guest is stopped, the primary copies the dirty pages into this
 * staging area (a RAM snapshot, include/migration/ram.h) and resumes
 * the guest; the transfer to the secondary follows while the guest
 * runs.  The area is kept from one checkpoint to the next (fresh memory
 * costs page faults on every use), so the primary holds up to this much
 * more than its guest's RAM while in COLO.  A checkpoint with more
 * dirty memory than the area holds is sent as it is saved, with the
 * guest stopped until the secondary has it; the area is then grown for
 * the next one (up to this bound), after the guest has resumed.
 */
#define COLO_STAGING_MAX ((uint64_t)512 * 1024 * 1024)
/* What the staging area starts with: the checkpoints of an idle guest. */
#define COLO_STAGING_INITIAL ((uint64_t)4 * 1024 * 1024)

typedef struct ColoState {
    /*
     * Protects: from_src, to_src and the statistics below.  Never held
     * across I/O (a shutdown under it does not block); taken after the
     * BQL when both are needed, never the other way round.
     */
    Mutex lock;
    bool quitting;          /* atomic: the process is ending */
    COLOMode last_mode;     /* protected by the BQL */

    /*
     * Primary: the outgoing migration's status and files.  ms is
     * written before primary_state is published (atomically), and read
     * by others only once they have seen primary_state set; both are
     * cleared at exit (main thread, BQL) after the threads were woken.
     */
    MigrationState *ms;
    int *primary_state;     /* atomic pointer */
    Semaphore checkpoint_sem;   /* a checkpoint is wanted now */
    Semaphore exit_sem;         /* the takeover (or quit) is done */
    uint32_t ping_value;        /* migration thread: last heartbeat */
    /* Migration thread: the staging area. */
    RAMSnapshot *staging;
    /*
     * Migration thread: the secondary announced x-colo-lean, and the
     * pages it reports dirty at each checkpoint.
     */
    bool lean;
    ColoDirtySet *secondary_dirty;

    /* Secondary. */
    int *incoming_state;    /* atomic pointer */
    /*
     * Protected by lock (the failover bottom half shuts from_src down).
     * Set before the COLO incoming thread starts and cleared after it
     * was joined, so that thread reads them without the lock.
     */
    QEMUFile *from_src;
    QEMUFile *to_src;
    Thread thread;          /* the load thread's: it creates and joins */
    Semaphore incoming_sem;     /* the takeover (or quit) is done */
    /* Protected by the BQL: applying a checkpoint. */
    bool vmstate_loading;

    /*
     * query-migrate's 'colo' member.  Protected by lock; count is
     * written by one COLO thread at a time, which also reads it
     * without the lock for its traces.
     */
    bool stats_valid;
    COLOMode stats_mode;
    int64_t count;
    int64_t last_pause_ms;
    int64_t total_pause_ms;
    int64_t last_commit_ms;
    int64_t total_bytes;
    int64_t extra_pages;        /* primary, lean secondary */
    int64_t cache_bytes;        /* secondary, after the last commit */
} ColoState;

static ColoState colo;

/*
 * The lock and semaphores live as long as the process.  Every entry
 * point calls this first: the monitor, the migration thread and the
 * load thread may each be the first to arrive.
 */
static void colo_state_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        mutex_init(&colo.lock);
        semaphore_init(&colo.checkpoint_sem, 0);
        semaphore_init(&colo.exit_sem, 0);
        semaphore_init(&colo.incoming_sem, 0);
        g_once_init_leave(&done, 1);
    }
}

static int64_t colo_now_ms(void)
{
    return clock_get_ns(CLOCK_TYPE_HOST) / 1000000;
}

static bool colo_quitting(void)
{
    return __atomic_load_n(&colo.quitting, __ATOMIC_SEQ_CST);
}

/* The status *@state points to, read from any thread. */
static MigrationStatus colo_load_state(int **state)
{
    int *p = __atomic_load_n(state, __ATOMIC_SEQ_CST);

    return p ? __atomic_load_n(p, __ATOMIC_SEQ_CST) : MIGRATION_STATUS_NONE;
}

/* ---- mode and statistics ---- */

bool migration_in_colo_state(void)
{
    return colo_load_state(&colo.primary_state) == MIGRATION_STATUS_COLO;
}

bool migration_incoming_in_colo_state(void)
{
    return colo_load_state(&colo.incoming_state) == MIGRATION_STATUS_COLO;
}

COLOMode get_colo_mode(void)
{
    if (migration_in_colo_state()) {
        return COLO_MODE_PRIMARY;
    }
    if (migration_incoming_in_colo_state()) {
        return COLO_MODE_SECONDARY;
    }
    return COLO_MODE_NONE;
}

static void colo_stats_reset(COLOMode mode)
{
    mutex_lock(&colo.lock);
    colo.stats_valid = true;
    colo.stats_mode = mode;
    colo.count = 0;
    colo.last_pause_ms = 0;
    colo.total_pause_ms = 0;
    colo.last_commit_ms = 0;
    colo.total_bytes = 0;
    colo.extra_pages = 0;
    colo.cache_bytes = mode == COLO_MODE_SECONDARY ? colo_ram_cache_bytes()
                                                   : 0;
    mutex_unlock(&colo.lock);
}

/*
 * One more checkpoint.  The primary gives the bytes it sent and the
 * pages sent only for a lean secondary; the secondary gives 0 for both
 * and its cache's size is taken here (its own thread owns the cache).
 */
static void colo_stats_add(int64_t pause_ms, int64_t commit_ms,
                           int64_t bytes, int64_t extra_pages)
{
    int64_t cache_bytes = colo.stats_mode == COLO_MODE_SECONDARY
                          ? colo_ram_cache_bytes() : 0;

    mutex_lock(&colo.lock);
    colo.count++;
    colo.last_pause_ms = pause_ms;
    colo.total_pause_ms += pause_ms;
    colo.last_commit_ms = commit_ms;
    colo.total_bytes += bytes;
    colo.extra_pages += extra_pages;
    colo.cache_bytes = cache_bytes;
    mutex_unlock(&colo.lock);
    trace_colo_checkpoint_done(colo.count, pause_ms);
}

/*
 * The secondary counts a checkpoint once it is applied, before it says
 * so with vmstate-loaded: a return path that breaks then leaves the
 * checkpoint applied all the same.  The pause recorded then runs up to
 * the apply; the restart adds the rest of it.
 */
static void colo_stats_add_pause(int64_t extra_ms)
{
    mutex_lock(&colo.lock);
    colo.last_pause_ms += extra_ms;
    colo.total_pause_ms += extra_ms;
    mutex_unlock(&colo.lock);
}

COLOCheckpointStats *colo_checkpoint_stats(void)
{
    COLOCheckpointStats *st;

    colo_state_init();
    mutex_lock(&colo.lock);
    if (!colo.stats_valid) {
        mutex_unlock(&colo.lock);
        return NULL;
    }
    st = g_new0(COLOCheckpointStats, 1);
    st->mode = colo.stats_mode;
    st->checkpoint_count = colo.count;
    st->last_pause_time = colo.last_pause_ms;
    st->average_pause_time = colo.count ? colo.total_pause_ms / colo.count
                                        : 0;
    if (colo.stats_mode == COLO_MODE_SECONDARY) {
        st->has_last_commit_time = true;
        st->last_commit_time = colo.last_commit_ms;
        st->has_cache_bytes = true;
        st->cache_bytes = colo.cache_bytes;
    } else if (colo.stats_mode == COLO_MODE_PRIMARY) {
        st->has_checkpoint_bytes = true;
        st->checkpoint_bytes = colo.total_bytes;
        st->has_extra_pages = colo.lean;
        st->extra_pages = colo.extra_pages;
    }
    mutex_unlock(&colo.lock);
    return st;
}

COLOStatus *qmp_query_colo_status(Error **errp)
{
    COLOStatus *s = g_new0(COLOStatus, 1);

    s->mode = get_colo_mode();
    s->last_mode = colo.last_mode;
    switch (failover_get_state()) {
    case FAILOVER_STATUS_NONE:
        s->reason = COLO_EXIT_REASON_NONE;
        break;
    case FAILOVER_STATUS_COMPLETED:
        s->reason = COLO_EXIT_REASON_REQUEST;
        break;
    default:
        /* Under way on the primary; given up on elsewhere. */
        s->reason = migration_in_colo_state() ? COLO_EXIT_REASON_PROCESSING
                                              : COLO_EXIT_REASON_ERROR;
        break;
    }
    return s;
}

/* ---- messages ---- */

/*
 * The message helpers block on the channel: never with the BQL, or a
 * failover bottom half could not run to shut the channel down.
 * Failures say what the channel said (a closed connection, a timeout),
 * behind the step that met them.
 */
static bool colo_send_message(QEMUFile *f, COLOMessage msg, Error **errp)
{
    g_assert(!bql_locked());
    qemu_put_be32(f, msg);
    qemu_fflush(f);
    if (qemu_file_get_error_obj(f, errp)) {
        error_prepend(errp, "Can't send COLO message %s: ",
                      COLOMessage_str(msg));
        return false;
    }
    trace_colo_send_message(COLOMessage_str(msg));
    return true;
}

static bool colo_send_message_value(QEMUFile *f, COLOMessage msg,
                                    uint64_t value, Error **errp)
{
    if (!colo_send_message(f, msg, errp)) {
        return false;
    }
    qemu_put_be64(f, value);
    qemu_fflush(f);
    if (qemu_file_get_error_obj(f, errp)) {
        error_prepend(errp, "Failed to send value for message %s: ",
                      COLOMessage_str(msg));
        return false;
    }
    trace_colo_send_message_value(COLOMessage_str(msg), value);
    return true;
}

/* The next word; COLO_MESSAGE__MAX (with @errp set) on any failure. */
static COLOMessage colo_receive_message(QEMUFile *f, Error **errp)
{
    uint32_t msg;

    g_assert(!bql_locked());
    msg = qemu_get_be32(f);
    if (qemu_file_get_error_obj(f, errp)) {
        error_prepend(errp, "Can't receive COLO message: ");
        return COLO_MESSAGE__MAX;
    }
    if (msg >= COLO_MESSAGE__MAX) {
        error_setg(errp, "Invalid COLO message %" PRIu32, msg);
        return COLO_MESSAGE__MAX;
    }
    trace_colo_receive_message(COLOMessage_str(msg));
    return msg;
}

static bool colo_receive_check_message(QEMUFile *f, COLOMessage expect,
                                       Error **errp)
{
    COLOMessage msg = colo_receive_message(f, errp);

    if (msg == COLO_MESSAGE__MAX) {
        return false;
    }
    if (msg != expect) {
        error_setg(errp, "Unexpected COLO message %s, expected %s",
                   COLOMessage_str(msg), COLOMessage_str(expect));
        return false;
    }
    return true;
}

static bool colo_receive_message_value(QEMUFile *f, COLOMessage expect,
                                       uint64_t *value, Error **errp)
{
    if (!colo_receive_check_message(f, expect, errp)) {
        return false;
    }
    *value = qemu_get_be64(f);
    if (qemu_file_get_error_obj(f, errp)) {
        error_prepend(errp, "Failed to get value for COLO message %s: ",
                      COLOMessage_str(expect));
        return false;
    }
    return true;
}

/* ---- heartbeat ---- */

/*
 * Between checkpoints the link would be silent, and a peer that froze
 * or a link that dropped everything would go unnoticed: the primary
 * sends a PING command of the migration stream every
 * x-heartbeat-interval, and the secondary answers with the return
 * path's PONG, echoing its value.  Both are QEMU's own messages (a
 * QEMU destination answers a PING during precopy the same way); the
 * COLOMessage values stay QEMU's.  Each side expects the other's part
 * within x-heartbeat-timeout, the bound of every read and write on the
 * channel, and treats silence like a closed connection.
 */

/* Primary: one exchange.  Migration thread, between checkpoints. */
static bool colo_heartbeat(MigrationState *s, Error **errp)
{
    uint32_t value = ++colo.ping_value;
    unsigned type, len;
    uint32_t echo;

    trace_colo_heartbeat_send(value);
    qemu_savevm_send_ping(s->to_dst, value);
    if (qemu_file_get_error_obj(s->to_dst, errp)) {
        error_prepend(errp, "Can't send COLO heartbeat: ");
        return false;
    }
    type = qemu_get_be16(s->from_dst);
    len = qemu_get_be16(s->from_dst);
    echo = qemu_get_be32(s->from_dst);
    if (qemu_file_get_error_obj(s->from_dst, errp)) {
        error_prepend(errp, "Can't receive COLO heartbeat: ");
        return false;
    }
    if (type != MIG_RP_MSG_PONG || len != 4 || echo != value) {
        error_setg(errp, "Invalid reply to COLO heartbeat %" PRIu32
                   ": message 0x%04x length %u value %" PRIu32,
                   value, type, len, echo);
        return false;
    }
    trace_colo_heartbeat_receive(echo);
    return true;
}

/* Secondary: a PING's first byte has been peeked; answer it. */
static bool colo_incoming_heartbeat(QEMUFile *from, QEMUFile *to,
                                    Error **errp)
{
    unsigned cmd, len;
    uint32_t value;

    qemu_get_byte(from);
    cmd = qemu_get_be16(from);
    len = qemu_get_be16(from);
    value = qemu_get_be32(from);
    if (qemu_file_get_error_obj(from, errp)) {
        error_prepend(errp, "Can't receive COLO heartbeat: ");
        return false;
    }
    if (cmd != MIG_CMD_PING || len != 4) {
        error_setg(errp, "Unexpected migration command 0x%x (length %u) "
                   "between COLO checkpoints", cmd, len);
        return false;
    }
    qemu_put_be16(to, MIG_RP_MSG_PONG);
    qemu_put_be16(to, 4);
    qemu_put_be32(to, value);
    qemu_fflush(to);
    if (qemu_file_get_error_obj(to, errp)) {
        error_prepend(errp, "Can't send COLO heartbeat: ");
        return false;
    }
    trace_colo_heartbeat_answer(value);
    return true;
}

/*
 * Secondary, between checkpoints: the next COLO message, answering the
 * heartbeats that come first.  A COLOMessage is a be32 below 256, so
 * its first byte is 0; a PING starts with QEMU_VM_COMMAND.
 */
static COLOMessage colo_incoming_wait_message(QEMUFile *from, QEMUFile *to,
                                              Error **errp)
{
    while (qemu_peek_byte(from, 0) == QEMU_VM_COMMAND) {
        if (!colo_incoming_heartbeat(from, to, errp)) {
            return COLO_MESSAGE__MAX;
        }
    }
    /* Also reports why the peek found nothing. */
    return colo_receive_message(from, errp);
}

/* A timeout, rather than a closed link, ended the loop: trace it. */
static void colo_trace_timeout(QEMUFile *f, COLOMode mode)
{
    QIOChannel *ioc = f ? qemu_file_get_ioc(f) : NULL;

    if (ioc && qio_channel_timed_out(ioc)) {
        trace_colo_peer_timeout(COLOMode_str(mode),
                                qio_channel_get_timeout(ioc));
    }
}

/*
 * Checkpoint messages are a few bytes each and every one is awaited by
 * the peer: with Nagle's algorithm a small write waits for the ACK of
 * the previous one, which the peer delays, adding tens of milliseconds
 * to each pause.  Send them at once.  Harmless on a non-TCP channel.
 */
static void colo_channel_nodelay(QEMUFile *f)
{
    QIOChannel *ioc = qemu_file_get_ioc(f);
    int one = 1;
    int fd;

    if (!ioc || !qio_channel_is_socket(ioc)) {
        return;
    }
    fd = qio_channel_get_fd(ioc);
    if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}

/* ---- run state ---- */

static bool colo_runstate_is_stopped(void)
{
    return runstate_check(RUN_STATE_COLO) || !runstate_is_running();
}

/* COLO thread, BQL not held (bql_lock() asserts it). */
static void colo_vm_stop(void)
{
    bql_lock();
    vm_stop_force_state(RUN_STATE_COLO);
    bql_unlock();
    trace_colo_vm_state_change("run", "stop");
}

static bool colo_vm_start(Error **errp)
{
    bool ok;

    bql_lock();
    ok = runstate_is_running() || vm_start(errp);
    bql_unlock();
    trace_colo_vm_state_change("stop", "run");
    return ok;
}

static void colo_send_exit_event(COLOMode mode)
{
    COLOExitReason reason;

    /*
     * Any failover state but none means x-colo-lost-heartbeat came before
     * this side left COLO: the exit is the request's.  Waiting for
     * COMPLETED instead would race with the takeover's bottom half, which
     * may not have run yet when the loop sees the request and stops, and
     * report an error for what was a requested takeover.
     */
    bql_lock();
    reason = failover_request_is_active() ? COLO_EXIT_REASON_REQUEST
                                          : COLO_EXIT_REASON_ERROR;
    trace_colo_exit(COLOMode_str(mode), COLOExitReason_str(reason));
    qapi_event_send_colo_exit(mode, reason);
    bql_unlock();
}

/* ---- events for the COLO proxy ---- */

typedef struct ColoEventHandler {
    ColoEventFn *fn;
    void *opaque;
} ColoEventHandler;

/* Protected by the BQL. */
static GArray *colo_event_handlers;

void colo_add_event_handler(ColoEventFn *fn, void *opaque)
{
    ColoEventHandler h = { .fn = fn, .opaque = opaque };

    g_assert(bql_locked());
    if (!colo_event_handlers) {
        colo_event_handlers = g_array_new(false, false,
                                          sizeof(ColoEventHandler));
    }
    g_array_append_val(colo_event_handlers, h);
}

void colo_remove_event_handler(ColoEventFn *fn, void *opaque)
{
    g_assert(bql_locked());
    for (guint i = 0; colo_event_handlers &&
         i < colo_event_handlers->len; i++) {
        ColoEventHandler *h = &g_array_index(colo_event_handlers,
                                             ColoEventHandler, i);

        if (h->fn == fn && h->opaque == opaque) {
            g_array_remove_index(colo_event_handlers, i);
            break;
        }
    }
    if (colo_event_handlers && colo_event_handlers->len == 0) {
        g_array_free(colo_event_handlers, true);
        colo_event_handlers = NULL;
    }
}

void colo_notify_event(COLOMode mode, ColoEvent event)
{
    g_assert(bql_locked());
    trace_colo_notify(COLOMode_str(mode), event);
    for (guint i = 0; colo_event_handlers &&
         i < colo_event_handlers->len; i++) {
        ColoEventHandler *h = &g_array_index(colo_event_handlers,
                                             ColoEventHandler, i);

        h->fn(h->opaque, mode, event);
    }
}

/* ---- primary ---- */

void colo_checkpoint_request(void)
{
    colo_state_init();
    /* Outside COLO a request would linger and fire at the next entry. */
    if (migration_in_colo_state()) {
        semaphore_post(&colo.checkpoint_sem);
    }
}

/*
 * A new delay counts from now: take a checkpoint at once and wait the
 * new delay after it, so a shorter delay is never overshot by a long
 * wait that began earlier.
 */
void colo_checkpoint_delay_set(void)
{
    g_assert(bql_locked());
    if (migration_in_colo_state()) {
        colo_checkpoint_request();
    }
}

/*
 * The memory part: every page dirtied since the previous checkpoint, as
 * PART sections of the live sections, then EOF.  The caller synced the
 * dirty log (qemu_savevm_state_pending_exact()) after the VM stopped,
 * so nothing the guest wrote before it stopped is missed.  VM stopped,
 * no BQL (as for precopy iterations).
 */
static bool colo_save_live_state(QEMUFile *f, Error **errp)
{
    int ret;

    g_assert(!bql_locked());
    do {
        ret = qemu_savevm_state_iterate(f);
    } while (ret == 0 && !qemu_file_get_error(f));
    if (ret < 0 || qemu_file_get_error(f)) {
        if (!qemu_file_get_error_obj(f, errp)) {
            error_setg(errp, "Failed to send the VM's live state");
        }
        return false;
    }
    qemu_put_byte(f, QEMU_VM_EOF);
    qemu_fflush(f);
    return !qemu_file_get_error_obj(f, errp);
}

/*
 * The device state, saved into the buffer channel @bioc.  Closing the
 * file closes the channel too, so each checkpoint uses a new one.  BQL
 * held.
 */
static bool colo_save_device_state(QIOChannel *bioc, Error **errp)
{
    QEMUFile *fb;
    int ret;

    g_assert(bql_locked());
    fb = qemu_file_new_output(bioc);
    ret = qemu_save_device_state(fb, errp);
    qemu_fflush(fb);
    if (ret == 0 && qemu_file_get_error_obj(fb, errp)) {
        ret = -EIO;
    }
    qemu_fclose(fb);
    return ret == 0;
}

/*
 * Resume the guest in the middle of a checkpoint, unless a takeover or
 * the end of the process came meanwhile: they restart it themselves
 * when it should run.
 */
static bool colo_resume_early(Error **errp)
{
    if (failover_request_is_active() || colo_quitting()) {
        return true;
    }
    return colo_vm_start(errp);
}

/*
 * A staged checkpoint failed after the guest resumed: stop it again, so
 * that the primary waits for x-colo-lost-heartbeat with its guest
 * stopped as when the checkpoint is not staged.  Its output since the
 * checkpoint's cut was held and stays so.  A takeover decides for
 * itself.
 */
static void colo_stop_after_failure(void)
{
    bql_lock();
    if (!failover_request_is_active() && !colo_quitting() &&
        runstate_is_running()) {
        vm_stop_force_state(RUN_STATE_COLO);
        trace_colo_vm_state_change("run", "stop");
    }
    bql_unlock();
}

/*
 * One checkpoint.  False with @errp set on failure; false without it
 * when a takeover was asked for before the VM was stopped.
 *
 * While the VM is stopped, its dirty RAM is copied into the staging area
 * (memory speed, ram_snapshot_take()) and its device state saved into
 * @bioc; the VM resumes and only then does the checkpoint travel.  The output it produces from
 * then on belongs to the next checkpoint: the COLO proxy holds it until
 * this one is committed (COLO_EVENT_COMMITTED, after the secondary's
 * vmstate-loaded), exactly as when the VM stayed stopped.  A failed
 * transfer drops the checkpoint whole: the secondary applies nothing it
 * did not receive entirely.  A checkpoint too big for the staging area
 * is sent as it is saved, the VM stopped until it is committed.
 * *@resumed is set once the VM runs again before the commit.
 */
static bool colo_checkpoint_transaction(MigrationState *s, bool *resumed,
                                        Error **errp)
{
    g_autoptr(QIOChannel) bioc = qio_channel_buffer_new(COLO_BUFFER_BASE_SIZE);
    QEMUFile *to = s->to_dst;
    QEMUFile *from = s->from_dst;
    const uint8_t *data;
    size_t len;
    int64_t stop_ms, pause_ms = -1;
    uint64_t sent = qemu_file_transferred(to);
    uint64_t pending = 0, extra = 0;
    bool ok, staged;

    trace_colo_checkpoint_start(colo.count + 1);
    if (!colo_send_message(to, COLO_MESSAGE_CHECKPOINT_REQUEST, errp) ||
        !colo_receive_check_message(from, COLO_MESSAGE_CHECKPOINT_REPLY,
                                    errp)) {
        return false;
    }
    /* A lean secondary has no copy of the pages its guest wrote. */
    if (colo.lean &&
        (!colo_receive_check_message(from, COLO_MESSAGE_X_SECONDARY_DIRTY,
                                     errp) ||
         !colo_dirty_set_get(colo.secondary_dirty, from, errp))) {
        return false;
    }

    bql_lock();
    if (failover_request_is_active()) {
        bql_unlock();
        return false;
    }
    stop_ms = colo_now_ms();
    vm_stop_force_state(RUN_STATE_COLO);
    colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_CHECKPOINT);
    qemu_savevm_state_pending_exact(&pending);
    if (colo.lean) {
        /* After the sync: the pages added are the ones only it needs. */
        extra = colo_dirty_set_merge(colo.secondary_dirty);
        pending += extra * TARGET_PAGE_SIZE;
        trace_colo_checkpoint_extra_pages(extra);
    }
    bql_unlock();
    trace_colo_vm_state_change("run", "stop");

    /* The snapshot holds "ram" only: with other live sections, no staging. */
    staged = qemu_savevm_live_sections() == 1 &&
             pending <= ram_snapshot_capacity(colo.staging) &&
             ram_snapshot_take(colo.staging);
    trace_colo_checkpoint_pending(pending, staged);
    if (staged) {
        ok = true;
    } else {
        ok = colo_send_message(to, COLO_MESSAGE_VMSTATE_SEND, errp) &&
             colo_save_live_state(to, errp);
    }
    if (!ok) {
        return false;
    }
    bql_lock();
    ok = colo_save_device_state(bioc, errp);
    bql_unlock();
    if (!ok) {
        return false;
    }
    if (staged) {
        if (!colo_resume_early(errp)) {
            return false;
        }
        *resumed = true;
        pause_ms = colo_now_ms() - stop_ms;
        ram_snapshot_send_begin(colo.staging);
        ok = colo_send_message(to, COLO_MESSAGE_VMSTATE_SEND, errp) &&
             colo_save_live_state(to, errp);
        ram_snapshot_send_end();
        if (!ok) {
            return false;
        }
    }
    data = qio_channel_buffer_data(bioc, &len);
    trace_colo_vmstate_size(len);
    if (!colo_send_message_value(to, COLO_MESSAGE_VMSTATE_SIZE, len, errp)) {
        return false;
    }
    qemu_put_buffer(to, data, len);
    qemu_fflush(to);
    if (qemu_file_get_error_obj(to, errp)) {
        error_prepend(errp, "Failed to send the device state: ");
        return false;
    }
    if (!colo_receive_check_message(from, COLO_MESSAGE_VMSTATE_RECEIVED,
                                    errp) ||
        !colo_receive_check_message(from, COLO_MESSAGE_VMSTATE_LOADED,
                                    errp)) {
        return false;
    }
    bql_lock();
    colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_COMMITTED);
    bql_unlock();
    if (!staged) {
        if (!colo_vm_start(errp)) {
            return false;
        }
        pause_ms = colo_now_ms() - stop_ms;
        if (pending <= COLO_STAGING_MAX) {
            ram_snapshot_reserve(colo.staging, pending);
        }
    }
    colo_stats_add(pause_ms, 0, qemu_file_transferred(to) - sent, extra);
    return true;
}

/* The same; a VM resumed early is stopped again when it fails. */
static bool colo_do_checkpoint_transaction(MigrationState *s, Error **errp)
{
    bool resumed = false;

    if (colo_checkpoint_transaction(s, &resumed, errp)) {
        return true;
    }
    if (resumed) {
        colo_stop_after_failure();
    }
    return false;
}

static bool colo_primary_going_on(MigrationState *s)
{
    return migration_state_get(s) == MIGRATION_STATUS_COLO &&
           !failover_request_is_active() && !colo_quitting();
}

/*
 * Wait for the next checkpoint: the delay, a request, or the end, with a
 * heartbeat whenever x-heartbeat-interval has passed since the last
 * exchange (a checkpoint counts as one).  False when the loop must end,
 * with @errp set when a heartbeat failed.  Whatever wakes the loop
 * (colo_checkpoint_request(), a takeover, quit) posts checkpoint_sem;
 * a takeover also shuts the channel down, which ends a heartbeat
 * blocked on it.
 */
static bool colo_wait_checkpoint(MigrationState *s, int64_t next_ms,
                                 Error **errp)
{
    int64_t beat_ms = colo_now_ms();

    while (colo_primary_going_on(s)) {
        int64_t now = colo_now_ms();
        int64_t due = beat_ms + migrate_heartbeat_interval();
        int64_t wait = MIN(next_ms, due) - now;

        if (wait > 0 &&
            semaphore_timedwait(&colo.checkpoint_sem,
                                wait > INT32_MAX ? INT32_MAX
                                                 : (int)wait) == 0) {
            break;      /* wanted now */
        }
        now = colo_now_ms();
        if (now >= next_ms) {
            break;
        }
        if (now >= due && colo_primary_going_on(s)) {
            if (!colo_heartbeat(s, errp)) {
                return false;
            }
            beat_ms = colo_now_ms();
        }
    }
    /* Requests that piled up are all served by this checkpoint. */
    while (semaphore_timedwait(&colo.checkpoint_sem, 0) == 0) {
        /* drain */
    }
    return colo_primary_going_on(s);
}

/*
 * The secondary says it is ready once it has entered COLO; a lean one
 * (x-colo-lean) first says so with an empty dirty set.
 */
static bool colo_wait_secondary_ready(MigrationState *s, Error **errp)
{
    COLOMessage msg = colo_receive_message(s->from_dst, errp);

    if (msg == COLO_MESSAGE_X_SECONDARY_DIRTY) {
        colo.secondary_dirty = colo_dirty_set_new();
        if (!colo_dirty_set_get(colo.secondary_dirty, s->from_dst, errp)) {
            return false;
        }
        mutex_lock(&colo.lock);
        colo.lean = true;
        mutex_unlock(&colo.lock);
        trace_colo_lean_secondary();
        return colo_receive_check_message(s->from_dst,
                                          COLO_MESSAGE_CHECKPOINT_READY,
                                          errp);
    }
    if (msg == COLO_MESSAGE__MAX) {
        return false;
    }
    if (msg != COLO_MESSAGE_CHECKPOINT_READY) {
        error_setg(errp, "Unexpected COLO message %s, expected %s",
                   COLOMessage_str(msg),
                   COLOMessage_str(COLO_MESSAGE_CHECKPOINT_READY));
        return false;
    }
    return true;
}

static void colo_process_checkpoint(MigrationState *s)
{
    Error *err = NULL;
    int64_t next_ms;

    if (!colo_wait_secondary_ready(s, &err) || !colo_vm_start(&err)) {
        goto out;
    }
    next_ms = colo_now_ms() + migrate_checkpoint_delay();
    while (colo_wait_checkpoint(s, next_ms, &err)) {
        if (!colo_do_checkpoint_transaction(s, &err)) {
            break;
        }
        next_ms = colo_now_ms() + migrate_checkpoint_delay();
    }

out:
    /*
     * After a takeover or when quitting, a failed read is only the echo
     * of the channel's shutdown.
     */
    if (err && !colo_quitting() &&
        failover_get_state() != FAILOVER_STATUS_COMPLETED) {
        colo_trace_timeout(s->to_dst, COLO_MODE_PRIMARY);
        error_report_err(err);
    } else {
        error_free(err);
    }
    colo_send_exit_event(COLO_MODE_PRIMARY);
    /*
     * Still in COLO means the loop failed on its own: x-colo-lost-
     * heartbeat (or the process ending) decides what happens next.  A
     * takeover under way posts exit_sem when it is done.
     */
    if (migration_state_get(s) == MIGRATION_STATUS_COLO ||
        failover_request_is_active()) {
        semaphore_wait(&colo.exit_sem);
    }
}

void migrate_start_colo_process(MigrationState *s)
{
    bool entered;

    colo_state_init();
    failover_init_state();
    colo.ms = s;
    __atomic_store_n(&colo.primary_state, &s->state, __ATOMIC_SEQ_CST);
    /* Checkpoints must not wait for a bandwidth window. */
    qemu_file_set_rate_limit(s->to_dst, 0);
    colo_channel_nodelay(s->to_dst);
    colo_stats_reset(COLO_MODE_PRIMARY);
    colo.ping_value = 0;
    mutex_lock(&colo.lock);
    colo.lean = false;
    mutex_unlock(&colo.lock);
    bql_lock();
    entered = migration_set_state(&s->state, MIGRATION_STATUS_ACTIVE,
                                  MIGRATION_STATUS_COLO);
    if (entered) {
        colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_START);
    }
    bql_unlock();
    if (!entered) {
        return;     /* cancelled meanwhile */
    }
    /* Big enough for the checkpoints of an idle guest from the start. */
    colo.staging = ram_snapshot_new();
    ram_snapshot_reserve(colo.staging, COLO_STAGING_INITIAL);
    colo_process_checkpoint(s);
    ram_snapshot_free(colo.staging);
    colo.staging = NULL;
    colo_dirty_set_free(colo.secondary_dirty);
    colo.secondary_dirty = NULL;

    /*
     * After a takeover the primary runs alone; after migrate_cancel it
     * runs alone too (the secondary is left waiting for a takeover).
     */
    bql_lock();
    if (migration_state_get(s) == MIGRATION_STATUS_CANCELLING) {
        colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_ALONE);
    }
    if ((failover_get_state() == FAILOVER_STATUS_COMPLETED ||
         migration_state_get(s) == MIGRATION_STATUS_CANCELLING) &&
        !system_shutdown_requested(NULL) && !runstate_is_running()) {
        Error *err = NULL;

        if (!vm_start(&err)) {
            error_report_err(err);
        }
    }
    bql_unlock();
}

static void primary_vm_do_failover(void)
{
    MigrationState *s = colo.ms;
    FailoverStatus old;

    migration_set_state(&s->state, MIGRATION_STATUS_COLO,
                        MIGRATION_STATUS_COMPLETED);
    /* Wake the loop wherever it waits: the delay, a read or a write. */
    semaphore_post(&colo.checkpoint_sem);
    migration_kick_threads(s);
    old = failover_set_state(FAILOVER_STATUS_ACTIVE,
                             FAILOVER_STATUS_COMPLETED);
    if (old != FAILOVER_STATUS_ACTIVE) {
        error_report("Incorrect state (%s) while doing failover for "
                     "Primary VM", FailoverStatus_str(old));
        return;
    }
    colo_notify_event(COLO_MODE_PRIMARY, COLO_EVENT_ALONE);
    semaphore_post(&colo.exit_sem);
}

/* ---- secondary ---- */

bool migration_incoming_enable_colo_check(Error **errp)
{
    if (!migrate_colo()) {
        error_setg(errp, "ENABLE_COLO command come in migration stream, "
                   "but x-colo capability is not set");
        return false;
    }
    return true;
}

/*
 * Read the device state the primary announced with vmstate-size into
 * @bioc.  The size comes from the peer: bounded before allocating.
 */
static bool colo_receive_device_state(QEMUFile *from, QIOChannel *bioc,
                                      Error **errp)
{
    g_autofree uint8_t *buf = NULL;
    uint64_t size;
    size_t got;

    if (!colo_receive_message_value(from, COLO_MESSAGE_VMSTATE_SIZE, &size,
                                    errp)) {
        return false;
    }
    trace_colo_vmstate_size(size);
    if (size > COLO_VMSTATE_MAX_SIZE) {
        error_setg(errp, "COLO device state of %" PRIu64 " bytes exceeds "
                   "the limit of %llu bytes", size, COLO_VMSTATE_MAX_SIZE);
        return false;
    }
    buf = g_malloc(size ? size : 1);
    got = qemu_get_buffer(from, buf, size);
    if (got != size) {
        error_setg(errp, "Got %zu VMState data, less than expected %" PRIu64,
                   got, size);
        return false;
    }
    qio_channel_buffer_set_data(bioc, buf, size);
    return true;
}

/* Commit the RAM cache, then load the device state.  BQL held. */
static bool colo_apply_checkpoint(QIOChannel *bioc, int64_t *commit_ms,
                                  Error **errp)
{
    int64_t start = colo_now_ms();
    QEMUFile *fb;
    int ret;

    g_assert(bql_locked());
    colo.vmstate_loading = true;
    /* A refused commit leaves RAM and devices as they were. */
    if (!colo_ram_cache_commit(errp)) {
        colo.vmstate_loading = false;
        *commit_ms = colo_now_ms() - start;
        return false;
    }
    fb = qemu_file_new_input(bioc);
    ret = qemu_load_device_state(fb, errp);
    qemu_fclose(fb);
    colo.vmstate_loading = false;
    *commit_ms = colo_now_ms() - start;
    if (ret < 0) {
        error_prepend(errp, "COLO: load device state failed: ");
        return false;
    }
    return true;
}

/*
 * Lean secondary: the pages this guest wrote since the last commit,
 * which the checkpoint must carry.  VM stopped: the set is final.  An
 * empty set (nothing synced) announces the mode before checkpoint-ready.
 */
static bool colo_send_dirty_set(QEMUFile *to, bool empty, Error **errp)
{
    if (!colo_send_message(to, COLO_MESSAGE_X_SECONDARY_DIRTY, errp)) {
        return false;
    }
    if (empty) {
        colo_dirty_set_put_empty(to);
    } else {
        bql_lock();
        ram_dirty_log_sync();
        bql_unlock();
        colo_dirty_set_put_ram(to);
    }
    qemu_fflush(to);
    if (qemu_file_get_error_obj(to, errp)) {
        error_prepend(errp, "Failed to send the secondary's dirty pages: ");
        return false;
    }
    return true;
}

static bool colo_incoming_process_checkpoint(Error **errp)
{
    g_autoptr(QIOChannel) bioc = qio_channel_buffer_new(0);
    QEMUFile *from = colo.from_src;
    QEMUFile *to = colo.to_src;
    int64_t stop_ms = colo_now_ms();
    int64_t commit_ms = 0;
    int64_t applied_ms;
    bool ok;

    trace_colo_checkpoint_start(colo.count + 1);
    colo_vm_stop();
    if (!colo_send_message(to, COLO_MESSAGE_CHECKPOINT_REPLY, errp) ||
        (colo_ram_cache_lean() && !colo_send_dirty_set(to, false, errp)) ||
        !colo_receive_check_message(from, COLO_MESSAGE_VMSTATE_SEND,
                                    errp)) {
        return false;
    }
    /* Pages land in the RAM cache while it is active, not in guest RAM. */
    if (qemu_loadvm_state_main(from, errp) < 0) {
        error_prepend(errp, "Load VM's live state (ram) error: ");
        return false;
    }
    if (!colo_receive_device_state(from, bioc, errp) ||
        !colo_send_message(to, COLO_MESSAGE_VMSTATE_RECEIVED, errp)) {
        return false;
    }

    bql_lock();
    ok = colo_apply_checkpoint(bioc, &commit_ms, errp);
    if (ok) {
        colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_COMMITTED);
    }
    if (ok && failover_get_state() == FAILOVER_STATUS_RELAUNCH) {
        /* A takeover that arrived while loading runs now. */
        failover_set_state(FAILOVER_STATUS_RELAUNCH, FAILOVER_STATUS_NONE);
        failover_request_active(NULL);
    }
    bql_unlock();
    if (!ok) {
        return false;
    }
    applied_ms = colo_now_ms();
    colo_stats_add(applied_ms - stop_ms, commit_ms, 0, 0);
    if (!colo_send_message(to, COLO_MESSAGE_VMSTATE_LOADED, errp) ||
        !colo_vm_start(errp)) {
        return false;
    }
    colo_stats_add_pause(colo_now_ms() - applied_ms);
    return true;
}

static void *colo_incoming_thread(void *opaque)
{
    Error *err = NULL;

    colo_stats_reset(COLO_MODE_SECONDARY);
    failover_init_state();
    bql_lock();
    migration_set_state(colo.incoming_state, MIGRATION_STATUS_ACTIVE,
                        MIGRATION_STATUS_COLO);
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_START);
    bql_unlock();
    if (!colo_vm_start(&err) ||
        (colo_ram_cache_lean() &&
         !colo_send_dirty_set(colo.to_src, true, &err)) ||
        !colo_send_message(colo.to_src, COLO_MESSAGE_CHECKPOINT_READY,
                           &err)) {
        goto out;
    }
    while (migration_incoming_in_colo_state() && !colo_quitting()) {
        COLOMessage msg = colo_incoming_wait_message(colo.from_src,
                                                     colo.to_src, &err);

        if (msg == COLO_MESSAGE__MAX) {
            break;
        }
        if (msg != COLO_MESSAGE_CHECKPOINT_REQUEST) {
            error_setg(&err, "Got unknown COLO message: %s",
                       COLOMessage_str(msg));
            break;
        }
        if (!colo_incoming_process_checkpoint(&err) ||
            failover_request_is_active()) {
            break;
        }
    }

out:
    /* Errors caused by the takeover's shutdown are only its echo. */
    if (err && failover_get_state() != FAILOVER_STATUS_COMPLETED &&
        !colo_quitting()) {
        colo_trace_timeout(colo.from_src, COLO_MODE_SECONDARY);
        error_report_err(err);
    } else {
        error_free(err);
    }
    colo_send_exit_event(COLO_MODE_SECONDARY);
    /* Wait for x-colo-lost-heartbeat (or the process ending). */
    semaphore_wait(&colo.incoming_sem);
    return NULL;
}

bool colo_incoming_start(int *state, QEMUFile *from_src, QEMUFile *to_src,
                         Error **errp)
{
    bool ok;

    colo_state_init();
    if (!to_src) {
        error_setg(errp, "COLO needs a return path to the primary");
        return false;
    }
    bql_lock();
    ok = colo_ram_cache_init(migrate_colo_lean(), errp);
    bql_unlock();
    if (!ok) {
        return false;
    }
    colo_channel_nodelay(from_src);
    mutex_lock(&colo.lock);
    colo.from_src = from_src;
    colo.to_src = to_src;
    mutex_unlock(&colo.lock);
    __atomic_store_n(&colo.incoming_state, state, __ATOMIC_SEQ_CST);
    thread_create(&colo.thread, "COLO incoming", colo_incoming_thread, NULL,
                  THREAD_JOINABLE);
    thread_join(&colo.thread);

    mutex_lock(&colo.lock);
    colo.from_src = NULL;
    colo.to_src = NULL;
    mutex_unlock(&colo.lock);
    /*
     * The cache's memory is given back by the caller, once the guest
     * runs again (colo_incoming_release()).
     */
    bql_lock();
    colo_ram_cache_detach();
    bql_unlock();
    return failover_get_state() == FAILOVER_STATUS_COMPLETED;
}

void colo_incoming_release(void)
{
    colo_ram_cache_release_detached();
}

static void secondary_vm_do_failover(void)
{
    FailoverStatus old;

    /* Never interrupt a checkpoint being applied: finish it first. */
    if (colo.vmstate_loading) {
        old = failover_set_state(FAILOVER_STATUS_ACTIVE,
                                 FAILOVER_STATUS_RELAUNCH);
        if (old != FAILOVER_STATUS_ACTIVE) {
            error_report("Unknown error while do failover for secondary "
                         "VM, old_state: %s", FailoverStatus_str(old));
        }
        return;
    }
    migration_set_state(colo.incoming_state, MIGRATION_STATUS_COLO,
                        MIGRATION_STATUS_COMPLETED);
    if (!vm_get_autostart()) {
        error_report("\"-S\" qemu option will be ignored in secondary side");
        vm_set_autostart(true);
    }
    /* from_src and to_src share one channel: one shutdown wakes both. */
    mutex_lock(&colo.lock);
    if (colo.from_src) {
        qemu_file_shutdown(colo.from_src);
    }
    mutex_unlock(&colo.lock);
    old = failover_set_state(FAILOVER_STATUS_ACTIVE,
                             FAILOVER_STATUS_COMPLETED);
    if (old != FAILOVER_STATUS_ACTIVE) {
        error_report("Incorrect state (%s) while doing failover for "
                     "secondary VM", FailoverStatus_str(old));
        return;
    }
    colo_notify_event(COLO_MODE_SECONDARY, COLO_EVENT_ALONE);
    semaphore_post(&colo.incoming_sem);
}

/* ---- both ---- */

void colo_do_failover(void)
{
    g_assert(bql_locked());
    /* The VM must not run while the sides part. */
    if (!colo_runstate_is_stopped()) {
        vm_stop_force_state(RUN_STATE_COLO);
    }
    colo.last_mode = get_colo_mode();
    switch (colo.last_mode) {
    case COLO_MODE_PRIMARY:
        primary_vm_do_failover();
        break;
    case COLO_MODE_SECONDARY:
        secondary_vm_do_failover();
        break;
    default:
        error_report("colo_do_failover failed because the colo mode "
                     "could not be obtained");
        break;
    }
}

void colo_shutdown(void)
{
    g_assert(bql_locked());
    colo_state_init();
    __atomic_store_n(&colo.quitting, true, __ATOMIC_SEQ_CST);
    if (colo.ms && migration_in_colo_state()) {
        migration_kick_threads(colo.ms);
    }
    mutex_lock(&colo.lock);
    if (colo.from_src) {
        qemu_file_shutdown(colo.from_src);
    }
    mutex_unlock(&colo.lock);
    semaphore_post(&colo.checkpoint_sem);
    semaphore_post(&colo.exit_sem);
    semaphore_post(&colo.incoming_sem);
    /* The outgoing migration is freed after this: forget it. */
    __atomic_store_n(&colo.primary_state, NULL, __ATOMIC_SEQ_CST);
    colo.ms = NULL;
}
