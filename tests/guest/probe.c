/*
 * A guest that probes what lies outside RAM: it reads and writes an
 * address above its RAM (below 4 GiB, where the machine has nothing),
 * prints 'Y' when every read gave all ones and 'N' otherwise, then
 * jumps above 4 GiB, where the boot page tables map nothing: the page
 * fault cannot be delivered (no IDT), a triple fault, which must end in
 * internal-error.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

/* Above the RAM of any machine this guest is run on (at most 3 GiB). */
#define UNBACKED_ADDR       0xf0000000u
#define UNMAPPED_ADDR       0x200000000ull

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    volatile uint32_t *unbacked = (volatile uint32_t *)(uintptr_t)
                                  UNBACKED_ADDR;
    bool ones;

    if (cpu_index != 0) {
        cpu_halt_forever();
    }
    ones = *unbacked == 0xffffffffu;
    *unbacked = 0x12345678;
    ones = ones && *unbacked == 0xffffffffu;
    uart_putc(ones ? 'Y' : 'N');
    ((void (*)(void))(uintptr_t)UNMAPPED_ADDR)();
    cpu_halt_forever();
}
