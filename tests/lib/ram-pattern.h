/*
 * Checks of the RAM pattern the dirtier guests leave behind
 * (tests/guest/dirtier.c): they increment the first byte of every
 * 4 KiB page of a span, page after page, pass after pass.  In a
 * consistent snapshot of that span every page's first byte equals the
 * previous page's, except at most at one place, where the pass in
 * progress stopped and the byte is one less (modulo 256).  A torn or
 * incomplete copy of RAM breaks that rule almost surely.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_RAM_PATTERN_H
#define TESTS_LIB_RAM_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAM_PATTERN_PAGE_SIZE 4096u

/*
 * Check the pages [@start, @end) of @ram (@size bytes, a copy of guest
 * RAM from guest-physical address 0).  @start and @end must be
 * page-aligned and @end <= @size.  On failure, returns false and, if
 * @why is not NULL, sets it to a description of the first offending
 * page (free it with g_free()).
 */
bool ram_pattern_check(const uint8_t *ram, size_t size, size_t start,
                       size_t end, char **why);

/*
 * The same for a span dirtied by @nparts vCPUs: the pages are split as
 * the dirtier splits them (part k holds pages [k * n / nparts,
 * (k + 1) * n / nparts) of the n pages), each part must follow the
 * rule above on its own, and, as the vCPUs meet at a barrier after each
 * pass, all pages must hold one of two consecutive values.
 */
bool ram_pattern_check_parts(const uint8_t *ram, size_t size, size_t start,
                             size_t end, unsigned nparts, char **why);

/*
 * ram_pattern_check_parts() on a file written by the pmemsave command
 * from guest-physical address 0 (@nparts = 1 for one vCPU).
 */
bool ram_pattern_check_file(const char *path, size_t start, size_t end,
                            unsigned nparts, char **why);

#endif /* TESTS_LIB_RAM_PATTERN_H */
