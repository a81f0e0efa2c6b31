/*
 * Entry of the 64-bit guests.  The VMM starts every vCPU here in long
 * mode with RDI = vCPU index, RSI = FDT address, RDX = vCPU count and
 * RSP at the top of the vCPU's own stack, which are exactly the first
 * three arguments of guest_main() in the System V calling convention.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    cld
    xorl %ebp, %ebp
    call guest_main
1:  cli
    hlt
    jmp 1b
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
