/*
 * qtest protocol extension to observe dirty logging (not in QEMU):
 *     dirty_log start|stop|sync   -> OK
 *     dirty_pages ADDR SIZE       -> OK COUNT[ IDX,IDX,...]
 *     dirty_clear ADDR SIZE       -> OK
 * Page indices count from ADDR; at most QTEST_MAX_DIRTY_LISTED are
 * listed, in increasing order, while COUNT is always exact.  The range
 * must be page aligned and inside one RAM block.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "system/qtest.h"
#include "system/ram.h"
#include "trace/trace.h"

#include "qtest-int.h"

bool qtest_cmd_dirty_log(const QtestCmd *cmd, char **args, GString *reply,
                         Error **errp)
{
    char buf[QTEST_QUOTE_MAX];

    if (strcmp(args[0], "start") == 0) {
        if (!ram_dirty_log_start(errp)) {
            return false;
        }
    } else if (strcmp(args[0], "stop") == 0) {
        ram_dirty_log_stop();
    } else if (strcmp(args[0], "sync") == 0) {
        ram_dirty_log_sync();
    } else {
        error_setg(errp, "unknown operation '%s' (start, stop or sync)",
                   qtest_quote_word(args[0], buf, sizeof(buf)));
        return false;
    }
    trace_qtest_dirty_log(args[0]);
    g_string_append(reply, "OK");
    return true;
}

/* Page range [*first, *end) of the block holding [ADDR, ADDR+SIZE). */
static RAMBlock *parse_page_range(char **args, uint64_t *first,
                                  uint64_t *end, Error **errp)
{
    uint64_t addr, size;
    RAMBlock *block;

    if (!qtest_parse_u64("address", args[0], &addr, errp) ||
        !qtest_parse_u64("size", args[1], &size, errp)) {
        return NULL;
    }
    if ((addr | size) & ~TARGET_PAGE_MASK) {
        error_setg(errp, "address 0x%" PRIx64 " and size 0x%" PRIx64
                   " must be multiples of the page size (0x%x)",
                   addr, size, TARGET_PAGE_SIZE);
        return NULL;
    }
    block = ram_block_from_gpa(addr);
    if (!block || size > block->gpa + block->size - addr) {
        error_setg(errp, "range 0x%" PRIx64 "+0x%" PRIx64
                   " is not inside one RAM block", addr, size);
        return NULL;
    }
    *first = (addr - block->gpa) >> TARGET_PAGE_BITS;
    *end = *first + (size >> TARGET_PAGE_BITS);
    return block;
}

bool qtest_cmd_dirty_pages(const QtestCmd *cmd, char **args, GString *reply,
                           Error **errp)
{
    g_autoptr(GString) list = g_string_new(NULL);
    uint64_t first, end, page, count = 0;
    RAMBlock *block = parse_page_range(args, &first, &end, errp);

    if (!block) {
        return false;
    }
    for (page = ram_block_next_dirty(block, first); page < end;
         page = ram_block_next_dirty(block, page + 1)) {
        if (count < QTEST_MAX_DIRTY_LISTED) {
            g_string_append_printf(list, "%s%" PRIu64, count ? "," : "",
                                   page - first);
        }
        count++;
    }
    g_string_append_printf(reply, "OK %" PRIu64, count);
    if (count) {
        g_string_append_printf(reply, " %s", list->str);
    }
    return true;
}

bool qtest_cmd_dirty_clear(const QtestCmd *cmd, char **args, GString *reply,
                           Error **errp)
{
    uint64_t first, end, page;
    RAMBlock *block = parse_page_range(args, &first, &end, errp);

    if (!block) {
        return false;
    }
    for (page = ram_block_next_dirty(block, first); page < end;
         page = ram_block_next_dirty(block, page + 1)) {
        ram_block_test_and_clear_dirty(block, page);
    }
    g_string_append(reply, "OK");
    return true;
}
