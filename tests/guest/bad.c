/*
 * A guest that crashes the vCPU: it prints 'A', loads an empty
 * interrupt descriptor table and executes an undefined instruction.
 * The #UD cannot be delivered, nor the #GP that follows, nor the double
 * fault, so the CPU shuts down (a triple fault), which the VMM must
 * turn into the internal-error run state without going down itself.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty_idt = { 0, 0 };

    if (cpu_index != 0) {
        cpu_halt_forever();
    }
    uart_putc('A');
    __asm__ volatile("lidt %0\n\tud2" : : "m"(empty_idt) : "memory");
    cpu_halt_forever();
}
