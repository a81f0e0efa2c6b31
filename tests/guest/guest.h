/*
 * Freestanding support for the test guests: port I/O, the 16550A UART
 * at 0x3f8 (polled, no interrupts) and a minimal flattened device tree
 * reader.  Guests run with interrupts off and no libc.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_GUEST_GUEST_H
#define TESTS_GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SIZE     4096u
#define GUEST_MIB           (1024u * 1024u)

/* Ports of the colo-x86 machine (docs/vmm.md). */
#define UART_BASE           0x3f8
#define UART_RBR            (UART_BASE + 0)
#define UART_THR            (UART_BASE + 0)
#define UART_FCR            (UART_BASE + 2)
#define UART_FCR_FE         0x01    /* the 16-byte FIFOs on */
#define UART_FCR_RFR        0x02    /* empty the receive FIFO */
#define UART_LSR            (UART_BASE + 5)
#define UART_LSR_DR         0x01    /* a received byte is waiting */
#define UART_LSR_THRE       0x20    /* the transmitter takes a byte */
#define DEBUG_EXIT_PORT     0x501

static inline void outb(uint16_t port, uint8_t val)
{
    __asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t val;

    __asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
    return val;
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* Stops this vCPU for good: interrupts are off, so nothing wakes it. */
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
    for (;;) {
        __asm__ volatile("cli; hlt" ::: "memory");
    }
}

/*
 * Every vCPU enters here from start.S, in 64-bit mode with interrupts
 * off, as the boot protocol hands it over (docs/vmm.md).
 */
void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count);

void uart_putc(char c);
void uart_puts(const char *s);
/* Returns the next received byte, polling until one arrives. */
char uart_getc(void);

/*
 * The end (exclusive) of the highest "reg" range of the top-level
 * memory node of the flattened device tree at @fdt, or 0 when the tree
 * is malformed or has no such node.
 */
uint64_t fdt_memory_end(const void *fdt);

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* TESTS_GUEST_GUEST_H */
