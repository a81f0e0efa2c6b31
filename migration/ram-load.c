/*
 * The "ram" live section, destination side.
 *
 * Every record comes from the network, so each one is checked before
 * it touches memory: known flags only, a block we have, an offset
 * inside it.  Pages are read straight into guest RAM; a bad record
 * stops the load before anything outside the named block is written.
 *
 * A ZERO record leaves a page that is already zero alone: the
 * destination's RAM starts zero and untouched, and writing zeroes over
 * it would allocate memory the guest never used.  Even reading a page
 * maps it, so pages never written (ram_block_hole_pages()) are known to
 * be zero without being looked at.
 *
 * Page data is copied straight from the stream's buffer into guest RAM,
 * a run of consecutive page records at a time, their headers checked
 * in the buffer without a call per record.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "migration/colo-ram.h"
#include "ram-internal.h"
#include "system/ram.h"
#include "trace/trace.h"
#include "util/buffer-is-zero.h"

/*
 * Only the thread that runs the load touches it (the incoming migration
 * thread, then the COLO incoming thread): one load at a time, no lock.
 */
typedef struct RAMLoadState {
    /* Block of the previous page record, for CONTINUE; kept across
     * sections as QEMU's streams rely on. */
    RAMBlock *last_block;
    /*
     * [hole_start, hole_end) of hole_block was never written.  Only this
     * loader writes guest RAM during the load, and it shrinks the range
     * when it does; still, it is forgotten at the end of each section.
     */
    RAMBlock *hole_block;
    uint64_t hole_start;
    uint64_t hole_end;
    uint64_t pages;
    uint64_t zero_pages;
} RAMLoadState;

static RAMLoadState ram_load_state;

int ram_load_setup(QEMUFile *f, void *opaque, Error **errp)
{
    ram_load_state = (RAMLoadState) { 0 };
    return 0;
}

int ram_load_cleanup(void *opaque)
{
    trace_ram_load_done(ram_load_state.pages, ram_load_state.zero_pages);
    ram_load_state = (RAMLoadState) { 0 };
    return 0;
}

/* The stream's own error (truncation, I/O), saying what was being read. */
static int ram_load_stream_error(QEMUFile *f, Error **errp,
                                 const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int ram_load_stream_error(QEMUFile *f, Error **errp,
                                 const char *fmt, ...)
{
    Error *err = NULL;
    g_autofree char *what = NULL;
    va_list ap;
    int ret = qemu_file_get_error_obj(f, &err);

    if (ret >= 0) {
        return 0;
    }
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_propagate_prepend(errp, err, "RAM %s: ", what);
    return ret;
}

/* One entry of the MEM_SIZE list: it must be ours, once, same size. */
static int ram_load_block_size(QEMUFile *f, GHashTable *seen,
                               uint64_t *left, Error **errp)
{
    char id[RAM_IDSTR_MAX + 1];
    RAMBlock *block;
    uint64_t size;
    int ret;

    qemu_get_counted_string(f, id);
    size = qemu_get_be64(f);
    ret = ram_load_stream_error(f, errp, "block list");
    if (ret < 0) {
        return ret;
    }
    block = ram_block_by_name(id);
    if (!block) {
        error_setg(errp, "Unknown ramblock \"%s\", cannot accept migration",
                   id);
        return -EINVAL;
    }
    if (g_hash_table_contains(seen, block)) {
        error_setg(errp, "RAM block '%s' is listed twice in the incoming "
                   "stream", id);
        return -EINVAL;
    }
    if (size != block->size) {
        error_setg(errp, "Size mismatch: %s: 0x%" PRIx64 " != 0x%" PRIx64
                   " (incoming != local)", id, size, block->size);
        return -EINVAL;
    }
    if (size > *left) {
        error_setg(errp, "RAM block '%s' (0x%" PRIx64 " bytes) exceeds the "
                   "RAM size the stream announced", id, size);
        return -EINVAL;
    }
    trace_ram_load_mem_size(id, size);
    g_hash_table_add(seen, block);
    *left -= size;
    return 0;
}

/*
 * MEM_SIZE: the source's block list must be exactly ours.  The loop
 * ends because every entry uses up one distinct local block.
 */
static int ram_load_mem_size(QEMUFile *f, uint64_t total, Error **errp)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    uint64_t left = total;
    RAMBlock *block;
    int ret;

    while (left) {
        ret = ram_load_block_size(f, seen, &left, errp);
        if (ret < 0) {
            return ret;
        }
    }
    RAMBLOCK_FOREACH(block) {
        if (!g_hash_table_contains(seen, block)) {
            error_setg(errp, "RAM block '%s' (0x%" PRIx64 " bytes) is "
                       "missing from the incoming stream", block->idstr,
                       block->size);
            return -EINVAL;
        }
    }
    return 0;
}

/* The block a page record names (or continues) and its page's address. */
static uint8_t *ram_load_host(RAMLoadState *ls, QEMUFile *f,
                              unsigned int flags, uint64_t offset,
                              Error **errp)
{
    RAMBlock *block = ls->last_block;

    if (!(flags & RAM_SAVE_FLAG_CONTINUE)) {
        char id[RAM_IDSTR_MAX + 1];

        qemu_get_counted_string(f, id);
        if (ram_load_stream_error(f, errp, "page 0x%" PRIx64 ": block name",
                                  offset) < 0) {
            return NULL;
        }
        block = ram_block_by_name(id);
        if (!block) {
            error_setg(errp, "Can't find block %s", id);
            return NULL;
        }
        ls->last_block = block;
    } else if (!block) {
        error_setg(errp, "RAM page 0x%" PRIx64 " continues a block but no "
                   "block was named before it", offset);
        return NULL;
    }
    /* Offset and size are page multiples: the whole page is inside. */
    if (offset >= block->size) {
        error_setg(errp, "Illegal RAM offset 0x%" PRIx64 " in block '%s' "
                   "of 0x%" PRIx64 " bytes", offset, block->idstr,
                   block->size);
        return NULL;
    }
    /* A COLO secondary loads checkpoints into its cache, not into RAM. */
    if (colo_ram_cache_active()) {
        uint8_t *host = colo_ram_cache_host(block, offset);

        if (!host) {
            error_setg(errp, "COLO: no room in the RAM cache for page 0x%"
                       PRIx64 " of '%s'", offset, block->idstr);
        }
        return host;
    }
    return block->host + offset;
}

/* Was the page at @offset of @block never written, hence zero? */
static bool ram_load_page_is_hole(RAMLoadState *ls, RAMBlock *block,
                                  uint64_t offset)
{
    uint64_t holes;

    if (ls->hole_block == block && offset >= ls->hole_start &&
        offset < ls->hole_end) {
        return true;
    }
    holes = ram_block_hole_pages(block, offset, UINT64_MAX);
    if (!holes) {
        return false;
    }
    ls->hole_block = block;
    ls->hole_start = offset;
    ls->hole_end = offset + (holes << TARGET_PAGE_BITS);
    return true;
}

/* [offset, offset+len) of @block is about to be written. */
static void ram_load_range_written(RAMLoadState *ls, RAMBlock *block,
                                   uint64_t offset, uint64_t len)
{
    if (ls->hole_block == block && offset < ls->hole_end &&
        offset + len > ls->hole_start) {
        ls->hole_end = MAX(ls->hole_start, offset);
    }
}

static void ram_load_page_written(RAMLoadState *ls, RAMBlock *block,
                                  uint64_t offset)
{
    ram_load_range_written(ls, block, offset, TARGET_PAGE_SIZE);
}

static uint64_t ram_load_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Most pages a run writes at once: what a buffer of the stream holds. */
#define RAM_LOAD_RUN_MAX (QEMU_FILE_BUF_SIZE / TARGET_PAGE_SIZE)

/*
 * The page at @offset of @block, whose header was read, and the PAGE
 * records right after it in @f's buffer for the pages that follow (same
 * block, CONTINUE): copy them into guest RAM at once.  False when the
 * first page is not wholly buffered (the caller copies it).
 */
static bool ram_load_page_run(RAMLoadState *ls, QEMUFile *f,
                              RAMBlock *block, uint64_t offset)
{
    uint8_t *buf;
    size_t avail, used = TARGET_PAGE_SIZE, n = 1;
    size_t rec = 8 + TARGET_PAGE_SIZE;

    if (qemu_peek_buffer(f, &buf, TARGET_PAGE_SIZE, 0) != TARGET_PAGE_SIZE) {
        return false;
    }
    avail = qemu_file_buffered(f, &buf);
    memcpy(block->host + offset, buf, TARGET_PAGE_SIZE);
    while (n < RAM_LOAD_RUN_MAX && avail - used >= rec &&
           offset + n * TARGET_PAGE_SIZE < block->size &&
           ram_load_be64(buf + used) == ((offset + n * TARGET_PAGE_SIZE) |
                                    RAM_SAVE_FLAG_PAGE |
                                    RAM_SAVE_FLAG_CONTINUE)) {
        trace_ram_load_record(offset + n * TARGET_PAGE_SIZE,
                              RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_CONTINUE);
        memcpy(block->host + offset + n * TARGET_PAGE_SIZE, buf + used + 8,
               TARGET_PAGE_SIZE);
        n++;
        used += rec;
    }
    ram_load_range_written(ls, block, offset, n * TARGET_PAGE_SIZE);
    qemu_file_skip(f, used);
    ls->pages += n;
    return true;
}

static int ram_load_page(RAMLoadState *ls, QEMUFile *f, unsigned int flags,
                         uint64_t offset, Error **errp)
{
    uint8_t *host = ram_load_host(ls, f, flags, offset, errp);
    RAMBlock *block;
    int fill;

    if (!host) {
        return -EINVAL;
    }
    block = ls->last_block;
    if (flags & RAM_SAVE_FLAG_PAGE) {
        if (host == block->host + offset &&
            ram_load_page_run(ls, f, block, offset)) {
            return 0;
        }
        ram_load_page_written(ls, block, offset);
        qemu_get_buffer(f, host, TARGET_PAGE_SIZE);
        ls->pages++;
        return ram_load_stream_error(f, errp, "page 0x%" PRIx64 " of '%s'",
                                     offset, block->idstr);
    }
    fill = qemu_get_byte(f);
    if (ram_load_stream_error(f, errp, "zero page 0x%" PRIx64 " of '%s'",
                              offset, block->idstr) < 0) {
        return -EIO;
    }
    /* Like QEMU, any fill byte is accepted; 0 is all we send. */
    /* A hole says nothing about a page loaded elsewhere (COLO cache). */
    if (fill == 0 && host == block->host + offset &&
        ram_load_page_is_hole(ls, block, offset)) {
        ls->zero_pages++;
        return 0;
    }
    if (fill != 0 || !buffer_is_zero(host, TARGET_PAGE_SIZE)) {
        ram_load_page_written(ls, block, offset);
        memset(host, fill, TARGET_PAGE_SIZE);
    }
    ls->zero_pages++;
    return 0;
}

/* Unknown bits, or known ones that make no record together. */
static int ram_load_bad_flags(unsigned int flags, Error **errp)
{
    error_setg(errp, "Unknown combination of migration flags: 0x%x", flags);
    return -EINVAL;
}

int ram_load(QEMUFile *f, void *opaque, int version_id, Error **errp)
{
    RAMLoadState *ls = &ram_load_state;

    if (version_id != RAM_SECTION_VERSION) {
        error_setg(errp, "Unsupported \"ram\" section version %d "
                   "(expected %d)", version_id, RAM_SECTION_VERSION);
        return -EINVAL;
    }
    ls->hole_block = NULL;
    for (;;) {
        uint64_t header = qemu_get_be64(f);
        unsigned int flags = header & ~TARGET_PAGE_MASK;
        uint64_t offset = header & TARGET_PAGE_MASK;
        int ret;

        ret = ram_load_stream_error(f, errp, "section ended before its "
                                    "end-of-section record");
        if (ret < 0) {
            return ret;
        }
        trace_ram_load_record(offset, flags);
        if (flags & ~RAM_SAVE_FLAGS_KNOWN) {
            return ram_load_bad_flags(flags, errp);
        }
        switch (flags & ~RAM_SAVE_FLAG_CONTINUE) {
        case RAM_SAVE_FLAG_EOS:
            return 0;
        case RAM_SAVE_FLAG_MEM_SIZE:
            ret = ram_load_mem_size(f, offset, errp);
            break;
        case RAM_SAVE_FLAG_ZERO:
        case RAM_SAVE_FLAG_PAGE:
            ret = ram_load_page(ls, f, flags, offset, errp);
            break;
        default:
            return ram_load_bad_flags(flags, errp);
        }
        if (ret < 0) {
            return ret;
        }
    }
}
