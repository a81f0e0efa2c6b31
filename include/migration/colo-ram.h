/*
 * COLO secondary: the RAM cache that holds the last checkpoint.
 *
 * While COLO runs, the secondary's guest keeps running between
 * checkpoints, so incoming pages cannot be written into live RAM: a
 * checkpoint that dies half-way would leave RAM neither the old state
 * nor the new one.  Pages are loaded into a cache (one per RAM block)
 * instead, and copied into RAM only when the whole checkpoint has
 * arrived: colo_ram_cache_commit(), VM stopped.
 *
 * Life cycle, all on the secondary:
 *   colo_ram_cache_init()    entering COLO, right after precopy; BQL
 *   colo_ram_cache_host()    per incoming page, while a checkpoint loads
 *   colo_ram_cache_commit()  checkpoint complete, VM stopped; BQL
 *   colo_ram_cache_free()    leaving COLO (failover, exit); BQL
 *     or, so that the guest may run before the cache's memory is given
 *     back (which takes milliseconds per hundred MiB):
 *   colo_ram_cache_detach()  leaving COLO; BQL
 *   colo_ram_cache_release_detached()  later, on the same thread; no
 *                            lock needed
 *
 * While the cache is active it owns the dirty log of guest RAM: the
 * secondary sends no RAM out, and nothing else may clear block->dirty.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_COLO_RAM_H
#define MIGRATION_COLO_RAM_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

typedef struct RAMBlock RAMBlock;

/*
 * Create a cache for every RAM block holding a copy of the current
 * guest RAM (the state precopy left: the first checkpoint), and start
 * dirty logging so the pages the secondary's guest writes are known
 * at the next commit.  BQL, VM stopped.  On failure nothing is left
 * allocated and the error says why.
 *
 * @lean (x-colo-lean): keep no copy.  The primary is told the pages
 * this guest dirtied (colo-dirty.h) and sends them with its own; a
 * staging area holds only the checkpoint loading.
 */
bool colo_ram_cache_init(bool lean, Error **errp);

/*
 * Release the caches and per-page marks and stop the dirty logging
 * that init started.  Live RAM is left as it is: an uncommitted
 * checkpoint is simply dropped.  Harmless when not active.  BQL.
 */
void colo_ram_cache_free(void);

/*
 * The first half of colo_ram_cache_free(): the cache is no longer used
 * and the dirty logging init started is stopped, but its memory stays
 * mapped until colo_ram_cache_release_detached().  BQL.
 */
void colo_ram_cache_detach(void);

/*
 * The second half: unmap what colo_ram_cache_detach() set aside (no-op
 * when nothing was).  Called by the thread that detached it; needs no
 * lock.
 */
void colo_ram_cache_release_detached(void);

/* Is there a cache, i.e. are incoming pages to be cached?  Any thread. */
bool colo_ram_cache_active(void);

/* Is it active in lean mode?  Any thread. */
bool colo_ram_cache_lean(void);

/*
 * Where the page at @offset (page aligned or not: the page holding it)
 * of @block must be written while a checkpoint loads; marks it as
 * received so the next commit copies it.  NULL, with nothing marked,
 * when the cache is not active, @block has no cache or @offset is
 * outside it, or (lean mode) when the checkpoint already carried as
 * many pages as RAM has.  In lean mode each call takes a new staging
 * slot.  Only the thread loading the checkpoint calls it.
 */
void *colo_ram_cache_host(RAMBlock *block, uint64_t offset);

/*
 * Make the checkpoint just loaded the guest's memory: sync the dirty
 * log, then for every page the guest dirtied or the checkpoint carried
 * since the last commit, copy cache -> RAM; clear both marks.  In lean
 * mode: copy the staged pages into RAM, but only if every page the
 * guest dirtied is among them; otherwise RAM is left alone, the
 * checkpoint dropped, and false returned with @errp set.  VM stopped,
 * BQL held.  True (a no-op) when not active.
 */
bool colo_ram_cache_commit(Error **errp);

/*
 * Bytes the cache uses (caches + bitmaps; lean: the staging area's
 * pages that may be resident + bitmaps), 0 when not active.
 */
uint64_t colo_ram_cache_bytes(void);

#endif /* MIGRATION_COLO_RAM_H */
