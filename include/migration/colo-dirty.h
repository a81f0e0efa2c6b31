/*
 * COLO with a lean secondary (capability x-colo-lean): the pages the
 * secondary's guest wrote since the last checkpoint, reported to the
 * primary so that the next checkpoint carries them too.
 *
 * A lean secondary keeps no copy of the last checkpoint.  Its RAM
 * differs from the primary's state at the next checkpoint in two sets
 * of pages: those the primary's guest dirtied (the primary's own dirty
 * log) and those its own guest dirtied.  The primary sends the union;
 * the secondary stages it whole and applies it at the commit.
 *
 * On the return path, right after checkpoint-reply (and once before
 * checkpoint-ready, empty, to announce the mode), the secondary sends
 * the be32 COLOMessage x-secondary-dirty and then:
 *
 *   be32 nblocks
 *   nblocks times:
 *     counted string   the RAM block's idstr
 *     be64 npages      the block's size in pages (must match)
 *     be32 nwords      the non-zero words that follow
 *     nwords times:    be32 index, be64 bits   (page = index * 64 + bit)
 *
 * Words come in increasing index order; a block appears at most once.
 * Everything read is checked against the local blocks before use: the
 * peer cannot make the reader write outside a bitmap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_COLO_DIRTY_H
#define MIGRATION_COLO_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "migration/qemu-file.h"
#include "qapi/error.h"

/* One bitmap per RAM block: the pages the secondary reported dirty. */
typedef struct ColoDirtySet ColoDirtySet;

/* An empty set over the RAM blocks there are now. */
ColoDirtySet *colo_dirty_set_new(void);
void colo_dirty_set_free(ColoDirtySet *set);

/* Pages in @set. */
uint64_t colo_dirty_set_count(const ColoDirtySet *set);

/*
 * Secondary: write the dirty bitmaps of every RAM block (block->dirty,
 * as the caller's last sync left it) in the format above.  Errors are
 * the file's, for the caller to check after its flush.
 */
void colo_dirty_set_put_ram(QEMUFile *f);

/* Secondary: write a set of no blocks (the announcement). */
void colo_dirty_set_put_empty(QEMUFile *f);

/*
 * Primary: read one set from @f and add its pages to @set.  On a
 * malformed or truncated set, false with @errp set; @set may then hold
 * part of it and should not be used.
 */
bool colo_dirty_set_get(ColoDirtySet *set, QEMUFile *f, Error **errp);

/*
 * Primary: mark every page of @set dirty in its block (so that the
 * next save sends it) and empty @set.  Returns how many of them were
 * not dirty already: the pages sent only because the secondary wrote
 * them.  Any thread; the caller makes sure no save runs meanwhile.
 */
uint64_t colo_dirty_set_merge(ColoDirtySet *set);

#endif /* MIGRATION_COLO_DIRTY_H */
