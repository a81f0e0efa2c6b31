/*
 * Checks of the dirtier's RAM pattern.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "ram-pattern.h"

static void set_why(char **why, char *msg)
{
    if (why) {
        *why = msg;
    } else {
        g_free(msg);
    }
}

static bool check_range(size_t size, size_t start, size_t end, char **why)
{
    if (start % RAM_PATTERN_PAGE_SIZE || end % RAM_PATTERN_PAGE_SIZE ||
        start >= end || end > size) {
        set_why(why, g_strdup_printf("bad span [0x%zx, 0x%zx) for %zu bytes"
                                     " of RAM", start, end, size));
        return false;
    }
    return true;
}

static bool check_one_part(const uint8_t *ram, size_t start, size_t end,
                           char **why)
{
    uint8_t last = ram[start];
    bool hit_edge = false;
    size_t addr;

    for (addr = start + RAM_PATTERN_PAGE_SIZE; addr < end;
         addr += RAM_PATTERN_PAGE_SIZE) {
        uint8_t b = ram[addr];

        if (b == last) {
            continue;
        }
        /* Where the pass in progress stopped: the rest is one behind. */
        if ((uint8_t)(b + 1) == last && !hit_edge) {
            hit_edge = true;
            last = b;
            continue;
        }
        set_why(why, g_strdup_printf(
                    "page at 0x%zx holds 0x%02x after 0x%02x%s (span "
                    "[0x%zx, 0x%zx) starts with 0x%02x)", addr, b, last,
                    hit_edge ? " and past the pass boundary" : "",
                    start, end, ram[start]));
        return false;
    }
    return true;
}

bool ram_pattern_check(const uint8_t *ram, size_t size, size_t start,
                       size_t end, char **why)
{
    return check_range(size, start, end, why) &&
           check_one_part(ram, start, end, why);
}

/* Every page holds @low or @low + 1 (mod 256) for some @low. */
static bool check_two_values(const uint8_t *ram, size_t start, size_t end,
                             char **why)
{
    bool seen[256] = { false };
    unsigned v, n = 0, low = 0;
    size_t addr;

    for (addr = start; addr < end; addr += RAM_PATTERN_PAGE_SIZE) {
        seen[ram[addr]] = true;
    }
    for (v = 0; v < 256; v++) {
        if (seen[v]) {
            n++;
            if (!seen[(v + 255) % 256]) {
                low = v;
            }
        }
    }
    if (n == 1 || (n == 2 && seen[(low + 1) % 256])) {
        return true;
    }
    set_why(why, g_strdup_printf("the span [0x%zx, 0x%zx) holds %u "
                                 "different values, not two consecutive "
                                 "ones: the vCPUs left their barrier",
                                 start, end, n));
    return false;
}

bool ram_pattern_check_parts(const uint8_t *ram, size_t size, size_t start,
                             size_t end, unsigned nparts, char **why)
{
    size_t npages;
    unsigned k;

    if (!check_range(size, start, end, why)) {
        return false;
    }
    npages = (end - start) / RAM_PATTERN_PAGE_SIZE;
    if (nparts == 0 || nparts > npages) {
        set_why(why, g_strdup_printf("cannot split %zu pages in %u parts",
                                     npages, nparts));
        return false;
    }
    for (k = 0; k < nparts; k++) {
        size_t lo = start + npages * k / nparts * RAM_PATTERN_PAGE_SIZE;
        size_t hi = start + npages * (k + 1) / nparts * RAM_PATTERN_PAGE_SIZE;

        if (!check_one_part(ram, lo, hi, why)) {
            return false;
        }
    }
    return nparts == 1 || check_two_values(ram, start, end, why);
}

bool ram_pattern_check_file(const char *path, size_t start, size_t end,
                            unsigned nparts, char **why)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMappedFile) file = g_mapped_file_new(path, FALSE, &err);

    if (!file) {
        set_why(why, g_strdup(err->message));
        return false;
    }
    return ram_pattern_check_parts(
        (const uint8_t *)g_mapped_file_get_contents(file),
        g_mapped_file_get_length(file), start, end, nparts, why);
}
