/*
 * Incoming migration: `-incoming`, `migrate-incoming`, the listener
 * that accepts the source, and the "mig/dst/main" thread that loads the
 * stream and then starts (or pauses) the VM.
 *
 * The load runs without the BQL; the loader takes it around device
 * sections, and this file takes it for the final switch.  A failed load
 * ends the process with status 1, as QEMU does, after the MIGRATION
 * failed event and a message on stderr.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "io/channel-command.h"
#include "io/channel-file.h"
#include "io/net-listener.h"
#include "migration/colo.h"
#include "migration/migration-int.h"
#include "migration/migration.h"
#include "migration/qemu-file.h"
#include "migration/savevm.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"
#include "qapi/util.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/main-loop.h"
#include "util/sockets.h"
#include "util/thread.h"

typedef struct MigrationIncomingState {
    /*
     * MigrationStatus.  Changed only through migration_set_state(),
     * BQL held; read atomically from any thread.
     */
    int state;
    /* Protected by the BQL (command line, QMP, the main loop). */
    bool expected;                  /* -incoming was given */
    bool started;                   /* a URI was accepted */
    QIONetListener *listener;
    SockAddr listen_addr;           /* for query-migrate */
    bool listening;                 /* listen_addr is set */

    /*
     * Protects: ioc, to_src.  The main thread shuts ioc down at exit
     * while the load thread may be blocked in it, and the loader's
     * command hooks write to_src from the load thread.
     */
    Mutex rp_lock;
    QIOChannel *ioc;                /* protected by rp_lock */
    QEMUFile *to_src;               /* protected by rp_lock */
    /*
     * Set (BQL held) before the load thread starts, then the load
     * thread's alone until it has been joined.
     */
    QEMUFile *from_src;
    bool colo_requested;            /* atomic */

    /* Protected by the BQL: started by QMP, joined in the main loop. */
    Thread thread;
    bool thread_created;
    BH *done_bh;                    /* bh_schedule() is any thread */
} MigrationIncomingState;

/*
 * Created by migration_incoming_init() at start-up and freed by
 * migration_incoming_shutdown() at exit (main thread, BQL held, no
 * load thread running); read without a lock in between.
 */
static MigrationIncomingState *incoming;

static MigrationIncomingState *mis_get(void)
{
    g_assert(incoming);
    return incoming;
}

bool migration_incoming_expected(void)
{
    return incoming && incoming->expected;
}

bool migration_incoming_in_progress(void)
{
    return incoming &&
           __atomic_load_n(&incoming->state, __ATOMIC_SEQ_CST) ==
               MIGRATION_STATUS_ACTIVE;
}

static SocketAddress *socket_address_from(const SockAddr *addr)
{
    SocketAddress *sa = g_new0(SocketAddress, 1);
    unsigned char buf[sizeof(struct in6_addr)];

    if (addr->type == SOCK_ADDR_TYPE_UNIX) {
        sa->type = SOCKET_ADDRESS_TYPE_UNIX;
        sa->u.q_unix.path = g_strdup(addr->path);
        return sa;
    }
    sa->type = SOCKET_ADDRESS_TYPE_INET;
    sa->u.inet.host = g_strdup(addr->host);
    sa->u.inet.port = g_strdup(addr->port);
    if (inet_pton(AF_INET, addr->host, buf) == 1) {
        sa->u.inet.has_ipv4 = sa->u.inet.ipv4 = true;
    } else if (inet_pton(AF_INET6, addr->host, buf) == 1) {
        sa->u.inet.has_ipv6 = sa->u.inet.ipv6 = true;
    }
    return sa;
}

void migration_incoming_fill_info(MigrationInfo *info)
{
    MigrationStatus st;

    if (!incoming) {
        return;
    }
    if (incoming->listening) {
        QAPI_LIST_PREPEND(info->socket_address,
                          socket_address_from(&incoming->listen_addr));
    }
    st = __atomic_load_n(&incoming->state, __ATOMIC_SEQ_CST);
    if (st == MIGRATION_STATUS_NONE) {
        return;
    }
    info->has_status = true;
    info->status = st;
}

void migration_incoming_timeout_changed(void)
{
    MigrationIncomingState *mis = incoming;

    if (!mis) {
        return;
    }
    mutex_lock(&mis->rp_lock);
    if (mis->ioc) {
        migration_channel_set_timeout(mis->ioc);
    }
    mutex_unlock(&mis->rp_lock);
}

/* ---- hooks called by the loader ---- */

bool migration_incoming_open_return_path(Error **errp)
{
    MigrationIncomingState *mis = mis_get();
    QEMUFile *rp;

    if (!mis->from_src) {
        error_setg(errp, "No incoming migration to open a return path for");
        return false;
    }
    mutex_lock(&mis->rp_lock);
    if (mis->to_src) {
        mutex_unlock(&mis->rp_lock);
        error_setg(errp, "The return path is already open");
        return false;
    }
    rp = qemu_file_get_return_path(mis->from_src);
    mis->to_src = rp;
    mutex_unlock(&mis->rp_lock);
    if (!rp) {
        error_setg(errp, "Unable to open return-path: the channel is not "
                   "bidirectional");
        return false;
    }
    trace_migration_incoming_return_path();
    return true;
}

/* be16 type, be16 length, be32 value: the only shape we send. */
static void rp_send_u32(MigrationIncomingState *mis, MigRPMessageType type,
                        uint32_t value)
{
    mutex_lock(&mis->rp_lock);
    if (mis->to_src) {
        qemu_put_be16(mis->to_src, type);
        qemu_put_be16(mis->to_src, 4);
        qemu_put_be32(mis->to_src, value);
        qemu_fflush(mis->to_src);
    }
    mutex_unlock(&mis->rp_lock);
}

void migration_incoming_send_pong(uint32_t value)
{
    trace_migration_incoming_pong(value);
    rp_send_u32(mis_get(), MIG_RP_MSG_PONG, value);
}

void migration_incoming_enable_colo(void)
{
    MigrationIncomingState *mis = mis_get();
    Error *err = NULL;

    trace_migration_incoming_colo();
    /*
     * COLO needs x-colo on this side too.  Refusing it through the
     * stream's sticky error fails the load at once, with this text.
     */
    if (!migration_incoming_enable_colo_check(&err)) {
        qemu_file_set_error_obj(mis->from_src, -EINVAL, err);
        return;
    }
    __atomic_store_n(&mis->colo_requested, true, __ATOMIC_SEQ_CST);
}

bool migration_incoming_colo_enabled(void)
{
    return incoming &&
           __atomic_load_n(&incoming->colo_requested, __ATOMIC_SEQ_CST);
}

/* ---- the load ---- */

/* Main loop: the load thread has finished; reap it. */
static void sock_addr_copy(SockAddr *dst, const SockAddr *src)
{
    dst->type = src->type;
    dst->host = g_strdup(src->host);
    dst->port = g_strdup(src->port);
    dst->path = g_strdup(src->path);
}

static void incoming_done_bh(void *opaque)
{
    MigrationIncomingState *mis = opaque;

    if (mis->thread_created) {
        thread_join(&mis->thread);
        mis->thread_created = false;
    }
}

static void incoming_close(MigrationIncomingState *mis)
{
    QEMUFile *rp;
    QIOChannel *ioc;

    mutex_lock(&mis->rp_lock);
    rp = mis->to_src;
    mis->to_src = NULL;
    ioc = mis->ioc;
    mis->ioc = NULL;
    mutex_unlock(&mis->rp_lock);
    qemu_fclose(rp);
    qemu_fclose(mis->from_src);
    mis->from_src = NULL;
    qio_channel_unref(ioc);
}

/* The VM takes over here: running, or paused after `stop` or -S. */
static bool incoming_switch(MigrationIncomingState *mis, Error **errp)
{
    bool ok;

    bql_lock();
    if (vm_get_autostart()) {
        ok = vm_start(errp);
    } else {
        ok = runstate_set(RUN_STATE_PAUSED, errp);
    }
    if (ok) {
        migration_set_state(&mis->state, MIGRATION_STATUS_ACTIVE,
                            MIGRATION_STATUS_COMPLETED);
    }
    bql_unlock();
    return ok;
}

static void incoming_fail(MigrationIncomingState *mis, Error *err)
{
    rp_send_u32(mis, MIG_RP_MSG_SHUT, 1);
    incoming_close(mis);
    bql_lock();
    migration_set_state(&mis->state, MIGRATION_STATUS_ACTIVE,
                        MIGRATION_STATUS_FAILED);
    /* A load cut short by the process ending is no failure to report. */
    if (!system_shutdown_requested(NULL)) {
        error_report("load of migration failed: %s", error_get_pretty(err));
        /* Leave through main(): it cleans up and exits with status 1. */
        system_shutdown_set_exit_status(1);
        main_loop_quit();
    }
    bql_unlock();
    error_free(err);
}

/*
 * x-colo: the first copy is loaded.  SHUT(0) tells the primary so (its
 * return-path reader stops there); from then on the return path carries
 * COLO messages.  This thread waits while the "COLO incoming" thread
 * runs; after a takeover the VM runs here whatever -S said.
 */
static void incoming_colo(MigrationIncomingState *mis)
{
    Error *err = NULL;
    bool took_over;

    rp_send_u32(mis, MIG_RP_MSG_SHUT, 0);
    took_over = colo_incoming_start(&mis->state, mis->from_src,
                                    mis->to_src, &err);
    if (err) {
        colo_incoming_release();
        incoming_fail(mis, err);
        return;
    }
    incoming_close(mis);
    bql_lock();
    if (took_over && !system_shutdown_requested(NULL) &&
        !runstate_is_running() && !vm_start(&err)) {
        error_report_err(err);
    }
    bql_unlock();
    /* Only now, so that the guest does not wait for it. */
    colo_incoming_release();
}

static void *incoming_thread(void *opaque)
{
    MigrationIncomingState *mis = opaque;
    Error *err = NULL;
    int ret;

    bql_lock();
    migration_set_state(&mis->state, MIGRATION_STATUS_NONE,
                        MIGRATION_STATUS_ACTIVE);
    bql_unlock();
    ret = qemu_loadvm_state(mis->from_src, &err);
    trace_migration_incoming_loaded(ret);
    if (ret == 0 && migration_incoming_colo_enabled()) {
        incoming_colo(mis);
        goto out;
    }
    if (ret < 0 || !incoming_switch(mis, &err)) {
        if (!err) {
            error_setg(&err, "%s", g_strerror(-ret));
        }
        incoming_fail(mis, err);
    } else {
        rp_send_u32(mis, MIG_RP_MSG_SHUT, 0);
        incoming_close(mis);
    }
out:
    bh_schedule(mis->done_bh);
    return NULL;
}

/* Main loop, BQL held: the stream is ready to be read. */
static void incoming_start_load(MigrationIncomingState *mis, QIOChannel *ioc)
{
    qio_channel_set_name(ioc, "migration-incoming");
    migration_channel_set_timeout(ioc);
    mutex_lock(&mis->rp_lock);
    mis->ioc = qio_channel_ref(ioc);
    mutex_unlock(&mis->rp_lock);
    mis->from_src = qemu_file_new_input(ioc);
    thread_create(&mis->thread, "mig/dst/main", incoming_thread, mis,
                  THREAD_JOINABLE);
    mis->thread_created = true;
}

static void incoming_accept(QIOChannel *client, void *opaque)
{
    MigrationIncomingState *mis = opaque;

    trace_migration_incoming_accept();
    /* One source per process: stop listening once it is here. */
    qio_net_listener_free(mis->listener);
    mis->listener = NULL;
    incoming_start_load(mis, client);
}

static bool incoming_listen(MigrationIncomingState *mis, const char *uri,
                            Error **errp)
{
    SockAddr addr = { 0 };
    QIONetListener *listener;

    if (!sock_addr_parse(uri, &addr, errp)) {
        return false;
    }
    listener = qio_net_listener_open(&addr, incoming_accept, mis, errp);
    sock_addr_clear(&addr);
    if (!listener) {
        return false;
    }
    mis->listener = listener;
    sock_addr_clear(&mis->listen_addr);
    sock_addr_copy(&mis->listen_addr,
                   qio_net_listener_get_address(listener));
    mis->listening = true;
    return true;
}

static bool incoming_open(MigrationIncomingState *mis, const char *uri,
                          Error **errp)
{
    MigrationTransport transport;
    const char *rest;
    QIOChannel *ioc;

    /* QEMU announces the setup before it even looks at the URI. */
    qapi_event_send_migration(MIGRATION_STATUS_SETUP);
    if (!migration_uri_split(uri, &transport, &rest)) {
        error_setg(errp, "unknown migration protocol: %s", uri);
        return false;
    }
    if (transport == MIGRATION_TRANSPORT_SOCKET) {
        return incoming_listen(mis, rest, errp);
    }
    if (transport == MIGRATION_TRANSPORT_EXEC) {
        const char *argv[] = { "/bin/sh", "-c", rest, NULL };

        ioc = qio_channel_command_new_spawn(argv, O_RDONLY, errp);
    } else {
        ioc = qio_channel_file_new_path(rest, O_RDONLY, 0, errp);
    }
    if (!ioc) {
        return false;
    }
    incoming_start_load(mis, ioc);
    qio_channel_unref(ioc);
    return true;
}

void qmp_migrate_incoming(const char *uri, Error **errp)
{
    MigrationIncomingState *mis = mis_get();

    if (mis->started) {
        error_setg(errp, "The incoming migration has already been started");
        return;
    }
    if (!runstate_check(RUN_STATE_INMIGRATE)) {
        error_setg(errp, "'-incoming' was not specified on the command "
                   "line");
        return;
    }
    trace_migration_incoming_start(uri);
    if (!incoming_open(mis, uri, errp)) {
        return;
    }
    mis->started = true;
}

bool migration_incoming_start(const char *uri, Error **errp)
{
    MigrationIncomingState *mis = mis_get();
    Error *err = NULL;

    g_assert(bql_locked());
    mis->expected = true;
    if (!strcmp(uri, "defer")) {
        return true;
    }
    qmp_migrate_incoming(uri, &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

void migration_incoming_init(void)
{
    MigrationIncomingState *mis = g_new0(MigrationIncomingState, 1);

    g_assert(!incoming);
    mutex_init(&mis->rp_lock);
    mis->done_bh = bh_new(incoming_done_bh, mis);
    incoming = mis;
}

void migration_incoming_shutdown(void)
{
    MigrationIncomingState *mis = incoming;

    if (!mis) {
        return;
    }
    qio_net_listener_free(mis->listener);
    mis->listener = NULL;
    if (mis->thread_created) {
        mutex_lock(&mis->rp_lock);
        if (mis->ioc) {
            qio_channel_shutdown(mis->ioc, QIO_CHANNEL_SHUTDOWN_BOTH, NULL);
        }
        mutex_unlock(&mis->rp_lock);
        /* The load takes the BQL around device sections. */
        bql_unlock();
        thread_join(&mis->thread);
        bql_lock();
        mis->thread_created = false;
    }
    if (mis->done_bh) {
        bh_delete(mis->done_bh);
    }
    incoming_close(mis);
    sock_addr_clear(&mis->listen_addr);
    mutex_destroy(&mis->rp_lock);
    g_free(mis);
    incoming = NULL;
}
