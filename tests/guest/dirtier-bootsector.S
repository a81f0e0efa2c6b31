/*
 * The dirtier as a boot sector, for booting from a raw disk image the
 * way a BIOS does: loaded at 0x7c00 and entered in 16-bit real mode.
 * It enables the A20 line, switches to 32-bit protected mode with flat
 * segments of its own, prints 'A', then forever increments the first
 * byte of every 4 KiB page in [1 MiB, 100 MiB), printing 'B' after
 * every pass (the same behaviour and RAM span as QEMU's migration-test
 * boot block, so the machine needs at least 128 MiB).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define DIRTY_START     0x100000
#define DIRTY_END       0x6400000       /* 100 MiB */
#define PAGE_SIZE       0x1000
#define UART_THR        0x3f8
#define UART_LSR        0x3fd
#define UART_LSR_THRE   0x20
#define SYS_CTRL_A      0x92            /* bit 1: A20, bit 0: reset */
#define CODE_SEL        0x08
#define DATA_SEL        0x10

    .code16
    .section .text
    .globl _start
_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp

    inb $SYS_CTRL_A, %al
    orb $0x02, %al
    andb $0xfe, %al
    outb %al, $SYS_CTRL_A

    lgdtl gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmp $CODE_SEL, $protected_mode

    .code32
protected_mode:
    movw $DATA_SEL, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $0x7c00, %esp

    movb $'A', %bl
    call putc
pass:
    movl $DIRTY_START, %eax
1:  incb (%eax)
    addl $PAGE_SIZE, %eax
    cmpl $DIRTY_END, %eax
    jb 1b
    movb $'B', %bl
    call putc
    jmp pass

/* Writes %bl to the serial port once the transmitter is free. */
putc:
    movw $UART_LSR, %dx
1:  inb %dx, %al
    testb $UART_LSR_THRE, %al
    jz 1b
    movw $UART_THR, %dx
    movb %bl, %al
    outb %al, %dx
    ret

    .p2align 3
gdt:
    .quad 0                             /* null */
    .quad 0x00cf9a000000ffff            /* 0x08: code, flat 4 GiB, 32-bit */
    .quad 0x00cf92000000ffff            /* 0x10: data, flat 4 GiB */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .org 510
    .byte 0x55, 0xaa

    .section .note.GNU-stack, "", @progbits
