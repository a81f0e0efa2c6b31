/*
 * Guest RAM in the migration stream: the "ram" live section.
 *
 * The source sends the block list once (setup), then dirty pages while
 * the guest runs (iterate), then whatever is still dirty once the guest
 * is stopped (complete).  The destination writes every page straight
 * into its own guest RAM, after checking that the record names one of
 * its blocks and an offset inside it.
 *
 * Records are a be64 "offset | flags" word: the offset of the page
 * inside its block in the high bits, the flags below TARGET_PAGE_BITS.
 *   MEM_SIZE  total bytes | 0x04, then per block: u8 len, idstr,
 *             be64 size
 *   ZERO      [u8 len, idstr unless CONTINUE], u8 fill byte
 *   PAGE      [u8 len, idstr unless CONTINUE], TARGET_PAGE_SIZE bytes
 *   EOS       end of this section's records
 * CONTINUE marks a page of the same block as the previous page record.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_RAM_H
#define MIGRATION_RAM_H

#include <stdbool.h>
#include <stdint.h>

#define RAM_SECTION_NAME        "ram"
#define RAM_SECTION_VERSION     4

/* Record flags (QEMU's values). */
#define RAM_SAVE_FLAG_ZERO      0x02
#define RAM_SAVE_FLAG_MEM_SIZE  0x04
#define RAM_SAVE_FLAG_PAGE      0x08
#define RAM_SAVE_FLAG_EOS       0x10
#define RAM_SAVE_FLAG_CONTINUE  0x20

/* Longest block name the stream can carry (a u8 length). */
#define RAM_IDSTR_MAX           255

/*
 * Counters of the outgoing "ram" section, for query-migrate.  All of
 * them count from the last ram_stats_reset().
 */
typedef struct RAMStats {
    /* bytes of "ram" records sent: precopy_bytes + downtime_bytes */
    uint64_t transferred;
    uint64_t remaining;         /* dirty bytes not sent yet */
    uint64_t total;             /* guest RAM size in bytes */
    uint64_t duplicate;         /* zero pages sent as ZERO records */
    uint64_t normal;            /* pages sent whole */
    uint64_t normal_bytes;      /* normal * TARGET_PAGE_SIZE */
    uint64_t dirty_pages_rate;  /* pages dirtied per second, last period */
    uint64_t dirty_sync_count;  /* dirty log syncs done */
    uint64_t pages_per_second;  /* pages sent per second, last period */
    uint64_t precopy_bytes;     /* sent while the guest was running */
    uint64_t downtime_bytes;    /* sent while it was not (final pass) */
    /* Not in query-migrate: dirty bytes found by the last log sync. */
    uint64_t dirty_bytes_last_sync;
} RAMStats;

/*
 * Register the "ram" section (instance 0, version 4) with the stream
 * framing.  Once per process, before the first migration; the blocks
 * are only looked at when a migration starts, so they need not exist
 * yet.  Registering before the devices gives "ram" the first section
 * id, as in QEMU's streams.
 */
void ram_mig_init(void);
/* Unregister it again (machine teardown); harmless when not registered. */
void ram_mig_cleanup(void);

/* A consistent-enough snapshot of the counters.  Any thread. */
void ram_get_stats(RAMStats *out);
/*
 * Zero the counters and the auto-converge history.  Call before a new
 * migration starts; not while one is running.
 */
void ram_stats_reset(void);
/* Pages sent so far (zero and normal), for rates computed elsewhere. */
uint64_t ram_get_total_transferred_pages(void);
/* Dirty bytes still to send; 0 when no migration is under way. */
uint64_t ram_bytes_remaining(void);

/*
 * A snapshot of the dirty pages, for a COLO checkpoint staged while the
 * guest is stopped and sent once it runs again.  The primary's guest
 * pauses only for ram_snapshot_take(): runs of dirty pages copied
 * whole into an area of the snapshot's own (memcpy speed; runs never
 * written are only noted), their dirty bits claimed.  Between
 * ram_snapshot_send_begin() and _end(), the "ram" section's iterations
 * send the snapshot instead of the dirty pages (zero pages found then,
 * as usual), so the pages the running guest dirties meanwhile wait for
 * the next checkpoint.  Migration thread only; only valid when "ram" is
 * the only live section (qemu_savevm_live_sections()).
 */
typedef struct RAMSnapshot RAMSnapshot;

RAMSnapshot *ram_snapshot_new(void);
void ram_snapshot_free(RAMSnapshot *snap);
/* Bytes of pages the snapshot can take. */
uint64_t ram_snapshot_capacity(const RAMSnapshot *snap);
/*
 * Make room for @bytes of pages, faulted in (the old contents are
 * dropped).  Unchanged if it cannot.
 */
void ram_snapshot_reserve(RAMSnapshot *snap, uint64_t bytes);
/*
 * The VM is stopped and its dirty log synced: copy every dirty page and
 * clear its bit.  False, with nothing claimed, when the dirty pages do
 * not fit.
 */
bool ram_snapshot_take(RAMSnapshot *snap);
void ram_snapshot_send_begin(RAMSnapshot *snap);
void ram_snapshot_send_end(void);

/*
 * Auto-converge policy, applied after every dirty-log sync period of the
 * outgoing "ram" section when the auto-converge capability is on (the
 * section calls it itself; exported for tests).  @bytes_dirty_period
 * guest bytes were dirtied while @bytes_xfer_period bytes were sent: when
 * the guest dirties more than half of what is sent two periods in a row,
 * the vCPUs are throttled, starting at cpu-throttle-initial percent and
 * adding cpu-throttle-increment each time after, up to 99%.
 */
void ram_auto_converge_check(uint64_t bytes_xfer_period,
                             uint64_t bytes_dirty_period);

#endif /* MIGRATION_RAM_H */
