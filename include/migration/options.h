/*
 * Migration capabilities and parameters: what `migrate-set-capabilities`
 * and `migrate-set-parameters` configure, read through one accessor
 * each.
 *
 * The accessors may be called from any thread (the migration thread
 * reads them while the monitor may be changing them); each returns a
 * consistent snapshot of one value.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_OPTIONS_H
#define MIGRATION_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"
#include "qapi/qapi-types.h"

/* Defaults, as QEMU's. */
#define MIGRATE_DEFAULT_MAX_BANDWIDTH      (128 * 1024 * 1024)
#define MIGRATE_DEFAULT_DOWNTIME_LIMIT_MS  300
#define MIGRATE_DEFAULT_CHECKPOINT_DELAY_MS 20000
#define MIGRATE_DEFAULT_THROTTLE_INITIAL   20
#define MIGRATE_DEFAULT_THROTTLE_INCREMENT 10
/* Ours: liveness of the migration channel and of COLO. */
#define MIGRATE_DEFAULT_HEARTBEAT_INTERVAL_MS 1000
#define MIGRATE_DEFAULT_HEARTBEAT_TIMEOUT_MS  5000
#define MIGRATE_MAX_HEARTBEAT_MS              3600000

/* Capabilities. */
bool migrate_auto_converge(void);
bool migrate_colo(void);
/* x-colo-lean: a COLO secondary keeps no copy of guest RAM. */
bool migrate_colo_lean(void);
bool migrate_return_path(void);
bool migrate_events(void);
bool migrate_cap_enabled(MigrationCapability cap);

/* Parameters. */
/* Bytes per second; 0 means no limit. */
uint64_t migrate_max_bandwidth(void);
/* Milliseconds. */
uint64_t migrate_downtime_limit(void);
/* Milliseconds between COLO checkpoints. */
uint64_t migrate_checkpoint_delay(void);
/* Percent. */
uint8_t migrate_cpu_throttle_initial(void);
uint8_t migrate_cpu_throttle_increment(void);
/* Milliseconds between two heartbeats on an idle migration channel. */
uint32_t migrate_heartbeat_interval(void);
/* Milliseconds any read or write on a migration channel may block. */
uint32_t migrate_heartbeat_timeout(void);

/*
 * Can @caps be enabled, given what is enabled already?  Checks the
 * rules between capabilities and rejects those this program does not
 * implement.  BQL.
 */
bool migrate_caps_check(const MigrationCapabilityStatusList *caps,
                        Error **errp);

/* Back to the defaults (process start, tests). */
void migrate_options_reset(void);

#endif /* MIGRATION_OPTIONS_H */
