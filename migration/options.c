/*
 * Migration capabilities and parameters, and the QMP commands that set
 * and query them.
 *
 * The monitor writes them (BQL held); the migration threads read them
 * without the BQL, so every access goes through options_lock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdint.h>

#include "migration/migration.h"
#include "migration/migration-int.h"
#include "migration/colo.h"
#include "migration/options.h"
#include "qapi/qapi-commands.h"
#include "qapi/util.h"
#include "trace/trace.h"
#include "util/thread.h"

/* QEMU's upper bound for downtime-limit, in milliseconds. */
#define MAX_MIGRATE_DOWNTIME_MS (2000 * 1000)

typedef struct MigrationOptions {
    bool caps[MIGRATION_CAPABILITY__MAX];
    uint64_t max_bandwidth;
    uint64_t downtime_limit;
    uint32_t checkpoint_delay;
    uint8_t throttle_initial;
    uint8_t throttle_increment;
    uint32_t heartbeat_interval;
    uint32_t heartbeat_timeout;
} MigrationOptions;

/* Protects: options.  Held only to copy or update it, never across a call. */
static Mutex options_lock;
static MigrationOptions options;    /* protected by options_lock */

static void options_lock_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        mutex_init(&options_lock);
        g_once_init_leave(&done, 1);
    }
}

void migrate_options_reset(void)
{
    options_lock_init();
    mutex_lock(&options_lock);
    memset(&options, 0, sizeof(options));
    options.max_bandwidth = MIGRATE_DEFAULT_MAX_BANDWIDTH;
    options.downtime_limit = MIGRATE_DEFAULT_DOWNTIME_LIMIT_MS;
    options.checkpoint_delay = MIGRATE_DEFAULT_CHECKPOINT_DELAY_MS;
    options.throttle_initial = MIGRATE_DEFAULT_THROTTLE_INITIAL;
    options.throttle_increment = MIGRATE_DEFAULT_THROTTLE_INCREMENT;
    options.heartbeat_interval = MIGRATE_DEFAULT_HEARTBEAT_INTERVAL_MS;
    options.heartbeat_timeout = MIGRATE_DEFAULT_HEARTBEAT_TIMEOUT_MS;
    mutex_unlock(&options_lock);
}

/* Read the current options as one consistent copy. */
static MigrationOptions options_get(void)
{
    MigrationOptions copy;

    options_lock_init();
    mutex_lock(&options_lock);
    copy = options;
    mutex_unlock(&options_lock);
    return copy;
}

bool migrate_cap_enabled(MigrationCapability cap)
{
    return cap < MIGRATION_CAPABILITY__MAX && options_get().caps[cap];
}

bool migrate_auto_converge(void)
{
    return migrate_cap_enabled(MIGRATION_CAPABILITY_AUTO_CONVERGE);
}

bool migrate_colo(void)
{
    return migrate_cap_enabled(MIGRATION_CAPABILITY_X_COLO);
}

bool migrate_colo_lean(void)
{
    return migrate_cap_enabled(MIGRATION_CAPABILITY_X_COLO_LEAN);
}

bool migrate_return_path(void)
{
    return migrate_cap_enabled(MIGRATION_CAPABILITY_RETURN_PATH);
}

bool migrate_events(void)
{
    return migrate_cap_enabled(MIGRATION_CAPABILITY_EVENTS);
}

uint64_t migrate_max_bandwidth(void)
{
    return options_get().max_bandwidth;
}

uint64_t migrate_downtime_limit(void)
{
    return options_get().downtime_limit;
}

uint64_t migrate_checkpoint_delay(void)
{
    return options_get().checkpoint_delay;
}

uint8_t migrate_cpu_throttle_initial(void)
{
    return options_get().throttle_initial;
}

uint8_t migrate_cpu_throttle_increment(void)
{
    return options_get().throttle_increment;
}

uint32_t migrate_heartbeat_interval(void)
{
    return options_get().heartbeat_interval;
}

uint32_t migrate_heartbeat_timeout(void)
{
    return options_get().heartbeat_timeout;
}

/* The capabilities this program implements; the others stay off. */
static bool cap_supported(MigrationCapability cap)
{
    switch (cap) {
    case MIGRATION_CAPABILITY_AUTO_CONVERGE:
    case MIGRATION_CAPABILITY_EVENTS:
    case MIGRATION_CAPABILITY_X_COLO:
    case MIGRATION_CAPABILITY_X_COLO_LEAN:
    case MIGRATION_CAPABILITY_RETURN_PATH:
        return true;
    default:
        return false;
    }
}

bool migrate_caps_check(const MigrationCapabilityStatusList *caps,
                        Error **errp)
{
    for (const MigrationCapabilityStatusList *l = caps; l; l = l->next) {
        MigrationCapability cap = l->value->capability;

        if (l->value->state && !cap_supported(cap)) {
            error_setg(errp, "Capability '%s' is not supported by colo-vm",
                       MigrationCapability_str(cap));
            return false;
        }
    }
    /*
     * The implemented capabilities combine freely; x-colo brings the
     * return path up by itself when the migration starts.
     */
    return true;
}

void qmp_migrate_set_capabilities(MigrationCapabilityStatusList *params,
                                  Error **errp)
{
    if (migration_is_running()) {
        error_setg(errp, "There's a migration process in progress");
        return;
    }
    if (!migrate_caps_check(params, errp)) {
        return;
    }
    options_lock_init();
    mutex_lock(&options_lock);
    for (MigrationCapabilityStatusList *l = params; l; l = l->next) {
        options.caps[l->value->capability] = l->value->state;
        trace_migrate_set_capability(
            MigrationCapability_str(l->value->capability), l->value->state);
    }
    mutex_unlock(&options_lock);
}

MigrationCapabilityStatusList *qmp_query_migrate_capabilities(Error **errp)
{
    MigrationOptions cur = options_get();
    MigrationCapabilityStatusList *head = NULL;
    MigrationCapabilityStatusList **tail = &head;

    for (int i = 0; i < MIGRATION_CAPABILITY__MAX; i++) {
        MigrationCapabilityStatus *st = g_new0(MigrationCapabilityStatus, 1);

        st->capability = i;
        st->state = cur.caps[i];
        QAPI_LIST_APPEND(tail, st);
    }
    return head;
}

/* QEMU's wording, including its underscore spelling of the names. */
static void param_range_error(Error **errp, const char *name,
                              const char *range)
{
    error_setg(errp, "Parameter '%s' expects %s", name, range);
}

/*
 * Ours, so named as given.  The timeout must leave room for a heartbeat
 * to arrive: checked on the values the request would leave in force.
 */
static bool heartbeat_check(const MigrateSetParameters *p, Error **errp)
{
    MigrationOptions cur = options_get();
    uint32_t interval = p->has_x_heartbeat_interval ?
                        p->x_heartbeat_interval : cur.heartbeat_interval;
    uint32_t timeout = p->has_x_heartbeat_timeout ?
                       p->x_heartbeat_timeout : cur.heartbeat_timeout;
    g_autofree char *above = NULL;

    if (p->has_x_heartbeat_interval &&
        (interval < 1 || interval > MIGRATE_MAX_HEARTBEAT_MS)) {
        param_range_error(errp, "x-heartbeat-interval",
                          "an integer in the range of 1 to 3600000 ms");
        return false;
    }
    if (p->has_x_heartbeat_timeout &&
        (timeout < 1 || timeout > MIGRATE_MAX_HEARTBEAT_MS)) {
        param_range_error(errp, "x-heartbeat-timeout",
                          "an integer in the range of 1 to 3600000 ms");
        return false;
    }
    if (timeout <= interval) {
        above = g_strdup_printf("a value greater than x-heartbeat-interval "
                                "(%" PRIu32 " ms)", interval);
        param_range_error(errp, "x-heartbeat-timeout", above);
        return false;
    }
    return true;
}

/*
 * QEMU 7.2's defaults of the parameters colo-vm does not implement:
 * they show in query-migrate-parameters and may be set to this value
 * only.
 */
#define DEFAULT_ANNOUNCE_INITIAL        50
#define DEFAULT_ANNOUNCE_MAX            550
#define DEFAULT_ANNOUNCE_ROUNDS         5
#define DEFAULT_ANNOUNCE_STEP           100
#define DEFAULT_COMPRESS_LEVEL          1
#define DEFAULT_COMPRESS_THREADS        8
#define DEFAULT_COMPRESS_WAIT_THREAD    true
#define DEFAULT_DECOMPRESS_THREADS      2
#define DEFAULT_THROTTLE_TRIGGER        50
#define DEFAULT_CPU_THROTTLE_TAILSLOW   false
#define DEFAULT_BLOCK_INCREMENTAL       false
#define DEFAULT_MULTIFD_CHANNELS        2
#define DEFAULT_XBZRLE_CACHE_SIZE       (64 * 1024 * 1024)
#define DEFAULT_MAX_POSTCOPY_BANDWIDTH  0
#define DEFAULT_MAX_CPU_THROTTLE        99
#define DEFAULT_MULTIFD_COMPRESSION     MULTIFD_COMPRESSION_NONE
#define DEFAULT_MULTIFD_ZLIB_LEVEL      1
#define DEFAULT_MULTIFD_ZSTD_LEVEL      1

/* A tls-* value other than "" or null. */
static bool tls_value_set(const StrOrNull *v)
{
    return v && v->type == QTYPE_QSTRING && v->u.s[0];
}

/*
 * The first parameter of @p that colo-vm does not implement and that
 * asks for something other than its default, or NULL.
 */
static const char *params_unsupported(const MigrateSetParameters *p)
{
#define OTHER(member, dflt) (p->has_##member && p->member != (dflt))
    if (OTHER(announce_initial, DEFAULT_ANNOUNCE_INITIAL)) {
        return "announce-initial";
    }
    if (OTHER(announce_max, DEFAULT_ANNOUNCE_MAX)) {
        return "announce-max";
    }
    if (OTHER(announce_rounds, DEFAULT_ANNOUNCE_ROUNDS)) {
        return "announce-rounds";
    }
    if (OTHER(announce_step, DEFAULT_ANNOUNCE_STEP)) {
        return "announce-step";
    }
    if (OTHER(compress_level, DEFAULT_COMPRESS_LEVEL)) {
        return "compress-level";
    }
    if (OTHER(compress_threads, DEFAULT_COMPRESS_THREADS)) {
        return "compress-threads";
    }
    if (OTHER(compress_wait_thread, DEFAULT_COMPRESS_WAIT_THREAD)) {
        return "compress-wait-thread";
    }
    if (OTHER(decompress_threads, DEFAULT_DECOMPRESS_THREADS)) {
        return "decompress-threads";
    }
    if (OTHER(throttle_trigger_threshold, DEFAULT_THROTTLE_TRIGGER)) {
        return "throttle-trigger-threshold";
    }
    if (OTHER(cpu_throttle_tailslow, DEFAULT_CPU_THROTTLE_TAILSLOW)) {
        return "cpu-throttle-tailslow";
    }
    if (tls_value_set(p->tls_creds)) {
        return "tls-creds";
    }
    if (tls_value_set(p->tls_hostname)) {
        return "tls-hostname";
    }
    if (tls_value_set(p->tls_authz)) {
        return "tls-authz";
    }
    if (OTHER(block_incremental, DEFAULT_BLOCK_INCREMENTAL)) {
        return "block-incremental";
    }
    if (OTHER(multifd_channels, DEFAULT_MULTIFD_CHANNELS)) {
        return "multifd-channels";
    }
    if (OTHER(xbzrle_cache_size, DEFAULT_XBZRLE_CACHE_SIZE)) {
        return "xbzrle-cache-size";
    }
    if (OTHER(max_postcopy_bandwidth, DEFAULT_MAX_POSTCOPY_BANDWIDTH)) {
        return "max-postcopy-bandwidth";
    }
    if (OTHER(max_cpu_throttle, DEFAULT_MAX_CPU_THROTTLE)) {
        return "max-cpu-throttle";
    }
    if (OTHER(multifd_compression, DEFAULT_MULTIFD_COMPRESSION)) {
        return "multifd-compression";
    }
    if (OTHER(multifd_zlib_level, DEFAULT_MULTIFD_ZLIB_LEVEL)) {
        return "multifd-zlib-level";
    }
    if (OTHER(multifd_zstd_level, DEFAULT_MULTIFD_ZSTD_LEVEL)) {
        return "multifd-zstd-level";
    }
    if (p->block_bitmap_mapping) {
        return "block-bitmap-mapping";
    }
#undef OTHER
    return NULL;
}

static bool params_check(const MigrateSetParameters *p, Error **errp)
{
    const char *unsupported = params_unsupported(p);

    if (unsupported) {
        error_setg(errp, "Parameter '%s' is not supported by colo-vm",
                   unsupported);
        return false;
    }
    if (p->has_cpu_throttle_initial &&
        (p->cpu_throttle_initial < 1 || p->cpu_throttle_initial > 99)) {
        param_range_error(errp, "cpu_throttle_initial",
                          "an integer in the range of 1 to 99");
        return false;
    }
    if (p->has_cpu_throttle_increment &&
        (p->cpu_throttle_increment < 1 || p->cpu_throttle_increment > 99)) {
        param_range_error(errp, "cpu_throttle_increment",
                          "an integer in the range of 1 to 99");
        return false;
    }
    /* max-bandwidth: every 'size' value fits SIZE_MAX on 64-bit hosts. */
    if (p->has_downtime_limit &&
        p->downtime_limit > MAX_MIGRATE_DOWNTIME_MS) {
        param_range_error(errp, "downtime_limit",
                          "an integer in the range of 0 to (2000 * 1000) ms");
        return false;
    }
    return heartbeat_check(p, errp);
}

void qmp_migrate_set_parameters(MigrateSetParameters *p, Error **errp)
{
    bool bandwidth_changed;

    if (!params_check(p, errp)) {
        return;
    }
    options_lock_init();
    mutex_lock(&options_lock);
    if (p->has_cpu_throttle_initial) {
        options.throttle_initial = p->cpu_throttle_initial;
    }
    if (p->has_cpu_throttle_increment) {
        options.throttle_increment = p->cpu_throttle_increment;
    }
    if (p->has_max_bandwidth) {
        options.max_bandwidth = p->max_bandwidth;
    }
    if (p->has_downtime_limit) {
        options.downtime_limit = p->downtime_limit;
    }
    if (p->has_x_checkpoint_delay) {
        options.checkpoint_delay = p->x_checkpoint_delay;
    }
    if (p->has_x_heartbeat_interval) {
        options.heartbeat_interval = p->x_heartbeat_interval;
    }
    if (p->has_x_heartbeat_timeout) {
        options.heartbeat_timeout = p->x_heartbeat_timeout;
    }
    bandwidth_changed = p->has_max_bandwidth;
    mutex_unlock(&options_lock);
    if (bandwidth_changed) {
        migration_bandwidth_changed();
    }
    /* Channels already open wait by the new bound from now on. */
    if (p->has_x_heartbeat_timeout) {
        migration_timeout_changed();
    }
    /* A running COLO primary re-arms its checkpoint timer. */
    if (p->has_x_checkpoint_delay) {
        colo_checkpoint_delay_set();
    }
}

/* The parameters colo-vm does not implement, at QEMU 7.2's defaults. */
static void params_fill_defaults(MigrationParameters *p)
{
#define DEFAULT(member, value) do {             \
        p->has_##member = true;                 \
        p->member = (value);                    \
    } while (0)
    DEFAULT(announce_initial, DEFAULT_ANNOUNCE_INITIAL);
    DEFAULT(announce_max, DEFAULT_ANNOUNCE_MAX);
    DEFAULT(announce_rounds, DEFAULT_ANNOUNCE_ROUNDS);
    DEFAULT(announce_step, DEFAULT_ANNOUNCE_STEP);
    DEFAULT(compress_level, DEFAULT_COMPRESS_LEVEL);
    DEFAULT(compress_threads, DEFAULT_COMPRESS_THREADS);
    DEFAULT(compress_wait_thread, DEFAULT_COMPRESS_WAIT_THREAD);
    DEFAULT(decompress_threads, DEFAULT_DECOMPRESS_THREADS);
    DEFAULT(throttle_trigger_threshold, DEFAULT_THROTTLE_TRIGGER);
    DEFAULT(cpu_throttle_tailslow, DEFAULT_CPU_THROTTLE_TAILSLOW);
    DEFAULT(block_incremental, DEFAULT_BLOCK_INCREMENTAL);
    DEFAULT(multifd_channels, DEFAULT_MULTIFD_CHANNELS);
    DEFAULT(xbzrle_cache_size, DEFAULT_XBZRLE_CACHE_SIZE);
    DEFAULT(max_postcopy_bandwidth, DEFAULT_MAX_POSTCOPY_BANDWIDTH);
    DEFAULT(max_cpu_throttle, DEFAULT_MAX_CPU_THROTTLE);
    DEFAULT(multifd_compression, DEFAULT_MULTIFD_COMPRESSION);
    DEFAULT(multifd_zlib_level, DEFAULT_MULTIFD_ZLIB_LEVEL);
    DEFAULT(multifd_zstd_level, DEFAULT_MULTIFD_ZSTD_LEVEL);
#undef DEFAULT
    p->tls_creds = g_strdup("");
    p->tls_hostname = g_strdup("");
    p->tls_authz = g_strdup("");
}

MigrationParameters *qmp_query_migrate_parameters(Error **errp)
{
    MigrationOptions cur = options_get();
    MigrationParameters *p = g_new0(MigrationParameters, 1);

    params_fill_defaults(p);
    p->has_cpu_throttle_initial = true;
    p->cpu_throttle_initial = cur.throttle_initial;
    p->has_cpu_throttle_increment = true;
    p->cpu_throttle_increment = cur.throttle_increment;
    p->has_max_bandwidth = true;
    p->max_bandwidth = cur.max_bandwidth;
    p->has_downtime_limit = true;
    p->downtime_limit = cur.downtime_limit;
    p->has_x_checkpoint_delay = true;
    p->x_checkpoint_delay = cur.checkpoint_delay;
    p->has_x_heartbeat_interval = true;
    p->x_heartbeat_interval = cur.heartbeat_interval;
    p->has_x_heartbeat_timeout = true;
    p->x_heartbeat_timeout = cur.heartbeat_timeout;
    return p;
}
