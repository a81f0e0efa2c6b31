/*
 * A guest that ends the VM: it prints 'A' and writes EXIT_GUEST_VALUE to
 * the isa-debug-exit port, after which colo-vm exits with status
 * (EXIT_GUEST_VALUE << 1) | 1, as QEMU does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

/* colo-vm's exit status is then 85 (0x55). */
#define EXIT_GUEST_VALUE    0x2a

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    if (cpu_index == 0) {
        uart_putc('A');
        outb(DEBUG_EXIT_PORT, EXIT_GUEST_VALUE);
    }
    cpu_halt_forever();
}
